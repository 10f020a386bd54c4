//! Service outputs: the inputs plus status, domain, endpoints and what was deployed. Outputs
//! that depend on inputs not known yet (preview) are unknown themselves.

use super::domain;
use super::inputs::ResolvedService;
use super::status::ServiceStatus;
use crate::cloud::ServiceState;
use crate::cloud_env::Env;
use crate::project::inputs::cluster_name;
use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeSet;

/// What is known about the deployment behind the outputs.
#[derive(Default)]
pub struct Deployed<'a> {
    pub state: Option<&'a ServiceState>,
    pub task_definition_arn: Option<&'a str>,
    pub status: Option<ServiceStatus>,
}

/// Every output the service computes (beyond echoing its inputs).
pub const COMPUTED: [&str; 11] = [
    "status",
    "domain",
    "endpoints",
    "serviceArn",
    "taskDefinitionArn",
    "deployedImage",
    "deployedCpus",
    "deployedMemory",
    "desiredCount",
    "runningCount",
    "clusterName",
];

/// Top-level inputs that are (or contain) unknowns.
fn unknown_inputs(inputs: &PropertyMap) -> BTreeSet<String> {
    inputs
        .iter()
        .filter(|(_, v)| v.contains_unknowns())
        .map(|(k, _)| k.clone())
        .collect()
}

pub fn service_outputs(
    inputs: &PropertyMap,
    svc: &ResolvedService,
    env: &Env,
    deployed: Deployed<'_>,
) -> PropertyMap {
    let unknown = unknown_inputs(inputs);
    let depends = |keys: &[&str]| keys.iter().any(|k| unknown.contains(*k));
    let mut out = inputs.clone();
    if !depends(&["name"]) {
        out.insert("name".into(), Value::from(svc.name.as_str()));
    }
    let set = |out: &mut PropertyMap, key: &str, deps: &[&str], value: Value| {
        let value = if depends(deps) { Value::Unknown } else { value };
        out.insert(key.to_string(), value);
    };

    let names = ["project", "name", "ports"];
    // Check has already rejected names too long for DNS, so errors do not reach here.
    match domain::service_domain(
        svc,
        &env.config.username,
        &env.config.domain_suffix,
        svc.adopted_zone.as_deref(),
    )
    .ok()
    .flatten()
    {
        Some(d) => set(&mut out, "domain", &names, Value::from(d)),
        None if depends(&names) => set(&mut out, "domain", &names, Value::Null),
        None => {
            out.remove("domain");
        }
    }
    let mut endpoints = domain::service_endpoints(
        svc,
        &env.config.username,
        &env.config.domain_suffix,
        svc.adopted_zone.as_deref(),
    )
    .unwrap_or_default();
    if let Some(custom) = &svc.domain_name {
        endpoints.push(format!("https://{custom}"));
    }
    let endpoints = endpoints.into_iter().map(Value::from).collect();
    set(&mut out, "endpoints", &names, Value::Array(endpoints));
    set(
        &mut out,
        "clusterName",
        &["project"],
        Value::from(cluster_name(&svc.project)),
    );
    // A service built from source has its image only once its build is done.
    let image = if svc.image.is_empty() {
        Value::Unknown
    } else {
        Value::from(svc.image.as_str())
    };
    set(&mut out, "deployedImage", &["image", "build"], image);
    set(
        &mut out,
        "deployedCpus",
        &["cpus", "memory"],
        Value::Number(svc.size.vcpus()),
    );
    set(
        &mut out,
        "deployedMemory",
        &["cpus", "memory"],
        Value::Number(f64::from(svc.size.memory_mib)),
    );

    let or_unknown = |v: Option<Value>| v.unwrap_or(Value::Unknown);
    out.insert(
        "status".into(),
        or_unknown(deployed.status.map(|s| Value::from(s.as_str()))),
    );
    out.insert(
        "taskDefinitionArn".into(),
        or_unknown(deployed.task_definition_arn.map(Value::from)),
    );
    out.insert(
        "serviceArn".into(),
        or_unknown(deployed.state.map(|s| Value::from(s.arn.as_str()))),
    );
    out.insert(
        "desiredCount".into(),
        match deployed.state {
            Some(s) => Value::Number(f64::from(s.desired_count)),
            None if depends(&["replicas"]) => Value::Unknown,
            None => Value::Number(f64::from(svc.replicas)),
        },
    );
    out.insert(
        "runningCount".into(),
        or_unknown(
            deployed
                .state
                .map(|s| Value::Number(f64::from(s.running_count))),
        ),
    );
    out
}
