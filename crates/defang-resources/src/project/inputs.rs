//! `defang:index:Project` inputs: the shared infrastructure of one project.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectInputs {
    /// Project name (a DNS label); defaults to the Pulumi project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Adopt this existing VPC instead of creating one (requires `subnetIds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Subnets of the adopted VPC that tasks run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    /// Give tasks public IPs (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<bool>,
    /// CIDR of the created VPC (default 10.0.0.0/16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_cidr: Option<String>,
    /// Days to keep logs (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_retention_days: Option<u32>,
    /// Tags for every AWS resource of the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Serve the services' ingress ports: a public DNS zone, a wildcard certificate and an
    /// internet-facing HTTPS load balancer (default false: a project without ingress services
    /// pays for no load balancer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<bool>,
    /// Serve ingress domains from your own public Route 53 zone of this name (e.g.
    /// `apps.example.com`, which must exist in the account) instead of creating
    /// `<project>.<username>.<suffix>`; services are then `<service>--<port>.<domain>`.
    /// Needs `loadBalancer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The network a project runs its tasks in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// A VPC with two public subnets, internet gateway and routes, created with the project.
    Created { cidr: String },
    /// The user's VPC and subnets.
    Adopted {
        vpc_id: String,
        subnet_ids: Vec<String>,
    },
}

/// Inputs with every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedProject {
    pub name: String,
    /// `<project>.<username>.<suffix>`: the public zone of the project's ingress domains.
    pub public_domain: String,
    /// `public_domain` is the user's (`domain` was set), served from their zone.
    pub own_domain: bool,
    /// The id of the user's zone for `public_domain`, once looked up.
    pub adopted_zone_id: Option<String>,
    pub load_balancer: bool,
    pub network: Network,
    pub assign_public_ip: bool,
    pub log_retention_days: u32,
    pub tags: BTreeMap<String, String>,
}

impl ProjectInputs {
    /// Applies defaults; `pulumi_project` names the project when `name` is not set; the public
    /// domain is `<project>.<username>.<suffix>`.
    pub fn resolve(&self, pulumi_project: &str, username: &str, suffix: &str) -> ResolvedProject {
        let network = match &self.vpc_id {
            Some(vpc_id) => Network::Adopted {
                vpc_id: vpc_id.clone(),
                subnet_ids: self.subnet_ids.clone().unwrap_or_default(),
            },
            None => Network::Created {
                cidr: self
                    .vpc_cidr
                    .clone()
                    .unwrap_or_else(|| DEFAULT_VPC_CIDR.to_string()),
            },
        };
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| pulumi_project.to_string());
        ResolvedProject {
            public_domain: match &self.domain {
                Some(domain) => domain.trim_end_matches('.').to_ascii_lowercase(),
                None => public_domain(&name, username, suffix),
            },
            own_domain: self.domain.is_some(),
            adopted_zone_id: None,
            name,
            load_balancer: self.load_balancer.unwrap_or(false),
            network,
            assign_public_ip: self.assign_public_ip.unwrap_or(true),
            log_retention_days: self
                .log_retention_days
                .unwrap_or(DEFAULT_LOG_RETENTION_DAYS),
            tags: self.tags.clone().unwrap_or_default(),
        }
    }
}

/// The project's public zone: `<project>.<username>.<suffix>`.
pub fn public_domain(project: &str, username: &str, suffix: &str) -> String {
    format!("{project}.{username}.{suffix}")
}

/// The project's private DNS namespace: services are `<service>.<project>.internal`.
pub fn private_domain(project: &str) -> String {
    format!("{project}.internal")
}

/// Names derived from the project name, identical everywhere (provider, previews, imports).
pub fn stack_name(project: &str) -> String {
    format!("defang-{project}")
}

pub fn cluster_name(project: &str) -> String {
    format!("defang-{project}")
}

pub fn log_group_name(project: &str) -> String {
    format!("/defang/{project}")
}

/// The Pulumi project in a URN `urn:pulumi:<stack>::<project>::<type>::<name>`.
pub fn pulumi_project_of(urn: &str) -> Option<&str> {
    urn.strip_prefix("urn:pulumi:")?.split("::").nth(1)
}

/// The Pulumi stack in a URN.
pub fn pulumi_stack_of(urn: &str) -> Option<&str> {
    urn.strip_prefix("urn:pulumi:")?.split("::").next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urn_parts() {
        let urn = "urn:pulumi:dev::shop::defang:index:Project::main";
        assert_eq!(pulumi_project_of(urn), Some("shop"));
        assert_eq!(pulumi_stack_of(urn), Some("dev"));
        assert_eq!(pulumi_project_of("nonsense"), None);
    }

    #[test]
    fn defaults() {
        let r = ProjectInputs::default().resolve("shop", "alice", "defang.app");
        assert_eq!(r.name, "shop");
        assert_eq!(r.public_domain, "shop.alice.defang.app");
        assert!(!r.load_balancer);
        assert_eq!(
            r.network,
            Network::Created {
                cidr: "10.0.0.0/16".into()
            }
        );
        assert!(r.assign_public_ip);
        assert_eq!(r.log_retention_days, 30);
    }
}
