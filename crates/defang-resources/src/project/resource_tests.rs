//! The Project as the kit serves it, over fake clouds: states that are not the happy path
//! (a create that failed before its stack existed, a state from an older version), import, and
//! a planned update that keeps what it knows.

use super::lifecycle::TOKEN;
use crate::provider::DefangProvider;
use crate::testing::{FakeEcs, FakeStacks, driver, env, in_state};
use pulumi_plugin::testing::Driver;
use pulumi_plugin::{PropertyMap, Value};
use std::sync::Arc;

async fn served(stacks: Arc<FakeStacks>) -> Driver<DefangProvider> {
    driver(env(Arc::new(FakeEcs::default()), stacks).cloud).await
}

fn props(pairs: &[(&str, Value)]) -> PropertyMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A create that failed before CloudFormation made the stack leaves only the inputs and the
/// stack's name in the state: `destroy` must still be able to remove it.
#[tokio::test]
async fn a_partial_state_without_a_stack_is_deleted() {
    let stacks = Arc::new(FakeStacks::default());
    let driver = served(stacks.clone()).await;
    let partial = props(&[
        ("name", Value::from("shop")),
        ("stackName", Value::from("defang-shop")),
    ]);
    let inputs = props(&[("name", Value::from("shop"))]);
    driver
        .delete(&in_state(TOKEN, "shop", "defang-shop", inputs, partial))
        .await
        .expect("a state with only the stack's name deletes");
    assert!(stacks.stacks.lock().unwrap().is_empty());
}

/// `pulumi import defang:index:Project shop defang-shop`: the inputs describe the stack, the
/// outputs are its outputs.
#[tokio::test]
async fn import_reads_the_stack() {
    let driver = served(Arc::new(FakeStacks::with_project("shop"))).await;
    let imported = driver
        .import(TOKEN, "shop", "defang-shop")
        .await
        .unwrap()
        .expect("the stack exists");
    assert_eq!(imported.id, "defang-shop");
    assert_eq!(imported.inputs["name"], Value::from("shop"));
    assert_eq!(imported.outputs["clusterName"], Value::from("defang-shop"));
    assert_eq!(imported.outputs["stackName"], Value::from("defang-shop"));
    let gone = driver.import(TOKEN, "shop", "defang-nope").await.unwrap();
    assert!(gone.is_none());
}

/// A planned update keeps the outputs the stack gave (they do not change with the inputs),
/// from a state written before some outputs existed too.
#[tokio::test]
async fn a_planned_update_keeps_what_is_known() {
    let driver = served(Arc::new(FakeStacks::with_project("shop"))).await;
    let inputs = props(&[("name", Value::from("shop"))]);
    let mut old_outputs = inputs.clone();
    for (key, value) in [
        ("stackName", "defang-shop"),
        ("stackId", "arn:stack/defang-shop"),
        ("clusterArn", "arn:aws:ecs:us-east-1:1:cluster/defang-shop"),
        ("vpcId", "vpc-1"),
    ] {
        old_outputs.insert(key.into(), Value::from(value));
    }
    let deployed = in_state(TOKEN, "shop", "defang-shop", inputs.clone(), old_outputs);
    let mut news = inputs;
    news.insert("logRetentionDays".into(), Value::Number(90.0));
    let planned = driver
        .preview_update(&deployed, &news)
        .await
        .unwrap()
        .outputs;
    assert_eq!(planned["logRetentionDays"], Value::Number(90.0));
    assert_eq!(
        planned["clusterArn"],
        Value::from("arn:aws:ecs:us-east-1:1:cluster/defang-shop")
    );
    assert_eq!(planned["vpcId"], Value::from("vpc-1"));
    assert_eq!(planned["clusterName"], Value::from("defang-shop"));
}
