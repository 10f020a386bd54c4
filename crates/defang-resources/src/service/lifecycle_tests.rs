//! Lifecycle behaviour the emulator cannot produce, on scripted fakes.

use super::lifecycle::TOKEN;
use crate::cloud::RolloutState;
use crate::testing::*;
use pulumi_plugin::value::properties_from_struct;
use pulumi_plugin::{PropertyMap, Value};
use std::sync::Arc;
use std::time::Duration;

fn inputs() -> PropertyMap {
    service_inputs("web", vec![])
}

#[tokio::test(start_paused = true)]
async fn failed_rollout_is_recorded_as_failed_with_the_reason() {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().extend([
        service_state(
            "web",
            0,
            deployment("d-1", RolloutState::InProgress, 0, 1, 0),
            &[],
        ),
        service_state(
            "web",
            0,
            deployment("d-1", RolloutState::Failed, 0, 0, 3),
            &[
                "(service web) deployment failed: tasks failed to start.",
                "(service web) task stopped: CannotPullContainerError: pull image manifest unknown",
            ],
        ),
    ]);
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await;
    let err = driver.create(TOKEN, "web", &inputs()).await.unwrap_err();
    let state = partial_failure(&err);
    assert_eq!(state.id, "shop/web");
    assert_eq!(
        state.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_FAILED")
    );
    let reason = state.reasons.join(" ");
    assert!(reason.contains("CannotPullContainerError"), "{reason}");
    assert!(
        ecs.calls
            .lock()
            .unwrap()
            .iter()
            .all(|c| c != "DeleteService"),
        "a failed rollout keeps the service (circuit breaker rolls back)"
    );
}

#[tokio::test(start_paused = true)]
async fn statuses_progress_to_completed() {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().extend([
        service_state(
            "web",
            0,
            deployment("d-1", RolloutState::InProgress, 0, 0, 0),
            &[],
        ),
        service_state(
            "web",
            0,
            deployment("d-1", RolloutState::InProgress, 0, 1, 0),
            &[],
        ),
        service_state(
            "web",
            1,
            deployment("d-1", RolloutState::Completed, 1, 0, 0),
            &[],
        ),
    ]);
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await;
    let created = driver
        .create(TOKEN, "web", &inputs())
        .await
        .expect("create");
    assert_eq!(
        created.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
    assert_eq!(created.outputs["runningCount"], Value::Number(1.0));
}

#[tokio::test(start_paused = true)]
async fn timeout_bounds_the_wait() {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().extend([service_state(
        "web",
        0,
        deployment("d-1", RolloutState::InProgress, 0, 1, 0),
        &[],
    )]);
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud)
        .await
        .with_timeout(Duration::from_secs(600));
    let started = tokio::time::Instant::now();
    let err = driver.create(TOKEN, "web", &inputs()).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(600) && waited < Duration::from_secs(620),
        "{waited:?}"
    );
    let state = partial_failure(&err);
    assert_eq!(
        state.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_PENDING")
    );
    // One poll a tick while the wait is young, then one a slow tick: never more.
    let polls = ecs
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count();
    let c = crate::poller::cadence::Cadence::default();
    let expected = (c.slow_after.as_secs_f64() / c.tick.as_secs_f64()
        + (600.0 - c.slow_after.as_secs_f64()) / c.slow_tick.as_secs_f64())
        as usize;
    assert!(
        polls <= expected + 3 && polls + 5 >= expected,
        "{polls} polls in 10 minutes, expected about {expected}"
    );
}

/// Twenty services deploying at once share the poller: DescribeServices is called once per
/// ten services per round, not once per service per round.
#[tokio::test(start_paused = true)]
async fn concurrent_rollouts_share_batched_polls() {
    let ecs = Arc::new(FakeEcs::default());
    let names: Vec<String> = (0..20).map(|i| format!("svc{i}")).collect();
    for name in &names {
        let mut steps = vec![
            service_state(
                name,
                0,
                deployment("d-1", RolloutState::InProgress, 0, 1, 0),
                &[]
            );
            5
        ];
        steps.push(service_state(
            name,
            1,
            deployment("d-1", RolloutState::Completed, 1, 0, 0),
            &[],
        ));
        ecs.scripts
            .lock()
            .unwrap()
            .insert(name.clone(), steps.into_iter().collect());
    }
    let driver =
        Arc::new(driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await);
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let driver = driver.clone();
            let name = name.clone();
            let mut inputs = inputs();
            inputs.insert("name".into(), Value::from(name.as_str()));
            tokio::spawn(async move { driver.create(TOKEN, &name, &inputs).await })
        })
        .collect();
    for t in tasks {
        let created = t.await.unwrap().expect("create");
        assert_eq!(
            created.outputs["status"],
            Value::from("SERVICE_DEPLOYMENT_COMPLETED")
        );
    }
    let calls = ecs.calls.lock().unwrap().clone();
    let total = calls.iter().filter(|c| *c == "DescribeServices").count();
    let batched = calls
        .iter()
        .filter(|c| *c == "DescribeServices x10")
        .count();
    // Each create first looks for an existing service (one call each, 20); then polling
    // rounds describe 10 services a call: 6 rounds (5 in progress, 1 completing) × 2.
    println!(
        "DescribeServices calls while 20 services deployed at once: {total} ({} existence checks, {} poll calls of 10)",
        total - batched,
        batched
    );
    assert_eq!(total - batched, 20, "{calls:?}");
    assert!(batched <= 12, "{batched} batched calls");
}

fn completed(name: &str) -> crate::cloud::ServiceState {
    service_state(
        name,
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    )
}

fn with_environment(mut inputs: PropertyMap, token: &str) -> PropertyMap {
    let environment: PropertyMap = [
        ("PLAIN".to_string(), Value::from("visible")),
        ("TOKEN".to_string(), Value::from(token).into_secret()),
    ]
    .into_iter()
    .collect();
    inputs.insert("environment".into(), Value::Object(environment));
    inputs
}

/// Secret environment values go to SSM; the task definition references them, a changed value
/// is a new parameter version and a new revision (the old version stays for running tasks and
/// rollbacks until the rollout completes), and delete removes the parameters.
#[tokio::test(start_paused = true)]
async fn secret_environment_values_live_in_ssm() {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().push_back(completed("web"));
    let parameters = Arc::new(FakeParameters::default());
    let driver = driver(
        env_with_parameters(
            ecs.clone(),
            Arc::new(FakeStacks::with_project("shop")),
            parameters.clone(),
        )
        .cloud,
    )
    .await;
    let name = "/defang/shop/web/TOKEN/v1";
    let name_v2 = "/defang/shop/web/TOKEN/v2";

    // Create.
    let created = driver
        .create(TOKEN, "web", &with_environment(inputs(), "hunter2"))
        .await
        .expect("create");
    assert_eq!(
        parameters
            .values
            .lock()
            .unwrap()
            .get(name)
            .map(|v| v.0.as_str()),
        Some("hunter2")
    );
    let tds = ecs.task_definitions.lock().unwrap().clone();
    assert_eq!(tds.len(), 1);
    let (td_arn, spec) = tds.iter().next().unwrap();
    assert_eq!(
        spec.container.secrets,
        vec![("TOKEN".to_string(), FakeParameters::arn(name))]
    );
    assert_eq!(
        spec.container.environment,
        vec![("PLAIN".to_string(), "visible".to_string())]
    );
    assert!(!format!("{spec:?}").contains("hunter2"));
    assert!(
        matches!(&created.outputs["environment"], Value::Object(m) if m["TOKEN"].is_secret()),
        "the output stays secret"
    );

    // Update of only the secret value: a new version in SSM and a new revision; version 1 is
    // never overwritten, and goes only once the rollout completed.
    parameters.calls.lock().unwrap().clear();
    let news = with_environment(inputs(), "correct-horse");
    let updated = driver.update(&created, &news).await.expect("update");
    assert_eq!(
        parameters
            .values
            .lock()
            .unwrap()
            .get(name_v2)
            .map(|v| v.0.as_str()),
        Some("correct-horse")
    );
    let calls = parameters.calls.lock().unwrap().clone();
    assert!(
        !calls.contains(&format!("PutParameter {name}")),
        "version 1 overwritten: {calls:?}"
    );
    let put = calls
        .iter()
        .position(|c| *c == format!("PutParameter {name_v2}"));
    let pruned = calls.iter().position(|c| c.starts_with("DeleteByPath"));
    assert!(put < pruned, "pruned only after the rollout: {calls:?}");
    assert!(!parameters.values.lock().unwrap().contains_key(name));
    let tds = ecs.task_definitions.lock().unwrap().clone();
    assert_eq!(tds.len(), 2, "a new revision");
    let last = ecs.updates.lock().unwrap().last().cloned().unwrap();
    assert!(!last.force_new_deployment, "{last:?}");
    assert_ne!(last.task_definition_arn.as_deref(), Some(td_arn.as_str()));
    let new_spec = &tds[last.task_definition_arn.as_deref().unwrap()];
    assert_eq!(
        new_spec.container.secrets,
        vec![("TOKEN".to_string(), FakeParameters::arn(name_v2))]
    );

    // A secret that is no longer secret: its parameter goes once the rollout completed.
    let mut plain_too = news.clone();
    plain_too.insert(
        "environment".into(),
        Value::Object(
            [
                ("PLAIN".to_string(), Value::from("visible")),
                (
                    "TOKEN".to_string(),
                    Value::from("correct-horse").into_secret(),
                ),
                ("OLD".to_string(), Value::from("now-plain")),
            ]
            .into_iter()
            .collect(),
        ),
    );
    parameters
        .values
        .lock()
        .unwrap()
        .insert("/defang/shop/web/OLD".into(), ("was-secret".into(), vec![]));
    let updated = driver.update(&updated, &plain_too).await.expect("update");
    let names: Vec<String> = parameters.values.lock().unwrap().keys().cloned().collect();
    assert_eq!(
        names,
        vec![name_v2.to_string()],
        "unused parameters are pruned"
    );

    // An update that changes no secret does not force a deployment. (The Update alone: with
    // the inputs unchanged, Diff finds no change and the `update` step would send none.)
    driver
        .send_update(&updated, &plain_too, false)
        .await
        .expect("update");
    assert!(
        !ecs.updates
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .force_new_deployment
    );

    // Delete removes the parameters (after the service).
    parameters
        .values
        .lock()
        .unwrap()
        .insert("/defang/shop/web2/KEEP".into(), ("x".into(), vec![]));
    driver.delete(&updated).await.expect("delete");
    let left: Vec<String> = parameters.values.lock().unwrap().keys().cloned().collect();
    assert_eq!(left, vec!["/defang/shop/web2/KEEP".to_string()]);
    assert!(
        parameters
            .calls
            .lock()
            .unwrap()
            .contains(&"DeleteByPath /defang/shop/web/".to_string())
    );
}

/// A preview of many services of one project reads the project stack once (it used to be
/// once in Check and once or twice more in the planned outputs, per service).
#[tokio::test(start_paused = true)]
async fn a_preview_of_many_services_reads_the_project_once() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    // A project of this version, without a load balancer yet: the first ingress port is a
    // warning in preview, which reads the project too.
    stacks
        .stacks
        .lock()
        .unwrap()
        .get_mut("defang-shop")
        .unwrap()
        .outputs
        .insert(
            crate::project::template::outputs::LOAD_BALANCER_POLICY.into(),
            "auto".into(),
        );
    let driver = Arc::new(driver(env(Arc::new(FakeEcs::default()), stacks.clone()).cloud).await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let driver = driver.clone();
            tokio::spawn(async move {
                let name = format!("svc{i}");
                let inputs = service_inputs(
                    &name,
                    vec![(
                        "ports",
                        pulumi_plugin::value::from_json(serde_json::json!([{"target": 80}])),
                    )],
                );
                // Check, then the create with `preview` set: a Check that fails stops it.
                driver
                    .preview_create(TOKEN, &name, &inputs)
                    .await
                    .expect("preview")
            })
        })
        .collect();
    for t in tasks {
        let planned = t.await.unwrap();
        assert!(planned.outputs.contains_key("domain"));
    }
    let describes = stacks
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "DescribeStacks")
        .count();
    assert_eq!(describes, 1, "one project lookup for 50 services");
}

/// Creating a service describes CloudFormation stacks four times: the project, the service's
/// stack under its name and its 0.1 name (both missing), and once after CreateStack. The
/// deploy's own lookup is reused by the apply (it used to describe the missing stack again).
#[tokio::test(start_paused = true)]
async fn a_create_describes_stacks_four_times() {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().extend([service_state(
        "web",
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    )]);
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let driver = driver(env(ecs, stacks.clone()).cloud).await;
    // The engine's Check, then its Create alone: the calls counted are the Create's (Check
    // reads the project too, for itself).
    let checked = driver
        .check(TOKEN, "web", &PropertyMap::new(), &inputs())
        .await
        .expect("check");
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    stacks.calls.lock().unwrap().clear();
    let checked = properties_from_struct(checked.inputs.as_ref());
    driver
        .send_create(TOKEN, "web", &checked, false)
        .await
        .expect("create");
    let calls = stacks.calls.lock().unwrap().clone();
    let describes = calls.iter().filter(|c| *c == "DescribeStacks").count();
    assert_eq!(describes, 4, "{calls:?}");
}

/// A preview whose inputs cannot be decoded yet (a port not known) plans every computed output
/// as unknown, and keeps the inputs; not an error, which would stop the whole preview.
#[tokio::test]
async fn a_preview_with_an_unknown_port_has_every_computed_output_unknown() {
    let ecs = Arc::new(FakeEcs::default());
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await;
    let inputs = service_inputs("web", vec![("ports", Value::Array(vec![Value::Unknown]))]);
    let planned = driver
        .preview_create(TOKEN, "web", &inputs)
        .await
        .expect("a preview");
    for output in [
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
    ] {
        assert_eq!(planned.outputs[output], Value::Unknown, "{output}");
    }
    assert_eq!(planned.outputs["name"], Value::from("web"));
    assert_eq!(planned.outputs["image"], Value::from("nginx"));
    assert_eq!(
        *ecs.calls.lock().unwrap(),
        Vec::<String>::new(),
        "a preview touches nothing"
    );
}

/// A state with only some outputs (written by an older version, or a first deploy that never
/// got far) still deletes: what it lacks reads as not deployed.
#[tokio::test(start_paused = true)]
async fn a_sparse_state_still_deletes() {
    let ecs = Arc::new(FakeEcs::default());
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await;
    let sparse = service_in_state(
        "web",
        "shop/web",
        PropertyMap::from([("project".to_string(), Value::from("shop"))]),
        PropertyMap::from([("status".to_string(), Value::from("BUILD_FAILED"))]),
    );
    driver.delete(&sparse).await.expect("delete");
    assert!(
        ecs.calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.starts_with("DeleteService")),
        "{:?}",
        ecs.calls.lock().unwrap()
    );
}
