//! Provider configuration (`defang:*` stack config). Values from stack config arrive as strings.

use pulumi_plugin::{CheckFailure, PropertyMap, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const DEFAULT_DOMAIN_SUFFIX: &str = "defang.app";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderConfig {
    /// AWS region; None: the standard AWS chain decides (AWS_REGION, profile).
    pub region: Option<String>,
    /// AWS shared-config profile; None: the standard chain (AWS_PROFILE or default).
    pub profile: Option<String>,
    /// The Defang username: a label of every service domain.
    pub username: String,
    pub domain_suffix: String,
    /// Retries of a throttled or failed AWS call after its first attempt; None: the default.
    pub max_retries: Option<u32>,
}

/// The provider of the defang package. Resources use the stack configuration (`defang:region`,
/// `defang:username`, `defang:profile`, `defang:domainSuffix`) unless given an explicit provider
/// with its own settings.
//
// This is the configuration as the schema declares it; `ProviderConfig::parse` reads it (stack
// config values arrive as strings, so it is not decoded with serde).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigInputs {
    /// The AWS region to deploy to, e.g. `us-east-1`. When unset, the standard AWS chain decides:
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, then the region of the AWS profile. Changing it
    /// replaces every resource of the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Your Defang username, a DNS label. It is the label before the domain suffix in every
    /// service domain: `<service>--<port>.<project>.<username>.defang.app`. Required: set it with
    /// `pulumi config set defang:username <name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The AWS shared-config profile to use (from `~/.aws/config` and `~/.aws/credentials`). When
    /// unset, `AWS_PROFILE` or the default profile. Changing it is an update, not a replacement:
    /// the same account may be reached through another profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The domain that service domains end in:
    /// `<service>--<port>.<project>.<username>.<domainSuffix>`. Defaults to `defang.app`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_DOMAIN_SUFFIX))]
    pub domain_suffix: Option<String>,
    /// The most times a throttled or failed AWS call is retried after its first attempt, with
    /// exponential backoff and jitter (up to 20 s a wait). Defaults to 25, as pulumi-aws; 0 to
    /// 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = DEFAULT_MAX_RETRIES))]
    pub max_retries: Option<u32>,
}

/// `defang:maxRetries` when unset: as pulumi-aws and Terraform's AWS provider.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// The most `defang:maxRetries` may be: backoff waits up to 20 s a retry, so more would let
/// one call take over half an hour.
pub const MAX_RETRIES_LIMIT: u32 = 100;

const KNOWN_KEYS: [&str; 6] = [
    "region",
    "profile",
    "username",
    "domainSuffix",
    "maxRetries",
    "version",
];

/// `defang:maxRetries` as a number: stack config gives strings, a provider resource numbers.
fn max_retries(config: &PropertyMap) -> Result<Option<u32>, String> {
    let value = match config.get("maxRetries") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => *n,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| {
            format!("\"{s}\" is not a number: set a whole number of retries, e.g. 25")
        })?,
        Some(other) => {
            return Err(format!(
                "must be a whole number of retries, e.g. 25; got {other:?}"
            ));
        }
    };
    if value.fract() != 0.0 || !(0.0..=f64::from(MAX_RETRIES_LIMIT)).contains(&value) {
        return Err(format!(
            "must be a whole number from 0 to {MAX_RETRIES_LIMIT}; got {value}"
        ));
    }
    Ok(Some(value as u32))
}

fn text(config: &PropertyMap, key: &str) -> Option<String> {
    match config.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Secret(inner)) => inner.as_str().map(str::to_string),
        _ => None,
    }
}

/// Validates the configuration; every problem at once.
pub fn check(config: &PropertyMap) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    for key in config.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            failures.push(CheckFailure::new(
                key.as_str(),
                format!(
                    "unknown configuration key `defang:{key}`; known keys: defang:region, defang:username, defang:profile, defang:domainSuffix, defang:maxRetries"
                ),
            ));
        }
    }
    if let Some(region) = text(config, "region")
        && !is_region(&region)
    {
        failures.push(CheckFailure::new(
            "region",
            format!("\"{region}\" is not an AWS region name like us-east-1"),
        ));
    }
    if let Some(username) = text(config, "username")
        && let Err(reason) = crate::names::validate_dns_label(&username)
    {
        failures.push(CheckFailure::new("username", reason));
    }
    if let Err(reason) = max_retries(config) {
        failures.push(CheckFailure::new("maxRetries", reason));
    }
    failures
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

impl ProviderConfig {
    /// Parses checked configuration. A missing username is reported as missing configuration
    /// so the engine prints the `pulumi config set` hint.
    pub fn parse(config: &PropertyMap) -> Result<ProviderConfig, pulumi_plugin::Error> {
        let failures = check(config);
        if let Some(f) = failures.first() {
            return Err(pulumi_plugin::Error::InvalidArgument(format!(
                "defang:{}: {}",
                f.property, f.reason
            )));
        }
        let Some(username) = text(config, "username") else {
            return Err(pulumi_plugin::Error::MissingConfig(vec![(
                "defang:username".to_string(),
                "your Defang username; every service domain is <service>--<port>.<project>.<username>.defang.app".to_string(),
            )]));
        };
        Ok(ProviderConfig {
            region: text(config, "region"),
            profile: text(config, "profile"),
            username,
            domain_suffix: text(config, "domainSuffix")
                .unwrap_or_else(|| DEFAULT_DOMAIN_SUFFIX.to_string()),
            max_retries: max_retries(config).ok().flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> PropertyMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn parses_strings() {
        let c =
            ProviderConfig::parse(&cfg(&[("region", "eu-west-1"), ("username", "alice")])).unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.username, "alice");
        assert_eq!(c.domain_suffix, "defang.app");
    }

    #[test]
    fn max_retries_from_strings_or_numbers() {
        let c =
            ProviderConfig::parse(&cfg(&[("username", "alice"), ("maxRetries", "40")])).unwrap();
        assert_eq!(c.max_retries, Some(40));
        let mut numeric = cfg(&[("username", "alice")]);
        numeric.insert("maxRetries".into(), Value::Number(3.0));
        assert_eq!(
            ProviderConfig::parse(&numeric).unwrap().max_retries,
            Some(3)
        );
        assert_eq!(
            ProviderConfig::parse(&cfg(&[("username", "alice")]))
                .unwrap()
                .max_retries,
            None
        );
        for bad in ["-1", "2.5", "lots", "1000"] {
            let f = check(&cfg(&[("maxRetries", bad)]));
            assert_eq!(f.len(), 1, "{bad}");
            assert_eq!(f[0].property, "maxRetries");
        }
    }

    #[test]
    fn missing_username_is_missing_config() {
        let err = ProviderConfig::parse(&cfg(&[("region", "us-east-1")])).unwrap_err();
        assert!(matches!(err, pulumi_plugin::Error::MissingConfig(_)));
    }

    #[test]
    fn bad_values_are_named() {
        let f = check(&cfg(&[
            ("region", "Mars"),
            ("username", "Al ice"),
            ("regoin", "x"),
        ]));
        let props: Vec<&str> = f.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(props, vec!["regoin", "region", "username"]);
        assert!(is_region("ap-southeast-2"));
        assert!(is_region("us-gov-west-1"));
    }
}
