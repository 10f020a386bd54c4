//! The pure hot paths of the Defang resources, on a realistic service (image, an ingress and a
//! host port, 20 environment variables of which 2 are secret, a health check, cpu and memory):
//! Check, Diff, the service's and the project's CloudFormation templates and the task
//! definition plan.
//!
//! `cargo bench -p defang-resources`; `scripts/bench/criterion_summary.py` prints the results.

use criterion::{Criterion, criterion_group, criterion_main};
use defang_resources::project::ProjectInputs;
use defang_resources::project::outputs::{IngressInfo, ProjectInfo};
use defang_resources::runtime::Runtime;
use defang_resources::service::inputs::ResolvedService;
use defang_resources::service::resource::ServiceResource;
use defang_resources::service::task_definition::plan_task_definition;
use defang_resources::service::{check, lifecycle, network_stack, rule_priorities, secrets};
use pulumi_plugin::value::from_json;
use pulumi_plugin::{CheckRequest, DiffRequest, PropertyMap, Resources, Value};
use serde_json::json;
use std::hint::black_box;
use std::time::Duration;

const NAME: &str = "web";
const REGION: &str = "us-east-1";
const SECRET_VARS: [&str; 2] = ["DATABASE_PASSWORD", "STRIPE_API_KEY"];

/// The service's inputs as the engine sends them (secrets wrapped).
fn service_props() -> PropertyMap {
    let mut environment: serde_json::Map<String, serde_json::Value> = (0..18)
        .map(|i| {
            (
                format!("SETTING_{i:02}"),
                json!(format!("value-{i}-of-a-typical-setting")),
            )
        })
        .collect();
    for var in SECRET_VARS {
        environment.insert(var.into(), json!(format!("{var}-plaintext-value")));
    }
    let mut props = match from_json(json!({
        "project": "shop",
        "name": NAME,
        "image": "nginx:1.27-alpine",
        "ports": [
            {"target": 8080, "mode": "ingress", "appProtocol": "http"},
            {"target": 9090, "mode": "host"},
        ],
        "environment": environment,
        "cpus": 0.5,
        "memory": "1GiB",
        "healthCheck": {
            "test": ["CMD", "curl", "-f", "http://localhost:8080/healthz"],
            "intervalSeconds": 10,
            "timeoutSeconds": 5,
            "retries": 3,
            "startPeriodSeconds": 20,
        },
    })) {
        Value::Object(map) => map,
        other => panic!("not an object: {other:?}"),
    };
    if let Some(Value::Object(env)) = props.get_mut("environment") {
        for var in SECRET_VARS {
            let v = env.remove(var).expect("secret variable");
            env.insert(var.into(), v.into_secret());
        }
    }
    props
}

fn resolved(props: &PropertyMap) -> ResolvedService {
    let (inputs, failures) = check::check_service(props, NAME);
    assert!(failures.is_empty(), "{failures:?}");
    inputs.expect("inputs").resolved(NAME).expect("resolved")
}

fn project_info() -> ProjectInfo {
    ProjectInfo {
        name: "shop".into(),
        cluster_name: "defang-shop".into(),
        subnet_ids: vec!["subnet-0a1b2c3d".into(), "subnet-4e5f6a7b".into()],
        security_group_id: "sg-0123456789abcdef0".into(),
        execution_role_arn: "arn:aws:iam::123456789012:role/defang-shop-execution".into(),
        log_group_name: "/defang/shop".into(),
        assign_public_ip: true,
        context_bucket: None,
        build_project: None,
        vpc_id: "vpc-0123456789abcdef0".into(),
        private_namespace_id: Some("ns-abcdef0123456789".into()),
        load_balancer_policy: Some("auto".into()),
        ingress: Some(IngressInfo {
            zone_id: "Z0123456789ABCDEFGHIJ".into(),
            zone_name: "shop.alice.defang.app".into(),
            https_listener_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/defang-shop/0123456789abcdef/0123456789abcdef".into(),
            load_balancer_dns_name: "defang-shop-123456789.us-east-1.elb.amazonaws.com".into(),
            load_balancer_zone_id: "Z35SXDOTRQ7X7K".into(),
            load_balancer_security_group_id: "sg-0fedcba9876543210".into(),
            adopted: false,
        }),
    }
}

fn urn() -> String {
    format!("urn:pulumi:dev::shop::{}::{NAME}", lifecycle::TOKEN)
}

fn check_benches(c: &mut Criterion) {
    let props = service_props();
    let mut g = c.benchmark_group("service");
    g.bench_function("check_service", |b| {
        b.iter(|| check::check_service(black_box(&props), NAME))
    });
    // The whole Check and Diff as the provider runs them (Check before Configure: no cloud
    // calls).
    let service = Resources::<Runtime>::default().typed(ServiceResource);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let req = CheckRequest {
        urn: urn(),
        name: NAME.into(),
        type_token: lifecycle::TOKEN.into(),
        olds: PropertyMap::new(),
        news: props.clone(),
    };
    let check = |req: &CheckRequest| rt.block_on(service.check(None, req.clone())).unwrap();
    assert!(check(&req).failures.is_empty());
    g.bench_function("check", |b| b.iter(|| check(black_box(&req))));

    // Diff after an edit: a new image tag and one changed variable.
    let mut news = props.clone();
    news.insert("image".into(), Value::from("nginx:1.28-alpine"));
    if let Some(Value::Object(env)) = news.get_mut("environment") {
        env.insert("SETTING_07".into(), Value::from("changed"));
    }
    let req = DiffRequest {
        id: "shop/web".into(),
        urn: urn(),
        name: NAME.into(),
        type_token: lifecycle::TOKEN.into(),
        old_outputs: props.clone(),
        old_inputs: props.clone(),
        news,
        ignore_changes: Vec::new(),
    };
    let diff = |req: &DiffRequest| rt.block_on(service.diff(req.clone())).unwrap();
    assert!(diff(&req).has_changes());
    g.bench_function("diff", |b| b.iter(|| diff(black_box(&req))));
    g.finish();
}

fn plan_benches(c: &mut Criterion) {
    let props = service_props();
    let svc = resolved(&props);
    let project = project_info();
    let mut g = c.benchmark_group("service");

    let hosts = network_stack::rule_hosts(&svc, &project, false);
    let priorities = rule_priorities::allocate(&hosts, &[]).expect("priorities");
    network_stack::render(&svc, &project, None, &priorities).expect("service template");
    g.bench_function("network_stack_template", |b| {
        b.iter(|| {
            network_stack::render(black_box(&svc), black_box(&project), None, &priorities)
                .expect("service template")
        })
    });

    let arns: Vec<(String, String)> = secrets::secret_environment(&props)
        .keys()
        .map(|var| {
            let name = secrets::parameter_name(&svc.project, &svc.name, var, 1);
            (
                var.clone(),
                format!("arn:aws:ssm:{REGION}:123456789012:parameter{name}"),
            )
        })
        .collect();
    assert_eq!(arns.len(), SECRET_VARS.len());
    g.bench_function("task_definition", |b| {
        b.iter(|| plan_task_definition(black_box(&svc), black_box(&project), REGION, &arns))
    });
    g.finish();

    let mut g = c.benchmark_group("project");
    let inputs = ProjectInputs {
        load_balancer: Some(true),
        tags: Some(
            [("team", "payments"), ("env", "dev")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    };
    let project = inputs.resolve("shop", "alice", "defang.app");
    defang_resources::project::template::render(&project, REGION).expect("project template");
    g.bench_function("template", |b| {
        b.iter(|| {
            defang_resources::project::template::render(black_box(&project), REGION)
                .expect("project template")
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = check_benches, plan_benches
}
criterion_main!(benches);
