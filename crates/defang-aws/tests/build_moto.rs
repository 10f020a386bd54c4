//! The build-pipeline adapters (CodeBuild, S3, ECR, CloudWatch Logs) against a real moto
//! server, with our launcher's emulator patches (scripts/moto/server.py, patch 6: builds that
//! "push" their image, scriptable failures).
//!
//! Uses `AWS_ENDPOINT_URL` when it is set (a server started by `scripts/moto/moto.sh`);
//! otherwise starts one server for this test binary, which stops when the tests end.
//! Tests run in parallel on that server and stay apart through unique names.
//!
//!     cargo test -p defang-aws --test build_moto -- --nocapture

use aws_sdk_codebuild::types::{
    ArtifactsType, CloudWatchLogsConfig, ComputeType, EnvironmentType, LogsConfig,
    LogsConfigStatusType, ProjectArtifacts, ProjectEnvironment, ProjectSource, SourceType,
};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use defang_aws::codebuild::{ARM_IMAGE, BUILDSPEC};
use defang_aws::{AwsSettings, CodeBuildAdapter, EcrAdapter, LogsAdapter, S3Adapter, config};
use defang_resources::cloud::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The server and the clients.

/// A moto server of our own. Its launcher shell reads stdin, which nothing ever writes: when
/// this test process ends, for whatever reason, the pipe closes and the shell stops moto and
/// removes its directory.
struct OwnServer {
    endpoint: String,
    _child: Child,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn endpoint() -> String {
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL")
        && !url.trim().is_empty()
    {
        return url;
    }
    static SERVER: OnceLock<OwnServer> = OnceLock::new();
    SERVER.get_or_init(start_server).endpoint.clone()
}

// The launcher is never waited for: it lives as long as this process (see `OwnServer`).
#[allow(clippy::zombie_processes)]
fn start_server() -> OwnServer {
    let root = repo_root();
    // Prints the venv path last; installs it on first use (the test command already has).
    let install = Command::new(root.join("scripts/moto/install.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/moto/install.sh");
    assert!(install.status.success(), "scripts/moto/install.sh failed");
    let venv = String::from_utf8(install.stdout).unwrap();
    let python = Path::new(venv.lines().last().expect("venv path").trim()).join("bin/python");
    let dir = std::env::temp_dir().join(unique("defang-build-moto"));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let log = std::fs::File::create(dir.join("moto.log")).unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$1" --port 0 --port-file "$2" & pid=$!; cat >/dev/null; kill $pid; wait $pid; rm -rf "$3""#)
        .arg(&python)
        .arg(root.join("scripts/moto/server.py"))
        .arg(&port_file)
        .arg(&dir)
        .env_remove("MOTO_CODEBUILD_RESULT")
        .stdin(Stdio::piped())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start moto");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(port) = std::fs::read_to_string(&port_file)
            && let Ok(port) = port.trim().parse::<u16>()
        {
            eprintln!(
                "moto on port {port} (log {})",
                dir.join("moto.log").display()
            );
            return OwnServer {
                endpoint: format!("http://127.0.0.1:{port}"),
                _child: child,
            };
        }
        assert!(
            Instant::now() < deadline,
            "moto did not start: {}",
            std::fs::read_to_string(dir.join("moto.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Moto {
    builds: CodeBuildAdapter,
    objects: S3Adapter,
    registry: EcrAdapter,
    logs: LogsAdapter,
    codebuild: aws_sdk_codebuild::Client,
    s3: aws_sdk_s3::Client,
    ecr: aws_sdk_ecr::Client,
    cloudwatch: aws_sdk_cloudwatchlogs::Client,
}

/// Our configuration (retries, timeouts), pointed at moto with dummy credentials.
async fn moto() -> Moto {
    let settings = AwsSettings {
        region: Some("us-east-1".into()),
        profile: None,
        max_retries: None,
    };
    let config = config::load(&settings)
        .await
        .unwrap()
        .to_builder()
        .endpoint_url(endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "static",
        )))
        .build();
    Moto {
        builds: CodeBuildAdapter::new(config::codebuild_client(&config)),
        objects: S3Adapter::new(config::s3_client(&config)),
        registry: EcrAdapter::new(config::ecr_client(&config)),
        logs: LogsAdapter::new(config::logs_client(&config)),
        codebuild: config::codebuild_client(&config),
        s3: config::s3_client(&config),
        ecr: config::ecr_client(&config),
        cloudwatch: config::logs_client(&config),
    }
}

/// A lowercase name no other test (or earlier run against the same server) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let n = nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{prefix}-{:x}", n & 0xffff_ffff_ffff)
}

// ---------------------------------------------------------------------------------------------
// Files with known content, written and checked in pieces (never whole in memory).

/// xorshift64 bytes: cheap, reproducible, incompressible enough.
struct Bytes(u64);

impl Bytes {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// A scratch file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with_bytes(name: &str, size: usize, seed: u64) -> TempFile {
        let path = std::env::temp_dir().join(unique(name));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut bytes = Bytes(seed);
        let mut buf = vec![0u8; MIB];
        let mut left = size;
        while left > 0 {
            let n = left.min(buf.len());
            bytes.fill(&mut buf[..n]);
            file.write_all(&buf[..n]).unwrap();
            left -= n;
        }
        file.flush().unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams the object back and compares it with the generator's bytes.
async fn assert_object_is(moto: &Moto, bucket: &str, key: &str, size: usize, seed: u64) {
    let mut body = moto
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body;
    let mut expected = Bytes(seed);
    // The generator runs in 8-byte steps: compare in buffers that are multiples of 8.
    let mut pending: Vec<u8> = Vec::new();
    let mut want = vec![0u8; MIB];
    let mut seen = 0;
    while let Some(chunk) = body.next().await {
        pending.extend_from_slice(&chunk.unwrap());
        while pending.len() >= MIB {
            expected.fill(&mut want);
            assert!(
                pending[..MIB] == want[..],
                "content differs near byte {seen}"
            );
            pending.drain(..MIB);
            seen += MIB;
        }
    }
    let rest = pending.len();
    expected.fill(&mut want[..rest]);
    assert!(
        pending[..] == want[..rest],
        "content differs near byte {seen}"
    );
    assert_eq!(seen + rest, size);
}

async fn bucket(moto: &Moto) -> String {
    let name = unique("defang-contexts");
    moto.s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

// ---------------------------------------------------------------------------------------------
// S3

#[tokio::test]
async fn put_file_small_and_multipart_then_exists() {
    let moto = moto().await;
    let bucket = bucket(&moto).await;
    assert!(
        !moto
            .objects
            .object_exists(&bucket, "contexts/none.tar.gz")
            .await
            .unwrap()
    );

    for (size, seed) in [(5 * MIB, 1), (70 * MIB, 2)] {
        let file = TempFile::with_bytes("ctx", size, seed);
        let key = format!("contexts/{size}.tar.gz");
        let started = Instant::now();
        moto.objects.put_file(&bucket, &key, &file.0).await.unwrap();
        eprintln!(
            "put_file {} MiB: {:.2} s",
            size / MIB,
            started.elapsed().as_secs_f64()
        );
        assert!(moto.objects.object_exists(&bucket, &key).await.unwrap());
        let head = moto
            .s3
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(size as i64));
        // A multipart object's ETag ends with its part count: 70 MiB in 16 MiB parts is 5.
        let etag = head
            .e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        assert_eq!(etag.ends_with("-5"), size > 64 * MIB, "{etag}");
        assert_object_is(&moto, &bucket, &key, size, seed).await;
    }
    // Nothing left half-uploaded.
    let uploads = moto
        .s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());

    // Emptying the bucket (before CloudFormation deletes it) removes every object.
    assert_eq!(moto.objects.empty_bucket(&bucket).await.unwrap(), 2);
    assert!(
        !moto
            .objects
            .object_exists(&bucket, &format!("contexts/{}.tar.gz", 5 * MIB))
            .await
            .unwrap()
    );
    assert_eq!(moto.objects.empty_bucket(&bucket).await.unwrap(), 0);
    assert_eq!(
        moto.objects
            .empty_bucket(&unique("defang-missing"))
            .await
            .unwrap(),
        0,
        "a missing bucket has nothing to delete"
    );
}

#[tokio::test]
async fn put_file_errors_are_classified() {
    let moto = moto().await;
    let file = TempFile::with_bytes("ctx", 1024, 3);
    let err = moto
        .objects
        .put_file(&unique("defang-missing"), "k", &file.0)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let big = TempFile::with_bytes("ctx", 65 * MIB, 4);
    let err = moto
        .objects
        .put_file(&unique("defang-missing"), "k", &big.0)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let bucket = bucket(&moto).await;
    let err = moto
        .objects
        .put_file(&bucket, "k", Path::new("/nonexistent/context.tar.gz"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/context.tar.gz"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// ECR

#[tokio::test]
async fn ensure_repository_twice_gives_one_immutable_repository() {
    let moto = moto().await;
    let name = unique("defang/shop/web");
    let tags = vec![("defang:project".to_owned(), "shop".to_owned())];
    let uri = moto.registry.ensure_repository(&name, &tags).await.unwrap();
    assert!(uri.ends_with(&format!("/{name}")), "{uri}");
    assert_eq!(
        moto.registry.ensure_repository(&name, &tags).await.unwrap(),
        uri
    );

    let repo = moto
        .ecr
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await
        .unwrap();
    let repo = &repo.repositories()[0];
    assert_eq!(
        repo.image_tag_mutability().map(|m| m.as_str()),
        Some("IMMUTABLE")
    );
    assert_eq!(
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        Some(true)
    );
    let listed = moto
        .ecr
        .list_tags_for_resource()
        .resource_arn(repo.repository_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .tags()
            .iter()
            .any(|t| t.key() == "defang:project" && t.value() == "shop")
    );

    assert_eq!(
        moto.registry
            .image_digest(&name, "b-missing")
            .await
            .unwrap(),
        None
    );
    // By URI too, as ensure_repository returns it.
    assert_eq!(
        moto.registry.image_digest(&uri, "b-missing").await.unwrap(),
        None
    );

    moto.registry.delete_repository(&name).await.unwrap();
    moto.registry.delete_repository(&name).await.unwrap();
    assert_eq!(
        moto.registry.image_digest(&name, "b-1").await.unwrap(),
        None
    );
}

// ---------------------------------------------------------------------------------------------
// CodeBuild

/// A context in S3, a repository, a log group and a CodeBuild project like the Project's
/// (whose source is NO_SOURCE; moto's CreateProject wants a location even then, so this one
/// keeps an S3 source that every build overrides).
struct Pipeline {
    project: String,
    bucket: String,
    key: String,
    repository: String,
    repository_uri: String,
    log_group: String,
}

async fn pipeline(moto: &Moto) -> Pipeline {
    pipeline_with(moto, true).await
}

/// `named_log_group`: whether the project logs to a group of its own (the Project's does).
async fn pipeline_with(moto: &Moto, named_log_group: bool) -> Pipeline {
    let bucket = bucket(moto).await;
    let key = format!("contexts/{}.tar.gz", unique("ctx"));
    let file = TempFile::with_bytes("ctx", 64 * 1024, 5);
    moto.objects.put_file(&bucket, &key, &file.0).await.unwrap();
    let repository = unique("defang/shop/web");
    let repository_uri = moto
        .registry
        .ensure_repository(&repository, &[])
        .await
        .unwrap();
    let log_group = format!("/defang/{}/builds", unique("shop"));
    moto.cloudwatch
        .create_log_group()
        .log_group_name(&log_group)
        .send()
        .await
        .unwrap();
    let project = unique("defang-shop-builds");
    let logs_config = named_log_group.then(|| {
        LogsConfig::builder()
            .cloud_watch_logs(
                CloudWatchLogsConfig::builder()
                    .status(LogsConfigStatusType::Enabled)
                    .group_name(&log_group)
                    .build()
                    .unwrap(),
            )
            .build()
    });
    moto.codebuild
        .create_project()
        .name(&project)
        .source(
            ProjectSource::builder()
                .r#type(SourceType::S3)
                .location(format!("{bucket}/{key}"))
                .buildspec(BUILDSPEC)
                .build()
                .unwrap(),
        )
        .artifacts(
            ProjectArtifacts::builder()
                .r#type(ArtifactsType::NoArtifacts)
                .build()
                .unwrap(),
        )
        .environment(
            ProjectEnvironment::builder()
                .r#type(EnvironmentType::LinuxContainer)
                .image(defang_aws::codebuild::X86_IMAGE)
                .compute_type(ComputeType::BuildGeneral1Small)
                .privileged_mode(true)
                .build()
                .unwrap(),
        )
        .service_role("arn:aws:iam::123456789012:role/defang-shop-build")
        .set_logs_config(logs_config)
        .send()
        .await
        .unwrap();
    Pipeline {
        project,
        bucket,
        key,
        repository,
        repository_uri,
        log_group,
    }
}

fn request(p: &Pipeline, tag: &str, args: &[(&str, &str)]) -> BuildRequest {
    BuildRequest {
        codebuild_project: p.project.clone(),
        source_bucket: p.bucket.clone(),
        source_key: p.key.clone(),
        repository_uri: p.repository_uri.clone(),
        image_tag: tag.to_owned(),
        dockerfile: "Dockerfile".into(),
        target: Some("runtime".into()),
        platform: "linux/arm64".into(),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        idempotency_token: unique("token"),
        log_stream_prefix: format!("web/{tag}"),
    }
}

async fn finished(moto: &Moto, id: &str) -> BuildState {
    let states = moto
        .builds
        .batch_get_builds(&[id.to_owned()])
        .await
        .unwrap();
    assert_eq!(states.len(), 1);
    states.into_iter().next().unwrap()
}

fn phase_types(state: &BuildState) -> Vec<&str> {
    state.phases.iter().map(|p| p.phase_type.as_str()).collect()
}

#[tokio::test]
async fn build_pushes_the_image_and_reports_it_like_aws() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    assert_eq!(
        moto.registry
            .image_digest(&p.repository, "b-1")
            .await
            .unwrap(),
        None
    );

    let request = request(
        &p,
        "b-1",
        &[("NODE_ENV", "production"), ("TOKEN", "s3cret")],
    );
    let id = moto.builds.start_build(&request).await.unwrap();
    assert!(id.starts_with(&format!("{}:", p.project)), "{id}");
    // A retried StartBuild with the same token is the same build.
    assert_eq!(moto.builds.start_build(&request).await.unwrap(), id);

    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Succeeded, "{state:?}");
    assert_eq!(state.current_phase, "COMPLETED");
    assert_eq!(
        phase_types(&state),
        [
            "SUBMITTED",
            "QUEUED",
            "PROVISIONING",
            "DOWNLOAD_SOURCE",
            "INSTALL",
            "PRE_BUILD",
            "BUILD",
            "POST_BUILD",
            "UPLOAD_ARTIFACTS",
            "FINALIZING",
            "COMPLETED"
        ]
    );
    assert!(
        state.phases[..10]
            .iter()
            .all(|p| p.status.as_deref() == Some("SUCCEEDED"))
    );
    assert_eq!(state.phases[10].status, None);
    // Polling again changes nothing (unpatched moto appends nine phases per call).
    assert_eq!(finished(&moto, &id).await, state);

    let log = state.log.clone().expect("log location");
    assert_eq!(log.group, p.log_group);
    assert_eq!(
        log.stream,
        format!("web/b-1/{}", id.split_once(':').unwrap().1)
    );

    let digest = moto
        .registry
        .image_digest(&p.repository, "b-1")
        .await
        .unwrap();
    let digest = digest.expect("the emulated push made an image");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    let tail = moto.logs.tail(&log.group, &log.stream, 20).await.unwrap();
    assert!(
        tail.iter()
            .any(|l| l.contains("Pushed") && l.contains(&digest)),
        "{tail:?}"
    );

    // What StartBuild sent, as AWS reports it back.
    let raw = moto
        .codebuild
        .batch_get_builds()
        .ids(&id)
        .send()
        .await
        .unwrap();
    let build = &raw.builds()[0];
    // No CodeBuild source: the buildspec downloads CONTEXT_S3_URI itself.
    let source = build.source().unwrap();
    assert_eq!(source.r#type(), &SourceType::NoSource);
    assert_eq!(source.location(), None);
    let environment = build.environment().unwrap();
    assert_eq!(environment.r#type(), &EnvironmentType::ArmContainer);
    assert_eq!(environment.image(), ARM_IMAGE);
    assert_eq!(environment.compute_type(), &ComputeType::BuildGeneral1Large);
    assert_eq!(environment.privileged_mode(), Some(true));
    let vars: Vec<(&str, &str)> = environment
        .environment_variables()
        .iter()
        .map(|v| (v.name(), v.value()))
        .collect();
    let context = format!("s3://{}/{}", p.bucket, p.key);
    assert_eq!(
        vars,
        [
            ("CONTEXT_S3_URI", context.as_str()),
            ("IMAGE_REPO_URI", p.repository_uri.as_str()),
            ("IMAGE_TAG", "b-1"),
            ("DOCKERFILE", "Dockerfile"),
            ("PLATFORM", "linux/arm64"),
            ("BUILD_TARGET", "runtime"),
            ("BUILD_ARG_COUNT", "2"),
            ("BUILD_ARG_0", "NODE_ENV=production"),
            ("BUILD_ARG_1", "TOKEN=s3cret"),
        ]
    );

    // The same build hash and source again (say, after a lost state): the same digest, even
    // though the repository's tags are immutable.
    let again = moto
        .builds
        .start_build(&request_with_new_token(&request))
        .await
        .unwrap();
    assert_ne!(again, id);
    assert_eq!(finished(&moto, &again).await.status, BuildStatus::Succeeded);
    assert_eq!(
        moto.registry
            .image_digest(&p.repository, "b-1")
            .await
            .unwrap(),
        Some(digest.clone())
    );
    // Another tag of the same source is another image.
    let other = moto
        .builds
        .start_build(&self::request(&p, "b-2", &[]))
        .await
        .unwrap();
    assert_eq!(finished(&moto, &other).await.status, BuildStatus::Succeeded);
    let digest2 = moto
        .registry
        .image_digest(&p.repository, "b-2")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(digest2, digest);
}

fn request_with_new_token(request: &BuildRequest) -> BuildRequest {
    BuildRequest {
        idempotency_token: unique("token"),
        ..request.clone()
    }
}

#[tokio::test]
async fn scripted_failure_reports_the_phase_and_pushes_nothing() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    let request = request(
        &p,
        "b-fail",
        &[
            ("DEFANG_EMULATOR_BUILD_RESULT", "FAILED"),
            ("TOKEN", "s3cret"),
        ],
    );
    let id = moto.builds.start_build(&request).await.unwrap();
    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Failed);
    let build = state
        .phases
        .iter()
        .find(|p| p.phase_type == "BUILD")
        .unwrap();
    assert_eq!(build.status.as_deref(), Some("FAILED"));
    assert!(
        build.messages[0].starts_with("COMMAND_EXECUTION_ERROR: Error while executing command"),
        "{:?}",
        build.messages
    );
    assert_eq!(phase_types(&state).last(), Some(&"COMPLETED"));
    assert_eq!(
        moto.registry
            .image_digest(&p.repository, "b-fail")
            .await
            .unwrap(),
        None
    );
    let log = state.log.unwrap();
    let tail = moto.logs.tail(&log.group, &log.stream, 10).await.unwrap();
    assert!(tail.iter().any(|l| l.contains("State: FAILED")), "{tail:?}");
    assert!(!tail.iter().any(|l| l.contains("s3cret")), "{tail:?}");

    for (result, status) in [
        ("FAULT", BuildStatus::Fault),
        ("TIMED_OUT", BuildStatus::TimedOut),
    ] {
        let id = moto
            .builds
            .start_build(&self::request(
                &p,
                "b-x",
                &[("DEFANG_EMULATOR_BUILD_RESULT", result)],
            ))
            .await
            .unwrap();
        assert_eq!(finished(&moto, &id).await.status, status, "{result}");
    }
    // A value the emulator does not know is refused at StartBuild, loudly.
    let err = moto
        .builds
        .start_build(&self::request(
            &p,
            "b-x",
            &[("DEFANG_EMULATOR_BUILD_RESULT", "MAYBE")],
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("DEFANG_EMULATOR_BUILD_RESULT"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_context_or_repository_fails_the_build() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    let mut no_context = request(&p, "b-1", &[]);
    no_context.source_key = "contexts/never-uploaded.tar.gz".into();
    let id = moto.builds.start_build(&no_context).await.unwrap();
    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Failed);
    // The buildspec's `aws s3 cp` fails in pre_build (there is no CodeBuild source to download).
    let pre_build = state
        .phases
        .iter()
        .find(|p| p.phase_type == "PRE_BUILD")
        .unwrap();
    assert_eq!(pre_build.status.as_deref(), Some("FAILED"));
    assert!(
        pre_build.messages[0].starts_with("COMMAND_EXECUTION_ERROR: ")
            && pre_build.messages[0].contains(&format!(
                "NoSuchKey: the build context s3://{}/contexts/never-uploaded.tar.gz does not exist",
                p.bucket
            )),
        "{:?}",
        pre_build.messages
    );
    assert!(!phase_types(&state).contains(&"BUILD"));
    assert_eq!(
        moto.registry
            .image_digest(&p.repository, "b-1")
            .await
            .unwrap(),
        None
    );

    let mut no_repo = request(&p, "b-1", &[]);
    no_repo.repository_uri = format!(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/{}",
        unique("defang/gone")
    );
    let id = moto.builds.start_build(&no_repo).await.unwrap();
    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Failed);
    let build = state
        .phases
        .iter()
        .find(|p| p.phase_type == "BUILD")
        .unwrap();
    assert!(
        build.messages[0].contains("does not exist in the registry"),
        "{:?}",
        build.messages
    );

    let mut bad = request(&p, "b-1", &[]);
    bad.platform = "linux/s390x".into();
    assert!(matches!(
        moto.builds.start_build(&bad).await.unwrap_err().kind(),
        CloudErrorKind::Invalid
    ));
    let mut no_project = request(&p, "b-1", &[]);
    no_project.codebuild_project = unique("defang-none");
    assert!(
        moto.builds
            .start_build(&no_project)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn a_project_without_a_named_log_group_keeps_its_own_logs_settings() {
    let moto = moto().await;
    let p = pipeline_with(&moto, false).await;
    let id = moto
        .builds
        .start_build(&request(&p, "b-1", &[]))
        .await
        .unwrap();
    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Succeeded);
    // No override was sent: CodeBuild's default group, and no stream prefix.
    let log = state.log.unwrap();
    assert_eq!(log.group, format!("/aws/codebuild/{}", p.project));
    assert_eq!(log.stream, id.split_once(':').unwrap().1);
}

#[tokio::test]
async fn an_x86_build_keeps_the_projects_compute_type() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    let mut request = request(&p, "b-x86", &[]);
    request.platform = "linux/amd64".into();
    let id = moto.builds.start_build(&request).await.unwrap();
    assert_eq!(finished(&moto, &id).await.status, BuildStatus::Succeeded);
    let raw = moto
        .codebuild
        .batch_get_builds()
        .ids(&id)
        .send()
        .await
        .unwrap();
    let environment = raw.builds()[0].environment().unwrap();
    assert_eq!(environment.r#type(), &EnvironmentType::LinuxContainer);
    assert_eq!(environment.image(), defang_aws::codebuild::X86_IMAGE);
    // No override: the project's own size (SMALL here, MEDIUM in the Project's template).
    assert_eq!(environment.compute_type(), &ComputeType::BuildGeneral1Small);
}

#[tokio::test]
async fn stop_build_stops_and_is_idempotent() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    let id = moto
        .builds
        .start_build(&request(&p, "b-stop", &[]))
        .await
        .unwrap();
    moto.builds.stop_build(&id).await.unwrap();
    let state = finished(&moto, &id).await;
    assert_eq!(state.status, BuildStatus::Stopped);
    assert_eq!(
        moto.registry
            .image_digest(&p.repository, "b-stop")
            .await
            .unwrap(),
        None
    );
    // Stopped already, finished, or never existed: nothing to do.
    moto.builds.stop_build(&id).await.unwrap();
    let done = moto
        .builds
        .start_build(&request(&p, "b-done", &[]))
        .await
        .unwrap();
    assert_eq!(finished(&moto, &done).await.status, BuildStatus::Succeeded);
    moto.builds.stop_build(&done).await.unwrap();
    assert_eq!(finished(&moto, &done).await.status, BuildStatus::Succeeded);
    moto.builds
        .stop_build(&format!(
            "{}:00000000-0000-0000-0000-000000000000",
            p.project
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn batch_get_builds_leaves_out_unknown_ids_across_chunks() {
    let moto = moto().await;
    let p = pipeline(&moto).await;
    let id = moto
        .builds
        .start_build(&request(&p, "b-1", &[]))
        .await
        .unwrap();
    // 250 ids: three BatchGetBuilds calls; the real build is in the last chunk.
    let mut ids: Vec<String> = (0..249)
        .map(|n| format!("{}:00000000-0000-0000-0000-{n:012}", p.project))
        .collect();
    ids.push(id.clone());
    let states = moto.builds.batch_get_builds(&ids).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].id, id);
    assert!(moto.builds.batch_get_builds(&[]).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs

#[tokio::test]
async fn tail_of_missing_logs_is_empty_and_of_a_stream_is_its_end() {
    let moto = moto().await;
    let group = format!("/defang/{}/builds", unique("tail"));
    assert!(
        moto.logs
            .tail(&group, "web/b-1/x", 10)
            .await
            .unwrap()
            .is_empty()
    );
    moto.cloudwatch
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    assert!(
        moto.logs
            .tail(&group, "web/b-1/x", 10)
            .await
            .unwrap()
            .is_empty()
    );
    moto.cloudwatch
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name("web/b-1/x")
        .send()
        .await
        .unwrap();
    assert!(
        moto.logs
            .tail(&group, "web/b-1/x", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events: Vec<_> = (0..30)
        .map(|n| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(start + n)
                .message(format!("line {n}\n"))
                .build()
                .unwrap()
        })
        .collect();
    moto.cloudwatch
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name("web/b-1/x")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    let tail = moto.logs.tail(&group, "web/b-1/x", 3).await.unwrap();
    assert_eq!(tail, ["line 27", "line 28", "line 29"]);
    let all = moto.logs.tail(&group, "web/b-1/x", 100).await.unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(all[0], "line 0");
    assert!(
        moto.logs
            .tail(&group, "web/b-1/x", 0)
            .await
            .unwrap()
            .is_empty()
    );
}
