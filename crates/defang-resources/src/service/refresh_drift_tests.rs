//! Refresh of a service's autoscaling and its own role's policies (issue 13), on scripted
//! fakes of ECS, CloudFormation, Application Auto Scaling and IAM: what changed outside Pulumi
//! shows as drift in the inputs, what did not leaves them exactly as the user wrote them, and
//! nothing is read that the service does not own.

use super::lifecycle::TOKEN;
use super::task_role;
use crate::cloud::{RolloutState, ScalableTarget, TargetTrackingPolicy};
use crate::provider::DefangProvider;
use crate::testing::*;
use pulumi_plugin::testing::{Deployed, Driver};
use pulumi_plugin::value::to_json;
use pulumi_plugin::{PropertyMap, Value};
use serde_json::json;
use std::sync::Arc;

const STACK: &str = "defang-shop-S-web";
const RESOURCE_ID: &str = "service/defang-shop/web";

struct Fakes {
    ecs: Arc<FakeEcs>,
    stacks: Arc<FakeStacks>,
    scaling: Arc<FakeAutoScaling>,
    roles: Arc<FakeRoles>,
    driver: Driver<DefangProvider>,
}

async fn fakes() -> Fakes {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().push_back(service_state(
        "web",
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    ));
    // The stacks write the scalable target and the role into these, as CloudFormation would.
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let scaling = stacks.autoscaling.clone();
    let roles = stacks.roles.clone();
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    Fakes {
        ecs,
        stacks,
        scaling,
        roles,
        driver,
    }
}

impl Fakes {
    /// `pulumi up` of service `web` with `inputs`.
    async fn create(&self, inputs: &PropertyMap) -> Deployed {
        self.driver
            .create(TOKEN, "web", inputs)
            .await
            .expect("create")
    }
}

/// ECS runs the created service's revision with `count` tasks, its rollout done. What the
/// create called is forgotten: the tests look at refresh's calls.
fn running(fakes: &Fakes, created: &Deployed, count: i32) {
    fakes.scaling.calls.lock().unwrap().clear();
    fakes.roles.calls.lock().unwrap().clear();
    let revision = created.outputs["taskDefinitionArn"].as_str();
    web_running(&fakes.ecs, count, revision);
}

/// `pulumi refresh` of `created`: the inputs it reads back.
async fn refresh(fakes: &Fakes, created: &Deployed) -> PropertyMap {
    fakes
        .driver
        .refresh(created)
        .await
        .expect("refresh")
        .expect("the service is there")
        .inputs
}

fn policy(name: &str, metric: &str, target: f64) -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        name: name.into(),
        predefined_metric: Some(metric.into()),
        resource_label: None,
        target_value: target,
    }
}

/// AWS holds the range `min..=max` and a CPU target.
fn live_scaling(fakes: &Fakes, min: i32, max: i32, cpu: f64) {
    fakes.scaling.targets.lock().unwrap().insert(
        RESOURCE_ID.into(),
        ScalableTarget {
            min_capacity: min,
            max_capacity: max,
        },
    );
    fakes.scaling.policies.lock().unwrap().insert(
        RESOURCE_ID.into(),
        vec![policy(
            "defang-shop-web-cpu",
            "ECSServiceAverageCPUUtilization",
            cpu,
        )],
    );
}

#[tokio::test(start_paused = true)]
async fn refresh_shows_an_autoscaling_range_or_target_changed_or_removed_outside_pulumi() {
    let fakes = fakes().await;
    let inputs = web_inputs(json!({"autoscaling": {"min": 2, "max": 6, "targetCpu": 70}}));
    let created = fakes.create(&inputs).await;
    running(&fakes, &created, 3);

    // As deployed (integers in the program, floats from AWS): no drift, the scaler's 3 is
    // not `replicas`.
    live_scaling(&fakes, 2, 6, 70.0);
    assert_eq!(refresh(&fakes, &created).await, inputs);
    assert_eq!(
        fakes.scaling.calls.lock().unwrap().clone(),
        [
            format!("DescribeScalableTargets {RESOURCE_ID}"),
            format!("DescribeScalingPolicies {RESOURCE_ID}")
        ]
    );

    // The range and the target changed in the console.
    live_scaling(&fakes, 2, 9, 55.5);
    let inputs = refresh(&fakes, &created).await;
    assert_eq!(
        to_json(&inputs["autoscaling"]),
        json!({"min": 2, "max": 9, "targetCpu": 55.5})
    );
    assert!(!inputs.contains_key("replicas"), "{inputs:?}");

    // The scalable target deregistered (its policies go with it): autoscaling is gone, and
    // what runs is a fixed count.
    fakes.scaling.targets.lock().unwrap().clear();
    fakes.scaling.policies.lock().unwrap().clear();
    let inputs = refresh(&fakes, &created).await;
    assert!(!inputs.contains_key("autoscaling"), "{inputs:?}");
    assert_eq!(inputs["replicas"], Value::Number(3.0));

    // A service without autoscaling does not ask Application Auto Scaling.
    let fakes = fakes_without_scaling().await;
    assert!(fakes.scaling.calls.lock().unwrap().is_empty());
}

async fn fakes_without_scaling() -> Fakes {
    let fakes = fakes().await;
    let inputs = web_inputs(json!({"replicas": 2}));
    let created = fakes.create(&inputs).await;
    running(&fakes, &created, 2);
    assert_eq!(refresh(&fakes, &created).await, inputs);
    fakes
}

/// The role the service's stack made, by name, with what its template gave it.
fn role_as_deployed(fakes: &Fakes) -> String {
    let template: serde_json::Value =
        serde_json::from_str(&fakes.stacks.templates.lock().unwrap()[STACK]).unwrap();
    let properties = &template["Resources"]["TaskRole"]["Properties"];
    let role = task_role::role_name(&format!("fake:{STACK}:TaskRoleArn")).to_string();
    // What CloudFormation attaches: the ARNs (the names' `Fn::Sub` in the `aws` partition).
    let attached = properties["ManagedPolicyArns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arn| match arn {
            serde_json::Value::String(arn) => arn.clone(),
            sub => sub["Fn::Sub"]
                .as_str()
                .unwrap()
                .replace("${AWS::Partition}", "aws"),
        })
        .collect();
    let inline = properties["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["PolicyName"].as_str().unwrap().to_string(),
                p["PolicyDocument"].clone(),
            )
        })
        .collect();
    fakes
        .roles
        .attached
        .lock()
        .unwrap()
        .insert(role.clone(), attached);
    fakes
        .roles
        .inline
        .lock()
        .unwrap()
        .insert(role.clone(), inline);
    role
}

#[tokio::test(start_paused = true)]
async fn refresh_shows_policies_attached_detached_or_edited_outside_pulumi() {
    let fakes = fakes().await;
    let inputs = web_inputs(json!({
        "policies": ["AmazonS3ReadOnlyAccess", "service-role/AWSLambdaRole"],
        "policyStatements": [
            {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
            {"effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"],
             "condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
        ],
        "enableExec": true,
    }));
    let created = fakes.create(&inputs).await;
    running(&fakes, &created, 1);
    let role = role_as_deployed(&fakes);

    // As deployed: the names read back as ARNs, the statements as IAM keeps them; no drift.
    assert_eq!(refresh(&fakes, &created).await, inputs);
    assert_eq!(
        fakes.roles.calls.lock().unwrap().clone(),
        [
            format!("ListAttachedRolePolicies {role}"),
            format!("GetRolePolicy {role} statements")
        ]
    );

    // One attached and one detached in the console: the kept one as the user wrote it.
    fakes.roles.attached.lock().unwrap().insert(
        role.clone(),
        vec![
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess".into(),
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
        ],
    );
    let inputs = refresh(&fakes, &created).await;
    assert_eq!(
        to_json(&inputs["policies"]),
        json!([
            "AmazonS3ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess"
        ])
    );
    assert_eq!(inputs["policyStatements"], inputs["policyStatements"]);

    // All detached: `policies` goes.
    fakes
        .roles
        .attached
        .lock()
        .unwrap()
        .insert(role.clone(), vec![]);
    let inputs = refresh(&fakes, &created).await;
    assert!(!inputs.contains_key("policies"), "{inputs:?}");

    // A statement edited (with IAM's single-string spelling): the live statements, the
    // unchanged one as the user wrote it.
    role_as_deployed(&fakes);
    fakes
        .roles
        .inline
        .lock()
        .unwrap()
        .get_mut(&role)
        .unwrap()
        .insert(
            "statements".into(),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": false}}},
            ]}),
        );
    let inputs = refresh(&fakes, &created).await;
    assert_eq!(inputs["policies"], inputs["policies"]);
    assert_eq!(
        to_json(&inputs["policyStatements"]),
        json!([
            {"actions": ["sqs:SendMessage"], "resources": ["*"]},
            {"effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"],
             "condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
        ])
    );

    // The inline policy deleted: no statements.
    fakes
        .roles
        .inline
        .lock()
        .unwrap()
        .get_mut(&role)
        .unwrap()
        .remove("statements");
    let inputs = refresh(&fakes, &created).await;
    assert!(!inputs.contains_key("policyStatements"), "{inputs:?}");

    // A statement `policyStatements` cannot say: kept as the program says (with a warning).
    fakes
        .roles
        .inline
        .lock()
        .unwrap()
        .get_mut(&role)
        .unwrap()
        .insert(
            "statements".into(),
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
        );
    let inputs = refresh(&fakes, &created).await;
    assert_eq!(inputs["policyStatements"], inputs["policyStatements"]);

    // The role deleted outside Pulumi: it allows nothing.
    fakes.roles.attached.lock().unwrap().clear();
    fakes.roles.inline.lock().unwrap().clear();
    let inputs = refresh(&fakes, &created).await;
    assert!(!inputs.contains_key("policies"), "{inputs:?}");
    assert!(!inputs.contains_key("policyStatements"), "{inputs:?}");

    // A role of the user's own (`taskRoleArn`) is not ours: its policies are never read; nor
    // is anything read for a service without a role.
    let fakes = self::fakes().await;
    let inputs = web_inputs(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/mine"}));
    let created = fakes.create(&inputs).await;
    running(&fakes, &created, 1);
    assert_eq!(refresh(&fakes, &created).await, inputs);
    assert!(fakes.roles.calls.lock().unwrap().is_empty());
    let fakes = fakes_without_scaling().await;
    assert!(fakes.roles.calls.lock().unwrap().is_empty());
}
