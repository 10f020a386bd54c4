//! The adapters against scripted HTTP responses, for what moto cannot show: AWS's exact
//! error answers ("No updates are to be performed", throttling, HTML 5xx pages, access
//! denied), how many attempts the retry policy makes, and what the error messages contain.

use aws_sdk_cloudformation::config::{Credentials, SharedCredentialsProvider};
use defang_aws::{AwsSettings, EcsAdapter, StackAdapter, config};
use defang_resources::cloud::{CloudErrorKind, Ecs, StackRequest, Stacks, UpdateOutcome};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn xml_error(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        content_type: "text/xml",
        body: format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
        ),
    }
}

fn json_reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        content_type: "application/x-amz-json-1.1",
        body: body.to_owned(),
    }
}

fn html_500() -> Reply {
    Reply {
        status: 500,
        content_type: "text/html",
        body: "<!doctype html><title>500 Internal Server Error</title>".into(),
    }
}

/// Serves the replies in order (the last one repeats) and counts the requests.
struct Stub {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

async fn stub(replies: Vec<Reply>) -> Stub {
    serve(replies, |n, len| n.min(len - 1)).await
}

/// Serves the replies round and round.
async fn stub_cycling(replies: Vec<Reply>) -> Stub {
    serve(replies, |n, len| n % len).await
}

async fn serve(replies: Vec<Reply>, pick: fn(usize, usize) -> usize) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let reply = replies[pick(n, replies.len())].clone();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    reply.status,
                    reply.content_type,
                    reply.body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(reply.body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Stub { endpoint, requests }
}

/// Reads headers and a Content-Length body (the SDK does not chunk these requests).
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// Our configuration (retry policy included) with test credentials and near-zero backoff.
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
        .credentials_provider(SharedCredentialsProvider::new(Credentials::for_tests()))
        .retry_config(
            config::retry_config(config::DEFAULT_MAX_RETRIES)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2)),
        )
        .endpoint_url(endpoint)
        .build()
}

// The endpoint is set on the client's own config: that overrides AWS_ENDPOINT_URL[_<SERVICE>],
// which the moto tests may have in the environment (set on the shared config, it would not:
// the environment's service config wins there). The retry partition is the provider's own.

async fn stacks_at(endpoint: &str) -> StackAdapter {
    let config = aws_sdk_cloudformation::config::Builder::from(&sdk_config(endpoint).await)
        .endpoint_url(endpoint)
        .retry_partition(config::retry_partition())
        .build();
    StackAdapter::new(aws_sdk_cloudformation::Client::from_conf(config))
}

async fn stacks(stub: &Stub) -> StackAdapter {
    stacks_at(&stub.endpoint).await
}

async fn ecs(stub: &Stub) -> EcsAdapter {
    let config = aws_sdk_ecs::config::Builder::from(&sdk_config(&stub.endpoint).await)
        .endpoint_url(&stub.endpoint)
        .retry_partition(config::retry_partition())
        .build();
    EcsAdapter::new(aws_sdk_ecs::Client::from_conf(config))
}

const SECRET_IN_TEMPLATE: &str = "do-not-echo-request-bodies";

fn request() -> StackRequest {
    StackRequest {
        name: "proj".into(),
        template: format!(r#"{{"Resources":{{}},"Description":"{SECRET_IN_TEMPLATE}"}}"#),
        tags: BTreeMap::new(),
        parameters: Default::default(),
        client_token: "t-1".into(),
    }
}

#[tokio::test]
async fn update_without_changes_is_no_changes() {
    let stub = stub(vec![xml_error(
        400,
        "ValidationError",
        "No updates are to be performed.",
    )])
    .await;
    let outcome = stacks(&stub).await.update_stack(&request()).await.unwrap();
    assert_eq!(outcome, UpdateOutcome::NoChanges);
    assert_eq!(stub.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invalid_template_is_invalid_without_the_request_body() {
    let stub = stub(vec![xml_error(
        400,
        "ValidationError",
        "Template format error: Unrecognized resource types: [AWS::Nope::Thing]",
    )])
    .await;
    let err = stacks(&stub)
        .await
        .update_stack(&request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CloudErrorKind::Invalid, "{err:?}");
    let message = err.message();
    assert_eq!(
        message,
        "update CloudFormation stack: ValidationError: Template format error: \
         Unrecognized resource types: [AWS::Nope::Thing]"
    );
    assert!(!message.contains(SECRET_IN_TEMPLATE));
}

#[tokio::test]
async fn missing_stack_describes_as_none() {
    let stub = stub(vec![xml_error(
        400,
        "ValidationError",
        "Stack with id proj does not exist",
    )])
    .await;
    assert_eq!(
        stacks(&stub).await.describe_stack("proj").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn throttling_is_retried_25_times_then_transient() {
    let stub = stub(vec![xml_error(400, "Throttling", "Rate exceeded")]).await;
    let err = stacks(&stub)
        .await
        .describe_stack("proj")
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::Transient
            && err.message().contains("Throttling: Rate exceeded"),
        "{err:?}"
    );
    assert_eq!(stub.requests.load(Ordering::SeqCst), 26);
}

#[tokio::test]
async fn throttling_that_clears_succeeds() {
    let throttled = json_reply(
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    );
    let stub = stub(vec![
        throttled.clone(),
        throttled,
        json_reply(200, r#"{"services":[],"failures":[]}"#),
    ])
    .await;
    let services = ecs(&stub)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap();
    assert!(services.is_empty());
    assert_eq!(stub.requests.load(Ordering::SeqCst), 3);
}

/// The SDK's default retry quota (a token bucket of 500, 5 a throttled retry, 1 back a
/// success) runs dry after a few dozen throttled calls and then fails calls on their first
/// error; the provider's partition never does. 150 calls, each throttled twice before it
/// succeeds, all succeed.
#[tokio::test]
async fn sustained_throttling_never_exhausts_the_retry_quota() {
    let throttled = json_reply(
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    );
    let stub = stub_cycling(vec![
        throttled.clone(),
        throttled,
        json_reply(200, r#"{"services":[],"failures":[]}"#),
    ])
    .await;
    let ecs = ecs(&stub).await;
    for call in 0..150 {
        ecs.describe_services("c", &["web".into()])
            .await
            .unwrap_or_else(|e| panic!("call {call}: {e}"));
    }
    assert_eq!(stub.requests.load(Ordering::SeqCst), 450);
}

#[tokio::test]
async fn unreadable_server_errors_are_transient() {
    let stub = stub(vec![html_500()]).await;
    let err = ecs(&stub)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::Transient && err.message().contains("HTTP 500"),
        "{err:?}"
    );
    assert_eq!(stub.requests.load(Ordering::SeqCst), 26);
}

#[tokio::test]
async fn access_denied_is_not_retried() {
    let stub = stub(vec![json_reply(
        400,
        r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::1:user/ci is not authorized to perform: ecs:DescribeServices"}"#,
    )])
    .await;
    let err = ecs(&stub)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::AccessDenied
            && err.message().contains("ecs:DescribeServices"),
        "{err:?}"
    );
    assert_eq!(stub.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn other_describe_failures_are_errors() {
    let stub = stub(vec![json_reply(
        200,
        r#"{"services":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:1:service/c/web","reason":"INTERNAL","detail":"try later"}]}"#,
    )])
    .await;
    let err = ecs(&stub)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::Other && err.message().contains("INTERNAL (try later)"),
        "{err:?}"
    );
}

#[tokio::test]
async fn describe_services_asks_in_batches_of_ten() {
    let stub = stub(vec![json_reply(200, r#"{"services":[],"failures":[]}"#)]).await;
    let names: Vec<String> = (0..25).map(|i| format!("s{i}")).collect();
    ecs(&stub)
        .await
        .describe_services("c", &names)
        .await
        .unwrap();
    assert_eq!(stub.requests.load(Ordering::SeqCst), 3);
    ecs(&stub).await.describe_services("c", &[]).await.unwrap();
    assert_eq!(
        stub.requests.load(Ordering::SeqCst),
        3,
        "no call for no names"
    );
}

#[tokio::test]
async fn unreachable_endpoint_explains_itself() {
    // Bind then drop, so the port is (almost certainly) closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let adapter = stacks_at(&format!("http://127.0.0.1:{port}")).await;
    let err = adapter.describe_stack("proj").await.unwrap_err();
    assert_eq!(err.kind(), CloudErrorKind::Other, "{err:?}");
    let message = err.message();
    assert!(
        message.starts_with("describe CloudFormation stack: dispatch failure"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("connect"), "{message}");
}

const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:1:service/c/web";

#[tokio::test]
async fn update_service_reads_tags_when_the_response_has_none() {
    // AWS's UpdateService response leaves tags out (moto includes them).
    let updated = format!(
        r#"{{"service":{{"serviceArn":"{SERVICE_ARN}","serviceName":"web","status":"ACTIVE",
            "taskDefinition":"arn:aws:ecs:us-east-1:1:task-definition/web:2","desiredCount":1}}}}"#
    );
    let stub = stub(vec![
        json_reply(200, &updated),
        json_reply(
            200,
            r#"{"tags":[{"key":"b","value":"2"},{"key":"a","value":"1"}]}"#,
        ),
    ])
    .await;
    let state = ecs(&stub)
        .await
        .update_service(&defang_resources::cloud::ServiceUpdate {
            cluster: "c".into(),
            name: "web".into(),
            desired_count: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        state.tags,
        vec![("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert_eq!(stub.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn deleting_an_inactive_service_is_done() {
    let stub = stub(vec![json_reply(
        400,
        r#"{"__type":"ServiceNotActiveException","message":"Service was not ACTIVE."}"#,
    )])
    .await;
    ecs(&stub).await.delete_service("c", "web").await.unwrap();
    assert_eq!(
        stub.requests.load(Ordering::SeqCst),
        1,
        "no delete after that"
    );
}

#[tokio::test]
async fn delete_scales_to_zero_then_deletes() {
    let service = format!(r#"{{"service":{{"serviceArn":"{SERVICE_ARN}","status":"ACTIVE"}}}}"#);
    let stub = stub(vec![
        json_reply(200, &service),
        json_reply(
            400,
            r#"{"__type":"InvalidParameterException","message":"The service cannot be stopped while it is scaled above 0."}"#,
        ),
    ])
    .await;
    let err = ecs(&stub)
        .await
        .delete_service("c", "web")
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::Invalid && err.message().starts_with("delete ECS service"),
        "{err:?}"
    );
    assert_eq!(stub.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn deregister_refused_for_an_inactive_revision_is_done() {
    let arn = "arn:aws:ecs:us-east-1:1:task-definition/web:1";
    let refused = json_reply(
        400,
        r#"{"__type":"ClientException","message":"The task definition is already inactive."}"#,
    );
    let inactive =
        format!(r#"{{"taskDefinition":{{"taskDefinitionArn":"{arn}","status":"INACTIVE"}}}}"#);
    let stub_inactive = stub(vec![refused.clone(), json_reply(200, &inactive)]).await;
    ecs(&stub_inactive)
        .await
        .deregister_task_definition(arn)
        .await
        .unwrap();

    let active = inactive.replace("INACTIVE", "ACTIVE");
    let stub_active = stub(vec![refused, json_reply(200, &active)]).await;
    let err = ecs(&stub_active)
        .await
        .deregister_task_definition(arn)
        .await
        .unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::Invalid && err.message().contains("already inactive"),
        "{err:?}"
    );
}

fn xml_reply(body: &str) -> Reply {
    Reply {
        status: 200,
        content_type: "text/xml",
        body: body.to_owned(),
    }
}

/// The stacks in progress come from every ListStacks page, each with its status.
#[tokio::test]
async fn stacks_in_progress_are_read_from_every_page() {
    let page = |stacks: &[(&str, &str)], next: Option<&str>| {
        let members: String = stacks
            .iter()
            .map(|(name, status)| {
                format!(
                    "<member><StackId>arn:aws:cloudformation:us-east-1:1:stack/{name}/x</StackId>\
                     <StackName>{name}</StackName><StackStatus>{status}</StackStatus>\
                     <CreationTime>2026-12-01T00:00:00Z</CreationTime></member>"
                )
            })
            .collect();
        let next = next
            .map(|t| format!("<NextToken>{t}</NextToken>"))
            .unwrap_or_default();
        xml_reply(&format!(
            "<ListStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
             <ListStacksResult><StackSummaries>{members}</StackSummaries>{next}</ListStacksResult>\
             <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></ListStacksResponse>"
        ))
    };
    let stub = stub(vec![
        page(
            &[
                ("defang-shop", "UPDATE_IN_PROGRESS"),
                ("defang-shop-S-web", "CREATE_IN_PROGRESS"),
            ],
            Some("page-2"),
        ),
        page(&[("someone-else", "DELETE_IN_PROGRESS")], None),
    ])
    .await;
    let listed = stacks(&stub).await.list_in_progress().await.unwrap();
    assert_eq!(stub.requests.load(Ordering::SeqCst), 2, "both pages read");
    assert_eq!(
        listed,
        BTreeMap::from(
            [
                ("defang-shop", "UPDATE_IN_PROGRESS"),
                ("defang-shop-S-web", "CREATE_IN_PROGRESS"),
                ("someone-else", "DELETE_IN_PROGRESS"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        )
    );
}

/// Every classified error says which AWS call failed and with what code, from the answer as
/// the SDK parsed it (XML for CloudFormation, JSON for ECS); Display stays the message users
/// have always seen.
#[tokio::test]
async fn errors_name_the_service_the_operation_and_the_code() {
    let cfn = stub(vec![xml_error(
        400,
        "ValidationError",
        "Template format error: Unrecognized resource types: [AWS::Nope::Thing]",
    )])
    .await;
    let err = stacks(&cfn)
        .await
        .update_stack(&request())
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.service(), err.operation(), err.code()),
        (
            CloudErrorKind::Invalid,
            "CloudFormation",
            "UpdateStack",
            Some("ValidationError")
        )
    );

    let denied = stub(vec![json_reply(
        400,
        r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::1:user/ci is not authorized to perform: ecs:DescribeServices"}"#,
    )])
    .await;
    let err = ecs(&denied)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.service(), err.operation(), err.code()),
        (
            CloudErrorKind::AccessDenied,
            "ECS",
            "DescribeServices",
            Some("AccessDeniedException")
        )
    );
    assert_eq!(
        err.to_string(),
        "access denied: describe ECS services: AccessDeniedException: User: arn:aws:iam::1:user/ci \
         is not authorized to perform: ecs:DescribeServices"
    );

    // No code when the body could not be read: only the status is known.
    let unreadable = stub(vec![json_reply(200, "not json")]).await;
    let err = ecs(&unreadable)
        .await
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert_eq!(
        (err.service(), err.operation(), err.code()),
        ("ECS", "DescribeServices", None),
        "{err:?}"
    );
}

/// A credentials provider that has none, with words that do not say "credentials".
#[derive(Debug)]
struct NoCredentials;

impl aws_sdk_ecs::config::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::provider_error(
                std::io::Error::other("the SSO session ended"),
            ),
        ))
    }
}

/// The hint to check the credentials is given because the SDK's failure is a credentials
/// provider's error, found by its type through the SDK's wrapping, not by its words.
#[tokio::test]
async fn a_credentials_failure_gets_the_credentials_hint() {
    let stub = stub(vec![json_reply(200, r#"{"services":[],"failures":[]}"#)]).await;
    let config = aws_sdk_ecs::config::Builder::from(&sdk_config(&stub.endpoint).await)
        .endpoint_url(&stub.endpoint)
        .credentials_provider(NoCredentials)
        .build();
    let err = EcsAdapter::new(aws_sdk_ecs::Client::from_conf(config))
        .describe_services("c", &["web".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CloudErrorKind::Other, "{err:?}");
    assert!(err.message().contains("aws sso login"), "{err}");
    assert_eq!((err.operation(), err.code()), ("DescribeServices", None));
    assert_eq!(stub.requests.load(Ordering::SeqCst), 0, "nothing sent");
}
