//! Project outputs: the inputs plus what the stack made, and the project facts services need.

use super::ingress::outputs as ingress_keys;
use super::inputs::{ProjectInputs, ResolvedProject};
use super::private_dns::outputs as private_keys;
use super::template::outputs as keys;
use crate::aws_names;
use crate::cloud::StackState;
use pulumi_plugin::value::Computed;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outputs of `defang:index:Project` beyond its inputs (which it echoes), as the schema
/// declares them; `name`, `vpcId` and `subnetIds` are here because the outputs always have them.
/// What only the stack can tell is unknown in a preview. A state written before an output
/// existed decodes with that output empty (`#[serde(default)]`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectOutputs {
    /// The project name.
    pub name: String,
    /// The VPC the project's tasks run in: the adopted one, or the one the project created.
    pub vpc_id: Computed<String>,
    /// The subnets the project's tasks run in.
    pub subnet_ids: Computed<Vec<String>>,
    /// The name of the project's CloudFormation stack.
    pub stack_name: String,
    /// The ID (ARN) of the project's CloudFormation stack.
    pub stack_id: Computed<String>,
    /// The AWS region the project is in.
    pub region: String,
    /// The name of the project's ECS cluster, where its services run.
    pub cluster_name: String,
    /// The ARN of the project's ECS cluster.
    pub cluster_arn: Computed<String>,
    /// The security group of the project's tasks.
    pub security_group_id: Computed<String>,
    /// The IAM role ECS uses to pull images and write logs for the project's tasks.
    pub execution_role_arn: Computed<String>,
    /// The CloudWatch Logs group of the project's services; each task writes a stream prefixed
    /// with its service name.
    pub log_group_name: String,
    /// The project's public zone, `<project>.<username>.<domainSuffix>` or its `domain` (unless
    /// `loadBalancer` is false). Ingress domains are `<service>--<port>.<publicDomain>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_domain: Option<String>,
    /// Name servers of the public zone (with `loadBalancer`): delegate the zone to them from its
    /// parent (an NS record set) so that its domains resolve and its certificate can be issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_servers: Option<Computed<Vec<String>>>,
    /// DNS name of the project's load balancer (with `loadBalancer`); service domains are
    /// aliases of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer_dns_name: Option<Computed<String>>,
    /// ARN of the wildcard certificate of the public zone (with `loadBalancer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<Computed<String>>,
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

impl ProjectOutputs {
    /// Outputs known before anything exists (preview), the rest unknown.
    pub fn planned(project: &ResolvedProject, region: &str) -> ProjectOutputs {
        let (vpc_id, subnet_ids) = match &project.network {
            super::inputs::Network::Adopted { vpc_id, subnet_ids } => (
                Computed::Known(vpc_id.clone()),
                Computed::Known(subnet_ids.clone()),
            ),
            super::inputs::Network::Created { .. } => (Computed::Unknown, Computed::Unknown),
        };
        ProjectOutputs {
            name: project.name.clone(),
            vpc_id,
            subnet_ids,
            stack_name: aws_names::project_stack(&project.name),
            stack_id: Computed::Unknown,
            region: region.to_string(),
            cluster_name: aws_names::cluster(&project.name),
            cluster_arn: Computed::Unknown,
            security_group_id: Computed::Unknown,
            execution_role_arn: Computed::Unknown,
            log_group_name: aws_names::log_group(&project.name),
            // The zone's name is known as soon as ingress may come (with the first ingress
            // service).
            public_domain: (project.load_balancer_policy
                != super::inputs::LoadBalancerPolicy::Never)
                .then(|| project.public_domain.clone()),
            name_servers: project.load_balancer.then_some(Computed::Unknown),
            load_balancer_dns_name: project.load_balancer.then_some(Computed::Unknown),
            certificate_arn: project.load_balancer.then_some(Computed::Unknown),
            private_domain: super::inputs::private_domain(&project.name),
        }
    }

    /// A planned update keeps what is already known and does not change: every output the plan
    /// leaves unknown takes its value in the state.
    pub fn keeping_known(mut self, old: &ProjectOutputs) -> ProjectOutputs {
        fn keep<T: Clone>(planned: &mut Computed<T>, old: &Computed<T>) {
            if matches!(planned, Computed::Unknown) {
                *planned = old.clone();
            }
        }
        fn keep_optional<T: Clone>(planned: &mut Option<Computed<T>>, old: &Option<Computed<T>>) {
            if let (Some(planned), Some(old)) = (planned.as_mut(), old) {
                keep(planned, old);
            }
        }
        keep(&mut self.vpc_id, &old.vpc_id);
        keep(&mut self.subnet_ids, &old.subnet_ids);
        keep(&mut self.stack_id, &old.stack_id);
        keep(&mut self.cluster_arn, &old.cluster_arn);
        keep(&mut self.security_group_id, &old.security_group_id);
        keep(&mut self.execution_role_arn, &old.execution_role_arn);
        keep_optional(&mut self.name_servers, &old.name_servers);
        keep_optional(
            &mut self.load_balancer_dns_name,
            &old.load_balancer_dns_name,
        );
        keep_optional(&mut self.certificate_arn, &old.certificate_arn);
        self
    }

    /// Outputs of a finished stack; what the stack does not say comes from the inputs.
    pub fn of_stack(inputs: &ProjectInputs, stack: &StackState, region: &str) -> ProjectOutputs {
        let text = |key: &str| stack.outputs.get(key).cloned();
        let list = |key: &str| stack.outputs.get(key).map(|v| split_list(v));
        let name = text(keys::PROJECT_NAME)
            .or_else(|| inputs.name.clone())
            .unwrap_or_default();
        ProjectOutputs {
            vpc_id: Computed::Known(
                text(keys::VPC_ID)
                    .or_else(|| inputs.vpc_id.clone())
                    .unwrap_or_default(),
            ),
            subnet_ids: Computed::Known(
                list(keys::SUBNET_IDS)
                    .or_else(|| inputs.subnet_ids.clone())
                    .unwrap_or_default(),
            ),
            stack_name: stack.name.clone(),
            stack_id: Computed::Known(stack.id.clone()),
            region: region.to_string(),
            cluster_name: text(keys::CLUSTER_NAME).unwrap_or_default(),
            cluster_arn: Computed::Known(text(keys::CLUSTER_ARN).unwrap_or_default()),
            security_group_id: Computed::Known(text(keys::SECURITY_GROUP_ID).unwrap_or_default()),
            execution_role_arn: Computed::Known(text(keys::EXECUTION_ROLE_ARN).unwrap_or_default()),
            log_group_name: text(keys::LOG_GROUP_NAME).unwrap_or_default(),
            public_domain: text(ingress_keys::ZONE_NAME).or_else(|| text(keys::PUBLIC_DOMAIN)),
            name_servers: list(ingress_keys::NAME_SERVERS).map(Computed::Known),
            load_balancer_dns_name: text(ingress_keys::LOAD_BALANCER_DNS_NAME).map(Computed::Known),
            certificate_arn: text(ingress_keys::CERTIFICATE_ARN).map(Computed::Known),
            private_domain: super::inputs::private_domain(&name),
            name,
        }
    }
}

/// Inputs recovered from a stack, for `pulumi import`.
pub fn inputs_from_stack(stack: &StackState) -> ProjectInputs {
    let get = |key: &str| stack.outputs.get(key).cloned();
    let adopted = get(keys::VPC_ADOPTED).as_deref() == Some("true");
    let user_tags: std::collections::BTreeMap<String, String> = stack
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("defang:") && !k.starts_with("pulumi:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    ProjectInputs {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeStacks, assert_outputs_declared};
    use pulumi_plugin::{PropertyMap, Value, state_of};

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
        let planned = state_of(&inputs, &ProjectOutputs::planned(&project, "us-east-1"));
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
        let typed_inputs: ProjectInputs = pulumi_plugin::value::from_properties(&inputs).unwrap();
        let finished = state_of(
            &inputs,
            &ProjectOutputs::of_stack(&typed_inputs, &stack, "us-east-1"),
        );
        assert_outputs_declared::<ProjectInputs, ProjectOutputs>(&finished);
        let typed: ProjectOutputs = pulumi_plugin::value::from_properties(&finished).unwrap();
        assert_eq!(
            typed.name_servers.and_then(|n| n.known().map(Vec::len)),
            Some(2)
        );
    }
}
