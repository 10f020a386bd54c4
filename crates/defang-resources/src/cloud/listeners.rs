//! Elastic Load Balancing: the rules of a project's HTTPS listener, so that a service's host
//! rules get priorities no other rule has (priorities are unique per listener).

use super::CloudResult;

/// One rule of a listener: its priority and the host names it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerRule {
    pub priority: u32,
    pub hosts: Vec<String>,
}

#[async_trait::async_trait]
pub trait Listeners: Send + Sync {
    /// Every rule of the listener but its default action (all pages).
    async fn listener_rules(&self, listener_arn: &str) -> CloudResult<Vec<ListenerRule>>;
}
