//! Secret environment values: an `environment` entry whose value is a Pulumi secret (or every
//! entry, when the whole map is secret) is stored in SSM Parameter Store as a SecureString
//! named `/defang/<project>/<service>/<VAR>/v<N>`, and the container references it by ARN
//! (`secrets: [{name, valueFrom}]`); ECS reads it with the project's task execution role when
//! a task starts. The value is never in the task definition, a log or an error message.
//!
//! Each value has its own parameter, never overwritten by another value: a changed value is
//! version N + 1 and a new task definition revision, while the running tasks, the revision the
//! circuit breaker would roll back to and tasks starting meanwhile still read version N. (ECS
//! cannot reference a parameter's version, `name:2`: aws/containers-roadmap#859.) Versions no
//! revision in use references are deleted once a rollout has completed.

use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeMap;

/// `/defang/<project>/<service>/`: every parameter of the service (deleted with it).
pub fn parameter_prefix(project: &str, service: &str) -> String {
    format!("/defang/{project}/{service}/")
}

/// `/defang/<project>/<service>/<VAR>/v<version>`: one value of one variable.
pub fn parameter_name(project: &str, service: &str, var: &str, version: u64) -> String {
    format!("{}{var}/v{version}", parameter_prefix(project, service))
}

/// The version in a parameter ARN or name of [`parameter_name`]'s form; 0 for the unversioned
/// `/defang/<project>/<service>/<VAR>` of earlier releases.
pub fn version_of(reference: &str) -> u64 {
    reference
        .rsplit_once("/v")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Which parameter each secret variable should reference: the deployed one when its value is
/// unchanged, else the next version. `deployed` are the `(variable, parameter ARN)` of the
/// running task definition; `old` and `new` the secret values of the old and new inputs.
/// Returns `(variable, version)` for every new secret.
pub fn plan_versions(
    deployed: &[(String, String)],
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<(String, u64)> {
    new.iter()
        .map(|(var, value)| {
            let current = deployed
                .iter()
                .find(|(name, _)| name == var)
                .map(|(_, arn)| version_of(arn));
            let version = match current {
                Some(v) if v > 0 && old.get(var) == Some(value) => v,
                Some(v) => v + 1,
                None => 1,
            };
            (var.clone(), version)
        })
        .collect()
}

/// The secret entries of raw `environment` inputs, by name. Unknown values (preview) and
/// non-strings are left out.
pub fn secret_environment(inputs: &PropertyMap) -> BTreeMap<String, String> {
    let (all_secret, entries) = match inputs.get("environment") {
        Some(Value::Secret(inner)) => match inner.as_ref() {
            Value::Object(map) => (true, map),
            _ => return BTreeMap::new(),
        },
        Some(Value::Object(map)) => (false, map),
        _ => return BTreeMap::new(),
    };
    entries
        .iter()
        .filter(|(_, v)| all_secret || v.is_secret())
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// The variables whose secretness changed between the old and new inputs (a plain value made
/// secret, or the other way round), even with the same value: they move between the task
/// definition's environment and SSM.
pub fn secretness_changes(old_inputs: &PropertyMap, new_inputs: &PropertyMap) -> Vec<String> {
    use std::collections::BTreeSet;
    let secret = |inputs: &PropertyMap| -> BTreeSet<String> {
        secret_environment(inputs).into_keys().collect()
    };
    // A secret map has no plain entries.
    let plain = |inputs: &PropertyMap| -> BTreeSet<String> {
        match inputs.get("environment") {
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(_, v)| !v.is_secret())
                .map(|(k, _)| k.clone())
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    let made_secret = secret(new_inputs)
        .intersection(&plain(old_inputs))
        .cloned()
        .collect::<BTreeSet<_>>();
    let made_plain = plain(new_inputs)
        .intersection(&secret(old_inputs))
        .cloned()
        .collect::<BTreeSet<_>>();
    made_secret.union(&made_plain).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    #[test]
    fn only_secret_entries_are_secret() {
        let mut inputs = PropertyMap::new();
        inputs.insert(
            "environment".into(),
            env(vec![
                ("PLAIN", Value::from("1")),
                ("TOKEN", Value::from("hunter2").into_secret()),
                ("LATER", Value::Unknown.into_secret()),
            ]),
        );
        let secrets = secret_environment(&inputs);
        assert_eq!(
            secrets,
            BTreeMap::from([("TOKEN".to_string(), "hunter2".to_string())])
        );
    }

    #[test]
    fn a_secret_map_makes_every_entry_secret() {
        let mut inputs = PropertyMap::new();
        inputs.insert(
            "environment".into(),
            env(vec![("A", Value::from("1")), ("B", Value::from("2"))]).into_secret(),
        );
        assert_eq!(
            secret_environment(&inputs).keys().collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        assert!(secret_environment(&PropertyMap::new()).is_empty());
    }

    #[test]
    fn changed_values_are_noticed() {
        let with = |v: &str| {
            let mut inputs = PropertyMap::new();
            inputs.insert(
                "environment".into(),
                env(vec![
                    ("T", Value::from(v).into_secret()),
                    ("P", Value::from("x")),
                ]),
            );
            inputs
        };
        assert!(secretness_changes(&with("a"), &with("b")).is_empty());
        assert_eq!(
            parameter_name("shop", "web", "T", 3),
            "/defang/shop/web/T/v3".to_string()
        );
        // The same value, made secret: it moves out of the task definition.
        let mut plain = PropertyMap::new();
        plain.insert(
            "environment".into(),
            env(vec![("T", Value::from("a")), ("P", Value::from("x"))]),
        );
        assert_eq!(secretness_changes(&plain, &with("a")), vec!["T"]);
        assert_eq!(secretness_changes(&with("a"), &plain), vec!["T"]);
    }

    #[test]
    fn a_changed_value_gets_the_next_version_and_an_unchanged_one_keeps_its_own() {
        let arn = |var: &str, v: u64| {
            format!(
                "arn:aws:ssm:us-east-1:1:parameter{}",
                parameter_name("shop", "web", var, v)
            )
        };
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let deployed = vec![
            ("KEPT".to_string(), arn("KEPT", 2)),
            ("CHANGED".to_string(), arn("CHANGED", 4)),
            // Written by an earlier release: unversioned.
            (
                "OLD".to_string(),
                "arn:aws:ssm:us-east-1:1:parameter/defang/shop/web/OLD".into(),
            ),
        ];
        let old = map(&[("KEPT", "k"), ("CHANGED", "c1"), ("OLD", "o")]);
        let new = map(&[
            ("KEPT", "k"),
            ("CHANGED", "c2"),
            ("OLD", "o"),
            ("ADDED", "a"),
        ]);
        assert_eq!(
            plan_versions(&deployed, &old, &new),
            vec![
                ("ADDED".to_string(), 1),
                ("CHANGED".to_string(), 5),
                ("KEPT".to_string(), 2),
                ("OLD".to_string(), 1),
            ]
        );
        // A -> B -> A is three versions, never an overwrite of one still in use.
        let a = map(&[("T", "a")]);
        let b = map(&[("T", "b")]);
        let v1 = vec![("T".to_string(), arn("T", 1))];
        assert_eq!(plan_versions(&v1, &a, &b), vec![("T".to_string(), 2)]);
        let v2 = vec![("T".to_string(), arn("T", 2))];
        assert_eq!(plan_versions(&v2, &b, &a), vec![("T".to_string(), 3)]);
    }
}
