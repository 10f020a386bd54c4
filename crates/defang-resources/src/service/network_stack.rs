//! Each service's own CloudFormation stack `defang-<project>--<service>`: its security group
//! (ingress ports open to the load balancer only, host ports to the project's services only),
//! its private name in the project's namespace, and for every ingress port a target group, a
//! host rule on the HTTPS listener and an alias record `<service>--<port>.<zone>`; and its AWS
//! permissions (its own task role, and the execution role's access to the secrets it
//! references, see [`super::task_role`]); and its autoscaling (see [`super::scaling`]). Replacing or deleting the service deletes this stack,
//! and with it exactly these things.

use super::inputs::{AppProtocol, PortMode, Protocol, ResolvedPort, ResolvedService};
use super::rule_priorities::Priorities;
use crate::cloud::HostedZone;
use crate::cloudformation::blocks::{attr, r};
use crate::project::outputs::{IngressInfo, ProjectInfo};
use serde_json::{Value, json};

pub mod outputs {
    pub const SECURITY_GROUP_ID: &str = "SecurityGroupId";
    pub use crate::service::task_role::TASK_ROLE_ARN_OUTPUT as TASK_ROLE_ARN;
    pub const REGISTRY_ARN: &str = "RegistryArn";
    /// `TargetGroup<port>`: the target group of an ingress port.
    pub fn target_group(port: u16) -> String {
        format!("TargetGroup{port}")
    }
}

/// The load balancer's health check path: the path of an HTTP URL in the container health
/// check for this port (e.g. `curl -f http://localhost:8080/healthz`), else `/`.
pub fn health_check_path(svc: &ResolvedService, port: u16) -> String {
    let Some(hc) = &svc.health_check else {
        return "/".into();
    };
    for word in hc.test.iter().flat_map(|t| t.split_whitespace()) {
        for host in ["http://localhost", "http://127.0.0.1", "http://0.0.0.0"] {
            if let Some(rest) = word.strip_prefix(host) {
                let (port_part, path) = match rest.strip_prefix(':') {
                    Some(r) => r.split_at(r.find('/').unwrap_or(r.len())),
                    None => ("80", rest),
                };
                if port_part == port.to_string() {
                    let path = path.trim_matches(|c| c == '"' || c == '\'');
                    return if path.is_empty() {
                        "/".into()
                    } else {
                        path.into()
                    };
                }
            }
        }
    }
    "/".into()
}

fn protocol_version(port: &ResolvedPort) -> &'static str {
    match port.app_protocol {
        Some(AppProtocol::Http2) => "HTTP2",
        Some(AppProtocol::Grpc) => "GRPC",
        _ => "HTTP1",
    }
}

fn ip_protocol(port: &ResolvedPort) -> &'static str {
    match port.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// The domain of an ingress port in the project's zone.
pub fn ingress_host(svc: &ResolvedService, port: u16, zone: &str) -> String {
    format!("{}--{port}.{zone}", svc.name)
}

/// The host names the service's listener rules match: one per ingress port, and the custom
/// domain (routed to the first ingress port) when it has one in `custom_zone`.
pub fn rule_hosts(svc: &ResolvedService, project: &ProjectInfo, custom: bool) -> Vec<String> {
    let Some(ingress) = &project.ingress else {
        return Vec::new();
    };
    let ports: Vec<u16> = svc
        .ports
        .iter()
        .filter(|p| p.mode == PortMode::Ingress)
        .map(|p| p.target)
        .collect();
    let mut hosts: Vec<String> = ports
        .iter()
        .map(|port| ingress_host(svc, *port, &ingress.zone_name))
        .collect();
    if custom
        && !ports.is_empty()
        && let Some(domain) = &svc.domain_name
    {
        hosts.push(domain.to_ascii_lowercase());
    }
    hosts
}

/// The template; `Err` when the service has ingress ports and the project no load balancer.
/// `custom_zone` is the user's zone holding the service's `domainName`; `priorities` has the
/// priority of every host of [`rule_hosts`].
pub fn render(
    svc: &ResolvedService,
    project: &ProjectInfo,
    custom_zone: Option<&HostedZone>,
    priorities: &Priorities,
) -> Result<String, String> {
    let priority = |host: &str| {
        priorities
            .get(&host.to_ascii_lowercase())
            .copied()
            .ok_or_else(|| format!("no listener rule priority was allocated for {host}"))
    };
    let ingress_ports: Vec<&ResolvedPort> = svc
        .ports
        .iter()
        .filter(|p| p.mode == PortMode::Ingress)
        .collect();
    let ingress = match (&project.ingress, ingress_ports.first()) {
        (None, Some(port)) => {
            return Err(format!(
                "port {} of service \"{}\" is an ingress port, but project \"{}\" has no load balancer: set `loadBalancer: true` on the project, or make the port `mode: host` (private)",
                port.target, svc.name, project.name
            ));
        }
        (ingress, _) => ingress.as_ref(),
    };
    let mut resources = serde_json::Map::new();
    let mut outs = serde_json::Map::new();
    let name = crate::aws_names::service_stack(&project.name, &svc.name);
    let tags = json!([
        { "Key": "Name", "Value": name },
        { "Key": "defang:project", "Value": project.name },
        { "Key": "defang:service", "Value": svc.name },
    ]);

    let mut rules = Vec::new();
    for port in &svc.ports {
        let source = match (port.mode, ingress) {
            (PortMode::Ingress, Some(i)) => json!(i.load_balancer_security_group_id),
            _ => json!(project.security_group_id),
        };
        rules.push(json!({
            "IpProtocol": ip_protocol(port),
            "FromPort": port.target,
            "ToPort": port.target,
            "SourceSecurityGroupId": source,
            "Description": match port.mode {
                PortMode::Ingress => format!("port {} from the load balancer", port.target),
                PortMode::Host => format!("port {} from the project's services", port.target),
            },
        }));
    }
    resources.insert(
        "TaskSecurityGroup".into(),
        json!({
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": format!("Defang service {} of project {}", svc.name, project.name),
                "VpcId": project.vpc_id,
                "SecurityGroupIngress": rules,
                "Tags": tags,
            }
        }),
    );
    outs.insert(
        outputs::SECURITY_GROUP_ID.into(),
        json!({ "Value": attr("TaskSecurityGroup", "GroupId") }),
    );
    super::task_role::task_role_resources(svc, &tags, &mut resources, &mut outs);
    super::task_role::existing_secrets_resources(svc, &project.execution_role_arn, &mut resources);
    super::scaling::scaling_resources(svc, project, &mut resources);

    if let Some(namespace) = &project.private_namespace_id {
        resources.insert(
            "Registry".into(),
            json!({
                "Type": "AWS::ServiceDiscovery::Service",
                "Properties": {
                    "Name": svc.name,
                    "NamespaceId": namespace,
                    "Description": format!("{}.{}.internal", svc.name, project.name),
                    "DnsConfig": {
                        "RoutingPolicy": "MULTIVALUE",
                        "DnsRecords": [{ "Type": "A", "TTL": 10 }]
                    },
                    // ECS reports task health; Cloud Map only answers with healthy tasks.
                    "HealthCheckCustomConfig": { "FailureThreshold": 1 }
                }
            }),
        );
        outs.insert(
            outputs::REGISTRY_ARN.into(),
            json!({ "Value": attr("Registry", "Arn") }),
        );
    }

    if let Some(ingress) = ingress {
        for port in &ingress_ports {
            let host = ingress_host(svc, port.target, &ingress.zone_name);
            target_group_resources(
                svc,
                project,
                ingress,
                (port, priority(&host)?),
                &tags,
                &mut resources,
                &mut outs,
            );
        }
        if let (Some(domain), Some(zone), Some(first)) =
            (&svc.domain_name, custom_zone, ingress_ports.first())
        {
            custom_domain_resources(
                (domain, priority(domain)?),
                zone,
                ingress,
                first.target,
                &tags,
                &mut resources,
            );
        }
    }

    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Defang service {} of project {}: security group, private name, load balancer routing and DNS (managed by Pulumi; do not edit)", svc.name, project.name),
        "Resources": resources,
        "Outputs": outs,
    });
    serde_json::to_string_pretty(&template).map_err(|e| e.to_string())
}

/// A domain of the user's own for the first ingress port: its certificate (validated in the
/// user's zone), added to the HTTPS listener, a host rule to the same target group, and an
/// alias record in the user's zone.
fn custom_domain_resources(
    (domain, priority): (&str, u32),
    zone: &HostedZone,
    ingress: &IngressInfo,
    port: u16,
    tags: &Value,
    resources: &mut serde_json::Map<String, Value>,
) {
    resources.insert(
        "CustomCertificate".into(),
        json!({
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": domain,
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [{ "DomainName": domain, "HostedZoneId": zone.id }],
                "Tags": tags,
            }
        }),
    );
    resources.insert(
        "CustomListenerCertificate".into(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::ListenerCertificate",
            "Properties": {
                "ListenerArn": ingress.https_listener_arn,
                "Certificates": [{ "CertificateArn": r("CustomCertificate") }]
            }
        }),
    );
    resources.insert(
        "CustomHostRule".into(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": ingress.https_listener_arn,
                "Priority": priority,
                "Conditions": [{ "Field": "host-header", "HostHeaderConfig": { "Values": [domain] } }],
                "Actions": [{ "Type": "forward", "TargetGroupArn": r(&format!("TargetGroup{port}")) }]
            }
        }),
    );
    resources.insert(
        "CustomRecord".into(),
        json!({
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": zone.id,
                "Name": domain,
                "Type": "A",
                "AliasTarget": {
                    "DNSName": ingress.load_balancer_dns_name,
                    "HostedZoneId": ingress.load_balancer_zone_id,
                    "EvaluateTargetHealth": false
                }
            }
        }),
    );
}

fn target_group_resources(
    svc: &ResolvedService,
    project: &ProjectInfo,
    ingress: &IngressInfo,
    (port, priority): (&ResolvedPort, u32),
    tags: &Value,
    resources: &mut serde_json::Map<String, Value>,
    outs: &mut serde_json::Map<String, Value>,
) {
    let n = port.target;
    let host = ingress_host(svc, n, &ingress.zone_name);
    let grpc = port.app_protocol == Some(AppProtocol::Grpc);
    let interval = svc
        .health_check
        .as_ref()
        .and_then(|h| h.interval_seconds)
        .unwrap_or(15)
        .clamp(5, 300);
    let tg = format!("TargetGroup{n}");
    resources.insert(
        tg.clone(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "TargetType": "ip",
                "VpcId": project.vpc_id,
                "Port": n,
                "Protocol": "HTTP",
                "ProtocolVersion": protocol_version(port),
                "HealthCheckEnabled": true,
                "HealthCheckPath": if grpc { "/AWS.ALB/healthcheck".to_string() } else { health_check_path(svc, n) },
                "HealthCheckIntervalSeconds": interval,
                "HealthCheckTimeoutSeconds": 5.min(interval - 1).max(2),
                "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 3,
                "Matcher": if grpc { json!({ "GrpcCode": "0-99" }) } else { json!({ "HttpCode": "200-399" }) },
                // Draining faster than the default 300 s keeps deploys short.
                "TargetGroupAttributes": [{ "Key": "deregistration_delay.timeout_seconds", "Value": "30" }],
                "Tags": tags,
            }
        }),
    );
    resources.insert(
        format!("HostRule{n}"),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": ingress.https_listener_arn,
                "Priority": priority,
                "Conditions": [{ "Field": "host-header", "HostHeaderConfig": { "Values": [host] } }],
                "Actions": [{ "Type": "forward", "TargetGroupArn": r(&tg) }]
            }
        }),
    );
    resources.insert(
        format!("Record{n}"),
        json!({
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": ingress.zone_id,
                "Name": host,
                "Type": "A",
                "AliasTarget": {
                    "DNSName": ingress.load_balancer_dns_name,
                    "HostedZoneId": ingress.load_balancer_zone_id,
                    "EvaluateTargetHealth": false
                }
            }
        }),
    );
    outs.insert(outputs::target_group(n), json!({ "Value": r(&tg) }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::inputs::ServiceInputs;
    use crate::service::rule_priorities::allocate;

    fn service(ports: serde_json::Value, health: Option<serde_json::Value>) -> ResolvedService {
        let mut v =
            serde_json::json!({"project": "shop", "name": "web", "image": "nginx", "ports": ports});
        if let Some(h) = health {
            v["healthCheck"] = h;
        }
        let inputs: ServiceInputs = serde_json::from_value(v).unwrap();
        inputs.resolved("web").unwrap()
    }

    fn project(with_lb: bool) -> ProjectInfo {
        ProjectInfo {
            name: "shop".into(),
            cluster_name: "defang-shop".into(),
            subnet_ids: vec!["subnet-1".into()],
            security_group_id: "sg-members".into(),
            execution_role_arn: "arn:role".into(),
            log_group_name: "/defang/shop".into(),
            assign_public_ip: true,
            context_bucket: None,
            build_project: None,
            vpc_id: "vpc-1".into(),
            private_namespace_id: Some("ns-1".into()),
            load_balancer_policy: None,
            ingress: with_lb.then(|| IngressInfo {
                zone_id: "Z1".into(),
                zone_name: "shop.alice.defang.app".into(),
                https_listener_arn: "arn:listener".into(),
                load_balancer_dns_name: "lb.example".into(),
                load_balancer_zone_id: "Z2".into(),
                load_balancer_security_group_id: "sg-lb".into(),
                adopted: false,
            }),
        }
    }

    fn parsed(svc: &ResolvedService, lb: bool) -> serde_json::Value {
        let project = project(lb);
        let priorities = allocate(&rule_hosts(svc, &project, false), &[]).unwrap();
        serde_json::from_str(&render(svc, &project, None, &priorities).unwrap()).unwrap()
    }

    #[test]
    fn ingress_ports_are_routed_and_open_only_to_the_load_balancer() {
        let svc = service(
            serde_json::json!([{"target": 80}, {"target": 9000, "mode": "host"}]),
            None,
        );
        let t = parsed(&svc, true);
        let res = &t["Resources"];
        let rules = res["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
            .as_array()
            .unwrap();
        assert_eq!(rules[0]["FromPort"], 80);
        assert_eq!(rules[0]["SourceSecurityGroupId"], "sg-lb");
        assert_eq!(rules[1]["FromPort"], 9000);
        assert_eq!(rules[1]["SourceSecurityGroupId"], "sg-members");
        assert!(!serde_json::to_string(&t).unwrap().contains("0.0.0.0/0"));
        assert_eq!(
            res["HostRule80"]["Properties"]["Conditions"][0]["HostHeaderConfig"]["Values"][0],
            "web--80.shop.alice.defang.app"
        );
        assert_eq!(
            res["Record80"]["Properties"]["Name"],
            "web--80.shop.alice.defang.app"
        );
        assert_eq!(
            res["Record80"]["Properties"]["AliasTarget"]["DNSName"],
            "lb.example"
        );
        assert_eq!(res["TargetGroup80"]["Properties"]["TargetType"], "ip");
        assert!(
            res.get("TargetGroup9000").is_none(),
            "host ports get no target group"
        );
        assert_eq!(res["Registry"]["Properties"]["Name"], "web");
        assert!(t["Outputs"]["TargetGroup80"].is_object());
    }

    #[test]
    fn ingress_without_load_balancer_says_what_to_do() {
        let svc = service(serde_json::json!([{"target": 80}]), None);
        let err = render(&svc, &project(false), None, &Priorities::new()).unwrap_err();
        assert!(err.contains("loadBalancer: true"), "{err}");
        // Host ports alone need no load balancer.
        let svc = service(serde_json::json!([{"target": 80, "mode": "host"}]), None);
        assert!(render(&svc, &project(false), None, &Priorities::new()).is_ok());
    }

    #[test]
    fn health_check_path_comes_from_the_container_check() {
        let svc = service(
            serde_json::json!([{"target": 8080}]),
            Some(
                serde_json::json!({"test": ["CMD", "curl", "-f", "http://localhost:8080/healthz"]}),
            ),
        );
        assert_eq!(health_check_path(&svc, 8080), "/healthz");
        assert_eq!(health_check_path(&svc, 9090), "/");
        let svc = service(
            serde_json::json!([{"target": 80}]),
            Some(
                serde_json::json!({"test": ["CMD-SHELL", "wget -qO- http://127.0.0.1/ready || exit 1"]}),
            ),
        );
        assert_eq!(health_check_path(&svc, 80), "/ready");
    }

    #[test]
    fn a_custom_domain_gets_a_certificate_rule_and_record_in_the_users_zone() {
        let mut svc = service(serde_json::json!([{"target": 80}]), None);
        svc.domain_name = Some("www.example.com".into());
        let zone = HostedZone {
            id: "ZUSER".into(),
            name: "example.com".into(),
        };
        let t: serde_json::Value = serde_json::from_str(
            &render(&svc, &project(true), Some(&zone), &{
                let project = project(true);
                allocate(&rule_hosts(&svc, &project, true), &[]).unwrap()
            })
            .unwrap(),
        )
        .unwrap();
        let res = &t["Resources"];
        assert_eq!(
            res["CustomCertificate"]["Properties"]["DomainName"],
            "www.example.com"
        );
        assert_eq!(
            res["CustomCertificate"]["Properties"]["DomainValidationOptions"][0]["HostedZoneId"],
            "ZUSER"
        );
        assert_eq!(
            res["CustomListenerCertificate"]["Properties"]["ListenerArn"],
            "arn:listener"
        );
        assert_eq!(
            res["CustomHostRule"]["Properties"]["Actions"][0]["TargetGroupArn"]["Ref"],
            "TargetGroup80"
        );
        assert_eq!(res["CustomRecord"]["Properties"]["HostedZoneId"], "ZUSER");
        assert_eq!(res["CustomRecord"]["Properties"]["Name"], "www.example.com");
    }

    #[test]
    fn rules_take_the_allocated_priorities() {
        let svc = service(json!([{ "target": 80 }, { "target": 8080 }]), None);
        let project = project(true);
        let hosts = rule_hosts(&svc, &project, false);
        assert_eq!(
            hosts,
            vec![
                "web--80.shop.alice.defang.app".to_string(),
                "web--8080.shop.alice.defang.app".to_string()
            ]
        );
        let priorities: Priorities = [(hosts[0].clone(), 11), (hosts[1].clone(), 12)].into();
        let res: serde_json::Value =
            serde_json::from_str(&render(&svc, &project, None, &priorities).unwrap()).unwrap();
        assert_eq!(res["Resources"]["HostRule80"]["Properties"]["Priority"], 11);
        assert_eq!(
            res["Resources"]["HostRule8080"]["Properties"]["Priority"],
            12
        );
        // A host without a priority is a bug, said as such.
        let err = render(&svc, &project, None, &Priorities::new()).unwrap_err();
        assert!(err.contains("no listener rule priority"), "{err}");
    }
}
