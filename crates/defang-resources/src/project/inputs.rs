//! `defang:index:Project` inputs: the shared infrastructure of one project.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;

/// The shared infrastructure of one Defang project in your AWS account, as one CloudFormation
/// stack: a VPC with public subnets (or your own VPC), an ECS cluster, a security group, the task
/// execution role and a CloudWatch Logs group. Services join it with `project: myProject.name`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectInputs {
    /// The project name: a DNS label (lowercase letters, digits and '-', starting with a letter, at
    /// most 63 characters) and the label after the service in every domain. Defaults to the Pulumi
    /// project name. Changing it replaces the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Adopt this existing VPC (`vpc-…`) instead of creating one; requires `subnetIds`. Changing it
    /// replaces the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The subnets (`subnet-…`) of the adopted VPC that tasks run in; at least two, in different
    /// availability zones, are recommended. Only with `vpcId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    /// Give tasks public IP addresses. Defaults to true. Tasks without one (in private subnets)
    /// need a NAT gateway or VPC endpoints to pull images and write logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<bool>,
    /// The IPv4 CIDR block of the VPC the project creates, /16 to /24. Defaults to `10.0.0.0/16`.
    /// Only when no `vpcId` is given; changing it replaces the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_cidr: Option<String>,
    /// Days CloudWatch Logs keeps the services' logs: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180,
    /// 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653. Defaults to 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_retention_days: Option<u32>,
    /// Tags for every AWS resource of the project: at most 40, and keys may not start with `aws:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Serve the services' ingress ports: a public DNS zone `<project>.<username>.<domainSuffix>`,
    /// a wildcard TLS certificate for it (validated through the zone) and an internet-facing
    /// application load balancer with HTTPS on 443 and HTTP on 80 redirecting to HTTPS. Unset (the
    /// default): they are made when the first service with an ingress port deploys, then kept, so a
    /// project without ingress services pays for none (the project's `nameServers` and
    /// `loadBalancerDnsName` then appear on its next refresh, e.g. `pulumi up --refresh`). `true`:
    /// made with the project. `false`: never; services with ingress ports are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<bool>,
    /// Serve the project's ingress domains from your own public Route 53 zone of this name (for
    /// example `apps.example.com`; it must exist in the account) instead of creating
    /// `<project>.<username>.<domainSuffix>`: services are then `<service>--<port>.<domain>`, and
    /// the wildcard certificate is validated in your zone. Not with `loadBalancer: false`.
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
    /// Whether the stack has the ingress resources now (see [`LoadBalancerPolicy`]).
    pub load_balancer: bool,
    pub load_balancer_policy: LoadBalancerPolicy,
    /// The load balancer's name: [`crate::aws_names::load_balancer`], or the one an existing
    /// load balancer already has (see [`ResolvedProject::keep_load_balancer_name`]).
    pub load_balancer_name: String,
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
            load_balancer_name: crate::aws_names::load_balancer(&name),
            name,
            load_balancer: self.load_balancer.unwrap_or(false),
            load_balancer_policy: match self.load_balancer {
                None => LoadBalancerPolicy::Auto,
                Some(true) => LoadBalancerPolicy::Always,
                Some(false) => LoadBalancerPolicy::Never,
            },
            network,
            assign_public_ip: self.assign_public_ip.unwrap_or(true),
            log_retention_days: self
                .log_retention_days
                .unwrap_or(DEFAULT_LOG_RETENTION_DAYS),
            tags: self.tags.clone().unwrap_or_default(),
        }
    }
}

/// When a project has its load balancer, zone and certificate (the `loadBalancer` input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadBalancerPolicy {
    /// Made when the first service with an ingress port deploys, then kept (unset).
    Auto,
    /// Made with the project (`true`).
    Always,
    /// Never (`false`): services with ingress ports are refused.
    Never,
}

impl LoadBalancerPolicy {
    /// As the project stack's `LoadBalancerPolicy` output says it, for services to read.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadBalancerPolicy::Auto => "auto",
            LoadBalancerPolicy::Always => "always",
            LoadBalancerPolicy::Never => "never",
        }
    }
}

impl ResolvedProject {
    /// For a project whose load balancer comes with its first ingress service: keeps it when
    /// the deployed stack has it (a service turned it on).
    pub fn keep_deployed_ingress(&mut self, deployed: Option<&crate::cloud::StackState>) {
        if self.load_balancer_policy == LoadBalancerPolicy::Auto
            && deployed.is_some_and(|s| {
                s.outputs
                    .contains_key(super::ingress::outputs::LOAD_BALANCER_ARN)
            })
        {
            self.load_balancer = true;
        }
    }

    /// Keeps the name of the load balancer the project has (its DNS name, an output, starts
    /// with it): a project deployed when long names were cut without a hash keeps its load
    /// balancer, since renaming one replaces it.
    pub fn keep_load_balancer_name(&mut self, deployed_dns_name: Option<&str>) {
        let legacy = crate::aws_names::legacy_load_balancer(&self.name);
        if let Some(dns) = deployed_dns_name
            && dns.to_ascii_lowercase().starts_with(&format!("{legacy}-"))
        {
            self.load_balancer_name = legacy;
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
