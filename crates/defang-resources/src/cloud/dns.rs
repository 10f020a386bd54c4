//! Route 53: finding the user's own public zone for a custom domain.

use super::CloudResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedZone {
    pub id: String,
    /// Without the trailing dot, e.g. `example.com`.
    pub name: String,
}

#[async_trait::async_trait]
pub trait Dns: Send + Sync {
    /// The public zone that holds `domain`: the zone of that name or of its nearest parent,
    /// `None` when the account has none.
    async fn find_public_zone(&self, domain: &str) -> CloudResult<Option<HostedZone>>;
}
