//! The engine's connection as the provider serves it: `TCP_NODELAY`, one write per reply, and
//! PING acknowledgements that wait for a reply to ride with.
//!
//! Why the acknowledgements wait: the engine's gRPC client (grpc-go) estimates the connection's
//! bandwidth-delay product by sending a PING whenever a DATA frame arrives and no probe is
//! outstanding (`bdpEstimator.add` in grpc-go's `internal/transport/bdp_estimator.go`), so every
//! reply brings back a 30-byte WINDOW_UPDATE + PING a fraction of a millisecond later. Answered
//! at once, each costs the provider a wake-up, a read and a write: in a preview of 1,000 services
//! that was 1,800 extra wake-ups, about as many as the RPCs themselves (rpc_bench: 35-45 us of
//! provider CPU each). A probe stays outstanding until its acknowledgement arrives, so holding
//! the acknowledgement for [`ACK_RIDES_AFTER`] and sending it behind the next reply's frames
//! means one probe per that interval instead of one per reply, and no write of its own.
//! RFC 9113 §6.7 requires the acknowledgement and says it SHOULD be sent with priority. Only the
//! probe's is held: grpc-go sends it with a fixed payload ([`BDP_PROBE`]) and uses it only to
//! size its receive window; any other PING (a keepalive, a liveness check) is answered at once.
//! [`ACK_DEADLINE`] bounds the wait when no reply comes.
//!
//! How long: the engine sends an RPC every few milliseconds in a large preview, and probes again
//! as soon as an acknowledgement arrives. Held 100 ms, a preview of 1,000 services still brought
//! 268 probes, each a wake-up of its own (10 % of them); held a second, about one per second of
//! the preview.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Duration, Instant, Sleep};

/// How long a probe's acknowledgement waits before it may ride behind a reply.
pub(super) const ACK_RIDES_AFTER: Duration = Duration::from_secs(1);

/// How long it waits at most: then it goes out alone.
pub(super) const ACK_DEADLINE: Duration = Duration::from_secs(2);

/// The payload of grpc-go's bandwidth probe (`bdpPing` in its
/// `internal/transport/bdp_estimator.go`): the only PING whose acknowledgement is held.
pub(super) const BDP_PROBE: [u8; 8] = [2, 4, 16, 16, 9, 14, 7, 7];

/// An HTTP/2 frame header's size.
const FRAME_HEADER: usize = 9;

/// An accepted connection as served: `TCP_NODELAY` set, one write per reply, PING
/// acknowledgements held (see the module's documentation).
pub(super) fn accepted(stream: tokio::net::TcpStream) -> EngineConnection<tokio::net::TcpStream> {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::warn!(%err, "TCP_NODELAY");
    }
    EngineConnection::new(stream)
}

/// The server side of an HTTP/2 connection, between h2 and the socket.
///
/// It tells h2 it has no vectored writes: h2 then copies a reply's payload into its frame
/// buffer when it is under 1 KiB (256 bytes with vectored writes), so the headers, the message
/// and the trailers of a typical reply leave in one `write` instead of two `writev`s; over
/// loopback every write also pays the engine side's receive path.
pub(super) struct EngineConnection<S> {
    stream: S,
    /// Where h2's bytes written so far stand in its frame stream: held acknowledgements go out
    /// only between frames.
    frames: FrameCursor,
    /// PING acknowledgements h2 wrote that have not left yet (whole frames).
    held: Vec<u8>,
    /// How much of `held` is on the wire already: once started, the rest goes before anything.
    held_sent: usize,
    /// When the oldest held acknowledgement goes out alone (it may ride behind a reply from
    /// [`ACK_DEADLINE`] - [`ACK_RIDES_AFTER`] before).
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> EngineConnection<S> {
    pub(super) fn new(stream: S) -> Self {
        EngineConnection {
            stream,
            frames: FrameCursor::default(),
            held: Vec::new(),
            held_sent: 0,
            deadline: None,
        }
    }

    /// The socket.
    #[cfg(test)]
    pub(super) fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Holds `ack`; `cx` (the connection's task) is woken at the deadline.
    fn hold(&mut self, ack: &[u8], cx: &mut Context<'_>) {
        if self.held.is_empty() {
            let mut deadline = Box::pin(tokio::time::sleep(ACK_DEADLINE));
            // Registers the wake-up: h2 then reads, and the read sends what is due.
            let _ = deadline.as_mut().poll(cx);
            self.deadline = Some(deadline);
        }
        self.held.extend_from_slice(ack);
    }

    fn release(&mut self) {
        self.held.clear();
        self.held_sent = 0;
        self.deadline = None;
    }
}

impl<S: AsyncWrite + Unpin> EngineConnection<S> {
    /// Writes what is left of held acknowledgements once one has started to leave (nothing may
    /// come between its bytes), or all of them when `all`.
    fn poll_send_held(&mut self, cx: &mut Context<'_>, all: bool) -> Poll<io::Result<()>> {
        if self.held.is_empty() || (self.held_sent == 0 && !all) {
            return Poll::Ready(Ok(()));
        }
        while self.held_sent < self.held.len() {
            let n =
                ready!(Pin::new(&mut self.stream).poll_write(cx, &self.held[self.held_sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.held_sent += n;
        }
        self.release();
        Poll::Ready(Ok(()))
    }

    /// Whether held acknowledgements have waited long enough to ride behind a reply.
    fn acks_may_ride(&self) -> bool {
        self.deadline.as_ref().is_some_and(|deadline| {
            Instant::now() + (ACK_DEADLINE - ACK_RIDES_AFTER) >= deadline.deadline()
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for EngineConnection<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // h2 always has a read pending: the deadline wakes it here, and a held acknowledgement
        // goes out alone if h2 is between frames (else it rides behind the frame's end).
        let this = &mut *self;
        let expired = this
            .deadline
            .as_mut()
            .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
        if expired && this.frames.at_boundary() {
            // A write that cannot go now is retried on the next poll; reading goes on.
            if let Poll::Ready(Err(err)) = this.poll_send_held(cx, true) {
                return Poll::Ready(Err(err));
            }
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EngineConnection<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_send_held(cx, false))?;
        if buf.is_empty() {
            return Pin::new(&mut this.stream).poll_write(cx, buf);
        }
        if this.frames.at_boundary() && is_probe_ack(buf) {
            this.hold(buf, cx);
            return Poll::Ready(Ok(buf.len()));
        }
        if !this.held.is_empty() && this.acks_may_ride() && this.frames.boundary_after(buf) {
            // The reply's frames, then the acknowledgements, in one write.
            let mut both = Vec::with_capacity(buf.len() + this.held.len());
            both.extend_from_slice(buf);
            both.extend_from_slice(&this.held);
            let n = ready!(Pin::new(&mut this.stream).poll_write(cx, &both))?;
            let of_buf = n.min(buf.len());
            this.frames.advance(&buf[..of_buf]);
            this.held_sent = n - of_buf;
            if this.held_sent == this.held.len() {
                this.release();
            }
            return Poll::Ready(Ok(of_buf));
        }
        let n = ready!(Pin::new(&mut this.stream).poll_write(cx, buf))?;
        this.frames.advance(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_send_held(cx, false))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let all = this.frames.at_boundary();
        ready!(this.poll_send_held(cx, all))?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Whether `buf` is exactly one PING frame with the ACK flag (on stream 0) acknowledging the
/// engine's bandwidth probe.
fn is_probe_ack(buf: &[u8]) -> bool {
    const PING: u8 = 0x6;
    const ACK: u8 = 0x1;
    buf.len() == FRAME_HEADER + BDP_PROBE.len()
        && buf[..3] == [0, 0, 8]
        && buf[3] == PING
        && buf[4] & ACK != 0
        && buf[5..9] == [0, 0, 0, 0]
        && buf[FRAME_HEADER..] == BDP_PROBE
}

/// A position in a stream of HTTP/2 frames: how much of the current frame's header has been
/// seen, and how much of its payload is still to come.
#[derive(Clone, Default)]
struct FrameCursor {
    header: [u8; FRAME_HEADER],
    header_seen: usize,
    payload_left: usize,
}

impl FrameCursor {
    fn at_boundary(&self) -> bool {
        self.header_seen == 0 && self.payload_left == 0
    }

    fn advance(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (FRAME_HEADER - self.header_seen).min(bytes.len());
            self.header[self.header_seen..self.header_seen + n].copy_from_slice(&bytes[..n]);
            self.header_seen += n;
            bytes = &bytes[n..];
            if self.header_seen == FRAME_HEADER {
                let [a, b, c, ..] = self.header;
                self.payload_left = u32::from_be_bytes([0, a, b, c]) as usize;
                self.header_seen = 0;
            }
        }
    }

    /// Whether the stream would be between frames after `bytes`.
    fn boundary_after(&self, bytes: &[u8]) -> bool {
        let mut after = self.clone();
        after.advance(bytes);
        after.at_boundary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    const ACK: [u8; 17] = [0, 0, 8, 6, 1, 0, 0, 0, 0, 2, 4, 16, 16, 9, 14, 7, 7];

    /// A frame of `kind` on stream 1 with `len` bytes of payload.
    fn frame(kind: u8, len: usize) -> Vec<u8> {
        let mut f = vec![0, 0, 0, kind, 0, 0, 0, 0, 1];
        f[..3].copy_from_slice(&(len as u32).to_be_bytes()[1..]);
        f.extend(std::iter::repeat_n(0xAB, len));
        f
    }

    /// A served connection over an in-memory pipe, a task reading from it as h2 does, and the
    /// engine's end of the pipe.
    fn served() -> (
        tokio::io::WriteHalf<EngineConnection<DuplexStream>>,
        DuplexStream,
    ) {
        let (ours, engine) = tokio::io::duplex(1 << 16);
        let (mut reader, writer) = tokio::io::split(EngineConnection::new(ours));
        tokio::spawn(async move {
            let mut sink = [0u8; 64];
            while reader.read(&mut sink).await.is_ok_and(|n| n > 0) {}
        });
        (writer, engine)
    }

    /// What the engine's end has received so far.
    async fn received(engine: &mut DuplexStream) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n @ 1..)) =
            tokio::time::timeout(Duration::from_millis(1), engine.read(&mut buf)).await
        {
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_ack_goes_out_at_the_deadline() {
        let (mut conn, mut engine) = served();
        conn.write_all(&ACK).await.unwrap();
        conn.flush().await.unwrap();
        tokio::time::sleep(ACK_DEADLINE - Duration::from_millis(5)).await;
        assert_eq!(
            received(&mut engine).await,
            [0u8; 0],
            "held until the deadline"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(received(&mut engine).await, ACK);
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_rides_behind_a_reply_once_it_has_waited() {
        let (mut conn, mut engine) = served();
        let reply = [frame(1, 12), frame(0, 40), frame(1, 5)].concat();
        conn.write_all(&ACK).await.unwrap();
        conn.write_all(&reply).await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(received(&mut engine).await, reply, "too early to ride");
        tokio::time::sleep(ACK_RIDES_AFTER).await;
        conn.write_all(&reply).await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(received(&mut engine).await, [&reply[..], &ACK].concat());
        tokio::time::sleep(ACK_DEADLINE * 2).await;
        assert_eq!(received(&mut engine).await, [0u8; 0], "sent once");
    }

    /// Bytes that look like an acknowledgement inside another frame's payload are payload, and
    /// a held acknowledgement never goes between a frame's bytes.
    #[tokio::test(start_paused = true)]
    async fn acks_go_only_between_frames() {
        let (mut conn, mut engine) = served();
        let data = frame(0, ACK.len());
        conn.write_all(&data[..FRAME_HEADER]).await.unwrap();
        conn.write_all(&ACK).await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(
            received(&mut engine).await,
            data[..FRAME_HEADER]
                .iter()
                .chain(&ACK)
                .copied()
                .collect::<Vec<_>>()
        );

        conn.write_all(&ACK).await.unwrap();
        tokio::time::sleep(ACK_RIDES_AFTER).await;
        let big = frame(0, 100);
        conn.write_all(&big[..50]).await.unwrap();
        conn.flush().await.unwrap();
        tokio::time::sleep(ACK_DEADLINE).await;
        assert_eq!(
            received(&mut engine).await,
            big[..50],
            "not inside the frame"
        );
        conn.write_all(&big[50..]).await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(received(&mut engine).await, [&big[50..], &ACK].concat());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_sends_held_acks() {
        let (mut conn, mut engine) = served();
        conn.write_all(&ACK).await.unwrap();
        conn.write_all(&ACK).await.unwrap();
        conn.shutdown().await.unwrap();
        assert_eq!(received(&mut engine).await, [ACK, ACK].concat());
    }

    #[test]
    fn recognises_only_the_probes_acks() {
        assert!(is_probe_ack(&ACK));
        let mut ping = ACK;
        ping[4] = 0;
        assert!(
            !is_probe_ack(&ping),
            "a PING the engine must answer is not held"
        );
        let mut keepalive = ACK;
        keepalive[FRAME_HEADER..].fill(0);
        assert!(
            !is_probe_ack(&keepalive),
            "a keepalive's acknowledgement is not held"
        );
        let mut settings = ACK;
        settings[3] = 4;
        assert!(!is_probe_ack(&settings));
        assert!(!is_probe_ack(&[&ACK[..], &ACK].concat()));
    }

    #[tokio::test(start_paused = true)]
    async fn other_acks_leave_at_once_while_the_probe_ack_waits() {
        let (mut conn, mut engine) = served();
        conn.write_all(&ACK).await.unwrap();
        let mut keepalive = ACK;
        keepalive[FRAME_HEADER..].copy_from_slice(b"liveness");
        conn.write_all(&keepalive).await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(received(&mut engine).await, keepalive);
        tokio::time::sleep(ACK_DEADLINE).await;
        assert_eq!(
            received(&mut engine).await,
            ACK,
            "the probe's, at the deadline"
        );
    }

    #[test]
    fn cursor_follows_frames_split_anywhere() {
        let stream = [frame(4, 0), frame(1, 300), frame(0, 7)].concat();
        for split in 0..stream.len() {
            let mut cursor = FrameCursor::default();
            cursor.advance(&stream[..split]);
            let boundary = [0, 9, 9 + 9 + 300, stream.len()].contains(&split);
            assert_eq!(cursor.at_boundary(), boundary, "after {split} bytes");
            assert!(cursor.boundary_after(&stream[split..]));
            cursor.advance(&stream[split..]);
            assert!(cursor.at_boundary());
        }
    }
}
