//! Secret environment values: an `environment` entry whose value is a Pulumi secret (or every
//! entry, when the whole map is secret) is stored in SSM Parameter Store as a SecureString
//! named `/defang/<project>/<service>/<VAR>`, and the container references it by ARN
//! (`secrets: [{name, valueFrom}]`); ECS reads it with the project's task execution role when
//! a task starts. The value is never in the task definition, a log or an error message.

use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeMap;

/// `/defang/<project>/<service>/`: every parameter of the service (deleted with it).
pub fn parameter_prefix(project: &str, service: &str) -> String {
    format!("/defang/{project}/{service}/")
}

/// `/defang/<project>/<service>/<VAR>`.
pub fn parameter_name(project: &str, service: &str, var: &str) -> String {
    format!("{}{var}", parameter_prefix(project, service))
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

/// True when the secret values changed between the old and new inputs (same names, another
/// value, or secrets added or removed): tasks read them only when they start.
pub fn secrets_changed(old_inputs: &PropertyMap, new_inputs: &PropertyMap) -> bool {
    secret_environment(old_inputs) != secret_environment(new_inputs)
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
        assert!(!secrets_changed(&with("a"), &with("a")));
        assert!(secrets_changed(&with("a"), &with("b")));
        assert_eq!(
            parameter_name("shop", "web", "T"),
            "/defang/shop/web/T".to_string()
        );
    }
}
