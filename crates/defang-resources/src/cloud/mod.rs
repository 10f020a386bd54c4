//! What the resources need from the cloud, as traits over plain data. The AWS SDK adapters
//! (`defang-aws`) implement them; tests use scripted fakes. Nothing here knows the SDK.

pub mod build;
pub mod dns;
pub mod ecs;
pub mod listeners;
pub mod parameters;
pub mod stack;

pub use build::*;
pub use dns::*;
pub use ecs::*;
pub use listeners::*;
pub use parameters::*;
pub use stack::*;

/// A cloud call that failed, classified so that resources can decide what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CloudError {
    /// The thing asked about does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request is wrong, or conflicts with what exists; retrying will not help.
    #[error("{0}")]
    Invalid(String),
    /// What a create would make exists already (maybe made by this very call: a response lost
    /// after AWS acted and the SDK retried). Callers find it and decide whether it is theirs.
    #[error("{0}")]
    AlreadyExists(String),
    /// Missing permissions for the calling identity.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// Something AWS clears by itself a little later, which the SDK does not retry: a resource
    /// it has not finished wiring (a target group whose listener rule was just made, an IAM
    /// role not yet assumable everywhere), a limit that frees up (concurrent builds, concurrent
    /// revisions of one task family). Worth waiting out within the operation's deadline.
    #[error("{0}")]
    Settling(String),
    /// The resource is in the middle of another operation (a stack update in progress): try
    /// again once that ends.
    #[error("{0}")]
    Busy(String),
    /// Rate limits or transient service trouble that outlasted the SDK's retries.
    #[error("AWS is throttling or unavailable: {0}")]
    Transient(String),
    /// Anything else (network, credentials, unexpected responses).
    #[error("{0}")]
    Other(String),
}

impl CloudError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, CloudError::NotFound(_))
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, CloudError::AlreadyExists(_))
    }

    pub fn is_settling(&self) -> bool {
        matches!(self, CloudError::Settling(_))
    }

    pub fn is_busy(&self) -> bool {
        matches!(self, CloudError::Busy(_))
    }
}

pub type CloudResult<T> = Result<T, CloudError>;
