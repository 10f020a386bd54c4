//! serde bridge: typed Rust inputs and outputs from and to property maps.
//!
//! Decoding reads the values themselves (see [`super::de`] for the rules): secrets as their
//! plaintext unless a field asks ([`super::MaybeSecret`]), unknowns as `None` or
//! [`super::Computed::Unknown`]; secretness is put back on outputs by path (see
//! [`super::propagate_secrets`]).

use super::{PropertyMap, PropertyPath, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a property map did not decode into a type.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// Where decoding failed, as a property path (`ports[0].target`).
    pub path: String,
    /// What went wrong, never containing a secret's plaintext.
    pub message: String,
}

/// Decodes a property map into `T`.
pub fn from_properties<T: DeserializeOwned>(props: &PropertyMap) -> Result<T, DecodeError> {
    let properties = super::de::PropertiesDeserializer(props);
    // Where it failed is only needed when it fails: the common case decodes without tracking
    // the path, and only a failure is decoded again with it.
    if let Ok(decoded) = T::deserialize(super::de::PropertiesDeserializer(props)) {
        return Ok(decoded);
    }
    serde_path_to_error::deserialize(properties).map_err(|err| {
        let path = json_path_to_property_path(err.path());
        let message = if path_touches_secret(props, &path) {
            "has the wrong type or shape (the value is secret, so it is not shown)".to_string()
        } else {
            err.inner().to_string()
        };
        DecodeError {
            path: path.to_string(),
            message,
        }
    })
}

/// Encodes `value` as a property map (straight into [`Value`]s, no JSON tree between); `value`
/// must serialize to a struct or a map with text keys, anything else gives an empty map.
pub fn to_properties<T: Serialize>(value: &T) -> PropertyMap {
    match super::ser::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => PropertyMap::new(),
    }
}

/// Plain JSON of a value: secrets unwrapped, unknowns as null, references as their id.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => number(*n),
        Value::String(s) => J::String(s.clone()),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Object(map) => J::Object(
            map.iter()
                .filter(|(_, v)| !v.is_unknown())
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Value::Secret(inner) => to_json(inner),
        Value::ResourceRef(r) => match r.id.as_deref() {
            Some(id) if !id.is_unknown() => to_json(id),
            _ => J::String(r.urn.clone()),
        },
        Value::Asset(map) | Value::Archive(map) => {
            J::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Value::Output(o) => o.value.as_deref().map(to_json).unwrap_or(J::Null),
    }
}

/// A value from JSON (the inverse of [`to_json`] for plain values). Pulumi's wire forms of a
/// secret (the signature object) and of an unknown (its sentinel string), which is how
/// [`super::MaybeSecret`] and [`super::Computed`] serialize, read as [`Value::Secret`] and
/// [`Value::Unknown`].
pub fn from_json(v: serde_json::Value) -> Value {
    use super::proto::{SIG_KEY, SIG_SECRET, UNKNOWN_STRING};
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) if s == UNKNOWN_STRING => Value::Unknown,
        J::String(s) => Value::String(s),
        J::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        J::Object(mut map)
            if map.len() == 2 && map.get(SIG_KEY).and_then(J::as_str) == Some(SIG_SECRET) =>
        {
            from_json(map.remove("value").unwrap_or(J::Null)).into_secret()
        }
        J::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

/// Whole numbers become JSON integers so that they decode into integer fields.
fn number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

fn json_path_to_property_path(path: &serde_path_to_error::Path) -> PropertyPath {
    use serde_path_to_error::Segment;
    let mut out = PropertyPath::root();
    for seg in path.iter() {
        out = match seg {
            Segment::Seq { index } => out.index(*index),
            Segment::Map { key } | Segment::Enum { variant: key } => out.key(key),
            Segment::Unknown => out,
        };
    }
    out
}

fn path_touches_secret(props: &PropertyMap, path: &PropertyPath) -> bool {
    use super::path::Segment;
    let mut current: Option<&Value> = None;
    for (i, seg) in path.segments().iter().enumerate() {
        let next = match (i, seg, current) {
            (0, Segment::Key(k), _) => props.get(k),
            (_, Segment::Key(k), Some(Value::Object(m))) => m.get(k),
            (_, Segment::Index(n), Some(Value::Array(a))) => a.get(*n),
            (_, _, Some(Value::Secret(_))) => return true,
            _ => None,
        };
        match next {
            Some(v) if v.is_secret() => return true,
            Some(v) => current = Some(v),
            None => return false,
        }
    }
    current.is_some_and(Value::contains_secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Port {
        target: u16,
        app_protocol: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    struct Inputs {
        image: Option<String>,
        ports: Vec<Port>,
        environment: std::collections::BTreeMap<String, String>,
    }

    fn props(pairs: Vec<(&str, Value)>) -> PropertyMap {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn decodes_with_secrets_unwrapped_and_unknowns_dropped() {
        let p = props(vec![
            ("image", Value::Unknown),
            (
                "ports",
                Value::Array(vec![Value::Object(props(vec![(
                    "target",
                    Value::Number(80.0),
                )]))]),
            ),
            (
                "environment",
                Value::Object(props(vec![(
                    "PASSWORD",
                    Value::from("s3cret").into_secret(),
                )])),
            ),
        ]);
        let inputs: Inputs = from_properties(&p).unwrap();
        assert_eq!(inputs.image, None);
        assert_eq!(inputs.ports[0].target, 80);
        assert_eq!(inputs.environment["PASSWORD"], "s3cret");
    }

    #[test]
    fn errors_name_the_property() {
        let p = props(vec![
            (
                "ports",
                Value::Array(vec![Value::Object(props(vec![(
                    "target",
                    Value::from("eighty"),
                )]))]),
            ),
            ("environment", Value::Object(PropertyMap::new())),
        ]);
        let err = from_properties::<Inputs>(&p).unwrap_err();
        assert_eq!(err.path, "ports[0].target");
        assert!(err.message.contains("eighty"), "{}", err.message);
    }

    #[test]
    fn errors_never_show_secret_values() {
        let p = props(vec![
            ("ports", Value::Array(vec![])),
            (
                "environment",
                Value::Object(props(vec![(
                    "PASSWORD",
                    Value::Number(12345.0).into_secret(),
                )])),
            ),
        ]);
        let err = from_properties::<Inputs>(&p).unwrap_err();
        assert_eq!(err.path, "environment.PASSWORD");
        assert!(!err.to_string().contains("12345"), "{err}");
    }

    #[test]
    fn encodes_structs() {
        let p = to_properties(&Port {
            target: 8080,
            app_protocol: Some("http".into()),
        });
        assert_eq!(p["target"], Value::Number(8080.0));
        assert_eq!(p["appProtocol"], Value::from("http"));
    }
}
