//! Project outputs: the inputs plus what the stack made, and the project facts services need.

use super::ingress::outputs as ingress_keys;
use super::inputs::{ProjectInputs, ResolvedProject};
use super::private_dns::outputs as private_keys;
use super::template::outputs as keys;
use crate::aws_names;
use crate::cloud::StackState;
use pulumi_plugin::value::to_properties;
use pulumi_plugin::{PropertyMap, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outputs of `defang:index:Project` beyond its inputs (which it echoes), as the schema
/// declares them; `name`, `vpcId` and `subnetIds` are here because the outputs always have them.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectOutputs {
    /// The project name.
    pub name: String,
    /// The VPC the project's tasks run in: the adopted one, or the one the project created.
    pub vpc_id: String,
    /// The subnets the project's tasks run in.
    pub subnet_ids: Vec<String>,
    /// The name of the project's CloudFormation stack.
    pub stack_name: String,
    /// The ID (ARN) of the project's CloudFormation stack.
    pub stack_id: String,
    /// The AWS region the project is in.
    pub region: String,
    /// The name of the project's ECS cluster, where its services run.
    pub cluster_name: String,
    /// The ARN of the project's ECS cluster.
    pub cluster_arn: String,
    /// The security group of the project's tasks.
    pub security_group_id: String,
    /// The IAM role ECS uses to pull images and write logs for the project's tasks.
    pub execution_role_arn: String,
    /// The CloudWatch Logs group of the project's services; each task writes a stream prefixed
    /// with its service name.
    pub log_group_name: String,
    /// The project's public zone, `<project>.<username>.<domainSuffix>` or its `domain` (unless
    /// `loadBalancer` is false). Ingress domains are `<service>--<port>.<publicDomain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_domain: Option<String>,
    /// Name servers of the public zone (with `loadBalancer`): delegate the zone to them from its
    /// parent (an NS record set) so that its domains resolve and its certificate can be issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_servers: Option<Vec<String>>,
    /// DNS name of the project's load balancer (with `loadBalancer`); service domains are
    /// aliases of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_dns_name: Option<String>,
    /// ARN of the wildcard certificate of the public zone (with `loadBalancer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    /// The project's private DNS namespace, `<project>.internal`: services with host ports are
    /// reachable at `<service>.<project>.internal`, and by their short name in a VPC the project
    /// created.
    pub private_domain: String,
}

/// What a service needs of its project (read from the project's stack outputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectInfo {
    pub name: String,
    pub cluster_name: String,
    pub subnet_ids: Vec<String>,
    pub security_group_id: String,
    pub execution_role_arn: String,
    pub log_group_name: String,
    pub assign_public_ip: bool,
    /// Where build contexts go, and the CodeBuild project that builds images.
    pub context_bucket: Option<String>,
    pub build_project: Option<String>,
    pub vpc_id: String,
    pub private_namespace_id: Option<String>,
    /// Present when the project has a load balancer.
    pub ingress: Option<IngressInfo>,
    /// `auto`, `always` or `never` (see [`super::inputs::LoadBalancerPolicy`]); `None` for a
    /// stack made before the policy existed (its load balancer is there or not, for good).
    pub load_balancer_policy: Option<String>,
}

/// The project's load balancer, zone and certificate, for services with ingress ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressInfo {
    pub zone_id: String,
    pub zone_name: String,
    pub https_listener_arn: String,
    pub load_balancer_dns_name: String,
    pub load_balancer_zone_id: String,
    pub load_balancer_security_group_id: String,
    /// The zone is the user's (the project's `domain`), not one the project made.
    pub adopted: bool,
}

impl ProjectInfo {
    /// Fails with the missing output's name when the stack is not a complete project stack.
    pub fn from_stack(stack: &StackState) -> Result<ProjectInfo, String> {
        let get = |key: &str| {
            stack
                .outputs
                .get(key)
                .cloned()
                .ok_or_else(|| format!("stack {} has no output {key}: is it a Defang project stack in a finished state (status {})?", stack.name, stack.status))
        };
        Ok(ProjectInfo {
            name: get(keys::PROJECT_NAME)?,
            cluster_name: get(keys::CLUSTER_NAME)?,
            subnet_ids: split_list(&get(keys::SUBNET_IDS)?),
            security_group_id: get(keys::SECURITY_GROUP_ID)?,
            execution_role_arn: get(keys::EXECUTION_ROLE_ARN)?,
            log_group_name: get(keys::LOG_GROUP_NAME)?,
            assign_public_ip: get(keys::ASSIGN_PUBLIC_IP)? == "true",
            context_bucket: stack.outputs.get(keys::CONTEXT_BUCKET).cloned(),
            build_project: stack.outputs.get(keys::BUILD_PROJECT).cloned(),
            vpc_id: get(keys::VPC_ID)?,
            private_namespace_id: stack.outputs.get(private_keys::NAMESPACE_ID).cloned(),
            load_balancer_policy: stack.outputs.get(keys::LOAD_BALANCER_POLICY).cloned(),
            ingress: match stack.outputs.get(ingress_keys::LOAD_BALANCER_ARN) {
                None => None,
                Some(_) => Some(IngressInfo {
                    zone_id: get(ingress_keys::ZONE_ID)?,
                    zone_name: get(ingress_keys::ZONE_NAME)?,
                    https_listener_arn: get(ingress_keys::HTTPS_LISTENER_ARN)?,
                    load_balancer_dns_name: get(ingress_keys::LOAD_BALANCER_DNS_NAME)?,
                    load_balancer_zone_id: get(ingress_keys::LOAD_BALANCER_ZONE_ID)?,
                    load_balancer_security_group_id: get(
                        ingress_keys::LOAD_BALANCER_SECURITY_GROUP_ID,
                    )?,
                    adopted: stack
                        .outputs
                        .get(ingress_keys::ZONE_ADOPTED)
                        .map(String::as_str)
                        == Some("true"),
                }),
            },
        })
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Outputs known before anything exists (preview), the rest unknown.
pub fn planned_outputs(
    inputs: &PropertyMap,
    project: &ResolvedProject,
    region: &str,
) -> PropertyMap {
    let mut out = inputs.clone();
    out.insert("name".into(), Value::from(project.name.as_str()));
    out.insert(
        "stackName".into(),
        Value::from(aws_names::project_stack(&project.name)),
    );
    out.insert("region".into(), Value::from(region));
    out.insert(
        "clusterName".into(),
        Value::from(aws_names::cluster(&project.name)),
    );
    out.insert(
        "logGroupName".into(),
        Value::from(aws_names::log_group(&project.name)),
    );
    out.insert(
        "privateDomain".into(),
        Value::from(super::inputs::private_domain(&project.name)),
    );
    // The zone's name is known as soon as ingress may come (with the first ingress service).
    if project.load_balancer_policy != super::inputs::LoadBalancerPolicy::Never {
        out.insert(
            "publicDomain".into(),
            Value::from(project.public_domain.as_str()),
        );
    }
    if project.load_balancer {
        for key in ["nameServers", "loadBalancerDnsName", "certificateArn"] {
            out.entry(key.to_string()).or_insert(Value::Unknown);
        }
    }
    for key in [
        "stackId",
        "clusterArn",
        "vpcId",
        "subnetIds",
        "securityGroupId",
        "executionRoleArn",
    ] {
        out.entry(key.to_string()).or_insert(Value::Unknown);
    }
    if let super::inputs::Network::Adopted { vpc_id, subnet_ids } = &project.network {
        out.insert("vpcId".into(), Value::from(vpc_id.as_str()));
        out.insert(
            "subnetIds".into(),
            Value::Array(subnet_ids.iter().map(|s| Value::from(s.as_str())).collect()),
        );
    }
    out
}

/// Outputs of a finished stack.
pub fn stack_outputs(inputs: &PropertyMap, stack: &StackState, region: &str) -> PropertyMap {
    let mut out = inputs.clone();
    let text = |key: &str| stack.outputs.get(key).map(|v| Value::from(v.as_str()));
    out.insert("stackName".into(), Value::from(stack.name.as_str()));
    out.insert("stackId".into(), Value::from(stack.id.as_str()));
    out.insert("region".into(), Value::from(region));
    for (output, key) in [
        ("name", keys::PROJECT_NAME),
        ("clusterName", keys::CLUSTER_NAME),
        ("clusterArn", keys::CLUSTER_ARN),
        ("vpcId", keys::VPC_ID),
        ("securityGroupId", keys::SECURITY_GROUP_ID),
        ("executionRoleArn", keys::EXECUTION_ROLE_ARN),
        ("logGroupName", keys::LOG_GROUP_NAME),
    ] {
        if let Some(v) = text(key) {
            out.insert(output.into(), v);
        }
    }
    if let Some(name) = stack.outputs.get(keys::PROJECT_NAME) {
        out.insert(
            "privateDomain".into(),
            Value::from(super::inputs::private_domain(name)),
        );
    }
    if let Some(v) = text(keys::PUBLIC_DOMAIN) {
        out.insert("publicDomain".into(), v);
    }
    for (output, key) in [
        ("publicDomain", ingress_keys::ZONE_NAME),
        ("loadBalancerDnsName", ingress_keys::LOAD_BALANCER_DNS_NAME),
        ("certificateArn", ingress_keys::CERTIFICATE_ARN),
    ] {
        if let Some(v) = text(key) {
            out.insert(output.into(), v);
        }
    }
    if let Some(servers) = stack.outputs.get(ingress_keys::NAME_SERVERS) {
        out.insert(
            "nameServers".into(),
            Value::Array(split_list(servers).into_iter().map(Value::from).collect()),
        );
    }
    if let Some(subnets) = stack.outputs.get(keys::SUBNET_IDS) {
        out.insert(
            "subnetIds".into(),
            Value::Array(split_list(subnets).into_iter().map(Value::from).collect()),
        );
    }
    out
}

/// Inputs recovered from a stack, for `pulumi import`.
pub fn inputs_from_stack(stack: &StackState) -> PropertyMap {
    let get = |key: &str| stack.outputs.get(key).cloned();
    let adopted = get(keys::VPC_ADOPTED).as_deref() == Some("true");
    let user_tags: std::collections::BTreeMap<String, String> = stack
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("defang:") && !k.starts_with("pulumi:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let inputs = ProjectInputs {
        name: get(keys::PROJECT_NAME),
        vpc_id: if adopted { get(keys::VPC_ID) } else { None },
        subnet_ids: if adopted {
            get(keys::SUBNET_IDS).map(|s| split_list(&s))
        } else {
            None
        },
        assign_public_ip: get(keys::ASSIGN_PUBLIC_IP).map(|v| v == "true"),
        vpc_cidr: if adopted { None } else { get(keys::VPC_CIDR) },
        log_retention_days: get(keys::LOG_RETENTION_DAYS).and_then(|v| v.parse().ok()),
        tags: (!user_tags.is_empty()).then_some(user_tags),
        load_balancer: match get(keys::LOAD_BALANCER_POLICY).as_deref() {
            Some("auto") => None,
            Some("never") => Some(false),
            Some(_) => Some(true),
            // Made before the policy existed: the load balancer is there or not.
            None => stack
                .outputs
                .contains_key(ingress_keys::LOAD_BALANCER_ARN)
                .then_some(true),
        },
        domain: (get(ingress_keys::ZONE_ADOPTED).as_deref() == Some("true"))
            .then(|| get(ingress_keys::ZONE_NAME))
            .flatten(),
    };
    to_properties(&inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeStacks, assert_outputs_declared};

    /// What the project sets is what the schema declares: in preview, and for a finished stack
    /// with the load balancer (every output there).
    #[test]
    fn outputs_are_the_declared_ones() {
        let inputs = PropertyMap::from([("loadBalancer".to_string(), Value::from(true))]);
        let project = ProjectInputs {
            load_balancer: Some(true),
            ..ProjectInputs::default()
        }
        .resolve("shop", "alice", "defang.app");
        let planned = planned_outputs(&inputs, &project, "us-east-1");
        assert_outputs_declared::<ProjectInputs, ProjectOutputs>(&planned);

        let fake = FakeStacks::with_project("shop");
        let mut stack = fake.stacks.lock().unwrap()["defang-shop"].clone();
        for (key, value) in [
            (
                keys::CLUSTER_ARN,
                "arn:aws:ecs:us-east-1:1:cluster/defang-shop",
            ),
            (ingress_keys::ZONE_ID, "Z1"),
            (ingress_keys::ZONE_NAME, "shop.alice.defang.app"),
            (ingress_keys::NAME_SERVERS, "ns-1.example,ns-2.example"),
            (
                ingress_keys::CERTIFICATE_ARN,
                "arn:aws:acm:us-east-1:1:certificate/c",
            ),
            (
                ingress_keys::LOAD_BALANCER_ARN,
                "arn:aws:elasticloadbalancing:lb",
            ),
            (
                ingress_keys::LOAD_BALANCER_DNS_NAME,
                "lb-1.elb.amazonaws.com",
            ),
            (private_keys::PRIVATE_DOMAIN, "shop.internal"),
        ] {
            stack.outputs.insert(key.to_string(), value.to_string());
        }
        let finished = stack_outputs(&inputs, &stack, "us-east-1");
        assert_outputs_declared::<ProjectInputs, ProjectOutputs>(&finished);
        let typed: ProjectOutputs = pulumi_plugin::value::from_properties(&finished).unwrap();
        assert_eq!(typed.name_servers.map(|n| n.len()), Some(2));
    }
}
