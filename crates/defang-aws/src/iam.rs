//! [`Roles`] over IAM: the managed and inline policies of a service's own task role, read, and
//! written back when they changed outside Pulumi (the service's stack makes them). IAM is global: the client comes from the same configuration
//! as the others, and its endpoint from the standard settings (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_IAM`).

use crate::errors::{IAM, classify};
use defang_resources::cloud::{CloudError, CloudResult, Roles};

pub struct IamAdapter {
    client: aws_sdk_iam::Client,
}

impl IamAdapter {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        IamAdapter { client }
    }
}

/// A policy document as IAM returns it: URL-encoded JSON (RFC 3986), decoded and parsed.
pub(crate) fn decode_policy_document(encoded: &str) -> Result<serde_json::Value, String> {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|e| format!("the policy document is not URL-encoded UTF-8: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("the policy document is not JSON: {e}"))
}

#[async_trait::async_trait]
impl Roles for IamAdapter {
    async fn attached_policies(&self, role_name: &str) -> CloudResult<Vec<String>> {
        let mut arns = Vec::new();
        // Pages of up to 100 (a role takes at most 20, but IAM may truncate any page).
        let mut pages = self
            .client
            .list_attached_role_policies()
            .role_name(role_name)
            .max_items(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    IAM,
                    "ListAttachedRolePolicies",
                    &format!("list the managed policies of IAM role {role_name}"),
                    &e,
                )
            })?;
            arns.extend(
                page.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn())
                    .map(str::to_owned),
            );
        }
        Ok(arns)
    }

    async fn inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> CloudResult<Option<serde_json::Value>> {
        let out = match self
            .client
            .get_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = classify(
                    IAM,
                    "GetRolePolicy",
                    &format!("get inline policy {policy_name} of IAM role {role_name}"),
                    &e,
                );
                return if err.is_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        decode_policy_document(out.policy_document())
            .map(Some)
            .map_err(|reason| {
                CloudError::other(format!(
                    "get inline policy {policy_name} of IAM role {role_name}: {reason}"
                ))
                .in_call(IAM, "GetRolePolicy")
            })
    }

    async fn attach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.client
            .attach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| {
                classify(
                    IAM,
                    "AttachRolePolicy",
                    &format!("attach {policy_arn} to IAM role {role_name}"),
                    &e,
                )
            })?;
        Ok(())
    }

    async fn detach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.client
            .detach_role_policy()
            .role_name(role_name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| {
                classify(
                    IAM,
                    "DetachRolePolicy",
                    &format!("detach {policy_arn} from IAM role {role_name}"),
                    &e,
                )
            })?;
        Ok(())
    }

    async fn put_inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()> {
        // The error names the policy, never its document.
        self.client
            .put_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(|e| {
                classify(
                    IAM,
                    "PutRolePolicy",
                    &format!("put inline policy {policy_name} of IAM role {role_name}"),
                    &e,
                )
            })?;
        Ok(())
    }

    async fn delete_inline_policy(&self, role_name: &str, policy_name: &str) -> CloudResult<()> {
        self.client
            .delete_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| {
                classify(
                    IAM,
                    "DeleteRolePolicy",
                    &format!("delete inline policy {policy_name} of IAM role {role_name}"),
                    &e,
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_url_decoded_json() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGet%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%22%7D%5D%7D";
        let doc = decode_policy_document(encoded).unwrap();
        assert_eq!(doc["Statement"][0]["Action"], "s3:Get*");
        // RFC 3986: a '+' is a plus, not a space.
        assert_eq!(doc["Statement"][0]["Resource"], "arn:aws:s3:::b/a+b");
        // Already plain JSON (nothing encoded) reads the same.
        assert_eq!(
            decode_policy_document(r#"{"Statement":[]}"#).unwrap()["Statement"],
            serde_json::json!([])
        );
        assert!(decode_policy_document("%7Bnot json").is_err());
    }
}
