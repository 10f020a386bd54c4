//! Messages to the user through the engine's `Log` RPC: the only place provider output is shown.
//! Ephemeral messages appear in the resource's status column of `pulumi up` while it runs.

use pulumi_gestalt_proto::pulumi::pulumirpc::{LogRequest, engine_client::EngineClient};
use std::sync::{Arc, RwLock};
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
}

impl EngineLog {
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

    pub async fn log(&self, severity: Severity, urn: &str, message: &str, ephemeral: bool) {
        tracing::debug!(urn, ephemeral, "{message}");
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
        }
    }
}

/// Messages about one resource. Callers must never put secret values in a message.
#[derive(Clone)]
pub struct ResourceLog {
    engine: EngineLog,
    urn: String,
}

impl ResourceLog {
    /// A live status line for the resource's row (not kept in the final output).
    pub async fn status(&self, message: &str) {
        self.engine
            .log(Severity::Info, &self.urn, message, true)
            .await;
    }

    pub async fn info(&self, message: &str) {
        self.engine
            .log(Severity::Info, &self.urn, message, false)
            .await;
    }

    pub async fn warn(&self, message: &str) {
        self.engine
            .log(Severity::Warning, &self.urn, message, false)
            .await;
    }

    pub async fn debug(&self, message: &str) {
        self.engine
            .log(Severity::Debug, &self.urn, message, false)
            .await;
    }

    pub fn urn(&self) -> &str {
        &self.urn
    }
}
