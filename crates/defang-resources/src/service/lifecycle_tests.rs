//! Lifecycle behaviour the emulator cannot produce, on scripted fakes.

use crate::cloud::RolloutState;
use crate::testing::service::create;
use crate::testing::*;
use pulumi_plugin::{CreateRequest, Error, PropertyMap, Value};
use std::sync::Arc;
use std::time::Duration;

const URN: &str = "urn:pulumi:t::p::defang:index:Service::web";

fn request() -> CreateRequest {
    service_create("web", vec![])
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
    let env = env(ecs.clone(), Arc::new(FakeStacks::with_project("shop")));
    let err = create(&env, request(), context(None)).await.unwrap_err();
    let Error::ResourceInitFailed(state) = err else {
        panic!("not a partial failure: {err:?}")
    };
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
    let env = env(ecs.clone(), Arc::new(FakeStacks::with_project("shop")));
    let created = create(&env, request(), context(None))
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
    let env = env(ecs.clone(), Arc::new(FakeStacks::with_project("shop")));
    let started = tokio::time::Instant::now();
    let err = create(&env, request(), context(Some(Duration::from_secs(600))))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(600) && waited < Duration::from_secs(620),
        "{waited:?}"
    );
    let Error::ResourceInitFailed(state) = err else {
        panic!("{err:?}")
    };
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
    let env = Arc::new(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))));
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let env = env.clone();
            let mut req = request();
            req.inputs.insert("name".into(), Value::from(name.as_str()));
            req.urn = format!("urn:pulumi:t::p::defang:index:Service::{name}");
            tokio::spawn(async move { create(&env, req, context(None)).await })
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

fn with_environment(mut req: CreateRequest, token: &str) -> CreateRequest {
    let environment: PropertyMap = [
        ("PLAIN".to_string(), Value::from("visible")),
        ("TOKEN".to_string(), Value::from(token).into_secret()),
    ]
    .into_iter()
    .collect();
    req.inputs
        .insert("environment".into(), Value::Object(environment));
    req
}

/// Secret environment values go to SSM; the task definition references them, a changed value
/// is a new parameter version and a new revision (the old version stays for running tasks and
/// rollbacks until the rollout completes), and delete removes the parameters.
#[tokio::test(start_paused = true)]
async fn secret_environment_values_live_in_ssm() {
    use crate::testing::service::{delete, update};
    use pulumi_plugin::{DeleteRequest, UpdateRequest};

    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().push_back(completed("web"));
    let parameters = Arc::new(FakeParameters::default());
    let env = env_with_parameters(
        ecs.clone(),
        Arc::new(FakeStacks::with_project("shop")),
        parameters.clone(),
    );
    let name = "/defang/shop/web/TOKEN/v1";
    let name_v2 = "/defang/shop/web/TOKEN/v2";

    // Create.
    let req = with_environment(request(), "hunter2");
    let created = create(&env, req.clone(), context(None))
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
    let news = with_environment(request(), "correct-horse").inputs;
    let outputs = update(
        &env,
        UpdateRequest {
            id: created.id.clone(),
            urn: URN.into(),
            name: "web".into(),
            type_token: super::lifecycle::TOKEN.into(),
            old_outputs: created.outputs.clone(),
            old_inputs: req.inputs.clone(),
            news: news.clone(),
            timeout: None,
            preview: false,
        },
        context(None),
    )
    .await
    .expect("update");
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
    let outputs = update(
        &env,
        UpdateRequest {
            id: created.id.clone(),
            urn: URN.into(),
            name: "web".into(),
            type_token: super::lifecycle::TOKEN.into(),
            old_outputs: outputs,
            old_inputs: news.clone(),
            news: plain_too.clone(),
            timeout: None,
            preview: false,
        },
        context(None),
    )
    .await
    .expect("update");
    let names: Vec<String> = parameters.values.lock().unwrap().keys().cloned().collect();
    assert_eq!(
        names,
        vec![name_v2.to_string()],
        "unused parameters are pruned"
    );
    let news = plain_too;

    // An update that changes no secret does not force a deployment.
    update(
        &env,
        UpdateRequest {
            id: created.id.clone(),
            urn: URN.into(),
            name: "web".into(),
            type_token: super::lifecycle::TOKEN.into(),
            old_outputs: outputs.clone(),
            old_inputs: news.clone(),
            news: news.clone(),
            timeout: None,
            preview: false,
        },
        context(None),
    )
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
    delete(
        &env,
        DeleteRequest {
            id: created.id.clone(),
            urn: URN.into(),
            name: "web".into(),
            type_token: super::lifecycle::TOKEN.into(),
            old_outputs: outputs,
            old_inputs: news,
            timeout: None,
        },
        context(None),
    )
    .await
    .expect("delete");
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
    let env = Arc::new(env(Arc::new(FakeEcs::default()), stacks.clone()));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let env = env.clone();
            tokio::spawn(async move {
                let mut req = service_create(
                    &format!("svc{i}"),
                    vec![(
                        "ports",
                        pulumi_plugin::value::from_json(serde_json::json!([{"target": 80}])),
                    )],
                );
                let checked =
                    crate::testing::service::check(Some(&env), &service_check(&req)).await;
                assert!(checked.failures.is_empty(), "{:?}", checked.failures);
                req.preview = true;
                req.inputs = checked.inputs;
                create(&env, req, context(None)).await.expect("preview")
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
    let env = env(ecs, stacks.clone());
    create(&env, request(), context(None))
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
    let env = env(ecs.clone(), Arc::new(FakeStacks::with_project("shop")));
    let mut req = service_create("web", vec![("ports", Value::Array(vec![Value::Unknown]))]);
    req.preview = true;
    let planned = create(&env, req, context(None)).await.expect("a preview");
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
    use crate::testing::service::delete;
    let ecs = Arc::new(FakeEcs::default());
    let env = env(ecs.clone(), Arc::new(FakeStacks::with_project("shop")));
    let req = pulumi_plugin::DeleteRequest {
        id: "shop/web".into(),
        urn: URN.into(),
        name: "web".into(),
        type_token: crate::service::lifecycle::TOKEN.into(),
        old_outputs: PropertyMap::from([("status".to_string(), Value::from("BUILD_FAILED"))]),
        old_inputs: PropertyMap::from([("project".to_string(), Value::from("shop"))]),
        timeout: None,
    };
    delete(&env, req, context(None)).await.expect("delete");
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
