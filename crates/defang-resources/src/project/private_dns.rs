//! Private names between services: a Cloud Map private DNS namespace `<project>.internal` in
//! the project's VPC (each service registers `<service>.<project>.internal`), and, for a VPC
//! the project creates, DHCP options whose search domain is that namespace, so the short name
//! (`http://api:3000`, as in Compose) resolves too. An adopted VPC keeps its own DHCP options:
//! there, use `<service>.<project>.internal` (or add the namespace to its search domains).

use super::inputs::{Network, ResolvedProject, private_domain};
use serde_json::{Value, json};

pub mod outputs {
    pub const NAMESPACE_ID: &str = "PrivateNamespaceId";
    pub const PRIVATE_DOMAIN: &str = "PrivateDomain";
}

pub fn private_dns_resources(
    project: &ResolvedProject,
    vpc_id: &Value,
    region_domain: &str,
    tags: &dyn Fn(&str) -> Value,
    resources: &mut serde_json::Map<String, Value>,
    out: &mut dyn FnMut(&str, Value),
) {
    let domain = private_domain(&project.name);
    resources.insert(
        "PrivateNamespace".into(),
        json!({
            "Type": "AWS::ServiceDiscovery::PrivateDnsNamespace",
            "Properties": {
                "Name": domain,
                "Vpc": vpc_id,
                "Description": format!("Defang project {}: private service names", project.name),
            }
        }),
    );
    if matches!(project.network, Network::Created { .. }) {
        resources.insert(
            "DhcpOptions".into(),
            json!({
                "Type": "AWS::EC2::DHCPOptions",
                "Properties": {
                    // Search the project's namespace first, then the region's default domain.
                    "DomainName": format!("{domain} {region_domain}"),
                    "DomainNameServers": ["AmazonProvidedDNS"],
                    "Tags": tags(&format!("defang-{}", project.name)),
                }
            }),
        );
        resources.insert(
            "DhcpOptionsAssociation".into(),
            json!({
                "Type": "AWS::EC2::VPCDHCPOptionsAssociation",
                "Properties": { "VpcId": vpc_id, "DhcpOptionsId": { "Ref": "DhcpOptions" } }
            }),
        );
    }
    out(outputs::NAMESPACE_ID, json!({ "Ref": "PrivateNamespace" }));
    out(outputs::PRIVATE_DOMAIN, json!(domain));
}

/// The region's default DNS domain for EC2 hosts (`ec2.internal` in us-east-1).
pub fn region_domain(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".to_string()
    } else {
        format!("{region}.compute.internal")
    }
}
