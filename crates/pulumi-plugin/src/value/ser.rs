//! A serde serializer whose output is a [`Value`]: typed outputs become property maps without
//! building a `serde_json::Value` tree first (with `preserve_order`, every JSON object is an
//! index map whose keys are hashed, only to be taken apart again).
//!
//! The result is exactly what `from_json(serde_json::to_value(x))` gives, which is how
//! [`super::to_properties`] used to work (the tests below compare the two): every number a
//! double, non-finite floats `null`, Pulumi's wire form of a secret (its signature object) a
//! [`Value::Secret`] and the unknown sentinel string a [`Value::Unknown`] (which is how
//! [`super::MaybeSecret`] and [`super::Computed`] serialize), enums externally tagged, map keys
//! that are strings, characters, booleans or integers (as their text).

use super::proto::{SIG_KEY, SIG_SECRET, UNKNOWN_STRING};
use super::{PropertyMap, Value};
use serde::ser::{self, Impossible, Serialize};

/// Why a value could not become a [`Value`]: only a map key that is not text-like.
type Error = super::de::SerdeError;

/// Serializes `value` into a [`Value`].
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ValueSerializer)
}

fn string(s: String) -> Value {
    if s == UNKNOWN_STRING {
        Value::Unknown
    } else {
        Value::String(s)
    }
}

fn float(n: f64) -> Value {
    if n.is_finite() {
        Value::Number(n)
    } else {
        Value::Null
    }
}

/// An object, unless it is the signature object of a secret.
fn object(mut map: PropertyMap) -> Value {
    let is_secret =
        map.len() == 2 && matches!(map.get(SIG_KEY), Some(Value::String(sig)) if sig == SIG_SECRET);
    if is_secret {
        map.remove("value").unwrap_or(Value::Null).into_secret()
    } else {
        Value::Object(map)
    }
}

/// `{variant: value}`: serde's external tagging, as serde_json writes it.
fn tagged(variant: &str, value: Value) -> Value {
    Value::Object(PropertyMap::from([(variant.to_string(), value)]))
}

struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Items;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(Value::Number(v as f64))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        Ok(Value::Number(v as f64))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(Value::Number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(Value::Number(v as f64))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        Ok(Value::Number(v as f64))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        Ok(float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(string(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(Value::Array(
            v.iter().map(|b| Value::Number((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(string(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        Ok(tagged(variant, to_value(value)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items, Error> {
        Ok(Items {
            variant: None,
            items: Vec::with_capacity(len.unwrap_or(0)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Items, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items, Error> {
        Ok(Items {
            variant: Some(variant),
            items: Vec::with_capacity(len),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Fields, Error> {
        Ok(Fields::default())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Fields, Error> {
        Ok(Fields::default())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Fields, Error> {
        Ok(Fields {
            variant: Some(variant),
            ..Fields::default()
        })
    }
}

/// A sequence, tuple or tuple variant being built.
struct Items {
    variant: Option<&'static str>,
    items: Vec<Value>,
}

impl Items {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.items.push(to_value(value)?);
        Ok(())
    }
    fn finish(self) -> Value {
        let array = Value::Array(self.items);
        match self.variant {
            Some(variant) => tagged(variant, array),
            None => array,
        }
    }
}

/// serde has a trait for each kind of sequence; all of them build an [`Items`].
macro_rules! items_are {
    ($($trait:ident :: $element:ident),*) => {$(
        impl ser::$trait for Items {
            type Ok = Value;
            type Error = Error;
            fn $element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

items_are!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A map, struct or struct variant being built.
#[derive(Default)]
struct Fields {
    variant: Option<&'static str>,
    map: PropertyMap,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<String>,
}

impl Fields {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        self.map.insert(key, to_value(value)?);
        Ok(())
    }
    fn finish(self) -> Value {
        match self.variant {
            Some(variant) => tagged(variant, Value::Object(self.map)),
            None => object(self.map),
        }
    }
}

impl ser::SerializeMap for Fields {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| super::de::SerdeError("a map value without its key".into()))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(self.finish())
    }
}

/// A struct and a struct variant both build [`Fields`].
macro_rules! fields_are {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Fields {
            type Ok = Value;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.insert(key.to_string(), value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

fields_are!(SerializeStruct, SerializeStructVariant);

/// A map key: text, as serde_json accepts them.
struct KeySerializer;

fn key_must_be_text() -> Error {
    super::de::SerdeError("a map key must be a string, a character, a boolean or an integer".into())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_must_be_text())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_text())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_text())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_text())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_text())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_text())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_text())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Computed, MaybeSecret, from_json};
    use serde::Serialize;
    use std::collections::{BTreeMap, HashMap};

    /// What `to_properties` was before: serde_json's tree, then converted.
    fn through_json<T: Serialize>(value: &T) -> Value {
        from_json(serde_json::to_value(value).expect("serde_json serializes it"))
    }

    fn same_as_json<T: Serialize>(value: &T) -> Value {
        let direct = to_value(value).expect("serializes");
        assert_eq!(direct, through_json(value));
        direct
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { side: f64 },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Meters(f32);

    #[derive(Serialize)]
    struct Pair(bool, char);

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Outputs {
        service_name: String,
        replicas: u32,
        ratio: f64,
        big: u64,
        negative: i64,
        wide: i128,
        not_a_number: f64,
        infinite: f32,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        absent: Option<String>,
        unit: (),
        unit_struct: Unit,
        meters: Meters,
        pair: Pair,
        tuple: (u8, &'static str),
        bytes: serde_bytes_like::Bytes,
        shapes: Vec<Shape>,
        password: MaybeSecret<String>,
        public: MaybeSecret<String>,
        secret_object: MaybeSecret<BTreeMap<String, u16>>,
        domain: Computed<String>,
        known: Computed<String>,
        by_number: BTreeMap<u16, String>,
        by_flag: BTreeMap<bool, u8>,
        by_char: BTreeMap<char, u8>,
        by_variant: BTreeMap<Key, u8>,
        nested: Vec<Vec<Option<u8>>>,
        #[serde(flatten)]
        extra: HashMap<String, String>,
        sentinel: &'static str,
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Left,
    }

    /// `&[u8]` serialized as bytes (what `serde_bytes` does), without the dependency.
    mod serde_bytes_like {
        pub(super) struct Bytes(pub(super) &'static [u8]);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
    }

    fn outputs() -> Outputs {
        Outputs {
            service_name: "web".into(),
            replicas: 3,
            ratio: 0.25,
            big: u64::MAX,
            negative: -7,
            wide: -(1 << 40),
            not_a_number: f64::NAN,
            infinite: f32::INFINITY,
            skipped: None,
            absent: None,
            unit: (),
            unit_struct: Unit,
            meters: Meters(1.5),
            pair: Pair(true, 'x'),
            tuple: (1, "one"),
            bytes: serde_bytes_like::Bytes(b"\x00\xff"),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(4),
                Shape::Tuple(-1, "t".into()),
                Shape::Struct { side: 2.0 },
            ],
            password: MaybeSecret {
                value: "hunter2".to_string(),
                secret: true,
            },
            public: MaybeSecret {
                value: "shown".to_string(),
                secret: false,
            },
            secret_object: MaybeSecret {
                value: BTreeMap::from([("port".to_string(), 80)]),
                secret: true,
            },
            domain: Computed::Unknown,
            known: Computed::Known("web.example.com".into()),
            by_number: BTreeMap::from([(8080, "http".into())]),
            by_flag: BTreeMap::from([(false, 0)]),
            by_char: BTreeMap::from([('a', 1)]),
            by_variant: BTreeMap::from([(Key::Left, 2)]),
            nested: vec![vec![Some(1), None], vec![]],
            extra: HashMap::from([("flattened".into(), "yes".into())]),
            sentinel: UNKNOWN_STRING,
        }
    }

    #[test]
    fn gives_what_serde_json_then_from_json_gave() {
        let Value::Object(map) = same_as_json(&outputs()) else {
            panic!("a struct serializes as an object");
        };
        // The cases that matter to the property model, spelled out.
        assert_eq!(map["password"], Value::from("hunter2").into_secret());
        assert_eq!(map["public"], Value::from("shown"));
        assert!(map["secretObject"].is_secret());
        assert_eq!(map["domain"], Value::Unknown);
        assert_eq!(map["sentinel"], Value::Unknown);
        assert_eq!(map["notANumber"], Value::Null);
        assert_eq!(map["infinite"], Value::Null);
        assert_eq!(map["big"], Value::Number(u64::MAX as f64));
        assert!(!map.contains_key("skipped"));
        assert_eq!(map["absent"], Value::Null);
        assert_eq!(map["flattened"], Value::from("yes"));
        assert_eq!(
            map["byNumber"],
            Value::Object(PropertyMap::from([("8080".into(), Value::from("http"))]))
        );
        assert_eq!(
            map["shapes"],
            Value::Array(vec![
                Value::from("Unit"),
                tagged("Newtype", Value::Number(4.0)),
                tagged("Tuple", Value::Array(vec![Value::Number(-1.0), "t".into()])),
                tagged(
                    "Struct",
                    Value::Object(PropertyMap::from([("side".into(), Value::Number(2.0))]))
                ),
            ])
        );
    }

    #[test]
    fn a_map_like_a_secret_but_with_more_keys_stays_an_object() {
        let map = BTreeMap::from([(SIG_KEY, SIG_SECRET), ("value", "v"), ("other", "o")]);
        assert!(matches!(same_as_json(&map), Value::Object(m) if m.len() == 3));
        let not_secret_sig = BTreeMap::from([(SIG_KEY, "something else"), ("value", "v")]);
        assert!(matches!(same_as_json(&not_secret_sig), Value::Object(_)));
        let secret_without_value = BTreeMap::from([(SIG_KEY, SIG_SECRET), ("other", "o")]);
        assert_eq!(
            same_as_json(&secret_without_value),
            Value::Null.into_secret()
        );
    }

    #[test]
    fn map_keys_that_are_not_text_fail_like_serde_json() {
        let by_list = BTreeMap::from([(vec![1u8], 1u8)]);
        assert!(serde_json::to_value(&by_list).is_err());
        let err = to_value(&by_list).unwrap_err();
        assert!(err.to_string().contains("map key"), "{err}");
    }
}
