//! End to end, a service's own AWS permissions, secrets that already exist and its container
//! and service settings (issue 13 items 1, 4, 5): a YAML program through the real `pulumi` CLI
//! against moto. An SSM parameter and a Secrets Manager secret are made first, as a user's
//! would exist; then `up`, an edit of a policy (an in-place update of the role, no new task
//! revision), refresh (no drift), the role's policies and statements changed outside Pulumi
//! (refresh shows them as drift; `up` puts them back although CloudFormation's template is
//! unchanged, and refresh after it shows nothing), the secrets removed (the execution role's
//! grant goes), and destroy (the role goes). What AWS holds is read, and changed outside
//! Pulumi, with AWS calls: the ECS and CloudFormation SDKs, and boto3 (moto's own Python) for
//! IAM and Secrets Manager, as a user's script would.

use defang_tests::Moto;
use defang_tests::moto::moto_python;
use defang_tests::pulumi::{Workspace, replace_once};
use defang_tests::runtime;
use serde_json::{Value, json};

const PROGRAM: &str = r#"name: permissions
runtime: yaml
plugins:
  providers:
    - name: defang
      path: ../../target/debug
resources:
  shop:
    type: defang:index:Project
    properties:
      name: shop
  web:
    type: defang:index:Service
    properties:
      project: ${shop.name}
      image: nginx:1.27-alpine
      ports:
        - target: 80
          mode: host
      policies:
        - AmazonS3ReadOnlyAccess
      policyStatements:
        - actions: ["sqs:SendMessage"]
          resources: ["arn:aws:sqs:us-east-1:123456789012:jobs"]
      secrets:
        DB_PASSWORD:
          ssm: /app/db-password
        API_TOKEN:
          secretsManager: prod/api
          key: token
      enableExec: true
      workingDir: /srv
      user: "1000:1000"
      stopGracePeriod: 90
      ephemeralStorage: 30
      init: true
"#;

const SERVICE_STACK: &str = "defang-shop-S-web";

/// Runs `script` with boto3 against moto; it prints one JSON value.
fn boto3(moto: &Moto, script: &str) -> Value {
    let out = std::process::Command::new(moto_python())
        .arg("-c")
        .arg(format!("import boto3, json\n{script}"))
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("boto3");
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("boto3 printed JSON")
}

/// The role's managed policy ARNs and its inline policies (name → document).
fn role_policies(moto: &Moto, role: &str) -> (Value, Value) {
    let got = boto3(
        moto,
        &format!(
            r#"iam = boto3.client("iam")
managed = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="{role}")["AttachedPolicies"])
inline = {{n: iam.get_role_policy(RoleName="{role}", PolicyName=n)["PolicyDocument"] for n in iam.list_role_policies(RoleName="{role}")["PolicyNames"]}}
print(json.dumps([managed, inline]))"#
        ),
    );
    (got[0].clone(), got[1].clone())
}

/// The inputs of service `web` in the exported state.
fn web_inputs(ws: &Workspace) -> Value {
    Workspace::exported_resources(&ws.stack_export(), "web")
        .into_iter()
        .next()
        .expect("web in the state")["inputs"]
        .clone()
}

fn role_names(moto: &Moto) -> Vec<String> {
    let names = boto3(
        moto,
        r#"print(json.dumps([r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]]))"#,
    );
    serde_json::from_value(names).unwrap()
}

async fn stack_outputs(moto: &Moto, stack: &str) -> std::collections::BTreeMap<String, String> {
    let out = moto
        .cloudformation()
        .await
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    out.stacks()[0]
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap().to_string(),
                o.output_value().unwrap().to_string(),
            )
        })
        .collect()
}

fn name_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap().to_string()
}

#[test]
fn a_services_role_secrets_and_settings() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let rt = runtime();
    // Secrets of the user's own, made before the program runs.
    rt.block_on(async {
        moto.ssm()
            .await
            .put_parameter()
            .name("/app/db-password")
            .value("db-secret-value")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    });
    boto3(
        &moto,
        r#"boto3.client("secretsmanager").create_secret(Name="prod/api", SecretString=json.dumps({"token": "t0ken"}))
print("null")"#,
    );

    let ws = Workspace::for_program("permissions", PROGRAM, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let (out, _, _) = ws.up("up (create)");
    out.ok();

    // --- the service's own role, with exactly its policies ---------------------------------
    let outputs = rt.block_on(stack_outputs(&moto, SERVICE_STACK));
    let role_arn = outputs["TaskRoleArn"].clone();
    let role = name_of(&role_arn);
    let (managed, inline) = role_policies(&moto, &role);
    assert_eq!(
        managed,
        json!(["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
    );
    assert_eq!(
        inline["statements"]["Statement"],
        json!([{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:aws:sqs:us-east-1:123456789012:jobs"]}])
    );
    assert_eq!(
        inline["ecs-exec"]["Statement"][0]["Action"],
        json!([
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel"
        ])
    );
    assert_eq!(inline.as_object().unwrap().len(), 2, "{inline:#}");

    // --- the execution role may read exactly the referenced secrets ------------------------
    let project = rt.block_on(stack_outputs(&moto, "defang-shop"));
    let exec_role = name_of(&project["ExecutionRoleArn"]);
    assert_ne!(
        exec_role, role,
        "the application never runs as the execution role"
    );
    let (_, exec_inline) = role_policies(&moto, &exec_role);
    assert_eq!(
        exec_inline["defang-shop-S-web-secrets"]["Statement"],
        json!([
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-??????",
            ]},
            {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password",
            ]},
        ]),
        "{exec_inline:#}"
    );

    // --- the task definition and the service -------------------------------------------------
    let (service, td) = rt.block_on(async {
        let ecs = moto.ecs().await;
        let service = ecs
            .describe_services()
            .cluster("defang-shop")
            .services("web")
            .send()
            .await
            .unwrap()
            .services()[0]
            .clone();
        let td = ecs
            .describe_task_definition()
            .task_definition(service.task_definition().unwrap())
            .send()
            .await
            .unwrap()
            .task_definition()
            .unwrap()
            .clone();
        (service, td)
    });
    assert!(service.enable_execute_command());
    assert_eq!(td.task_role_arn(), Some(role_arn.as_str()));
    assert_eq!(
        td.execution_role_arn(),
        Some(project["ExecutionRoleArn"].as_str())
    );
    assert_eq!(td.ephemeral_storage().map(|e| e.size_in_gib()), Some(30));
    let container = &td.container_definitions()[0];
    assert_eq!(container.working_directory(), Some("/srv"));
    assert_eq!(container.user(), Some("1000:1000"));
    assert_eq!(container.stop_timeout(), Some(90));
    assert_eq!(
        container
            .linux_parameters()
            .and_then(|l| l.init_process_enabled()),
        Some(true)
    );
    let mut secrets: Vec<(String, String)> = container
        .secrets()
        .iter()
        .map(|s| (s.name().to_string(), s.value_from().to_string()))
        .collect();
    secrets.sort();
    assert_eq!(
        secrets,
        [
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
    let td_arn = td.task_definition_arn().unwrap().to_string();

    // --- a policy edit: the role changes in place; the tasks keep their revision -----------
    ws.edit_program(|p| replace_once(p, "- AmazonS3ReadOnlyAccess", "- AmazonSQSReadOnlyAccess"));
    let preview = ws.preview_ok("preview (policy edit)");
    assert_eq!(preview.ops_for("web"), ["update"], "{}", preview.0.text());
    assert_eq!(preview.step("web")["diffs"], json!(["policies"]));
    let (out, _, _) = ws.up("up (policy edit)");
    out.ok();
    let outputs = rt.block_on(stack_outputs(&moto, SERVICE_STACK));
    assert_eq!(outputs["TaskRoleArn"], role_arn, "the same role");
    let (managed, _) = role_policies(&moto, &role);
    assert_eq!(
        managed,
        json!(["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"])
    );
    let running = rt.block_on(async {
        moto.ecs()
            .await
            .describe_services()
            .cluster("defang-shop")
            .services("web")
            .send()
            .await
            .unwrap()
            .services()[0]
            .task_definition()
            .unwrap()
            .to_string()
    });
    assert_eq!(running, td_arn, "no new task definition revision");

    // --- refresh: nothing drifted, nothing to do -----------------------------------------------
    let (out, events, _) = ws.refresh("refresh");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let preview = ws.preview_ok("preview (after refresh)");
    assert_eq!(preview.ops_for("web"), ["same"], "{}", preview.0.text());

    // --- policies changed outside Pulumi: refresh shows them as drift -----------------------
    let (_, deployed_inline) = role_policies(&moto, &role);
    boto3(
        &moto,
        &format!(
            r#"iam = boto3.client("iam")
iam.detach_role_policy(RoleName="{role}", PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
iam.attach_role_policy(RoleName="{role}", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
iam.put_role_policy(RoleName="{role}", PolicyName="statements", PolicyDocument=json.dumps(
    {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}]}}))
print("null")"#
        ),
    );
    let (out, events, _) = ws.refresh("refresh (policies changed outside)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("update"), Some(&1), "{changes:?}");
    let inputs = web_inputs(&ws);
    assert_eq!(
        inputs["policies"],
        json!(["arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"])
    );
    assert_eq!(
        inputs["policyStatements"],
        json!([{"actions": ["sqs:SendMessage"], "resources": ["*"]}])
    );

    // --- up puts the role back to the program ------------------------------------------------
    // CloudFormation has nothing to do (the template is unchanged): the provider writes the
    // program's policies and statements itself, and says so.
    let preview = ws.preview_ok("preview (after drift)");
    assert_eq!(preview.ops_for("web"), ["update"], "{}", preview.0.text());
    let (out, events, _) = ws.up("up (after drift)");
    out.ok();
    let (managed, inline) = role_policies(&moto, &role);
    assert_eq!(
        managed,
        json!(["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"])
    );
    assert_eq!(
        inline, deployed_inline,
        "the statements as the stack wrote them; ecs-exec untouched"
    );
    let said: Vec<String> = events
        .diagnostics()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .filter(|m| m.contains("had changed outside Pulumi"))
        .map(str::to_string)
        .collect();
    assert_eq!(said.len(), 1, "{}", events.text());
    assert!(said[0].contains(&role), "{said:?}");
    // Refresh after it: nothing drifted, the inputs as the user wrote them.
    let (out, events, _) = ws.refresh("refresh (after up)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let inputs = web_inputs(&ws);
    assert_eq!(
        inputs["policies"],
        json!(["AmazonSQSReadOnlyAccess"]),
        "as the user wrote it"
    );
    // And another up changes nothing in IAM (nothing drifted: the provider only reads).
    let (out, events, _) = ws.up("up (nothing drifted)");
    out.ok();
    assert!(
        !events.text().contains("had changed outside Pulumi"),
        "{}",
        events.text()
    );
    assert_eq!(role_policies(&moto, &role), (managed, inline));

    // --- the secrets removed: the execution role's grant goes with them --------------------
    ws.edit_program(|p| {
        let start = p.find("      secrets:").unwrap();
        let end = p.find("      enableExec:").unwrap();
        format!("{}{}", &p[..start], &p[end..])
    });
    let (out, _, _) = ws.up("up (secrets removed)");
    out.ok();
    let (_, exec_inline) = role_policies(&moto, &exec_role);
    assert!(
        exec_inline.get("defang-shop-S-web-secrets").is_none(),
        "{exec_inline:#}"
    );

    // --- destroy: the role and its policies are gone ---------------------------------------
    let (out, _, _) = ws.destroy("destroy");
    out.ok();
    let roles = role_names(&moto);
    assert!(!roles.contains(&role), "{roles:?}");
    assert!(!roles.contains(&exec_role), "{roles:?}");
    ws.print_timings();
}
