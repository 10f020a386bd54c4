//! Loading the AWS SDK configuration.
//!
//! Everything comes from the standard chain that the AWS CLI also uses: environment variables,
//! the shared config and credentials files (profiles, SSO), web identity, and ECS container or
//! EC2 instance metadata. Endpoints too come only from the standard settings
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, `endpoint_url` in a profile), which is how
//! tests point the provider at a local emulator without a test-only code path.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// Attempts per call (the first plus retries). ECS and CloudFormation throttle bursts of
/// describes readily, so this is above the SDK default of 3.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long to wait for a TCP/TLS connection to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a single attempt (request and response) may take before it is retried.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

const NO_REGION: &str = "no AWS region is configured: set `pulumi config set defang:region us-east-1` \
     or AWS_REGION (or a `region` in your AWS profile)";

/// Provider-level settings that override the standard chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Region; when unset, the standard chain decides (AWS_REGION, the profile, instance metadata).
    pub region: Option<String>,
    /// Named profile from the shared config files; when unset, AWS_PROFILE or `default`.
    pub profile: Option<String>,
}

/// Loads the SDK configuration from the standard chain, with our retry and timeout policy.
/// Fails only when no region can be found; credentials are resolved lazily on the first call.
pub async fn load(settings: &AwsSettings) -> Result<SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = non_empty(&settings.profile) {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = non_empty(&settings.region) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    match config.region() {
        Some(region) if !region.as_ref().is_empty() => Ok(config),
        _ => Err(NO_REGION.to_owned()),
    }
}

/// Standard mode: exponential backoff with jitter, retrying throttling, 5xx and transient
/// network errors. (Adaptive mode's client-side rate limiter would also be acceptable, but it
/// shares one token bucket per client and can stall unrelated calls after a burst.)
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub fn ecs_client(config: &SdkConfig) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(config)
}

pub fn cloudformation_client(config: &SdkConfig) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(config)
}

pub fn codebuild_client(config: &SdkConfig) -> aws_sdk_codebuild::Client {
    aws_sdk_codebuild::Client::new(config)
}

pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::new(config)
}

pub fn ecr_client(config: &SdkConfig) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(config)
}

pub fn logs_client(config: &SdkConfig) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_is_standard_with_five_attempts() {
        let retry = retry_config();
        assert_eq!(retry.max_attempts(), 5);
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
    }

    #[test]
    fn timeouts_are_bounded() {
        let timeouts = timeout_config();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    }

    #[test]
    fn blank_settings_count_as_unset() {
        assert_eq!(non_empty(&Some("  ".into())), None);
        assert_eq!(non_empty(&Some(" us-west-2 ".into())), Some("us-west-2"));
        assert_eq!(non_empty(&None), None);
    }

    #[tokio::test]
    async fn explicit_region_wins() {
        let settings = AwsSettings {
            region: Some("eu-west-3".into()),
            profile: None,
        };
        let config = load(&settings).await.expect("config");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(5));
    }
}
