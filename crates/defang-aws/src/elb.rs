//! Elastic Load Balancing: the rules of a project's HTTPS listener.

use crate::errors::{ELB, classify};
use defang_resources::cloud::{CloudResult, ListenerRule, Listeners};

pub struct ElbAdapter {
    client: aws_sdk_elasticloadbalancingv2::Client,
}

impl ElbAdapter {
    pub fn new(client: aws_sdk_elasticloadbalancingv2::Client) -> Self {
        ElbAdapter { client }
    }
}

#[async_trait::async_trait]
impl Listeners for ElbAdapter {
    async fn listener_rules(&self, listener_arn: &str) -> CloudResult<Vec<ListenerRule>> {
        let mut rules = Vec::new();
        let mut marker: Option<String> = None;
        // DescribeRules pages with a marker (up to 400 rules a page; a listener has at most 100
        // by default, more with a quota increase).
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .page_size(400)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| {
                    classify(
                        ELB,
                        "DescribeRules",
                        "describe load balancer listener rules",
                        &e,
                    )
                })?;
            for rule in out.rules() {
                // The default rule's priority is "default".
                let Some(priority) = rule.priority().and_then(|p| p.parse::<u32>().ok()) else {
                    continue;
                };
                let hosts = rule
                    .conditions()
                    .iter()
                    .flat_map(|c| {
                        let configured = c
                            .host_header_config()
                            .map(|h| h.values().to_vec())
                            .unwrap_or_default();
                        // The legacy form: `Field: host-header` with `Values`.
                        let legacy = if c.field() == Some("host-header") {
                            c.values().to_vec()
                        } else {
                            Vec::new()
                        };
                        configured.into_iter().chain(legacy)
                    })
                    .map(|h| h.to_ascii_lowercase())
                    .collect();
                rules.push(ListenerRule { priority, hosts });
            }
            match out.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(rules),
            }
        }
    }
}
