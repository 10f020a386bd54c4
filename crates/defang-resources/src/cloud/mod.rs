//! What the resources need from the cloud, as traits over plain data. The AWS SDK adapters
//! (`defang-aws`) implement them; tests use scripted fakes. Nothing here knows the SDK.

pub mod autoscaling;
pub mod build;
pub mod dns;
pub mod ecs;
pub mod inventory;
pub mod listeners;
pub mod parameters;
pub mod roles;
pub mod stack;

pub use autoscaling::*;
pub use build::*;
pub use dns::*;
pub use ecs::*;
pub use inventory::*;
pub use listeners::*;
pub use parameters::*;
pub use roles::*;
pub use stack::*;

/// What kind of failure a [`CloudError`] is: what resources decide on (treat as gone, adopt,
/// wait, report), whatever the service or its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloudErrorKind {
    /// The thing asked about does not exist.
    NotFound,
    /// The request is wrong, or conflicts with what exists; retrying will not help.
    Invalid,
    /// What a create would make exists already (maybe made by this very call: a response lost
    /// after AWS acted and the SDK retried). Callers find it and decide whether it is theirs.
    AlreadyExists,
    /// Missing permissions for the calling identity.
    AccessDenied,
    /// Something AWS clears by itself a little later, which the SDK does not retry: a resource
    /// it has not finished wiring (a target group whose listener rule was just made, an IAM
    /// role not yet assumable everywhere), a limit that frees up (concurrent builds, concurrent
    /// revisions of one task family). Worth waiting out within the operation's deadline.
    Settling,
    /// The resource is in the middle of another operation (a stack update in progress): try
    /// again once that ends.
    Busy,
    /// Rate limits or transient service trouble that outlasted the SDK's retries.
    Transient,
    /// Anything else (network, credentials, unexpected responses).
    Other,
}

impl CloudErrorKind {
    /// What [`CloudError`]'s Display puts before the message: the kinds whose messages (AWS's
    /// own wording) would not say it plainly enough by themselves.
    fn prefix(self) -> &'static str {
        match self {
            CloudErrorKind::NotFound => "not found: ",
            CloudErrorKind::AccessDenied => "access denied: ",
            CloudErrorKind::Transient => "AWS is throttling or unavailable: ",
            CloudErrorKind::Invalid
            | CloudErrorKind::AlreadyExists
            | CloudErrorKind::Settling
            | CloudErrorKind::Busy
            | CloudErrorKind::Other => "",
        }
    }
}

/// A cloud call that failed, classified so that resources can decide what to do: decisions
/// are taken on [`kind`](Self::kind) (and, where needed, [`code`](Self::code) and
/// [`operation`](Self::operation)), never on the message, which is for people.
///
/// Display is the kind's prefix (`not found: `, `access denied: `, `AWS is throttling or
/// unavailable: `, or none) and the message, e.g. `not found: describe ECS services:
/// ClusterNotFoundException: Cluster not found.`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", .kind.prefix(), .message)]
pub struct CloudError {
    kind: CloudErrorKind,
    service: &'static str,
    operation: &'static str,
    code: Option<String>,
    message: String,
}

impl CloudError {
    /// An error not from an AWS call (a request refused before it is sent, a fake's answer);
    /// see [`in_call`](Self::in_call) to say which call it is about.
    pub fn new(kind: CloudErrorKind, message: impl Into<String>) -> Self {
        CloudError {
            kind,
            service: "",
            operation: "",
            code: None,
            message: message.into(),
        }
    }

    /// [`CloudErrorKind::NotFound`], not from an AWS call.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::NotFound, message)
    }

    /// [`CloudErrorKind::Invalid`], not from an AWS call.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::Invalid, message)
    }

    /// [`CloudErrorKind::AlreadyExists`], not from an AWS call.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::AlreadyExists, message)
    }

    /// [`CloudErrorKind::Settling`], not from an AWS call.
    pub fn settling(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::Settling, message)
    }

    /// [`CloudErrorKind::Busy`], not from an AWS call.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::Busy, message)
    }

    /// [`CloudErrorKind::Transient`], not from an AWS call.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::Transient, message)
    }

    /// [`CloudErrorKind::Other`], not from an AWS call.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(CloudErrorKind::Other, message)
    }

    /// The same error, as the answer to one AWS call: `service` as the adapters name it
    /// ("ECS", "CloudFormation", "S3"…), `operation` as AWS names it ("DescribeServices").
    pub fn in_call(mut self, service: &'static str, operation: &'static str) -> Self {
        self.service = service;
        self.operation = operation;
        self
    }

    /// The same error, with the error code AWS answered (`ClusterNotFoundException`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The same error with its message rewritten (a hint added), keeping kind, call and code.
    pub fn map_message(mut self, f: impl FnOnce(String) -> String) -> Self {
        self.message = f(self.message);
        self
    }

    /// What kind of failure this is: what callers decide on.
    pub fn kind(&self) -> CloudErrorKind {
        self.kind
    }

    /// The AWS service whose call failed ("ECS", "CloudFormation"…); empty when the error is
    /// not from an AWS call.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The API operation that failed, as AWS names it ("DescribeServices", "CreateStack"…);
    /// empty when the error is not from an AWS call.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// AWS's error code, when it answered with one (`ValidationError`, `ThrottlingException`).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The message without the kind's prefix: what was being done, AWS's code and its words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The thing asked about does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == CloudErrorKind::NotFound
    }

    /// What a create would make exists already.
    pub fn is_already_exists(&self) -> bool {
        self.kind == CloudErrorKind::AlreadyExists
    }

    /// AWS will clear it by itself shortly: worth waiting out.
    pub fn is_settling(&self) -> bool {
        self.kind == CloudErrorKind::Settling
    }

    /// Another operation on the resource is running: try again once it ends.
    pub fn is_busy(&self) -> bool {
        self.kind == CloudErrorKind::Busy
    }
}

/// The result of a cloud call.
pub type CloudResult<T> = Result<T, CloudError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_kind_prefix_and_the_message_whatever_the_call() {
        let err = CloudError::not_found(
            "describe ECS services: ClusterNotFoundException: Cluster not found.",
        )
        .in_call("ECS", "DescribeServices")
        .with_code("ClusterNotFoundException");
        assert_eq!(
            err.to_string(),
            "not found: describe ECS services: ClusterNotFoundException: Cluster not found."
        );
        assert_eq!(
            (err.kind(), err.service(), err.operation(), err.code()),
            (
                CloudErrorKind::NotFound,
                "ECS",
                "DescribeServices",
                Some("ClusterNotFoundException")
            )
        );
        assert_eq!(
            CloudError::invalid("bad").to_string(),
            "bad",
            "no prefix for Invalid"
        );
        assert_eq!(
            CloudError::transient("x").to_string(),
            "AWS is throttling or unavailable: x"
        );
        assert_eq!(
            CloudError::new(CloudErrorKind::AccessDenied, "y").to_string(),
            "access denied: y"
        );
        let plain = CloudError::other("z");
        assert_eq!(
            (plain.service(), plain.operation(), plain.code()),
            ("", "", None)
        );
    }

    #[test]
    fn predicates_follow_the_kind_not_the_message() {
        // Messages that name another kind: only `kind` counts.
        assert!(CloudError::not_found("already exists").is_not_found());
        assert!(!CloudError::invalid("not found: does not exist").is_not_found());
        assert!(CloudError::busy("whatever").is_busy());
        assert!(!CloudError::invalid("UPDATE_IN_PROGRESS state").is_busy());
        assert!(CloudError::settling("x").is_settling());
        assert!(CloudError::already_exists("x").is_already_exists());
        let hinted = CloudError::new(CloudErrorKind::AccessDenied, "a")
            .in_call("S3", "HeadObject")
            .map_message(|m| format!("{m} (hint)"));
        assert_eq!(hinted.kind(), CloudErrorKind::AccessDenied);
        assert_eq!(hinted.operation(), "HeadObject");
        assert_eq!(hinted.message(), "a (hint)");
    }
}
