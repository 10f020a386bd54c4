//! Messages to the user through the engine's `Log` RPC: the only place provider output is shown.
//! Ephemeral messages appear in the resource's status column of `pulumi up` while it runs.

use crate::mask::Mask;
use pulumi_gestalt_proto::pulumi::pulumirpc::{LogRequest, engine_client::EngineClient};
use std::sync::{Arc, Mutex, RwLock};
use tonic::transport::{Channel, Endpoint};

/// How the engine shows a message (the values are the protocol's `LogSeverity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Shown only with `--debug` or verbose logging.
    Debug = 0,
    /// Shown under the resource in the diagnostics.
    Info = 1,
    /// Shown as a warning about the resource.
    Warning = 2,
    /// Shown as an error about the resource (the operation's error is returned, not logged).
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
    /// How it was to be shown.
    pub severity: Severity,
    /// The resource it is about.
    pub urn: String,
    /// The text, already masked.
    pub message: String,
    /// A status line (see [`ResourceLog::status`]) rather than a kept message.
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

    /// Sends later messages to the engine at `address` (`host:port`, or a URI); an empty
    /// address changes nothing. Connects lazily: a bad address shows only when a message is
    /// sent, as a debug line.
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

    /// Whether an engine address is known (not whether the engine answers).
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

    /// Messages about the resource `urn`, masking nothing yet (see [`ResourceLog::with_mask`]).
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

    /// A message kept in the output under the resource.
    pub async fn info(&self, message: &str) {
        self.send(Severity::Info, message, false).await;
    }

    /// A warning about the resource, kept in the output.
    pub async fn warn(&self, message: &str) {
        self.send(Severity::Warning, message, false).await;
    }

    /// A message shown only with debug logging (`pulumi up --debug`).
    pub async fn debug(&self, message: &str) {
        self.send(Severity::Debug, message, false).await;
    }

    /// The resource the messages are about.
    pub fn urn(&self) -> &str {
        &self.urn
    }
}
