//! The `ps` health probe: an HTTPS GET of a service's domain, answered with the status code or
//! why there was none. What the answer means is `inspect::ps::Health`'s to say.

use bytes::Bytes;
use defang_resources::inspect::ps::HealthProbe;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::error::Error as _;
use std::time::Duration;

/// How long the TCP connection may take (the whole probe is bounded by `ps` too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct HttpsProbe {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpsProbe {
    /// Verifies certificates against the system's roots, as a browser would: a domain whose
    /// certificate is not (yet) valid is an `error`, not `healthy`. Plain `http://` URLs are
    /// allowed too (only tests give them).
    pub fn new() -> Result<HttpsProbe, String> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("the system's root certificates could not be read: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(HttpsProbe {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }
}

#[async_trait::async_trait]
impl HealthProbe for HttpsProbe {
    async fn get(&self, url: &str) -> Result<u16, String> {
        let request = hyper::Request::get(url)
            .header(
                "user-agent",
                concat!(
                    "pulumi-resource-defang/",
                    env!("CARGO_PKG_VERSION"),
                    " (ps)"
                ),
            )
            .body(Empty::new())
            .map_err(|e| format!("bad URL {url}: {e}"))?;
        match self.client.request(request).await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(err) => Err(causes(&err)),
        }
    }
}

/// The error and its causes, `: `-separated (hyper's own Display is only `client error
/// (Connect)`; the cause says `dns error`, `connection refused` or the TLS alert).
fn causes(err: &hyper_util::client::legacy::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use defang_resources::inspect::ps::Health;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request with `status`, once per connection.
    async fn server(status: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = vec![0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        format!("http://{address}/")
    }

    #[tokio::test]
    async fn the_probe_reads_the_status_and_health_classifies_it() {
        let probe = HttpsProbe::new().unwrap();
        let ok = server("200 OK").await;
        assert_eq!(probe.get(&ok).await, Ok(200));
        assert_eq!(Health::classify(probe.get(&ok).await), Health::Healthy);
        let down = server("503 Service Unavailable").await;
        assert_eq!(
            Health::classify(probe.get(&down).await).label(),
            "unhealthy (503)"
        );
    }

    #[tokio::test]
    async fn no_answer_is_an_error_that_says_why() {
        let probe = HttpsProbe::new().unwrap();
        // A port nothing listens on (bound, then released).
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let err = probe.get(&format!("http://{closed}/")).await.unwrap_err();
        assert!(err.to_lowercase().contains("refused"), "{err}");
        // A name that cannot resolve (`.invalid` never does, RFC 6761).
        let err = probe
            .get("https://web--80.shop.alice.invalid/")
            .await
            .unwrap_err();
        assert!(err.contains("dns error"), "{err}");
        // HTTPS to a server that speaks plain HTTP: the TLS handshake fails.
        let plain = server("200 OK").await.replace("http://", "https://");
        let err = probe.get(&plain).await.unwrap_err();
        assert!(
            matches!(Health::classify(Err(err.clone())), Health::Error(_)),
            "{err}"
        );
    }
}
