//! Route 53: the user's own public zone for a custom domain.

use crate::errors::{ROUTE53, classify};
use defang_resources::cloud::{CloudResult, Dns, HostedZone};

pub struct Route53Adapter {
    client: aws_sdk_route53::Client,
}

impl Route53Adapter {
    pub fn new(client: aws_sdk_route53::Client) -> Self {
        Route53Adapter { client }
    }
}

/// The domain and its parents, nearest first, down to the two-label registrable name
/// (`a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`).
pub fn candidates(domain: &str) -> Vec<String> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

#[async_trait::async_trait]
impl Dns for Route53Adapter {
    async fn find_public_zone(&self, domain: &str) -> CloudResult<Option<HostedZone>> {
        for candidate in candidates(domain) {
            // Zones are listed in name order starting at `dns_name`: the first ones are this
            // name's, if any (a name can have several zones, e.g. a private one).
            let out = self
                .client
                .list_hosted_zones_by_name()
                .dns_name(&candidate)
                .max_items(10)
                .send()
                .await
                .map_err(|e| {
                    classify(
                        ROUTE53,
                        "ListHostedZonesByName",
                        "list Route 53 hosted zones",
                        &e,
                    )
                })?;
            let found = out.hosted_zones().iter().find(|z| {
                z.name().trim_end_matches('.') == candidate
                    && !z.config().is_some_and(|c| c.private_zone())
            });
            if let Some(zone) = found {
                return Ok(Some(HostedZone {
                    id: zone.id().trim_start_matches("/hostedzone/").to_string(),
                    name: candidate,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_the_registrable_name() {
        assert_eq!(
            candidates("App.Shop.Example.com."),
            vec!["app.shop.example.com", "shop.example.com", "example.com"]
        );
        assert_eq!(candidates("example.com"), vec!["example.com"]);
    }
}
