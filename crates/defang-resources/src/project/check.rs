//! Check for `defang:index:Project`: every problem at once, each with its property path and fix.

use super::cidr::{Cidr, VPC_PREFIX_RANGE};
use super::inputs::{ProjectInputs, pulumi_project_of};
use crate::names::validate_project_name;
use pulumi_plugin::{CheckFailure, PropertyMap, Value};

/// Retention values CloudWatch Logs accepts.
const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Fills in `name` when the program leaves it out: the name chosen earlier stays (a renamed
/// Pulumi project does not rename the stack), otherwise the Pulumi project names the project.
pub fn default_name(urn: &str, olds: &PropertyMap, news: &mut PropertyMap) {
    if !news.contains_key("name") {
        let name = olds
            .get("name")
            .cloned()
            .or_else(|| pulumi_project_of(urn).map(Value::from));
        if let Some(name) = name {
            news.insert("name".into(), name);
        }
    }
}

/// The rules beyond the types (the kit checks those first): every problem at once.
pub fn validate(parsed: &ProjectInputs) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    if let Some(name) = &parsed.name
        && let Err(reason) = validate_project_name(name)
    {
        failures.push(CheckFailure::new("name", format!("project {reason}")));
    }
    match (&parsed.vpc_id, &parsed.subnet_ids) {
        (Some(vpc), subnets) => {
            if !is_aws_id(vpc, "vpc-") {
                failures.push(CheckFailure::new(
                    "vpcId",
                    format!("\"{vpc}\" is not a VPC id like vpc-0123456789abcdef0"),
                ));
            }
            match subnets.as_deref() {
                None | Some([]) => failures.push(CheckFailure::new(
                    "subnetIds",
                    "an adopted VPC (`vpcId`) needs the subnets tasks run in: set `subnetIds` (two or more, in different zones)",
                )),
                Some(ids) => {
                    for (i, id) in ids.iter().enumerate() {
                        if !is_aws_id(id, "subnet-") {
                            failures.push(CheckFailure::new(
                                format!("subnetIds[{i}]"),
                                format!("\"{id}\" is not a subnet id like subnet-0123456789abcdef0"),
                            ));
                        }
                    }
                }
            }
            if parsed.vpc_cidr.is_some() {
                failures.push(CheckFailure::new(
                    "vpcCidr",
                    "`vpcCidr` applies only to a VPC the project creates; remove it or remove `vpcId`",
                ));
            }
        }
        (None, Some(_)) => failures.push(CheckFailure::new(
            "subnetIds",
            "`subnetIds` needs `vpcId` (the VPC they belong to); without `vpcId` the project creates its own VPC and subnets",
        )),
        (None, None) => {}
    }
    if let Some(cidr) = &parsed.vpc_cidr {
        match Cidr::parse(cidr) {
            Err(reason) => failures.push(CheckFailure::new("vpcCidr", reason)),
            Ok(c) if !VPC_PREFIX_RANGE.contains(&c.prefix) => failures.push(CheckFailure::new(
                "vpcCidr",
                format!(
                    "a VPC's prefix length must be between /16 and /24; got /{}",
                    c.prefix
                ),
            )),
            Ok(_) => {}
        }
    }
    if let Some(domain) = &parsed.domain {
        let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
        let ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            failures.push(CheckFailure::new(
                "domain",
                format!("\"{domain}\" is not a domain name like apps.example.com"),
            ));
        }
        if parsed.load_balancer == Some(false) {
            failures.push(CheckFailure::new(
                "domain",
                "serves the project's ingress domains, which need the load balancer: remove `loadBalancer: false`, or remove `domain`",
            ));
        }
    }
    if let Some(days) = parsed.log_retention_days
        && !LOG_RETENTION_DAYS.contains(&days)
    {
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .copied()
            .find(|d| *d >= days)
            .unwrap_or(3653);
        failures.push(CheckFailure::new(
            "logRetentionDays",
            format!("CloudWatch Logs keeps logs for one of {LOG_RETENTION_DAYS:?} days; got {days}, try {nearest}"),
        ));
    }
    if let Some(tags) = &parsed.tags {
        if tags.len() > 40 {
            failures.push(CheckFailure::new(
                "tags",
                format!(
                    "at most 40 tags (AWS allows 50 and the project uses some); got {}",
                    tags.len()
                ),
            ));
        }
        for (key, value) in tags {
            let path = pulumi_plugin::PropertyPath::root()
                .key("tags")
                .key(key)
                .to_string();
            if key.is_empty() || key.len() > 128 || key.to_ascii_lowercase().starts_with("aws:") {
                failures.push(CheckFailure::new(
                    path,
                    "tag keys are 1-128 characters and may not start with `aws:`",
                ));
            } else if value.len() > 256 {
                failures.push(CheckFailure::new(
                    path,
                    "tag values are at most 256 characters",
                ));
            }
        }
    }
    failures
}

fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeEcs, FakeStacks, driver, env};
    use pulumi_plugin::rpc;
    use pulumi_plugin::value::properties_from_struct;
    use std::sync::Arc;

    /// Check of project `main`, as the engine sends it to the provider the binary serves: the
    /// inputs and the failures.
    async fn check_project(
        olds: &PropertyMap,
        news: &PropertyMap,
    ) -> (PropertyMap, Vec<rpc::CheckFailure>) {
        let cloud = env(
            Arc::new(FakeEcs::default()),
            Arc::new(FakeStacks::default()),
        )
        .cloud;
        let checked = driver(cloud)
            .await
            .check(super::super::lifecycle::TOKEN, "main", olds, news)
            .await
            .unwrap();
        (
            properties_from_struct(checked.inputs.as_ref()),
            checked.failures,
        )
    }

    fn props(pairs: Vec<(&str, Value)>) -> PropertyMap {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[tokio::test]
    async fn name_defaults_to_pulumi_project_and_stays() {
        let (inputs, failures) = check_project(&PropertyMap::new(), &PropertyMap::new()).await;
        assert!(failures.is_empty(), "{failures:?}");
        // The Pulumi project of the driver's URNs (`urn:pulumi:test::test::…`).
        assert_eq!(inputs["name"], Value::from("test"));
        let olds = props(vec![("name", Value::from("kept"))]);
        let (inputs, _) = check_project(&olds, &PropertyMap::new()).await;
        assert_eq!(inputs["name"], Value::from("kept"));
    }

    #[tokio::test]
    async fn every_problem_is_reported_with_its_path() {
        let news = props(vec![
            ("name", Value::from("Shop_1")),
            ("vpcId", Value::from("vpc-zz")),
            ("vpcCidr", Value::from("10.0.0.0/8")),
            ("logRetentionDays", Value::Number(10.0)),
        ]);
        let (_, failures) = check_project(&PropertyMap::new(), &news).await;
        let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "name",
                "vpcId",
                "subnetIds",
                "vpcCidr",
                "vpcCidr",
                "logRetentionDays"
            ]
        );
        assert!(
            failures[5].reason.contains("try 14"),
            "{}",
            failures[5].reason
        );
    }

    #[tokio::test]
    async fn unknown_properties_are_named() {
        let news = props(vec![("vpcCIDR", Value::from("10.0.0.0/16"))]);
        let (_, failures) = check_project(&PropertyMap::new(), &news).await;
        assert_eq!(failures.len(), 1);
        assert!(failures[0].reason.contains("vpcCIDR"), "{:?}", failures);
    }

    #[tokio::test]
    async fn adopted_network_is_fine() {
        let news = props(vec![
            ("vpcId", Value::from("vpc-0123abcd")),
            (
                "subnetIds",
                Value::Array(vec![
                    Value::from("subnet-0123abcd"),
                    Value::from("subnet-4567abcd"),
                ]),
            ),
        ]);
        let (_, failures) = check_project(&PropertyMap::new(), &news).await;
        assert!(failures.is_empty(), "{failures:?}");
    }
}
