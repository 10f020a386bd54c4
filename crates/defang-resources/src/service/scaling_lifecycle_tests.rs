//! Autoscaling and Fargate Spot through create and update (issue 13 items 2 and 3), on
//! scripted fakes: what moto cannot show, a count the scaler chose that `up` must not reset,
//! and the order of the stack and the ECS service.

use crate::cloud::{CapacityProviderItem, RolloutState};
use crate::testing::service::{create, update};
use crate::testing::*;
use pulumi_plugin::value::from_json;
use pulumi_plugin::{CreateRequest, PropertyMap, UpdateRequest, Value};
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

fn request(extra: serde_json::Value) -> CreateRequest {
    let mut req = service_create("web", vec![]);
    req.inputs = with(req.inputs, extra);
    req
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
    let runtime = env(ecs.clone(), stacks.clone());
    let req = request(json!({"autoscaling": {"min": 2, "max": 6, "targetCpu": 70}}));
    let created = create(&runtime, req.clone(), context(None))
        .await
        .expect("create");

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
        req.inputs.clone(),
        json!({"autoscaling": {"min": 1, "max": 8, "targetCpu": 60}}),
    );
    let out = update_service_to(&runtime, &created, &req.inputs, wider.clone()).await;
    assert_eq!(last_update(&ecs).desired_count, None, "5 is the scaler's");
    assert_eq!(out["desiredCount"], Value::Number(5.0), "the live count");
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
    let mut done = created.clone();
    done.outputs = out.clone();
    let preview = |news: PropertyMap| {
        let runtime = &runtime;
        let (done, wider) = (&done, &wider);
        async move {
            update(
                runtime,
                UpdateRequest {
                    id: done.id.clone(),
                    urn: "urn:pulumi:t::p::defang:index:Service::web".into(),
                    name: "web".into(),
                    type_token: super::lifecycle::TOKEN.into(),
                    old_outputs: done.outputs.clone(),
                    old_inputs: wider.clone(),
                    news,
                    timeout: None,
                    preview: true,
                },
                context(None),
            )
            .await
            .expect("preview")
        }
    };
    let planned = preview(with(
        req.inputs.clone(),
        json!({"autoscaling": {"min": 1, "max": 9, "targetCpu": 60}}),
    ))
    .await;
    assert_eq!(planned["desiredCount"], Value::Number(5.0), "kept");
    let planned = preview(with(
        req.inputs.clone(),
        json!({"autoscaling": {"min": 7, "max": 9, "targetCpu": 60}}),
    ))
    .await;
    assert_eq!(planned["desiredCount"], Value::Number(7.0), "raised to min");

    // A range that excludes the live count moves it to the nearest bound.
    let higher = with(
        req.inputs.clone(),
        json!({"autoscaling": {"min": 6, "max": 8, "targetCpu": 60}}),
    );
    update_service_to(&runtime, &created, &wider, higher.clone()).await;
    assert_eq!(last_update(&ecs).desired_count, Some(6));

    // Off: back to `replicas`, and the stack loses the target and its policies.
    let fixed = with(
        req.inputs.clone(),
        json!({"autoscaling": null, "replicas": 3}),
    );
    update_service_to(&runtime, &created, &higher, fixed).await;
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
    let runtime = env(ecs.clone(), stacks.clone());
    let req = request(json!({"capacity": {"spot": 3, "onDemand": 1, "onDemandBase": 1}}));
    let created = create(&runtime, req.clone(), context(None))
        .await
        .expect("create");
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

    // Unchanged: no strategy sent, no forced deployment.
    update_service_to(&runtime, &created, &req.inputs, req.inputs.clone()).await;
    let same = last_update(&ecs);
    assert_eq!(same.capacity_provider_strategy, None);
    assert!(!same.force_new_deployment);

    // All Spot: the new strategy, with a deployment that moves the tasks.
    let spot = with(req.inputs.clone(), json!({"capacity": {"spot": 1}}));
    update_service_to(&runtime, &created, &req.inputs, spot.clone()).await;
    let moved = last_update(&ecs);
    assert_eq!(
        moved.capacity_provider_strategy,
        Some(vec![item("FARGATE_SPOT", 1, 0)])
    );
    assert!(moved.force_new_deployment);

    // Removed: back to the launch type (an empty strategy), again in place.
    let on_demand = with(req.inputs.clone(), json!({"capacity": null}));
    update_service_to(&runtime, &created, &spot, on_demand).await;
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
    let runtime = env(ecs.clone(), stacks.clone());
    let created = create(
        &runtime,
        request(json!({"capacity": {"spot": 1}})),
        context(None),
    )
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
    let runtime = env(ecs, stacks);
    let failed = create(
        &runtime,
        request(json!({"capacity": {"spot": 1}})),
        context(None),
    )
    .await;
    assert!(failed.is_err(), "{failed:?}");
}
