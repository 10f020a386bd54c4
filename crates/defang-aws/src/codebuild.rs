//! [`Builds`] over the AWS SDK: CodeBuild builds of service images.

mod buildspec;
mod request;
mod state;

pub use buildspec::BUILDSPEC;
pub use request::{ARM_IMAGE, X86_IMAGE};

use crate::errors::{CODEBUILD, classify};
use async_trait::async_trait;
use aws_sdk_codebuild::types::LogsConfigStatusType;
use defang_resources::cloud::{
    BuildRequest, BuildStatus, Builds, CloudError, CloudErrorKind, CloudResult,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// BatchGetBuilds accepts at most this many ids per call.
pub const BATCH_GET_BUILDS_LIMIT: usize = 100;

pub struct CodeBuildAdapter {
    client: aws_sdk_codebuild::Client,
    /// CloudWatch Logs group of each CodeBuild project, looked up once per process.
    log_groups: Mutex<HashMap<String, Option<String>>>,
}

impl CodeBuildAdapter {
    pub fn new(client: aws_sdk_codebuild::Client) -> Self {
        Self {
            client,
            log_groups: Mutex::new(HashMap::new()),
        }
    }

    /// The project's log group (None when it does not log to a named CloudWatch group), so
    /// that the logs override can name it. The API does not say whether an override without a
    /// group keeps the project's group; naming it keeps the build logging where the project's
    /// IAM role may write. One BatchGetProjects per project per process.
    async fn project_log_group(&self, project: &str) -> CloudResult<Option<String>> {
        if let Some(group) = self.cached_log_group(project) {
            return Ok(group);
        }
        let out = self
            .client
            .batch_get_projects()
            .names(project)
            .send()
            .await
            .map_err(|e| {
                classify(
                    CODEBUILD,
                    "BatchGetProjects",
                    "describe CodeBuild project",
                    &e,
                )
            })?;
        let Some(found) = out
            .projects()
            .iter()
            .find(|p| p.name() == Some(project) || p.arn() == Some(project))
        else {
            return Err(CloudError::not_found(format!(
                "start CodeBuild build: the CodeBuild project `{project}` does not exist"
            ))
            .in_call(CODEBUILD, "BatchGetProjects"));
        };
        let group = found
            .logs_config()
            .and_then(|l| l.cloud_watch_logs())
            .filter(|c| c.status() == &LogsConfigStatusType::Enabled)
            .and_then(|c| c.group_name())
            .filter(|g| !g.is_empty())
            .map(str::to_owned);
        self.log_groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(project.to_owned(), group.clone());
        Ok(group)
    }

    fn cached_log_group(&self, project: &str) -> Option<Option<String>> {
        self.log_groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(project)
            .cloned()
    }
}

#[async_trait]
impl Builds for CodeBuildAdapter {
    async fn start_build(&self, request: &BuildRequest) -> CloudResult<String> {
        // Checked before any call: a bad request sends nothing.
        let input = request::start_build_input(request)?;
        // Only for a project that logs to a named group: the override then changes just the
        // stream prefix. Without one, the project's own settings apply as they are.
        let logs = match self.project_log_group(&request.codebuild_project).await? {
            Some(group) => Some(request::logs_override(&group, &request.log_stream_prefix)?),
            None => None,
        };
        // Never log `request` or `input`: their build arguments may hold secrets.
        let out = input
            .set_logs_config_override(logs)
            .send_with(&self.client)
            .await
            .map_err(|e| classify(CODEBUILD, "StartBuild", "start CodeBuild build", &e))?;
        let id = out.build_value().and_then(|b| b.id()).ok_or_else(|| {
            CloudError::other("start CodeBuild build: no build id in the response")
                .in_call(CODEBUILD, "StartBuild")
        })?;
        tracing::debug!(project = %request.codebuild_project, %id, tag = %request.image_tag, "started build");
        Ok(id.to_owned())
    }

    async fn batch_get_builds(
        &self,
        ids: &[String],
    ) -> CloudResult<Vec<defang_resources::cloud::BuildState>> {
        let mut states = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_GET_BUILDS_LIMIT) {
            let out = self
                .client
                .batch_get_builds()
                .set_ids(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| classify(CODEBUILD, "BatchGetBuilds", "get CodeBuild builds", &e))?;
            // `buildsNotFound` are simply left out, as the trait says.
            states.extend(out.builds().iter().map(state::build_state));
        }
        Ok(states)
    }

    async fn stop_build(&self, id: &str) -> CloudResult<()> {
        let err = match self.client.stop_build().id(id).send().await {
            Ok(_) => {
                tracing::debug!(%id, "stopping build");
                return Ok(());
            }
            Err(err) => classify(CODEBUILD, "StopBuild", "stop CodeBuild build", &err),
        };
        match err.kind() {
            // Nothing to stop.
            CloudErrorKind::NotFound => Ok(()),
            // StopBuild refuses builds that are not running; which message it uses is not
            // documented, so ask the build itself whether it is over.
            CloudErrorKind::Invalid => {
                match self.batch_get_builds(&[id.to_owned()]).await?.first() {
                    None => Ok(()),
                    Some(build) if build.status != BuildStatus::InProgress => Ok(()),
                    Some(_) => Err(err),
                }
            }
            _ => Err(err),
        }
    }
}
