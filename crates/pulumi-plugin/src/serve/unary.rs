//! One unary gRPC call on one HTTP/2 stream: read the request's message, answer it, write the
//! reply and its status.
//!
//! Every RPC of the provider protocol is unary, so this is all of gRPC the server needs: a
//! message is a 5-byte prefix (compression flag, big-endian length) and the protobuf bytes; a
//! reply is response headers, the message and a `grpc-status: 0` trailer; a failure is a
//! trailers-only response (tonic's [`Status::into_http`] writes its headers). Served on the h2
//! crate directly, without hyper's and tonic's server layers (a body trait object, a pipe task,
//! a codec stream and a service adapter per call): the engine pays them on every RPC of a
//! preview, on a CPU whose caches are cold after each idle gap.

use super::MAX_MESSAGE_BYTES;
use bytes::{BufMut, Bytes, BytesMut};
use h2::RecvStream;
use h2::server::SendResponse;
use http::{HeaderMap, HeaderValue};
use std::future::Future;
use tonic::Status;

/// A gRPC message's prefix: the compression flag and the length.
pub(super) const PREFIX: usize = 5;

/// What answers a call: the request's path and message in, the reply's message out.
pub(super) trait Answer: Clone + Send + Sync + 'static {
    /// The reply's message framed by [`framed`], or the call's status.
    fn answer<'a>(
        &'a self,
        path: &'a str,
        message: Bytes,
    ) -> impl Future<Output = Result<Bytes, Status>> + Send + 'a;
}

/// Serves the call on one stream. A client that resets the stream (a cancelled call) drops
/// the answer where it stands, as hyper's server does.
pub(super) async fn serve(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    answer: impl Answer,
) {
    let (parts, mut body) = request.into_parts();
    let answered = async {
        let message = read_message(&mut body).await?;
        answer.answer(parts.uri.path(), message).await.map_err(Some)
    };
    let reply = tokio::select! {
        biased;
        reply = answered => reply,
        _ = std::future::poll_fn(|cx| respond.poll_reset(cx)) => return,
    };
    match reply {
        Ok(message) => send_message(respond, message),
        Err(Some(status)) => send_status(respond, status),
        // The stream or the connection failed while the request was read: nobody to answer.
        Err(None) => {}
    }
}

/// The one message of a unary request, without its prefix. `Err(None)` when the stream failed
/// (reset, connection lost); a status for a request that is not one well-framed message.
async fn read_message(body: &mut RecvStream) -> Result<Bytes, Option<Status>> {
    let mut received = Received::default();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|_| None)?;
        // The connection's and the stream's windows open again as soon as the bytes are ours.
        body.flow_control()
            .release_capacity(chunk.len())
            .map_err(|_| None)?;
        received.push(chunk);
        if let Some(len) = received.declared_len() {
            if len > MAX_MESSAGE_BYTES {
                return Err(Some(Status::out_of_range(format!(
                    "Error, decoded message length too large: found {len} bytes, the limit is: \
                     {MAX_MESSAGE_BYTES} bytes"
                ))));
            }
            if received.len() > PREFIX + len {
                return Err(Some(Status::internal(
                    "protocol error: a unary call's request carries more than one message",
                )));
            }
        }
    }
    received.into_message().map_err(Some)
}

/// A request's bytes as they arrive: most requests come in one DATA frame, kept as it is.
#[derive(Default)]
struct Received {
    first: Bytes,
    more: Option<BytesMut>,
}

impl Received {
    fn push(&mut self, chunk: Bytes) {
        match &mut self.more {
            Some(more) => more.extend_from_slice(&chunk),
            None if self.first.is_empty() => self.first = chunk,
            None => {
                let mut more = BytesMut::with_capacity(self.first.len() + chunk.len());
                more.extend_from_slice(&self.first);
                more.extend_from_slice(&chunk);
                self.more = Some(more);
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        self.more.as_deref().unwrap_or(&self.first)
    }

    fn len(&self) -> usize {
        self.bytes().len()
    }

    /// The message length the prefix declares, once the prefix is here.
    fn declared_len(&self) -> Option<usize> {
        let prefix = self.bytes().get(..PREFIX)?;
        Some(u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize)
    }

    /// The message, as tonic's decoder judges a finished request.
    fn into_message(self) -> Result<Bytes, Status> {
        if self.len() == 0 {
            return Err(Status::internal("Missing request message."));
        }
        let Some(len) = self
            .declared_len()
            .filter(|&len| self.len() == PREFIX + len)
        else {
            return Err(Status::internal("Unexpected EOF decoding stream."));
        };
        match self.bytes()[0] {
            0 => {}
            1 => {
                return Err(Status::internal(
                    "protocol error: received message with compressed-flag but no \
                     grpc-encoding was specified",
                ));
            }
            flag => {
                return Err(Status::internal(format!(
                    "protocol error: received message with invalid compression flag: {flag} \
                     (valid flags are 0 and 1)"
                )));
            }
        }
        let whole = match self.more {
            Some(more) => more.freeze(),
            None => self.first,
        };
        Ok(whole.slice(PREFIX..PREFIX + len))
    }
}

/// A reply's message with its prefix: `encode` writes the message; `size_hint` is what to
/// reserve for it.
pub(super) fn framed(
    size_hint: usize,
    encode: impl FnOnce(&mut BytesMut) -> Result<(), Status>,
) -> Result<Bytes, Status> {
    let mut buf = BytesMut::with_capacity(PREFIX + size_hint);
    buf.put_bytes(0, PREFIX);
    encode(&mut buf)?;
    let len = buf.len() - PREFIX;
    if len > MAX_MESSAGE_BYTES {
        return Err(Status::out_of_range(format!(
            "Error, encoded message length too large: found {len} bytes, the limit is: \
             {MAX_MESSAGE_BYTES} bytes"
        )));
    }
    // Fits: the limit is under 4 GiB.
    buf[1..PREFIX].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(buf.freeze())
}

/// Headers, the message, `grpc-status: 0`. h2 queues the message whatever the client's window
/// (it asks for the capacity itself) and sends it as the window allows.
fn send_message(mut respond: SendResponse<Bytes>, message: Bytes) {
    let headers = http::Response::builder()
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .body(())
        .expect("static headers");
    // Each failure below means the stream or the connection is gone: nobody to answer.
    let Ok(mut stream) = respond.send_response(headers, false) else {
        return;
    };
    if stream.send_data(message, false).is_err() {
        return;
    }
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let _ = stream.send_trailers(trailers);
}

/// A trailers-only response: the status in the headers, as tonic answers a failed call.
fn send_status(mut respond: SendResponse<Bytes>, status: Status) {
    let _ = respond.send_response(status.into_http::<()>(), true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(chunks: &[&[u8]]) -> Received {
        let mut received = Received::default();
        for chunk in chunks {
            received.push(Bytes::copy_from_slice(chunk));
        }
        received
    }

    /// A message split across DATA frames reads as the same bytes as one that came whole.
    #[test]
    fn a_message_reads_the_same_however_it_was_split() {
        let whole: &[u8] = &[0, 0, 0, 0, 3, 7, 8, 9];
        for cut in 0..=whole.len() {
            let (a, b) = whole.split_at(cut);
            let message = received(&[a, b]).into_message().unwrap();
            assert_eq!(&message[..], &[7, 8, 9], "cut at {cut}");
        }
        assert_eq!(
            received(&[&[0, 0, 0, 0, 0]]).into_message().unwrap().len(),
            0
        );
    }

    /// A request that is not one whole uncompressed message gets tonic's statuses.
    #[test]
    fn a_malformed_request_gets_the_reason() {
        let refused = |chunks: &[&[u8]]| received(chunks).into_message().unwrap_err();
        let missing = refused(&[]);
        assert_eq!(
            (missing.code(), missing.message()),
            (tonic::Code::Internal, "Missing request message.")
        );
        for cut in [&[0u8, 0, 0][..], &[0, 0, 0, 0, 4, 1, 2]] {
            assert_eq!(refused(&[cut]).message(), "Unexpected EOF decoding stream.");
        }
        assert!(
            refused(&[&[1, 0, 0, 0, 1, 9]])
                .message()
                .contains("compressed-flag")
        );
        assert!(
            refused(&[&[7, 0, 0, 0, 1, 9]])
                .message()
                .contains("invalid compression flag: 7")
        );
    }

    /// A reply's prefix carries its length; an empty reply is five zero bytes.
    #[test]
    fn replies_are_framed_with_their_length() {
        let reply = framed(0, |buf| {
            buf.put_slice(&[1; 300]);
            Ok(())
        })
        .unwrap();
        assert_eq!(&reply[..PREFIX], &[0, 0, 0, 1, 44]);
        assert_eq!(reply.len(), PREFIX + 300);
        assert_eq!(&framed(0, |_| Ok(())).unwrap()[..], &[0; PREFIX]);
        let failed = framed(0, |_| Err(Status::internal("no"))).unwrap_err();
        assert_eq!(failed.message(), "no");
    }
}
