//! End to end, a service's autoscaling and Fargate Spot (issue 13 items 2, 3 and 8): a YAML
//! program through the real `pulumi` CLI against moto. `up` (the scalable target and its CPU
//! and request policies in the service's stack, the ECS service on a FARGATE/FARGATE_SPOT
//! strategy in a cluster that has both), a count changed outside Pulumi as a scaler would
//! (refresh shows it as `desiredCount`, not drift), a range and a target changed outside
//! Pulumi (refresh shows them as drift; `up` puts them back although the stack's template is
//! unchanged, and refresh after it shows nothing), the range changed in place (the count stays;
//! refresh after it shows nothing), the scalable target deregistered outside Pulumi (refresh
//! shows autoscaling gone and the count as `replicas`; `up` registers it again with its
//! policies), autoscaling and Spot turned off (target and policies gone, back to `replicas` and
//! the launch type), destroy. What AWS holds is read, and
//! changed outside Pulumi, with the ECS SDK and boto3 (moto's own Python), as a user's script
//! would.

use defang_tests::Moto;
use defang_tests::moto::moto_python;
use defang_tests::pulumi::{Workspace, replace_once};
use defang_tests::runtime;
use serde_json::{Value, json};

const PROGRAM: &str = r#"name: scaling
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
      autoscaling:
        min: 2
        max: 4
        targetCpu: 70
        targetRequestsPerTarget: 500
      capacity:
        spot: 3
        onDemand: 1
        onDemandBase: 1
"#;

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

/// The service's scalable targets (min, max) and policies (name → target value, metric, label).
fn scaling(moto: &Moto) -> (Value, Value) {
    let got = boto3(
        moto,
        r#"aas = boto3.client("application-autoscaling")
targets = [[t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]] for t in aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]]
policies = {p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"] for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]}
print(json.dumps([targets, policies]))"#,
    );
    (got[0].clone(), got[1].clone())
}

/// What the provider said it put back (its messages about changes outside Pulumi).
fn put_back(events: &defang_tests::pulumi::Events) -> Vec<String> {
    events
        .diagnostics()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .filter(|m| m.contains("had changed outside Pulumi"))
        .map(|m| m.trim().to_string())
        .collect()
}

/// The service's scalable target, as boto3's keyword arguments.
const TARGET: &str = r#"ServiceNamespace="ecs", ResourceId="service/defang-shop/web", ScalableDimension="ecs:service:DesiredCount""#;

/// The service `web` in the exported state (its inputs and outputs).
fn web_state(ws: &Workspace) -> Value {
    ws.stack_export()["deployment"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["urn"].as_str().is_some_and(|u| u.ends_with("::web")))
        .unwrap()
        .clone()
}

/// The ECS service: (desired count, launch type, strategy as (provider, weight, base)).
fn service(moto: &Moto) -> (i32, Option<String>, Vec<(String, i32, i32)>) {
    runtime().block_on(async {
        let out = moto
            .ecs()
            .await
            .describe_services()
            .cluster("defang-shop")
            .services("web")
            .send()
            .await
            .unwrap();
        let s = &out.services()[0];
        let mut strategy: Vec<(String, i32, i32)> = s
            .capacity_provider_strategy()
            .iter()
            .map(|i| (i.capacity_provider().to_string(), i.weight(), i.base()))
            .collect();
        strategy.sort();
        (
            s.desired_count(),
            s.launch_type().map(|l| l.as_str().to_string()),
            strategy,
        )
    })
}

#[test]
fn autoscaling_and_spot_through_the_cli() {
    // Enough running tasks for every count the test sets: rollouts complete.
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "2")]);
    let ws = Workspace::for_program("scaling", PROGRAM, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let (out, _, _) = ws.up("up (create)");
    out.ok();

    // --- the cluster has both providers; the service a strategy, no launch type ------------
    let providers = boto3(
        &moto,
        r#"print(json.dumps(boto3.client("ecs").describe_clusters(clusters=["defang-shop"])["clusters"][0].get("capacityProviders")))"#,
    );
    assert_eq!(providers, json!(["FARGATE", "FARGATE_SPOT"]));
    let (desired, launch_type, strategy) = service(&moto);
    assert_eq!(desired, 2, "created at min");
    assert_eq!(launch_type, None);
    assert_eq!(
        strategy,
        [
            ("FARGATE".to_string(), 1, 1),
            ("FARGATE_SPOT".to_string(), 3, 0)
        ]
    );

    // --- the scalable target and its policies ----------------------------------------------
    let (targets, policies) = scaling(&moto);
    assert_eq!(targets, json!([["service/defang-shop/web", 2, 4]]));
    assert_eq!(
        policies["defang-shop-web-cpu"],
        json!({"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    );
    let requests = policies["defang-shop-web-requests"].clone();
    assert_eq!(requests["TargetValue"], json!(500.0));
    let label = requests["PredefinedMetricSpecification"]["ResourceLabel"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        label.starts_with("app/") && label.contains("/targetgroup/"),
        "{label}"
    );
    assert_eq!(policies.as_object().unwrap().len(), 2, "{policies:#}");

    // --- a scaler's count: refresh shows it as an output, not as drift ---------------------
    boto3(
        &moto,
        r#"boto3.client("ecs").update_service(cluster="defang-shop", service="web", desiredCount=3)
print("null")"#,
    );
    let (out, events, _) = ws.refresh("refresh (scaled to 3)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let preview = ws.preview_ok("preview (after refresh)");
    assert_eq!(preview.ops_for("web"), ["same"], "{}", preview.0.text());
    // The service's state holds the live count (stack outputs change only on `up`).
    let web = web_state(&ws);
    assert_eq!(
        web["outputs"]["desiredCount"],
        json!(3),
        "{:#}",
        web["outputs"]
    );
    assert!(
        web["inputs"].get("replicas").is_none(),
        "{:#}",
        web["inputs"]
    );

    // --- the range and a target changed outside Pulumi: refresh shows them as drift --------
    boto3(
        &moto,
        &format!(
            r#"aas = boto3.client("application-autoscaling")
aas.register_scalable_target({TARGET}, MinCapacity=2, MaxCapacity=5)
aas.put_scaling_policy(PolicyName="defang-shop-web-cpu", {TARGET}, PolicyType="TargetTrackingScaling",
    TargetTrackingScalingPolicyConfiguration={{"TargetValue": 65.0, "PredefinedMetricSpecification": {{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}})
print("null")"#
        ),
    );
    let (out, events, _) = ws.refresh("refresh (range changed outside)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("update"), Some(&1), "{changes:?}");
    assert_eq!(
        web_state(&ws)["inputs"]["autoscaling"],
        json!({"min": 2, "max": 5, "targetCpu": 65, "targetRequestsPerTarget": 500}),
        "the live range and targets"
    );

    // --- up puts them back to the program (CloudFormation's template is unchanged) --------
    let (out, events, _) = ws.up("up (after drift)");
    out.ok();
    let (targets, policies) = scaling(&moto);
    assert_eq!(targets, json!([["service/defang-shop/web", 2, 4]]));
    assert_eq!(
        policies["defang-shop-web-cpu"],
        json!({"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    );
    assert_eq!(policies["defang-shop-web-requests"], requests, "untouched");
    assert_eq!(service(&moto).0, 3, "the scaler's count stays");
    assert_eq!(
        put_back(&events),
        [
            "the autoscaling of service/defang-shop/web had changed outside Pulumi; put back to the program: set its range, put scaling policies defang-shop-web-cpu"
        ]
    );
    let (out, events, _) = ws.refresh("refresh (after up)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    assert_eq!(
        web_state(&ws)["inputs"]["autoscaling"],
        json!({"min": 2, "max": 4, "targetCpu": 70, "targetRequestsPerTarget": 500}),
        "as the program says"
    );

    // --- a new range, in place: the scaler's 3 stays ---------------------------------------
    ws.edit_program(|p| {
        let p = replace_once(p, "max: 4", "max: 6");
        replace_once(&p, "targetCpu: 70", "targetCpu: 60")
    });
    let preview = ws.preview_ok("preview (range)");
    assert_eq!(preview.ops_for("web"), ["update"], "{}", preview.0.text());
    assert_eq!(
        preview.planned_outputs("web")["desiredCount"],
        json!(3),
        "the plan keeps the scaler's count"
    );
    let (out, _, _) = ws.up("up (range)");
    out.ok();
    let (targets, policies) = scaling(&moto);
    assert_eq!(targets, json!([["service/defang-shop/web", 2, 6]]));
    assert_eq!(policies["defang-shop-web-cpu"]["TargetValue"], json!(60.0));
    assert_eq!(service(&moto).0, 3, "not reset to min");
    // Nothing changed outside since: no drift.
    let (out, events, _) = ws.refresh("refresh (after the range change)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");

    // --- the scalable target deregistered outside Pulumi: refresh shows autoscaling gone ----
    boto3(
        &moto,
        &format!(
            r#"boto3.client("application-autoscaling").deregister_scalable_target({TARGET})
print("null")"#
        ),
    );
    let (out, events, _) = ws.refresh("refresh (target deregistered outside)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("update"), Some(&1), "{changes:?}");
    let inputs = web_state(&ws)["inputs"].clone();
    assert!(inputs.get("autoscaling").is_none(), "{inputs:#}");
    assert_eq!(
        inputs["replicas"],
        json!(3),
        "the count that runs, fixed now"
    );

    // --- up registers the target again, with its policies (the request one's label too) ----
    let (out, events, _) = ws.up("up (after deregistration)");
    out.ok();
    let (targets, policies) = scaling(&moto);
    assert_eq!(targets, json!([["service/defang-shop/web", 2, 6]]));
    assert_eq!(policies["defang-shop-web-cpu"]["TargetValue"], json!(60.0));
    assert_eq!(policies["defang-shop-web-requests"], requests);
    assert_eq!(policies.as_object().unwrap().len(), 2, "{policies:#}");
    assert_eq!(service(&moto).0, 3, "the count stays");
    assert_eq!(put_back(&events).len(), 1, "{}", events.text());
    let (out, events, _) = ws.refresh("refresh (after re-registration)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let inputs = web_state(&ws)["inputs"].clone();
    assert!(inputs.get("replicas").is_none(), "{inputs:#}");

    // --- autoscaling and Spot off: back to replicas and the launch type --------------------
    ws.edit_program(|p| {
        let start = p.find("      autoscaling:").unwrap();
        format!("{}      replicas: 1\n", &p[..start])
    });
    let preview = ws.preview_ok("preview (off)");
    assert_eq!(preview.ops_for("web"), ["update"], "{}", preview.0.text());
    let (out, _, _) = ws.up("up (off)");
    out.ok();
    let (targets, policies) = scaling(&moto);
    assert_eq!(targets, json!([]));
    assert_eq!(policies, json!({}));
    let (desired, launch_type, strategy) = service(&moto);
    assert_eq!(desired, 1);
    assert_eq!(launch_type.as_deref(), Some("FARGATE"));
    assert!(strategy.is_empty(), "{strategy:?}");

    // --- destroy ------------------------------------------------------------------------------
    let (out, _, _) = ws.destroy("destroy");
    out.ok();
    ws.print_timings();
}
