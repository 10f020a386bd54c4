//! Classifying SDK errors into [`CloudError`] so that resources can decide what to do
//! (treat as gone, report as a user error, retry later) without knowing the SDK.
//!
//! Classification is by the service's error code (`ProvideErrorMetadata::code()`), never by
//! Rust error types: codes the SDK does not model arrive as "unhandled" errors but still carry
//! their code. Every error carries the service, the operation (as AWS names it) and the code,
//! so that callers decide on those and on the kind, never on the text. Messages are
//! `<action>: <code>: <message>`; request bodies are never included.
//!
//! This module is the one place where AWS's *words* are read: some answers come under a
//! generic code (`ClientException`, `ValidationError`, `InvalidParameterException`…) whose
//! message alone tells what happened, and AWS documents no finer code for them. Those phrases
//! are listed below ([`NOT_FOUND_PHRASES`], [`ALREADY_EXISTS_PHRASES`], [`SETTLING_PHRASES`],
//! [`BUSY_PHRASES`], and [`is_no_updates`]), each with the answer it recognises; everything
//! outside this module decides on [`CloudErrorKind`], codes and operations.

use aws_credential_types::provider::error::{CredentialsError, TokenError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use defang_resources::cloud::{CloudError, CloudErrorKind};

// The services, as errors name them (`CloudError::service`).
/// Amazon Elastic Container Service.
pub(crate) const ECS: &str = "ECS";
/// AWS CloudFormation.
pub(crate) const CLOUDFORMATION: &str = "CloudFormation";
/// AWS CodeBuild.
pub(crate) const CODEBUILD: &str = "CodeBuild";
/// Amazon S3.
pub(crate) const S3: &str = "S3";
/// Amazon Elastic Container Registry.
pub(crate) const ECR: &str = "ECR";
/// Amazon CloudWatch Logs.
pub(crate) const LOGS: &str = "CloudWatch Logs";
/// Amazon Route 53.
pub(crate) const ROUTE53: &str = "Route 53";
/// AWS Systems Manager (Parameter Store).
pub(crate) const SSM: &str = "SSM";
/// Elastic Load Balancing v2 (application load balancers).
pub(crate) const ELB: &str = "ELBv2";
/// Application Auto Scaling (a service's scalable target and policies).
pub(crate) const APPLICATION_AUTO_SCALING: &str = "Application Auto Scaling";
/// AWS Identity and Access Management (a service's task role).
pub(crate) const IAM: &str = "IAM";

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
    // Application Auto Scaling: no such scalable target or policy.
    "ObjectNotFoundException",
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
    // IAM and Application Auto Scaling: their own words for an internal failure.
    "ServiceFailure",
    "InternalServiceException",
    // S3: a conflicting operation on the same bucket or object is still running.
    "OperationAbortedException",
];

/// Limits that free up by themselves: CodeBuild's concurrent builds per account; and writes
/// refused while another one on the same thing is still being applied: IAM's
/// `ConcurrentModification` (a role's policies), Application Auto Scaling's
/// `ConcurrentUpdateException` (a scalable target and its policies).
const SETTLING_CODES: &[&str] = &[
    "AccountLimitExceededException",
    "ConcurrentModification",
    "ConcurrentUpdateException",
];
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

/// Classifies a failed SDK call of `service`'s `operation` (as AWS names it, e.g.
/// "DescribeServices"). `action` says what we were doing, e.g. "describe ECS services": it
/// starts the message.
pub(crate) fn classify<E>(
    service: &'static str,
    operation: &'static str,
    action: &str,
    err: &SdkError<E, HttpResponse>,
) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(response) => classify_code(
            service,
            operation,
            action,
            response.err().code(),
            response.err().message(),
            response.raw().status().as_u16(),
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
            let kind = if status >= 500 || status == 429 {
                CloudErrorKind::Transient
            } else {
                CloudErrorKind::Other
            };
            CloudError::new(kind, detail).in_call(service, operation)
        }
        // Construction, dispatch (network, DNS, TLS, credentials) and timeout failures: the
        // whole source chain is the useful part ("dispatch failure" alone says nothing).
        _ => {
            let chain = DisplayErrorContext(err).to_string();
            let hint = if credentials_failed(err) {
                format!(" ({CREDENTIALS_HINT})")
            } else {
                String::new()
            };
            CloudError::other(format!("{action}: {chain}{hint}")).in_call(service, operation)
        }
    }
}

/// The pure part of [`classify`]: from an error code, message and HTTP status.
pub(crate) fn classify_code(
    service: &'static str,
    operation: &'static str,
    action: &str,
    code: Option<&str>,
    message: Option<&str>,
    status: u16,
) -> CloudError {
    let mut detail = describe(action, code, message, status);
    let code_is = |codes: &[&str]| code.is_some_and(|c| codes.contains(&c));
    if code_is(CREDENTIAL_CODES) {
        detail.push_str(&format!(" ({CREDENTIALS_HINT})"));
    }
    let error = CloudError::new(kind_of(code, message, status), detail).in_call(service, operation);
    match code {
        Some(code) => error.with_code(code),
        None => error,
    }
}

/// The kind of an AWS answer: by its code, and for the generic codes listed at the top of
/// this module, by its words.
fn kind_of(code: Option<&str>, message: Option<&str>, status: u16) -> CloudErrorKind {
    let code_is = |codes: &[&str]| code.is_some_and(|c| codes.contains(&c));
    let lower_message = message.unwrap_or_default().to_ascii_lowercase();
    let says = |phrases: &[&str]| phrases.iter().any(|p| lower_message.contains(p));

    if code_is(NOT_FOUND_CODES)
        || (code_is(GENERIC_CODES) && says(NOT_FOUND_PHRASES))
        || (code.is_none() && status == 404)
    {
        CloudErrorKind::NotFound
    } else if code_is(ACCESS_DENIED_CODES) || (code.is_none() && status == 403) {
        CloudErrorKind::AccessDenied
    } else if code_is(CREDENTIAL_CODES) {
        CloudErrorKind::Other
    } else if code_is(ALREADY_EXISTS_CODES) || says(ALREADY_EXISTS_PHRASES) {
        CloudErrorKind::AlreadyExists
    } else if code_is(SETTLING_CODES) || says(SETTLING_PHRASES) {
        CloudErrorKind::Settling
    } else if says(BUSY_PHRASES) {
        CloudErrorKind::Busy
    } else if code_is(TRANSIENT_CODES) || status >= 500 || status == 429 {
        CloudErrorKind::Transient
    } else if code_is(INVALID_CODES) || (400..500).contains(&status) {
        CloudErrorKind::Invalid
    } else {
        CloudErrorKind::Other
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

/// True for CloudFormation's answer to an update that would change nothing. Another answer
/// AWS gives only in words: a generic `ValidationError` whose message is the only sign.
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

/// True when the SDK could not get an identity to sign with: the credentials (or SSO token)
/// provider failed. Decided by the error's type anywhere in the source chain, not by its words:
/// the providers' messages vary, and other failures mention "credentials" too.
fn credentials_failed(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(cause) = next {
        if cause.is::<CredentialsError>() || cause.is::<TokenError>() {
            return true;
        }
        next = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How AWS answering `code` with `message` and `status` is classified.
    fn answer(code: &str, message: &str, status: u16) -> CloudError {
        classify_code(ECS, "DoIt", "do it", Some(code), Some(message), status)
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
            assert!(
                answer(code, message, 400).is_not_found(),
                "{code}: {message}"
            );
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
                answer(code, message, 400).kind() == CloudErrorKind::Invalid,
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
                answer(code, message, 400).is_already_exists(),
                "{code}: {message}"
            );
        }
        // A conflict that passes: registering revisions of one family at once.
        assert!(
            answer(
                "ClientException",
                "Too many concurrent attempts to create a new revision of the specified family.",
                400
            )
            .kind()
                == CloudErrorKind::Settling
        );
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
            (
                "ConcurrentModification",
                "Cannot perform the operation on the same role at the same time.",
            ),
            (
                "ConcurrentUpdateException",
                "Concurrent updates are not allowed for the same scalable target.",
            ),
        ] {
            assert!(
                answer(code, message, 400).is_settling(),
                "{code}: {message}"
            );
        }
        let busy = answer(
            "ValidationError",
            "Stack:arn:aws:cloudformation:us-east-1:1:stack/defang-shop/x is in UPDATE_IN_PROGRESS state and can not be updated.",
            400,
        );
        assert!(busy.is_busy(), "{busy:?}");
        // A real validation error is neither.
        let invalid = answer("ValidationError", "Template format error", 400);
        assert!(invalid.kind() == CloudErrorKind::Invalid, "{invalid:?}");
    }

    #[test]
    fn access_denied() {
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "UnauthorizedOperation",
        ] {
            assert!(
                answer(code, "User: arn:aws:iam::1:user/x is not authorized", 400).kind()
                    == CloudErrorKind::AccessDenied
            );
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
            assert!(answer(code, "slow down", status).kind() == CloudErrorKind::Transient);
        }
        assert!(
            classify_code(ECS, "DoIt", "x", None, None, 500).kind() == CloudErrorKind::Transient
        );
    }

    #[test]
    fn expired_credentials_are_not_permissions() {
        let err = answer(
            "ExpiredTokenException",
            "The security token included in the request is expired",
            400,
        );
        assert_eq!(err.kind(), CloudErrorKind::Other, "{err:?}");
        assert!(err.message().contains("aws sso login"), "{err}");
    }

    #[test]
    fn message_has_action_code_and_text() {
        let err = answer("ClusterNotFoundException", "Cluster not found.", 400);
        assert_eq!(
            err.to_string(),
            "not found: do it: ClusterNotFoundException: Cluster not found."
        );
        let bare = classify_code(ECS, "DoIt", "do it", Some("Throttling"), None, 400);
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
            assert!(answer(code, "x", 400).is_not_found(), "{code}");
        }
        assert!(classify_code(S3, "HeadObject", "head S3 object", None, None, 404).is_not_found());
        assert!(answer("OperationAbortedException", "x", 409).kind() == CloudErrorKind::Transient);
        assert!(
            answer(
                "AccountLimitExceededException",
                "Cannot have more than 20 active builds",
                400
            )
            .is_settling()
        );
        for code in ["InvalidInputException", "RepositoryNotEmptyException"] {
            assert!(
                answer(code, "x", 400).kind() == CloudErrorKind::Invalid,
                "{code}"
            );
        }
        assert!(is_already_exists(Some("RepositoryAlreadyExistsException")));
        assert!(is_already_exists(Some("ResourceAlreadyExistsException")));
        assert!(!is_already_exists(Some("RepositoryNotFoundException")));
        assert!(!is_already_exists(None));
    }

    /// Application Auto Scaling's and IAM's own codes (refresh reads them).
    #[test]
    fn autoscaling_and_iam_codes() {
        let aas = |code: &str, status| {
            classify_code(
                APPLICATION_AUTO_SCALING,
                "DescribeScalableTargets",
                "describe",
                Some(code),
                Some("x"),
                status,
            )
        };
        assert!(aas("ObjectNotFoundException", 400).is_not_found());
        assert_eq!(
            aas("InternalServiceException", 400).kind(),
            CloudErrorKind::Transient
        );
        assert_eq!(
            aas("ValidationException", 400).kind(),
            CloudErrorKind::Invalid
        );
        let iam = |code: &str, status| {
            classify_code(IAM, "GetRolePolicy", "get", Some(code), Some("x"), status)
        };
        let gone = iam("NoSuchEntity", 404);
        assert!(gone.is_not_found());
        assert_eq!((gone.service(), gone.operation()), ("IAM", "GetRolePolicy"));
        assert_eq!(iam("ServiceFailure", 400).kind(), CloudErrorKind::Transient);
        assert_eq!(
            iam("AccessDenied", 403).kind(),
            CloudErrorKind::AccessDenied
        );
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

    #[test]
    fn the_call_and_the_code_are_fields() {
        let err = classify_code(
            CLOUDFORMATION,
            "UpdateStack",
            "update CloudFormation stack",
            Some("ValidationError"),
            Some("Template format error"),
            400,
        );
        assert_eq!(
            (err.kind(), err.service(), err.operation(), err.code()),
            (
                CloudErrorKind::Invalid,
                "CloudFormation",
                "UpdateStack",
                Some("ValidationError")
            )
        );
        let bare = classify_code(S3, "HeadObject", "check S3 object", None, None, 404);
        assert_eq!((bare.operation(), bare.code()), ("HeadObject", None));
        assert_eq!(bare.to_string(), "not found: check S3 object: HTTP 404");
    }

    /// A service error as the SDK hands it over, with the raw HTTP response.
    fn service_error(
        code: &str,
        message: &str,
        status: u16,
    ) -> SdkError<aws_sdk_ecs::operation::describe_services::DescribeServicesError, HttpResponse>
    {
        use aws_smithy_types::error::ErrorMetadata;
        let err = aws_sdk_ecs::operation::describe_services::DescribeServicesError::generic(
            ErrorMetadata::builder().code(code).message(message).build(),
        );
        let raw = HttpResponse::new(
            status.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::empty(),
        );
        SdkError::service_error(err, raw)
    }

    #[test]
    fn classify_fills_service_operation_and_code_and_keeps_the_message() {
        let err = classify(
            ECS,
            "DescribeServices",
            "describe ECS services",
            &service_error("ClusterNotFoundException", "Cluster not found.", 400),
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
            err.to_string(),
            "not found: describe ECS services: ClusterNotFoundException: Cluster not found."
        );
    }

    /// The credentials hint is decided by the failure's type: a credentials provider's error
    /// gets it whatever its words, and another failure that mentions credentials does not.
    #[test]
    fn the_credentials_hint_follows_the_error_type_not_its_words() {
        type Sdk = SdkError<
            aws_sdk_ecs::operation::describe_services::DescribeServicesError,
            HttpResponse,
        >;
        let provider: Sdk = SdkError::construction_failure(CredentialsError::provider_error(
            std::io::Error::other("the SSO session is over"),
        ));
        let err = classify(ECS, "DescribeServices", "describe ECS services", &provider);
        assert!(err.message().contains("aws sso login"), "{err}");
        assert_eq!(
            (err.kind(), err.operation()),
            (CloudErrorKind::Other, "DescribeServices")
        );

        let wordy: Sdk =
            SdkError::dispatch_failure(aws_smithy_runtime_api::client::result::ConnectorError::io(
                std::io::Error::other(
                    "connection reset while sending credentials=1 and an expired token",
                )
                .into(),
            ));
        let err = classify(ECS, "DescribeServices", "describe ECS services", &wordy);
        assert!(!err.message().contains("aws sso login"), "{err}");
        assert!(err.message().contains("connection reset"), "{err}");
    }
}
