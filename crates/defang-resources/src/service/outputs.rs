//! Service outputs: the inputs plus status, domain, endpoints and what was deployed, as one
//! typed [`ServiceOutputs`]. Which inputs each output is computed from is declared once
//! ([`OUTPUT_SOURCES`]): an output is unknown in a preview while one of them is.

use super::domain;
use super::inputs::ResolvedService;
use super::status::ServiceStatus;
use crate::aws_names;
use crate::cloud::ServiceState;
use crate::runtime::Runtime;
use pulumi_plugin::PropertyMap;
use pulumi_plugin::value::to_properties;
use pulumi_plugin::value::{Computed, MaybeSecret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outputs of `defang:index:Service` beyond its inputs (which it echoes), as the schema
/// declares them; `name` is here because the output always has one (the default applied).
///
/// A state may lack what was never deployed (a first build that failed keeps the service in
/// the state without an ECS service) and outputs older versions did not write: those read as
/// unknown, or absent.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOutputs {
    /// The service name: a DNS label without `--` (lowercase letters, digits and '-', starting with
    /// a letter), and the first label of its domains. Defaults to the Pulumi resource name.
    /// Changing it replaces the service.
    #[serde(default)]
    pub name: String,
    /// Where the service's rollout is, as of the last create, update or refresh. A rollout moves
    /// from `UPDATE_QUEUED` to `SERVICE_DEPLOYMENT_PENDING`, then ends in
    /// `SERVICE_DEPLOYMENT_COMPLETED` or `SERVICE_DEPLOYMENT_FAILED`; the `BUILD_*` values belong
    /// to building images from source.
    #[serde(default = "unknown::<ServiceStatus>")]
    pub status: Computed<ServiceStatus>,
    /// The public domain of the service's first ingress port,
    /// `<service>--<port>.<project>.<username>.defang.app` (the suffix is `defang:domainSuffix`).
    /// Absent when the service has no ingress port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// One endpoint per port, in the order of `ports`: the public domain of an ingress port, or
    /// `<service>.<project>.internal:<port>` for a host port.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// The ARN of the ECS service.
    #[serde(default = "unknown::<String>")]
    pub service_arn: Computed<String>,
    /// The ARN of the task definition revision the service runs.
    #[serde(default = "unknown::<String>")]
    pub task_definition_arn: Computed<String>,
    /// The image of the task definition the service runs.
    #[serde(default = "unknown::<MaybeSecret<String>>")]
    pub deployed_image: Computed<MaybeSecret<String>>,
    /// vCPU per task, after rounding `cpus` and `memory` up to a Fargate size.
    #[serde(default)]
    pub deployed_cpus: f64,
    /// Memory per task in MiB, after rounding `cpus` and `memory` up to a Fargate size.
    #[serde(default)]
    pub deployed_memory: u32,
    /// The number of tasks ECS keeps running.
    #[serde(default = "unknown::<u32>")]
    pub desired_count: Computed<u32>,
    /// The number of tasks that were running at the last create, update or refresh.
    #[serde(default = "unknown::<u32>")]
    pub running_count: Computed<u32>,
    /// The ECS cluster the service runs in: its project's.
    #[serde(default)]
    pub cluster_name: String,
    /// For a service built from source: the hash of its context, Dockerfile, arguments, target and
    /// platform; the image tag in the service's ECR repository. The same hash means no new build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_hash: Option<MaybeSecret<String>>,
}

/// What a state that lacks an output says of it.
fn unknown<T>() -> Computed<T> {
    Computed::Unknown
}

/// What is known about the deployment behind the outputs.
#[derive(Default)]
pub struct Deployed<'a> {
    pub state: Option<&'a ServiceState>,
    pub task_definition_arn: Option<&'a str>,
    pub status: Option<ServiceStatus>,
}

/// The inputs a service's names come from.
const NAMES: &[&str] = &["project", "name", "ports"];

/// `(output, the inputs it is computed from)`, for every output the service computes: in a
/// preview, an output is unknown while one of its inputs is, and it is secret when one of them
/// is. Those with no inputs come from what is deployed (unknown until it is).
///
/// `buildHash` covers the build args' values, and it is a plain SHA-256: for a low-entropy
/// secret (a PIN, a short password) anyone who can read the hash could try every candidate
/// value until one gives it. Two ways out were weighed:
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
/// So: secret, as its sources say. The image tag in ECR is still the plain hash; that is inside
/// the user's AWS account, where the CodeBuild build holds the args in plaintext anyway (and
/// `docker history` shows build args), so it reveals nothing a reader there cannot see
/// directly. Messages leave the hash out for such builds (see `image_build`).
///
/// A secret `image` makes `deployedImage` secret (the machinery only carries secretness along
/// the same property path, and this is another one); the image a build pushed is not secret.
pub const OUTPUT_SOURCES: &[(&str, &[&str])] = &[
    ("name", &["name"]),
    ("domain", NAMES),
    ("endpoints", NAMES),
    ("clusterName", &["project"]),
    ("deployedImage", &["image"]),
    ("deployedCpus", &["cpus", "memory"]),
    ("deployedMemory", &["cpus", "memory"]),
    ("desiredCount", &["replicas"]),
    ("buildHash", &["build", "platform"]),
    ("status", &[]),
    ("serviceArn", &[]),
    ("taskDefinitionArn", &[]),
    ("runningCount", &[]),
];

impl ServiceOutputs {
    /// The outputs of `svc` (the checked inputs, resolved) as deployed so far.
    pub fn of(svc: &ResolvedService, env: &Runtime, deployed: Deployed<'_>) -> ServiceOutputs {
        let (username, suffix) = (&env.config.username, &env.config.domain_suffix);
        let zone = svc.adopted_zone.as_deref();
        // Check has already rejected names too long for DNS, so errors do not reach here.
        let domain = domain::service_domain(svc, username, suffix, zone)
            .ok()
            .flatten();
        let mut endpoints =
            domain::service_endpoints(svc, username, suffix, zone).unwrap_or_default();
        if let Some(custom) = &svc.domain_name {
            endpoints.push(format!("https://{custom}"));
        }
        let known = |v: Option<String>| v.map_or(Computed::Unknown, Computed::Known);
        // ECS counts are never negative (its API types them as i32).
        let count = |n: i32| u32::try_from(n).unwrap_or_default();
        ServiceOutputs {
            name: svc.name.clone(),
            status: deployed.status.map_or(Computed::Unknown, Computed::Known),
            domain,
            endpoints,
            service_arn: known(deployed.state.map(|s| s.arn.clone())),
            task_definition_arn: known(deployed.task_definition_arn.map(str::to_string)),
            // Secret when `image` is: see [`OUTPUT_SOURCES`].
            deployed_image: match svc.image.is_empty() {
                true => Computed::Unknown,
                false => Computed::Known(MaybeSecret {
                    value: svc.image.clone(),
                    secret: false,
                }),
            },
            deployed_cpus: svc.size.vcpus(),
            deployed_memory: svc.size.memory_mib,
            desired_count: Computed::Known(
                deployed
                    .state
                    .map_or(svc.replicas, |s| count(s.desired_count)),
            ),
            running_count: deployed.state.map_or(Computed::Unknown, |s| {
                Computed::Known(count(s.running_count))
            }),
            cluster_name: aws_names::cluster(&svc.project),
            build_hash: None,
        }
    }

    /// The outputs of a state that `up` keeps while what it deploys has not replaced them:
    /// those of the last deployment, taken from `old` (or removed when it had none).
    pub fn keep_deployed(outputs: &mut PropertyMap, old: Option<&ServiceOutputs>) {
        let old = old.map(to_properties).unwrap_or_default();
        for key in [
            "serviceArn",
            "taskDefinitionArn",
            "deployedImage",
            "buildHash",
            "desiredCount",
            "runningCount",
        ] {
            match old.get(key).filter(|v| !v.is_unknown()) {
                Some(v) => {
                    outputs.insert(key.into(), v.clone());
                }
                None => {
                    outputs.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeEcs, FakeStacks, env};
    use pulumi_plugin::{Value, derive_secrets, derive_unknowns, state_of};
    use std::sync::Arc;

    /// The state of a service as the kit makes it from the inputs and [`ServiceOutputs`].
    fn service_outputs(
        inputs: &PropertyMap,
        svc: &ResolvedService,
        env: &Runtime,
        deployed: Deployed<'_>,
    ) -> PropertyMap {
        let mut out = state_of(inputs, &ServiceOutputs::of(svc, env, deployed));
        derive_unknowns(OUTPUT_SOURCES, inputs, &mut out);
        derive_secrets(OUTPUT_SOURCES, inputs, &mut out);
        out
    }

    /// The `buildHash` output of a build with `inputs`, as the kit makes it.
    fn build_hash_output(inputs: &PropertyMap, hash: &str) -> Value {
        let mut out = PropertyMap::from([("buildHash".to_string(), Value::from(hash))]);
        derive_secrets(OUTPUT_SOURCES, inputs, &mut out);
        out.remove("buildHash").unwrap()
    }

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
