//! Building a service's image from source: hash the context, reuse the image if this exact
//! build was pushed before (no build), else package and upload the context (only if absent),
//! start a CodeBuild build, follow it through the shared poller with live BUILD_* statuses, and
//! return the image pinned by digest.

use super::status::{BuildProgress, build_failure};
use crate::build::{
    BuildError, StopFlag, build_hash, context_digest_stoppable, package_context_stoppable,
};
use crate::cloud::{BuildRequest, BuildState, BuildStatus};
use crate::project::ProjectInfo;
use crate::project::template::repository_prefix;
use crate::runtime::Runtime;
use crate::service::inputs::{Build, ResolvedService};
use crate::service::status::ServiceStatus;
use pulumi_plugin::{Context, Error, Verdict, Waited, await_condition};
use std::path::{Path, PathBuf};

/// An image ready to deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltImage {
    /// `<repository uri>@sha256:…`
    pub image: String,
    pub build_hash: String,
    /// The CodeBuild build that made it; `None` when the image already existed.
    pub build_id: Option<String>,
}

/// Why there is no image.
#[derive(Debug)]
pub enum BuildFailure {
    /// The build ran and failed (BUILD_FAILED), with what CodeBuild and the log said.
    Failed(String),
    /// Cancelled or timed out; the build was stopped. The last status shown.
    Interrupted(String, ServiceStatus),
    /// Anything else (context unreadable, AWS errors).
    Error(Error),
}

impl From<Error> for BuildFailure {
    fn from(e: Error) -> Self {
        BuildFailure::Error(e)
    }
}

/// The service's ECR repository.
pub fn repository_name(project: &str, service: &str) -> String {
    format!("{}{service}", repository_prefix(project))
}

/// The context folder: relative paths are relative to the program's directory, which is the
/// provider's working directory.
pub fn context_dir(build: &Build) -> PathBuf {
    Path::new(&build.context).to_path_buf()
}

/// The build hash of the sources as they are now on disk (for Diff and previews).
///
/// Reading a large context takes seconds: it runs on a blocking thread, never on the async
/// workers, and stops (reading no further) when `ctx` is cancelled or past its deadline, or
/// when this future is dropped (the machinery drops a Diff on Cancel; Diff has no Context).
pub async fn current_build_hash(
    svc: &ResolvedService,
    ctx: Option<&Context>,
) -> Result<String, String> {
    hash_sources(svc, ctx).await.map_err(|e| e.to_string())
}

async fn hash_sources(svc: &ResolvedService, ctx: Option<&Context>) -> Result<String, Error> {
    let build = svc
        .build
        .clone()
        .ok_or_else(|| Error::Internal("not built from source".into()))?;
    let platform = svc.platform;
    off_runtime(ctx, move |stop| {
        let digest =
            context_digest_stoppable(&context_dir(&build), build.dockerfile.as_deref(), stop)?;
        Ok(build_hash(
            &digest,
            build.dockerfile.as_deref(),
            &build.args,
            build.target.as_deref(),
            platform,
        ))
    })
    .await
}

/// Sets its flag when dropped: on every way out of [`off_runtime`], an early one included.
struct StopOnDrop(StopFlag);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs file-system work on a blocking thread. Cancel or the deadline of `ctx` end the wait at
/// once, and the work sees its [`StopFlag`] set and stops too, as it does when the returned
/// future is dropped.
async fn off_runtime<T, F>(ctx: Option<&Context>, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&StopFlag) -> Result<T, BuildError> + Send + 'static,
{
    if let Some(ctx) = ctx {
        ctx.check()?;
    }
    let stop = StopFlag::default();
    let _stop_on_drop = StopOnDrop(stop.clone());
    let task = tokio::task::spawn_blocking(move || work(&stop));
    let joined = match ctx {
        Some(ctx) => tokio::select! {
            joined = task => joined,
            why = ctx.interrupted() => return Err(Error::Interrupted(why)),
        },
        None => task.await,
    };
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(BuildError::Stopped)) => Err(Error::Interrupted(
            "the operation was cancelled while the build context was read".into(),
        )),
        // The messages name the property (`build.context: ...`) and the fix.
        Ok(Err(e)) => Err(Error::InvalidArgument(e.to_string())),
        Err(e) => Err(Error::Internal(format!(
            "reading the build context failed: {e}"
        ))),
    }
}

/// Whether the build's inputs hold a secret of the request (a secret build arg): its hash is
/// then kept out of messages, since a hash over a low-entropy value can be searched for.
fn build_has_secrets(ctx: &Context, build: &Build) -> bool {
    let mask = ctx.mask();
    let is_secret = |v: &str| !v.is_empty() && mask.apply(v) != v;
    build.args.values().any(|v| is_secret(v))
        || is_secret(&build.context)
        || build.dockerfile.as_deref().is_some_and(is_secret)
        || build.target.as_deref().is_some_and(is_secret)
}

fn failed(what: &str, err: impl std::fmt::Display) -> Error {
    Error::Failed(format!("{what}: {err}"))
}

pub async fn build_image(
    env: &Runtime,
    ctx: &Context,
    svc: &ResolvedService,
    project: &ProjectInfo,
) -> Result<BuiltImage, BuildFailure> {
    let build = svc
        .build
        .clone()
        .ok_or_else(|| Error::Internal("build_image without build".into()))?;
    let cloud = &env.cloud;
    ctx.log.status(ServiceStatus::BuildQueued.as_str()).await;

    let repository = repository_name(&svc.project, &svc.name);
    let repository_uri = cloud
        .registry
        .ensure_repository(
            &repository,
            &[
                ("defang:project".into(), svc.project.clone()),
                ("defang:service".into(), svc.name.clone()),
            ],
        )
        .await
        .map_err(|e| failed("ECR", e))?;

    // Hash first: an unchanged build costs one DescribeImages and no upload, no build.
    let hash = hash_sources(svc, Some(ctx)).await?;
    // With secret inputs, messages name the build without its hash.
    let secret = build_has_secrets(ctx, &build);
    let tag = |hash: &str| match secret {
        true => String::new(),
        false => format!(":{}", short(hash)),
    };
    if let Some(digest) = cloud
        .registry
        .image_digest(&repository, &hash)
        .await
        .map_err(|e| failed("ECR", e))?
    {
        ctx.log
            .info(&format!(
                "image {repository}{} exists; no build needed",
                tag(&hash)
            ))
            .await;
        return Ok(BuiltImage {
            image: format!("{repository_uri}@{digest}"),
            build_hash: hash,
            build_id: None,
        });
    }

    let (Some(bucket), Some(codebuild_project)) = (&project.context_bucket, &project.build_project)
    else {
        return Err(Error::Failed(format!(
            "project \"{}\" has no build pipeline yet (it was created by an older provider): run `pulumi up` once so the project updates, or use `image`",
            project.name
        ))
        .into());
    };

    // Package and upload the context (content-addressed: uploaded only when absent).
    // Unique per operation: two services with the same sources may package at the same time.
    static PACKAGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let archive = std::env::temp_dir().join(format!(
        "defang-context-{}-{}-{}.tar.gz",
        short(&hash),
        std::process::id(),
        PACKAGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let packaged = {
        let dir = context_dir(&build);
        let dockerfile = build.dockerfile.clone();
        let archive = archive.clone();
        // Stopped early, the packager removes its partial archive itself.
        off_runtime(Some(ctx), move |stop| {
            package_context_stoppable(&dir, dockerfile.as_deref(), &archive, stop)
        })
        .await?
    };
    // The tag names exactly what is uploaded, even if files changed since hashing.
    let hash = build_hash(
        &packaged.context_digest,
        build.dockerfile.as_deref(),
        &build.args,
        build.target.as_deref(),
        svc.platform,
    );
    let key = format!("contexts/{}.tar.gz", packaged.sha256);
    let upload = async {
        if !cloud
            .objects
            .object_exists(bucket, &key)
            .await
            .map_err(|e| failed("S3", e))?
        {
            ctx.log
                .status(&format!(
                    "BUILD_QUEUED (uploading context, {} files, {:.1} MB)",
                    packaged.files,
                    packaged.bytes as f64 / 1e6
                ))
                .await;
            cloud
                .objects
                .put_file(bucket, &key, &packaged.path)
                .await
                .map_err(|e| failed("S3 upload of the build context", e))?;
        }
        Ok::<(), Error>(())
    }
    .await;
    let _ = std::fs::remove_file(&packaged.path);
    upload?;

    let request = BuildRequest {
        codebuild_project: codebuild_project.clone(),
        source_bucket: bucket.clone(),
        source_key: key,
        repository_uri: repository_uri.clone(),
        image_tag: hash.clone(),
        dockerfile: build.dockerfile().to_string(),
        target: build.target.clone(),
        platform: svc.platform.as_str().to_string(),
        args: build
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        // Unique per attempt: CodeBuild answers a repeated token with the earlier build (for
        // minutes), so a retry after a failed build must not reuse it; the SDK's own retries
        // of this one call keep it.
        idempotency_token: crate::ownership::attempt_token("start-build"),
        log_stream_prefix: format!("builds/{}", svc.name),
    };
    // The build role may not be assumable yet (a project just made), or the account's
    // concurrent builds all taken: both clear by themselves.
    let build_id = crate::wait::retry_settling(ctx, "start CodeBuild build", || {
        cloud.builds.start_build(&request)
    })
    .await
    .map_err(|e| failed("CodeBuild", e))?;
    ctx.log
        .info(&format!(
            "building {repository}{} (CodeBuild {build_id})",
            tag(&hash)
        ))
        .await;

    let finished = follow_build(env, ctx, &build_id).await?;
    if finished.status != BuildStatus::Succeeded {
        let tail = match &finished.log {
            Some(loc) => cloud
                .logs
                .tail(&loc.group, &loc.stream, 25)
                .await
                .unwrap_or_default(),
            None => Vec::new(),
        };
        // The log may echo a build arg: masked here already (and again by the machinery).
        let tail: Vec<String> = tail.iter().map(|line| ctx.mask().apply(line)).collect();
        return Err(BuildFailure::Failed(build_failure(&finished, &tail)));
    }
    let digest = cloud
        .registry
        .image_digest(&repository, &hash)
        .await
        .map_err(|e| failed("ECR", e))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "build {build_id} succeeded but {repository}{} is not in ECR; check the build log",
                tag(&hash)
            ))
        })?;
    Ok(BuiltImage {
        image: format!("{repository_uri}@{digest}"),
        build_hash: hash,
        build_id: Some(build_id),
    })
}

/// Follows a build until it ends, showing each new status. Cancel or the deadline stop the
/// build (StopBuild) rather than leaving it running unobserved.
async fn follow_build(
    env: &Runtime,
    ctx: &Context,
    build_id: &str,
) -> Result<BuildState, BuildFailure> {
    let mut updates = env.poller.watch_build(build_id);
    let mut progress = BuildProgress::default();
    let mut shown = ServiceStatus::BuildQueued;
    let waited = await_condition(ctx, &mut updates, None, None, |observed| match observed {
        Some(Ok(Some(state))) => {
            let status = progress.observe(&state);
            let ended = state.status != BuildStatus::InProgress;
            let line = (status != shown || ended)
                .then(|| format!("{} ({})", status.as_str(), state.current_phase));
            shown = status;
            if ended {
                (line, Verdict::Done(state))
            } else {
                (line, Verdict::Wait)
            }
        }
        Some(Ok(None)) => (
            None,
            Verdict::Fail(BuildFailure::Error(Error::Failed(format!(
                "CodeBuild does not know build {build_id}"
            )))),
        ),
        Some(Err(err)) => {
            tracing::warn!("polling build {build_id}: {err}");
            (None, Verdict::Wait)
        }
        None => (None, Verdict::Wait),
    })
    .await?;
    match waited {
        Waited::Done(state) => Ok(state),
        Waited::Interrupted(why) => {
            if let Err(e) = env.cloud.builds.stop_build(build_id).await {
                tracing::warn!("stopping build {build_id}: {e}");
            }
            Err(BuildFailure::Interrupted(
                format!("{why}; build {build_id} was stopped"),
                shown,
            ))
        }
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{BuildPhase, BuildStatus};
    use crate::testing::*;
    use pulumi_plugin::value::from_properties;
    use pulumi_plugin::{EngineLog, Mask, PropertyMap, Value};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const TOKEN: &str = "tok-9f8e7d";
    const PIN: &str = "4711";

    fn context_dir(tag: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("defang-image-build-{tag}"))
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM nginx\nARG TOKEN\n").unwrap();
        dir
    }

    fn inputs(dir: &Path) -> PropertyMap {
        let args = PropertyMap::from([
            ("TOKEN".to_string(), Value::from(TOKEN).into_secret()),
            ("PIN".to_string(), Value::from(PIN).into_secret()),
            ("MODE".to_string(), Value::from("release")),
        ]);
        let build = PropertyMap::from([
            (
                "context".to_string(),
                Value::from(dir.display().to_string()),
            ),
            ("args".to_string(), Value::Object(args)),
        ]);
        PropertyMap::from([
            ("project".to_string(), Value::from("shop")),
            ("name".to_string(), Value::from("web")),
            ("build".to_string(), Value::Object(build)),
        ])
    }

    fn resolved(inputs: &PropertyMap) -> ResolvedService {
        let parsed: crate::service::inputs::ServiceInputs = from_properties(inputs).unwrap();
        parsed.resolved("web").unwrap()
    }

    /// A build fails, and its log (and CodeBuild's phase message) echo the secret build args:
    /// what reaches the engine, through the machinery, names neither.
    #[tokio::test(start_paused = true)]
    async fn a_build_log_that_echoes_a_secret_arg_comes_back_masked() {
        let dir = context_dir("mask");
        let builds = Arc::new(FakeBuildCloud::default());
        let mut failed = build_state(BuildStatus::Failed, "COMPLETED");
        failed.phases = vec![BuildPhase {
            phase_type: "BUILD".into(),
            status: Some("FAILED".into()),
            messages: vec![format!("command failed: curl -H 'token: {TOKEN}'")],
        }];
        builds
            .build_script
            .lock()
            .unwrap()
            .extend([build_state(BuildStatus::InProgress, "BUILD"), failed]);
        builds.log_lines.lock().unwrap().extend([
            format!("#5 RUN echo TOKEN={TOKEN} PIN={PIN} MODE=release"),
            format!("#5 0.1 TOKEN={TOKEN}"),
            "#5 ERROR: process did not complete successfully".to_string(),
        ]);
        let env = env_with_builds(
            Arc::new(FakeEcs::default()),
            Arc::new(FakeStacks::with_project("shop")),
            builds,
        );
        let driver = driver(env.cloud).await;
        let status = driver
            .create(crate::service::lifecycle::TOKEN, "web", &inputs(dir.path()))
            .await
            .expect_err("the build failed");
        let detail = pulumi_plugin::error::resource_init_failed(&status).expect("partial state");
        let reasons = detail.reasons.join("\n");
        for text in [status.message(), reasons.as_str()] {
            assert!(!text.contains(TOKEN) && !text.contains(PIN), "{text}");
            assert!(
                text.contains("TOKEN=[secret] PIN=[secret] MODE=release"),
                "{text}"
            );
            assert!(text.contains("token: [secret]"), "{text}");
        }
        let logs = driver.engine().records();
        assert!(!logs.is_empty());
        for record in logs {
            assert!(!record.message.contains(TOKEN), "{}", record.message);
        }
    }

    /// With a secret build arg, log lines never show the build hash (a hash of a PIN can be
    /// searched for); without one they do.
    // build_image directly, not a create through the Driver: the hash looked for is the one it
    // returns, and only its messages (no rollout's) are read.
    #[tokio::test(start_paused = true)]
    async fn messages_leave_the_hash_out_when_a_build_arg_is_secret() {
        let dir = context_dir("hash");
        let secret_inputs = inputs(dir.path());
        let mut plain_inputs = secret_inputs.clone();
        plain_inputs.insert("build".into(), secret_inputs["build"].unwrap_secrets());
        for (inputs, secret) in [(secret_inputs, true), (plain_inputs, false)] {
            let builds = Arc::new(FakeBuildCloud::default());
            builds
                .build_script
                .lock()
                .unwrap()
                .push_back(build_state(BuildStatus::Succeeded, "COMPLETED"));
            let env = env_with_builds(
                Arc::new(FakeEcs::default()),
                Arc::new(FakeStacks::with_project("shop")),
                builds,
            );
            let engine = EngineLog::recording();
            let ctx = pulumi_plugin::Context::new(
                engine.for_resource("urn:r"),
                tokio_util::sync::CancellationToken::new(),
                None,
            )
            .with_mask(&Mask::from_properties([&inputs]));
            let svc = resolved(&inputs);
            let stack = env
                .cloud
                .stacks
                .describe_stack(&crate::aws_names::project_stack("shop"))
                .await
                .unwrap()
                .unwrap();
            let project = ProjectInfo::from_stack(&stack).unwrap();
            let built = build_image(&env, &ctx, &svc, &project)
                .await
                .map_err(|e| format!("{e:?}"))
                .unwrap();
            let shown = engine
                .records()
                .iter()
                .map(|r| r.message.clone())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(shown.contains("building "), "{shown}");
            assert_eq!(
                shown.contains(short(&built.build_hash)),
                !secret,
                "secret {secret}: {shown}"
            );
        }
    }

    /// A context too large to hash in the test's time (a sparse 64 GiB file): the hash runs
    /// beside the runtime (a ticker keeps ticking on this one-thread runtime) and Cancel ends
    /// it at once.
    #[tokio::test]
    async fn hashing_a_huge_context_neither_blocks_the_runtime_nor_outlives_cancel() {
        let dir = context_dir("huge");
        let huge = std::fs::File::create(dir.path().join("huge.bin")).unwrap();
        huge.set_len(64 << 30).unwrap();
        drop(huge);
        let svc = resolved(&inputs(dir.path()));

        let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        let token = tokio_util::sync::CancellationToken::new();
        let ctx = pulumi_plugin::Context::new(
            EngineLog::default().for_resource("urn:r"),
            token.clone(),
            None,
        );
        let cancel = {
            let token = token.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                token.cancel();
            })
        };
        let started = Instant::now();
        let result = current_build_hash(&svc, Some(&ctx)).await;
        let took = started.elapsed();
        cancel.await.unwrap();
        ticker.abort();
        assert!(
            result.as_ref().is_err_and(|e| e.contains("cancelled")),
            "{result:?}"
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
        let ticked = ticks.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            ticked >= 10,
            "the runtime ran other tasks meanwhile: {ticked} ticks"
        );

        // Without a context (Diff), dropping the future stops the walk too: a deadline
        // (the way the machinery drops a Diff on Cancel) ends it just as quickly.
        let started = Instant::now();
        let dropped =
            tokio::time::timeout(Duration::from_millis(200), current_build_hash(&svc, None)).await;
        assert!(dropped.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_deadline_that_passed_reads_nothing() {
        let dir = context_dir("late");
        let svc = resolved(&inputs(dir.path()));
        let ctx = pulumi_plugin::Context::new(
            EngineLog::default().for_resource("urn:r"),
            tokio_util::sync::CancellationToken::new(),
            Some(Duration::ZERO),
        );
        let err = current_build_hash(&svc, Some(&ctx)).await.unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        // And with time to spare, the same sources hash the same (the tag is stable).
        let a = current_build_hash(&svc, None).await.unwrap();
        let b = current_build_hash(&svc, None).await.unwrap();
        assert_eq!(a, b);
    }
}
