//! A scripted [`Inventory`] and the deployed services the unit tests describe.

use super::project::ProjectSite;
use crate::cloud::*;
use crate::ownership::{PROJECT_TAG, SERVICE_TAG};
use crate::service::task_definition::INGRESS_PORTS_TAG;
use std::sync::Mutex;

/// Project `shop` of user `alice`, as its stack records it.
pub(crate) fn site() -> ProjectSite {
    ProjectSite {
        name: "shop".into(),
        cluster: "defang-shop".into(),
        log_group: "/defang/shop".into(),
        public_domain: Some("shop.alice.defang.app".into()),
    }
}

/// Service `name` of project `shop`, rolled out (its one deployment COMPLETED), with `ports`
/// (`true` for ingress) and tasks that run digest `sha256:running`.
pub(crate) fn deployed(
    name: &str,
    ports: &[(u16, bool)],
    image: &str,
    desired: i32,
    running: i32,
    deployed_at_ms: Option<i64>,
) -> DeployedService {
    let tags = vec![
        (PROJECT_TAG.to_string(), "shop".to_string()),
        (SERVICE_TAG.to_string(), name.to_string()),
    ];
    let ingress: Vec<String> = ports
        .iter()
        .filter(|(_, ingress)| *ingress)
        .map(|(port, _)| format!("{port}/tcp"))
        .collect();
    let mut td_tags = tags.clone();
    if !ingress.is_empty() {
        td_tags.push((INGRESS_PORTS_TAG.to_string(), ingress.join(" ")));
    }
    let td_arn = format!("arn:aws:ecs:us-east-1:1:task-definition/defang-shop-S-{name}:1");
    DeployedService {
        state: ServiceState {
            arn: format!("arn:aws:ecs:us-east-1:1:service/defang-shop/{name}"),
            name: name.to_string(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/defang-shop".into(),
            status: "ACTIVE".into(),
            task_definition_arn: td_arn.clone(),
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            deployments: vec![Deployment {
                id: "ecs-svc/1".into(),
                status: "PRIMARY".into(),
                task_definition_arn: td_arn.clone(),
                rollout_state: Some(RolloutState::Completed),
                rollout_state_reason: None,
                desired_count: desired,
                running_count: running,
                pending_count: 0,
                failed_tasks: 0,
                spot_interrupted_tasks: 0,
            }],
            network: None,
            enable_execute_command: false,
            health_check_grace_period_seconds: None,
            capacity_provider_strategy: vec![],
            tags,
            recent_events: Vec::new(),
        },
        deployed_at_ms,
        task_definition: Some(TaskDefinition {
            arn: td_arn,
            revision: 1,
            spec: TaskDefinitionSpec {
                family: format!("defang-shop-S-{name}"),
                cpu: 256,
                memory: 512,
                container: ContainerSpec {
                    name: name.to_string(),
                    image: image.to_string(),
                    port_mappings: ports
                        .iter()
                        .map(|(port, _)| PortMapping {
                            container_port: *port,
                            protocol: TransportProtocol::Tcp,
                            app_protocol: None,
                            name: format!("{name}-{port}-tcp"),
                        })
                        .collect(),
                    log: Some(LogConfig {
                        group: "/defang/shop".into(),
                        region: "us-east-1".into(),
                        stream_prefix: name.to_string(),
                    }),
                    ..Default::default()
                },
                tags: td_tags,
                ..Default::default()
            },
        }),
        running_digests: vec!["sha256:running".into()],
    }
}

/// Answers from what it holds; records the log reads it was asked for.
#[derive(Default)]
pub(crate) struct FakeInventory {
    pub stacks: Vec<StackState>,
    pub services: Vec<DeployedService>,
    pub streams: Vec<LogStream>,
    pub events: Vec<LogEvent>,
    /// `(streams, start_ms)` of every `log_events` call.
    pub reads: Mutex<Vec<(Vec<String>, i64)>>,
}

impl FakeInventory {
    pub(crate) fn with_stacks(stacks: Vec<StackState>) -> Self {
        FakeInventory {
            stacks,
            ..Default::default()
        }
    }

    pub(crate) fn with_services(services: Vec<DeployedService>) -> Self {
        FakeInventory {
            services,
            ..Default::default()
        }
    }
}

#[async_trait::async_trait]
impl Inventory for FakeInventory {
    async fn project_stacks(&self) -> CloudResult<Vec<StackState>> {
        Ok(self.stacks.clone())
    }

    async fn stack(&self, name: &str) -> CloudResult<Option<StackState>> {
        Ok(self.stacks.iter().find(|s| s.name == name).cloned())
    }

    async fn services(&self, cluster: &str) -> CloudResult<Vec<DeployedService>> {
        assert_eq!(cluster, "defang-shop");
        Ok(self.services.clone())
    }

    async fn log_streams(&self, group: &str, prefix: &str) -> CloudResult<Vec<LogStream>> {
        assert_eq!(group, "/defang/shop");
        Ok(self
            .streams
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn log_events(
        &self,
        group: &str,
        streams: &[String],
        start_ms: i64,
    ) -> CloudResult<Vec<LogEvent>> {
        assert_eq!(group, "/defang/shop");
        self.reads
            .lock()
            .unwrap()
            .push((streams.to_vec(), start_ms));
        let mut found: Vec<LogEvent> = self
            .events
            .iter()
            .filter(|e| streams.contains(&e.stream) && e.timestamp_ms >= start_ms)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.timestamp_ms);
        Ok(found)
    }
}
