//! Building a service's image from source: hash the context, reuse the image if this exact
//! build was pushed before (no build), else package and upload the context (only if absent),
//! start a CodeBuild build, follow it through the shared poller with live BUILD_* statuses, and
//! return the image pinned by digest.

use super::build_status::{BuildProgress, build_failure};
use super::inputs::{Build, ResolvedService};
use super::status::ServiceStatus;
use crate::build::{build_hash, context_digest, package_context};
use crate::cloud::{BuildRequest, BuildState, BuildStatus};
use crate::cloud_env::Env;
use crate::ownership::client_token;
use crate::project::ProjectInfo;
use crate::project::template::repository_prefix;
use pulumi_plugin::{Context, Error};
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
pub fn current_build_hash(svc: &ResolvedService) -> Result<String, String> {
    let build = svc.build.as_ref().ok_or("not built from source")?;
    let digest = context_digest(&context_dir(build), build.dockerfile.as_deref())
        .map_err(|e| e.to_string())?;
    Ok(build_hash(
        &digest,
        build.dockerfile.as_deref(),
        &build.args,
        build.target.as_deref(),
        svc.platform,
    ))
}

fn failed(what: &str, err: impl std::fmt::Display) -> Error {
    Error::Failed(format!("{what}: {err}"))
}

pub async fn build_image(
    env: &Env,
    ctx: &Context,
    urn: &str,
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
    let hash = {
        let svc = svc.clone();
        tokio::task::spawn_blocking(move || current_build_hash(&svc))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::InvalidArgument(format!("build.context: {e}")))?
    };
    if let Some(digest) = cloud
        .registry
        .image_digest(&repository, &hash)
        .await
        .map_err(|e| failed("ECR", e))?
    {
        ctx.log
            .info(&format!(
                "image {repository}:{} exists; no build needed",
                short(&hash)
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
        tokio::task::spawn_blocking(move || package_context(&dir, dockerfile.as_deref(), &archive))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| Error::InvalidArgument(format!("build.context: {e}")))?
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
        idempotency_token: client_token(urn, "build", &format!("{hash}/{}", attempt_nonce())),
        log_stream_prefix: format!("builds/{}", svc.name),
    };
    let build_id = cloud
        .builds
        .start_build(&request)
        .await
        .map_err(|e| failed("CodeBuild", e))?;
    ctx.log
        .info(&format!(
            "building {repository}:{} (CodeBuild {build_id})",
            short(&hash)
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
        return Err(BuildFailure::Failed(build_failure(&finished, &tail)));
    }
    let digest = cloud
        .registry
        .image_digest(&repository, &hash)
        .await
        .map_err(|e| failed("ECR", e))?
        .ok_or_else(|| {
            Error::Failed(format!(
                "build {build_id} succeeded but {repository}:{hash} is not in ECR; check the build log"
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
    env: &Env,
    ctx: &Context,
    build_id: &str,
) -> Result<BuildState, BuildFailure> {
    let mut updates = env.poller.watch_build(build_id);
    let mut progress = BuildProgress::default();
    let mut shown = ServiceStatus::BuildQueued;
    loop {
        tokio::select! {
            why = ctx.interrupted() => {
                if let Err(e) = env.cloud.builds.stop_build(build_id).await {
                    tracing::warn!("stopping build {build_id}: {e}");
                }
                return Err(BuildFailure::Interrupted(format!("{why}; build {build_id} was stopped"), shown));
            }
            changed = updates.changed() => {
                if changed.is_err() {
                    return Err(Error::Internal("the status poller stopped".into()).into());
                }
                let observed = updates.borrow_and_update().clone();
                match observed {
                    Some(Ok(Some(state))) => {
                        let status = progress.observe(&state);
                        if status != shown || state.status != BuildStatus::InProgress {
                            ctx.log.status(&format!("{} ({})", status.as_str(), state.current_phase)).await;
                            shown = status;
                        }
                        if state.status != BuildStatus::InProgress {
                            return Ok(state);
                        }
                    }
                    Some(Ok(None)) => {
                        return Err(Error::Failed(format!("CodeBuild does not know build {build_id}")).into())
                    }
                    Some(Err(err)) => tracing::warn!("polling build {build_id}: {err}"),
                    None => {}
                }
            }
        }
    }
}

/// Different for every build started by this process and across processes.
fn attempt_nonce() -> String {
    static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
