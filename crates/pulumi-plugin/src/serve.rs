//! Serving a provider the way the engine launches it: bind 127.0.0.1 on a free port, print the
//! port as the only line on stdout, serve until SIGINT/SIGTERM.

use crate::engine_log::EngineLog;
use crate::provider::Provider;
use crate::server::PluginService;
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_server::ResourceProviderServer;
use std::io::Write;

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
    grpc_server(service)
        .serve_with_incoming_shutdown(accept_without_delay(listener), shutdown_signal())
        .await?;
    cancel.cancel();
    Ok(())
}

/// The gRPC server of one provider, with the engine's message limits.
fn grpc_server<P: Provider>(service: PluginService<P>) -> tonic::transport::server::Router {
    let server = ResourceProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tonic::transport::Server::builder().add_service(server)
}

/// The accepted connections, each with `TCP_NODELAY` set. Without it, a reply larger than one
/// segment waits for the engine's delayed ACK (Nagle's algorithm): about 40 ms per RPC instead of
/// 1–2 ms. tonic sets it only on listeners it binds itself, and this one is bound here so that
/// the port can be printed first.
fn accept_without_delay(
    listener: tokio::net::TcpListener,
) -> impl futures::Stream<Item = std::io::Result<OneWritePerReply<tokio::net::TcpStream>>> {
    use futures::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(OneWritePerReply(stream))
    })
}

/// An accepted connection that tells h2 it has no vectored writes. h2 then copies a reply's
/// payload into its frame buffer when it is under 1 KiB (256 bytes with vectored writes), so
/// the headers, the message and the trailers of a typical reply leave in one `write` instead
/// of two `writev`s: over loopback every write also pays the engine side's receive path.
struct OneWritePerReply<S>(S);

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for OneWritePerReply<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for OneWritePerReply<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl<S: tonic::transport::server::Connected> tonic::transport::server::Connected
    for OneWritePerReply<S>
{
    type ConnectInfo = S::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.connect_info()
    }
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

    /// Every accepted connection has TCP_NODELAY (a plain TcpListenerStream leaves it off).
    #[tokio::test]
    async fn accepted_connections_do_not_delay_small_writes() {
        use futures::StreamExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut incoming = Box::pin(accept_without_delay(listener));
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.0.nodelay().unwrap());
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

    impl tonic::transport::server::Connected for CountingWrites {
        type ConnectInfo = tonic::transport::server::TcpConnectInfo;
        fn connect_info(&self) -> Self::ConnectInfo {
            self.stream.connect_info()
        }
    }

    /// The writes the server makes for the second of two GetSchema calls on one connection
    /// (the first also carries the connection's settings), with a 600-byte reply: larger than
    /// h2's 256-byte copy threshold for vectored I/O, smaller than its 1 KiB one without.
    async fn writes_for_one_reply(one_write_per_reply: bool) -> usize {
        use futures::StreamExt;
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
        let server = grpc_server(service);
        let accepted = accept_without_delay(listener);
        tokio::spawn(async move {
            if one_write_per_reply {
                let incoming = accepted.map(move |c| {
                    c.map(|c| {
                        OneWritePerReply(CountingWrites {
                            stream: c.0,
                            writes: counted.clone(),
                        })
                    })
                });
                server.serve_with_incoming(incoming).await
            } else {
                let incoming = accepted.map(move |c| {
                    c.map(|c| CountingWrites {
                        stream: c.0,
                        writes: counted.clone(),
                    })
                });
                server.serve_with_incoming(incoming).await
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
    /// (2,000 RPCs) made 5,858 writes before and 3,916 after (the rest are PING acknowledgements
    /// to the engine's flow-control probes). The plain stream shows why the wrapper exists: if
    /// h2 stops splitting replies, this test says the wrapper can go.
    #[tokio::test]
    async fn a_reply_leaves_in_one_write() {
        assert_eq!(writes_for_one_reply(true).await, 1);
        assert!(writes_for_one_reply(false).await > 1);
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
