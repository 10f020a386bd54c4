//! Errors a provider returns, and how they reach the engine as gRPC statuses.

use crate::value::{PropertyMap, properties_to_struct};
use prost::Message;
use pulumi_gestalt_proto::pulumi::pulumirpc::ErrorResourceInitFailed;

/// A failed operation, by what it means for the engine: each becomes a different gRPC status
/// (see the `From<Error> for tonic::Status` impl), and the engine acts on the status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong (bad input that Check could not catch, bad id on import).
    #[error("{0}")]
    InvalidArgument(String),
    /// The operation failed and nothing changed that the engine does not know of.
    #[error("{0}")]
    Failed(String),
    /// The resource was created (or updated) but did not become healthy: the engine records it
    /// with this state, and the next `up` updates it.
    #[error("{}", .0.reasons.join("; "))]
    ResourceInitFailed(Box<PartialState>),
    /// The engine asked us to stop (Cancel), or the operation's timeout passed.
    #[error("{0}")]
    Interrupted(String),
    /// Configuration keys are missing, as `(key, description)`: shown by the engine as
    /// `pulumi config set` hints.
    #[error("missing required configuration: {}", .0.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", "))]
    MissingConfig(Vec<(String, String)>),
    /// Something unexpected: the state of the resource is unknown.
    #[error("{0}")]
    Internal(String),
}

/// What exists after a partial failure.
#[derive(Debug, Clone, Default)]
pub struct PartialState {
    /// The id of what was created: the engine keeps it, and later deletes or updates it.
    pub id: String,
    /// The outputs to record in state (secret where the inputs were, by the machinery).
    pub outputs: PropertyMap,
    /// Inputs to record (Read only).
    pub inputs: Option<PropertyMap>,
    /// Why it is not healthy, one line each, for the user.
    pub reasons: Vec<String>,
}

/// `google.rpc.Status`, for the `grpc-status-details-bin` trailer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ConfigureErrorMissingKeys {
    #[prost(message, repeated, tag = "1")]
    missing_keys: Vec<MissingKey>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct MissingKey {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    description: String,
}

fn with_detail(
    code: tonic::Code,
    message: String,
    type_url: &str,
    detail: Vec<u8>,
) -> tonic::Status {
    let status = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: type_url.to_string(),
            value: detail,
        }],
    };
    tonic::Status::with_details(code, message, status.encode_to_vec().into())
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        let message = err.to_string();
        match err {
            Error::InvalidArgument(_) => tonic::Status::invalid_argument(message),
            // Not Unknown/Internal: those tell the engine the resource's state is unknown.
            Error::Failed(_) => tonic::Status::aborted(message),
            Error::Interrupted(_) => tonic::Status::cancelled(message),
            Error::Internal(_) => tonic::Status::internal(message),
            Error::MissingConfig(keys) => {
                let detail = ConfigureErrorMissingKeys {
                    missing_keys: keys
                        .into_iter()
                        .map(|(name, description)| MissingKey { name, description })
                        .collect(),
                };
                with_detail(
                    tonic::Code::InvalidArgument,
                    message,
                    "type.googleapis.com/pulumirpc.ConfigureErrorMissingKeys",
                    detail.encode_to_vec(),
                )
            }
            Error::ResourceInitFailed(state) => {
                let detail = ErrorResourceInitFailed {
                    id: state.id.clone(),
                    properties: Some(properties_to_struct(&state.outputs)),
                    reasons: state.reasons.clone(),
                    inputs: state.inputs.as_ref().map(properties_to_struct),
                    refresh_before_update: false,
                };
                with_detail(
                    tonic::Code::Unknown,
                    message,
                    "type.googleapis.com/pulumirpc.ErrorResourceInitFailed",
                    detail.encode_to_vec(),
                )
            }
        }
    }
}

/// Decodes the partial state carried by a status (for tests and clients of the protocol).
pub fn resource_init_failed(status: &tonic::Status) -> Option<ErrorResourceInitFailed> {
    let rpc = RpcStatus::decode(status.details()).ok()?;
    rpc.details
        .iter()
        .find(|d| d.type_url.ends_with("pulumirpc.ErrorResourceInitFailed"))
        .and_then(|d| ErrorResourceInitFailed::decode(d.value.as_slice()).ok())
}

/// `value` quoted for a message, shortened when it is long (the message must stay readable).
pub fn quoted(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{:?}…", head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn partial_failure_carries_state() {
        let err = Error::ResourceInitFailed(Box::new(PartialState {
            id: "p/web".into(),
            outputs: PropertyMap::from([("status".to_string(), Value::from("FAILED"))]),
            inputs: None,
            reasons: vec!["rollout failed".into()],
        }));
        let status: tonic::Status = err.into();
        assert_eq!(status.code(), tonic::Code::Unknown);
        assert_eq!(status.message(), "rollout failed");
        let detail = resource_init_failed(&status).expect("details");
        assert_eq!(detail.id, "p/web");
        assert_eq!(detail.reasons, vec!["rollout failed".to_string()]);
        assert!(detail.properties.unwrap().fields.contains_key("status"));
    }

    #[test]
    fn failed_keeps_state_known() {
        let status: tonic::Status = Error::Failed("nope".into()).into();
        assert_ne!(status.code(), tonic::Code::Unknown);
        assert_ne!(status.code(), tonic::Code::Internal);
    }
}
