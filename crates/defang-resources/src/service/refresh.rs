//! Refresh and import of a service: what runs in ECS, as outputs and (on import) as inputs;
//! drift made outside Pulumi shows in the inputs so that the next `up` corrects it. The task
//! count of an autoscaled service is the scaler's, never drift.
//!
//! Secretness needs no care here: the machinery marks every refreshed input secret where the
//! old one was (a secret image changed outside Pulumi stays secret), and the outputs computed
//! from secret inputs (see [`super::outputs::OUTPUT_SOURCES`]).

use super::existing_secrets::{AccountScope, value_from};
use super::inputs::{Capacity, ResolvedService, SecretReference, ServiceInputs};
use super::lifecycle::{ecs_failed, parse_id, resolve};
use super::outputs::{Deployed, ServiceOutputs};
use super::rollout::describe_one;
use super::status::rollout_status;
use super::task_definition::inputs_from_task_definition;
use crate::aws_names;
use crate::runtime::Runtime;
use pulumi_plugin::value::MaybeSecret;
use pulumi_plugin::{Context, Error};
use std::collections::BTreeMap;

/// The service of `id` as it runs, or `None` when it is gone: on refresh, `old` holds the
/// inputs and outputs in the state (the live values replace what drifted); on import, there is
/// none and the inputs are what runs.
pub async fn read(
    env: &Runtime,
    id: &str,
    old: Option<(ServiceInputs, ServiceOutputs)>,
    ctx: &Context,
) -> Result<Option<(ServiceInputs, ServiceOutputs)>, Error> {
    let (project, name) = parse_id(id)?;
    let ecs = env.cloud.ecs.as_ref();
    let Some(state) = describe_one(ecs, &aws_names::cluster(project), name).await? else {
        return Ok(None);
    };
    if !state.is_active() {
        return Ok(None);
    }
    let td = ecs
        .describe_task_definition(&state.task_definition_arn)
        .await
        .map_err(ecs_failed)?
        .ok_or_else(|| {
            Error::Failed(format!(
                "service {id} runs task definition {}, which ECS cannot describe",
                state.task_definition_arn
            ))
        })?;
    // The service's own task role is not a `taskRoleArn` of the user's.
    let (_, stack) =
        super::deployed_names::service_stack(env.cloud.stacks.as_ref(), project, name).await?;
    let own_task_role = stack.as_ref().and_then(|s| {
        s.outputs
            .get(super::network_stack::outputs::TASK_ROLE_ARN)
            .cloned()
    });
    let live = inputs_from_task_definition(&td, &state, project, own_task_role.as_deref());
    let (inputs, old_build_hash) = match old {
        // Import: the inputs are what runs.
        None => {
            let mut inputs = live.clone();
            inputs.name = Some(name.to_string());
            (inputs, None)
        }
        Some((old_inputs, old_outputs)) => {
            let mut inputs = with_drift(&old_inputs, &live, name);
            // Names of the user's secrets mean the execution role's account and this region.
            let scope = td
                .spec
                .execution_role_arn
                .as_deref()
                .and_then(|role| AccountScope::of_role(role, &env.cloud.region));
            if let Ok(old) = old_inputs.resolved(name) {
                if let Some(scope) = scope {
                    secrets_drift(&mut inputs, &old, &live, &scope);
                }
                // Autoscaling and the role's policies, from Application Auto Scaling and IAM.
                let own_role = own_task_role.as_deref();
                super::stack_drift::apply(env, ctx, &mut inputs, &old, &live, own_role).await?;
            }
            (inputs, old_outputs.build_hash)
        }
    };
    let mut svc = resolve(&inputs, name)?;
    if svc.build.is_some()
        && let Some(running) = &live.image
    {
        // Built from source: what runs is the image its build pushed (`deployedImage`).
        svc.image = running.clone();
    }
    svc.adopted_zone = super::plan::existing_adopted_zone(env, project).await;
    let deployment = state.primary_deployment().map(|d| d.id.clone());
    let status = rollout_status(&state, deployment.as_deref());
    let mut outputs = ServiceOutputs::of(
        &svc,
        env,
        Deployed {
            state: Some(&state),
            task_definition_arn: Some(&state.task_definition_arn),
            status: Some(status),
        },
    );
    // The build hash (the image's tag) cannot be read back from the digest that runs: the one
    // recorded by the last deploy is kept, so that an unchanged source still means no build.
    if svc.build.is_some() {
        outputs.build_hash = old_build_hash;
    }
    Ok(Some((inputs, outputs)))
}

/// The user's inputs with what changed outside Pulumi (replicas, image, environment, the
/// container's and the service's settings, the task role) replaced by the live values, so that
/// refresh shows the drift and the next `up` corrects it; references to existing secrets are
/// compared in [`secrets_drift`]; the autoscaling range and the policies of the service's own
/// role, which are not ECS's, in [`super::stack_drift`].
fn with_drift(
    old_inputs: &ServiceInputs,
    live: &ServiceInputs,
    resource_name: &str,
) -> ServiceInputs {
    let mut inputs = old_inputs.clone();
    let Ok(old) = old_inputs.resolved(resource_name) else {
        return inputs;
    };
    settings_drift(&mut inputs, &old, live);
    // With autoscaling the scaler owns the count: the live one is the `desiredCount` output,
    // not drift (an input would fight the scaler at the next `up`).
    let live_replicas = live.replicas.unwrap_or(1);
    if old.autoscaling.is_none() && live_replicas != old.replicas {
        inputs.replicas = Some(live_replicas);
    }
    // Fargate Spot or on-demand changed outside Pulumi (compared as strategies).
    let strategy = |c: &Option<Capacity>| {
        let mut probe = old.clone();
        probe.capacity = c.clone();
        super::scaling::capacity_strategy(&probe)
    };
    if strategy(&old.capacity) != strategy(&live.capacity) {
        inputs.capacity = live.capacity.clone();
    }
    // A service built from source runs the image its build pushed (`repo@sha256:…`): that is
    // `deployedImage`, an output, never an `image` input beside `build` (which Check refuses).
    if old.build.is_none()
        && let Some(image) = &live.image
        && *image != old.image
    {
        inputs.image = Some(image.clone());
    }
    // Secret values are referenced from SSM and cannot be read back: only plain values are
    // compared, and the user's secret ones are kept as they are.
    let plain = |env: &BTreeMap<String, MaybeSecret<String>>| -> BTreeMap<String, String> {
        env.iter()
            .filter(|(_, v)| !v.secret)
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    };
    if plain(&live.environment) != plain(&old_inputs.environment) {
        let secrets = old_inputs.environment.iter().filter(|(_, v)| v.secret);
        inputs.environment = live
            .environment
            .iter()
            .chain(secrets)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    inputs
}

/// References to the user's own secrets, compared as what ECS reads (`valueFrom`: a name and
/// its ARN are the same reference): one changed, added or removed outside Pulumi shows as
/// drift, by ARN, so that the next `up` puts back what the program says.
fn secrets_drift(
    inputs: &mut ServiceInputs,
    old: &ResolvedService,
    live: &ServiceInputs,
    scope: &AccountScope,
) {
    let read = |refs: &BTreeMap<String, SecretReference>| {
        refs.iter()
            .map(|(var, r)| (var.clone(), value_from(r, scope)))
            .collect::<BTreeMap<_, _>>()
    };
    if read(&old.secrets) != read(&live.secrets) {
        inputs.secrets = live.secrets.clone();
    }
}

/// Drift of the settings compared as they take effect (an unset flag is false, an unset
/// grace period behind a load balancer is the default): a changed one gets the live value, one
/// that went back to the default is removed.
fn settings_drift(inputs: &mut ServiceInputs, old: &ResolvedService, live: &ServiceInputs) {
    fn set<T: Clone + PartialEq>(input: &mut Option<T>, was: &Option<T>, now: &Option<T>) {
        if was != now {
            input.clone_from(now);
        }
    }
    set(&mut inputs.working_dir, &old.working_dir, &live.working_dir);
    set(&mut inputs.user, &old.user, &live.user);
    set(
        &mut inputs.task_role_arn,
        &old.task_role_arn,
        &live.task_role_arn,
    );
    set(
        &mut inputs.stop_grace_period,
        &old.stop_grace_period,
        &live.stop_grace_period,
    );
    set(
        &mut inputs.ephemeral_storage,
        &old.ephemeral_storage,
        &live.ephemeral_storage,
    );
    for (input, was, now) in [
        (
            &mut inputs.readonly_root_filesystem,
            old.readonly_root_filesystem,
            live.readonly_root_filesystem,
        ),
        (&mut inputs.init, old.init, live.init),
        (&mut inputs.enable_exec, old.enable_exec, live.enable_exec),
    ] {
        let now = now.unwrap_or(false);
        if was != now {
            *input = Some(now);
        }
    }
    // Only a load-balanced service has one (ECS's to keep).
    if let Some(now) = live.health_check_grace_period {
        let was = old
            .health_check_grace_period
            .unwrap_or(super::lifecycle::DEFAULT_HEALTH_CHECK_GRACE_PERIOD);
        if was != now {
            inputs.health_check_grace_period = Some(now);
        }
    }
}

#[cfg(test)]
mod drift_tests {
    use super::*;
    use crate::service::lifecycle::decode;
    use pulumi_plugin::value::{Computed, from_properties, propagate_secrets, to_properties};
    use pulumi_plugin::{PropertyMap, Value};

    /// [`super::with_drift`] as refresh's answer reaches the engine: as properties, secret where
    /// the old inputs were.
    fn with_drift(old_inputs: &PropertyMap, live: &ServiceInputs, name: &str) -> PropertyMap {
        let old: ServiceInputs = from_properties(old_inputs).unwrap();
        let mut inputs = to_properties(&super::with_drift(&old, live, name));
        propagate_secrets(old_inputs, &mut inputs);
        inputs
    }

    /// [`super::secrets_drift`] over properties.
    fn secrets_drift(
        inputs: &mut PropertyMap,
        old: &ResolvedService,
        live: &ServiceInputs,
        scope: &AccountScope,
    ) {
        let mut typed: ServiceInputs = from_properties(inputs).unwrap();
        super::secrets_drift(&mut typed, old, live, scope);
        *inputs = to_properties(&typed);
    }

    fn plain(value: &str) -> MaybeSecret<String> {
        MaybeSecret {
            value: value.into(),
            secret: false,
        }
    }

    /// Refresh: a plain value changed outside Pulumi shows as drift; the secret value, which
    /// cannot be read back from SSM references, is kept (and stays secret).
    #[test]
    fn refresh_keeps_secret_values() {
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web"), ("image", "nginx")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert(
            "environment".into(),
            Value::Object(PropertyMap::from([
                ("PLAIN".to_string(), Value::from("1")),
                ("TOKEN".to_string(), Value::from("hunter2").into_secret()),
            ])),
        );
        let live = ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some("nginx".into()),
            replicas: Some(1),
            environment: [("PLAIN".to_string(), plain("1"))].into(),
            ..Default::default()
        };
        assert_eq!(
            with_drift(&old_inputs, &live, "web"),
            old_inputs,
            "no drift"
        );

        let drifted = ServiceInputs {
            environment: [("PLAIN".to_string(), plain("2"))].into(),
            ..live
        };
        let inputs = with_drift(&old_inputs, &drifted, "web");
        let Value::Object(env) = &inputs["environment"] else {
            panic!("{inputs:?}")
        };
        assert_eq!(env["PLAIN"], Value::from("2"));
        assert_eq!(env["TOKEN"], Value::from("hunter2").into_secret());
    }

    /// Refresh of a service built from source: ECS runs the built image (`repo@sha256:…`),
    /// which is not an `image` input, and must not become one beside `build` (Check refuses
    /// both, so refresh failed to decode its own result).
    #[test]
    fn refresh_of_a_built_service_keeps_build_and_adds_no_image() {
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert(
            "build".into(),
            Value::Object(PropertyMap::from([(
                "context".to_string(),
                Value::from("./app"),
            )])),
        );
        let live = ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/defang/shop/web@sha256:ab".into(),
            ),
            replicas: Some(1),
            ..Default::default()
        };
        let inputs = with_drift(&old_inputs, &live, "web");
        assert_eq!(inputs, old_inputs, "no drift in the inputs");
        decode(&inputs, "web").expect("refresh's inputs decode");
        // Replicas changed outside Pulumi still show.
        let scaled = ServiceInputs {
            replicas: Some(3),
            ..live
        };
        let inputs = with_drift(&old_inputs, &scaled, "web");
        assert_eq!(inputs["replicas"], Value::Number(3.0));
        assert!(!inputs.contains_key("image"), "{inputs:?}");
        decode(&inputs, "web").expect("refresh's inputs decode");
    }

    /// With autoscaling, the count the scaler chose is not drift: refresh keeps the inputs
    /// (no `replicas` beside `autoscaling`, which Check would refuse).
    #[test]
    fn an_autoscaled_count_is_not_drift() {
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web"), ("image", "nginx")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert(
            "autoscaling".into(),
            Value::Object(PropertyMap::from([
                ("min".to_string(), Value::Number(1.0)),
                ("max".to_string(), Value::Number(8.0)),
                ("targetCpu".to_string(), Value::Number(70.0)),
            ])),
        );
        let live = ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some("nginx".into()),
            replicas: Some(6),
            ..Default::default()
        };
        let inputs = with_drift(&old_inputs, &live, "web");
        assert_eq!(inputs, old_inputs, "no drift");
        decode(&inputs, "web").expect("refresh's inputs decode");
        // Without autoscaling the same count is drift.
        old_inputs.remove("autoscaling");
        let inputs = with_drift(&old_inputs, &live, "web");
        assert_eq!(inputs["replicas"], Value::Number(6.0));
    }

    /// An image changed outside Pulumi: a secret image reference stays secret in the inputs
    /// refresh records (and so in `deployedImage`).
    #[test]
    fn a_drifted_secret_image_stays_secret() {
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert(
            "image".into(),
            Value::from("registry.example.com/private/web:1").into_secret(),
        );
        let live = ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some("registry.example.com/private/web:2".into()),
            replicas: Some(1),
            ..Default::default()
        };
        let inputs = with_drift(&old_inputs, &live, "web");
        assert_eq!(
            inputs["image"],
            Value::from("registry.example.com/private/web:2").into_secret()
        );
    }

    /// The container's and the service's settings changed outside Pulumi show as drift; unset
    /// ones that are still at their defaults do not.
    #[test]
    fn settings_drift_shows_and_defaults_do_not() {
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web"), ("image", "nginx")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert("workingDir".into(), Value::from("/srv"));
        let live = ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some("nginx".into()),
            replicas: Some(1),
            working_dir: Some("/srv".into()),
            // What a load-balanced service has by default.
            health_check_grace_period: Some(60),
            ..Default::default()
        };
        assert_eq!(
            with_drift(&old_inputs, &live, "web"),
            old_inputs,
            "no drift"
        );

        let drifted = ServiceInputs {
            working_dir: None,
            user: Some("root".into()),
            stop_grace_period: Some(10),
            readonly_root_filesystem: Some(true),
            enable_exec: Some(true),
            health_check_grace_period: Some(5),
            task_role_arn: Some("arn:aws:iam::123456789012:role/other".into()),
            ..live
        };
        let inputs = with_drift(&old_inputs, &drifted, "web");
        assert!(!inputs.contains_key("workingDir"), "{inputs:?}");
        assert_eq!(inputs["user"], Value::from("root"));
        assert_eq!(inputs["stopGracePeriod"], Value::Number(10.0));
        assert_eq!(inputs["readonlyRootFilesystem"], Value::Bool(true));
        assert_eq!(inputs["enableExec"], Value::Bool(true));
        assert_eq!(inputs["healthCheckGracePeriod"], Value::Number(5.0));
        assert_eq!(
            inputs["taskRoleArn"],
            Value::from("arn:aws:iam::123456789012:role/other")
        );
        assert!(!inputs.contains_key("init"), "unchanged: {inputs:?}");
        decode(&inputs, "web").expect("refresh's inputs decode");
    }

    /// References to the user's secrets: a name and its ARN are the same reference (no drift);
    /// one repointed or removed outside Pulumi is drift, shown by ARN.
    #[test]
    fn secret_references_drift_by_what_ecs_reads() {
        use crate::service::existing_secrets::reference_from;
        let scope = AccountScope::of_role("arn:aws:iam::123456789012:role/x", "us-east-1").unwrap();
        let mut old_inputs = PropertyMap::new();
        for (k, v) in [("project", "shop"), ("name", "web"), ("image", "nginx")] {
            old_inputs.insert(k.into(), Value::from(v));
        }
        old_inputs.insert(
            "secrets".into(),
            Value::Object(PropertyMap::from([(
                "DB".to_string(),
                Value::Object(PropertyMap::from([(
                    "ssm".to_string(),
                    Value::from("/app/db"),
                )])),
            )])),
        );
        let (_, old) = decode(&old_inputs, "web").unwrap();
        let live_with = |value_from: &str| ServiceInputs {
            project: Computed::Known("shop".into()),
            image: Some("nginx".into()),
            replicas: Some(1),
            secrets: [(
                "DB".to_string(),
                reference_from(value_from, "/defang/shop/web/").unwrap(),
            )]
            .into(),
            ..Default::default()
        };
        let same = live_with("arn:aws:ssm:us-east-1:123456789012:parameter/app/db");
        let mut inputs = old_inputs.clone();
        secrets_drift(&mut inputs, &old, &same, &scope);
        assert_eq!(inputs, old_inputs, "the name and its ARN: no drift");

        let moved = live_with("arn:aws:ssm:us-east-1:123456789012:parameter/app/other");
        secrets_drift(&mut inputs, &old, &moved, &scope);
        assert_eq!(
            inputs["secrets"],
            Value::Object(PropertyMap::from([(
                "DB".to_string(),
                Value::Object(PropertyMap::from([(
                    "ssm".to_string(),
                    Value::from("arn:aws:ssm:us-east-1:123456789012:parameter/app/other"),
                )])),
            )]))
        );
        decode(&inputs, "web").expect("refresh's inputs decode");

        let removed = ServiceInputs {
            secrets: Default::default(),
            ..same
        };
        let mut inputs = old_inputs.clone();
        secrets_drift(&mut inputs, &old, &removed, &scope);
        assert!(!inputs.contains_key("secrets"), "{inputs:?}");
    }
}
