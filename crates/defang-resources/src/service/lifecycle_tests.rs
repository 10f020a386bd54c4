//! Lifecycle behaviour the emulator cannot produce, on scripted fakes.

use super::lifecycle::create;
use crate::cloud::RolloutState;
use crate::testing::*;
use pulumi_plugin::{CreateRequest, Error, PropertyMap, Value};
use std::sync::Arc;
use std::time::Duration;

const URN: &str = "urn:pulumi:t::p::defang:index:Service::web";

fn request() -> CreateRequest {
    let inputs: PropertyMap = [
        ("project", Value::from("shop")),
        ("name", Value::from("web")),
        ("image", Value::from("nginx")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    CreateRequest {
        urn: URN.into(),
        name: "web".into(),
        type_token: super::lifecycle::TOKEN.into(),
        inputs,
        timeout: None,
        preview: false,
    }
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
    // Backoff: far fewer polls than one every 3 s.
    let polls = ecs
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count();
    assert!(polls < 60, "{polls} polls in 10 minutes");
}
