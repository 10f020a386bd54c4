//! [`Parameters`] over SSM Parameter Store: secret environment values as SecureString
//! parameters. Values are sent to SSM and nowhere else: never logged, never in an error.

use crate::errors::{SSM, classify};
use aws_sdk_ssm::types::{ParameterType, Tag};
use defang_resources::cloud::{CloudError, CloudResult, Parameters};

/// DeleteParameters accepts at most this many names per call.
const DELETE_BATCH: usize = 10;

pub struct SsmAdapter {
    client: aws_sdk_ssm::Client,
}

impl SsmAdapter {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        SsmAdapter { client }
    }
}

/// GetParametersByPath wants the path without a trailing slash (it matches whole segments).
fn path_of(prefix: &str) -> &str {
    match prefix.trim_end_matches('/') {
        "" => "/",
        path => path,
    }
}

#[async_trait::async_trait]
impl Parameters for SsmAdapter {
    async fn put_secure(
        &self,
        name: &str,
        value: &str,
        tags: &[(String, String)],
    ) -> CloudResult<String> {
        // Without a key id SSM encrypts with the AWS-managed `aws/ssm` key. PutParameter
        // refuses tags together with Overwrite: tags are added in a second call.
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| {
                classify(
                    SSM,
                    "PutParameter",
                    &format!("put SSM parameter {name}"),
                    &e,
                )
            })?;
        if !tags.is_empty() {
            let tags: Vec<Tag> = tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<_, _>>()
                .map_err(|e| CloudError::invalid(format!("SSM parameter tag: {e}")))?;
            self.client
                .add_tags_to_resource()
                .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| {
                    classify(
                        SSM,
                        "AddTagsToResource",
                        &format!("tag SSM parameter {name}"),
                        &e,
                    )
                })?;
        }
        // The ARN, without decrypting the value.
        let out = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(false)
            .send()
            .await
            .map_err(|e| {
                classify(
                    SSM,
                    "GetParameter",
                    &format!("get SSM parameter {name}"),
                    &e,
                )
            })?;
        let arn = out.parameter().and_then(|p| p.arn()).ok_or_else(|| {
            CloudError::other(format!("get SSM parameter {name}: no ARN"))
                .in_call(SSM, "GetParameter")
        })?;
        tracing::debug!(%name, "wrote SecureString parameter");
        Ok(arn.to_owned())
    }

    async fn delete_by_path_except(&self, prefix: &str, keep: &[String]) -> CloudResult<u64> {
        let path = path_of(prefix);
        let mut names = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .client
                .get_parameters_by_path()
                .path(path)
                .recursive(true)
                // Names are all we need: the values stay encrypted.
                .with_decryption(false)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| {
                    classify(
                        SSM,
                        "GetParametersByPath",
                        &format!("list SSM parameters under {path}"),
                        &e,
                    )
                })?;
            names.extend(
                out.parameters()
                    .iter()
                    .filter_map(|p| p.name())
                    .filter(|name| !keep.iter().any(|k| k == name))
                    .map(str::to_owned),
            );
            next_token = out.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        let mut deleted = 0u64;
        for batch in names.chunks(DELETE_BATCH) {
            let out = self
                .client
                .delete_parameters()
                .set_names(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    classify(
                        SSM,
                        "DeleteParameters",
                        &format!("delete SSM parameters under {path}"),
                        &e,
                    )
                })?;
            deleted += out.deleted_parameters().len() as u64;
        }
        tracing::debug!(%path, deleted, "deleted SSM parameters");
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_have_no_trailing_slash() {
        assert_eq!(path_of("/defang/shop/web/"), "/defang/shop/web");
        assert_eq!(path_of("/defang/shop/web"), "/defang/shop/web");
        assert_eq!(path_of("/"), "/");
    }
}
