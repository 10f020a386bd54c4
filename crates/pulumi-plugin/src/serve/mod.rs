//! Serving a provider the way the engine launches it: bind 127.0.0.1 on a free port, print the
//! port as the only line on stdout, serve until SIGINT/SIGTERM.

use crate::engine_log::EngineLog;
use crate::provider::Provider;
use crate::server::PluginService;
use connection::accepted;
use routes::Routes;
use std::io::Write;

mod connection;
mod routes;
mod unary;

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

/// Serves HTTP/2 (gRPC) on every connection `listener` accepts, each with `TCP_NODELAY` set,
/// until `shutdown`; then lets the calls in flight finish.
///
/// `TCP_NODELAY`: without it, a reply larger than one segment waits for the engine's delayed
/// ACK (Nagle's algorithm): about 40 ms per RPC instead of 1–2 ms.
async fn serve_connections<P: Provider>(
    service: PluginService<P>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let routes = Routes::new(service);
    let (stop, stopping) = tokio::sync::watch::channel(());
    let mut connections = tokio::task::JoinSet::new();
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
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(
            accepted(stream),
            routes.clone(),
            stopping.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(());
    while connections.join_next().await.is_some() {}
}

/// Serves one connection until the client closes it, or until `stopping` changes: then it
/// sends GOAWAY and ends once the calls in flight are answered. Each call runs in a task of
/// its own (a Create may wait minutes on AWS; the connection goes on meanwhile).
///
/// The h2 crate directly, with hyper's server defaults (windows, frame and header sizes,
/// concurrent streams): see [`unary`] for why not hyper's and tonic's servers.
async fn serve_connection<P: Provider>(
    io: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    routes: Routes<P>,
    mut stopping: tokio::sync::watch::Receiver<()>,
) {
    let handshake = h2_server().handshake::<_, bytes::Bytes>(io);
    let mut connection = tokio::select! {
        handshake = handshake => match handshake {
            Ok(connection) => connection,
            Err(err) => {
                tracing::debug!(%err, "handshake failed");
                return;
            }
        },
        _ = stopping.changed() => return,
    };
    let mut stopped = false;
    loop {
        let next = tokio::select! {
            next = connection.accept() => next,
            _ = stopping.changed(), if !stopped => {
                stopped = true;
                connection.graceful_shutdown();
                continue;
            }
        };
        match next {
            Some(Ok((request, respond))) => {
                tokio::spawn(unary::serve(request, respond, routes.clone()));
            }
            Some(Err(err)) => {
                tracing::debug!(%err, "connection ended");
                break;
            }
            None => break,
        }
    }
}

/// h2's server with the settings hyper's HTTP/2 server gives it by default.
fn h2_server() -> h2::server::Builder {
    let mut builder = h2::server::Builder::new();
    builder
        .initial_window_size(1024 * 1024)
        .initial_connection_window_size(1024 * 1024)
        .max_frame_size(16 * 1024)
        .max_header_list_size(16 * 1024)
        .max_local_error_reset_streams(Some(1024))
        .max_send_buffer_size(400 * 1024)
        .max_concurrent_streams(200);
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
        let (address, stop, server) = serve_gated(&Gate::default()).await;
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

    /// A served SchemaOnly with this gate, its address, how to stop it, and its task.
    async fn serve_gated(
        gate: &Gate,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let provider = SchemaOnly("s".into(), gate.clone());
        let service = PluginService::new("t", "0.0.1", provider, EngineLog::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_connections(service, listener, async {
            let _ = stopped.await;
        }));
        (address, stop, server)
    }

    fn create_request(name: &str) -> crate::rpc::CreateRequest {
        crate::rpc::CreateRequest {
            urn: format!("urn:pulumi:dev::p::t:index:Note::{name}"),
            name: name.into(),
            ..Default::default()
        }
    }

    /// On shutdown, a call in flight still gets its answer before the server returns.
    #[tokio::test]
    async fn shutdown_lets_calls_in_flight_finish() {
        use crate::rpc::resource_provider_client::ResourceProviderClient;
        let gate = Gate::default();
        let (address, stop, server) = serve_gated(&gate).await;
        let mut client = ResourceProviderClient::connect(format!("http://{address}"))
            .await
            .unwrap();
        let call = tokio::spawn(async move { client.create(create_request("a")).await });
        gate.reached().await;
        stop.send(()).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!server.is_finished(), "a call is still in flight");
        gate.open();
        let created = call.await.unwrap().unwrap().into_inner();
        assert_eq!(created.id, "a-id");
        tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .expect("the server returns once the call is answered")
            .unwrap();
        assert!(!gate.dropped().await);
    }

    /// A call the client cancels (its stream reset) is dropped where it stands, and the
    /// connection goes on serving.
    #[tokio::test]
    async fn a_call_the_client_cancels_is_dropped() {
        use crate::rpc::resource_provider_client::ResourceProviderClient;
        let gate = Gate::default();
        let (address, stop, server) = serve_gated(&gate).await;
        let client = ResourceProviderClient::connect(format!("http://{address}"))
            .await
            .unwrap();
        let mut cancelled = client.clone();
        let call = tokio::spawn(async move { cancelled.create(create_request("a")).await });
        gate.reached().await;
        call.abort();
        assert!(gate.dropped().await, "the call was dropped");
        let mut client = client;
        let schema = client.get_schema(crate::rpc::GetSchemaRequest::default());
        assert_eq!(schema.await.unwrap().into_inner().schema, "s");
        stop.send(()).unwrap();
        server.await.unwrap();
    }

    /// A call made with the h2 crate's client: its reply's headers and its body (message and
    /// trailers). `message` is sent as it is, framed or not, and ends the request when `end`.
    async fn raw_call(
        address: std::net::SocketAddr,
        path: &str,
        message: &[u8],
        end: bool,
    ) -> http::Response<h2::RecvStream> {
        let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let (client, connection) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(connection);
        let mut client = client.ready().await.unwrap();
        let request = http::Request::post(format!("http://{address}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut body) = client.send_request(request, false).unwrap();
        body.send_data(bytes::Bytes::copy_from_slice(message), end)
            .unwrap();
        let response = tokio::time::timeout(std::time::Duration::from_secs(10), response);
        response.await.expect("an answer").unwrap()
    }

    /// The grpc-status of a trailers-only answer (a failed call), with its message.
    fn failure(response: &http::Response<h2::RecvStream>) -> (String, String) {
        assert!(response.body().is_end_stream(), "trailers only");
        let header = |name| response.headers()[name].to_str().unwrap().to_string();
        assert_eq!(header("content-type"), "application/grpc");
        let message = response
            .headers()
            .get("grpc-message")
            .map(|m| m.to_str().unwrap().to_string())
            .unwrap_or_default();
        (header("grpc-status"), message)
    }

    /// What is not a call of the protocol gets gRPC's statuses, as tonic's server answered: an
    /// unknown method is UNIMPLEMENTED; a message over the limit is OUT_OF_RANGE as soon as
    /// its prefix says so (the rest is never read); a compressed or cut message is INTERNAL.
    #[tokio::test]
    async fn requests_outside_the_protocol_get_grpc_statuses() {
        let gate = Gate::default();
        let (address, stop, server) = serve_gated(&gate).await;
        let schema = "/pulumirpc.ResourceProvider/GetSchema";
        let unknown = raw_call(address, "/pulumirpc.ResourceProvider/Nope", &[0; 5], true);
        assert_eq!(failure(&unknown.await), ("12".to_string(), String::new()));

        let huge = raw_call(address, schema, &[0, 0xff, 0xff, 0xff, 0xff], false).await;
        let (code, message) = failure(&huge);
        assert_eq!(code, "11");
        assert!(message.contains("4294967295"), "{message}");

        let compressed = raw_call(address, schema, &[1, 0, 0, 0, 0], true).await;
        let (code, message) = failure(&compressed);
        assert_eq!(code, "13");
        assert!(message.contains("compressed-flag"), "{message}");

        let cut = raw_call(address, schema, &[0, 0, 0, 0, 9, 1], true).await;
        assert_eq!(failure(&cut).0, "13");

        // A well-formed call on the same terms: headers, the message, then grpc-status 0.
        let mut answered = raw_call(address, schema, &[0; 5], true).await;
        assert_eq!(answered.headers()["content-type"], "application/grpc");
        assert!(answered.headers().get("grpc-status").is_none());
        let body = answered.body_mut();
        let message = body.data().await.unwrap().unwrap();
        assert_eq!(&message[..], &[0, 0, 0, 0, 3, 10, 1, b's']);
        let trailers = body.trailers().await.unwrap().unwrap();
        assert_eq!(trailers["grpc-status"], "0");
        stop.send(()).unwrap();
        server.await.unwrap();
    }

    /// A provider whose working RPCs are GetSchema, with the given schema, and Create, which
    /// waits at the gate.
    struct SchemaOnly(String, Gate);

    /// Where a Create waits until the test opens it: shows whether a call in flight was
    /// dropped or finished.
    #[derive(Clone)]
    struct Gate {
        reached: Arc<tokio::sync::Semaphore>,
        open: Arc<tokio::sync::Semaphore>,
        dropped: Arc<std::sync::atomic::AtomicBool>,
    }

    /// Sets its flag when dropped before it is disarmed.
    struct DropFlag(Option<Arc<std::sync::atomic::AtomicBool>>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            if let Some(flag) = self.0.take() {
                flag.store(true, Ordering::SeqCst);
            }
        }
    }

    impl Default for Gate {
        fn default() -> Self {
            Gate {
                reached: Arc::new(tokio::sync::Semaphore::new(0)),
                open: Arc::new(tokio::sync::Semaphore::new(0)),
                dropped: Arc::default(),
            }
        }
    }

    impl Gate {
        async fn pass(&self) {
            let mut in_flight = DropFlag(Some(self.dropped.clone()));
            self.reached.add_permits(1);
            self.open.acquire().await.unwrap().forget();
            in_flight.0 = None;
        }

        /// Until a call waits at the gate.
        async fn reached(&self) {
            self.reached.acquire().await.unwrap().forget();
        }

        fn open(&self) {
            self.open.add_permits(1);
        }

        /// Whether a call was dropped at the gate (waiting up to 5 s for it to be).
        async fn dropped(&self) -> bool {
            for _ in 0..500 {
                if self.dropped.load(Ordering::SeqCst) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            false
        }
    }

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
        async fn create(&self, req: CreateRequest, _: Context) -> Result<CreateResponse, Error> {
            self.1.pass().await;
            Ok(CreateResponse {
                id: format!("{}-id", req.name),
                outputs: req.inputs,
            })
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
            SchemaOnly("s".repeat(600), Gate::default()),
            EngineLog::default(),
        );
        let routes = Routes::new(service);
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let counting = CountingWrites {
                stream,
                writes: counted,
            };
            let (_running, stopping) = tokio::sync::watch::channel(());
            if one_write_per_reply {
                let io = connection::EngineConnection::new(counting);
                serve_connection(io, routes, stopping).await
            } else {
                serve_connection(counting, routes, stopping).await
            }
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
        let service = PluginService::new(
            "t",
            "0.0.1",
            SchemaOnly("s".into(), Gate::default()),
            EngineLog::default(),
        );
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
