//! Autoscaling and Fargate Spot through create and update (issue 13 items 2 and 3), on
//! scripted fakes: what moto cannot show, a count the scaler chose that `up` must not reset,
//! and the order of the stack and the ECS service.

use super::lifecycle::TOKEN;
use crate::cloud::{CapacityProviderItem, RolloutState};
use crate::testing::*;
use pulumi_plugin::value::from_json;
use pulumi_plugin::{PropertyMap, Value};
use serde_json::json;
use std::sync::Arc;

const STACK: &str = "defang-shop-S-web";

fn with(mut inputs: PropertyMap, extra: serde_json::Value) -> PropertyMap {
    let Value::Object(map) = from_json(extra) else {
        panic!("an object")
    };
    for (k, v) in map {
        match v {
            Value::Null => inputs.remove(&k),
            v => inputs.insert(k, v),
        };
    }
    inputs
}

fn web(extra: serde_json::Value) -> PropertyMap {
    with(service_inputs("web", vec![]), extra)
}

/// ECS says the service runs `count` tasks (what a scaler would have made it).
fn live_count(ecs: &FakeEcs, count: i32) {
    web_running(ecs, count, None);
}

fn template(stacks: &FakeStacks) -> serde_json::Value {
    serde_json::from_str(&stacks.templates.lock().unwrap()[STACK]).unwrap()
}

fn last_update(ecs: &FakeEcs) -> crate::cloud::ServiceUpdate {
    ecs.updates
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("an update")
}

#[tokio::test(start_paused = true)]
async fn autoscaling_owns_the_range_and_up_never_resets_the_scalers_count() {
    let ecs = Arc::new(FakeEcs::default());
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    live_count(&ecs, 2);
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let inputs = web(json!({"autoscaling": {"min": 2, "max": 6, "targetCpu": 70}}));
    let created = driver.create(TOKEN, "web", &inputs).await.expect("create");

    // Created at `min`, then the scalable target joins the stack (the service exists now).
    let creates = ecs.creates.lock().unwrap().clone();
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].desired_count, 2, "starts at min");
    let stack_calls = stacks.calls.lock().unwrap().clone();
    let writes: Vec<&String> = stack_calls
        .iter()
        .filter(|c| *c == "CreateStack" || *c == "UpdateStack")
        .collect();
    assert_eq!(
        writes,
        ["CreateStack", "UpdateStack"],
        "the stack before the service, then updated with its scaling: {stack_calls:?}"
    );
    let t = template(&stacks);
    let target = &t["Resources"]["ScalableTarget"]["Properties"];
    assert_eq!(target["ResourceId"], "service/defang-shop/web");
    assert_eq!(
        (
            target["MinCapacity"].as_u64(),
            target["MaxCapacity"].as_u64()
        ),
        (Some(2), Some(6))
    );
    assert!(t["Resources"]["ScalingPolicyCpu"].is_object());

    // The scaler chose 5; an `up` with a new range within which 5 lies leaves it.
    live_count(&ecs, 5);
    let wider = with(
        inputs.clone(),
        json!({"autoscaling": {"min": 1, "max": 8, "targetCpu": 60}}),
    );
    let done = driver.update(&created, &wider).await.expect("update");
    assert_eq!(last_update(&ecs).desired_count, None, "5 is the scaler's");
    assert_eq!(
        done.outputs["desiredCount"],
        Value::Number(5.0),
        "the live count"
    );
    let t = template(&stacks);
    assert_eq!(
        t["Resources"]["ScalableTarget"]["Properties"]["MaxCapacity"],
        8
    );
    assert_eq!(
        t["Resources"]["ScalingPolicyCpu"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
            ["TargetValue"],
        json!(60.0)
    );

    // A preview of a new range plans the live count, kept or moved into the range.
    let preview = |news: PropertyMap| {
        let (driver, done) = (&driver, &done);
        async move { driver.preview_update(done, &news).await.expect("preview") }
    };
    let planned = preview(with(
        inputs.clone(),
        json!({"autoscaling": {"min": 1, "max": 9, "targetCpu": 60}}),
    ))
    .await;
    assert_eq!(planned.outputs["desiredCount"], Value::Number(5.0), "kept");
    let planned = preview(with(
        inputs.clone(),
        json!({"autoscaling": {"min": 7, "max": 9, "targetCpu": 60}}),
    ))
    .await;
    assert_eq!(
        planned.outputs["desiredCount"],
        Value::Number(7.0),
        "raised to min"
    );

    // A range that excludes the live count moves it to the nearest bound.
    let higher = with(
        inputs.clone(),
        json!({"autoscaling": {"min": 6, "max": 8, "targetCpu": 60}}),
    );
    let moved = driver.update(&done, &higher).await.expect("update");
    assert_eq!(last_update(&ecs).desired_count, Some(6));

    // Off: back to `replicas`, and the stack loses the target and its policies.
    let fixed = with(inputs.clone(), json!({"autoscaling": null, "replicas": 3}));
    driver.update(&moved, &fixed).await.expect("update");
    assert_eq!(last_update(&ecs).desired_count, Some(3));
    let t = template(&stacks);
    let resources = t["Resources"].as_object().unwrap();
    assert!(
        !resources.keys().any(|k| k.starts_with("Scal")),
        "{:?}",
        resources.keys()
    );
}

#[tokio::test(start_paused = true)]
async fn spot_is_a_capacity_provider_strategy_changed_in_place() {
    let ecs = Arc::new(FakeEcs::default());
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    live_count(&ecs, 1);
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let inputs = web(json!({"capacity": {"spot": 3, "onDemand": 1, "onDemandBase": 1}}));
    let created = driver.create(TOKEN, "web", &inputs).await.expect("create");
    let item = |provider: &str, weight, base| CapacityProviderItem {
        provider: provider.into(),
        weight,
        base,
    };
    let creates = ecs.creates.lock().unwrap().clone();
    assert_eq!(
        creates[0].capacity_provider_strategy,
        [item("FARGATE", 1, 1), item("FARGATE_SPOT", 3, 0)]
    );

    // Unchanged: no strategy sent, no forced deployment. (The Update alone: with the inputs
    // unchanged, Diff finds no change and the `update` step would send none.)
    driver
        .send_update(&created, &inputs, false)
        .await
        .expect("update");
    let same = last_update(&ecs);
    assert_eq!(same.capacity_provider_strategy, None);
    assert!(!same.force_new_deployment);

    // All Spot: the new strategy, with a deployment that moves the tasks.
    let spot = with(inputs.clone(), json!({"capacity": {"spot": 1}}));
    let on_spot = driver.update(&created, &spot).await.expect("update");
    let moved = last_update(&ecs);
    assert_eq!(
        moved.capacity_provider_strategy,
        Some(vec![item("FARGATE_SPOT", 1, 0)])
    );
    assert!(moved.force_new_deployment);

    // Removed: back to the launch type (an empty strategy), again in place.
    let on_demand = with(inputs.clone(), json!({"capacity": null}));
    driver.update(&on_spot, &on_demand).await.expect("update");
    let back = last_update(&ecs);
    assert_eq!(back.capacity_provider_strategy, Some(vec![]));
    assert!(back.force_new_deployment);
    // A service without `capacity` is created with the launch type, as before.
    assert!(
        ecs.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| *c == "CreateService")
            .count()
            == 1
    );
}

/// A Spot interruption during the rollout (scripted: moto cannot interrupt): ECS counts the
/// interrupted task as failed, even marks the deployment FAILED, and replaces the task; `up`
/// still completes, and `status` is not SERVICE_DEPLOYMENT_FAILED.
#[tokio::test(start_paused = true)]
async fn a_spot_interruption_is_not_a_failed_rollout() {
    let ecs = Arc::new(FakeEcs::default());
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let interrupted = |rollout, running, spot| {
        let mut d = deployment("d-1", rollout, running, 0, 1);
        d.spot_interrupted_tasks = spot;
        service_state(
            "web",
            running,
            d,
            &["(service web) has stopped 1 running tasks: (task 1a2b)."],
        )
    };
    {
        let mut script = ecs.script.lock().unwrap();
        script.push_back(interrupted(RolloutState::InProgress, 0, 1));
        script.push_back(interrupted(RolloutState::Failed, 0, 1));
        script.push_back(interrupted(RolloutState::Failed, 1, 1));
    }
    let driver = self::driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let created = driver
        .create(TOKEN, "web", &web(json!({"capacity": {"spot": 1}})))
        .await
        .expect("a Spot interruption does not fail the create");
    assert_eq!(
        created.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );

    // The same counts without the interruption are a failed rollout.
    let ecs = Arc::new(FakeEcs::default());
    ecs.script
        .lock()
        .unwrap()
        .push_back(interrupted(RolloutState::Failed, 1, 0));
    let driver = self::driver(env(ecs, stacks).cloud).await;
    let failed = driver
        .create(TOKEN, "web", &web(json!({"capacity": {"spot": 1}})))
        .await;
    assert!(failed.is_err(), "{failed:?}");
}
