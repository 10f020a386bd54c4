//! Secrets that already exist (the `secrets` input): an SSM parameter or a Secrets Manager
//! secret, by name or ARN, that ECS reads into an environment variable when a task starts.
//!
//! Names are turned into ARNs of the service's account and region, so that the task
//! definition's `valueFrom` and the execution role's grant (see [`super::task_role`]) name the
//! same thing, and a task definition read back gives the same references again.

use super::inputs::SecretReference;
use pulumi_plugin::{CheckFailure, PropertyPath};

/// Where a service runs: what turns a name into an ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountScope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl AccountScope {
    /// The partition and account of a role ARN (`arn:aws:iam::123456789012:role/x`), in `region`.
    pub fn of_role(role_arn: &str, region: &str) -> Option<AccountScope> {
        let mut parts = role_arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        Some(AccountScope {
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
        })
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }
}

/// The reference's secret as an ARN: an SSM parameter's, or a Secrets Manager secret's
/// (perhaps partial: a name gives the ARN without AWS's random suffix, which ECS and
/// GetSecretValue accept).
pub fn secret_arn(reference: &SecretReference, scope: &AccountScope) -> Option<String> {
    match (&reference.ssm, &reference.secrets_manager) {
        (Some(ssm), None) if ssm.starts_with("arn:") => Some(ssm.clone()),
        (Some(ssm), None) => {
            Some(scope.arn("ssm", &format!("parameter/{}", ssm.trim_start_matches('/'))))
        }
        (None, Some(sm)) if sm.starts_with("arn:") => Some(sm.clone()),
        (None, Some(sm)) => Some(scope.arn("secretsmanager", &format!("secret:{sm}"))),
        _ => None,
    }
}

/// The container's `valueFrom`: the ARN, and for one key of a JSON secret
/// `<arn>:<key>::` (the version stage and id left to AWSCURRENT).
pub fn value_from(reference: &SecretReference, scope: &AccountScope) -> Option<String> {
    let arn = secret_arn(reference, scope)?;
    Some(match (&reference.secrets_manager, &reference.key) {
        (Some(_), Some(key)) => format!("{arn}:{key}::"),
        _ => arn,
    })
}

/// What the execution role must be allowed to read for the reference, as `(action, resource)`:
/// a parameter's ARN, or a secret's ARN and, for an ARN that may lack AWS's random suffix,
/// that ARN followed by the six characters of a suffix (what AWS advises for names).
pub fn grants(reference: &SecretReference, scope: &AccountScope) -> Vec<(&'static str, String)> {
    let Some(arn) = secret_arn(reference, scope) else {
        return Vec::new();
    };
    if reference.ssm.is_some() {
        vec![("ssm:GetParameters", arn)]
    } else {
        vec![
            ("secretsmanager:GetSecretValue", arn.clone()),
            ("secretsmanager:GetSecretValue", format!("{arn}-??????")),
        ]
    }
}

/// The reference a `valueFrom` of a task definition came from (for refresh and import); `None`
/// for the service's own secret environment values (`/defang/<project>/<service>/…`).
pub fn reference_from(value_from: &str, own_prefix: &str) -> Option<SecretReference> {
    if value_from.contains(&format!(":parameter{own_prefix}")) || value_from.starts_with(own_prefix)
    {
        return None;
    }
    if let Some((head, rest)) = value_from.split_once(":secret:")
        && head.contains(":secretsmanager:")
    {
        let mut fields = rest.split(':');
        let name = fields.next().unwrap_or_default();
        let key = fields.next().filter(|k| !k.is_empty()).map(str::to_string);
        return Some(SecretReference {
            ssm: None,
            secrets_manager: Some(format!("{head}:secret:{name}")),
            key,
        });
    }
    Some(SecretReference {
        ssm: Some(value_from.to_string()),
        ..Default::default()
    })
}

/// Check of one reference of `secrets.<var>`: exactly one source, a well-formed name or ARN,
/// and a key only for Secrets Manager.
pub fn check_reference(var: &str, reference: &SecretReference, failures: &mut Vec<CheckFailure>) {
    let at = PropertyPath::root().key("secrets").key(var);
    let fail = |failures: &mut Vec<CheckFailure>, path: PropertyPath, reason: String| {
        failures.push(CheckFailure::new(path.to_string(), reason));
    };
    match (&reference.ssm, &reference.secrets_manager) {
        (Some(_), Some(_)) => fail(
            failures,
            at,
            "set either `ssm` (an SSM parameter) or `secretsManager` (a Secrets Manager secret), not both".into(),
        ),
        (None, None) => fail(
            failures,
            at,
            "needs its source: `{ssm: \"/app/db-password\"}` for an SSM parameter, or `{secretsManager: \"prod/db\", key: \"password\"}` for a Secrets Manager secret (names or ARNs)".into(),
        ),
        (Some(ssm), None) => {
            if let Err(reason) = check_ssm(ssm) {
                fail(failures, at.clone().key("ssm"), reason);
            }
            if reference.key.is_some() {
                fail(
                    failures,
                    at.key("key"),
                    "applies to Secrets Manager secrets only (an SSM parameter's value is used whole): remove `key`, or use `secretsManager`".into(),
                );
            }
        }
        (None, Some(sm)) => {
            if let Err(reason) = check_secrets_manager(sm) {
                fail(failures, at.clone().key("secretsManager"), reason);
            }
            if let Some(key) = &reference.key
                && (key.is_empty() || key.contains(':'))
            {
                fail(
                    failures,
                    at.key("key"),
                    format!(
                        "{} is not a usable JSON key: ECS needs a key that is not empty and has no ':'",
                        crate::names::quoted(key)
                    ),
                );
            }
        }
    }
}

fn check_ssm(ssm: &str) -> Result<(), String> {
    let name = match ssm.strip_prefix("arn:") {
        Some(_) => {
            let parts: Vec<&str> = ssm.splitn(6, ':').collect();
            match parts.as_slice() {
                ["arn", partition, "ssm", region, account, resource]
                    if !partition.is_empty()
                        && !region.is_empty()
                        && is_account(account)
                        && resource.starts_with("parameter/") =>
                {
                    format!("/{}", &resource["parameter/".len()..])
                }
                _ => {
                    return Err(format!(
                        "{} is not an SSM parameter ARN: they look like arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password (or give the parameter's name, /app/db-password)",
                        crate::names::quoted(ssm)
                    ));
                }
            }
        }
        None => ssm.to_string(),
    };
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    let bare = name.trim_start_matches('/');
    if bare.is_empty() || name.len() > 2048 || !valid_chars {
        return Err(format!(
            "{} is not an SSM parameter name: use letters, digits and `_ . - /`, e.g. /app/db-password",
            crate::names::quoted(ssm)
        ));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(format!(
            "{} is a parameter path, and those start with '/': try \"/{name}\"",
            crate::names::quoted(ssm)
        ));
    }
    if name.starts_with("/defang/") {
        return Err(
            "parameters under /defang/ are Defang's own (the values of secret `environment` entries, deleted when they change): pass the value as a secret `environment` value, or reference a parameter of your own"
                .into(),
        );
    }
    Ok(())
}

fn check_secrets_manager(sm: &str) -> Result<(), String> {
    let name = match sm.strip_prefix("arn:") {
        Some(_) => {
            let parts: Vec<&str> = sm.splitn(7, ':').collect();
            match parts.as_slice() {
                [
                    "arn",
                    partition,
                    "secretsmanager",
                    region,
                    account,
                    "secret",
                    name,
                ] if !partition.is_empty() && !region.is_empty() && is_account(account) => {
                    if name.contains(':') {
                        return Err(format!(
                            "{} has more after the secret's name: give the ARN up to the name, and a JSON key as `key`",
                            crate::names::quoted(sm)
                        ));
                    }
                    name.to_string()
                }
                _ => {
                    return Err(format!(
                        "{} is not a Secrets Manager secret ARN: they look like arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf (or give the secret's name, prod/db)",
                        crate::names::quoted(sm)
                    ));
                }
            }
        }
        None => sm.to_string(),
    };
    let valid = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if !valid {
        return Err(format!(
            "{} is not a Secrets Manager secret name: use letters, digits and `/ _ + = . @ -`, e.g. prod/db",
            crate::names::quoted(sm)
        ));
    }
    Ok(())
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> AccountScope {
        AccountScope::of_role(
            "arn:aws:iam::123456789012:role/defang-shop-exec",
            "us-east-1",
        )
        .unwrap()
    }

    fn ssm(name: &str) -> SecretReference {
        SecretReference {
            ssm: Some(name.into()),
            ..Default::default()
        }
    }

    fn sm(name: &str, key: Option<&str>) -> SecretReference {
        SecretReference {
            secrets_manager: Some(name.into()),
            key: key.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn names_become_arns_of_the_account_and_region() {
        let s = scope();
        assert_eq!(
            value_from(&ssm("/app/db"), &s).unwrap(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/app/db"
        );
        assert_eq!(
            value_from(&ssm("db"), &s).unwrap(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/db"
        );
        assert_eq!(
            value_from(&sm("prod/db", Some("password")), &s).unwrap(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password::"
        );
        let arn = "arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:x-AbCdEf";
        assert_eq!(value_from(&sm(arn, None), &s).unwrap(), arn);
        assert_eq!(
            AccountScope::of_role("arn:aws-us-gov:iam::111122223333:role/a/b", "us-gov-west-1")
                .unwrap()
                .partition,
            "aws-us-gov"
        );
        assert_eq!(AccountScope::of_role("not-an-arn", "r"), None);
    }

    #[test]
    fn grants_are_exactly_the_referenced_secrets() {
        let s = scope();
        assert_eq!(
            grants(&ssm("/app/db"), &s),
            vec![(
                "ssm:GetParameters",
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/db".to_string()
            )]
        );
        assert_eq!(
            grants(&sm("prod/db", Some("password")), &s),
            vec![
                (
                    "secretsmanager:GetSecretValue",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db".to_string()
                ),
                (
                    "secretsmanager:GetSecretValue",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn references_come_back_from_value_from() {
        let s = scope();
        let own = "/defang/shop/web/";
        for reference in [
            ssm("arn:aws:ssm:us-east-1:123456789012:parameter/app/db"),
            sm(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db",
                Some("password"),
            ),
            sm(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
                None,
            ),
        ] {
            let value = value_from(&reference, &s).unwrap();
            assert_eq!(reference_from(&value, own), Some(reference), "{value}");
        }
        // The service's own secret environment values are not references.
        assert_eq!(
            reference_from(
                "arn:aws:ssm:us-east-1:123456789012:parameter/defang/shop/web/TOKEN/v2",
                own
            ),
            None
        );
        // A bare parameter name (a task definition made by someone else).
        assert_eq!(reference_from("app-db", own), Some(ssm("app-db")));
    }

    #[test]
    fn malformed_references_say_what_they_should_look_like() {
        let reasons = |reference: SecretReference| {
            let mut failures = Vec::new();
            check_reference("DB", &reference, &mut failures);
            failures
                .into_iter()
                .map(|f| format!("{}: {}", f.property, f.reason))
                .collect::<Vec<_>>()
        };
        assert!(reasons(ssm("/app/db")).is_empty());
        assert!(reasons(ssm("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db")).is_empty());
        assert!(reasons(sm("prod/db", Some("password"))).is_empty());
        assert!(
            reasons(sm(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
                None
            ))
            .is_empty()
        );
        let got = reasons(ssm("arn:aws:ssm:us-east-1:1234:parameter/x"));
        assert!(
            got[0].starts_with("secrets.DB.ssm: ")
                && got[0].contains("arn:aws:ssm:us-east-1:123456789012:parameter/"),
            "{got:?}"
        );
        assert!(reasons(ssm("app/db"))[0].contains("try \"/app/db\""));
        assert!(reasons(ssm("/app/db password"))[0].contains("not an SSM parameter name"));
        assert!(reasons(ssm("/defang/shop/web/TOKEN/v1"))[0].contains("Defang's own"));
        assert!(reasons(SecretReference::default())[0].starts_with("secrets.DB: needs its source"));
        let both = SecretReference {
            ssm: Some("/a".into()),
            secrets_manager: Some("b".into()),
            key: None,
        };
        assert!(reasons(both)[0].contains("not both"));
        let got = reasons(SecretReference {
            ssm: Some("/a".into()),
            key: Some("k".into()),
            ..Default::default()
        });
        assert!(got[0].starts_with("secrets.DB.key: applies to Secrets Manager secrets only"));
        assert!(
            reasons(sm(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db:password::",
                None
            ))[0]
                .contains("a JSON key as `key`")
        );
        assert!(
            reasons(sm("arn:aws:s3:::bucket", None))[0]
                .contains("not a Secrets Manager secret ARN")
        );
        assert!(reasons(sm("prod db", None))[0].contains("not a Secrets Manager secret name"));
        assert!(reasons(sm("prod/db", Some("a:b")))[0].starts_with("secrets.DB.key: "));
    }
}
