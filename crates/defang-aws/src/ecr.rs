//! [`Registry`] over the AWS SDK: one ECR repository per service.

use crate::errors::{ECR, classify, is_already_exists};
use async_trait::async_trait;
use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ImageTagMutability, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use defang_resources::cloud::{CloudError, CloudResult, Registry};

pub struct EcrAdapter {
    client: aws_sdk_ecr::Client,
}

impl EcrAdapter {
    pub fn new(client: aws_sdk_ecr::Client) -> Self {
        Self { client }
    }

    async fn repository_uri(&self, name: &str) -> CloudResult<String> {
        let out = self
            .client
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
            .map_err(|e| classify(ECR, "DescribeRepositories", "describe ECR repository", &e))?;
        out.repositories()
            .iter()
            .find(|r| r.repository_name() == Some(name))
            .and_then(|r| r.repository_uri())
            .map(str::to_owned)
            .ok_or_else(|| {
                CloudError::other(format!("describe ECR repository: no URI for `{name}`"))
                    .in_call(ECR, "DescribeRepositories")
            })
    }
}

/// The repository name from a name or a URI (`<registry host>/<name>`). Names may contain `/`
/// and `.`, but never a registry host (`….dkr.ecr.…` or `host:port`).
pub fn repository_name(repository: &str) -> &str {
    match repository.split_once('/') {
        Some((host, name)) if host.contains(".dkr.ecr.") || host.contains(':') => name,
        _ => repository,
    }
}

#[async_trait]
impl Registry for EcrAdapter {
    async fn ensure_repository(
        &self,
        name: &str,
        tags: &[(String, String)],
    ) -> CloudResult<String> {
        let tags = tags
            .iter()
            .map(|(key, value)| {
                Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(|e| CloudError::other(format!("create ECR repository: {e}")))
            })
            .collect::<CloudResult<Vec<_>>>()?;
        let created = self
            .client
            .create_repository()
            .repository_name(name)
            // A tag is a build hash: it names one image forever, and deploys pin the digest.
            .image_tag_mutability(ImageTagMutability::Immutable)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await;
        match created {
            Ok(out) => {
                if let Some(uri) = out.repository().and_then(|r| r.repository_uri()) {
                    tracing::debug!(%name, %uri, "created repository");
                    return Ok(uri.to_owned());
                }
                self.repository_uri(name).await
            }
            // Already there (created earlier, or by a concurrent operation): same answer.
            // Its settings and tags are left as they are.
            Err(err) if is_already_exists(err.code()) => self.repository_uri(name).await,
            Err(err) => Err(classify(
                ECR,
                "CreateRepository",
                "create ECR repository",
                &err,
            )),
        }
    }

    async fn image_digest(&self, repository: &str, tag: &str) -> CloudResult<Option<String>> {
        let out = match self
            .client
            .describe_images()
            .repository_name(repository_name(repository))
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
        {
            Ok(out) => out,
            // ImageNotFoundException, RepositoryNotFoundException.
            Err(err) => {
                return match classify(ECR, "DescribeImages", "describe ECR image", &err) {
                    err if err.is_not_found() => Ok(None),
                    other => Err(other),
                };
            }
        };
        Ok(out
            .image_details()
            .iter()
            .find(|d| d.image_tags().iter().any(|t| t == tag))
            .or_else(|| out.image_details().first())
            .and_then(|d| d.image_digest())
            .map(str::to_owned))
    }

    async fn delete_repository(&self, name: &str) -> CloudResult<()> {
        match self
            .client
            .delete_repository()
            .repository_name(repository_name(name))
            // With its images: they belong to the project being deleted.
            .force(true)
            .send()
            .await
        {
            Ok(_) => {
                tracing::debug!(%name, "deleted repository");
                Ok(())
            }
            Err(err) => match classify(ECR, "DeleteRepository", "delete ECR repository", &err) {
                err if err.is_not_found() => Ok(()),
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_names_and_uris() {
        assert_eq!(repository_name("defang/shop/web"), "defang/shop/web");
        assert_eq!(repository_name("my.repo"), "my.repo");
        assert_eq!(
            repository_name("123456789012.dkr.ecr.us-east-1.amazonaws.com/defang/shop/web"),
            "defang/shop/web"
        );
        assert_eq!(repository_name("localhost:5000/web"), "web");
    }
}
