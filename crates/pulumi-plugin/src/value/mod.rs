//! The Pulumi property-value model: what travels inside `google.protobuf.Struct` once the
//! signature-keyed special objects (secrets, unknowns, resource references, assets, archives,
//! output values) are decoded.

mod de;
mod json;
mod path;
mod proto;
mod secrets;
mod ser;
pub(crate) mod wire;

pub use de::{Computed, MaybeSecret};
pub use json::{DecodeError, from_json, from_properties, to_json, to_properties};
pub use path::{PropertyPath, Segment};
pub use proto::{into_properties, into_struct, properties_from_struct, properties_to_struct};
pub use secrets::{propagate_secrets, secrets_only};

use std::collections::BTreeMap;
use std::fmt;

/// Properties of a resource: top-level keys are the schema's property names.
///
/// # Example
///
/// Typed code sees a property map through serde ([`from_properties`], [`to_properties`]):
/// secrets unwrapped, and a failure at its property path.
///
/// ```rust
/// use pulumi_plugin::value::{from_properties, to_properties};
/// use pulumi_plugin::{PropertyMap, Value};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Deserialize, Serialize)]
/// struct Service {
///     image: String,
///     ports: Vec<u16>,
/// }
///
/// let port = |p: Value| Value::Array(vec![p]);
/// let mut props = PropertyMap::from([
///     ("image".into(), Value::from("nginx").into_secret()),
///     ("ports".into(), port(Value::from(80i64))),
/// ]);
/// let service: Service = from_properties(&props).unwrap();
/// assert_eq!((service.image.as_str(), service.ports[0]), ("nginx", 80));
/// assert_eq!(to_properties(&service)["image"], Value::from("nginx"), "secretness is by path");
///
/// props.insert("ports".into(), port(Value::from("eighty")));
/// let err = from_properties::<Service>(&props).unwrap_err();
/// assert_eq!(err.path, "ports[0]");
/// ```
pub type PropertyMap = BTreeMap<String, Value>;

/// A property value as the engine sends and receives it.
///
/// # Example
///
/// ```rust
/// use pulumi_plugin::value::unknown_paths;
/// use pulumi_plugin::{PropertyMap, PropertyPath, Value};
///
/// let key = Value::from("hunter2").into_secret();
/// assert_eq!(key.clone().into_secret(), key, "wrapped once");
/// assert_eq!(key.as_str(), Some("hunter2"), "code reads the plaintext");
/// assert_eq!(format!("{key:?}"), "[secret]", "traces do not");
///
/// let environment = Value::Object(PropertyMap::from([
///     ("MODE".into(), Value::from("prod")),
///     ("API_KEY".into(), key),
/// ]));
/// assert!(environment.contains_secrets() && !environment.is_secret());
/// assert!(!environment.unwrap_secrets().contains_secrets());
///
/// // In a preview, an input computed from another resource is not known yet.
/// let inputs = PropertyMap::from([
///     ("image".into(), Value::Unknown),
///     ("environment".into(), environment),
/// ]);
/// assert!(inputs.values().any(Value::contains_unknowns));
/// assert_eq!(unknown_paths(&inputs), [PropertyPath::root().key("image")]);
/// ```
#[derive(Clone, PartialEq)]
pub enum Value {
    /// Absent: an object's `null` property counts as not set.
    Null,
    /// A boolean: inside a secret, shown in messages all the same (see [`crate::mask`]).
    Bool(bool),
    /// Every number (the wire has only doubles); whole numbers decode into integer fields.
    Number(f64),
    /// A string (the engine's unknown sentinels decode as [`Value::Unknown`] instead).
    String(String),
    /// A list; each item may be secret or unknown on its own.
    Array(Vec<Value>),
    /// A map or an object (the wire does not tell them apart), by key.
    Object(PropertyMap),
    /// A value whose plaintext must never be shown; it stays wrapped through state.
    Secret(Box<Value>),
    /// A value not known yet (only during preview).
    Unknown,
    /// A reference to another resource (a resource passed as an input).
    ResourceRef(ResourceRef),
    /// Assets and archives are passed through untouched: the signature object as it came.
    Asset(PropertyMap),
    /// An archive, kept like an [`Value::Asset`].
    Archive(PropertyMap),
    /// An output value (used by Construct/Call); kept whole.
    Output(OutputValue),
}

/// A resource passed by reference.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ResourceRef {
    /// The referenced resource's URN.
    pub urn: String,
    /// Its id (unknown in a preview of its creation); `None` for a component.
    pub id: Option<Box<Value>>,
    /// The version of the package that serves it; empty when not given.
    pub package_version: String,
}

/// A value with its secretness and the resources it came from, as Construct sends inputs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OutputValue {
    /// The value; `None`: not known yet.
    pub value: Option<Box<Value>>,
    /// The value is secret (known or not).
    pub secret: bool,
    /// URNs of the resources the value comes from.
    pub dependencies: Vec<String>,
}

impl Value {
    /// A string value.
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

    /// Makes `self` a secret in place, unless it already is one.
    pub fn make_secret(&mut self) {
        if !self.is_secret() {
            let plain = std::mem::replace(self, Value::Null);
            *self = plain.into_secret();
        }
    }

    /// Whether `self` is itself a secret (see [`Value::contains_secrets`] for one inside).
    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }

    /// Whether `self` as a whole is not known yet (a secret or output of an unknown too); see
    /// [`Value::contains_unknowns`] for one inside.
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

    /// The text of a string, secret or not; `None` for anything else.
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
