//! Integration tests of the adapters against a real moto server.
//!
//! The endpoint comes from the standard `AWS_ENDPOINT_URL`, exactly as the provider would
//! read it; the tests are skipped (with a message) only when it is unset. Tests run in
//! parallel on one moto server and stay apart by giving every resource a unique name.
//!
//!     AWS_ENDPOINT_URL=http://127.0.0.1:5055 cargo test -p defang-aws --test moto

use aws_config::SdkConfig;
use defang_aws::{AwsSettings, EcsAdapter, StackAdapter, config};
use defang_resources::cloud::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Moto {
    config: SdkConfig,
    ecs: EcsAdapter,
    stacks: StackAdapter,
    /// For looking at what the adapters' types do not expose (e.g. deploymentConfiguration).
    raw_ecs: aws_sdk_ecs::Client,
}

/// `None` (and a printed reason) when no emulator endpoint is configured.
async fn moto() -> Option<Moto> {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.trim().is_empty()) {
        eprintln!("skipped: AWS_ENDPOINT_URL is not set (start moto and point it there)");
        return None;
    }
    static DUMMY_ENV: Once = Once::new();
    DUMMY_ENV.call_once(|| {
        for (key, value) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ] {
            if std::env::var_os(key).is_none() {
                // SAFETY: every test calls this before it starts any SDK work, and `Once`
                // blocks the other test threads until it is done, so nothing reads the
                // environment concurrently.
                unsafe { std::env::set_var(key, value) };
            }
        }
    });
    let config = config::load(&AwsSettings::default())
        .await
        .expect("load AWS config");
    Some(Moto {
        ecs: EcsAdapter::new(config::ecs_client(&config)),
        stacks: StackAdapter::new(config::cloudformation_client(&config)),
        raw_ecs: config::ecs_client(&config),
        config,
    })
}

macro_rules! moto_or_skip {
    () => {
        match moto().await {
            Some(moto) => moto,
            None => return,
        }
    };
}

/// A name no other test (or earlier run against the same server) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let n = nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{prefix}-{:x}", n & 0xffff_ffff_ffff)
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn task_spec(family: &str, image: &str) -> TaskDefinitionSpec {
    TaskDefinitionSpec {
        family: family.to_owned(),
        cpu: 512,
        memory: 1024,
        cpu_architecture: CpuArchitecture::Arm64,
        execution_role_arn: Some("arn:aws:iam::123456789012:role/exec".into()),
        task_role_arn: Some("arn:aws:iam::123456789012:role/task".into()),
        ephemeral_storage_gib: Some(30),
        container: ContainerSpec {
            name: "web".into(),
            image: image.to_owned(),
            command: Some(vec!["serve".into(), "--port=8080".into()]),
            entrypoint: Some(vec!["/bin/app".into()]),
            environment: tags(&[("A_FIRST", "1"), ("LOG_LEVEL", "debug"), ("Z_LAST", "")]),
            secrets: tags(&[
                (
                    "API_KEY",
                    "arn:aws:ssm:us-east-1:123456789012:parameter/defang/shop/web/API_KEY",
                ),
                (
                    "DB_PASSWORD",
                    "arn:aws:ssm:us-east-1:123456789012:parameter/defang/shop/web/DB_PASSWORD",
                ),
            ]),
            port_mappings: vec![
                PortMapping {
                    container_port: 8080,
                    protocol: TransportProtocol::Tcp,
                    app_protocol: Some(AppProtocol::Http),
                    name: "web-8080-tcp".into(),
                },
                PortMapping {
                    container_port: 5353,
                    protocol: TransportProtocol::Udp,
                    app_protocol: None,
                    name: "web-5353-udp".into(),
                },
            ],
            health_check: Some(ContainerHealthCheck {
                command: vec![
                    "CMD-SHELL".into(),
                    "curl -f http://localhost:8080/ || exit 1".into(),
                ],
                interval_seconds: Some(15),
                timeout_seconds: Some(5),
                retries: Some(3),
                start_period_seconds: Some(10),
            }),
            log: Some(LogConfig {
                group: "/defang/test".into(),
                region: "us-east-1".into(),
                stream_prefix: "web".into(),
            }),
            working_directory: Some("/srv/app".into()),
            user: Some("1000:1000".into()),
            stop_timeout_seconds: Some(90),
            readonly_root_filesystem: true,
            init_process_enabled: true,
        },
        tags: tags(&[("defang:project", "test"), ("defang:service", "web")]),
    }
}

#[tokio::test]
async fn task_definitions_round_trip_list_and_deregister() {
    let moto = moto_or_skip!();
    let family = unique("td");
    let spec = task_spec(&family, "nginx:1");

    let first = moto.ecs.register_task_definition(&spec).await.unwrap();
    let described = moto
        .ecs
        .describe_task_definition(&first)
        .await
        .unwrap()
        .expect("registered revision exists");
    assert_eq!(described.arn, first);
    assert_eq!(described.revision, 1);
    assert_eq!(
        described.spec, spec,
        "plan -> register -> describe round-trips"
    );

    // A minimal spec round-trips too (no optional parts, x86).
    let mut minimal = task_spec(&family, "nginx:2");
    minimal.cpu_architecture = CpuArchitecture::X86_64;
    minimal.execution_role_arn = None;
    minimal.task_role_arn = None;
    minimal.tags.clear();
    minimal.container.command = None;
    minimal.container.entrypoint = None;
    minimal.container.environment.clear();
    minimal.container.port_mappings.clear();
    minimal.container.health_check = None;
    minimal.container.log = None;
    let second = moto.ecs.register_task_definition(&minimal).await.unwrap();
    let described = moto
        .ecs
        .describe_task_definition(&second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(described.revision, 2);
    assert_eq!(described.spec, minimal);

    // Another family that starts with ours must not be listed with it.
    let other = moto
        .ecs
        .register_task_definition(&task_spec(&format!("{family}-worker"), "nginx:1"))
        .await
        .unwrap();
    assert_eq!(
        moto.ecs.list_task_definitions(&family).await.unwrap(),
        vec![first.clone(), second.clone()]
    );

    moto.ecs.deregister_task_definition(&first).await.unwrap();
    moto.ecs.deregister_task_definition(&first).await.unwrap();
    assert_eq!(
        moto.ecs.list_task_definitions(&family).await.unwrap(),
        vec![second.clone()]
    );
    for arn in [&second, &other] {
        moto.ecs.deregister_task_definition(arn).await.unwrap();
    }

    let missing = format!("{family}-missing:1");
    assert_eq!(
        moto.ecs.describe_task_definition(&missing).await.unwrap(),
        None
    );
    moto.ecs.deregister_task_definition(&missing).await.unwrap();
    assert!(
        moto.ecs
            .list_task_definitions(&missing)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A VPC, subnet, security group and cluster, as one stack (moto checks subnet ids).
struct Network {
    stack: String,
    cluster: String,
    subnet: String,
    security_group: String,
}

async fn network(moto: &Moto) -> Network {
    let stack = unique("net");
    let template = json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"}},
            "Tasks": {"Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "tasks", "VpcId": {"Ref": "Vpc"}}},
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {
                "ClusterName": stack.clone(), "CapacityProviders": ["FARGATE", "FARGATE_SPOT"]}}
        },
        "Outputs": {
            "Cluster": {"Value": {"Ref": "Cluster"}},
            "Subnet": {"Value": {"Ref": "Subnet"}},
            "SecurityGroup": {"Value": {"Fn::GetAtt": ["Tasks", "GroupId"]}}
        }
    });
    let request = StackRequest {
        name: stack.clone(),
        template: template.to_string(),
        tags: BTreeMap::new(),
        parameters: Default::default(),
        client_token: unique("create"),
    };
    moto.stacks.create_stack(&request).await.unwrap();
    let state = settled(moto, &stack).await.expect("network stack exists");
    assert_eq!(state.status, "CREATE_COMPLETE", "{state:?}");
    Network {
        cluster: state.outputs["Cluster"].clone(),
        subnet: state.outputs["Subnet"].clone(),
        security_group: state.outputs["SecurityGroup"].clone(),
        stack,
    }
}

/// Waits until the stack is no longer in progress (at once on moto).
async fn settled(moto: &Moto, name: &str) -> Option<StackState> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let state = moto.stacks.describe_stack(name).await.unwrap();
        match state {
            Some(s) if s.is_in_progress() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

fn service_spec(net: &Network, name: &str, task_definition_arn: &str) -> ServiceSpec {
    ServiceSpec {
        cluster: net.cluster.clone(),
        name: name.to_owned(),
        task_definition_arn: task_definition_arn.to_owned(),
        desired_count: 1,
        network: NetworkSpec {
            subnets: vec![net.subnet.clone()],
            security_groups: vec![net.security_group.clone()],
            assign_public_ip: true,
        },
        routing: Default::default(),
        enable_execute_command: true,
        health_check_grace_period_seconds: None,
        capacity_provider_strategy: vec![],
        tags: tags(&[("defang:project", "test"), ("defang:service", name)]),
        client_token: unique("tok"),
    }
}

/// The circuit breaker as ECS stores it, which `ServiceState` does not carry.
async fn circuit_breaker(moto: &Moto, cluster: &str, name: &str) -> Option<(bool, bool)> {
    let out = moto
        .raw_ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .unwrap();
    let breaker = out.services()[0]
        .deployment_configuration()?
        .deployment_circuit_breaker()?;
    Some((breaker.enable(), breaker.rollback()))
}

/// A service on Fargate Spot: created with a capacity provider strategy (no launch type), moved
/// back to the launch type by an empty strategy, and refused a provider its cluster lacks.
#[tokio::test]
async fn services_on_fargate_spot() {
    let moto = moto_or_skip!();
    let net = network(&moto).await;
    let family = unique("spot");
    let td = moto
        .ecs
        .register_task_definition(&task_spec(&family, "nginx:1"))
        .await
        .unwrap();
    let item = |provider: &str, weight, base| CapacityProviderItem {
        provider: provider.into(),
        weight,
        base,
    };
    let mut spec = service_spec(&net, "spot", &td);
    spec.capacity_provider_strategy = vec![item("FARGATE", 1, 1), item("FARGATE_SPOT", 3, 0)];
    let created = moto.ecs.create_service(&spec).await.unwrap();
    assert_eq!(
        created.capacity_provider_strategy,
        spec.capacity_provider_strategy
    );
    let launch_type = |moto: &Moto, name: &'static str| {
        let (raw, cluster) = (moto.raw_ecs.clone(), net.cluster.clone());
        async move {
            let out = raw
                .describe_services()
                .cluster(cluster)
                .services(name)
                .send()
                .await
                .unwrap();
            out.services()[0]
                .launch_type()
                .map(|l| l.as_str().to_owned())
        }
    };
    assert_eq!(
        launch_type(&moto, "spot").await,
        None,
        "a strategy, not a launch type"
    );

    let back = moto
        .ecs
        .update_service(&ServiceUpdate {
            cluster: net.cluster.clone(),
            name: "spot".into(),
            capacity_provider_strategy: Some(vec![]),
            force_new_deployment: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(back.capacity_provider_strategy.is_empty(), "{back:?}");
    assert_eq!(launch_type(&moto, "spot").await.as_deref(), Some("FARGATE"));

    let mut unknown = service_spec(&net, "spot-ec2", &td);
    unknown.capacity_provider_strategy = vec![item("my-asg", 1, 0)];
    let err = moto.ecs.create_service(&unknown).await.unwrap_err();
    assert!(
        err.to_string().contains("not associated with the cluster"),
        "{err}"
    );
    moto.ecs.delete_service(&net.cluster, "spot").await.unwrap();
}

#[tokio::test]
async fn services_create_update_describe_delete() {
    let moto = moto_or_skip!();
    let net = network(&moto).await;
    let family = unique("svc");
    let v1 = moto
        .ecs
        .register_task_definition(&task_spec(&family, "nginx:1"))
        .await
        .unwrap();
    let v2 = moto
        .ecs
        .register_task_definition(&task_spec(&family, "nginx:2"))
        .await
        .unwrap();

    let spec = service_spec(&net, "web", &v1);
    let created = moto.ecs.create_service(&spec).await.unwrap();
    assert_eq!(created.name, "web");
    assert!(created.is_active(), "{created:?}");
    assert_eq!(created.task_definition_arn, v1);
    assert_eq!(created.desired_count, 1);
    assert_eq!(created.network.as_ref(), Some(&spec.network));
    assert!(
        created.enable_execute_command,
        "ECS Exec is on from the start"
    );
    assert_eq!(created.tag("defang:service"), Some("web"));
    assert!(created.primary_deployment().is_some(), "{created:?}");
    eprintln!(
        "circuit breaker after create: {:?} (moto drops it; AWS keeps it)",
        circuit_breaker(&moto, &net.cluster, "web").await
    );

    let updated = moto
        .ecs
        .update_service(&ServiceUpdate {
            cluster: net.cluster.clone(),
            name: "web".into(),
            task_definition_arn: Some(v2.clone()),
            desired_count: Some(2),
            network: None,
            routing: None,
            enable_execute_command: Some(false),
            health_check_grace_period_seconds: None,
            capacity_provider_strategy: None,
            force_new_deployment: true,
        })
        .await
        .unwrap();
    assert_eq!(updated.task_definition_arn, v2);
    assert_eq!(updated.desired_count, 2);
    assert_eq!(
        updated.tags, created.tags,
        "update keeps reporting the tags"
    );
    assert_eq!(
        circuit_breaker(&moto, &net.cluster, "web").await,
        Some((true, true)),
        "re-sent on update"
    );

    let described = moto
        .ecs
        .describe_services(&net.cluster, &["web".into()])
        .await
        .unwrap();
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].task_definition_arn, v2);
    assert_eq!(described[0].tags, created.tags);
    assert_eq!(described[0].network.as_ref(), Some(&spec.network));
    assert!(
        !described[0].enable_execute_command,
        "turned off by the update"
    );

    moto.ecs.delete_service(&net.cluster, "web").await.unwrap();
    moto.ecs.delete_service(&net.cluster, "web").await.unwrap();
    let after = moto
        .ecs
        .describe_services(&net.cluster, &["web".into()])
        .await
        .unwrap();
    assert!(after.iter().all(|s| !s.is_active()), "{after:?}");

    assert!(
        moto.ecs
            .describe_services(&net.cluster, &["never-created".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        moto.ecs
            .describe_services(&unique("no-cluster"), &["web".into()])
            .await
            .unwrap()
            .is_empty()
    );
    moto.ecs
        .delete_service(&net.cluster, "never-created")
        .await
        .unwrap();
    moto.ecs
        .delete_service(&unique("no-cluster"), "web")
        .await
        .unwrap();

    moto.stacks
        .delete_stack(&net.stack, &unique("del"))
        .await
        .unwrap();
}

#[tokio::test]
async fn describe_services_batches_more_than_ten_names() {
    let moto = moto_or_skip!();
    let net = network(&moto).await;
    let arn = moto
        .ecs
        .register_task_definition(&task_spec(&unique("many"), "nginx:1"))
        .await
        .unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("svc-{i:02}")).collect();
    for name in &names {
        moto.ecs
            .create_service(&service_spec(&net, name, &arn))
            .await
            .unwrap();
    }
    let mut asked = names.clone();
    asked.insert(5, "missing".into());
    let described = moto
        .ecs
        .describe_services(&net.cluster, &asked)
        .await
        .unwrap();
    let mut found: Vec<_> = described.iter().map(|s| s.name.clone()).collect();
    found.sort();
    assert_eq!(found, names);

    for name in &names {
        moto.ecs.delete_service(&net.cluster, name).await.unwrap();
    }
    moto.stacks
        .delete_stack(&net.stack, &unique("del"))
        .await
        .unwrap();
}

fn project_template(name: &str, retention_days: u32) -> String {
    json!({
        "Resources": {
            "Logs": {"Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": format!("/defang/{name}"),
                               "RetentionInDays": retention_days}},
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}}
        },
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "ClusterArn": {"Value": {"Fn::GetAtt": ["Cluster", "Arn"]}},
            "LogGroup": {"Value": {"Ref": "Logs"}}
        }
    })
    .to_string()
}

#[tokio::test]
async fn stacks_create_update_delete() {
    let moto = moto_or_skip!();
    let name = unique("proj");
    let tags: BTreeMap<String, String> = [("defang:project", name.as_str()), ("team", "a")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let mut request = StackRequest {
        name: name.clone(),
        template: project_template(&name, 7),
        tags: tags.clone(),
        parameters: Default::default(),
        client_token: unique("create"),
    };

    assert_eq!(moto.stacks.describe_stack(&name).await.unwrap(), None);
    let id = moto.stacks.create_stack(&request).await.unwrap();
    let state = settled(&moto, &name).await.unwrap();
    assert_eq!(state.id, id);
    assert_eq!(state.name, name);
    assert_eq!(state.status, "CREATE_COMPLETE", "{state:?}");
    assert_eq!(state.tags, tags);
    assert_eq!(state.outputs["ClusterName"], name);
    assert_eq!(state.outputs["LogGroup"], format!("/defang/{name}"));
    // ListStacks takes the filter of statuses in progress (moto's stacks settle at once).
    let in_progress = moto.stacks.list_in_progress().await.unwrap();
    assert!(!in_progress.contains_key(&name), "{in_progress:?}");
    assert!(
        state.outputs["ClusterArn"].ends_with(&format!(":cluster/{name}")),
        "{state:?}"
    );

    // AWS answers "No updates are to be performed" (NoChanges); moto starts an update anyway.
    request.client_token = unique("same");
    let outcome = moto.stacks.update_stack(&request).await.unwrap();
    eprintln!("update without changes: {outcome:?}");
    assert!(matches!(
        outcome,
        UpdateOutcome::NoChanges | UpdateOutcome::Started
    ));
    settled(&moto, &name).await.unwrap();

    request.template = project_template(&name, 30);
    request.client_token = unique("change");
    assert_eq!(
        moto.stacks.update_stack(&request).await.unwrap(),
        UpdateOutcome::Started
    );
    let state = settled(&moto, &name).await.unwrap();
    assert_eq!(state.status, "UPDATE_COMPLETE", "{state:?}");

    let events = moto.stacks.stack_events(&name, 3).await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0].logical_id, name, "newest first: {events:?}");
    assert_eq!(events[0].status, "UPDATE_COMPLETE", "{events:?}");
    assert!(moto.stacks.stack_events(&name, 0).await.unwrap().is_empty());

    let token = unique("delete");
    moto.stacks.delete_stack(&name, &token).await.unwrap();
    assert_eq!(settled(&moto, &name).await, None);
    moto.stacks.delete_stack(&name, &token).await.unwrap();
    let err = moto.stacks.stack_events(&name, 5).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn stack_errors_are_classified() {
    let moto = moto_or_skip!();
    let missing = unique("missing");
    assert_eq!(moto.stacks.describe_stack(&missing).await.unwrap(), None);
    moto.stacks
        .delete_stack(&missing, &unique("del"))
        .await
        .unwrap();

    let err = moto
        .stacks
        .create_stack(&StackRequest {
            name: unique("bad"),
            template: json!({"Outputs": {}}).to_string(),
            tags: BTreeMap::new(),
            parameters: Default::default(),
            client_token: unique("bad"),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), CloudErrorKind::Invalid, "{err:?}");
    let message = err.message();
    assert!(message.contains("ValidationError"), "{message}");
    assert!(message.contains("Resources"), "{message}");

    // Creating an existing stack again (with a new token) is AlreadyExists: the caller decides
    // by the stack's tags whether it is its own (a lost response) or someone else's.
    let name = unique("twice");
    let mut request = StackRequest {
        name: name.clone(),
        template: project_template(&name, 1),
        tags: BTreeMap::new(),
        parameters: Default::default(),
        client_token: unique("first"),
    };
    moto.stacks.create_stack(&request).await.unwrap();
    request.client_token = unique("second");
    let err = moto.stacks.create_stack(&request).await.unwrap_err();
    assert!(
        err.kind() == CloudErrorKind::AlreadyExists
            && err.message().contains("AlreadyExistsException"),
        "{err:?}"
    );
    moto.stacks
        .delete_stack(&name, &unique("del"))
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoint_comes_from_the_standard_setting() {
    let moto = moto_or_skip!();
    assert_eq!(
        moto.config.endpoint_url(),
        std::env::var("AWS_ENDPOINT_URL").ok().as_deref()
    );
}

#[tokio::test]
async fn secure_parameters_put_overwrite_and_delete_by_path() {
    let moto = moto_or_skip!();
    let ssm = defang_aws::SsmAdapter::new(aws_sdk_ssm::Client::new(&moto.config));
    let raw = aws_sdk_ssm::Client::new(&moto.config);
    let project = unique("ssm");
    let prefix = format!("/defang/{project}/web");
    // More than one DeleteParameters batch, and a sibling service that must survive.
    let mut arns = Vec::new();
    for i in 0..12 {
        let name = format!("{prefix}/VAR_{i}");
        let tags = tags(&[("defang:project", &project)]);
        arns.push(ssm.put_secure(&name, "v1", &tags).await.unwrap());
    }
    assert!(
        arns[0].ends_with(&format!("parameter{prefix}/VAR_0")),
        "{}",
        arns[0]
    );
    let other = format!("/defang/{project}/web2/VAR");
    ssm.put_secure(&other, "keep", &[]).await.unwrap();

    // Overwrite, with tags again.
    let again = ssm
        .put_secure(&format!("{prefix}/VAR_0"), "v2", &tags(&[("k", "v")]))
        .await
        .unwrap();
    assert_eq!(again, arns[0]);
    let got = raw
        .get_parameter()
        .name(format!("{prefix}/VAR_0"))
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let p = got.parameter().unwrap();
    assert_eq!(p.value(), Some("v2"));
    assert_eq!(
        p.r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );

    let keep = [format!("{prefix}/VAR_0"), format!("{prefix}/VAR_1")];
    assert_eq!(ssm.delete_by_path_except(&prefix, &keep).await.unwrap(), 10);
    assert_eq!(ssm.delete_by_path(&format!("{prefix}/")).await.unwrap(), 2);
    assert_eq!(ssm.delete_by_path(&prefix).await.unwrap(), 0);
    let kept = raw.get_parameter().name(&other).send().await;
    assert!(kept.is_ok(), "a sibling service's parameter stays");
    assert_eq!(
        ssm.delete_by_path(&format!("/defang/{project}/web2"))
            .await
            .unwrap(),
        1
    );
}

/// A service's scalable target and target tracking policies as refresh reads them: the range,
/// the targets by metric (step scaling left out), more than one page of policies, and exactly
/// this service's (not those of `web-api` when asking for `web`, nor the other way round).
#[tokio::test]
async fn scalable_targets_and_policies_of_a_service() {
    use aws_sdk_applicationautoscaling::types::{
        MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
        StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration,
    };
    let moto = moto_or_skip!();
    let net = network(&moto).await;
    let td = moto
        .ecs
        .register_task_definition(&task_spec(&unique("aas"), "nginx:1"))
        .await
        .unwrap();
    for name in ["web", "web-api"] {
        moto.ecs
            .create_service(&service_spec(&net, name, &td))
            .await
            .unwrap();
    }
    let adapter = defang_aws::AutoScalingAdapter::new(config::autoscaling_client(&moto.config));
    let raw = config::autoscaling_client(&moto.config);
    let web = format!("service/{}/web", net.cluster);
    let api = format!("service/{}/web-api", net.cluster);
    let none = format!("service/{}/none", net.cluster);
    for (id, min, max) in [(&web, 2, 6), (&api, 1, 3)] {
        raw.register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(id)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .unwrap();
    }
    let tracking = |id: &str, name: String, metric: MetricType, target: f64| {
        raw.put_scaling_policy()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(id)
            .policy_name(name)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(target)
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type(metric)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
    };
    tracking(
        &web,
        "web-cpu".into(),
        MetricType::EcsServiceAverageCpuUtilization,
        70.0,
    )
    .await
    .unwrap();
    tracking(
        &web,
        "web-memory".into(),
        MetricType::EcsServiceAverageMemoryUtilization,
        55.5,
    )
    .await
    .unwrap();
    raw.put_scaling_policy()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&web)
        .policy_name("web-step")
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(StepScalingPolicyConfiguration::builder().build())
        .send()
        .await
        .unwrap();
    // More than one page (50) for the other service.
    for i in 0..55 {
        tracking(
            &api,
            format!("api-{i:02}"),
            MetricType::EcsServiceAverageCpuUtilization,
            f64::from(i + 1),
        )
        .await
        .unwrap();
    }

    assert_eq!(
        adapter.ecs_service_target(&web).await.unwrap(),
        Some(ScalableTarget {
            min_capacity: 2,
            max_capacity: 6
        })
    );
    assert_eq!(adapter.ecs_service_target(&none).await.unwrap(), None);
    let mut policies = adapter.ecs_service_policies(&web).await.unwrap();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        policies,
        [
            TargetTrackingPolicy {
                name: "web-cpu".into(),
                predefined_metric: Some("ECSServiceAverageCPUUtilization".into()),
                resource_label: None,
                target_value: 70.0,
            },
            TargetTrackingPolicy {
                name: "web-memory".into(),
                predefined_metric: Some("ECSServiceAverageMemoryUtilization".into()),
                resource_label: None,
                target_value: 55.5,
            },
        ]
    );
    let api_policies = adapter.ecs_service_policies(&api).await.unwrap();
    assert_eq!(api_policies.len(), 55, "every page, and only web-api's");
    assert!(api_policies.iter().all(|p| p.name.starts_with("api-")));
    assert!(
        adapter
            .ecs_service_policies(&none)
            .await
            .unwrap()
            .is_empty()
    );

    // Deregistered (outside Pulumi): no target, and AWS deletes its policies with it.
    raw.deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&web)
        .send()
        .await
        .unwrap();
    assert_eq!(adapter.ecs_service_target(&web).await.unwrap(), None);
    assert!(adapter.ecs_service_policies(&web).await.unwrap().is_empty());
    assert_eq!(adapter.ecs_service_policies(&api).await.unwrap().len(), 55);
    for name in ["web", "web-api"] {
        moto.ecs.delete_service(&net.cluster, name).await.unwrap();
    }
}

/// A role's managed policies (more than one page) and an inline policy's document, decoded
/// from IAM's URL encoding; a missing inline policy is `None`, a missing role is NotFound.
#[tokio::test]
async fn task_role_policies_read_back() {
    let moto = moto_or_skip!();
    let iam = config::iam_client(&moto.config);
    let adapter = defang_aws::IamAdapter::new(config::iam_client(&moto.config));
    let role = unique("task-role");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let mut expected = vec![
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string(),
        "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".to_string(),
    ];
    // More than IAM's page of 100 (moto does not hold roles to IAM's quota of 20).
    let document = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:GetQueueUrl", "Resource": "*"}]});
    for i in 0..100 {
        let created = iam
            .create_policy()
            .policy_name(format!("{role}-{i:03}"))
            .policy_document(document.to_string())
            .send()
            .await
            .unwrap();
        expected.push(created.policy().unwrap().arn().unwrap().to_string());
    }
    for arn in &expected {
        iam.attach_role_policy()
            .role_name(&role)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let mut attached = adapter.attached_policies(&role).await.unwrap();
    attached.sort();
    expected.sort();
    assert_eq!(attached, expected);

    // Characters IAM's URL encoding changes: quotes, slashes, '+', '*', spaces, non-ASCII.
    let statements = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["s3:Delete*"], "Resource": ["arn:aws:s3:::my bucket/a+b/é"],
         "Condition": {"Bool": {"aws:SecureTransport": false}}}]});
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("statements")
        .policy_document(statements.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        adapter.inline_policy(&role, "statements").await.unwrap(),
        Some(statements)
    );
    assert_eq!(adapter.inline_policy(&role, "other").await.unwrap(), None);

    let gone = unique("no-role");
    let err = adapter.attached_policies(&gone).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        (err.service(), err.operation()),
        ("IAM", "ListAttachedRolePolicies")
    );
    assert_eq!(
        adapter.inline_policy(&gone, "statements").await.unwrap(),
        None
    );
}

/// What `up` writes back to a service's autoscaling: RegisterScalableTarget makes or changes
/// the range in place; PutScalingPolicy makes a target tracking policy (with its resource
/// label) and, on the same name, updates it in place (one policy, the same ARN, as AWS does);
/// DeleteScalingPolicy deletes it, and a policy or target that does not exist is NotFound.
#[tokio::test]
async fn scalable_targets_and_policies_are_written_back() {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    let moto = moto_or_skip!();
    let net = network(&moto).await;
    let td = moto
        .ecs
        .register_task_definition(&task_spec(&unique("aas-w"), "nginx:1"))
        .await
        .unwrap();
    moto.ecs
        .create_service(&service_spec(&net, "web", &td))
        .await
        .unwrap();
    let adapter = defang_aws::AutoScalingAdapter::new(config::autoscaling_client(&moto.config));
    let raw = config::autoscaling_client(&moto.config);
    let web = format!("service/{}/web", net.cluster);
    let arns = || async {
        let out = raw
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(&web)
            .send()
            .await
            .unwrap();
        out.scaling_policies()
            .iter()
            .map(|p| (p.policy_name().to_string(), p.policy_arn().to_string()))
            .collect::<BTreeMap<_, _>>()
    };

    // No target yet: a policy cannot be put.
    let cpu = |target: f64| TargetTrackingPolicy {
        name: "web-cpu".into(),
        predefined_metric: Some("ECSServiceAverageCPUUtilization".into()),
        resource_label: None,
        target_value: target,
    };
    let err = adapter
        .put_target_tracking_policy(&web, &cpu(70.0))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        (err.service(), err.operation()),
        ("Application Auto Scaling", "PutScalingPolicy")
    );

    adapter
        .register_ecs_service_target(&web, 2, 6)
        .await
        .unwrap();
    assert_eq!(
        adapter.ecs_service_target(&web).await.unwrap(),
        Some(ScalableTarget {
            min_capacity: 2,
            max_capacity: 6
        })
    );
    adapter
        .register_ecs_service_target(&web, 1, 3)
        .await
        .unwrap();
    assert_eq!(
        adapter.ecs_service_target(&web).await.unwrap(),
        Some(ScalableTarget {
            min_capacity: 1,
            max_capacity: 3
        }),
        "the range changed in place"
    );

    let requests = TargetTrackingPolicy {
        name: "web-requests".into(),
        predefined_metric: Some("ALBRequestCountPerTarget".into()),
        resource_label: Some(
            "app/defang-shop/50dc6c495c0c9188/targetgroup/web-80/73e2d6bc24d8a067".into(),
        ),
        target_value: 500.0,
    };
    adapter
        .put_target_tracking_policy(&web, &cpu(70.0))
        .await
        .unwrap();
    adapter
        .put_target_tracking_policy(&web, &requests)
        .await
        .unwrap();
    let first = arns().await;
    let mut policies = adapter.ecs_service_policies(&web).await.unwrap();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(policies, [cpu(70.0), requests.clone()]);

    // The same name again: updated in place.
    adapter
        .put_target_tracking_policy(&web, &cpu(55.5))
        .await
        .unwrap();
    let mut policies = adapter.ecs_service_policies(&web).await.unwrap();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(policies, [cpu(55.5), requests]);
    assert_eq!(arns().await, first, "the same policies, the same ARNs");

    adapter
        .delete_scaling_policy(&web, "web-cpu")
        .await
        .unwrap();
    let names: Vec<String> = adapter
        .ecs_service_policies(&web)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["web-requests"]);
    let err = adapter
        .delete_scaling_policy(&web, "web-cpu")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        (err.service(), err.operation()),
        ("Application Auto Scaling", "DeleteScalingPolicy")
    );

    raw.deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&web)
        .send()
        .await
        .unwrap();
    moto.ecs.delete_service(&net.cluster, "web").await.unwrap();
}

/// What `up` writes back to a service's own role: managed policies attached (again: no
/// change) and detached, the statements' inline policy put (replaced) and deleted; what does
/// not exist is NotFound, a missing role too.
#[tokio::test]
async fn task_role_policies_are_written_back() {
    let moto = moto_or_skip!();
    let iam = config::iam_client(&moto.config);
    let adapter = defang_aws::IamAdapter::new(config::iam_client(&moto.config));
    let role = unique("task-role-w");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let s3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let sqs = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess";
    adapter.attach_policy(&role, s3).await.unwrap();
    adapter.attach_policy(&role, sqs).await.unwrap();
    adapter.attach_policy(&role, s3).await.unwrap();
    let mut attached = adapter.attached_policies(&role).await.unwrap();
    attached.sort();
    assert_eq!(attached, [s3, sqs]);
    adapter.detach_policy(&role, sqs).await.unwrap();
    assert_eq!(adapter.attached_policies(&role).await.unwrap(), [s3]);
    let err = adapter.detach_policy(&role, sqs).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        (err.service(), err.operation()),
        ("IAM", "DetachRolePolicy")
    );
    let err = adapter
        .attach_policy(&role, "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // As the stack renders it; characters IAM's URL encoding changes come back as written.
    let statements = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:aws:sqs:us-east-1:123456789012:jobs"]},
        {"Effect": "Deny", "Action": ["s3:Delete*"], "Resource": ["arn:aws:s3:::my bucket/a+b/é"],
         "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]});
    adapter
        .put_inline_policy(
            &role,
            "statements",
            &json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}),
        )
        .await
        .unwrap();
    adapter
        .put_inline_policy(&role, "statements", &statements)
        .await
        .unwrap();
    assert_eq!(
        adapter.inline_policy(&role, "statements").await.unwrap(),
        Some(statements)
    );
    adapter
        .delete_inline_policy(&role, "statements")
        .await
        .unwrap();
    assert_eq!(
        adapter.inline_policy(&role, "statements").await.unwrap(),
        None
    );
    let err = adapter
        .delete_inline_policy(&role, "statements")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        (err.service(), err.operation()),
        ("IAM", "DeleteRolePolicy")
    );

    let gone = unique("no-role-w");
    for err in [
        adapter.attach_policy(&gone, s3).await.unwrap_err(),
        adapter
            .put_inline_policy(&gone, "statements", &json!({"Statement": []}))
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_not_found(), "{err}");
    }
    adapter.detach_policy(&role, s3).await.unwrap();
}
