//! A service's own AWS permissions, existing secrets and container settings through create and
//! update (issue 13 items 1, 4 and 5), on scripted fakes: what the stack, the task definition
//! and the ECS service get.

use super::lifecycle::TOKEN;
use crate::cloud::{RolloutState, TaskDefinitionSpec};
use crate::testing::*;
use pulumi_plugin::Value;
use serde_json::json;
use std::sync::Arc;

const STACK: &str = "defang-shop-S-web";

/// ECS, which runs what it is given at once, and project `shop`'s stack.
fn fakes() -> (Arc<FakeEcs>, Arc<FakeStacks>) {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().push_back(service_state(
        "web",
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    ));
    (ecs, Arc::new(FakeStacks::with_project("shop")))
}

fn template(stacks: &FakeStacks) -> serde_json::Value {
    serde_json::from_str(&stacks.templates.lock().unwrap()[STACK]).unwrap()
}

fn task_definition(ecs: &FakeEcs, arn: &Value) -> TaskDefinitionSpec {
    ecs.task_definitions.lock().unwrap()[arn.as_str().unwrap()].clone()
}

#[tokio::test(start_paused = true)]
async fn the_service_gets_its_role_its_secrets_and_its_settings() {
    let (ecs, stacks) = fakes();
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let inputs = web_inputs(json!({
        "policies": ["AmazonS3ReadOnlyAccess"],
        "policyStatements": [{"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:123456789012:jobs"]}],
        "enableExec": true,
        "secrets": {
            "DB_PASSWORD": {"ssm": "/app/db-password"},
            "API_TOKEN": {"secretsManager": "prod/api", "key": "token"},
        },
        "workingDir": "/srv", "user": "1000:1000", "stopGracePeriod": 90,
        "ephemeralStorage": 50, "init": true,
    }));
    let created = driver.create(TOKEN, "web", &inputs).await.expect("create");

    let t = template(&stacks);
    let role = &t["Resources"]["TaskRole"]["Properties"];
    assert_eq!(
        role["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonS3ReadOnlyAccess"}])
    );
    let names: Vec<&str> = role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["statements", "ecs-exec"]);
    let access = &t["Resources"]["ExistingSecretsAccess"]["Properties"];
    assert_eq!(access["Roles"], json!(["defang-shop-exec"]));

    let spec = task_definition(&ecs, &created.outputs["taskDefinitionArn"]);
    assert_eq!(
        spec.task_role_arn.as_deref(),
        Some("fake:defang-shop-S-web:TaskRoleArn"),
        "the role of the service's stack, applied before the task definition"
    );
    assert_ne!(spec.task_role_arn, spec.execution_role_arn);
    assert_eq!(
        spec.container.secrets,
        vec![
            (
                "API_TOKEN".to_string(),
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api:token::".to_string()
            ),
            (
                "DB_PASSWORD".to_string(),
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password".to_string()
            ),
        ]
    );
    assert_eq!(spec.container.working_directory.as_deref(), Some("/srv"));
    assert_eq!(spec.container.user.as_deref(), Some("1000:1000"));
    assert_eq!(spec.container.stop_timeout_seconds, Some(90));
    assert!(spec.container.init_process_enabled);
    assert!(!spec.container.readonly_root_filesystem);
    assert_eq!(spec.ephemeral_storage_gib, Some(50));
    let service = ecs.services.lock().unwrap()["web"].clone();
    assert!(service.enable_execute_command);
    assert_eq!(
        service.health_check_grace_period_seconds, None,
        "no load balancer, no grace period"
    );

    // Policies and ECS Exec removed: the role stays (tasks may still run as it), with nothing
    // allowed; ECS Exec goes off with a restart; the same revision is kept otherwise.
    ecs.updates.lock().unwrap().clear();
    let news = web_inputs(json!({
        "secrets": {"DB_PASSWORD": {"ssm": "/app/db-password"}},
        "workingDir": "/srv", "user": "1000:1000", "stopGracePeriod": 90,
        "ephemeralStorage": 50, "init": true,
    }));
    let updated = driver.update(&created, &news).await.expect("update");
    let t = template(&stacks);
    let role = &t["Resources"]["TaskRole"]["Properties"];
    assert_eq!(role["ManagedPolicyArns"], json!([]));
    assert_eq!(role["Policies"], json!([]));
    let access = &t["Resources"]["ExistingSecretsAccess"]["Properties"];
    assert_eq!(
        access["PolicyDocument"]["Statement"],
        json!([{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/app/db-password"}
        ]}]),
        "exactly the secrets still referenced"
    );
    let spec = task_definition(&ecs, &updated.outputs["taskDefinitionArn"]);
    assert_eq!(
        spec.task_role_arn.as_deref(),
        Some("fake:defang-shop-S-web:TaskRoleArn")
    );
    let updates = ecs.updates.lock().unwrap().clone();
    assert_eq!(updates[0].enable_execute_command, Some(false));
    assert!(
        updates[0].force_new_deployment,
        "exec changes need new tasks"
    );
}

#[tokio::test(start_paused = true)]
async fn policy_edits_change_the_role_in_place_without_a_new_revision() {
    let (ecs, stacks) = fakes();
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let inputs = web_inputs(json!({"policies": ["AmazonS3ReadOnlyAccess"]}));
    let created = driver.create(TOKEN, "web", &inputs).await.expect("create");
    let news = web_inputs(json!({"policies": ["AmazonSQSFullAccess"]}));
    let updated = driver.update(&created, &news).await.expect("update");
    assert_eq!(
        template(&stacks)["Resources"]["TaskRole"]["Properties"]["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSQSFullAccess"}])
    );
    assert_eq!(
        updated.outputs["taskDefinitionArn"], created.outputs["taskDefinitionArn"],
        "the role is the same: the tasks keep running"
    );
    assert_eq!(ecs.task_definitions.lock().unwrap().len(), 1);
    assert!(!ecs.updates.lock().unwrap()[0].force_new_deployment);
}

#[tokio::test(start_paused = true)]
async fn no_permissions_no_role_and_a_role_of_ones_own_is_used_as_is() {
    let (ecs, stacks) = fakes();
    let driver = self::driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let created = driver
        .create(TOKEN, "web", &web_inputs(json!({})))
        .await
        .expect("create");
    let t = template(&stacks);
    assert!(t["Resources"].get("TaskRole").is_none(), "{t}");
    assert!(t["Resources"].get("ExistingSecretsAccess").is_none());
    let spec = task_definition(&ecs, &created.outputs["taskDefinitionArn"]);
    assert_eq!(spec.task_role_arn, None, "no AWS permissions at all");

    let (ecs, stacks) = fakes();
    let driver = self::driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let mine = "arn:aws:iam::123456789012:role/my-app";
    let created = driver
        .create(
            TOKEN,
            "web",
            &web_inputs(json!({"taskRoleArn": mine, "enableExec": true})),
        )
        .await
        .expect("create");
    assert!(template(&stacks)["Resources"].get("TaskRole").is_none());
    let spec = task_definition(&ecs, &created.outputs["taskDefinitionArn"]);
    assert_eq!(spec.task_role_arn.as_deref(), Some(mine));
}
