//! The project's ingress, when `loadBalancer` is on: a public zone for
//! `<project>.<username>.<suffix>`, a wildcard certificate validated through it, and an
//! internet-facing application load balancer with HTTPS on 443 and HTTP on 80 redirecting to
//! HTTPS. Services add their own target groups, host rules and records (see the service
//! stack), so the project never changes when a service comes or goes.

use super::inputs::ResolvedProject;
use crate::cloudformation::blocks::{attr, r};
use serde_json::{Value, json};

pub mod outputs {
    pub const ZONE_ID: &str = "ZoneId";
    pub const ZONE_NAME: &str = "ZoneName";
    pub const ZONE_ADOPTED: &str = "ZoneAdopted";
    pub const NAME_SERVERS: &str = "NameServers";
    pub const CERTIFICATE_ARN: &str = "CertificateArn";
    pub const LOAD_BALANCER_ARN: &str = "LoadBalancerArn";
    pub const LOAD_BALANCER_DNS_NAME: &str = "LoadBalancerDnsName";
    pub const LOAD_BALANCER_ZONE_ID: &str = "LoadBalancerZoneId";
    pub const LOAD_BALANCER_SECURITY_GROUP_ID: &str = "LoadBalancerSecurityGroupId";
    pub const HTTPS_LISTENER_ARN: &str = "HttpsListenerArn";
}

/// TLS 1.3 and 1.2 only (AWS's recommended policy for new load balancers).
pub const SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

pub fn ingress_resources(
    project: &ResolvedProject,
    vpc_id: &Value,
    subnets: &Value,
    tags: &dyn Fn(&str) -> Value,
    resources: &mut serde_json::Map<String, Value>,
    out: &mut dyn FnMut(&str, Value),
) {
    let zone = &project.public_domain;
    let prefix = format!("defang-{}", project.name);
    // The user's own zone (the project's `domain`), or one the project makes and owns.
    let zone_id = match &project.adopted_zone_id {
        Some(id) => json!(id),
        None => {
            resources.insert(
                "PublicZone".into(),
                json!({
                    "Type": "AWS::Route53::HostedZone",
                    "Properties": {
                        "Name": zone,
                        "HostedZoneConfig": { "Comment": format!("Defang project {}: service domains", project.name) },
                        "HostedZoneTags": tags(zone),
                    }
                }),
            );
            out(
                outputs::NAME_SERVERS,
                json!({ "Fn::Join": [",", attr("PublicZone", "NameServers")] }),
            );
            r("PublicZone")
        }
    };
    out(
        outputs::ZONE_ADOPTED,
        json!(project.adopted_zone_id.is_some().to_string()),
    );
    // Validated by DNS in the zone above, so it is issued once the zone is delegated to from
    // its parent (see the README); CloudFormation writes the validation record itself.
    resources.insert(
        "Certificate".into(),
        json!({
            "Type": "AWS::CertificateManager::Certificate",
            "Properties": {
                "DomainName": format!("*.{zone}"),
                "SubjectAlternativeNames": [zone],
                "ValidationMethod": "DNS",
                "DomainValidationOptions": [
                    { "DomainName": format!("*.{zone}"), "HostedZoneId": zone_id.clone() },
                    { "DomainName": zone, "HostedZoneId": zone_id.clone() }
                ],
                "Tags": tags(&format!("*.{zone}")),
            }
        }),
    );
    resources.insert(
        "LoadBalancerSecurityGroup".into(),
        json!({
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": format!("Defang project {}: internet-facing load balancer", project.name),
                "VpcId": vpc_id,
                // The only rules open to the internet: the listeners.
                "SecurityGroupIngress": [
                    { "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "HTTPS" },
                    { "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": "HTTP, redirected to HTTPS" }
                ],
                "Tags": tags(&format!("{prefix}-lb")),
            }
        }),
    );
    resources.insert(
        "LoadBalancer".into(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Name": project.load_balancer_name,
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": { "Fn::Split": [",", subnets] },
                "SecurityGroups": [attr("LoadBalancerSecurityGroup", "GroupId")],
                "LoadBalancerAttributes": [
                    { "Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true" }
                ],
                "Tags": tags(&format!("{prefix}-lb")),
            }
        }),
    );
    resources.insert(
        "HttpListener".into(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": r("LoadBalancer"),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [{
                    "Type": "redirect",
                    "RedirectConfig": { "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301" }
                }]
            }
        }),
    );
    resources.insert(
        "HttpsListener".into(),
        json!({
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": r("LoadBalancer"),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": SSL_POLICY,
                "Certificates": [{ "CertificateArn": r("Certificate") }],
                // Hosts no service claims get a plain 404, not some service's page.
                "DefaultActions": [{
                    "Type": "fixed-response",
                    "FixedResponseConfig": { "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no service at this address" }
                }]
            }
        }),
    );
    out(outputs::ZONE_ID, zone_id);
    out(outputs::ZONE_NAME, json!(zone));
    out(outputs::CERTIFICATE_ARN, r("Certificate"));
    out(outputs::LOAD_BALANCER_ARN, r("LoadBalancer"));
    out(
        outputs::LOAD_BALANCER_DNS_NAME,
        attr("LoadBalancer", "DNSName"),
    );
    out(
        outputs::LOAD_BALANCER_ZONE_ID,
        attr("LoadBalancer", "CanonicalHostedZoneID"),
    );
    out(
        outputs::LOAD_BALANCER_SECURITY_GROUP_ID,
        attr("LoadBalancerSecurityGroup", "GroupId"),
    );
    out(outputs::HTTPS_LISTENER_ARN, r("HttpsListener"));
}
