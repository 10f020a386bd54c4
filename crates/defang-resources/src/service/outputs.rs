//! Service outputs: the inputs plus status, domain, endpoints and what was deployed. Outputs
//! that depend on inputs not known yet (preview) are unknown themselves.

use super::domain;
use super::inputs::ResolvedService;
use super::status::ServiceStatus;
use crate::aws_names;
use crate::cloud::ServiceState;
use crate::runtime::Runtime;
use pulumi_plugin::{PropertyMap, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The outputs of `defang:index:Service` beyond its inputs (which it echoes), as the schema
/// declares them; `name` is here because the output always has one (the default applied).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOutputs {
    /// The service name: a DNS label without `--` (lowercase letters, digits and '-', starting with
    /// a letter), and the first label of its domains. Defaults to the Pulumi resource name.
    /// Changing it replaces the service.
    pub name: String,
    /// Where the service's rollout is, as of the last create, update or refresh. A rollout moves
    /// from `UPDATE_QUEUED` to `SERVICE_DEPLOYMENT_PENDING`, then ends in
    /// `SERVICE_DEPLOYMENT_COMPLETED` or `SERVICE_DEPLOYMENT_FAILED`; the `BUILD_*` values belong
    /// to building images from source.
    pub status: ServiceStatus,
    /// The public domain of the service's first ingress port,
    /// `<service>--<port>.<project>.<username>.defang.app` (the suffix is `defang:domainSuffix`).
    /// Absent when the service has no ingress port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// One endpoint per port, in the order of `ports`: the public domain of an ingress port, or
    /// `<service>.<project>.internal:<port>` for a host port.
    pub endpoints: Vec<String>,
    /// The ARN of the ECS service.
    pub service_arn: String,
    /// The ARN of the task definition revision the service runs.
    pub task_definition_arn: String,
    /// The image of the task definition the service runs.
    pub deployed_image: String,
    /// vCPU per task, after rounding `cpus` and `memory` up to a Fargate size.
    pub deployed_cpus: f64,
    /// Memory per task in MiB, after rounding `cpus` and `memory` up to a Fargate size.
    pub deployed_memory: u32,
    /// The number of tasks ECS keeps running.
    pub desired_count: u32,
    /// The number of tasks that were running at the last create, update or refresh.
    pub running_count: u32,
    /// The ECS cluster the service runs in: its project's.
    pub cluster_name: String,
    /// For a service built from source: the hash of its context, Dockerfile, arguments, target and
    /// platform; the image tag in the service's ECR repository. The same hash means no new build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_hash: Option<String>,
}

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

/// The `buildHash` output: secret when any build input is.
///
/// The hash covers the build args' values, and it is a plain SHA-256: for a low-entropy secret
/// (a PIN, a short password) anyone who can read the hash could try every candidate value
/// until one gives it. Two ways out were weighed:
///
/// - a keyed hash (HMAC) needs a key that is stable across runs (Diff compares today's hash
///   with the recorded one; a new key would rebuild every time) and unknown to readers of the
///   state; there is none to derive it from (Diff has no cloud access and sees only the
///   request, whose plaintext the attacker is assumed to lack), and one stored beside the
///   hash would be read with it;
/// - marking the output secret keeps the same value (so an unchanged build keeps its hash and
///   Diff still sees no change) and lets Pulumi encrypt it in the state and hide it in
///   outputs, exactly like the args themselves.
///
/// So: secret. The image tag in ECR is still the plain hash; that is inside the user's AWS
/// account, where the CodeBuild build holds the args in plaintext anyway (and `docker history`
/// shows build args), so it reveals nothing a reader there cannot see directly. Messages
/// leave the hash out for such builds (see `image_build`).
pub fn build_hash_output(inputs: &PropertyMap, hash: &str) -> Value {
    let secret_build = ["build", "platform"]
        .iter()
        .any(|k| inputs.get(*k).is_some_and(Value::contains_secrets));
    match secret_build {
        true => Value::from(hash).into_secret(),
        false => Value::from(hash),
    }
}

pub fn service_outputs(
    inputs: &PropertyMap,
    svc: &ResolvedService,
    env: &Runtime,
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
        Value::from(aws_names::cluster(&svc.project)),
    );
    // A service built from source has its image only once its build is done. A secret
    // `image` stays secret as `deployedImage` (the machinery only carries secretness along the
    // same property path, and this is another one).
    let image = if svc.image.is_empty() {
        Value::Unknown
    } else if inputs.get("image").is_some_and(Value::contains_secrets) {
        Value::from(svc.image.as_str()).into_secret()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeEcs, FakeStacks, env};
    use std::sync::Arc;

    fn outputs_of(inputs: &PropertyMap) -> PropertyMap {
        let (_, svc) = super::super::lifecycle::decode(inputs, "web").unwrap();
        let env = env(
            Arc::new(FakeEcs::default()),
            Arc::new(FakeStacks::with_project("shop")),
        );
        service_outputs(inputs, &svc, &env, Deployed::default())
    }

    fn with_image(image: Value) -> PropertyMap {
        PropertyMap::from([
            ("project".to_string(), Value::from("shop")),
            ("image".to_string(), image),
        ])
    }

    #[test]
    fn a_secret_image_gives_a_secret_deployed_image() {
        let image = "registry.example.com/private/app:token-in-tag";
        let out = outputs_of(&with_image(Value::from(image).into_secret()));
        assert!(
            out["deployedImage"].is_secret(),
            "{:?}",
            out["deployedImage"]
        );
        assert_eq!(out["deployedImage"].as_str(), Some(image));
        let plain = outputs_of(&with_image(Value::from("nginx:1.27")));
        assert_eq!(plain["deployedImage"], Value::from("nginx:1.27"));
    }

    #[test]
    fn build_hash_is_secret_when_a_build_input_is() {
        let build = |arg: Value| {
            PropertyMap::from([(
                "build".to_string(),
                Value::Object(PropertyMap::from([
                    ("context".to_string(), Value::from(".")),
                    (
                        "args".to_string(),
                        Value::Object(PropertyMap::from([("PIN".to_string(), arg)])),
                    ),
                ])),
            )])
        };
        let secret = build_hash_output(&build(Value::from("4711").into_secret()), "abc");
        assert!(secret.is_secret());
        assert_eq!(
            secret.as_str(),
            Some("abc"),
            "the same value: Diff still matches"
        );
        let whole = PropertyMap::from([(
            "build".to_string(),
            Value::Object(PropertyMap::new()).into_secret(),
        )]);
        assert!(build_hash_output(&whole, "abc").is_secret());
        assert_eq!(
            build_hash_output(&build(Value::from("4711")), "abc"),
            Value::from("abc")
        );
    }

    /// What the service sets is what the schema declares (for a running service, with every
    /// output there), so the generated schema and SDKs cannot promise an output it never sets.
    #[test]
    fn outputs_are_the_declared_ones() {
        use super::super::inputs::ServiceInputs;
        use crate::cloud::RolloutState;
        use crate::testing::{assert_outputs_declared, deployment, service_state};
        let ports = Value::Array(vec![Value::Object(PropertyMap::from([(
            "target".to_string(),
            Value::from(80.0),
        )]))]);
        let mut inputs = with_image(Value::from("nginx:1.27"));
        inputs.insert("ports".into(), ports);
        let (_, svc) = super::super::lifecycle::decode(&inputs, "web").unwrap();
        let env = env(
            Arc::new(FakeEcs::default()),
            Arc::new(FakeStacks::with_project("shop")),
        );
        let state = service_state(
            "web",
            1,
            deployment("d-1", RolloutState::Completed, 1, 0, 0),
            &[],
        );
        let deployed = Deployed {
            state: Some(&state),
            task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/shop-web:1"),
            status: Some(ServiceStatus::ServiceDeploymentCompleted),
        };
        let out = service_outputs(&inputs, &svc, &env, deployed);
        assert_outputs_declared::<ServiceInputs, ServiceOutputs>(&out);
        // And in preview, before anything exists.
        assert_outputs_declared::<ServiceInputs, ServiceOutputs>(&outputs_of(&inputs));
    }
}
