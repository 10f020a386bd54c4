//! Wire encoding: `google.protobuf.Struct` ⇄ [`PropertyMap`], decoding the signature-keyed
//! special objects and the unknown sentinels.

use super::{OutputValue, PropertyMap, ResourceRef, Value};
use prost_types::value::Kind;

/// Key that marks a special object; its value says which.
pub(crate) const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
pub(crate) const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
pub(crate) const SIG_RESOURCE_REF: &str = "5cf8f73096256a8f31e491e813e4eb8e";
pub(crate) const SIG_ASSET: &str = "c44067f5952c0a294b673a41bacd8c17";
pub(crate) const SIG_ARCHIVE: &str = "0def7320c3a5731c473e5ecbe6d01bc7";
pub(crate) const SIG_OUTPUT: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/// The engine's unknown sentinels, one per type; any of them means "unknown".
pub(crate) const UNKNOWN_STRING: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
pub(crate) const UNKNOWN_SENTINELS: [&str; 7] = [
    UNKNOWN_STRING,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
];

/// Decodes a request's property struct; `None` (a field the request left out) is empty.
pub fn properties_from_struct(s: Option<&prost_types::Struct>) -> PropertyMap {
    s.cloned().map(into_properties).unwrap_or_default()
}

/// Encodes a property map for a reply, secrets and unknowns in the engine's wire form.
pub fn properties_to_struct(props: &PropertyMap) -> prost_types::Struct {
    into_struct(props.clone())
}

/// [`properties_from_struct`], taking the struct: its strings move instead of being copied
/// (what a request's handler does, every RPC).
pub fn into_properties(s: prost_types::Struct) -> PropertyMap {
    s.fields
        .into_iter()
        .map(|(k, v)| (k, value_from_proto(v)))
        .collect()
}

/// [`properties_to_struct`], taking the map: its strings move instead of being copied (what a
/// reply does, every RPC).
pub fn into_struct(props: PropertyMap) -> prost_types::Struct {
    prost_types::Struct {
        fields: props
            .into_iter()
            .map(|(k, v)| (k, value_to_proto(v)))
            .collect(),
    }
}

pub(crate) fn value_from_proto(v: prost_types::Value) -> Value {
    match v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(b),
        Some(Kind::NumberValue(n)) => Value::Number(n),
        Some(Kind::StringValue(s)) if UNKNOWN_SENTINELS.contains(&s.as_str()) => Value::Unknown,
        Some(Kind::StringValue(s)) => Value::String(s),
        Some(Kind::ListValue(l)) => {
            Value::Array(l.values.into_iter().map(value_from_proto).collect())
        }
        Some(Kind::StructValue(s)) => special_from_map(into_properties(s)),
    }
}

/// An object as it came off the wire: a special value when it carries a known signature.
pub(crate) fn special_from_map(mut fields: PropertyMap) -> Value {
    let sig = match fields.get(SIG_KEY) {
        Some(Value::String(sig)) => sig.clone(),
        _ => return Value::Object(fields),
    };
    let mut text = |key: &str| {
        fields
            .remove(key)
            .and_then(|v| v.as_str().map(str::to_string))
    };
    match sig.as_str() {
        SIG_SECRET => Value::Secret(Box::new(fields.remove("value").unwrap_or(Value::Null))),
        SIG_RESOURCE_REF => Value::ResourceRef(ResourceRef {
            urn: text("urn").unwrap_or_default(),
            package_version: text("packageVersion").unwrap_or_default(),
            id: fields.remove("id").map(Box::new),
        }),
        SIG_ASSET => Value::Asset(fields),
        SIG_ARCHIVE => Value::Archive(fields),
        SIG_OUTPUT => Value::Output(OutputValue {
            secret: matches!(fields.get("secret"), Some(Value::Bool(true))),
            dependencies: match fields.remove("dependencies") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            },
            value: fields.remove("value").map(Box::new),
        }),
        // An unknown signature: keep the object as it is.
        _ => Value::Object(fields),
    }
}

fn kind(k: Kind) -> prost_types::Value {
    prost_types::Value { kind: Some(k) }
}

fn string(s: impl Into<String>) -> prost_types::Value {
    kind(Kind::StringValue(s.into()))
}

/// A value as the wire carries it: special values become their signature objects. Arrays and
/// objects keep their items as values, lowered in turn where they are written.
pub(crate) enum Lowered {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Unknown,
    Array(Vec<Value>),
    Object(PropertyMap),
}

impl From<Lowered> for Value {
    fn from(v: Lowered) -> Value {
        match v {
            Lowered::Null => Value::Null,
            Lowered::Bool(b) => Value::Bool(b),
            Lowered::Number(n) => Value::Number(n),
            Lowered::String(s) => Value::String(s),
            Lowered::Unknown => Value::Unknown,
            Lowered::Array(items) => Value::Array(items),
            Lowered::Object(fields) => Value::Object(fields),
        }
    }
}

/// Whether the value travels as a signature object ([`lower`] lays it out).
pub(crate) fn is_special(v: &Value) -> bool {
    matches!(
        v,
        Value::Secret(_)
            | Value::ResourceRef(_)
            | Value::Asset(_)
            | Value::Archive(_)
            | Value::Output(_)
    )
}

/// How each value travels: the one place that lays out the special values' signature objects
/// (the inverse of [`special_from_map`]).
pub(crate) fn lower(v: Value) -> Lowered {
    let signed = |sig: &str, mut fields: PropertyMap| {
        fields.insert(SIG_KEY.to_string(), Value::String(sig.to_string()));
        Lowered::Object(fields)
    };
    match v {
        Value::Null => Lowered::Null,
        Value::Bool(b) => Lowered::Bool(b),
        Value::Number(n) => Lowered::Number(n),
        Value::String(s) => Lowered::String(s),
        Value::Unknown => Lowered::Unknown,
        Value::Array(items) => Lowered::Array(items),
        Value::Object(fields) => Lowered::Object(fields),
        Value::Secret(inner) => signed(
            SIG_SECRET,
            PropertyMap::from([("value".to_string(), *inner)]),
        ),
        Value::ResourceRef(r) => {
            let mut fields = PropertyMap::from([("urn".to_string(), Value::String(r.urn))]);
            if let Some(id) = r.id {
                fields.insert("id".to_string(), *id);
            }
            if !r.package_version.is_empty() {
                fields.insert(
                    "packageVersion".to_string(),
                    Value::String(r.package_version),
                );
            }
            signed(SIG_RESOURCE_REF, fields)
        }
        // Assets and archives kept their signature object as it came.
        Value::Asset(fields) | Value::Archive(fields) => Lowered::Object(fields),
        Value::Output(o) => {
            let mut fields = PropertyMap::new();
            if let Some(v) = o.value {
                fields.insert("value".to_string(), *v);
            }
            if o.secret {
                fields.insert("secret".to_string(), Value::Bool(true));
            }
            if !o.dependencies.is_empty() {
                fields.insert(
                    "dependencies".to_string(),
                    Value::Array(o.dependencies.into_iter().map(Value::String).collect()),
                );
            }
            signed(SIG_OUTPUT, fields)
        }
    }
}

pub(crate) fn value_to_proto(v: Value) -> prost_types::Value {
    match lower(v) {
        Lowered::Null => kind(Kind::NullValue(0)),
        Lowered::Bool(b) => kind(Kind::BoolValue(b)),
        Lowered::Number(n) => kind(Kind::NumberValue(n)),
        Lowered::String(s) => string(s),
        Lowered::Unknown => string(UNKNOWN_STRING),
        Lowered::Array(items) => kind(Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(value_to_proto).collect(),
        })),
        Lowered::Object(map) => kind(Kind::StructValue(into_struct(map))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, prost_types::Value)]) -> prost_types::Value {
        kind(Kind::StructValue(prost_types::Struct {
            fields: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }))
    }

    #[test]
    fn decodes_secrets_unknowns_and_refs() {
        let secret = obj(&[(SIG_KEY, string(SIG_SECRET)), ("value", string("hunter2"))]);
        assert_eq!(
            value_from_proto(secret),
            Value::Secret(Box::new(Value::from("hunter2")))
        );
        for s in UNKNOWN_SENTINELS {
            assert_eq!(value_from_proto(string(s)), Value::Unknown);
        }
        let r = obj(&[
            (SIG_KEY, string(SIG_RESOURCE_REF)),
            ("urn", string("urn:pulumi:dev::p::defang:index:Project::p")),
            ("id", string("defang-p")),
        ]);
        match value_from_proto(r) {
            Value::ResourceRef(r) => {
                assert!(r.urn.ends_with("::p"));
                assert_eq!(r.id.as_deref(), Some(&Value::from("defang-p")));
            }
            other => panic!("not a ref: {other:?}"),
        }
    }

    #[test]
    fn round_trips_every_kind() {
        let mut map = PropertyMap::new();
        map.insert("s".into(), Value::from("x"));
        map.insert("n".into(), Value::Number(3.0));
        map.insert("b".into(), Value::Bool(true));
        map.insert("z".into(), Value::Null);
        map.insert("u".into(), Value::Unknown);
        map.insert(
            "sec".into(),
            Value::Secret(Box::new(Value::Array(vec![Value::from("a")]))),
        );
        map.insert(
            "ref".into(),
            Value::ResourceRef(ResourceRef {
                urn: "urn:x".into(),
                id: Some(Box::new(Value::from("id"))),
                package_version: String::new(),
            }),
        );
        map.insert(
            "asset".into(),
            Value::Asset(PropertyMap::from([
                (SIG_KEY.to_string(), Value::from(SIG_ASSET)),
                ("text".to_string(), Value::from("hello")),
            ])),
        );
        map.insert(
            "out".into(),
            Value::Output(OutputValue {
                value: Some(Box::new(Value::from("v"))),
                secret: true,
                dependencies: vec!["urn:a".into()],
            }),
        );
        let back = properties_from_struct(Some(&properties_to_struct(&map)));
        assert_eq!(back, map);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let v = Value::Object(PropertyMap::from([(
            "password".to_string(),
            Value::Secret(Box::new(Value::from("hunter2"))),
        )]));
        assert!(!format!("{v:?}").contains("hunter2"));
    }
}
