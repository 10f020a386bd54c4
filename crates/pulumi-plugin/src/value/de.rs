//! Typed code reads property maps through serde, directly over [`Value`]s (no JSON in between),
//! and may ask what plain serde cannot tell: whether a value was secret ([`MaybeSecret`]) and
//! whether it is known yet ([`Computed`]).
//!
//! The rules, for every type:
//! - a secret reads as its plaintext (a `String` field takes a secret string);
//! - `null` reads as absent: `None`, or the field's `#[serde(default)]`;
//! - an unknown value (preview) reads as `None` for an `Option`, as [`Computed::Unknown`], and
//!   is an error ("not known yet") for anything else;
//! - a resource reference reads as its id (its URN for a component, or while its id is
//!   unknown); an output value as its value; assets and archives as their objects;
//! - whole numbers read into integer fields; others only into floats.
//!
//! [`MaybeSecret`] and [`Computed`] work with other deserializers too (serde_json, say): there
//! nothing is secret and everything is known. They serialize as Pulumi's wire form of a secret
//! and of an unknown, which [`super::to_properties`] reads back as [`Value::Secret`] and
//! [`Value::Unknown`]: typed outputs keep both.

use super::{PropertyMap, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// How a [`MaybeSecret`] asks this deserializer for the value's secretness.
const SECRET_MARKER: &str = "$pulumi_plugin::MaybeSecret";
/// How a [`Computed`] asks whether the value is known.
const COMPUTED_MARKER: &str = "$pulumi_plugin::Computed";

/// A value with whether it was a secret, for code that must treat secrets differently (store
/// them in a secret store, keep them out of a plan) rather than only pass them through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaybeSecret<T> {
    /// The plaintext.
    pub value: T,
    /// Whether the program gave it as a secret.
    pub secret: bool,
}

/// A value that may not be known yet: during a preview, an input computed from a resource that
/// does not exist yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Computed<T> {
    /// The value.
    Known(T),
    /// Not known until the resource it comes from exists.
    Unknown,
}

/// Absent: the type's default, known. An optional property that may be unknown is a
/// `#[serde(default)] Computed<Option<T>>` (an unknown `Option<Computed<T>>` reads as `None`,
/// like every unknown `Option`).
impl<T: Default> Default for Computed<T> {
    fn default() -> Self {
        Computed::Known(T::default())
    }
}

impl<T> Computed<T> {
    /// The value when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Computed::Known(value) => Some(value),
            Computed::Unknown => None,
        }
    }
}

/// Both markers have the schema of what they hold: secretness and unknowns are not part of a
/// property's type.
macro_rules! schema_of_the_value {
    ($marker:ident) => {
        impl<T: schemars::JsonSchema> schemars::JsonSchema for $marker<T> {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                T::schema_name()
            }
            fn schema_id() -> std::borrow::Cow<'static, str> {
                T::schema_id()
            }
            fn inline_schema() -> bool {
                T::inline_schema()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                T::json_schema(generator)
            }
        }
    };
}
schema_of_the_value!(MaybeSecret);
schema_of_the_value!(Computed);

/// Encoded as Pulumi's wire form when secret (the signature object), so that
/// [`super::to_properties`] makes it a [`Value::Secret`]; as the plain value otherwise.
impl<T: serde::Serialize> serde::Serialize for MaybeSecret<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if !self.secret {
            return self.value.serialize(serializer);
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(super::proto::SIG_KEY, super::proto::SIG_SECRET)?;
        map.serialize_entry("value", &self.value)?;
        map.end()
    }
}

/// Encoded as Pulumi's wire form of an unknown when unknown (its sentinel string), so that
/// [`super::to_properties`] makes it a [`Value::Unknown`]; as the value otherwise.
impl<T: serde::Serialize> serde::Serialize for Computed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Computed::Known(value) => value.serialize(serializer),
            Computed::Unknown => serializer.serialize_str(super::proto::UNKNOWN_STRING),
        }
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for MaybeSecret<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for SecretVisitor<T> {
            type Value = MaybeSecret<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            // Any other deserializer: nothing is secret.
            fn visit_newtype_struct<D: de::Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                Ok(MaybeSecret {
                    value: T::deserialize(deserializer)?,
                    secret: false,
                })
            }
            // This one: (secret, value).
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let secret = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("secretness"))?;
                let value = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("value"))?;
                Ok(MaybeSecret { value, secret })
            }
        }
        deserializer
            .deserialize_newtype_struct(SECRET_MARKER, SecretVisitor(std::marker::PhantomData))
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Computed<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ComputedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for ComputedVisitor<T> {
            type Value = Computed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_newtype_struct<D: de::Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                T::deserialize(deserializer).map(Computed::Known)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Computed::Unknown)
            }
        }
        deserializer
            .deserialize_newtype_struct(COMPUTED_MARKER, ComputedVisitor(std::marker::PhantomData))
    }
}

/// A decoding or encoding error (a decoding error's path is added by the caller, see
/// [`super::from_properties`]).
#[derive(Debug)]
pub(crate) struct SerdeError(pub(crate) String);

impl fmt::Display for SerdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerdeError {}

impl de::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

impl serde::ser::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

/// A property map as a serde deserializer (an object).
pub(crate) struct PropertiesDeserializer<'a>(pub(crate) &'a PropertyMap);

/// One value as a serde deserializer. `secret` says whether it sits inside a secret.
#[derive(Clone, Copy)]
struct ValueDeserializer<'a> {
    value: &'a Value,
    secret: bool,
}

impl<'a> ValueDeserializer<'a> {
    fn new(value: &'a Value, secret: bool) -> Self {
        ValueDeserializer { value, secret }
    }

    /// The value under secrets, output values and resource references, and whether a secret
    /// was on the way.
    fn plain(self) -> (Plain<'a>, bool) {
        let mut value = self.value;
        let mut secret = self.secret;
        loop {
            match value {
                Value::Secret(inner) => {
                    secret = true;
                    value = inner;
                }
                Value::Output(output) => {
                    secret |= output.secret;
                    match output.value.as_deref() {
                        Some(inner) => value = inner,
                        None => return (Plain::Unknown, secret),
                    }
                }
                Value::ResourceRef(r) => match r.id.as_deref() {
                    Some(id) if !id.is_unknown() => value = id,
                    _ => return (Plain::Urn(&r.urn), secret),
                },
                Value::Unknown => return (Plain::Unknown, secret),
                other => return (Plain::Value(other), secret),
            }
        }
    }
}

enum Plain<'a> {
    Value(&'a Value),
    Urn(&'a str),
    Unknown,
}

fn not_known_yet() -> SerdeError {
    SerdeError("is not known yet (it comes from a resource that does not exist yet)".into())
}

impl<'de> de::Deserializer<'de> for PropertiesDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_map(Entries::new(self.0, false))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        let (plain, secret) = self.plain();
        let value = match plain {
            Plain::Value(value) => value,
            Plain::Urn(urn) => return visitor.visit_borrowed_str(urn),
            Plain::Unknown => return Err(not_known_yet()),
        };
        match value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => visit_number(*n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Items {
                items: items.iter(),
                secret,
            }),
            Value::Object(map) | Value::Asset(map) | Value::Archive(map) => {
                visitor.visit_map(Entries::new(map, secret))
            }
            Value::Secret(_) | Value::Unknown | Value::ResourceRef(_) | Value::Output(_) => {
                unreachable!("plain() looks through these")
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.plain().0 {
            Plain::Unknown | Plain::Value(Value::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match name {
            SECRET_MARKER => {
                let secret = self.plain().1;
                visitor.visit_seq(SecretAndValue {
                    secret: Some(secret),
                    value: Some(self),
                })
            }
            COMPUTED_MARKER => match self.plain().0 {
                Plain::Unknown => visitor.visit_unit(),
                _ => visitor.visit_newtype_struct(self),
            },
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let _ = (name, variants);
        let (plain, secret) = self.plain();
        match plain {
            Plain::Value(Value::String(s)) => {
                visitor
                    .visit_enum(s.as_str().into_deserializer()
                        as de::value::StrDeserializer<'_, SerdeError>)
            }
            Plain::Urn(urn) => visitor
                .visit_enum(urn.into_deserializer() as de::value::StrDeserializer<'_, SerdeError>),
            Plain::Value(Value::Object(map)) if map.len() == 1 => {
                let (variant, value) = map.iter().next().expect("one entry");
                visitor.visit_enum(Variant {
                    variant,
                    value: ValueDeserializer::new(value, secret),
                })
            }
            Plain::Unknown => Err(not_known_yet()),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Whole numbers as integers (so that they read into integer fields), others as floats.
fn visit_number<'de, V: Visitor<'de>>(n: f64, visitor: V) -> Result<V::Value, SerdeError> {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        if n >= 0.0 {
            visitor.visit_u64(n as u64)
        } else {
            visitor.visit_i64(n as i64)
        }
    } else {
        visitor.visit_f64(n)
    }
}

struct Items<'a> {
    items: std::slice::Iter<'a, Value>,
    secret: bool,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = SerdeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(ValueDeserializer::new(item, self.secret))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// An object's entries; `null` ones are left out (absent).
struct Entries<'a> {
    entries: std::collections::btree_map::Iter<'a, String, Value>,
    pending: Option<&'a Value>,
    secret: bool,
}

impl<'a> Entries<'a> {
    fn new(map: &'a PropertyMap, secret: bool) -> Self {
        Entries {
            entries: map.iter(),
            pending: None,
            secret,
        }
    }
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = SerdeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        for (key, value) in self.entries.by_ref() {
            if *value == Value::Null {
                continue;
            }
            self.pending = Some(value);
            return seed
                .deserialize(
                    key.as_str().into_deserializer() as de::value::StrDeserializer<'_, SerdeError>
                )
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SerdeError> {
        let value = self
            .pending
            .take()
            .ok_or_else(|| SerdeError("a value without its key".into()))?;
        seed.deserialize(ValueDeserializer::new(value, self.secret))
    }
}

/// What a [`MaybeSecret`] reads from this deserializer: its secretness, then its value.
struct SecretAndValue<'a> {
    secret: Option<bool>,
    value: Option<ValueDeserializer<'a>>,
}

impl<'de> SeqAccess<'de> for SecretAndValue<'de> {
    type Error = SerdeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        if let Some(secret) = self.secret.take() {
            return seed.deserialize(secret.into_deserializer()).map(Some);
        }
        match self.value.take() {
            Some(value) => seed.deserialize(value).map(Some),
            None => Ok(None),
        }
    }
}

/// An externally tagged enum variant: `{variant: value}`.
struct Variant<'a> {
    variant: &'a str,
    value: ValueDeserializer<'a>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = SerdeError;
    type Variant = ValueDeserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), SerdeError> {
        let variant = seed.deserialize(
            self.variant.into_deserializer() as de::value::StrDeserializer<'_, SerdeError>
        )?;
        Ok((variant, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for ValueDeserializer<'de> {
    type Error = SerdeError;

    fn unit_variant(self) -> Result<(), SerdeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{OutputValue, ResourceRef, from_properties};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Inputs {
        project: Computed<String>,
        #[serde(default)]
        image: Computed<Option<String>>,
        #[serde(default)]
        environment: BTreeMap<String, MaybeSecret<String>>,
        #[serde(default)]
        replicas: Option<u32>,
        #[serde(default)]
        cpus: Option<f64>,
        #[serde(default)]
        mode: Option<Mode>,
        #[serde(default)]
        ports: Vec<u16>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Ingress,
        Host,
    }

    fn map(entries: Vec<(&str, Value)>) -> PropertyMap {
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn secrets_are_told_apart_where_a_field_asks() {
        let props = map(vec![
            ("project", Value::from("shop")),
            (
                "environment",
                Value::Object(map(vec![
                    ("MODE", Value::from("prod")),
                    ("TOKEN", Value::from("s3cret").into_secret()),
                ])),
            ),
        ]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert_eq!(
            inputs.environment["MODE"],
            MaybeSecret {
                value: "prod".into(),
                secret: false
            }
        );
        assert_eq!(
            inputs.environment["TOKEN"],
            MaybeSecret {
                value: "s3cret".into(),
                secret: true
            }
        );
        // A secret object makes everything in it secret.
        let props = map(vec![
            ("project", Value::from("shop")),
            (
                "environment",
                Value::Object(map(vec![("A", Value::from("1"))])).into_secret(),
            ),
        ]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert!(inputs.environment["A"].secret);
    }

    #[test]
    fn unknowns_are_told_apart_from_absent() {
        let props = map(vec![("project", Value::Unknown), ("image", Value::Unknown)]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert_eq!(inputs.project, Computed::Unknown);
        assert_eq!(inputs.image, Computed::Unknown);
        let props = map(vec![("project", Value::from("shop"))]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert_eq!(inputs.project.known().map(String::as_str), Some("shop"));
        assert_eq!(inputs.image, Computed::Known(None), "absent is not unknown");
        // A field that cannot say "unknown" says why it failed, at its path.
        let props = map(vec![
            ("project", Value::from("shop")),
            ("ports", Value::Array(vec![Value::Unknown])),
        ]);
        let err = from_properties::<Inputs>(&props).unwrap_err();
        assert_eq!(err.path, "ports[0]");
        assert!(err.message.contains("not known yet"), "{}", err.message);
        // An unknown Option is None.
        let props = map(vec![
            ("project", Value::from("shop")),
            ("replicas", Value::Unknown),
        ]);
        assert_eq!(from_properties::<Inputs>(&props).unwrap().replicas, None);
    }

    #[test]
    fn numbers_enums_nulls_and_references_read_as_their_json_would() {
        let props = map(vec![
            ("project", Value::from("shop")),
            ("replicas", Value::Number(3.0)),
            ("cpus", Value::Number(2.0)),
            ("mode", Value::from("host")),
            ("image", Value::Null),
            ("ports", Value::Array(vec![Value::Number(80.0)])),
        ]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert_eq!(
            (inputs.replicas, inputs.cpus, inputs.mode, inputs.image),
            (Some(3), Some(2.0), Some(Mode::Host), Computed::Known(None))
        );
        let err = from_properties::<Inputs>(&map(vec![
            ("project", Value::from("shop")),
            ("replicas", Value::Number(1.5)),
        ]))
        .unwrap_err();
        assert_eq!(err.path, "replicas");
        let err = from_properties::<Inputs>(&map(vec![
            ("project", Value::from("shop")),
            ("mode", Value::from("public")),
        ]))
        .unwrap_err();
        assert_eq!(err.path, "mode");
        assert!(err.message.contains("ingress"), "{}", err.message);
        // A resource reference reads as its id; an output value as its value, secret or not.
        let props = map(vec![
            (
                "project",
                Value::ResourceRef(ResourceRef {
                    urn: "urn:pulumi:dev::p::defang:index:Project::shop".into(),
                    id: Some(Box::new(Value::from("defang-shop"))),
                    package_version: String::new(),
                }),
            ),
            (
                "environment",
                Value::Object(map(vec![(
                    "K",
                    Value::Output(OutputValue {
                        value: Some(Box::new(Value::from("v"))),
                        secret: true,
                        dependencies: Vec::new(),
                    }),
                )])),
            ),
        ]);
        let inputs: Inputs = from_properties(&props).unwrap();
        assert_eq!(inputs.project, Computed::Known("defang-shop".into()));
        assert!(inputs.environment["K"].secret);
    }

    #[test]
    fn the_markers_read_plain_json_as_known_and_not_secret() {
        let inputs: Inputs =
            serde_json::from_str(r#"{"project": "shop", "environment": {"A": "1"}}"#).unwrap();
        assert_eq!(inputs.project, Computed::Known("shop".into()));
        assert!(!inputs.environment["A"].secret);
    }
}

#[cfg(test)]
mod serialize_tests {
    use super::*;
    use crate::value::{from_properties, to_properties};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Outputs {
        token: MaybeSecret<String>,
        plain: MaybeSecret<String>,
        domain: Computed<String>,
        #[serde(default)]
        endpoints: Computed<Vec<String>>,
    }

    /// Typed outputs keep secrets and unknowns, and read back as they were.
    #[test]
    fn markers_survive_a_round_trip_through_a_property_map() {
        let outputs = Outputs {
            token: MaybeSecret {
                value: "s3cret".into(),
                secret: true,
            },
            plain: MaybeSecret {
                value: "p".into(),
                secret: false,
            },
            domain: Computed::Unknown,
            endpoints: Computed::Known(vec!["https://a".into()]),
        };
        let props = to_properties(&outputs);
        assert_eq!(props["token"], Value::from("s3cret").into_secret());
        assert_eq!(props["plain"], Value::from("p"));
        assert_eq!(props["domain"], Value::Unknown);
        assert_eq!(
            props["endpoints"],
            Value::Array(vec![Value::from("https://a")])
        );
        assert_eq!(from_properties::<Outputs>(&props).unwrap(), outputs);
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// A marker adds nothing to the schema: the property's type is what it holds.
    #[test]
    fn markers_have_the_schema_of_their_value() {
        let of = |s: schemars::Schema| s.to_value();
        assert_eq!(
            of(schemars::schema_for!(MaybeSecret<Vec<u16>>)),
            of(schemars::schema_for!(Vec<u16>))
        );
        assert_eq!(
            of(schemars::schema_for!(Computed<Option<String>>)),
            of(schemars::schema_for!(Option<String>))
        );
    }
}
