//! The resource RPCs' messages with their property structs as [`PropertyMap`]s, read and
//! written straight from and to the wire ([`crate::value::wire`]).
//!
//! Check, Diff, Create, Read, Update and Delete carry every resource's inputs and outputs, so
//! the serve loop routes them here (`serve::routes`): a request's `google.protobuf.Struct`
//! fields decode into property maps without the `prost_types` tree the generated codec builds
//! (and the handler converted, then dropped), and a reply's maps are written without building
//! one. The generated message still carries every other field, decoded and encoded by prost.

use crate::rpc;
use crate::value::wire::{EncodedStruct, WireError, delimited, merge_struct};
use crate::value::{PropertyMap, into_properties, into_struct};
use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, decode_key};
use tonic::Status;

/// A generated message and its `N` property structs, in the order [`PropsFields::TAGS`] lists
/// them; `None` where the message leaves one out.
pub(crate) struct WithProps<M, const N: usize> {
    pub(crate) message: M,
    pub(crate) maps: [Option<PropertyMap>; N],
}

/// A generated message's `google.protobuf.Struct` fields: their tags, and the fields.
pub(crate) trait PropsFields<const N: usize>: Message + Default {
    /// The fields' tags, in the order [`WithProps::maps`] holds them.
    const TAGS: [u32; N];

    /// The fields, in the same order.
    fn structs(&mut self) -> [&mut Option<prost_types::Struct>; N];
}

/// Implements [`PropsFields`]: each message with its struct fields, `name = tag`, in the order
/// its handler takes them.
macro_rules! props_fields {
    ($($message:ty { $($field:ident = $tag:literal),* })*) => {$(
        impl PropsFields<{ <[u32]>::len(&[$($tag),*]) }> for $message {
            const TAGS: [u32; <[u32]>::len(&[$($tag),*])] = [$($tag),*];

            fn structs(&mut self) -> [&mut Option<prost_types::Struct>; <[u32]>::len(&[$($tag),*])] {
                [$(&mut self.$field),*]
            }
        }
    )*};
}

props_fields! {
    rpc::CheckRequest { olds = 2, news = 3 }
    rpc::CheckResponse { inputs = 1 }
    rpc::DiffRequest { olds = 3, news = 4, old_inputs = 6 }
    rpc::DiffResponse {}
    rpc::CreateRequest { properties = 2 }
    rpc::CreateResponse { properties = 2 }
    rpc::ReadRequest { properties = 3, inputs = 4 }
    rpc::ReadResponse { properties = 2, inputs = 3 }
    rpc::UpdateRequest { olds = 3, news = 4, old_inputs = 8 }
    rpc::UpdateResponse { properties = 1 }
    rpc::DeleteRequest { properties = 3, old_inputs = 5 }
    // Delete's reply: google.protobuf.Empty.
    () {}
}

impl<M: PropsFields<N>, const N: usize> WithProps<M, N> {
    /// A reply with no property struct set yet.
    pub(crate) fn new(message: M) -> Self {
        WithProps {
            message,
            maps: [const { None }; N],
        }
    }

    /// From the generated message (an in-process call): its structs taken out and converted.
    pub(crate) fn from_message(mut message: M) -> Self {
        let maps = message.structs().map(|s| s.take().map(into_properties));
        WithProps { message, maps }
    }

    /// The generated message, its structs put back.
    pub(crate) fn into_message(mut self) -> M {
        for (field, map) in self.message.structs().into_iter().zip(self.maps) {
            *field = map.map(into_struct);
        }
        self.message
    }

    /// The maps, each absent one empty (a request's handler reads them so).
    pub(crate) fn into_parts(self) -> (M, [PropertyMap; N]) {
        (self.message, self.maps.map(Option::unwrap_or_default))
    }
}

/// A message the codec reads and writes.
pub(crate) trait WireMessage: Sized + Send + 'static {
    /// Reads a whole message.
    fn decode(bytes: &[u8]) -> Result<Self, WireError>;

    /// Writes the message.
    fn encode(self, buf: &mut impl BufMut) -> Result<(), Status>;
}

impl<M: PropsFields<N> + Send + 'static, const N: usize> WireMessage for WithProps<M, N> {
    fn decode(mut bytes: &[u8]) -> Result<Self, WireError> {
        let mut decoded = WithProps::new(M::default());
        while bytes.has_remaining() {
            let (tag, wire_type) = decode_key(&mut bytes)?;
            match M::TAGS.iter().position(|&t| t == tag) {
                Some(i) if wire_type == WireType::LengthDelimited => {
                    let map = decoded.maps[i].get_or_insert_default();
                    merge_struct(map, delimited(&mut bytes)?)?;
                }
                // Every other field (and a struct field sent with the wrong wire type, which
                // prost refuses) is the generated message's.
                _ => decoded.message.merge_field(
                    tag,
                    wire_type,
                    &mut bytes,
                    DecodeContext::default(),
                )?,
            }
        }
        Ok(decoded)
    }

    fn encode(self, buf: &mut impl BufMut) -> Result<(), Status> {
        // Protobuf readers take fields in any order: the message's own, then the structs.
        self.message
            .encode(buf)
            .map_err(|err| Status::internal(err.to_string()))?;
        for (tag, map) in M::TAGS.into_iter().zip(self.maps) {
            if let Some(map) = map {
                EncodedStruct::new(map).encode(tag, buf);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    /// A struct that says which field it came from.
    fn marker(field: u32) -> prost_types::Struct {
        crate::value::properties_to_struct(&PropertyMap::from([
            ("field".to_string(), Value::Number(f64::from(field))),
            ("secret".to_string(), Value::from("s").into_secret()),
            ("unknown".to_string(), Value::Unknown),
        ]))
    }

    /// Every struct field set to its marker, the other fields to something: what the wire
    /// path reads is the generated message with the same maps, and what it writes reads back
    /// through prost as the message it started from.
    fn agrees_with_prost<M, const N: usize>(mut message: M)
    where
        M: PropsFields<N> + Clone + PartialEq + std::fmt::Debug + Send + 'static,
    {
        for (field, tag) in message.structs().into_iter().zip(M::TAGS) {
            *field = Some(marker(tag));
        }
        let bytes = message.encode_to_vec();
        let read = WithProps::<M, N>::decode(&bytes).expect("reads prost's bytes");
        let converted = WithProps::from_message(message.clone());
        assert_eq!(read.message, converted.message, "the other fields");
        assert_eq!(read.maps, converted.maps, "the structs, by tag");
        for (map, tag) in read.maps.iter().zip(M::TAGS) {
            let field = &map.as_ref().expect("every struct was set")["field"];
            assert_eq!(*field, Value::Number(f64::from(tag)), "tag {tag}");
        }
        let mut written = Vec::new();
        read.encode(&mut written).unwrap();
        assert_eq!(M::decode(&written[..]).unwrap(), message);
    }

    #[test]
    fn each_message_s_structs_are_at_their_tags() {
        let urn = "urn:pulumi:dev::p::t:index:Note::a".to_string();
        agrees_with_prost(rpc::CheckRequest {
            urn: urn.clone(),
            name: "a".into(),
            r#type: "t:index:Note".into(),
            random_seed: vec![1, 2, 3],
            ..Default::default()
        });
        agrees_with_prost(rpc::CheckResponse {
            failures: vec![rpc::CheckFailure {
                property: "p".into(),
                reason: "r".into(),
            }],
            ..Default::default()
        });
        agrees_with_prost(rpc::DiffRequest {
            id: "id".into(),
            urn: urn.clone(),
            ignore_changes: vec!["x".into()],
            ..Default::default()
        });
        agrees_with_prost(rpc::DiffResponse {
            replaces: vec!["image".into()],
            changes: 2,
            ..Default::default()
        });
        agrees_with_prost(rpc::CreateRequest {
            urn: urn.clone(),
            timeout: 30.0,
            preview: true,
            ..Default::default()
        });
        agrees_with_prost(rpc::CreateResponse {
            id: "id".into(),
            ..Default::default()
        });
        agrees_with_prost(rpc::ReadRequest {
            id: "id".into(),
            urn: urn.clone(),
            ..Default::default()
        });
        agrees_with_prost(rpc::ReadResponse {
            id: "id".into(),
            ..Default::default()
        });
        agrees_with_prost(rpc::UpdateRequest {
            id: "id".into(),
            urn: urn.clone(),
            preview: true,
            ignore_changes: vec!["y".into()],
            ..Default::default()
        });
        agrees_with_prost(rpc::UpdateResponse::default());
        agrees_with_prost(rpc::DeleteRequest {
            id: "id".into(),
            urn,
            timeout: 5.0,
            ..Default::default()
        });
    }

    #[test]
    fn an_absent_struct_stays_absent_and_reads_as_empty() {
        let bytes = rpc::CreateRequest {
            urn: "u".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let read = WithProps::<rpc::CreateRequest, 1>::decode(&bytes).unwrap();
        assert!(read.maps[0].is_none());
        let (message, [inputs]) = read.into_parts();
        assert_eq!((message.urn.as_str(), inputs.len()), ("u", 0));
        let mut written = Vec::new();
        WithProps::new(rpc::ReadResponse::default())
            .encode(&mut written)
            .unwrap();
        assert!(
            written.is_empty(),
            "a resource read as gone has no properties at all"
        );
    }

    #[test]
    fn malformed_requests_are_refused_with_the_reason() {
        let mut bytes = rpc::CheckRequest {
            urn: "u".into(),
            news: Some(marker(3)),
            ..Default::default()
        }
        .encode_to_vec();
        bytes.truncate(bytes.len() - 1);
        let err = WithProps::<rpc::CheckRequest, 2>::decode(&bytes)
            .err()
            .expect("a cut message is refused")
            .to_string();
        assert!(
            err.starts_with("failed to decode Protobuf message"),
            "{err}"
        );
        // A struct field sent as a number, and one whose bytes are no struct: refused, as
        // prost refuses them.
        for bytes in [vec![0x18, 0x01], vec![0x1a, 0x04, b'n', b'e', b'w', b's']] {
            assert!(rpc::CheckRequest::decode(&bytes[..]).is_err());
            let err = WithProps::<rpc::CheckRequest, 2>::decode(&bytes)
                .err()
                .expect("refused")
                .to_string();
            assert!(err.contains("wire type"), "{err}");
        }
    }
}
