//! SSM Parameter Store: where secret environment values live, encrypted (SecureString), for
//! ECS to resolve at task start. Implementations never log or echo a parameter's value.

use super::CloudResult;

#[async_trait::async_trait]
pub trait Parameters: Send + Sync {
    /// Writes `value` as a SecureString under `name` (encrypted with the account's AWS-managed
    /// `aws/ssm` key), overwriting what is there; returns the parameter's ARN.
    async fn put_secure(
        &self,
        name: &str,
        value: &str,
        tags: &[(String, String)],
    ) -> CloudResult<String>;
    /// Deletes every parameter under `prefix` (recursively) whose name is not in `keep`;
    /// returns how many. Nothing there is `Ok(0)`.
    async fn delete_by_path_except(&self, prefix: &str, keep: &[String]) -> CloudResult<u64>;

    /// Deletes every parameter under `prefix` (recursively); returns how many.
    async fn delete_by_path(&self, prefix: &str) -> CloudResult<u64> {
        self.delete_by_path_except(prefix, &[]).await
    }
}
