//! The inputs of `defang:index:Service`, and how their defaults resolve into what is deployed.
//!
//! The serde names are the schema's property names (camelCase), and the doc comments their
//! descriptions: `schema.json` is generated from these types (`crate::schema`), and `check`
//! validates against their JSON schema.

use super::sizing::{FargateSize, fargate_size, parse_memory};
use pulumi_plugin::CheckFailure;
use pulumi_plugin::value::{Computed, MaybeSecret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Number of tasks when `replicas` is not set.
pub const DEFAULT_REPLICAS: u32 = 1;

/// A container service on ECS Fargate in a Defang project, with Defang's domains and statuses.
/// `pulumi up` waits until the rollout completes, or fails with the reason ECS gave, unless
/// `waitForSteadyState` is false.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceInputs {
    /// The name of the Defang project the service belongs to, normally `myProject.name`, which also
    /// makes Pulumi create the project first. Changing it replaces the service.
    pub project: Computed<String>,
    /// The service name: a DNS label without `--` (lowercase letters, digits and '-', starting with
    /// a letter), and the first label of its domains. Defaults to the Pulumi resource name.
    /// Changing it replaces the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The container image to run, `[registry[:port]/]repository[:tag][@sha256:<digest>]`, e.g.
    /// `nginx:1.27` or `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:…`. A digest pins
    /// the exact image; a tag is looked up whenever a task starts. Set this or `build`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Build the image from source with AWS CodeBuild in your account, for the service's
    /// `platform`, and deploy it pinned by digest. Set this or `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// The ports the container listens on, in order. The first `ingress` port gives the service its
    /// `domain`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Environment variables of the container, by name (`[A-Za-z_][A-Za-z0-9_]*`). Values may be
    /// Pulumi secrets: they stay secret in Pulumi state and outputs and never appear in messages
    /// (secret values are stored in SSM Parameter Store as SecureString parameters
    /// `/defang/<project>/<service>/<NAME>` and referenced from the task definition, which never
    /// holds them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, MaybeSecret<String>>,
    /// Overrides the image's command (Docker `CMD`), as a list, e.g. `["npm", "start"]`. Must not
    /// be empty; leave it out to keep the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Overrides the image's entrypoint (Docker `ENTRYPOINT`), as a list. Must not be empty; leave
    /// it out to keep the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The number of tasks to run. Defaults to 1; 0 scales the service to zero. Not with
    /// `autoscaling`, which chooses the count itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Scale the number of tasks between `min` and `max` to keep a metric near its target
    /// (Application Auto Scaling target tracking): `targetCpu` or `targetMemory` (average percent
    /// of the task's size) and/or `targetRequestsPerTarget` (load balancer requests per task per
    /// minute, for services with an ingress port), e.g. `{min: 1, max: 10, targetCpu: 70}`. The
    /// service starts at `min`; afterwards `pulumi up` changes the range and targets in place and
    /// never resets the count the scaler chose (the live count is the `desiredCount` output).
    /// Removing it stops scaling and goes back to `replicas`. Not with `replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// Where the tasks run: leave it out for regular (on-demand) Fargate, or weigh Fargate Spot
    /// (up to 70% cheaper; AWS may stop a task with a two-minute warning, and ECS starts a new
    /// one) against on-demand Fargate, e.g. `{spot: 1}` for Spot only, or `{spot: 3, onDemand: 1,
    /// onDemandBase: 1}` for one task always on-demand and the rest three to one on Spot. A
    /// change moves the tasks in place (a new deployment), never a replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    /// vCPU per task, e.g. 0.25, 0.5, 1 or 2; more than 0 and at most 16. Defaults to 0.25. Rounded
    /// up, together with `memory`, to the smallest Fargate size that has both (see `deployedCpus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory per task: a number with a unit, all binary (`M`, `MB`, `Mi` and `MiB` mean MiB; `G`,
    /// `GB`, `Gi` and `GiB` mean GiB; 1G = 1024M), e.g. "512Mi", "1Gi" or "1.5G"; a bare number is
    /// MiB. At most 120 GiB. Defaults to the least memory Fargate allows for the CPU size. Rounded
    /// up to a Fargate size (see `deployedMemory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// The operating system and CPU architecture the image is built for: `linux/amd64` (the
    /// default) or `linux/arm64` (AWS Graviton, the same sizes). A mismatch makes tasks fail with
    /// "exec format error".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The container health check, in Compose form. Without one, a task counts as healthy once its
    /// container runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// A domain of your own for the service's first ingress port, e.g. `www.example.com`. The
    /// account must hold a public Route 53 zone for it or a parent domain (Check says so
    /// otherwise); the service gets a DNS-validated certificate for it on the project's HTTPS
    /// listener, a host rule and an alias record in that zone, and `https://<domainName>` is added
    /// to `endpoints`. Needs the project's `loadBalancer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// Wait until the rollout completes: the tasks run and stay healthy, or the rollout fails and
    /// says why. Defaults to true. When false, `pulumi up` returns once ECS has accepted the
    /// update, and `status` shows where the rollout was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_steady_state: Option<bool>,
    /// Environment variables whose values come from secrets that already exist in the account,
    /// by variable name: `{ssm: "<parameter name or ARN>"}` for an SSM parameter (String or
    /// SecureString), or `{secretsManager: "<secret name or ARN>", key: "<JSON key>"}` for a
    /// Secrets Manager secret (its whole value, or one key of a JSON secret). ECS reads them when
    /// a task starts; the project's task execution role is allowed to read exactly these (a
    /// policy in the service's own stack), and the values never pass through Pulumi. A name must
    /// not also be in `environment`. Secrets encrypted with a customer-managed KMS key also need
    /// `kms:Decrypt` on that key for the execution role, which this does not grant.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretReference>,
    /// An IAM role of your own for the application to run as (its AWS credentials), e.g.
    /// `arn:aws:iam::123456789012:role/my-app`; it must trust `ecs-tasks.amazonaws.com`. Then no
    /// role is made for the service, and `policies`/`policyStatements` cannot be set (attach
    /// policies to your role). Without it, and without `policies`, `policyStatements` or
    /// `enableExec`, the application gets no AWS permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// IAM managed policies for the application's own role (the task role, never the execution
    /// role that pulls images and reads secrets): ARNs, e.g.
    /// `arn:aws:iam::123456789012:policy/app-data`, or names of AWS managed policies, e.g.
    /// `AmazonS3ReadOnlyAccess` or `service-role/AWSAppSyncPushToCloudWatchLogs`. The service gets a
    /// role of its own (in its stack) with these; a change updates the role in place. At most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// IAM policy statements for the application's own role, in addition to `policies`, e.g.
    /// `{actions: ["s3:GetObject"], resources: ["arn:aws:s3:::my-bucket/*"]}`. They become one
    /// inline policy of the service's role; a change updates it in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_statements: Vec<PolicyStatement>,
    /// The working directory of the container's process, an absolute path, e.g. `/app`.
    /// Defaults to the image's (`WORKDIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// The user the container's process runs as: `user`, `user:group`, `uid` or `uid:gid`, e.g.
    /// `1000:1000`. Defaults to the image's (`USER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Seconds a stopping container gets between SIGTERM and SIGKILL, 0–120 (Fargate's most).
    /// Defaults to 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 120))]
    pub stop_grace_period: Option<u32>,
    /// Seconds after a task starts during which the load balancer's failed health checks do not
    /// count, 0–2147483647, for services that start slowly. Only for services with an ingress
    /// port (load-balanced). Defaults to 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub health_check_grace_period: Option<u32>,
    /// Mount the container's root filesystem read-only (write to volumes or `/tmp` mounts only).
    /// Defaults to false. ECS Exec (`enableExec`) needs a writable root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly_root_filesystem: Option<bool>,
    /// Ephemeral storage of each task in GiB, 21–200. Defaults to Fargate's 20 GiB (billed above
    /// that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 21, max = 200))]
    pub ephemeral_storage: Option<u32>,
    /// Run an init process as PID 1 in the container (Docker's `--init`), which forwards signals
    /// and reaps zombie processes. Defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// ECS Exec: open a shell in a running task with `aws ecs execute-command --cluster
    /// defang-<project> --task <task id> --container <service> --interactive --command /bin/sh`
    /// (needs the Session Manager plugin locally). The service's role gets the `ssmmessages`
    /// permissions it needs (with `taskRoleArn`, give them to your role). Turning it on or off
    /// restarts the tasks. Defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_exec: Option<bool>,
}

/// Target tracking autoscaling of the number of tasks. Set at least one target; with several,
/// the service scales out when any metric is above its target and in only when all are below.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Autoscaling {
    /// The fewest tasks, 0–1000; the service starts with this many. 0 lets it scale to zero
    /// when idle (target tracking scales out again only from a metric, e.g. requests).
    #[schemars(range(min = 0, max = 1000))]
    pub min: u32,
    /// The most tasks, 1–1000, at least `min`.
    #[schemars(range(min = 1, max = 1000))]
    pub max: u32,
    /// Average CPU utilisation of the tasks to keep, in percent of their `cpus`, 1–100, e.g. 70.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu: Option<f64>,
    /// Average memory utilisation of the tasks to keep, in percent of their `memory`, 1–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub target_memory: Option<f64>,
    /// Load balancer requests per task per minute to keep (ALBRequestCountPerTarget of the first
    /// ingress port's target group), at least 1, e.g. 1000. Only for services with an ingress
    /// port behind the project's load balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub target_requests_per_target: Option<f64>,
}

/// How the tasks are spread over Fargate Spot and on-demand Fargate (the ECS service's capacity
/// provider strategy over `FARGATE_SPOT` and `FARGATE`): first `onDemandBase` tasks on on-demand
/// Fargate, then the rest in the ratio of the weights. At least one weight must be above 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Capacity {
    /// The weight of Fargate Spot, 0–1000. Defaults to 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub spot: Option<u32>,
    /// The weight of on-demand Fargate, 0–1000. Defaults to 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub on_demand: Option<u32>,
    /// How many tasks run on on-demand Fargate before the weights apply, 0–100000 (what stays
    /// up through a wave of Spot interruptions). Defaults to 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100000))]
    pub on_demand_base: Option<u32>,
}

/// A secret that already exists, read by ECS when a task starts: set exactly one of `ssm` and
/// `secretsManager`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretReference {
    /// An SSM Parameter Store parameter: its name (`/app/db-password`, in the service's region)
    /// or ARN (`arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssm: Option<String>,
    /// A Secrets Manager secret: its name (`prod/db`, in the service's region) or ARN
    /// (`arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_manager: Option<String>,
    /// For a Secrets Manager secret holding JSON: the key whose value to use, e.g. `password`.
    /// Without it, the whole secret string is the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// One IAM policy statement for the application's role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyStatement {
    /// `Allow` (the default) or `Deny`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<PolicyEffect>,
    /// IAM actions, `service:Action`, wildcards allowed, e.g. `["s3:GetObject", "sqs:*"]`.
    pub actions: Vec<String>,
    /// The resources, ARNs (wildcards allowed) or `*`, e.g. `["arn:aws:s3:::my-bucket/*"]`.
    pub resources: Vec<String>,
    /// An IAM condition block: operator → condition key → values, e.g.
    /// `{StringEquals: {"aws:RequestedRegion": ["us-east-1"]}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// Whether a policy statement allows or denies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum PolicyEffect {
    /// Allows the actions.
    #[default]
    Allow,
    /// Denies the actions, even when another policy allows them.
    Deny,
}

impl PolicyEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyEffect::Allow => "Allow",
            PolicyEffect::Deny => "Deny",
        }
    }
}

/// How to build the service's image from source: AWS CodeBuild in your account builds the context
/// for the service's platform, pushes it to the service's ECR repository tagged with the build
/// hash, and the service runs it pinned by digest. An unchanged context, Dockerfile, arguments,
/// target and platform (the same build hash) starts no build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Build {
    /// The folder to build (the Docker build context), relative to the Pulumi program's directory.
    /// `.dockerignore` in it is honoured with Docker's rules.
    pub context: String,
    /// The Dockerfile, relative to the context. Defaults to `Dockerfile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// Build arguments (`--build-arg`). Values may be secrets: they are never logged, but a
    /// Dockerfile can bake them into the image.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The stage of a multi-stage Dockerfile to build (`--target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Build {
    pub fn dockerfile(&self) -> &str {
        self.dockerfile.as_deref().unwrap_or("Dockerfile")
    }
}

/// A port the container listens on, and how it is exposed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Port {
    /// The port number the container listens on, 1–65535.
    #[schemars(range(min = 1, max = 65535))]
    pub target: u16,
    /// How the port is exposed: `ingress` (the default) makes it public at
    /// `<service>--<port>.<project>.<username>.defang.app`; `host` keeps it private to the project
    /// at `<service>.<project>.internal:<port>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PortMode>,
    /// The transport protocol: `tcp` (the default) or `udp`. A target may be listed once per
    /// protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The application protocol spoken on the port: `http`, `http2` or `grpc`. Only for tcp ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<AppProtocol>,
}

/// How a port is exposed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortMode {
    /// Public, at `<service>--<port>.<project>.<username>.defang.app`.
    #[default]
    Ingress,
    /// Private to the project, at `<service>.<project>.internal:<port>`.
    Host,
}

/// The transport protocol of a port.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, what most services speak.
    #[default]
    Tcp,
    /// UDP, e.g. for DNS or media streams.
    Udp,
}

/// The application protocol spoken on a tcp port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppProtocol {
    /// HTTP/1.1 (and HTTP/2 negotiated by the client).
    Http,
    /// HTTP/2 only, e.g. for servers that require it end to end.
    Http2,
    /// gRPC, over HTTP/2.
    Grpc,
}

/// The operating system and CPU architecture of a container image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum Platform {
    /// Linux on x86-64 (Intel and AMD).
    #[default]
    #[serde(rename = "linux/amd64")]
    LinuxAmd64,
    /// Linux on ARM64 (AWS Graviton). Images built on Apple silicon are usually linux/arm64.
    #[serde(rename = "linux/arm64")]
    LinuxArm64,
}

/// A container health check, in Compose form. ECS replaces a task whose container becomes
/// unhealthy, and a rollout whose tasks never become healthy fails.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheck {
    /// The check, as a list: `["CMD", "curl", "-f", "http://localhost/"]` runs a program with
    /// arguments, `["CMD-SHELL", "curl -f http://localhost/ || exit 1"]` runs one shell command,
    /// and `["NONE"]` means no health check. Exit code 0 means healthy.
    pub test: Vec<String>,
    /// Seconds between checks, 5–300. Defaults to 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 300))]
    pub interval_seconds: Option<u32>,
    /// Seconds a check may take before it counts as failed, 2–60. Defaults to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 60))]
    pub timeout_seconds: Option<u32>,
    /// Consecutive failed checks before the container is unhealthy, 1–10. Defaults to 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub retries: Option<u32>,
    /// Seconds after the container starts during which failed checks do not count, 0–300, for
    /// services that start slowly. Defaults to 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 300))]
    pub start_period_seconds: Option<u32>,
}

/// A service with every default applied: what is planned and deployed.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedService {
    pub project: String,
    pub name: String,
    /// The image to run; for a service built from source, empty until its build is done.
    pub image: String,
    pub build: Option<Build>,
    pub ports: Vec<ResolvedPort>,
    pub environment: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// The task count to run: `replicas`, or with autoscaling the count to start with (`min`).
    pub replicas: u32,
    pub autoscaling: Option<Autoscaling>,
    pub capacity: Option<Capacity>,
    pub size: FargateSize,
    pub platform: Platform,
    pub health_check: Option<HealthCheck>,
    pub domain_name: Option<String>,
    pub wait_for_steady_state: bool,
    /// The project's adopted zone (its `domain`), once known from the project: ingress domains
    /// are in it instead of `<project>.<username>.<suffix>`.
    pub adopted_zone: Option<String>,
    pub secrets: BTreeMap<String, SecretReference>,
    pub task_role_arn: Option<String>,
    pub policies: Vec<String>,
    pub policy_statements: Vec<PolicyStatement>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub stop_grace_period: Option<u32>,
    pub health_check_grace_period: Option<u32>,
    pub readonly_root_filesystem: bool,
    pub ephemeral_storage: Option<u32>,
    pub init: bool,
    pub enable_exec: bool,
    /// Whether the service's stack has its own task role already (known once the stack is
    /// read): it is kept while the service lives (see [`super::task_role`]).
    pub own_task_role_exists: bool,
    /// Whether the ECS service exists already (known once it was described): the scalable
    /// target of `autoscaling` can only be registered for a service that exists.
    pub ecs_service_exists: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedPort {
    pub target: u16,
    pub mode: PortMode,
    pub protocol: Protocol,
    pub app_protocol: Option<AppProtocol>,
}

impl ResolvedService {
    /// The first ingress port: the one the service's domain is for.
    pub fn first_ingress_port(&self) -> Option<&ResolvedPort> {
        self.ports.iter().find(|p| p.mode == PortMode::Ingress)
    }

    /// Whether the service's stack has a role of the service's own: its permissions need one
    /// (policies, statements, or ECS Exec, whose channels the task role opens, and no
    /// `taskRoleArn`), or it has one already, which is kept.
    pub fn has_own_task_role(&self) -> bool {
        self.own_task_role_exists
            || (self.task_role_arn.is_none()
                && (!self.policies.is_empty()
                    || !self.policy_statements.is_empty()
                    || self.enable_exec))
    }
}

/// The project of a preview whose `project` is not known yet (see [`ServiceInputs::resolved`]).
const PROJECT_STAND_IN: &str = "preview";

impl ServiceInputs {
    /// Whether a preview plans with a stand-in for an input not known yet (see
    /// [`ServiceInputs::resolved`]).
    pub fn has_stand_ins(&self) -> bool {
        self.project == Computed::Unknown || (self.image.is_none() && self.build.is_none())
    }

    /// The secret `environment` values (stored in SSM), by variable.
    pub fn secret_environment(&self) -> BTreeMap<String, String> {
        self.environment
            .iter()
            .filter(|(_, value)| value.secret)
            .map(|(var, value)| (var.clone(), value.value.clone()))
            .collect()
    }

    /// The service name: `name`, else the Pulumi resource name.
    pub fn service_name<'a>(&'a self, resource_name: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(resource_name)
    }

    /// Applies the defaults and rounds the size up to a Fargate size. The inputs are expected to
    /// have passed [`super::check::check_service`]; what it would reject is an error here too,
    /// never a panic, but only the first problem is reported.
    ///
    /// In a preview, a `project` not known yet resolves to a stand-in so that the rest can be
    /// planned; the outputs computed from it are unknown (see
    /// [`super::outputs::OUTPUT_SOURCES`]).
    pub fn resolved(&self, resource_name: &str) -> Result<ResolvedService, CheckFailure> {
        let image = match (&self.image, &self.build) {
            (Some(image), None) => image.clone(),
            (None, Some(_)) => String::new(),
            _ => return Err(CheckFailure::new("image", "set either `image` or `build`")),
        };
        let memory_mib = self
            .memory
            .as_deref()
            .map(parse_memory)
            .transpose()
            .map_err(|reason| CheckFailure::new("memory", reason))?;
        let size = fargate_size(self.cpus, memory_mib)
            .map_err(|e| CheckFailure::new(e.input.property(), e.reason))?;
        Ok(ResolvedService {
            project: match &self.project {
                Computed::Known(project) => project.clone(),
                Computed::Unknown => PROJECT_STAND_IN.to_string(),
            },
            name: self.service_name(resource_name).to_string(),
            image,
            build: self.build.clone(),
            ports: self.ports.iter().map(Port::resolved).collect(),
            environment: self
                .environment
                .iter()
                .map(|(var, value)| (var.clone(), value.value.clone()))
                .collect(),
            command: self.command.clone(),
            entrypoint: self.entrypoint.clone(),
            replicas: self
                .replicas
                .or(self.autoscaling.as_ref().map(|a| a.min))
                .unwrap_or(DEFAULT_REPLICAS),
            autoscaling: self.autoscaling.clone(),
            capacity: self.capacity.clone(),
            size,
            platform: self.platform.unwrap_or_default(),
            health_check: self.health_check.clone(),
            domain_name: self
                .domain_name
                .as_ref()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
            wait_for_steady_state: self.wait_for_steady_state.unwrap_or(true),
            adopted_zone: None,
            secrets: self.secrets.clone(),
            task_role_arn: self.task_role_arn.clone(),
            policies: self.policies.clone(),
            policy_statements: self.policy_statements.clone(),
            working_dir: self.working_dir.clone(),
            user: self.user.clone(),
            stop_grace_period: self.stop_grace_period,
            health_check_grace_period: self.health_check_grace_period,
            readonly_root_filesystem: self.readonly_root_filesystem.unwrap_or(false),
            ephemeral_storage: self.ephemeral_storage,
            init: self.init.unwrap_or(false),
            enable_exec: self.enable_exec.unwrap_or(false),
            own_task_role_exists: false,
            ecs_service_exists: false,
        })
    }
}

impl Port {
    pub fn resolved(&self) -> ResolvedPort {
        ResolvedPort {
            target: self.target,
            mode: self.mode.unwrap_or_default(),
            protocol: self.protocol.unwrap_or_default(),
            app_protocol: self.app_protocol,
        }
    }
}

impl Platform {
    /// The Docker platform string, e.g. `linux/arm64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "linux/amd64",
            Platform::LinuxArm64 => "linux/arm64",
        }
    }
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulumi_plugin::value::{from_properties, to_properties};
    use serde_json::json;

    fn inputs(value: serde_json::Value) -> ServiceInputs {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn resolves_defaults() {
        let r = inputs(json!({"project": "shop", "image": "nginx", "ports": [{"target": 80}]}))
            .resolved("web")
            .unwrap();
        assert_eq!(r.name, "web");
        assert_eq!(r.replicas, 1);
        assert_eq!(r.size.cpu_units, 256);
        assert_eq!(r.size.memory_mib, 512);
        assert_eq!(r.platform, Platform::LinuxAmd64);
        assert!(r.wait_for_steady_state);
        assert_eq!(
            r.ports,
            vec![ResolvedPort {
                target: 80,
                mode: PortMode::Ingress,
                protocol: Protocol::Tcp,
                app_protocol: None
            }]
        );
        assert_eq!(r.first_ingress_port().map(|p| p.target), Some(80));
    }

    #[test]
    fn resolves_explicit_values() {
        let r = inputs(json!({
            "project": "shop", "name": "api", "image": "nginx", "replicas": 0,
            "cpus": 1, "memory": "3Gi", "platform": "linux/arm64", "waitForSteadyState": false,
            "ports": [{"target": 53, "mode": "host", "protocol": "udp"}],
        }))
        .resolved("web")
        .unwrap();
        assert_eq!(r.name, "api");
        assert_eq!(r.replicas, 0);
        assert_eq!((r.size.cpu_units, r.size.memory_mib), (1024, 3072));
        assert_eq!(r.platform, Platform::LinuxArm64);
        assert!(!r.wait_for_steady_state);
        assert_eq!(r.ports[0].protocol, Protocol::Udp);
        assert_eq!(r.first_ingress_port(), None);
    }

    #[test]
    fn resolution_errors_name_the_property() {
        let err = inputs(json!({"project": "shop"}))
            .resolved("web")
            .unwrap_err();
        assert_eq!(err.property, "image");
        let err = inputs(json!({"project": "p", "image": "i", "memory": "lots"}))
            .resolved("web")
            .unwrap_err();
        assert_eq!(err.property, "memory");
        let err = inputs(json!({"project": "p", "image": "i", "cpus": 64}))
            .resolved("web")
            .unwrap_err();
        assert_eq!(err.property, "cpus");
    }

    #[test]
    fn round_trips_through_property_maps_without_defaults() {
        let original = inputs(json!({
            "project": "shop", "image": "nginx",
            "ports": [{"target": 80, "appProtocol": "http2"}],
            "platform": "linux/arm64",
            "healthCheck": {"test": ["NONE"], "startPeriodSeconds": 10},
        }));
        let props = to_properties(&original);
        let keys: Vec<&str> = props.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["healthCheck", "image", "platform", "ports", "project"]
        );
        let back: ServiceInputs = from_properties(&props).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn rejects_unknown_fields_and_values() {
        assert!(
            serde_json::from_value::<ServiceInputs>(json!({"project": "p", "replica": 2})).is_err()
        );
        assert!(serde_json::from_value::<Port>(json!({"target": 80, "mode": "public"})).is_err());
        assert!(serde_json::from_value::<Platform>(json!("linux/386")).is_err());
    }
}
