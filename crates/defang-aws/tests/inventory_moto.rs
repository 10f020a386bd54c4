//! [`InventoryAdapter`] (what `ps` and `logs` read) against a real moto server: project stacks
//! told apart from service stacks, every service of a cluster past one DescribeServices batch
//! with its tags, task definition and deployment time, and log streams and events past one
//! FilterLogEvents batch of stream names.
//!
//!     AWS_ENDPOINT_URL=http://127.0.0.1:5055 cargo test -p defang-aws --test inventory_moto

use defang_aws::{AwsSettings, EcsAdapter, InventoryAdapter, StackAdapter, config};
use defang_resources::cloud::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// `None` (and a printed reason) when no emulator endpoint is configured.
async fn sdk_config() -> Option<aws_config::SdkConfig> {
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
                // SAFETY: every test calls this before any SDK work, and `Once` blocks the
                // other test threads until it is done.
                unsafe { std::env::set_var(key, value) };
            }
        }
    });
    Some(
        config::load(&AwsSettings::default())
            .await
            .expect("AWS config"),
    )
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let n = nanos
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{prefix}{:x}", n & 0xffff_ffff)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A stack with a VPC, a subnet, a security group and the cluster `defang-<project>`.
async fn project_stack(stacks: &StackAdapter, project: &str) -> StackState {
    let cluster = format!("defang-{project}");
    let template = json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"}},
            "Tasks": {"Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "tasks", "VpcId": {"Ref": "Vpc"}}},
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": cluster}}
        },
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "Subnet": {"Value": {"Ref": "Subnet"}},
            "SecurityGroup": {"Value": {"Fn::GetAtt": ["Tasks", "GroupId"]}}
        }
    });
    let name = format!("defang-{project}");
    stacks
        .create_stack(&StackRequest {
            name: name.clone(),
            template: template.to_string(),
            tags: tags(&[("defang:project", project), ("defang:username", "alice")]),
            parameters: Default::default(),
            client_token: unique("create"),
        })
        .await
        .unwrap();
    let state = stacks.describe_stack(&name).await.unwrap().expect("stack");
    assert_eq!(state.status, "CREATE_COMPLETE", "{state:?}");
    state
}

#[tokio::test]
async fn project_stacks_are_the_stacks_tagged_with_a_project_and_no_service() {
    let Some(config) = sdk_config().await else {
        return;
    };
    let stacks = StackAdapter::new(config::cloudformation_client(&config));
    let inventory = InventoryAdapter::new(&config);
    let project = unique("inv");
    project_stack(&stacks, &project).await;
    // A service's stack of the same project, and a stack of nobody's.
    for (name, tags) in [
        (
            format!("defang-{project}-S-web"),
            tags(&[("defang:project", &project), ("defang:service", "web")]),
        ),
        (unique("other"), BTreeMap::new()),
    ] {
        let template = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}});
        stacks
            .create_stack(&StackRequest {
                name,
                template: template.to_string(),
                tags,
                parameters: Default::default(),
                client_token: unique("create"),
            })
            .await
            .unwrap();
    }
    let found = inventory.project_stacks().await.unwrap();
    let mine: Vec<&StackState> = found
        .iter()
        .filter(|s| s.tags.get("defang:project") == Some(&project))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:#?}");
    assert_eq!(mine[0].name, format!("defang-{project}"));
    assert_eq!(mine[0].outputs["ClusterName"], format!("defang-{project}"));
    assert!(
        found.iter().all(
            |s| s.tags.contains_key("defang:project") && !s.tags.contains_key("defang:service")
        )
    );
    assert!(
        inventory
            .stack(&format!("defang-{project}"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(inventory.stack(&unique("missing")).await.unwrap().is_none());
}

#[tokio::test]
async fn every_service_of_a_cluster_with_its_task_definition() {
    let Some(config) = sdk_config().await else {
        return;
    };
    let stacks = StackAdapter::new(config::cloudformation_client(&config));
    let ecs = EcsAdapter::new(config::ecs_client(&config));
    let inventory = InventoryAdapter::new(&config);
    let project = unique("svc");
    let stack = project_stack(&stacks, &project).await;
    let cluster = stack.outputs["ClusterName"].clone();
    let before = now_ms();
    // 12 services: more than one DescribeServices batch (10).
    let names: Vec<String> = (0..12).map(|i| format!("s{i:02}")).collect();
    for name in &names {
        let td = ecs
            .register_task_definition(&TaskDefinitionSpec {
                family: format!("defang-{project}-S-{name}"),
                cpu: 256,
                memory: 512,
                container: ContainerSpec {
                    name: name.clone(),
                    image: format!("nginx:{name}"),
                    port_mappings: vec![PortMapping {
                        container_port: 80,
                        protocol: TransportProtocol::Tcp,
                        app_protocol: None,
                        name: format!("{name}-80-tcp"),
                    }],
                    log: Some(LogConfig {
                        group: format!("/defang/{project}"),
                        region: "us-east-1".into(),
                        stream_prefix: name.clone(),
                    }),
                    ..Default::default()
                },
                tags: vec![
                    ("defang:ingress-ports".into(), "80/tcp".into()),
                    ("defang:project".into(), project.clone()),
                    ("defang:service".into(), name.clone()),
                ],
                ..Default::default()
            })
            .await
            .unwrap();
        ecs.create_service(&ServiceSpec {
            cluster: cluster.clone(),
            name: name.clone(),
            task_definition_arn: td,
            desired_count: 2,
            network: NetworkSpec {
                subnets: vec![stack.outputs["Subnet"].clone()],
                security_groups: vec![stack.outputs["SecurityGroup"].clone()],
                assign_public_ip: true,
            },
            tags: vec![
                ("defang:project".into(), project.clone()),
                ("defang:service".into(), name.clone()),
            ],
            client_token: unique("tok"),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let services = inventory.services(&cluster).await.unwrap();
    let mut found: Vec<&str> = services.iter().map(|s| s.state.name.as_str()).collect();
    found.sort();
    assert_eq!(found, names.iter().map(String::as_str).collect::<Vec<_>>());
    for service in &services {
        let name = &service.state.name;
        assert_eq!(service.state.desired_count, 2);
        assert_eq!(service.state.tag("defang:service"), Some(name.as_str()));
        let td = service.task_definition.as_ref().expect("task definition");
        assert_eq!(td.spec.container.image, format!("nginx:{name}"));
        assert_eq!(
            td.spec
                .container
                .log
                .as_ref()
                .map(|l| l.stream_prefix.as_str()),
            Some(name.as_str())
        );
        let at = service
            .deployed_at_ms
            .expect("the PRIMARY deployment's time");
        assert!(
            at >= before - 5_000 && at <= now_ms() + 5_000,
            "{at} vs {before}"
        );
        // moto starts no tasks for a service: no digest to read.
        assert!(service.running_digests.is_empty());
    }
    // A cluster that does not exist has no services.
    assert!(
        inventory
            .services(&unique("nocluster"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn log_streams_and_events_past_one_batch_of_streams() {
    let Some(config) = sdk_config().await else {
        return;
    };
    let logs = config::logs_client(&config);
    let inventory = InventoryAdapter::new(&config);
    let group = format!("/defang/{}", unique("logs"));
    assert!(
        inventory
            .log_streams(&group, "web/")
            .await
            .unwrap()
            .is_empty(),
        "no group yet"
    );
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let start = now_ms() - 60_000;
    // 105 task streams (past FilterLogEvents' 100 names), one of another service, one build.
    let mut streams: Vec<String> = (0..105).map(|i| format!("web/web/task{i:03}")).collect();
    streams.push("web-x/web-x/task".into());
    streams.push("builds/web/1234-abcd".into());
    for (i, stream) in streams.iter().enumerate() {
        logs.create_log_stream()
            .log_group_name(&group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name(stream)
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(start + i as i64)
                    .message(format!("line {i} of {stream}"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let web = inventory.log_streams(&group, "web/").await.unwrap();
    assert_eq!(web.len(), 105, "the prefix keeps web-x out");
    assert!(web.iter().all(|s| s.created_ms > 0));
    let names: Vec<String> = web.iter().map(|s| s.name.clone()).collect();
    let events = inventory.log_events(&group, &names, start).await.unwrap();
    assert_eq!(events.len(), 105);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms)
    );
    assert_eq!(events[0].message, "line 0 of web/web/task000");
    assert_eq!(events[104].stream, "web/web/task104");
    assert!(events.iter().all(|e| !e.id.is_empty()));
    // From a later time on, only the later events.
    let later = inventory
        .log_events(&group, &names, start + 100)
        .await
        .unwrap();
    assert_eq!(later.len(), 5);
    assert!(
        inventory
            .log_events(&group, &[], start)
            .await
            .unwrap()
            .is_empty()
    );
    let builds = inventory.log_streams(&group, "builds/web/").await.unwrap();
    assert_eq!(builds.len(), 1);
}
