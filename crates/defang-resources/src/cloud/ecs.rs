//! ECS: task definitions and services.

use super::CloudResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CpuArchitecture {
    #[default]
    X86_64,
    Arm64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TransportProtocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppProtocol {
    Http,
    Http2,
    Grpc,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub container_port: u16,
    pub protocol: TransportProtocol,
    pub app_protocol: Option<AppProtocol>,
    /// Port name, unique in the task definition (e.g. `web-80-tcp`).
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerHealthCheck {
    /// e.g. `["CMD-SHELL", "curl -f http://localhost/ || exit 1"]`.
    pub command: Vec<String>,
    pub interval_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
    pub retries: Option<u32>,
    pub start_period_seconds: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub group: String,
    pub region: String,
    pub stream_prefix: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// Plain environment (sorted by name).
    pub environment: Vec<(String, String)>,
    /// Environment variables ECS reads at task start from SSM parameters or Secrets Manager
    /// secrets: `(name, valueFrom)`, sorted by name. The values never appear in the task
    /// definition.
    pub secrets: Vec<(String, String)>,
    pub port_mappings: Vec<PortMapping>,
    pub health_check: Option<ContainerHealthCheck>,
    pub log: Option<LogConfig>,
    /// The process's working directory (`workingDirectory`); `None` keeps the image's.
    pub working_directory: Option<String>,
    /// `user`, `user:group`, `uid` or `uid:gid`; `None` keeps the image's.
    pub user: Option<String>,
    /// Seconds between SIGTERM and SIGKILL when the task stops (`stopTimeout`).
    pub stop_timeout_seconds: Option<u32>,
    /// `readonlyRootFilesystem`: only when true (false is ECS's default, described as absent).
    pub readonly_root_filesystem: bool,
    /// `linuxParameters.initProcessEnabled`: an init process (PID 1) that reaps zombies and
    /// forwards signals. Only when true.
    pub init_process_enabled: bool,
}

/// A Fargate task definition with one container.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TaskDefinitionSpec {
    pub family: String,
    /// CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// MiB.
    pub memory: u32,
    pub cpu_architecture: CpuArchitecture,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    /// Fargate ephemeral storage in GiB (21–200); `None` is Fargate's default 20 GiB.
    pub ephemeral_storage_gib: Option<u32>,
    pub container: ContainerSpec,
    pub tags: Vec<(String, String)>,
}

/// A registered task definition as ECS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDefinition {
    pub arn: String,
    pub revision: i32,
    pub spec: TaskDefinitionSpec,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NetworkSpec {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
}

/// A container port registered with a load balancer target group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancerTarget {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
}

/// How the service is reached: load balancer targets and Cloud Map registries.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Routing {
    pub load_balancers: Vec<LoadBalancerTarget>,
    /// Cloud Map service ARNs the tasks register in.
    pub service_registries: Vec<String>,
}

/// One capacity provider of a service's capacity provider strategy: `FARGATE` or
/// `FARGATE_SPOT`, its weight, and how many tasks it runs first (`base`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CapacityProviderItem {
    pub provider: String,
    pub weight: u32,
    pub base: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ServiceSpec {
    pub cluster: String,
    pub name: String,
    pub task_definition_arn: String,
    pub desired_count: u32,
    pub network: NetworkSpec,
    pub routing: Routing,
    /// ECS Exec (`enableExecuteCommand`): `aws ecs execute-command` into the tasks.
    pub enable_execute_command: bool,
    /// Seconds after a task starts during which the load balancer's failed health checks do
    /// not count; only with load balancers (ECS refuses it otherwise).
    pub health_check_grace_period_seconds: Option<u32>,
    /// The capacity provider strategy; empty means the FARGATE launch type (ECS refuses both).
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub tags: Vec<(String, String)>,
    /// Idempotency token (≤ 36 ASCII characters): a retried create does not create twice.
    pub client_token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ServiceUpdate {
    pub cluster: String,
    pub name: String,
    pub task_definition_arn: Option<String>,
    pub desired_count: Option<u32>,
    pub network: Option<NetworkSpec>,
    pub routing: Option<Routing>,
    /// ECS Exec on or off; takes effect for tasks started afterwards.
    pub enable_execute_command: Option<bool>,
    /// See [`ServiceSpec::health_check_grace_period_seconds`].
    pub health_check_grace_period_seconds: Option<u32>,
    /// A new capacity provider strategy; an empty one goes back to the launch type. ECS starts
    /// no deployment for it by itself: pair it with `force_new_deployment`.
    pub capacity_provider_strategy: Option<Vec<CapacityProviderItem>>,
    /// Start new tasks even when the task definition is unchanged (a secret's value changed:
    /// tasks read it only when they start).
    pub force_new_deployment: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: String,
    pub task_definition_arn: String,
    pub rollout_state: Option<RolloutState>,
    pub rollout_state_reason: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub failed_tasks: i32,
    /// Tasks of this deployment that ECS stopped for a Fargate Spot interruption (stopCode
    /// `SpotInterruption`): AWS took the capacity back, the tasks did not fail. Counted only
    /// for services on Fargate Spot whose deployment has failed tasks.
    pub spot_interrupted_tasks: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceState {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    pub task_definition_arn: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub deployments: Vec<Deployment>,
    pub network: Option<NetworkSpec>,
    /// Whether ECS Exec is on.
    pub enable_execute_command: bool,
    pub health_check_grace_period_seconds: Option<u32>,
    /// The capacity provider strategy, sorted by provider; empty for a launch type.
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub tags: Vec<(String, String)>,
    /// Newest service event messages first (failures explain themselves here).
    pub recent_events: Vec<String>,
}

impl ServiceState {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn primary_deployment(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

#[async_trait::async_trait]
pub trait Ecs: Send + Sync {
    /// Registers a new revision; returns its ARN.
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> CloudResult<String>;
    /// `Ok(None)` when it does not exist.
    async fn describe_task_definition(&self, arn: &str) -> CloudResult<Option<TaskDefinition>>;
    /// ARNs of every ACTIVE revision of a family.
    async fn list_task_definitions(&self, family: &str) -> CloudResult<Vec<String>>;
    /// Deregistering an already inactive or missing revision succeeds.
    async fn deregister_task_definition(&self, arn: &str) -> CloudResult<()>;

    async fn create_service(&self, spec: &ServiceSpec) -> CloudResult<ServiceState>;
    async fn update_service(&self, update: &ServiceUpdate) -> CloudResult<ServiceState>;
    /// Up to 10 names per call; services that do not exist are left out of the result.
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> CloudResult<Vec<ServiceState>>;
    /// Deleting a missing service succeeds.
    async fn delete_service(&self, cluster: &str, name: &str) -> CloudResult<()>;
}
