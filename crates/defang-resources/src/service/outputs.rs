//! Service outputs: the inputs plus status, domain, endpoints and what was deployed. Outputs
//! that depend on inputs not known yet (preview) are unknown themselves.

use super::domain;
use super::inputs::ResolvedService;
use super::status::ServiceStatus;
use crate::aws_names;
use crate::cloud::ServiceState;
use crate::cloud_env::Env;
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
}
