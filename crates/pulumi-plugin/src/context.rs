//! What a long-running operation needs from the machinery: its log, and when to stop
//! (the engine's Cancel, or the operation timeout it sent).

use crate::engine_log::ResourceLog;
use crate::error::Error;
use crate::mask::Mask;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Handed to every operation that may wait (create, read, update, delete): where to tell the
/// user what is happening, and when to give up. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    /// Messages about this resource, masked of the request's secret values.
    pub log: ResourceLog,
    cancel: CancellationToken,
    deadline: Option<Instant>,
}

impl Context {
    /// A context that ends when `cancel` is cancelled or `timeout` (from now) passes; `None`:
    /// no deadline. The server makes one per request; tests make their own.
    pub fn new(log: ResourceLog, cancel: CancellationToken, timeout: Option<Duration>) -> Self {
        Context {
            log,
            cancel,
            deadline: timeout.map(|t| Instant::now() + t),
        }
    }

    /// The request's secret values: every message through [`Context::log`] is masked with it
    /// already; use it for any other text that leaves the provider.
    pub fn mask(&self) -> &Mask {
        self.log.mask()
    }

    /// Also masks `mask`'s values in this context's messages.
    pub fn with_mask(mut self, mask: &Mask) -> Self {
        self.log = self.log.with_mask(mask);
        self
    }

    /// Uses `default` when the engine sent no timeout.
    pub fn with_default_timeout(mut self, default: Duration) -> Self {
        if self.deadline.is_none() {
            self.deadline = Some(Instant::now() + default);
        }
        self
    }

    /// When the operation times out (tokio's clock); `None`: only Cancel ends it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the engine has called Cancel (the deadline is not considered: see
    /// [`Context::check`]).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Fails when cancelled or past the deadline.
    pub fn check(&self) -> Result<(), Error> {
        if self.cancel.is_cancelled() {
            return Err(Error::Interrupted("the operation was cancelled".into()));
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::Interrupted("the operation timed out".into()));
        }
        Ok(())
    }

    /// Sleeps for `delay`, waking early (with an error) on cancellation or at the deadline.
    pub async fn sleep(&self, delay: Duration) -> Result<(), Error> {
        let wake = Instant::now() + delay;
        let until = self.deadline.map_or(wake, |d| d.min(wake));
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = tokio::time::sleep_until(until) => {}
        }
        self.check()
    }

    /// Waits for the cancellation signal (for use in `select!`).
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// Resolves when the operation must stop (Cancel or deadline), with the reason; for
    /// `select!` against the thing being waited on.
    pub async fn interrupted(&self) -> String {
        match self.deadline {
            Some(deadline) => tokio::select! {
                _ = self.cancel.cancelled() => "the operation was cancelled".to_string(),
                _ = tokio::time::sleep_until(deadline) => "the operation timed out".to_string(),
            },
            None => {
                self.cancel.cancelled().await;
                "the operation was cancelled".to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_log::EngineLog;

    #[tokio::test]
    async fn cancel_wakes_sleepers() {
        let token = CancellationToken::new();
        let ctx = Context::new(EngineLog::default().for_resource("u"), token.clone(), None);
        let sleeper = tokio::spawn(async move { ctx.sleep(Duration::from_secs(3600)).await });
        token.cancel();
        let result = tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woke up")
            .unwrap();
        assert!(matches!(result, Err(Error::Interrupted(_))));
    }

    #[tokio::test]
    async fn deadline_ends_sleep() {
        let ctx = Context::new(
            EngineLog::default().for_resource("u"),
            CancellationToken::new(),
            Some(Duration::from_millis(20)),
        );
        let result = ctx.sleep(Duration::from_secs(3600)).await;
        assert!(matches!(result, Err(Error::Interrupted(m)) if m.contains("timed out")));
    }
}
