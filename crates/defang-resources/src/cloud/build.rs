//! Image builds: CodeBuild runs them, S3 holds build contexts, ECR holds images, CloudWatch
//! Logs holds build logs.

use super::CloudResult;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRequest {
    /// The CodeBuild project (one per Defang project).
    pub codebuild_project: String,
    /// Where the context archive is (`s3://bucket/key`, as bucket and key).
    pub source_bucket: String,
    pub source_key: String,
    /// Repository URI without tag, e.g. `123.dkr.ecr.us-east-1.amazonaws.com/defang/shop/web`.
    pub repository_uri: String,
    /// The tag to push (the build hash).
    pub image_tag: String,
    pub dockerfile: String,
    pub target: Option<String>,
    /// `linux/amd64` or `linux/arm64`; arm64 builds run on ARM build hosts, natively.
    pub platform: String,
    /// Build arguments (values may be secret: never log them).
    pub args: Vec<(String, String)>,
    /// Idempotency token: a retried StartBuild does not start a second build.
    pub idempotency_token: String,
    /// CloudWatch Logs stream prefix for this build.
    pub log_stream_prefix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildStatus {
    InProgress,
    Succeeded,
    Failed,
    Fault,
    TimedOut,
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildPhase {
    /// SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD, BUILD,
    /// POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED.
    pub phase_type: String,
    /// SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS, STOPPED; None while running.
    pub status: Option<String>,
    /// What CodeBuild said about the phase (failure messages).
    pub messages: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLocation {
    pub group: String,
    pub stream: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildState {
    pub id: String,
    pub status: BuildStatus,
    pub current_phase: String,
    pub phases: Vec<BuildPhase>,
    pub log: Option<LogLocation>,
}

#[async_trait::async_trait]
pub trait Builds: Send + Sync {
    /// Returns the build id.
    async fn start_build(&self, request: &BuildRequest) -> CloudResult<String>;
    /// Up to 100 ids per call; unknown ids are left out.
    async fn batch_get_builds(&self, ids: &[String]) -> CloudResult<Vec<BuildState>>;
    async fn stop_build(&self, id: &str) -> CloudResult<()>;
}

#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync {
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool>;
    /// Uploads a file, streaming it (never read whole into memory).
    async fn put_file(&self, bucket: &str, key: &str, path: &Path) -> CloudResult<()>;
    /// Deletes every object of the bucket (so CloudFormation can delete it); returns how
    /// many. A missing bucket has nothing to delete.
    async fn empty_bucket(&self, bucket: &str) -> CloudResult<u64>;
}

#[async_trait::async_trait]
pub trait Registry: Send + Sync {
    /// Creates the repository if missing; returns its URI.
    async fn ensure_repository(&self, name: &str, tags: &[(String, String)])
    -> CloudResult<String>;
    /// The digest (`sha256:…`) of `tag`, `None` if the tag does not exist.
    async fn image_digest(&self, repository: &str, tag: &str) -> CloudResult<Option<String>>;
    /// Deletes the repository and its images; a missing repository succeeds.
    async fn delete_repository(&self, name: &str) -> CloudResult<()>;
}

#[async_trait::async_trait]
pub trait LogTail: Send + Sync {
    /// The last `lines` messages of a log stream (oldest first); empty if it does not exist.
    async fn tail(&self, group: &str, stream: &str, lines: usize) -> CloudResult<Vec<String>>;
}
