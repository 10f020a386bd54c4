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
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use std::time::Duration;

/// Retries per call after the first attempt, unless `defang:maxRetries` says otherwise: as
/// pulumi-aws and Terraform's AWS provider (25). ECS and CloudFormation throttle bursts readily;
/// with the SDK's default of 3 attempts, one `up` of 20 services at 30 % throttling failed.
/// (Declared with the configuration, whose schema states it.)
pub use defang_resources::config::DEFAULT_MAX_RETRIES;
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
    /// Retries per call after the first attempt; when unset, [`DEFAULT_MAX_RETRIES`].
    pub max_retries: Option<u32>,
}

/// Loads the SDK configuration from the standard chain, with our retry and timeout policy.
/// Fails only when no region can be found; credentials are resolved lazily on the first call.
pub async fn load(settings: &AwsSettings) -> Result<SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(
            settings.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
        ))
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

/// Standard mode: exponential backoff with full jitter (up to 20 s a wait), retrying
/// throttling, 5xx and transient network errors, `max_retries` times after the first attempt.
/// (Adaptive mode's client-side rate limiter would also be acceptable, but it shares one token
/// bucket per client and can stall unrelated calls after a burst.)
pub fn retry_config(max_retries: u32) -> RetryConfig {
    RetryConfig::standard().with_max_attempts(max_retries.saturating_add(1))
}

/// Every client's retries draw from this partition. Its token bucket never runs dry: the SDK's
/// default bucket (500 tokens, 5 a throttled retry, 1 back a success) empties after a few
/// hundred throttled calls, and then fails calls on their first error however many retries are
/// allowed, which is exactly what a 20-service `up` in a throttled account does. The number
/// of attempts still bounds every call.
pub fn retry_partition() -> RetryPartition {
    RetryPartition::custom("defang")
        .token_bucket(TokenBucket::unlimited())
        .build()
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

/// A client of `$sdk` from the shared configuration, retrying in [`retry_partition`].
macro_rules! client {
    ($name:ident, $sdk:ident) => {
        pub fn $name(config: &SdkConfig) -> $sdk::Client {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(config)
                    .retry_partition(retry_partition())
                    .build(),
            )
        }
    };
}

client!(ecs_client, aws_sdk_ecs);
client!(cloudformation_client, aws_sdk_cloudformation);
client!(codebuild_client, aws_sdk_codebuild);
client!(s3_client, aws_sdk_s3);
client!(ecr_client, aws_sdk_ecr);
client!(logs_client, aws_sdk_cloudwatchlogs);
client!(route53_client, aws_sdk_route53);
client!(ssm_client, aws_sdk_ssm);
client!(elb_client, aws_sdk_elasticloadbalancingv2);
client!(autoscaling_client, aws_sdk_applicationautoscaling);
// IAM is global: the SDK resolves its endpoint (iam.amazonaws.com in the `aws` partition) from
// the configured region, unless AWS_ENDPOINT_URL(_IAM) says otherwise.
client!(iam_client, aws_sdk_iam);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_is_standard_with_the_anchors_budget() {
        let retry = retry_config(DEFAULT_MAX_RETRIES);
        assert_eq!(retry.max_attempts(), 26);
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry_config(0).max_attempts(), 1);
    }

    /// The schema tells users the default: it must be this one.
    #[test]
    fn the_schema_states_the_default_retry_budget() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../schema.json")).unwrap();
        for section in [
            &schema["config"]["variables"],
            &schema["provider"]["inputProperties"],
        ] {
            assert_eq!(section["maxRetries"]["default"], DEFAULT_MAX_RETRIES);
        }
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
            max_retries: Some(7),
        };
        let config = load(&settings).await.expect("config");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(8));
        let ecs = ecs_client(&config);
        assert_eq!(
            ecs.config().retry_partition().map(|p| p.to_string()),
            Some("defang".to_string())
        );
    }
}
