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
    let server = ResourceProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tonic::transport::Server::builder()
        .add_service(server)
        .serve_with_incoming_shutdown(accept_without_delay(listener), shutdown_signal())
        .await?;
    cancel.cancel();
    Ok(())
}

/// The accepted connections, each with `TCP_NODELAY` set. Without it, a reply larger than one
/// segment waits for the engine's delayed ACK (Nagle's algorithm): about 40 ms per RPC instead of
/// 1–2 ms. tonic sets it only on listeners it binds itself, and this one is bound here so that
/// the port can be printed first.
fn accept_without_delay(
    listener: tokio::net::TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
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

    /// Every accepted connection has TCP_NODELAY (a plain TcpListenerStream leaves it off).
    #[tokio::test]
    async fn accepted_connections_do_not_delay_small_writes() {
        use futures::StreamExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut incoming = Box::pin(accept_without_delay(listener));
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap());
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
