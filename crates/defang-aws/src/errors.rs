//! Classifying SDK errors into [`CloudError`] so that resources can decide what to do
//! (treat as gone, report as a user error, retry later) without knowing the SDK.
//!
//! Classification is by the service's error code (`ProvideErrorMetadata::code()`), never by
//! Rust error types: codes the SDK does not model arrive as "unhandled" errors but still carry
//! their code. Messages are `<action>: <code>: <message>`; request bodies are never included.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use defang_resources::cloud::CloudError;

/// Codes that mean "the thing does not exist" whatever the message says.
const NOT_FOUND_CODES: &[&str] = &[
    "ServiceNotFoundException",
    // Updating or deleting a service that was deleted (INACTIVE/DRAINING): it is gone for us.
    "ServiceNotActiveException",
    "ClusterNotFoundException",
    "ResourceNotFoundException",
    "NotFoundException",
    "StackNotFoundException",
    "RepositoryNotFoundException",
    "ImageNotFoundException",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchEntity",
    "NoSuchUpload",
    "NotFound",
];

/// Generic request errors whose message tells whether the subject is missing:
/// ECS `ClientException: Unable to describe task definition.`,
/// CloudFormation `ValidationError: Stack with id X does not exist`.
const GENERIC_CODES: &[&str] = &["ClientException", "ValidationError", "ValidationException"];
const NOT_FOUND_PHRASES: &[&str] = &["does not exist", "unable to describe task definition"];

const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnauthorizedException",
];

/// The identity itself is unusable: not a permission problem, and retrying will not help.
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
];

const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServerException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    // S3: a conflicting operation on the same bucket or object is still running.
    "OperationAbortedException",
];

/// Limits that free up by themselves: CodeBuild's concurrent builds per account.
const SETTLING_CODES: &[&str] = &["AccountLimitExceededException"];
/// What AWS says (in generic codes: ECS `InvalidParameterException`/`ClientException`,
/// CodeBuild `InvalidInputException`) while it finishes wiring what a request depends on:
/// a target group whose listener rule CloudFormation just made, an IAM role not yet
/// assumable everywhere; and ECS's `Too many concurrent attempts to create a new revision of
/// the specified family`, a conflict that passes.
const SETTLING_PHRASES: &[&str] = &[
    "does not have an associated load balancer",
    "unable to assume the role",
    "unable to assume role",
    "not authorized to perform: sts:assumerole",
    "role is not valid",
    "too many concurrent attempts",
];
/// CloudFormation `ValidationError: Stack:… is in UPDATE_IN_PROGRESS state and can not be
/// updated.`: another operation on the stack is running.
const BUSY_PHRASES: &[&str] = &["_in_progress state"];

const INVALID_CODES: &[&str] = &[
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "ClientException",
    "ValidationError",
    "ValidationException",
    "TokenAlreadyExistsException",
    "ImageTagAlreadyExistsException",
    "RepositoryNotEmptyException",
    "InvalidInputException",
    "InsufficientCapabilitiesException",
    "LimitExceededException",
    "PlatformUnknownException",
    "PlatformTaskDefinitionIncompatibilityException",
    "UnsupportedFeatureException",
    "ClusterContainsServicesException",
    "ResourceInUseException",
];

/// "It exists already": for a create, maybe made by the same call before a lost response.
const ALREADY_EXISTS_CODES: &[&str] = &[
    "AlreadyExistsException",
    "RepositoryAlreadyExistsException",
    "ResourceAlreadyExistsException",
    "EntityAlreadyExists",
];
/// ECS `InvalidParameterException: Creation of service was not idempotent.`: a service of that
/// name exists (a CreateService retried with another token, or someone else's).
const ALREADY_EXISTS_PHRASES: &[&str] = &["was not idempotent"];

const CREDENTIALS_HINT: &str = "check the AWS credentials (AWS_PROFILE, `aws sso login`, \
     AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)";

/// Classifies a failed SDK call. `action` says what we were doing, e.g. "describe ECS services".
pub(crate) fn classify<E>(action: &str, err: &SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => classify_code(
            action,
            service.err().code(),
            service.err().message(),
            service.raw().status().as_u16(),
        ),
        // A response whose body could not be parsed (an HTML error page from a proxy or an
        // emulator): all we know is the status. Only the Display chain, because
        // DisplayErrorContext would append the Debug form, which includes the whole body.
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            let detail = format!(
                "{action}: HTTP {status} with an unreadable response: {}",
                display_chain(err)
            );
            if status >= 500 || status == 429 {
                CloudError::Transient(detail)
            } else {
                CloudError::Other(detail)
            }
        }
        // Construction, dispatch (network, DNS, TLS, credentials) and timeout failures: the
        // whole source chain is the useful part ("dispatch failure" alone says nothing).
        _ => {
            let chain = DisplayErrorContext(err).to_string();
            let hint = if mentions_credentials(&chain) {
                format!(" ({CREDENTIALS_HINT})")
            } else {
                String::new()
            };
            CloudError::Other(format!("{action}: {chain}{hint}"))
        }
    }
}

/// The pure part of [`classify`]: from an error code, message and HTTP status.
pub(crate) fn classify_code(
    action: &str,
    code: Option<&str>,
    message: Option<&str>,
    status: u16,
) -> CloudError {
    let detail = describe(action, code, message, status);
    let code_is = |codes: &[&str]| code.is_some_and(|c| codes.contains(&c));
    let lower_message = message.unwrap_or_default().to_ascii_lowercase();

    if code_is(NOT_FOUND_CODES)
        || (code_is(GENERIC_CODES) && NOT_FOUND_PHRASES.iter().any(|p| lower_message.contains(p)))
        || (code.is_none() && status == 404)
    {
        CloudError::NotFound(detail)
    } else if code_is(ACCESS_DENIED_CODES) || (code.is_none() && status == 403) {
        CloudError::AccessDenied(detail)
    } else if code_is(CREDENTIAL_CODES) {
        CloudError::Other(format!("{detail} ({CREDENTIALS_HINT})"))
    } else if code_is(ALREADY_EXISTS_CODES)
        || ALREADY_EXISTS_PHRASES
            .iter()
            .any(|p| lower_message.contains(p))
    {
        CloudError::AlreadyExists(detail)
    } else if code_is(SETTLING_CODES) || SETTLING_PHRASES.iter().any(|p| lower_message.contains(p))
    {
        CloudError::Settling(detail)
    } else if BUSY_PHRASES.iter().any(|p| lower_message.contains(p)) {
        CloudError::Busy(detail)
    } else if code_is(TRANSIENT_CODES) || status >= 500 || status == 429 {
        CloudError::Transient(detail)
    } else if code_is(INVALID_CODES) || (400..500).contains(&status) {
        CloudError::Invalid(detail)
    } else {
        CloudError::Other(detail)
    }
}

/// True for "it exists already" answers (ECR `RepositoryAlreadyExistsException`, CodeBuild and
/// Logs `ResourceAlreadyExistsException`), which callers that create-if-missing treat as success.
pub(crate) fn is_already_exists(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("RepositoryAlreadyExistsException" | "ResourceAlreadyExistsException")
    )
}

/// True for CloudFormation's answer to an update that would change nothing.
pub(crate) fn is_no_updates(code: Option<&str>, message: Option<&str>) -> bool {
    code == Some("ValidationError")
        && message.is_some_and(|m| m.contains("No updates are to be performed"))
}

fn describe(action: &str, code: Option<&str>, message: Option<&str>, status: u16) -> String {
    match (code, message.filter(|m| !m.is_empty())) {
        (Some(code), Some(message)) => format!("{action}: {code}: {message}"),
        (Some(code), None) => format!("{action}: {code} (HTTP {status})"),
        (None, Some(message)) => format!("{action}: HTTP {status}: {message}"),
        (None, None) => format!("{action}: HTTP {status}"),
    }
}

/// `error: source: source of source…`, from Display only.
fn display_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn mentions_credentials(chain: &str) -> bool {
    let lower = chain.to_ascii_lowercase();
    lower.contains("credential") || lower.contains("token") && lower.contains("expired")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(code: &str, message: &str, status: u16) -> CloudError {
        classify_code("do it", Some(code), Some(message), status)
    }

    #[test]
    fn not_found() {
        for (code, message) in [
            ("ServiceNotFoundException", "Service not found."),
            ("ClusterNotFoundException", "Cluster not found."),
            ("ServiceNotActiveException", "Service was not ACTIVE."),
            ("ClientException", "Unable to describe task definition."),
            (
                "ClientException",
                "The specified task definition does not exist.",
            ),
            ("ValidationError", "Stack with id web does not exist"),
        ] {
            assert!(kind(code, message, 400).is_not_found(), "{code}: {message}");
        }
    }

    #[test]
    fn invalid() {
        for (code, message) in [
            (
                "InvalidParameterException",
                "The subnet ID 'subnet-1' does not exist",
            ),
            (
                "ValidationError",
                "Template format error: At least one Resources member must be defined.",
            ),
            ("SomethingNew", "unknown 4xx"),
        ] {
            assert!(
                matches!(kind(code, message, 400), CloudError::Invalid(_)),
                "{code}: {message}"
            );
        }
    }

    #[test]
    fn already_exists() {
        for (code, message) in [
            ("AlreadyExistsException", "Stack web already exists"),
            ("RepositoryAlreadyExistsException", "exists"),
            (
                "InvalidParameterException",
                "Creation of service was not idempotent.",
            ),
        ] {
            assert!(
                kind(code, message, 400).is_already_exists(),
                "{code}: {message}"
            );
        }
        // A conflict that passes: registering revisions of one family at once.
        assert!(matches!(
            kind(
                "ClientException",
                "Too many concurrent attempts to create a new revision of the specified family.",
                400
            ),
            CloudError::Settling(_)
        ));
    }

    #[test]
    fn settling_and_busy() {
        for (code, message) in [
            (
                "InvalidParameterException",
                "The target group with targetGroupArn arn:tg does not have an associated load balancer.",
            ),
            (
                "InvalidInputException",
                "CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::1:role/b",
            ),
            (
                "InvalidParameterException",
                "ECS was unable to assume the role 'arn:r'",
            ),
            (
                "AccountLimitExceededException",
                "Cannot have more than 20 active builds",
            ),
        ] {
            assert!(kind(code, message, 400).is_settling(), "{code}: {message}");
        }
        let busy = kind(
            "ValidationError",
            "Stack:arn:aws:cloudformation:us-east-1:1:stack/defang-shop/x is in UPDATE_IN_PROGRESS state and can not be updated.",
            400,
        );
        assert!(busy.is_busy(), "{busy:?}");
        // A real validation error is neither.
        let invalid = kind("ValidationError", "Template format error", 400);
        assert!(matches!(invalid, CloudError::Invalid(_)), "{invalid:?}");
    }

    #[test]
    fn access_denied() {
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "UnauthorizedOperation",
        ] {
            assert!(matches!(
                kind(code, "User: arn:aws:iam::1:user/x is not authorized", 400),
                CloudError::AccessDenied(_)
            ));
        }
    }

    #[test]
    fn transient() {
        for (code, status) in [
            ("ThrottlingException", 400),
            ("Throttling", 400),
            ("RequestLimitExceeded", 503),
            ("ServiceUnavailable", 503),
            ("ServerException", 500),
            ("Whatever", 502),
        ] {
            assert!(matches!(
                kind(code, "slow down", status),
                CloudError::Transient(_)
            ));
        }
        assert!(matches!(
            classify_code("x", None, None, 500),
            CloudError::Transient(_)
        ));
    }

    #[test]
    fn expired_credentials_are_not_permissions() {
        let err = kind(
            "ExpiredTokenException",
            "The security token included in the request is expired",
            400,
        );
        let CloudError::Other(message) = err else {
            panic!("expected Other, got {err:?}");
        };
        assert!(message.contains("aws sso login"), "{message}");
    }

    #[test]
    fn message_has_action_code_and_text() {
        let err = kind("ClusterNotFoundException", "Cluster not found.", 400);
        assert_eq!(
            err.to_string(),
            "not found: do it: ClusterNotFoundException: Cluster not found."
        );
        let bare = classify_code("do it", Some("Throttling"), None, 400);
        assert_eq!(
            bare.to_string(),
            "AWS is throttling or unavailable: do it: Throttling (HTTP 400)"
        );
    }

    #[test]
    fn build_pipeline_codes() {
        for code in [
            "RepositoryNotFoundException",
            "ImageNotFoundException",
            "NoSuchUpload",
        ] {
            assert!(kind(code, "x", 400).is_not_found(), "{code}");
        }
        assert!(classify_code("head S3 object", None, None, 404).is_not_found());
        assert!(matches!(
            kind("OperationAbortedException", "x", 409),
            CloudError::Transient(_)
        ));
        assert!(
            kind(
                "AccountLimitExceededException",
                "Cannot have more than 20 active builds",
                400
            )
            .is_settling()
        );
        for code in ["InvalidInputException", "RepositoryNotEmptyException"] {
            assert!(
                matches!(kind(code, "x", 400), CloudError::Invalid(_)),
                "{code}"
            );
        }
        assert!(is_already_exists(Some("RepositoryAlreadyExistsException")));
        assert!(is_already_exists(Some("ResourceAlreadyExistsException")));
        assert!(!is_already_exists(Some("RepositoryNotFoundException")));
        assert!(!is_already_exists(None));
    }

    #[test]
    fn no_updates() {
        assert!(is_no_updates(
            Some("ValidationError"),
            Some("No updates are to be performed.")
        ));
        assert!(!is_no_updates(
            Some("ValidationError"),
            Some("Stack with id x does not exist")
        ));
        assert!(!is_no_updates(
            None,
            Some("No updates are to be performed.")
        ));
    }
}
