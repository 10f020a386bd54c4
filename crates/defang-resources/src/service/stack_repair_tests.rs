//! `up` puts back a service's autoscaling and its own role's policies changed outside Pulumi
//! (issue 13), on scripted fakes whose CloudFormation, like AWS's, touches only the resources
//! whose template changed: the writes go straight to Application Auto Scaling and IAM, only
//! where the live values differ from the program's, never to a role of the user's, and never in
//! a preview.

use super::lifecycle::TOKEN;
use super::task_role;
use crate::cloud::{ScalableTarget, TargetTrackingPolicy};
use crate::provider::DefangProvider;
use crate::testing::*;
use pulumi_plugin::testing::{Deployed, Driver};
use pulumi_plugin::value::from_json;
use pulumi_plugin::{PropertyMap, Value};
use serde_json::json;
use std::sync::Arc;

const STACK: &str = "defang-shop-S-web";
const RESOURCE_ID: &str = "service/defang-shop/web";
const CPU: &str = "ECSServiceAverageCPUUtilization";
const MEMORY: &str = "ECSServiceAverageMemoryUtilization";

struct Fakes {
    ecs: Arc<FakeEcs>,
    stacks: Arc<FakeStacks>,
    driver: Driver<DefangProvider>,
}

impl Fakes {
    async fn new() -> Fakes {
        let ecs = Arc::new(FakeEcs::default());
        let stacks = Arc::new(FakeStacks::with_project("shop"));
        let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
        let fakes = Fakes {
            ecs,
            stacks,
            driver,
        };
        fakes.running(None, 2);
        fakes
    }

    /// ECS runs the service (revision `task_definition`) with `count` tasks, its rollout done.
    fn running(&self, task_definition: Option<&Value>, count: i32) {
        web_running(&self.ecs, count, task_definition.and_then(Value::as_str));
    }

    async fn create(&self, inputs: &PropertyMap) -> Deployed {
        let created = self
            .driver
            .create(TOKEN, "web", inputs)
            .await
            .expect("create");
        self.running(Some(&created.outputs["taskDefinitionArn"]), 2);
        created
    }

    /// An `up` of `news` over `deployed` (check, diff, then the update), with the messages it
    /// logged.
    async fn up(&self, deployed: &Deployed, news: &PropertyMap) -> (Deployed, Vec<String>) {
        self.logged(self.driver.update(deployed, news)).await
    }

    /// An `up` (`preview` or not) of the inputs `deployed` has: the Update alone, with the
    /// messages it logged. Diff finds no change in inputs the program did not change, so the
    /// `update` step would send no Update; these tests are about what the Update does when it
    /// comes (after a `refresh` showed the drift, or with another change).
    async fn up_unchanged(&self, deployed: &Deployed, preview: bool) -> Vec<String> {
        let step = self.driver.send_update(deployed, &deployed.inputs, preview);
        self.logged(step).await.1
    }

    /// What `step` made, and the messages (not the status lines) logged to the engine while it
    /// ran.
    async fn logged(
        &self,
        step: impl std::future::Future<Output = Result<Deployed, pulumi_plugin::tonic::Status>>,
    ) -> (Deployed, Vec<String>) {
        let before = self.driver.engine().records().len();
        let deployed = step.await.expect("update");
        let messages = self.driver.engine().records()[before..]
            .iter()
            .filter(|r| !r.ephemeral)
            .map(|r| r.message.clone())
            .collect();
        (deployed, messages)
    }

    fn scaling(&self) -> &FakeAutoScaling {
        &self.stacks.autoscaling
    }

    fn roles(&self) -> &FakeRoles {
        &self.stacks.roles
    }

    /// Forgets the calls so far.
    fn forget_calls(&self) {
        self.scaling().calls.lock().unwrap().clear();
        self.roles().calls.lock().unwrap().clear();
    }

    fn target(&self) -> Option<ScalableTarget> {
        self.scaling()
            .targets
            .lock()
            .unwrap()
            .get(RESOURCE_ID)
            .cloned()
    }

    /// The service's policies: (name, metric, target), by name.
    fn policies(&self) -> Vec<(String, String, f64)> {
        let mut policies: Vec<_> = self
            .scaling()
            .policies
            .lock()
            .unwrap()
            .get(RESOURCE_ID)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                (
                    p.name,
                    p.predefined_metric.unwrap_or_default(),
                    p.target_value,
                )
            })
            .collect();
        policies.sort_by(|a, b| a.0.cmp(&b.0));
        policies
    }

    fn template(&self) -> serde_json::Value {
        serde_json::from_str(&self.stacks.templates.lock().unwrap()[STACK]).unwrap()
    }
}

fn policy(name: &str, metric: &str, target: f64) -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        name: name.into(),
        predefined_metric: Some(metric.into()),
        resource_label: None,
        target_value: target,
    }
}

fn as_program(min: i32, max: i32) -> Option<ScalableTarget> {
    Some(ScalableTarget {
        min_capacity: min,
        max_capacity: max,
    })
}

#[tokio::test(start_paused = true)]
async fn up_puts_back_autoscaling_changed_or_deregistered_outside_pulumi() {
    let fakes = Fakes::new().await;
    let inputs = web_inputs(
        json!({"autoscaling": {"min": 2, "max": 6, "targetCpu": 70, "targetMemory": 60}}),
    );
    let created = fakes.create(&inputs).await;
    // The stack made the target and the policies with the service: not even read.
    assert_eq!(
        fakes.scaling().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );
    assert_eq!(fakes.target(), as_program(2, 6));
    let program = vec![
        ("defang-shop-web-cpu".to_string(), CPU.to_string(), 70.0),
        (
            "defang-shop-web-memory".to_string(),
            MEMORY.to_string(),
            60.0,
        ),
    ];
    assert_eq!(fakes.policies(), program);
    assert_eq!(fakes.scaling().writes(), Vec::<String>::new());
    let template = fakes.template();

    // Changed outside Pulumi: the range, a target, a policy deleted and one of the service's
    // names added; someone else's policy on the target too.
    let drift = |fakes: &Fakes| {
        fakes
            .scaling()
            .targets
            .lock()
            .unwrap()
            .insert(RESOURCE_ID.into(), as_program(2, 9).unwrap());
        fakes.scaling().policies.lock().unwrap().insert(
            RESOURCE_ID.into(),
            vec![
                policy("defang-shop-web-cpu", CPU, 55.5),
                policy("defang-shop-web-requests", CPU, 10.0),
                policy("someone-elses", MEMORY, 40.0),
            ],
        );
    };
    drift(&fakes);
    fakes.forget_calls();
    // A preview calls nothing.
    fakes.up_unchanged(&created, true).await;
    assert_eq!(
        fakes.scaling().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );

    let messages = fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.template(),
        template,
        "CloudFormation had nothing to do"
    );
    assert_eq!(
        fakes.scaling().writes(),
        [
            format!("RegisterScalableTarget {RESOURCE_ID} 2..6"),
            format!("PutScalingPolicy {RESOURCE_ID} defang-shop-web-cpu"),
            format!("PutScalingPolicy {RESOURCE_ID} defang-shop-web-memory"),
            format!("DeleteScalingPolicy {RESOURCE_ID} defang-shop-web-requests"),
        ]
    );
    assert_eq!(fakes.target(), as_program(2, 6));
    let mut with_foreign = program.clone();
    with_foreign.push(("someone-elses".to_string(), MEMORY.to_string(), 40.0));
    assert_eq!(
        fakes.policies(),
        with_foreign,
        "someone else's is left alone"
    );
    let said = messages
        .iter()
        .find(|m| m.contains("had changed outside Pulumi"))
        .unwrap_or_else(|| panic!("{messages:?}"));
    assert!(
        said.contains(RESOURCE_ID) && said.contains("defang-shop-web-cpu"),
        "{said}"
    );

    // Nothing drifted since: reads only.
    fakes.forget_calls();
    let messages = fakes.up_unchanged(&created, false).await;
    assert_eq!(fakes.scaling().writes(), Vec::<String>::new());
    assert!(
        !messages.iter().any(|m| m.contains("outside Pulumi")),
        "{messages:?}"
    );

    // Deregistered outside Pulumi (its policies went with it): registered and put again,
    // through a write AWS first refuses as busy.
    fakes.scaling().targets.lock().unwrap().clear();
    fakes.scaling().policies.lock().unwrap().clear();
    *fakes.scaling().busy_writes.lock().unwrap() = 1;
    fakes.forget_calls();
    let messages = fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.scaling().writes(),
        [
            format!("RegisterScalableTarget {RESOURCE_ID} 2..6"),
            format!("RegisterScalableTarget {RESOURCE_ID} 2..6"),
            format!("PutScalingPolicy {RESOURCE_ID} defang-shop-web-cpu"),
            format!("PutScalingPolicy {RESOURCE_ID} defang-shop-web-memory"),
        ]
    );
    assert_eq!(fakes.target(), as_program(2, 6));
    assert_eq!(fakes.policies(), program);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("registered the scalable target again")),
        "{messages:?}"
    );

    // A program change goes through CloudFormation as before; nothing else is written.
    fakes.forget_calls();
    let mut narrower = inputs.clone();
    narrower.insert(
        "autoscaling".into(),
        from_json(json!({"min": 1, "max": 3, "targetCpu": 50})),
    );
    fakes.up(&created, &narrower).await;
    assert_eq!(fakes.scaling().writes(), Vec::<String>::new());
    assert_eq!(fakes.target(), as_program(1, 3));
    assert_eq!(
        fakes.policies(),
        [("defang-shop-web-cpu".to_string(), CPU.to_string(), 50.0)]
    );

    // Without autoscaling, Application Auto Scaling is not asked at all.
    let fakes = Fakes::new().await;
    let inputs = web_inputs(json!({"replicas": 2}));
    let created = fakes.create(&inputs).await;
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.scaling().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );
}

/// The role's name in the fakes (the stack's output `TaskRoleArn`).
fn role() -> String {
    task_role::role_name(&format!("fake:{STACK}:TaskRoleArn")).to_string()
}

#[tokio::test(start_paused = true)]
async fn up_puts_back_the_roles_policies_and_statements_changed_outside_pulumi() {
    let fakes = Fakes::new().await;
    let inputs = web_inputs(json!({
        "policies": ["AmazonS3ReadOnlyAccess", "service-role/AWSLambdaRole"],
        "policyStatements": [
            {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
        ],
        "enableExec": true,
    }));
    let created = fakes.create(&inputs).await;
    let role = role();
    let program_managed = vec![
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string(),
        "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".to_string(),
    ];
    let attached = || {
        let mut list = fakes.roles().attached.lock().unwrap()[&role].clone();
        list.sort();
        list
    };
    let inline = |name: &str| {
        fakes.roles().inline.lock().unwrap()[&role]
            .get(name)
            .cloned()
    };
    // As the stack just made it: not even read.
    assert_eq!(attached(), program_managed);
    let written = inline("statements").expect("the statements");
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );
    // Nothing drifted: read, nothing written.
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        [
            format!("ListAttachedRolePolicies {role}"),
            format!("GetRolePolicy {role} statements")
        ]
    );

    // Outside Pulumi: Lambda's detached, SQS's attached, the statements edited, and the
    // stack's `ecs-exec` policy edited (not the program's to say: left alone).
    fakes.roles().attached.lock().unwrap().insert(
        role.clone(),
        vec![
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess".into(),
        ],
    );
    let exec =
        json!({"Statement": [{"Effect": "Allow", "Action": "ssmmessages:*", "Resource": "*"}]});
    {
        let mut inline = fakes.roles().inline.lock().unwrap();
        let policies = inline.get_mut(&role).unwrap();
        policies.insert(
            "statements".into(),
            json!({"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}),
        );
        policies.insert("ecs-exec".into(), exec.clone());
    }
    fakes.forget_calls();
    // A preview calls nothing.
    fakes.up_unchanged(&created, true).await;
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );

    let messages = fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().writes(),
        [
            format!("DetachRolePolicy {role} arn:aws:iam::aws:policy/AmazonSQSFullAccess"),
            format!("AttachRolePolicy {role} arn:aws:iam::aws:policy/service-role/AWSLambdaRole"),
            format!("PutRolePolicy {role} statements"),
        ]
    );
    assert_eq!(attached(), program_managed);
    assert_eq!(
        inline("statements"),
        Some(written.clone()),
        "as the stack wrote it"
    );
    assert_eq!(
        inline("ecs-exec"),
        Some(exec),
        "not the program's: left alone"
    );
    let said = messages
        .iter()
        .find(|m| m.contains("had changed outside Pulumi"))
        .unwrap_or_else(|| panic!("{messages:?}"));
    assert!(
        said.contains(&role) && said.contains("statements"),
        "{said}"
    );
    assert!(
        !said.contains("sqs:SendMessage"),
        "no policy values: {said}"
    );

    // Nothing drifted since: reads only.
    fakes.forget_calls();
    fakes.up_unchanged(&created, false).await;
    assert_eq!(fakes.roles().writes(), Vec::<String>::new());

    // The statements deleted outside Pulumi, through a write IAM first refuses as busy.
    fakes
        .roles()
        .inline
        .lock()
        .unwrap()
        .get_mut(&role)
        .unwrap()
        .remove("statements");
    *fakes.roles().busy_writes.lock().unwrap() = 1;
    fakes.forget_calls();
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().writes(),
        [
            format!("PutRolePolicy {role} statements"),
            format!("PutRolePolicy {role} statements"),
        ]
    );
    assert_eq!(inline("statements"), Some(written));

    // Statements removed from the program (CloudFormation deletes the policy), then put on
    // the role outside Pulumi: deleted.
    let mut without = inputs.clone();
    without.remove("policyStatements");
    let (created, _) = fakes.up(&created, &without).await;
    assert_eq!(inline("statements"), None);
    fakes
        .roles()
        .inline
        .lock()
        .unwrap()
        .get_mut(&role)
        .unwrap()
        .insert(
            "statements".into(),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        );
    fakes.forget_calls();
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().writes(),
        [format!("DeleteRolePolicy {role} statements")]
    );
    assert_eq!(inline("statements"), None);

    // The role deleted outside Pulumi: a warning, no writes, and the deploy goes on.
    fakes.roles().attached.lock().unwrap().clear();
    fakes.roles().inline.lock().unwrap().clear();
    fakes.forget_calls();
    let messages = fakes.up_unchanged(&created, false).await;
    assert_eq!(fakes.roles().writes(), Vec::<String>::new());
    assert!(
        messages.iter().any(|m| m.contains("does not exist")),
        "{messages:?}"
    );
}

/// A role of the user's own (`taskRoleArn`) is never read nor written, even while the
/// service's stack keeps the role it made before; nor is anything for a service without a role.
#[tokio::test(start_paused = true)]
async fn a_users_task_role_is_never_touched() {
    let fakes = Fakes::new().await;
    let inputs = web_inputs(json!({"policies": ["AmazonS3ReadOnlyAccess"]}));
    let created = fakes.create(&inputs).await;
    let role = role();
    // Now the user's role; the stack's is kept, unused (and changed outside Pulumi).
    let mut mine = inputs.clone();
    mine.remove("policies");
    mine.insert(
        "taskRoleArn".into(),
        Value::from("arn:aws:iam::123456789012:role/mine"),
    );
    let (created, _) = fakes.up(&created, &mine).await;
    assert!(
        fakes.template()["Resources"]["TaskRole"].is_object(),
        "the stack keeps its role"
    );
    fakes.roles().attached.lock().unwrap().insert(
        role.clone(),
        vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
    );
    fakes.forget_calls();
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );

    let fakes = Fakes::new().await;
    let inputs = web_inputs(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/mine"}));
    let created = fakes.create(&inputs).await;
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );

    let fakes = Fakes::new().await;
    let inputs = web_inputs(json!({}));
    let created = fakes.create(&inputs).await;
    fakes.up_unchanged(&created, false).await;
    assert_eq!(
        fakes.roles().calls.lock().unwrap().clone(),
        Vec::<String>::new()
    );
}
