//! IAM: what a service's own task role allows live (its managed policies and the inline policy
//! the service's stack wrote), for refresh to show a policy attached, detached or edited
//! outside Pulumi, and the writes that put them back on `up` (the service's stack makes them;
//! when only the outside changed, its template does not, and CloudFormation does nothing).

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
    /// Attaches managed policy `policy_arn` to the role (attached already: nothing changes). A
    /// role or policy that does not exist is [`NotFound`](super::CloudErrorKind::NotFound).
    async fn attach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()>;
    /// Detaches managed policy `policy_arn` from the role; one not attached is
    /// [`NotFound`](super::CloudErrorKind::NotFound).
    async fn detach_policy(&self, role_name: &str, policy_arn: &str) -> CloudResult<()>;
    /// Makes `document` the role's inline policy `policy_name` (made or replaced).
    async fn put_inline_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &serde_json::Value,
    ) -> CloudResult<()>;
    /// Deletes the role's inline policy `policy_name`; one that does not exist is
    /// [`NotFound`](super::CloudErrorKind::NotFound).
    async fn delete_inline_policy(&self, role_name: &str, policy_name: &str) -> CloudResult<()>;
}
