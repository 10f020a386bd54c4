//! The build-pipeline adapters against scripted HTTP answers, for what moto cannot show:
//! a multipart upload that fails half-way is aborted, StopBuild's refusal for a finished
//! build, BatchGetBuilds' limit of 100 ids per call, and S3's bare 403 for a missing key.

use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use defang_aws::{AwsSettings, CodeBuildAdapter, S3Adapter, config};
use defang_resources::cloud::{BuildStatus, Builds, CloudErrorKind, ObjectStore};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the stub saw of a request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path and query.
    target: String,
    /// `x-amz-target` (the operation of JSON protocols), or empty.
    operation: String,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn reply(status: u16, content_type: &'static str, body: &str) -> Reply {
    Reply {
        status,
        content_type,
        body: body.to_owned(),
    }
}

/// Answers each request with `route(request)` and records it.
async fn stub(route: fn(&Seen) -> Reply) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else {
                    return;
                };
                let answer = route(&request);
                log.lock().unwrap().push(request);
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.status,
                    answer.content_type,
                    answer.body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(answer.body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (endpoint, seen)
}

/// Reads the request line, headers and a Content-Length body.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < end + 4 + length {
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let mut first = head.lines().next()?.split(' ');
        return Some(Seen {
            method: first.next()?.to_owned(),
            target: first.next()?.to_owned(),
            operation: header("x-amz-target").unwrap_or_default(),
            body: buf[end + 4..end + 4 + length].to_vec(),
        });
    }
}

// The endpoint is also set on each client's own config: that overrides AWS_ENDPOINT_URL, which
// the test command sets for the moto tests running in the same `cargo test`.
async fn s3_at(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(endpoint).await)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn codebuild_at(endpoint: &str) -> aws_sdk_codebuild::Client {
    let config = aws_sdk_codebuild::config::Builder::from(&sdk_config(endpoint).await)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_codebuild::Client::from_conf(config)
}

/// Our configuration (retry policy included), at the stub, with near-zero backoff.
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        profile: None,
        max_retries: None,
    };
    config::load(&settings)
        .await
        .unwrap()
        .to_builder()
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "static",
        )))
        .retry_config(
            config::retry_config(config::DEFAULT_MAX_RETRIES)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2)),
        )
        .build()
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(size: usize) -> TempFile {
    let path = std::env::temp_dir().join(format!("defang-canned-{}-{size}", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![7u8; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    TempFile(path)
}

const S3_ACCESS_DENIED: &str =
    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

#[tokio::test]
async fn a_failed_part_aborts_the_multipart_upload() {
    let (endpoint, seen) = stub(|r| match (r.method.as_str(), r.target.as_str()) {
        ("POST", t) if t.ends_with("?uploads") || t.contains("?uploads&") => reply(
            200,
            "application/xml",
            "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>\
             <UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
        ),
        ("PUT", t) if t.contains("partNumber=3") => reply(403, "application/xml", S3_ACCESS_DENIED),
        ("PUT", _) => reply(200, "application/xml", ""),
        ("DELETE", _) => reply(204, "application/xml", ""),
        _ => reply(
            400,
            "application/xml",
            "<Error><Code>Unexpected</Code></Error>",
        ),
    })
    .await;
    let objects = S3Adapter::new(s3_at(&endpoint).await);
    let file = temp_file(65 * 1024 * 1024); // 5 parts of 16 MiB, the last one 1 MiB
    let err = objects.put_file("b", "k", &file.0).await.unwrap_err();
    assert!(err.kind() == CloudErrorKind::AccessDenied, "{err:?}");
    let seen = seen.lock().unwrap().clone();
    let aborts: Vec<_> = seen.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(aborts.len(), 1, "{seen:#?}");
    assert!(aborts[0].target.contains("uploadId=up-1"));
    assert!(
        !seen
            .iter()
            .any(|r| r.method == "POST" && r.target.contains("uploadId="))
    );
}

#[tokio::test]
async fn a_bare_403_on_head_object_explains_list_bucket() {
    let (endpoint, _) = stub(|_| reply(403, "application/xml", "")).await;
    let objects = S3Adapter::new(s3_at(&endpoint).await);
    let err = objects.object_exists("contexts", "k").await.unwrap_err();
    assert!(err.kind() == CloudErrorKind::AccessDenied, "{err:?}");
    assert!(err.to_string().contains("s3:ListBucket"), "{err}");
}

fn build_json(id: &str, status: &str) -> String {
    format!(r#"{{"id":"{id}","buildStatus":"{status}","currentPhase":"COMPLETED","phases":[]}}"#)
}

#[tokio::test]
async fn stop_build_of_a_finished_build_is_ok_and_of_a_running_one_is_not() {
    let (endpoint, seen) = stub(|r| {
        let body = String::from_utf8_lossy(&r.body);
        match r.operation.as_str() {
            "CodeBuild_20161006.StopBuild" => reply(
                400,
                "application/x-amz-json-1.1",
                r#"{"__type":"InvalidInputException","message":"Build cannot be stopped"}"#,
            ),
            "CodeBuild_20161006.BatchGetBuilds" if body.contains("p:done") => reply(
                200,
                "application/x-amz-json-1.1",
                &format!(r#"{{"builds":[{}]}}"#, build_json("p:done", "SUCCEEDED")),
            ),
            "CodeBuild_20161006.BatchGetBuilds" => reply(
                200,
                "application/x-amz-json-1.1",
                &format!(
                    r#"{{"builds":[{}]}}"#,
                    build_json("p:running", "IN_PROGRESS")
                ),
            ),
            _ => reply(
                400,
                "application/x-amz-json-1.1",
                r#"{"__type":"Unexpected"}"#,
            ),
        }
    })
    .await;
    let builds = CodeBuildAdapter::new(codebuild_at(&endpoint).await);
    builds.stop_build("p:done").await.unwrap();
    let err = builds.stop_build("p:running").await.unwrap_err();
    assert!(err.kind() == CloudErrorKind::Invalid, "{err:?}");
    assert!(err.to_string().contains("Build cannot be stopped"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn batch_get_builds_asks_for_at_most_100_ids_per_call() {
    let (endpoint, seen) = stub(|r| {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let builds: Vec<String> = body["ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|id| id.as_str())
            .filter(|id| id.ends_with(":7") || id.ends_with(":249"))
            .map(|id| build_json(id, "IN_PROGRESS"))
            .collect();
        reply(
            200,
            "application/x-amz-json-1.1",
            &format!(r#"{{"builds":[{}],"buildsNotFound":[]}}"#, builds.join(",")),
        )
    })
    .await;
    let builds = CodeBuildAdapter::new(codebuild_at(&endpoint).await);
    let ids: Vec<String> = (0..250).map(|n| format!("p:{n}")).collect();
    let states = builds.batch_get_builds(&ids).await.unwrap();
    let found: Vec<_> = states.iter().map(|s| (s.id.as_str(), s.status)).collect();
    assert_eq!(
        found,
        [
            ("p:7", BuildStatus::InProgress),
            ("p:249", BuildStatus::InProgress)
        ]
    );
    let sizes: Vec<usize> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["ids"].as_array().unwrap().len()
        })
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sorted, [50, 100, 100], "{sizes:?}");
}
