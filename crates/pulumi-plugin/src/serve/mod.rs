//! Serving a provider the way the engine launches it: bind 127.0.0.1 on a free port, print the
//! port as the only line on stdout, serve until SIGINT/SIGTERM.

use crate::engine_log::EngineLog;
use crate::provider::Provider;
use crate::server::PluginService;
use connection::accepted;
use std::io::Write;

mod connection;
mod routes;

/// The engine's own gRPC message limit.
pub const MAX_MESSAGE_BYTES: usize = 400 * 1024 * 1024;

/// The engine address: the last positional argument (flags such as `--logtostderr`, `-v=9` and
/// `--tracing <endpoint>` come before it and are ignored). None when attached by hand.
pub fn engine_address(args: &[String]) -> Option<String> {
    let mut positional = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if skip_next {
            skip_next = false;
            continue;
        }
        if arg == "--tracing" {
            skip_next = true;
        } else if !arg.starts_with('-') {
            positional.push(arg.clone());
        }
    }
    positional.pop()
}

/// Serves `provider`, the plugin of `package` at `version` (see [`PluginService::new`]): binds
/// 127.0.0.1 on a free port, prints the port as the only line on stdout (how the engine finds
/// it; nothing else may write to stdout), connects the engine log to the address in the
/// arguments, and serves until SIGINT or SIGTERM, cancelling operations still running.
///
/// Fails when the port cannot be bound or printed, or the server fails.
pub async fn serve<P: Provider>(
    package: &str,
    version: &str,
    provider: P,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let engine = EngineLog::default();
    if let Some(address) = engine_address(&args) {
        engine.connect(&address);
    }
    let service = PluginService::new(package, version, provider, engine);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
    }
    tracing::info!(port, "serving");
    let cancel = service.cancellation();
    serve_connections(service, listener, shutdown_signal()).await;
    cancel.cancel();
    Ok(())
}

/// The provider's one gRPC service, with the engine's message limits.
fn grpc_service<P: Provider>(service: PluginService<P>) -> routes::Routes<P> {
    routes::Routes::new(service)
}

/// Serves HTTP/2 (gRPC) on every connection `listener` accepts, each with `TCP_NODELAY` set,
/// until `shutdown`; then lets the requests in flight finish.
///
/// hyper directly, not tonic's transport `Server`: that one routes each request through
/// layers (a router, a timeout, error recovery, a tracing span) that one service does not
/// need, and every RPC of a preview pays for their code.
///
/// `TCP_NODELAY`: without it, a reply larger than one segment waits for the engine's delayed
/// ACK (Nagle's algorithm): about 40 ms per RPC instead of 1–2 ms.
async fn serve_connections<P: Provider>(
    service: PluginService<P>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let service = hyper_util::service::TowerToHyperService::new(grpc_service(service));
    let http2 = http2_server();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = graceful.watch(http2.serve_connection(
            hyper_util::rt::TokioIo::new(accepted(stream)),
            service.clone(),
        ));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended");
            }
        });
    }
    graceful.shutdown().await;
}

/// hyper's HTTP/2 server, its tasks on the current tokio runtime, without the `date` header
/// hyper adds to every response by default (gRPC clients do not read it; each reply paid for
/// its formatting and encoding).
fn http2_server() -> hyper::server::conn::http2::Builder<hyper_util::rt::TokioExecutor> {
    let mut builder =
        hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder.auto_date_header(false);
    builder
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::*;
    use crate::{Context, Diff, Error, PropertyMap};
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context as TaskContext, Poll};

    /// Every accepted connection has TCP_NODELAY (an accepted socket has it off).
    #[tokio::test]
    async fn accepted_connections_do_not_delay_small_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        assert!(!stream.nodelay().unwrap());
        assert!(accepted(stream).get_ref().nodelay().unwrap());
    }

    /// The server answers on every connection it accepts, and on shutdown stops accepting and
    /// returns once the connections are done.
    #[tokio::test]
    async fn serves_until_shutdown() {
        use pulumi_gestalt_proto::pulumi::pulumirpc::GetSchemaRequest;
        use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_client::ResourceProviderClient;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service =
            PluginService::new("t", "0.0.1", SchemaOnly("s".into()), EngineLog::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_connections(service, listener, async {
            let _ = stopped.await;
        }));
        for _ in 0..2 {
            let mut client = ResourceProviderClient::connect(format!("http://{address}"))
                .await
                .unwrap();
            let reply = client
                .get_schema(GetSchemaRequest::default())
                .await
                .unwrap();
            assert!(
                reply.metadata().get("date").is_none(),
                "no date header: gRPC does not read it, and each reply paid to encode it"
            );
            assert_eq!(reply.into_inner().schema, "s");
        }
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server returns after shutdown")
            .unwrap();
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
    }

    /// A provider whose only working RPC is GetSchema, with a schema of the given size.
    struct SchemaOnly(String);

    #[async_trait::async_trait]
    impl Provider for SchemaOnly {
        fn schema(&self) -> &str {
            &self.0
        }
        async fn configure(&self, _: PropertyMap) -> Result<(), Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn check(&self, _: CheckRequest) -> Result<CheckResponse, Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn diff(&self, _: DiffRequest) -> Result<Diff, Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn create(&self, _: CreateRequest, _: Context) -> Result<CreateResponse, Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn read(&self, _: ReadRequest, _: Context) -> Result<ReadResponse, Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn update(&self, _: UpdateRequest, _: Context) -> Result<PropertyMap, Error> {
            Err(Error::Failed("unused".into()))
        }
        async fn delete(&self, _: DeleteRequest, _: Context) -> Result<(), Error> {
            Err(Error::Failed("unused".into()))
        }
    }

    /// A connection that counts the writes the server makes on it.
    struct CountingWrites {
        stream: tokio::net::TcpStream,
        writes: Arc<AtomicUsize>,
    }

    impl tokio::io::AsyncRead for CountingWrites {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_read(cx, buf)
        }
    }

    impl tokio::io::AsyncWrite for CountingWrites {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let written = Pin::new(&mut self.stream).poll_write(cx, buf);
            if matches!(written, Poll::Ready(Ok(_))) {
                self.writes.fetch_add(1, Ordering::SeqCst);
            }
            written
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
            if matches!(written, Poll::Ready(Ok(_))) {
                self.writes.fetch_add(1, Ordering::SeqCst);
            }
            written
        }
        fn is_write_vectored(&self) -> bool {
            self.stream.is_write_vectored()
        }
        fn poll_flush(
            mut self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut TaskContext<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.stream).poll_shutdown(cx)
        }
    }

    /// The writes the server makes for the second of two GetSchema calls on one connection
    /// (the first also carries the connection's settings), with a 600-byte reply: larger than
    /// h2's 256-byte copy threshold for vectored I/O, smaller than its 1 KiB one without.
    async fn writes_for_one_reply(one_write_per_reply: bool) -> usize {
        use pulumi_gestalt_proto::pulumi::pulumirpc::GetSchemaRequest;
        use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_client::ResourceProviderClient;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let writes = Arc::new(AtomicUsize::new(0));
        let counted = writes.clone();
        let service = PluginService::new(
            "t",
            "0.0.1",
            SchemaOnly("s".repeat(600)),
            EngineLog::default(),
        );
        let service = hyper_util::service::TowerToHyperService::new(grpc_service(service));
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let counting = CountingWrites {
                stream,
                writes: counted,
            };
            let served = if one_write_per_reply {
                let io = hyper_util::rt::TokioIo::new(connection::EngineConnection::new(counting));
                http2_server().serve_connection(io, service).await
            } else {
                let io = hyper_util::rt::TokioIo::new(counting);
                http2_server().serve_connection(io, service).await
            };
            served.unwrap();
        });
        let mut client = ResourceProviderClient::connect(format!("http://{address}"))
            .await
            .unwrap();
        let request = || GetSchemaRequest::default();
        let first = client.get_schema(request()).await.unwrap().into_inner();
        assert_eq!(first.schema.len(), 600);
        // Let the first reply's writes (and any settings acknowledgement) land.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let before = writes.load(Ordering::SeqCst);
        client.get_schema(request()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        writes.load(Ordering::SeqCst) - before
    }

    /// A reply leaves in one write: headers, message and trailers together. Over loopback each
    /// write also runs the engine side's receive path on our CPU, so a preview of 1,000 services
    /// (2,000 RPCs) made 5,858 writes before and 3,916 after, half of them acknowledgements of
    /// the engine's flow-control probes; 1,953 once those ride behind replies
    /// (`ping_acknowledgements_ride_behind_replies`). The plain stream shows why the wrapper
    /// copies: if h2 stops splitting replies, this test says that part can go.
    #[tokio::test]
    async fn a_reply_leaves_in_one_write() {
        assert_eq!(writes_for_one_reply(true).await, 1);
        assert!(writes_for_one_reply(false).await > 1);
    }

    /// The engine's side of a connection, spoken frame by frame: enough HTTP/2 to call
    /// GetSchema and to send PINGs, and to see exactly what the server writes back.
    struct RawEngine {
        stream: tokio::net::TcpStream,
        next_stream: u32,
    }

    /// A frame as read: type, flags, stream, payload.
    type Frame = (u8, u8, u32, Vec<u8>);

    impl RawEngine {
        async fn connect(address: std::net::SocketAddr) -> RawEngine {
            use tokio::io::AsyncWriteExt;
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream.set_nodelay(true).unwrap();
            stream
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await
                .unwrap();
            let mut engine = RawEngine {
                stream,
                next_stream: 1,
            };
            engine.send(4, 0, 0, &[]).await;
            // The server's settings, then its acknowledgement of ours.
            let settings = engine.frames_until(|f| f.0 == 4 && f.1 & 1 != 0).await;
            let theirs = settings.iter().find(|f| f.0 == 4 && f.1 & 1 == 0).unwrap();
            assert_eq!(theirs.2, 0);
            engine.send(4, 1, 0, &[]).await;
            engine
        }

        async fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
            use tokio::io::AsyncWriteExt;
            let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
            frame.extend([kind, flags]);
            frame.extend(stream.to_be_bytes());
            frame.extend(payload);
            self.stream.write_all(&frame).await.unwrap();
        }

        /// Calls GetSchema (headers as literals, no Huffman) and returns every frame read
        /// until the reply's trailers, in order.
        async fn get_schema(&mut self) -> Vec<Frame> {
            let id = self.next_stream;
            self.next_stream += 2;
            let mut block = Vec::new();
            for (name, value) in [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", "/pulumirpc.ResourceProvider/GetSchema"),
                (":authority", "127.0.0.1"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            ] {
                block.push(0);
                block.push(name.len() as u8);
                block.extend(name.as_bytes());
                block.push(value.len() as u8);
                block.extend(value.as_bytes());
            }
            const END_HEADERS: u8 = 0x4;
            const END_STREAM: u8 = 0x1;
            self.send(1, END_HEADERS, id, &block).await;
            // An empty GetSchemaRequest, gRPC-framed.
            self.send(0, END_STREAM, id, &[0, 0, 0, 0, 0]).await;
            self.frames_until(|f| f.0 == 1 && f.2 == id && f.1 & END_STREAM != 0)
                .await
        }

        /// Frames read until one matches `last` (included).
        async fn frames_until(&mut self, last: impl Fn(&Frame) -> bool) -> Vec<Frame> {
            let mut frames = Vec::new();
            loop {
                let frame = self.frame().await;
                let done = last(&frame);
                frames.push(frame);
                if done {
                    return frames;
                }
            }
        }

        async fn frame(&mut self) -> Frame {
            use tokio::io::AsyncReadExt;
            let mut head = [0u8; 9];
            self.stream.read_exact(&mut head).await.unwrap();
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0; len];
            self.stream.read_exact(&mut payload).await.unwrap();
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            (head[3], head[4], stream, payload)
        }

        /// The next frame if one comes within `wait`.
        async fn frame_within(&mut self, wait: std::time::Duration) -> Option<Frame> {
            tokio::time::timeout(wait, self.frame()).await.ok()
        }
    }

    /// The engine's bandwidth probe (a PING after each reply) is answered behind a later
    /// reply, not with a write and a wake-up of its own; and it is answered. Any other PING is
    /// answered at once.
    #[tokio::test]
    async fn ping_acknowledgements_ride_behind_replies() {
        use connection::{ACK_DEADLINE, ACK_RIDES_AFTER, BDP_PROBE};
        use std::time::Duration;
        const PING: u8 = 6;
        const ACK: u8 = 1;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service =
            PluginService::new("t", "0.0.1", SchemaOnly("s".into()), EngineLog::default());
        tokio::spawn(serve_connections(service, listener, std::future::pending()));
        let mut engine = RawEngine::connect(address).await;
        let acks =
            |payload: [u8; 8]| move |f: &Frame| f.0 == PING && f.1 & ACK != 0 && f.3 == payload;
        let is_ack = acks(BDP_PROBE);

        let reply = engine.get_schema().await;
        assert!(!reply.iter().any(is_ack));
        engine.send(PING, 0, 0, &BDP_PROBE).await;
        let alone = engine.frame_within(Duration::from_millis(30)).await;
        assert!(alone.is_none(), "no write of its own: {alone:?}");

        // A keepalive (grpc-go's has a zero payload) is answered at once, probe held or not.
        let keepalive = [0u8; 8];
        engine.send(PING, 0, 0, &keepalive).await;
        let answer = engine.frame_within(Duration::from_millis(500)).await;
        assert!(answer.as_ref().is_some_and(acks(keepalive)), "{answer:?}");

        tokio::time::sleep(ACK_RIDES_AFTER).await;
        let reply = engine.get_schema().await;
        assert!(!reply.iter().any(is_ack), "behind the reply, not before it");
        let behind = engine.frame_within(Duration::from_millis(30)).await;
        assert!(behind.as_ref().is_some_and(is_ack), "{behind:?}");

        // With no reply to ride behind, it still goes out, within the deadline.
        engine.send(PING, 0, 0, &BDP_PROBE).await;
        let alone = engine.frame_within(ACK_DEADLINE * 3).await;
        assert!(alone.as_ref().is_some_and(is_ack), "{alone:?}");
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn engine_address_is_last_positional() {
        assert_eq!(
            engine_address(&args(&["127.0.0.1:5000"])).as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            engine_address(&args(&[
                "--logtostderr",
                "-v=9",
                "--tracing",
                "http://t",
                "127.0.0.1:1"
            ]))
            .as_deref(),
            Some("127.0.0.1:1")
        );
        assert_eq!(engine_address(&args(&[])), None);
    }
}
