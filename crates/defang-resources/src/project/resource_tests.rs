//! The Project as the kit serves it, over fake clouds: states that are not the happy path
//! (a create that failed before its stack existed, a state from an older version), import, and
//! a planned update that keeps what it knows.

use super::lifecycle::TOKEN;
use super::resource::ProjectResource;
use crate::runtime::Runtime;
use crate::testing::{FakeEcs, FakeStacks, context, env};
use pulumi_plugin::{DeleteRequest, PropertyMap, ReadRequest, Resources, UpdateRequest, Value};
use std::sync::Arc;

const URN: &str = "urn:pulumi:dev::shop::defang:index:Project::shop";

fn served(stacks: Arc<FakeStacks>) -> (Resources<Runtime>, Runtime) {
    let env = env(Arc::new(FakeEcs::default()), stacks);
    (Resources::default().typed(ProjectResource), env)
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
    let (resources, env) = served(stacks.clone());
    let partial = props(&[
        ("name", Value::from("shop")),
        ("stackName", Value::from("defang-shop")),
    ]);
    resources
        .delete(
            &env,
            DeleteRequest {
                id: "defang-shop".into(),
                urn: URN.into(),
                name: "shop".into(),
                type_token: TOKEN.into(),
                old_inputs: props(&[("name", Value::from("shop"))]),
                old_outputs: partial,
                timeout: None,
            },
            context(None),
        )
        .await
        .expect("a state with only the stack's name deletes");
    assert!(stacks.stacks.lock().unwrap().is_empty());
}

/// `pulumi import defang:index:Project shop defang-shop`: the inputs describe the stack, the
/// outputs are its outputs.
#[tokio::test]
async fn import_reads_the_stack() {
    let (resources, env) = served(Arc::new(FakeStacks::with_project("shop")));
    let read = |id: &str| ReadRequest {
        id: id.into(),
        urn: URN.into(),
        name: "shop".into(),
        type_token: TOKEN.into(),
        old_inputs: PropertyMap::new(),
        old_outputs: PropertyMap::new(),
    };
    let imported = resources
        .read(&env, read("defang-shop"), context(None))
        .await
        .unwrap();
    assert_eq!(imported.id.as_deref(), Some("defang-shop"));
    assert_eq!(imported.inputs["name"], Value::from("shop"));
    assert_eq!(imported.outputs["clusterName"], Value::from("defang-shop"));
    assert_eq!(imported.outputs["stackName"], Value::from("defang-shop"));
    let gone = resources
        .read(&env, read("defang-nope"), context(None))
        .await
        .unwrap();
    assert!(gone.id.is_none());
}

/// A planned update keeps the outputs the stack gave (they do not change with the inputs),
/// from a state written before some outputs existed too.
#[tokio::test]
async fn a_planned_update_keeps_what_is_known() {
    let (resources, env) = served(Arc::new(FakeStacks::with_project("shop")));
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
    let mut news = inputs.clone();
    news.insert("logRetentionDays".into(), Value::Number(90.0));
    let planned = resources
        .update(
            &env,
            UpdateRequest {
                id: "defang-shop".into(),
                urn: URN.into(),
                name: "shop".into(),
                type_token: TOKEN.into(),
                old_outputs,
                old_inputs: inputs,
                news,
                timeout: None,
                preview: true,
            },
            context(None),
        )
        .await
        .unwrap();
    assert_eq!(planned["logRetentionDays"], Value::Number(90.0));
    assert_eq!(
        planned["clusterArn"],
        Value::from("arn:aws:ecs:us-east-1:1:cluster/defang-shop")
    );
    assert_eq!(planned["vpcId"], Value::from("vpc-1"));
    assert_eq!(planned["clusterName"], Value::from("defang-shop"));
}
