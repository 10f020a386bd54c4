//! Names that cannot collide, ownership proven before any side effect, and CloudFormation's
//! answers (lost responses, states) handled: on scripted fakes.

use super::lifecycle::TOKEN;
use crate::cloud::{RolloutState, StackState};
use crate::ownership::{OWNER_TAG, PROJECT_TAG, SERVICE_TAG, owner_id};
use crate::testing::*;
use pulumi_plugin::mask::MASKED;
use pulumi_plugin::testing::urn;
use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn inputs() -> PropertyMap {
    let env: BTreeMap<String, Value> =
        BTreeMap::from([("TOKEN".to_string(), Value::from("s3cret").into_secret())]);
    service_inputs(
        "web",
        vec![("environment", Value::Object(env.into_iter().collect()))],
    )
}

fn completing_ecs() -> Arc<FakeEcs> {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().extend([service_state(
        "web",
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    )]);
    ecs
}

/// Puts `stack` into the fake, as if someone had made it.
fn insert(stacks: &FakeStacks, stack: &StackState) {
    stacks
        .stacks
        .lock()
        .unwrap()
        .insert(stack.name.clone(), stack.clone());
}

fn stack(name: &str, tags: &[(&str, &str)]) -> StackState {
    StackState {
        id: format!("arn:stack/{name}"),
        name: name.into(),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        outputs: BTreeMap::from([("Marker".to_string(), "theirs".to_string())]),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Project `shop-web`'s stack was `defang-shop-web`, the old name of service `web` of project
/// `shop`: the service used to send it an UpdateStack with its own template.
#[tokio::test(start_paused = true)]
async fn another_projects_stack_of_the_old_service_name_is_untouched() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let theirs = stack("defang-shop-web", &[(PROJECT_TAG, "shop-web")]);
    insert(&stacks, &theirs);
    let driver = driver(env(completing_ecs(), stacks.clone()).cloud).await;
    driver
        .create(TOKEN, "web", &inputs())
        .await
        .expect("create");
    let all = stacks.stacks.lock().unwrap();
    assert_eq!(all["defang-shop-web"], theirs, "the other project's stack");
    let ours = &all["defang-shop-S-web"];
    assert_eq!(ours.tags[SERVICE_TAG], "web");
    assert_eq!(ours.tags[OWNER_TAG], owner_id(&urn(TOKEN, "web")));
}

/// A service deployed with the old names keeps its stack (renaming it would recreate its
/// security group, routing and DNS).
#[tokio::test(start_paused = true)]
async fn a_service_deployed_under_the_old_name_keeps_its_stack() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let old = stack(
        "defang-shop-web",
        &[
            (PROJECT_TAG, "shop"),
            (SERVICE_TAG, "web"),
            (OWNER_TAG, &owner_id(&urn(TOKEN, "web"))),
        ],
    );
    insert(&stacks, &old);
    let driver = driver(env(completing_ecs(), stacks.clone()).cloud).await;
    driver
        .create(TOKEN, "web", &inputs())
        .await
        .expect("create");
    let all = stacks.stacks.lock().unwrap();
    assert!(!all.contains_key("defang-shop-S-web"), "{:?}", all.keys());
    assert_eq!(all["defang-shop-web"].status, "UPDATE_COMPLETE");
}

/// A stack of the service's name made by someone else stops the create before anything is
/// written: no secret, no task definition, no ECS service.
#[tokio::test(start_paused = true)]
async fn a_stack_owned_by_someone_else_stops_the_create_before_any_side_effect() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let theirs = stack(
        "defang-shop-S-web",
        &[
            (PROJECT_TAG, "shop"),
            (SERVICE_TAG, "web"),
            (OWNER_TAG, "someone-else"),
        ],
    );
    insert(&stacks, &theirs);
    let ecs = completing_ecs();
    let parameters = Arc::new(FakeParameters::default());
    let driver =
        driver(env_with_parameters(ecs.clone(), stacks.clone(), parameters.clone()).cloud).await;
    let err = driver.create(TOKEN, "web", &inputs()).await.unwrap_err();
    let message = plain_failure(&err);
    assert!(message.contains("defang-shop-S-web"), "{message}");
    assert!(message.contains("left untouched"), "{message}");
    assert!(
        message.contains("pulumi import defang:index:Service"),
        "{message}"
    );
    assert!(parameters.calls.lock().unwrap().is_empty());
    let calls = ecs.calls.lock().unwrap();
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("RegisterTaskDefinition") || c.starts_with("CreateService")),
        "{calls:?}"
    );
    assert_eq!(stacks.stacks.lock().unwrap()["defang-shop-S-web"], theirs);
}

/// CreateStack made the stack, its answer was lost, the SDK retried and got AlreadyExists:
/// the stack is ours (its tags), so the create goes on.
#[tokio::test(start_paused = true)]
async fn a_lost_create_stack_response_adopts_our_stack() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    stacks.faults.lock().unwrap().lose_create_response = true;
    let driver = driver(env(completing_ecs(), stacks.clone()).cloud).await;
    let created = driver
        .create(TOKEN, "web", &inputs())
        .await
        .expect("create");
    assert_eq!(
        created.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
    assert!(
        stacks
            .stacks
            .lock()
            .unwrap()
            .contains_key("defang-shop-S-web")
    );
}

/// A first create that fails after it made things (a secret, a task definition, a stack that
/// rolled back) keeps the service in the state with its id, so `destroy` finds it all.
#[tokio::test(start_paused = true)]
async fn a_create_that_fails_after_side_effects_is_a_partial_failure() {
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    stacks.faults.lock().unwrap().create_status = Some("ROLLBACK_COMPLETE".into());
    let driver = driver(env(completing_ecs(), stacks.clone()).cloud).await;
    let err = driver.create(TOKEN, "web", &inputs()).await.unwrap_err();
    let state = partial_failure(&err);
    assert_eq!(state.id, "shop/web");
    assert_eq!(
        state.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_FAILED")
    );
    let reason = state.reasons.join(" ");
    assert!(reason.contains("ROLLBACK_COMPLETE"), "{reason}");
    // Not even masked (the service masks what the provider lets through).
    assert!(
        !reason.contains("s3cret") && !reason.contains(MASKED),
        "{reason}"
    );
}

/// Right after CreateService, DescribeServices may not list the service yet: the rollout wait
/// keeps looking instead of calling it deleted.
#[tokio::test(start_paused = true)]
async fn a_new_service_not_yet_listed_is_waited_for() {
    let ecs = completing_ecs();
    *ecs.invisible_after_create.lock().unwrap() = 3;
    let driver = driver(env(ecs.clone(), Arc::new(FakeStacks::with_project("shop"))).cloud).await;
    let created = driver
        .create(TOKEN, "web", &inputs())
        .await
        .expect("create");
    assert_eq!(
        created.outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
}
