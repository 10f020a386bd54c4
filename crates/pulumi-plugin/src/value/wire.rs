//! Property maps read from and written to protobuf bytes directly: a `google.protobuf.Struct`
//! field becomes a [`PropertyMap`] (and back) without the `prost_types` tree in between, whose
//! maps and lists every request and reply built only to convert and drop them.
//!
//! The layout (`google/protobuf/struct.proto`): `Struct { map<string, Value> fields = 1; }`, a
//! map entry `{ string key = 1; Value value = 2; }`, `Value { oneof kind { NullValue
//! null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4;
//! Struct struct_value = 5; ListValue list_value = 6; } }`, `ListValue { repeated Value values
//! = 1; }`. Reading follows protobuf's rules as prost applies them (unknown fields skipped, a
//! repeated map key or scalar: the last wins, a repeated struct or list: merged); writing gives
//! prost's bytes for the same values, keys in order. The primitives are prost's own (the
//! functions its generated code calls).

use super::proto::{
    Lowered, UNKNOWN_SENTINELS, UNKNOWN_STRING, is_special, lower, special_from_map,
};
use super::{PropertyMap, Value};
use prost::DecodeError;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, decode_key, decode_varint, encode_key, encode_varint,
    encoded_len_varint, key_len, skip_field,
};

/// How many structs and lists may nest inside each other: deeper input is refused rather than
/// risking the stack (prost allows 100 nested messages, about 33 levels of objects).
const MAX_DEPTH: usize = 100;

/// Reads the body of a `Struct` (the bytes a length-delimited field holds) into `map`: entries
/// already there stay unless the body has the same key.
pub(crate) fn merge_struct(map: &mut PropertyMap, body: &[u8]) -> Result<(), WireError> {
    merge_struct_at(map, body, 1)
}

fn merge_struct_at(map: &mut PropertyMap, body: &[u8], depth: usize) -> Result<(), WireError> {
    each_item(body, depth, |item| {
        let (key, value) = entry(item, depth)?;
        map.insert(key, value);
        Ok(())
    })
}

fn merge_list(items: &mut Vec<Value>, body: &[u8], depth: usize) -> Result<(), WireError> {
    each_item(body, depth, |item| {
        items.push(value(item, depth)?);
        Ok(())
    })
}

/// Calls `each` with every item of a struct's or list's body: field 1, the only field either
/// has (a map entry, a value), other fields skipped.
fn each_item(
    mut body: &[u8],
    depth: usize,
    mut each: impl FnMut(&[u8]) -> Result<(), WireError>,
) -> Result<(), WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::new("recursion limit reached"));
    }
    while body.has_remaining() {
        let (tag, wire_type) = decode_key(&mut body)?;
        if tag == 1 {
            expect(wire_type, WireType::LengthDelimited)?;
            each(delimited(&mut body)?)?;
        } else {
            skip(wire_type, tag, &mut body)?;
        }
    }
    Ok(())
}

fn entry(mut body: &[u8], depth: usize) -> Result<(String, Value), WireError> {
    let mut key = String::new();
    // A missing value is the default Value, whose kind is unset: null.
    let mut value = Value::Null;
    while body.has_remaining() {
        let (tag, wire_type) = decode_key(&mut body)?;
        match tag {
            1 => {
                expect(wire_type, WireType::LengthDelimited)?;
                key = text(delimited(&mut body)?)?.to_string();
            }
            2 => {
                expect(wire_type, WireType::LengthDelimited)?;
                value = self::value(delimited(&mut body)?, depth)?;
            }
            _ => skip(wire_type, tag, &mut body)?,
        }
    }
    Ok((key, value))
}

/// One `Value` message; an object with a known signature decodes as the special value.
fn value(mut body: &[u8], depth: usize) -> Result<Value, WireError> {
    let mut value = Lowered::Null;
    while body.has_remaining() {
        let (tag, wire_type) = decode_key(&mut body)?;
        value = match tag {
            1 => {
                expect(wire_type, WireType::Varint)?;
                decode_varint(&mut body)?;
                Lowered::Null
            }
            2 => {
                expect(wire_type, WireType::SixtyFourBit)?;
                if body.remaining() < 8 {
                    return Err(WireError::new("buffer underflow"));
                }
                Lowered::Number(body.get_f64_le())
            }
            3 => {
                expect(wire_type, WireType::LengthDelimited)?;
                let s = text(delimited(&mut body)?)?;
                if UNKNOWN_SENTINELS.contains(&s) {
                    Lowered::Unknown
                } else {
                    Lowered::String(s.to_string())
                }
            }
            4 => {
                expect(wire_type, WireType::Varint)?;
                Lowered::Bool(decode_varint(&mut body)? != 0)
            }
            5 => {
                expect(wire_type, WireType::LengthDelimited)?;
                let mut fields = match value {
                    Lowered::Object(fields) => fields,
                    _ => PropertyMap::new(),
                };
                merge_struct_at(&mut fields, delimited(&mut body)?, depth + 1)?;
                Lowered::Object(fields)
            }
            6 => {
                expect(wire_type, WireType::LengthDelimited)?;
                let mut items = match value {
                    Lowered::Array(items) => items,
                    _ => Vec::new(),
                };
                merge_list(&mut items, delimited(&mut body)?, depth + 1)?;
                Lowered::Array(items)
            }
            _ => {
                skip(wire_type, tag, &mut body)?;
                value
            }
        };
    }
    Ok(match value {
        Lowered::Object(fields) => special_from_map(fields),
        other => other.into(),
    })
}

/// The bytes of a length-delimited field, the reader moved past them.
pub(crate) fn delimited<'a>(body: &mut &'a [u8]) -> Result<&'a [u8], WireError> {
    let len = decode_varint(body)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= body.len())
        .ok_or_else(|| WireError::new("buffer underflow"))?;
    let (field, rest) = body.split_at(len);
    *body = rest;
    Ok(field)
}

fn text(bytes: &[u8]) -> Result<&str, WireError> {
    std::str::from_utf8(bytes)
        .map_err(|_| WireError::new("invalid string value: data is not UTF-8 encoded"))
}

fn expect(actual: WireType, expected: WireType) -> Result<(), WireError> {
    if actual == expected {
        Ok(())
    } else {
        Err(WireError(format!(
            "invalid wire type: {actual:?} (expected {expected:?})"
        )))
    }
}

fn skip(wire_type: WireType, tag: u32, body: &mut &[u8]) -> Result<(), WireError> {
    Ok(skip_field(wire_type, tag, body, DecodeContext::default())?)
}

/// Why bytes are not a well-formed message: what a gRPC reply's status then says.
#[derive(Debug, thiserror::Error)]
#[error("failed to decode Protobuf message: {0}")]
pub(crate) struct WireError(String);

impl WireError {
    fn new(reason: &str) -> Self {
        WireError(reason.to_string())
    }
}

impl From<DecodeError> for WireError {
    fn from(err: DecodeError) -> Self {
        // prost's message already says "failed to decode Protobuf message".
        WireError(
            err.to_string()
                .trim_start_matches("failed to decode Protobuf message: ")
                .to_string(),
        )
    }
}

/// A property map ready to be written as a `Struct` field: its special values lowered to
/// their signature objects and every nested struct's and list's length measured once (each is
/// written behind its length, and measuring again at every level would be quadratic in depth).
pub(crate) struct EncodedStruct {
    map: PropertyMap,
    /// The body length of every struct and list, the outermost first, in the order written.
    lengths: Vec<usize>,
}

impl EncodedStruct {
    pub(crate) fn new(mut map: PropertyMap) -> Self {
        let mut lengths = Vec::new();
        measure_struct(&mut map, &mut lengths);
        EncodedStruct { map, lengths }
    }

    pub(crate) fn encode(&self, tag: u32, buf: &mut impl BufMut) {
        let mut lengths = Lengths {
            lengths: &self.lengths,
            next: 0,
        };
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(lengths.take() as u64, buf);
        write_struct(&self.map, &mut lengths, buf);
    }
}

fn delimited_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// Lowers the map's special values in place and records the lengths; returns the body's length.
fn measure_struct(map: &mut PropertyMap, lengths: &mut Vec<usize>) -> usize {
    let slot = lengths.len();
    lengths.push(0);
    let len = map
        .iter_mut()
        .map(|(key, value)| delimited_len(1, entry_len(key, measure_value(value, lengths))))
        .sum();
    lengths[slot] = len;
    len
}

fn measure_value(value: &mut Value, lengths: &mut Vec<usize>) -> usize {
    if is_special(value) {
        *value = lower(std::mem::replace(value, Value::Null)).into();
    }
    match value {
        Value::Array(items) => {
            let slot = lengths.len();
            lengths.push(0);
            let len = items
                .iter_mut()
                .map(|item| delimited_len(1, measure_value(item, lengths)))
                .sum();
            lengths[slot] = len;
            delimited_len(6, len)
        }
        Value::Object(map) => delimited_len(5, measure_struct(map, lengths)),
        other => scalar_len(other),
    }
}

/// The length of a value with no nested struct or list (of its lowered form).
fn scalar_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 2,
        Value::Number(_) => 9,
        Value::String(s) => delimited_len(3, s.len()),
        Value::Unknown => delimited_len(3, UNKNOWN_STRING.len()),
        // Never here: measuring lowered every special value (see `write_value`).
        _ => 2,
    }
}

fn entry_len(key: &str, value_len: usize) -> usize {
    let key_len = if key.is_empty() {
        0
    } else {
        delimited_len(1, key.len())
    };
    key_len + delimited_len(2, value_len)
}

/// The recorded lengths, read in the order they were measured.
struct Lengths<'a> {
    lengths: &'a [usize],
    next: usize,
}

impl Lengths<'_> {
    fn peek(&self) -> usize {
        self.lengths.get(self.next).copied().unwrap_or(0)
    }

    fn take(&mut self) -> usize {
        let len = self.peek();
        self.next += 1;
        len
    }

    /// The length of `value`'s message: a struct or list is the next one recorded.
    fn of(&self, value: &Value) -> usize {
        match value {
            Value::Array(_) => delimited_len(6, self.peek()),
            Value::Object(_) => delimited_len(5, self.peek()),
            other => scalar_len(other),
        }
    }
}

fn write_struct(map: &PropertyMap, lengths: &mut Lengths<'_>, buf: &mut impl BufMut) {
    for (key, value) in map {
        let value_len = lengths.of(value);
        encode_key(1, WireType::LengthDelimited, buf);
        encode_varint(entry_len(key, value_len) as u64, buf);
        if !key.is_empty() {
            write_string(1, key, buf);
        }
        encode_key(2, WireType::LengthDelimited, buf);
        encode_varint(value_len as u64, buf);
        write_value(value, lengths, buf);
    }
}

fn write_value(value: &Value, lengths: &mut Lengths<'_>, buf: &mut impl BufMut) {
    match value {
        Value::Null => {
            encode_key(1, WireType::Varint, buf);
            encode_varint(0, buf);
        }
        Value::Number(n) => {
            encode_key(2, WireType::SixtyFourBit, buf);
            buf.put_f64_le(*n);
        }
        Value::String(s) => write_string(3, s, buf),
        Value::Unknown => write_string(3, UNKNOWN_STRING, buf),
        Value::Bool(b) => {
            encode_key(4, WireType::Varint, buf);
            encode_varint(u64::from(*b), buf);
        }
        Value::Object(map) => {
            encode_key(5, WireType::LengthDelimited, buf);
            encode_varint(lengths.take() as u64, buf);
            write_struct(map, lengths, buf);
        }
        Value::Array(items) => {
            encode_key(6, WireType::LengthDelimited, buf);
            encode_varint(lengths.take() as u64, buf);
            for item in items {
                encode_key(1, WireType::LengthDelimited, buf);
                encode_varint(lengths.of(item) as u64, buf);
                write_value(item, lengths, buf);
            }
        }
        // Never here: an `EncodedStruct` is only made by measuring, which lowered every
        // special value to its object. Were one left, it would go as a null, not as
        // malformed bytes.
        _ => {
            encode_key(1, WireType::Varint, buf);
            encode_varint(0, buf);
        }
    }
}

fn write_string(tag: u32, s: &str, buf: &mut impl BufMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(s.len() as u64, buf);
    buf.put_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::proto::{SIG_ASSET, SIG_KEY};
    use crate::value::{OutputValue, ResourceRef, into_properties, into_struct};
    use prost::Message;
    use prost_types::value::Kind;

    /// A small deterministic generator (xorshift): the same trees on every run.
    struct Trees(u64);

    impl Trees {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn text(&mut self) -> String {
            const WORDS: [&str; 9] = [
                "",
                "image",
                "nginx:1.27",
                "ünïcödé ✓",
                "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
                "4dabf18193072939515e22adb298388d",
                "1b47061264138c4ac30d75fd1eb44270",
                "a longer string that needs a two-byte length prefix once it is repeated",
                "value",
            ];
            let word = WORDS[self.below(WORDS.len() as u64) as usize];
            word.repeat(1 + self.below(3) as usize)
        }

        fn value(&mut self, depth: u32) -> Value {
            let leaf = depth >= 4;
            match self.below(if leaf { 6 } else { 13 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 1),
                2 => Value::Number(
                    [0.0, -0.0, 1.5, -3.0, 1e300, f64::INFINITY, 42.0][self.below(7) as usize],
                ),
                3 | 4 => Value::String(self.text()),
                5 => Value::Unknown,
                6 | 7 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
                8 | 9 => Value::Object(self.map(depth + 1)),
                10 => Value::Secret(Box::new(self.value(depth + 1))),
                11 => Value::ResourceRef(ResourceRef {
                    urn: self.text(),
                    id: (self.below(2) == 1).then(|| Box::new(self.value(depth + 1))),
                    package_version: self.text(),
                }),
                _ => Value::Output(OutputValue {
                    value: (self.below(2) == 1).then(|| Box::new(self.value(depth + 1))),
                    secret: self.below(2) == 1,
                    dependencies: (0..self.below(3)).map(|_| self.text()).collect(),
                }),
            }
        }

        fn map(&mut self, depth: u32) -> PropertyMap {
            (0..self.below(5))
                .map(|_| (self.text(), self.value(depth)))
                .collect()
        }
    }

    /// prost's bytes for the struct as field `tag` of a message: the reference.
    fn prost_bytes(tag: u32, s: &prost_types::Struct) -> Vec<u8> {
        let mut buf = Vec::new();
        prost::encoding::message::encode(tag, s, &mut buf);
        buf
    }

    fn our_bytes(tag: u32, map: PropertyMap) -> Vec<u8> {
        let mut buf = Vec::new();
        EncodedStruct::new(map).encode(tag, &mut buf);
        buf
    }

    /// The body of the first field of `bytes`.
    fn body(mut bytes: &[u8]) -> &[u8] {
        decode_key(&mut bytes).unwrap();
        delimited(&mut bytes).unwrap()
    }

    fn decode(body: &[u8]) -> Result<PropertyMap, WireError> {
        let mut map = PropertyMap::new();
        merge_struct(&mut map, body)?;
        Ok(map)
    }

    #[test]
    fn writes_the_bytes_prost_writes_and_reads_what_prost_reads() {
        let mut trees = Trees(0x9e37_79b9_7f4a_7c15);
        for round in 0..2_000 {
            let map = trees.map(0);
            let tag = 1 + (round % 9) as u32;
            let reference = prost_bytes(tag, &into_struct(map.clone()));
            assert_eq!(our_bytes(tag, map.clone()), reference, "round {round}");
            let read = decode(body(&reference)).unwrap();
            let through_prost =
                into_properties(prost_types::Struct::decode(body(&reference)).unwrap());
            assert_eq!(read, through_prost, "round {round}");
        }
    }

    #[test]
    fn special_values_come_back_as_themselves() {
        let map = PropertyMap::from([
            ("secret".to_string(), Value::from("hunter2").into_secret()),
            ("unknown".to_string(), Value::Unknown),
            (
                "ref".to_string(),
                Value::ResourceRef(ResourceRef {
                    urn: "urn:pulumi:dev::p::defang:index:Project::p".into(),
                    id: Some(Box::new(Value::from("defang-p"))),
                    package_version: String::new(),
                }),
            ),
            (
                "asset".to_string(),
                Value::Asset(PropertyMap::from([
                    (SIG_KEY.to_string(), Value::from(SIG_ASSET)),
                    ("text".to_string(), Value::from("hello")),
                ])),
            ),
            (
                "output".to_string(),
                Value::Output(OutputValue {
                    value: Some(Box::new(Value::from("v"))),
                    secret: true,
                    dependencies: vec!["urn:a".into()],
                }),
            ),
            (
                "nested".to_string(),
                Value::Array(vec![Value::Object(PropertyMap::from([(
                    "key".to_string(),
                    Value::from("k").into_secret(),
                )]))]),
            ),
        ]);
        let bytes = our_bytes(4, map.clone());
        assert_eq!(decode(body(&bytes)).unwrap(), map);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("hunter2"),
            "a secret travels as its value, wrapped"
        );
    }

    #[test]
    fn reads_as_protobuf_merges() {
        let entry = |key: &str, value: prost_types::Value| {
            let mut buf = Vec::new();
            prost::encoding::string::encode(1, &key.to_string(), &mut buf);
            prost::encoding::message::encode(2, &value, &mut buf);
            buf
        };
        let string = |s: &str| prost_types::Value {
            kind: Some(Kind::StringValue(s.into())),
        };
        let mut body = Vec::new();
        for bytes in [entry("a", string("first")), entry("a", string("second"))] {
            prost::encoding::bytes::encode(1, &bytes, &mut body);
        }
        // An entry without a value is null; one without a key has the empty key.
        let mut keyless = Vec::new();
        prost::encoding::message::encode(2, &string("x"), &mut keyless);
        prost::encoding::bytes::encode(1, &b"\x0a\x01b".to_vec(), &mut body);
        prost::encoding::bytes::encode(1, &keyless, &mut body);
        // Unknown fields are skipped, at every level.
        prost::encoding::uint64::encode(9, &7, &mut body);
        let reference = into_properties(prost_types::Struct::decode(&body[..]).unwrap());
        let read = decode(&body).unwrap();
        assert_eq!(read, reference);
        assert_eq!(read["a"], Value::from("second"));
        assert_eq!(read["b"], Value::Null);
        assert_eq!(read[""], Value::from("x"));
    }

    #[test]
    fn refuses_malformed_bytes_with_a_reason() {
        let good = our_bytes(1, PropertyMap::from([("k".to_string(), Value::from("v"))]));
        let good = body(&good).to_vec();
        for cut in 1..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_utf8 = good.clone();
        let at = bad_utf8.iter().rposition(|&b| b == b'v').unwrap();
        bad_utf8[at] = 0xff;
        let err = decode(&bad_utf8).unwrap_err().to_string();
        assert!(err.contains("UTF-8"), "{err}");
        // A string where a struct must be.
        let err = decode(&[0x0a, 0x04, 0x12, 0x02, 0x28, 0x01])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid wire type"), "{err}");
    }

    #[test]
    fn refuses_nesting_deeper_than_the_limit_without_exhausting_the_stack() {
        let nested = |levels: usize| {
            let mut value = Value::from("bottom");
            for _ in 0..levels {
                value = Value::Array(vec![value]);
            }
            our_bytes(1, PropertyMap::from([("deep".to_string(), value)]))
        };
        assert!(decode(body(&nested(MAX_DEPTH - 1))).is_ok());
        let err = decode(body(&nested(MAX_DEPTH))).unwrap_err().to_string();
        assert!(err.contains("recursion limit"), "{err}");
        // Far deeper than any stack would take, refused all the same.
        let mut bytes = b"\x1a\x01x".to_vec();
        for _ in 0..10_000 {
            let mut list = vec![0x0a];
            prost::encoding::encode_varint(bytes.len() as u64, &mut list);
            list.extend_from_slice(&bytes);
            bytes = vec![0x32];
            prost::encoding::encode_varint(list.len() as u64, &mut bytes);
            bytes.extend_from_slice(&list);
        }
        let mut entry = b"\x0a\x01k\x12".to_vec();
        prost::encoding::encode_varint(bytes.len() as u64, &mut entry);
        entry.extend_from_slice(&bytes);
        let mut top = vec![0x0a];
        prost::encoding::encode_varint(entry.len() as u64, &mut top);
        top.extend_from_slice(&entry);
        assert!(decode(&top).is_err());
    }
}
