//! End to end, exposed and private services (issue 5): the real `pulumi` CLI runs
//! `examples/yaml-web-and-api` (a Project that leaves `loadBalancer` unset, so that its first
//! ingress service makes it; a public `web` service
//! with ingress port 80 and a private `api` service with host port 3000), with `web` given
//! `API_URL: http://api:3000` (it calls the api by its short name), against a private moto
//! server: the preview shows the domains and endpoints, `up` creates everything, a rename
//! (`web` → `www`, a replacement) moves the routing and touches nothing else, and `destroy`
//! leaves nothing behind.
//!
//! What AWS holds is checked three ways:
//! - **CloudFormation** (the primary record): the project stack `defang-shop` and the service
//!   stacks `defang-shop-S-web` / `defang-shop-S-api` have the zone, certificate, load balancer,
//!   listeners, target group, listener rule, alias record, Cloud Map and security group
//!   resources, their outputs agree with the physical ids, and the templates CloudFormation
//!   holds open ports exactly as designed (`GetTemplate`).
//! - **ECS**: the web service is registered with its target group, both services with their
//!   Cloud Map registry, and every task carries two security groups (the project's member
//!   group and the service's own).
//! - **The emulator's own services**, read with boto3 from the moto virtualenv (the test
//!   crate has no ELBv2, Route 53, Cloud Map, ACM or EC2 SDK): that the load balancer, its
//!   listeners and rule, the target group, the alias record, the certificate, the Cloud Map
//!   names, the security group rules and the VPC's DHCP options (the search domain that makes
//!   `api` resolve) really exist as designed, and are gone after destroy. (CloudFormation
//!   only says that it created and deleted its resources.)
//!
//! Not checkable on the emulator: certificate issuance (moto issues at once, with no DNS
//! validation), name resolution and traffic (no task runs; ECS lists no tasks), and the load
//! balancer's health checks.

use defang_tests::Moto;
use defang_tests::inventory;
use defang_tests::pulumi::{Workspace, replace_once};
use defang_tests::runtime;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

const EXAMPLE: &str = "yaml-web-and-api";
const CLUSTER: &str = "defang-shop";
const PROJECT_STACK: &str = "defang-shop";
const ZONE: &str = "shop.alice.defang.app";
const WEB_DOMAIN: &str = "web--80.shop.alice.defang.app";
/// The web service's domain once it is renamed `www`.
const WWW_DOMAIN: &str = "www--80.shop.alice.defang.app";
const API_ENDPOINT: &str = "api.shop.internal:3000";

/// A CloudFormation stack as the checks need it: its resources (logical id → (type,
/// physical id, status)), outputs and template.
struct Stack {
    resources: BTreeMap<String, (String, String, String)>,
    outputs: BTreeMap<String, String>,
    template: Value,
}

impl Stack {
    /// The physical id of `logical`, which must exist with `type_name`, CREATE_COMPLETE.
    fn resource(&self, name: &str, logical: &str, type_name: &str) -> String {
        let (ty, physical, status) = self.resources.get(logical).unwrap_or_else(|| {
            panic!(
                "stack {name} has no resource {logical} ({type_name}); it has: {:#?}",
                self.resources
            )
        });
        assert_eq!(ty, type_name, "{name} {logical}");
        assert!(
            status.ends_with("_COMPLETE") && !status.starts_with("DELETE"),
            "{name} {logical}: {status}"
        );
        assert!(!physical.is_empty(), "{name} {logical} has no physical id");
        physical.clone()
    }

    fn output(&self, name: &str, key: &str) -> String {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("stack {name} has no output {key}: {:#?}", self.outputs))
            .clone()
    }

    /// The `SecurityGroupIngress` rules of the security group `logical` in the template.
    fn ingress_rules(&self, logical: &str) -> Vec<Value> {
        self.template["Resources"][logical]["Properties"]["SecurityGroupIngress"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

struct Aws {
    rt: tokio::runtime::Runtime,
    ecs: aws_sdk_ecs::Client,
    cfn: aws_sdk_cloudformation::Client,
    endpoint: String,
}

impl Aws {
    fn stack(&self, name: &str) -> Stack {
        self.rt.block_on(async {
            let described = self
                .cfn
                .describe_stacks()
                .stack_name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("describe_stacks {name}: {e:?}"));
            let stack = described.stacks().first().expect("the stack");
            let outputs = stack
                .outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap_or_default().to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let mut resources = BTreeMap::new();
            let mut token = None;
            loop {
                let page = self
                    .cfn
                    .list_stack_resources()
                    .stack_name(name)
                    .set_next_token(token)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("list_stack_resources {name}: {e:?}"));
                for r in page.stack_resource_summaries() {
                    resources.insert(
                        r.logical_resource_id().unwrap_or_default().to_string(),
                        (
                            r.resource_type().unwrap_or_default().to_string(),
                            r.physical_resource_id().unwrap_or_default().to_string(),
                            r.resource_status()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                        ),
                    );
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            let body = self
                .cfn
                .get_template()
                .stack_name(name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get_template {name}: {e:?}"))
                .template_body()
                .unwrap_or_default()
                .to_string();
            let template = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("the template of {name} is not JSON ({e}): {body}"));
            Stack {
                resources,
                outputs,
                template,
            }
        })
    }

    /// Whether DescribeStacks by name says the stack does not exist.
    fn stack_is_gone(&self, name: &str) -> bool {
        match self
            .rt
            .block_on(self.cfn.describe_stacks().stack_name(name).send())
        {
            Ok(out) => out.stacks().iter().all(|s| {
                s.stack_status()
                    == Some(&aws_sdk_cloudformation::types::StackStatus::DeleteComplete)
            }),
            Err(e) => format!("{e:?}").contains("does not exist"),
        }
    }

    /// The stacks that are not deleted, with their status.
    fn live_stacks(&self) -> Vec<String> {
        self.rt.block_on(inventory::live_stacks(&self.cfn))
    }

    fn service(&self, name: &str) -> aws_sdk_ecs::types::Service {
        self.rt
            .block_on(inventory::active_service(&self.ecs, CLUSTER, name))
            .unwrap_or_else(|| panic!("no ACTIVE ECS service {name}"))
    }

    fn task_definition(&self, arn: &str) -> aws_sdk_ecs::types::TaskDefinition {
        self.rt.block_on(inventory::task_definition(&self.ecs, arn))
    }

    /// The ACTIVE task definition ARNs of exactly `family`.
    fn active_revisions(&self, family: &str) -> Vec<String> {
        self.rt
            .block_on(inventory::active_revisions(&self.ecs, family))
    }

    /// The ARNs of the ECS clusters, and of the services still listed in `CLUSTER`
    /// (an unknown cluster has none).
    fn ecs_leftovers(&self) -> (Vec<String>, Vec<String>) {
        self.rt.block_on(async {
            let clusters = self
                .ecs
                .list_clusters()
                .send()
                .await
                .expect("list_clusters")
                .cluster_arns()
                .to_vec();
            let services = match self.ecs.list_services().cluster(CLUSTER).send().await {
                Ok(out) => {
                    let arns = out.service_arns().to_vec();
                    if arns.is_empty() {
                        Vec::new()
                    } else {
                        // moto lists deleted (INACTIVE) services too: only ACTIVE ones count.
                        let described = self
                            .ecs
                            .describe_services()
                            .cluster(CLUSTER)
                            .set_services(Some(arns))
                            .send()
                            .await
                            .expect("describe_services");
                        described
                            .services()
                            .iter()
                            .filter(|s| s.status() != Some("INACTIVE"))
                            .filter_map(|s| s.service_arn().map(str::to_string))
                            .collect()
                    }
                }
                Err(e) if format!("{e:?}").contains("ClusterNotFound") => Vec::new(),
                Err(e) => panic!("list_services: {e:?}"),
            };
            (clusters, services)
        })
    }

    /// What the emulator's ELBv2, Route 53, Cloud Map, ACM and EC2 hold, as JSON (see
    /// [`INVENTORY`]).
    fn inventory(&self) -> Value {
        let out = std::process::Command::new(defang_tests::moto::moto_python())
            .args(["-c", INVENTORY, &self.endpoint])
            .output()
            .expect("run the moto virtualenv's python");
        assert!(
            out.status.success(),
            "inventory script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "inventory is not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

/// Lists, with boto3 against the emulator (argv[1]), the load balancers with their listeners
/// and rules, target groups, hosted zones with their records, Cloud Map namespaces and
/// services, certificates, (non-default) security groups with their ingress rules, and
/// (non-default) VPCs with their DHCP options.
const INVENTORY: &str = r#"
import json, sys
import boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
c = lambda service: boto3.client(service, **kw)
elb, r53, sd, acm, ec2 = c("elbv2"), c("route53"), c("servicediscovery"), c("acm"), c("ec2")
out = {}
lbs = []
for lb in elb.describe_load_balancers()["LoadBalancers"]:
    listeners = []
    for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
        rules = []
        for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]:
            if r.get("IsDefault") or r.get("Priority") == "default":
                continue
            hosts = [v for cond in r.get("Conditions", []) if cond.get("Field") == "host-header"
                     for v in (cond.get("HostHeaderConfig", {}).get("Values") or cond.get("Values") or [])]
            rules.append({"arn": r["RuleArn"], "priority": r["Priority"], "hosts": hosts,
                          "forward": [a.get("TargetGroupArn") for a in r["Actions"] if a["Type"] == "forward"]})
        listeners.append({"arn": li["ListenerArn"], "port": li["Port"], "protocol": li["Protocol"],
                          "sslPolicy": li.get("SslPolicy"),
                          "certificates": [x["CertificateArn"] for x in li.get("Certificates") or []],
                          "defaultActions": [a["Type"] for a in li["DefaultActions"]],
                          "redirect": [a.get("RedirectConfig") for a in li["DefaultActions"] if a["Type"] == "redirect"],
                          "rules": rules})
    lbs.append({"arn": lb["LoadBalancerArn"], "name": lb["LoadBalancerName"], "scheme": lb.get("Scheme"),
                "type": lb.get("Type"), "dnsName": lb.get("DNSName"),
                "securityGroups": lb.get("SecurityGroups", []), "listeners": listeners})
out["loadBalancers"] = lbs
out["targetGroups"] = [{"arn": t["TargetGroupArn"], "port": t.get("Port"), "protocol": t.get("Protocol"),
                        "targetType": t.get("TargetType"), "healthCheckPath": t.get("HealthCheckPath")}
                       for t in elb.describe_target_groups()["TargetGroups"]]
zones = []
for z in r53.list_hosted_zones()["HostedZones"]:
    records = r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
    zones.append({"id": z["Id"].split("/")[-1], "name": z["Name"], "private": z.get("Config", {}).get("PrivateZone", False),
                  "records": [{"name": r["Name"], "type": r["Type"],
                               "alias": (r.get("AliasTarget") or {}).get("DNSName")} for r in records]})
out["zones"] = zones
out["namespaces"] = [{"id": n["Id"], "name": n["Name"], "type": n.get("Type")} for n in sd.list_namespaces()["Namespaces"]]
services = []
for s in sd.list_services()["Services"]:
    detail = sd.get_service(Id=s["Id"])["Service"]
    services.append({"arn": s["Arn"], "name": s["Name"], "namespaceId": detail.get("NamespaceId")})
out["cloudMapServices"] = services
out["certificates"] = [{"arn": x["CertificateArn"], "domain": x["DomainName"]}
                       for x in acm.list_certificates()["CertificateSummaryList"]]
groups = []
for g in ec2.describe_security_groups()["SecurityGroups"]:
    if g["GroupName"] == "default":
        continue
    rules = []
    for p in g.get("IpPermissions", []):
        rules.append({"protocol": p.get("IpProtocol"), "from": p.get("FromPort"), "to": p.get("ToPort"),
                      "cidrs": [r["CidrIp"] for r in p.get("IpRanges", [])] + [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])],
                      "groups": [r["GroupId"] for r in p.get("UserIdGroupPairs", [])]})
    groups.append({"id": g["GroupId"], "name": g["GroupName"], "ingress": rules})
out["securityGroups"] = groups
options = {}
for o in ec2.describe_dhcp_options()["DhcpOptions"]:
    options[o["DhcpOptionsId"]] = {c["Key"]: [v["Value"] for v in c["Values"]] for c in o["DhcpConfigurations"]}
out["vpcs"] = [{"id": v["VpcId"], "dhcpOptions": options.get(v.get("DhcpOptionsId"))}
               for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
print(json.dumps(out, default=str))
"#;

/// A DNS name without its trailing dot, lower case.
fn dns(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The ingress rules of a security group in the inventory, as (protocol, from, to, sources).
fn sg_rules(inventory: &Value, id: &str) -> Vec<(String, i64, i64, Vec<String>)> {
    let group = inventory["securityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("no security group {id}: {:#}", inventory["securityGroups"]));
    let mut rules: Vec<(String, i64, i64, Vec<String>)> = group["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut sources: Vec<String> = r["cidrs"]
                .as_array()
                .unwrap()
                .iter()
                .chain(r["groups"].as_array().unwrap())
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            sources.sort();
            (
                r["protocol"].as_str().unwrap_or_default().to_string(),
                r["from"].as_i64().unwrap_or(-1),
                r["to"].as_i64().unwrap_or(-1),
                sources,
            )
        })
        .collect();
    rules.sort();
    rules
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn web_and_api_ingress_and_private_names_end_to_end() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let aws = Aws {
        ecs: aws_sdk_ecs::Client::new(&config),
        cfn: aws_sdk_cloudformation::Client::new(&config),
        endpoint: moto.endpoint(),
        rt,
    };
    let ws = Workspace::for_example(EXAMPLE, &moto.endpoint());
    // The web service calls the api by its short name, as in Compose.
    ws.edit_program(|p| {
        replace_once(
            p,
            "      memory: 512Mi\n",
            "      memory: 512Mi\n      environment:\n        API_URL: http://api:3000\n",
        )
    });
    // The project leaves `loadBalancer` unset: its first ingress service (web) makes it.
    assert!(
        !ws.program()
            .lines()
            .any(|l| l.trim_start().starts_with("loadBalancer:")),
        "the example's project must leave its load balancer to its first ingress service:\n{}",
        ws.program()
    );
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("apiToken", "e2e-ingress-token", true),
    ]);

    // --- preview: domains and endpoints are known before anything exists -------------------
    let preview = ws.preview_ok("preview (create)");
    for name in ["shop", "web", "api"] {
        assert_eq!(preview.ops_for(name), ["create"], "{name}");
    }
    let web = preview.planned_outputs("web");
    assert_eq!(web["domain"], WEB_DOMAIN, "{web:#}");
    assert_eq!(
        web["endpoints"],
        json!([format!("https://{WEB_DOMAIN}")]),
        "{web:#}"
    );
    assert_eq!(web["environment"]["API_URL"], "http://api:3000", "{web:#}");
    let api = preview.planned_outputs("api");
    assert_eq!(api["endpoints"], json!([API_ENDPOINT]), "{api:#}");
    assert!(api.get("domain").is_none(), "{api:#}");
    let shop = preview.planned_outputs("shop");
    assert_eq!(shop["publicDomain"], ZONE, "{shop:#}");
    assert_eq!(shop["privateDomain"], "shop.internal", "{shop:#}");
    let outputs = preview.planned_outputs("yaml-web-and-api-dev");
    assert_eq!(outputs["webDomain"], WEB_DOMAIN, "{outputs:#}");
    assert_eq!(
        outputs["webEndpoints"],
        json!([format!("https://{WEB_DOMAIN}")])
    );
    assert_eq!(outputs["apiEndpoints"], json!([API_ENDPOINT]));

    // --- up: everything is created -----------------------------------------------------------
    let (out, events, _) = ws.up("up (create)");
    out.ok();
    assert_eq!(
        events.changes().get("create"),
        Some(&4),
        "{:?}",
        events.changes()
    );
    let outputs = ws.stack_output(false);
    assert_eq!(outputs["webStatus"], "SERVICE_DEPLOYMENT_COMPLETED");
    assert_eq!(outputs["apiStatus"], "SERVICE_DEPLOYMENT_COMPLETED");
    assert_eq!(outputs["webDomain"], WEB_DOMAIN);
    assert_eq!(
        outputs["webEndpoints"],
        json!([format!("https://{WEB_DOMAIN}")])
    );
    assert_eq!(outputs["apiEndpoints"], json!([API_ENDPOINT]));
    // The project was made before its first ingress service made its zone: its nameServers
    // output appears once the project is read again (`up --refresh`), which changes nothing.
    assert_eq!(outputs["nameServers"], Value::Null, "{outputs:#}");
    let (out, events, _) = ws.up_refresh("up --refresh (the project's new outputs)");
    out.ok();
    let changes = events.changes();
    assert!(
        changes.keys().all(|k| k == "same" || k == "refresh"),
        "{changes:?}"
    );
    let outputs = ws.stack_output(false);
    let name_servers = outputs["nameServers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!name_servers.is_empty(), "{outputs:#}");

    // The project stack: zone, certificate, load balancer and its group, both listeners, the
    // private namespace and the DHCP options that make short names resolve.
    let project = aws.stack(PROJECT_STACK);
    let p = |logical: &str, ty: &str| project.resource(PROJECT_STACK, logical, ty);
    let zone_id = p("PublicZone", "AWS::Route53::HostedZone");
    let certificate = p("Certificate", "AWS::CertificateManager::Certificate");
    let load_balancer = p("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer");
    let lb_group = p("LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup");
    let https = p("HttpsListener", "AWS::ElasticLoadBalancingV2::Listener");
    let http = p("HttpListener", "AWS::ElasticLoadBalancingV2::Listener");
    let namespace = p(
        "PrivateNamespace",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
    );
    p("DhcpOptions", "AWS::EC2::DHCPOptions");
    p(
        "DhcpOptionsAssociation",
        "AWS::EC2::VPCDHCPOptionsAssociation",
    );
    let member_group = project.output(PROJECT_STACK, "SecurityGroupId");
    for (key, physical) in [
        ("ZoneId", &zone_id),
        ("CertificateArn", &certificate),
        ("LoadBalancerArn", &load_balancer),
        ("HttpsListenerArn", &https),
        ("PrivateNamespaceId", &namespace),
    ] {
        assert_eq!(&project.output(PROJECT_STACK, key), physical, "{key}");
    }
    assert_eq!(project.output(PROJECT_STACK, "ZoneName"), ZONE);
    assert_eq!(
        project.output(PROJECT_STACK, "LoadBalancerSecurityGroupId"),
        lb_group
    );
    assert_ne!(https, http);
    // Both listeners belong to the load balancer (ARN …:listener/app/<name>/<lb id>/<id>).
    let lb_path = load_balancer
        .split_once(":loadbalancer/")
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| panic!("{load_balancer}"));
    for listener in [&https, &http] {
        assert!(
            listener.contains(&format!(":listener/{lb_path}/")),
            "{listener} is not a listener of {load_balancer}"
        );
    }

    // The service stacks: web has its group, private name, target group, host rule and alias
    // record; api (host port only) its group and private name, nothing public.
    let web_stack = aws.stack("defang-shop-S-web");
    let w = |logical: &str, ty: &str| web_stack.resource("defang-shop-S-web", logical, ty);
    let web_group = w("TaskSecurityGroup", "AWS::EC2::SecurityGroup");
    let web_registry = w("Registry", "AWS::ServiceDiscovery::Service");
    let target_group = w("TargetGroup80", "AWS::ElasticLoadBalancingV2::TargetGroup");
    let rule = w("HostRule80", "AWS::ElasticLoadBalancingV2::ListenerRule");
    let record = w("Record80", "AWS::Route53::RecordSet");
    assert_eq!(dns(&record), WEB_DOMAIN);
    // The rule is on the HTTPS listener (…:listener-rule/app/<name>/<lb id>/<listener id>/…).
    assert!(
        rule.replacen(":listener-rule/", ":listener/", 1)
            .starts_with(&format!("{https}/")),
        "{rule} is not a rule of the HTTPS listener {https}"
    );
    assert_eq!(
        web_stack.output("defang-shop-S-web", "TargetGroup80"),
        target_group
    );
    assert_eq!(
        web_stack.output("defang-shop-S-web", "SecurityGroupId"),
        web_group
    );
    let web_registry_arn = web_stack.output("defang-shop-S-web", "RegistryArn");
    assert!(
        web_registry_arn.ends_with(&format!("/{web_registry}")),
        "{web_registry_arn} vs {web_registry}"
    );
    let record_props = &web_stack.template["Resources"]["Record80"]["Properties"];
    assert_eq!(record_props["Type"], "A", "{record_props:#}");
    assert_eq!(record_props["HostedZoneId"], zone_id.as_str());
    assert_eq!(
        record_props["AliasTarget"]["DNSName"],
        project
            .output(PROJECT_STACK, "LoadBalancerDnsName")
            .as_str()
    );
    let rule_props = &web_stack.template["Resources"]["HostRule80"]["Properties"];
    assert_eq!(rule_props["ListenerArn"], https.as_str(), "{rule_props:#}");
    assert_eq!(
        rule_props["Conditions"][0]["HostHeaderConfig"]["Values"],
        json!([WEB_DOMAIN])
    );

    let api_stack = aws.stack("defang-shop-S-api");
    let api_group = api_stack.resource(
        "defang-shop-S-api",
        "TaskSecurityGroup",
        "AWS::EC2::SecurityGroup",
    );
    let api_registry = api_stack.resource(
        "defang-shop-S-api",
        "Registry",
        "AWS::ServiceDiscovery::Service",
    );
    let api_registry_arn = api_stack.output("defang-shop-S-api", "RegistryArn");
    assert!(api_registry_arn.ends_with(&format!("/{api_registry}")));
    let public: Vec<&String> = api_stack
        .resources
        .iter()
        .filter(|(_, (ty, _, _))| ty.contains("ElasticLoadBalancing") || ty.contains("Route53"))
        .map(|(logical, _)| logical)
        .collect();
    assert!(public.is_empty(), "a private service got {public:?}");

    // The rules as deployed (the templates CloudFormation holds): web's port only from the
    // load balancer, api's only from the project's services, and the only 0.0.0.0/0 rules
    // the load balancer's two listeners.
    let rule_of = |r: &Value| {
        (
            r["FromPort"].as_i64().unwrap_or(-1),
            r["SourceSecurityGroupId"].as_str().map(str::to_string),
            r["CidrIp"].as_str().map(str::to_string),
        )
    };
    let web_rules: Vec<_> = web_stack
        .ingress_rules("TaskSecurityGroup")
        .iter()
        .map(rule_of)
        .collect();
    assert_eq!(web_rules, [(80, Some(lb_group.clone()), None)]);
    let api_rules: Vec<_> = api_stack
        .ingress_rules("TaskSecurityGroup")
        .iter()
        .map(rule_of)
        .collect();
    assert_eq!(api_rules, [(3000, Some(member_group.clone()), None)]);
    let mut open = Vec::new();
    for (stack_name, stack) in [
        (PROJECT_STACK, &project),
        ("defang-shop-S-web", &web_stack),
        ("defang-shop-S-api", &api_stack),
    ] {
        for (logical, resource) in stack.template["Resources"].as_object().unwrap() {
            for r in resource["Properties"]["SecurityGroupIngress"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if r.get("CidrIp").is_some() || r.get("CidrIpv6").is_some() {
                    open.push((
                        format!("{stack_name}/{logical}"),
                        r["FromPort"].as_i64().unwrap_or(-1),
                        r["CidrIp"].as_str().unwrap_or_default().to_string(),
                    ));
                }
            }
        }
    }
    open.sort();
    assert_eq!(
        open,
        [
            (
                "defang-shop/LoadBalancerSecurityGroup".to_string(),
                80,
                "0.0.0.0/0".to_string()
            ),
            (
                "defang-shop/LoadBalancerSecurityGroup".to_string(),
                443,
                "0.0.0.0/0".to_string()
            ),
        ]
    );

    // --- ECS: registrations and security groups ------------------------------------------
    let web_svc = aws.service("web");
    let lbs: Vec<(Option<&str>, Option<&str>, Option<i32>)> = web_svc
        .load_balancers()
        .iter()
        .map(|l| (l.target_group_arn(), l.container_name(), l.container_port()))
        .collect();
    assert_eq!(
        lbs,
        [(Some(target_group.as_str()), Some("web"), Some(80))],
        "{web_svc:#?}"
    );
    let api_svc = aws.service("api");
    assert!(api_svc.load_balancers().is_empty(), "{api_svc:#?}");
    for (svc, registry, own_group) in [
        (&web_svc, &web_registry_arn, &web_group),
        (&api_svc, &api_registry_arn, &api_group),
    ] {
        let registries: Vec<Option<&str>> = svc
            .service_registries()
            .iter()
            .map(|r| r.registry_arn())
            .collect();
        assert_eq!(registries, [Some(registry.as_str())], "{svc:#?}");
        let groups: Vec<String> = svc
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(|a| a.security_groups().to_vec())
            .unwrap_or_default();
        assert_eq!(
            sorted(groups),
            sorted(vec![member_group.clone(), own_group.clone()]),
            "{svc:#?}"
        );
    }
    let td = aws.task_definition(web_svc.task_definition().unwrap());
    let env: Vec<(Option<&str>, Option<&str>)> = td.container_definitions()[0]
        .environment()
        .iter()
        .map(|kv| (kv.name(), kv.value()))
        .collect();
    assert!(
        env.contains(&(Some("API_URL"), Some("http://api:3000"))),
        "{env:?}"
    );

    // --- the emulator's services: what CloudFormation made is really there --------------
    let inv = aws.inventory();
    let lbs = inv["loadBalancers"].as_array().unwrap();
    assert_eq!(lbs.len(), 1, "{inv:#}");
    let lb = &lbs[0];
    assert_eq!(lb["arn"], load_balancer.as_str());
    assert_eq!(lb["scheme"], "internet-facing");
    assert_eq!(lb["securityGroups"], json!([lb_group]));
    let listener = |port: i64| {
        lb["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["port"] == port)
            .unwrap_or_else(|| panic!("no listener on {port}: {lb:#}"))
            .clone()
    };
    let l443 = listener(443);
    assert_eq!(l443["arn"], https.as_str());
    assert_eq!(l443["protocol"], "HTTPS");
    assert_eq!(l443["sslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(l443["certificates"], json!([certificate]));
    assert_eq!(l443["defaultActions"], json!(["fixed-response"]));
    assert_eq!(
        l443["rules"],
        json!([{
            "arn": rule,
            "priority": l443["rules"][0]["priority"],
            "hosts": [WEB_DOMAIN],
            "forward": [target_group],
        }]),
        "{l443:#}"
    );
    let l80 = listener(80);
    assert_eq!(l80["protocol"], "HTTP");
    assert_eq!(l80["defaultActions"], json!(["redirect"]));
    assert_eq!(l80["redirect"][0]["Protocol"], "HTTPS", "{l80:#}");
    assert_eq!(l80["redirect"][0]["Port"], "443", "{l80:#}");
    assert_eq!(l80["rules"], json!([]));
    let tgs = inv["targetGroups"].as_array().unwrap();
    assert_eq!(tgs.len(), 1, "{inv:#}");
    assert_eq!(tgs[0]["arn"], target_group.as_str());
    assert_eq!(tgs[0]["port"], 80);
    assert_eq!(tgs[0]["targetType"], "ip");
    let zone = inv["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| dns(z["name"].as_str().unwrap()) == ZONE)
        .unwrap_or_else(|| panic!("no zone {ZONE}: {inv:#}"));
    assert_eq!(zone["id"], zone_id.as_str());
    assert_eq!(zone["private"], false);
    let a_records: Vec<(String, String)> = zone["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| {
            (
                dns(r["name"].as_str().unwrap()),
                dns(r["alias"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    assert_eq!(
        a_records,
        [(WEB_DOMAIN.to_string(), dns(lb["dnsName"].as_str().unwrap()))],
        "{zone:#}"
    );
    assert_eq!(
        inv["certificates"],
        json!([{ "arn": certificate, "domain": format!("*.{ZONE}") }])
    );
    assert_eq!(
        inv["namespaces"],
        json!([{ "id": namespace, "name": "shop.internal", "type": "DNS_PRIVATE" }])
    );
    let mut names: Vec<(String, String, String)> = inv["cloudMapServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["arn"].as_str().unwrap().to_string(),
                s["namespaceId"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            (
                "api".to_string(),
                api_registry_arn.clone(),
                namespace.clone()
            ),
            (
                "web".to_string(),
                web_registry_arn.clone(),
                namespace.clone()
            ),
        ]
    );
    // Short names: the project's VPC searches the private namespace first.
    let vpc_id = project.output(PROJECT_STACK, "VpcId");
    assert_eq!(
        inv["vpcs"],
        json!([{
            "id": vpc_id,
            "dhcpOptions": {
                "domain-name": ["shop.internal ec2.internal"],
                "domain-name-servers": ["AmazonProvidedDNS"],
            },
        }]),
        "{inv:#}"
    );
    let tcp = |port: i64, source: &str| ("tcp".to_string(), port, port, vec![source.to_string()]);
    assert_eq!(sg_rules(&inv, &web_group), [tcp(80, &lb_group)]);
    assert_eq!(sg_rules(&inv, &api_group), [tcp(3000, &member_group)]);
    assert_eq!(
        sg_rules(&inv, &lb_group),
        [tcp(80, "0.0.0.0/0"), tcp(443, "0.0.0.0/0")]
    );
    let world: Vec<String> = inv["securityGroups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            g["id"] != lb_group.as_str()
                && g["ingress"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| !r["cidrs"].as_array().unwrap().is_empty())
        })
        .map(|g| g.to_string())
        .collect();
    assert!(world.is_empty(), "groups open to addresses: {world:#?}");

    // --- a rename replaces web: its routing goes with it, and nothing else changes ------------
    ws.edit_program(|p| {
        replace_once(
            p,
            "      image: nginx:1.27-alpine\n",
            "      name: www\n      image: nginx:1.27-alpine\n",
        )
    });
    let preview = ws.preview_ok("preview (rename web to www)");
    let ops = preview.ops_for("web");
    assert!(ops.contains(&"replace".to_string()), "{ops:?}");
    assert_eq!(preview.ops_for("shop"), ["same"]);
    assert_eq!(preview.ops_for("api"), ["same"]);
    assert_eq!(preview.planned_outputs("web")["domain"], WWW_DOMAIN);
    let (out, _, _) = ws.up("up (rename web to www)");
    out.ok();
    assert!(aws.stack_is_gone("defang-shop-S-web"));
    let www_stack = aws.stack("defang-shop-S-www");
    let www_target_group = www_stack.resource(
        "defang-shop-S-www",
        "TargetGroup80",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
    );
    let www_group = www_stack.resource(
        "defang-shop-S-www",
        "TaskSecurityGroup",
        "AWS::EC2::SecurityGroup",
    );
    assert_ne!(www_target_group, target_group);
    // The project is untouched: same load balancer, listeners and zone.
    let project_after = aws.stack(PROJECT_STACK);
    assert_eq!(project_after.resources, project.resources);
    let www_svc = aws.service("www");
    assert_eq!(
        www_svc
            .load_balancers()
            .iter()
            .map(|l| l.target_group_arn())
            .collect::<Vec<_>>(),
        [Some(www_target_group.as_str())]
    );
    let inv = aws.inventory();
    let tgs: Vec<&Value> = inv["targetGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["arn"])
        .collect();
    assert_eq!(tgs, [&json!(www_target_group)], "{inv:#}");
    let lb = &inv["loadBalancers"][0];
    assert_eq!(lb["arn"], load_balancer.as_str(), "{inv:#}");
    let l443 = lb["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["port"] == 443)
        .expect("the HTTPS listener");
    let rules: Vec<(&Value, &Value)> = l443["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["hosts"], &r["forward"]))
        .collect();
    assert_eq!(
        rules,
        [(&json!([WWW_DOMAIN]), &json!([www_target_group]))],
        "{l443:#}"
    );
    let zone = inv["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| dns(z["name"].as_str().unwrap()) == ZONE)
        .expect("the zone");
    let a_records: Vec<String> = zone["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "A")
        .map(|r| dns(r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(a_records, [WWW_DOMAIN], "{zone:#}");
    let names = sorted(
        inv["cloudMapServices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect(),
    );
    assert_eq!(names, ["api", "www"], "{inv:#}");
    let groups: Vec<String> = sorted(
        inv["securityGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect(),
    );
    assert!(
        !groups.contains(&web_group),
        "web's group is left: {groups:?}"
    );
    assert_eq!(sg_rules(&inv, &www_group), [tcp(80, &lb_group)]);
    assert_eq!(sg_rules(&inv, &api_group), [tcp(3000, &member_group)]);

    // --- destroy: nothing left behind ------------------------------------------------------
    let (out, events, _) = ws.destroy("destroy");
    out.ok();
    // shop, www, api and the stack itself.
    assert_eq!(
        events.changes().get("delete"),
        Some(&4),
        "{:?}",
        events.changes()
    );
    for stack in [
        PROJECT_STACK,
        "defang-shop-S-web",
        "defang-shop-S-www",
        "defang-shop-S-api",
    ] {
        assert!(aws.stack_is_gone(stack), "stack {stack} is still there");
    }
    assert_eq!(aws.live_stacks(), Vec::<String>::new());
    let (clusters, services) = aws.ecs_leftovers();
    assert!(clusters.is_empty(), "clusters left: {clusters:?}");
    assert!(services.is_empty(), "services left: {services:?}");
    for family in [
        "defang-shop-S-web",
        "defang-shop-S-www",
        "defang-shop-S-api",
    ] {
        assert_eq!(
            aws.active_revisions(family),
            Vec::<String>::new(),
            "{family} still has ACTIVE revisions"
        );
    }
    let inv = aws.inventory();
    for key in [
        "loadBalancers",
        "targetGroups",
        "zones",
        "namespaces",
        "cloudMapServices",
        "certificates",
        "securityGroups",
        "vpcs",
    ] {
        assert_eq!(inv[key], json!([]), "{key} left after destroy: {inv:#}");
    }
    let export = ws.stack_export();
    assert!(
        export["deployment"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "state after destroy: {export:#}"
    );

    ws.print_timings();
    eprintln!(
        "[e2e] web_and_api_ingress_and_private_names_end_to_end: {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
}
