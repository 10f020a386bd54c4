//! Messages to the user through the engine's `Log` RPC: the only place provider output is shown.
//! Ephemeral messages appear in the resource's status column of `pulumi up` while it runs.

use crate::mask::Mask;
use pulumi_gestalt_proto::pulumi::pulumirpc::{LogRequest, engine_client::EngineClient};
use std::sync::{Arc, Mutex, RwLock};
use tonic::transport::{Channel, Endpoint};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// A connection to the engine, set once its address is known (launch argument, Handshake or
/// Attach). Without one, messages go to the provider's own debug log.
#[derive(Clone, Default)]
pub struct EngineLog {
    client: Arc<RwLock<Option<EngineClient<Channel>>>>,
    /// Every message, as sent, when made by [`EngineLog::recording`].
    recorded: Option<Arc<Mutex<Vec<LogRecord>>>>,
}

/// One message as it was sent (see [`EngineLog::recording`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub severity: Severity,
    pub urn: String,
    pub message: String,
    pub ephemeral: bool,
}

impl EngineLog {
    /// A log that also keeps every message it sends, for tests to read with
    /// [`EngineLog::records`].
    pub fn recording() -> Self {
        EngineLog {
            recorded: Some(Arc::default()),
            ..EngineLog::default()
        }
    }

    /// The messages sent so far (empty unless made by [`EngineLog::recording`]).
    pub fn records(&self) -> Vec<LogRecord> {
        self.recorded
            .as_ref()
            .map(|r| r.lock().expect("engine log records").clone())
            .unwrap_or_default()
    }

    pub fn connect(&self, address: &str) {
        if address.is_empty() {
            return;
        }
        let uri = if address.contains("://") {
            address.to_string()
        } else {
            format!("http://{address}")
        };
        match Endpoint::from_shared(uri) {
            Ok(endpoint) => {
                let client = EngineClient::new(endpoint.connect_lazy());
                *self.client.write().expect("engine log lock") = Some(client);
            }
            Err(err) => tracing::warn!("bad engine address {address}: {err}"),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.client.read().expect("engine log lock").is_some()
    }

    /// Sends one message as it is: only through [`ResourceLog`], which masks it first.
    pub(crate) async fn log(&self, severity: Severity, urn: &str, message: &str, ephemeral: bool) {
        tracing::debug!(urn, ephemeral, "{message}");
        if let Some(recorded) = &self.recorded {
            recorded
                .lock()
                .expect("engine log records")
                .push(LogRecord {
                    severity,
                    urn: urn.to_string(),
                    message: message.to_string(),
                    ephemeral,
                });
        }
        let client = self.client.read().expect("engine log lock").clone();
        let Some(mut client) = client else { return };
        let request = LogRequest {
            severity: severity as i32,
            message: message.to_string(),
            urn: urn.to_string(),
            stream_id: 0,
            ephemeral,
        };
        if let Err(err) = client.log(request).await {
            tracing::debug!("engine log failed: {err}");
        }
    }

    pub fn for_resource(&self, urn: &str) -> ResourceLog {
        ResourceLog {
            engine: self.clone(),
            urn: urn.to_string(),
            mask: Mask::default(),
        }
    }
}

/// Messages about one resource. Every message goes through the request's [`Mask`] first, so a
/// secret value quoted in a message is shown as `[secret]`; callers should still not put
/// secrets in messages on purpose.
#[derive(Clone)]
pub struct ResourceLog {
    engine: EngineLog,
    urn: String,
    mask: Mask,
}

impl ResourceLog {
    /// The same log, with `mask`'s values also removed from every message.
    pub fn with_mask(mut self, mask: &Mask) -> Self {
        self.mask = self.mask.union(mask);
        self
    }

    /// The secret values removed from this log's messages.
    pub fn mask(&self) -> &Mask {
        &self.mask
    }

    async fn send(&self, severity: Severity, message: &str, ephemeral: bool) {
        let message = self.mask.apply(message);
        self.engine
            .log(severity, &self.urn, &message, ephemeral)
            .await;
    }

    /// A live status line for the resource's row (not kept in the final output).
    pub async fn status(&self, message: &str) {
        self.send(Severity::Info, message, true).await;
    }

    pub async fn info(&self, message: &str) {
        self.send(Severity::Info, message, false).await;
    }

    pub async fn warn(&self, message: &str) {
        self.send(Severity::Warning, message, false).await;
    }

    pub async fn debug(&self, message: &str) {
        self.send(Severity::Debug, message, false).await;
    }

    pub fn urn(&self) -> &str {
        &self.urn
    }
}
