//! The Pulumi property-value model: what travels inside `google.protobuf.Struct` once the
//! signature-keyed special objects (secrets, unknowns, resource references, assets, archives,
//! output values) are decoded.

mod json;
mod path;
mod proto;
mod secrets;

pub use json::{DecodeError, from_json, from_properties, to_json, to_properties};
pub use path::PropertyPath;
pub use proto::{properties_from_struct, properties_to_struct};
pub use secrets::propagate_secrets;

use std::collections::BTreeMap;
use std::fmt;

/// Properties of a resource: top-level keys are the schema's property names.
pub type PropertyMap = BTreeMap<String, Value>;

/// A property value as the engine sends and receives it.
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(PropertyMap),
    /// A value whose plaintext must never be shown; it stays wrapped through state.
    Secret(Box<Value>),
    /// A value not known yet (only during preview).
    Unknown,
    ResourceRef(ResourceRef),
    /// Assets and archives are passed through untouched: the signature object as it came.
    Asset(PropertyMap),
    Archive(PropertyMap),
    /// An output value (used by Construct/Call); kept whole.
    Output(OutputValue),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct ResourceRef {
    pub urn: String,
    pub id: Option<Box<Value>>,
    pub package_version: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct OutputValue {
    pub value: Option<Box<Value>>,
    pub secret: bool,
    pub dependencies: Vec<String>,
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// Wraps `self` as a secret unless it already is one.
    pub fn into_secret(self) -> Value {
        match self {
            Value::Secret(_) => self,
            other => Value::Secret(Box::new(other)),
        }
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }

    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Secret(inner) => inner.is_unknown(),
            Value::Output(o) => o.value.is_none(),
            _ => false,
        }
    }

    /// True when this value or anything inside it is unknown.
    pub fn contains_unknowns(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::Secret(v) => v.contains_unknowns(),
            Value::Array(items) => items.iter().any(Value::contains_unknowns),
            Value::Object(map) => map.values().any(Value::contains_unknowns),
            Value::Output(o) => o.value.as_ref().is_none_or(|v| v.contains_unknowns()),
            _ => false,
        }
    }

    /// True when this value or anything inside it is secret.
    pub fn contains_secrets(&self) -> bool {
        match self {
            Value::Secret(_) => true,
            Value::Array(items) => items.iter().any(Value::contains_secrets),
            Value::Object(map) => map.values().any(Value::contains_secrets),
            Value::Output(o) => o.secret || o.value.as_ref().is_some_and(|v| v.contains_secrets()),
            _ => false,
        }
    }

    /// The value with every secret wrapper removed (for comparisons, never for display).
    pub fn unwrap_secrets(&self) -> Value {
        match self {
            Value::Secret(v) => v.unwrap_secrets(),
            Value::Array(items) => Value::Array(items.iter().map(Value::unwrap_secrets).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.unwrap_secrets()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Secret(v) => v.as_str(),
            _ => None,
        }
    }

    /// Paths of every unknown inside this value, relative to `base`.
    pub fn unknown_paths(&self, base: &PropertyPath, out: &mut Vec<PropertyPath>) {
        match self {
            Value::Unknown => out.push(base.clone()),
            Value::Secret(v) => v.unknown_paths(base, out),
            Value::Output(o) => match &o.value {
                None => out.push(base.clone()),
                Some(v) => v.unknown_paths(base, out),
            },
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    v.unknown_paths(&base.index(i), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    v.unknown_paths(&base.key(k), out);
                }
            }
            _ => {}
        }
    }
}

/// Paths of every unknown in a property map.
pub fn unknown_paths(props: &PropertyMap) -> Vec<PropertyPath> {
    let mut out = Vec::new();
    for (k, v) in props {
        v.unknown_paths(&PropertyPath::root().key(k), &mut out);
    }
    out
}

/// Debug output never shows a secret's plaintext, so values can be traced safely.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Array(items) => f.debug_list().entries(items).finish(),
            Value::Object(map) => f.debug_map().entries(map).finish(),
            Value::Secret(_) => write!(f, "[secret]"),
            Value::Unknown => write!(f, "[unknown]"),
            Value::ResourceRef(r) => write!(f, "ref({})", r.urn),
            Value::Asset(_) => write!(f, "[asset]"),
            Value::Archive(_) => write!(f, "[archive]"),
            Value::Output(o) => {
                if o.secret {
                    write!(f, "output([secret])")
                } else {
                    write!(f, "output({:?})", o.value)
                }
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
