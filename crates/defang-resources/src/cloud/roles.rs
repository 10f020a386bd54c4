//! IAM: what a service's own task role allows live (its managed policies and the inline policy
//! the service's stack wrote), for refresh to show a policy attached, detached or edited
//! outside Pulumi. The service's stack writes them; this only reads.

use super::CloudResult;

#[async_trait::async_trait]
pub trait Roles: Send + Sync {
    /// The ARNs of the managed policies attached to role `role_name` (all pages), in IAM's
    /// order. A role that does not exist is [`NotFound`](super::CloudErrorKind::NotFound).
    async fn attached_policies(&self, role_name: &str) -> CloudResult<Vec<String>>;
    /// The document of the role's inline policy `policy_name`, as JSON (IAM's URL encoding
    /// undone); `None` when the role has no policy of that name, or is gone.
    async fn inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> CloudResult<Option<serde_json::Value>>;
}
