//! One wait for everything that finishes elsewhere (a rollout, a drain, a build, a stack): a
//! condition over the observations a watch channel delivers, ended by the condition, by the
//! engine's Cancel or by the operation's deadline (in the manner of kube-runtime's
//! `await_condition`). Who polls, and how often, is the sender's business.

use crate::context::Context;
use crate::error::Error;
use tokio::sync::watch;

/// What a condition says of one observation.
#[derive(Debug)]
pub enum Verdict<T, E> {
    /// Not yet.
    Wait,
    /// Finished: the wait returns this.
    Done(T),
    /// Finished badly: the wait fails with this.
    Fail(E),
}

/// How a wait ended, when its condition did not fail it.
#[derive(Debug, PartialEq)]
pub enum Waited<T> {
    /// The condition's [`Verdict::Done`] value.
    Done(T),
    /// Cancelled or past the deadline (the reason, for the user): what was waited for may
    /// still be going on.
    Interrupted(String),
}

/// Waits until `condition` is done with an observation: `first` (when given) before any
/// change, then every value `updates` delivers. The condition also returns the status line to
/// show, if any; a line is shown once until it changes (`shown` is the one already on screen).
/// A sender that goes away fails the wait: nobody will say it is over.
///
/// # Example
///
/// A rollout that a poller elsewhere reports on, task by task:
///
/// ```rust
/// use pulumi_plugin::{Context, EngineLog, Error, Verdict, Waited, await_condition};
/// use std::time::Duration;
/// use tokio::sync::watch;
/// use tokio_util::sync::CancellationToken;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// runtime.block_on(async {
///     let engine = EngineLog::recording();
///     let ctx = Context::new(engine.for_resource("urn:r"), CancellationToken::new(), None)
///         .with_default_timeout(Duration::from_secs(600));
///     let (report, mut running) = watch::channel(0u32);
///     let poller = tokio::spawn(async move {
///         for n in 1..=3 {
///             tokio::time::sleep(Duration::from_millis(2)).await;
///             report.send(n).unwrap();
///         }
///         report // keeps the channel open until the wait is over
///     });
///     let first = Some(*running.borrow());
///     let waited = await_condition(&ctx, &mut running, first, None, |n| {
///         let verdict = if n == 3 { Verdict::Done(n) } else { Verdict::<u32, Error>::Wait };
///         (Some(format!("{n} of 3 tasks running")), verdict)
///     })
///     .await;
///     assert_eq!(waited.unwrap(), Waited::Done(3));
///     assert_eq!(engine.records().last().unwrap().message, "3 of 3 tasks running");
///     drop(poller.await);
/// });
/// ```
pub async fn await_condition<S, T, E>(
    ctx: &Context,
    updates: &mut watch::Receiver<S>,
    first: Option<S>,
    mut shown: Option<String>,
    mut condition: impl FnMut(S) -> (Option<String>, Verdict<T, E>),
) -> Result<Waited<T>, E>
where
    S: Clone,
    E: From<Error>,
{
    let mut next = first;
    loop {
        if let Some(observed) = next.take() {
            let (status, verdict) = condition(observed);
            if let Some(line) = status
                && shown.as_deref() != Some(line.as_str())
            {
                ctx.log.status(&line).await;
                shown = Some(line);
            }
            match verdict {
                Verdict::Wait => {}
                Verdict::Done(done) => return Ok(Waited::Done(done)),
                Verdict::Fail(err) => return Err(err),
            }
        }
        tokio::select! {
            why = ctx.interrupted() => return Ok(Waited::Interrupted(why)),
            changed = updates.changed() => {
                if changed.is_err() {
                    return Err(Error::Internal("the status poller stopped".into()).into());
                }
                next = Some(updates.borrow_and_update().clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_log::EngineLog;
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    fn context(engine: &EngineLog, timeout: Option<Duration>) -> (Context, CancellationToken) {
        let cancel = CancellationToken::new();
        (
            Context::new(engine.for_resource("urn:r"), cancel.clone(), timeout),
            cancel,
        )
    }

    fn statuses(engine: &EngineLog) -> Vec<String> {
        engine.records().into_iter().map(|r| r.message).collect()
    }

    /// Counts up to 3, saying where it is; done at 3, failed past it.
    fn to_three(n: u32) -> (Option<String>, Verdict<u32, Error>) {
        let line = Some(format!("at {}", n.min(2)));
        match n {
            3 => (Some("done".into()), Verdict::Done(n)),
            n if n > 3 => (None, Verdict::Fail(Error::Failed(format!("overshot: {n}")))),
            _ => (line, Verdict::Wait),
        }
    }

    #[tokio::test]
    async fn each_change_is_judged_and_each_new_line_shown_once() {
        let engine = EngineLog::recording();
        let (ctx, _) = context(&engine, None);
        let (tx, mut rx) = watch::channel(0u32);
        let sender = tokio::spawn(async move {
            for n in [1, 2, 2, 3, 4] {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _ = tx.send(n);
            }
            tx
        });
        let got = await_condition(&ctx, &mut rx, Some(0), None, to_three).await;
        assert_eq!(got.unwrap(), Waited::Done(3));
        assert_eq!(statuses(&engine), vec!["at 0", "at 1", "at 2", "done"]);
        drop(sender.await);
    }

    #[tokio::test]
    async fn the_first_observation_can_settle_it_and_a_shown_line_is_not_repeated() {
        let engine = EngineLog::recording();
        let (ctx, _) = context(&engine, None);
        let (_tx, mut rx) = watch::channel(0u32);
        let got = await_condition(&ctx, &mut rx, Some(3), Some("done".into()), to_three).await;
        assert_eq!(got.unwrap(), Waited::Done(3));
        assert!(statuses(&engine).is_empty());
    }

    #[tokio::test]
    async fn the_condition_fails_it() {
        let engine = EngineLog::recording();
        let (ctx, _) = context(&engine, None);
        let (_tx, mut rx) = watch::channel(0u32);
        let got = await_condition(&ctx, &mut rx, Some(5), None, to_three).await;
        assert!(got.unwrap_err().to_string().contains("overshot: 5"));
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_and_deadline_end_it_as_interrupted() {
        let engine = EngineLog::recording();
        let (ctx, cancel) = context(&engine, None);
        let (_tx, mut rx) = watch::channel(0u32);
        cancel.cancel();
        let got = await_condition(&ctx, &mut rx, None, None, to_three).await;
        assert_eq!(
            got.unwrap(),
            Waited::Interrupted("the operation was cancelled".into())
        );
        let (ctx, _) = context(&engine, Some(Duration::from_secs(30)));
        let got = await_condition(&ctx, &mut rx, Some(1), None, to_three).await;
        assert_eq!(
            got.unwrap(),
            Waited::Interrupted("the operation timed out".into())
        );
    }

    #[tokio::test]
    async fn a_sender_that_goes_away_fails_it() {
        let engine = EngineLog::recording();
        let (ctx, _) = context(&engine, None);
        let (tx, mut rx) = watch::channel(0u32);
        drop(tx);
        let got = await_condition(&ctx, &mut rx, None, None, to_three).await;
        assert!(got.unwrap_err().to_string().contains("poller stopped"));
    }
}
