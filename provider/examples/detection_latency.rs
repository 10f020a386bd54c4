//! Detection latency of the provider's ECS waits (issue 10, item 3), against moto.
//!
//! For each round of N concurrent waits it creates N services and runs the provider's own
//! rollout wait (`service::rollout::wait_for_rollout`, through the environment's shared
//! poller) on each, then deletes them with the provider's Delete of a service
//! (`service::delete::delete`, whose drain wait `wait_for_drain` is private). Latency is the
//! time from the moment the emulator marks the rollout complete (or the service drained) to the
//! wait returning; the emulator lists those moments at `GET /moto-api/defang/ecs-timeline`
//! (patch 18 in scripts/moto/server.py: start moto with `MOTO_ECS_ROLLOUT_SECONDS` and
//! `MOTO_ECS_DRAIN_SECONDS`). DescribeServices calls are counted by a decorator around the
//! `Ecs` adapter, which also notes when a response first showed a rollout complete or a service
//! gone ("seen": the poll that detected it).
//!
//! Each phase of a round gets a fresh `Runtime` (so a fresh poller), as each `pulumi up` or
//! `destroy` gets a fresh provider process. The real adapters are used (`defang_aws::connect`,
//! the standard `AWS_ENDPOINT_URL` and credentials).
//!
//!     eval "$(MOTO_ECS_SERVICE_RUNNING=1 MOTO_ECS_ROLLOUT_SECONDS=3-30 MOTO_ECS_DRAIN_SECONDS=3-30 \
//!         scripts/moto/moto.sh start --state-dir "$(mktemp -d)")"
//!     cargo run --release -p pulumi-resource-defang --example detection_latency -- \
//!         --waits 1,10,100 [--repeat R] [--json FILE]
//!
//! (scripts/bench/detection.sh does all of it.) Options:
//!   --waits LIST     concurrent waits per round (default 1,10,100)
//!   --repeat R       rounds per entry of --waits, pooled (default 1)
//!   --json FILE      also append one JSON line per (phase, waits) to FILE
//!   --project NAME   project (cluster defang-NAME) to use (default: a fresh name)
//!   --timeout SECS   per wait (default 600)
//!   --timeline URL   default: $AWS_ENDPOINT_URL/moto-api/defang/ecs-timeline

use defang_resources::aws_names;
use defang_resources::cloud::*;
use defang_resources::config::ProviderConfig;
use defang_resources::runtime::{Cloud, Runtime};
use defang_resources::service::resource::ServiceResource;
use defang_resources::service::rollout::{RolloutEnd, wait_for_rollout};
use defang_resources::service::status::ServiceStatus;
use pulumi_plugin::{Context, DeleteRequest, EngineLog, PropertyMap, Resources, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const TIMELINE_PATH: &str = "/moto-api/defang/ecs-timeline";

/// Seconds since the epoch: the emulator's timeline uses this machine's clock too.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

// ---------------------------------------------------------------------------------------
// The counting decorator (bench code): every DescribeServices, and what it first showed.

#[derive(Default)]
struct Seen {
    /// First response with the PRIMARY deployment COMPLETED and the desired count running.
    completed: Option<f64>,
    /// First response with the service neither ACTIVE nor DRAINING (INACTIVE, or missing
    /// after it was seen).
    gone: Option<f64>,
}

struct CountingEcs {
    inner: Arc<dyn Ecs>,
    /// (time the call returned, services asked for).
    describes: Mutex<Vec<(f64, usize)>>,
    seen: Mutex<HashMap<(String, String), Seen>>,
}

impl CountingEcs {
    fn calls_between(&self, from: f64, to: f64) -> usize {
        self.describes
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at >= from && *at <= to)
            .count()
    }

    fn seen(&self, cluster: &str, name: &str) -> (Option<f64>, Option<f64>) {
        let seen = self.seen.lock().unwrap();
        seen.get(&(cluster.to_string(), name.to_string()))
            .map_or((None, None), |s| (s.completed, s.gone))
    }
}

fn rollout_complete(s: &ServiceState) -> bool {
    s.status == "ACTIVE"
        && s.running_count >= s.desired_count
        && s.primary_deployment()
            .is_some_and(|d| d.rollout_state == Some(RolloutState::Completed))
}

#[async_trait::async_trait]
impl Ecs for CountingEcs {
    async fn register_task_definition(&self, spec: &TaskDefinitionSpec) -> CloudResult<String> {
        self.inner.register_task_definition(spec).await
    }
    async fn describe_task_definition(&self, arn: &str) -> CloudResult<Option<TaskDefinition>> {
        self.inner.describe_task_definition(arn).await
    }
    async fn list_task_definitions(&self, family: &str) -> CloudResult<Vec<String>> {
        self.inner.list_task_definitions(family).await
    }
    async fn deregister_task_definition(&self, arn: &str) -> CloudResult<()> {
        self.inner.deregister_task_definition(arn).await
    }
    async fn create_service(&self, spec: &ServiceSpec) -> CloudResult<ServiceState> {
        self.inner.create_service(spec).await
    }
    async fn update_service(&self, update: &ServiceUpdate) -> CloudResult<ServiceState> {
        self.inner.update_service(update).await
    }
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> CloudResult<Vec<ServiceState>> {
        let result = self.inner.describe_services(cluster, names).await;
        let at = now();
        self.describes.lock().unwrap().push((at, names.len()));
        if let Ok(found) = &result {
            let mut seen = self.seen.lock().unwrap();
            for name in names {
                let state = found.iter().find(|s| &s.name == name);
                let entry = seen.entry((cluster.to_string(), name.clone())).or_default();
                match state {
                    Some(s) if rollout_complete(s) => {
                        entry.completed.get_or_insert(at);
                    }
                    Some(s) if s.status == "ACTIVE" || s.status == "DRAINING" => {}
                    _ => {
                        entry.gone.get_or_insert(at);
                    }
                }
            }
        }
        result
    }
    async fn delete_service(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.inner.delete_service(cluster, name).await
    }
}

// ---------------------------------------------------------------------------------------
// The emulator's timeline.

#[derive(Clone, Debug)]
struct Moment {
    started_at: f64,
    completes_at: f64,
}

/// (cluster, service, kind) → the newest entry of that kind.
async fn timeline(url: &str) -> Result<HashMap<(String, String, String), Moment>, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// endpoints"))?;
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let request =
        format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{url}: not an HTTP response"))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "{url}: {} (is this moto with scripts/moto/server.py's patch 18?)",
            head.lines().next().unwrap_or("")
        ));
    }
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(body).map_err(|e| format!("{url}: {e}"))?;
    let mut out = HashMap::new();
    for e in entries {
        let text = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let number = |k: &str| {
            e.get(k)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(f64::NAN)
        };
        out.insert(
            (text("cluster"), text("service"), text("kind")),
            Moment {
                started_at: number("started_at"),
                completes_at: number("completes_at"),
            },
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Setup: a VPC, subnet, security group and the project's cluster, as one stack (moto checks
// the subnet and security group of a service).

struct Network {
    stack: String,
    cluster: String,
    subnet: String,
    security_group: String,
}

async fn network(stacks: &dyn Stacks, project: &str) -> Result<Network, String> {
    let cluster = aws_names::cluster(project);
    let stack = format!("{cluster}-bench-network");
    let template = serde_json::json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"}},
            "Tasks": {"Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "tasks", "VpcId": {"Ref": "Vpc"}}},
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": cluster}}
        },
        "Outputs": {
            "Subnet": {"Value": {"Ref": "Subnet"}},
            "SecurityGroup": {"Value": {"Fn::GetAtt": ["Tasks", "GroupId"]}}
        }
    });
    let request = StackRequest {
        name: stack.clone(),
        template: template.to_string(),
        tags: BTreeMap::new(),
        parameters: BTreeMap::new(),
        client_token: format!("{stack}-create"),
    };
    stacks
        .create_stack(&request)
        .await
        .map_err(|e| format!("create stack {stack}: {e}"))?;
    for _ in 0..600 {
        match stacks.describe_stack(&stack).await {
            Ok(Some(s)) if s.is_in_progress() => {}
            Ok(Some(s)) if s.status == "CREATE_COMPLETE" => {
                return Ok(Network {
                    subnet: s.outputs.get("Subnet").cloned().unwrap_or_default(),
                    security_group: s.outputs.get("SecurityGroup").cloned().unwrap_or_default(),
                    cluster,
                    stack,
                });
            }
            Ok(other) => return Err(format!("stack {stack}: {other:?}")),
            Err(e) => return Err(format!("describe stack {stack}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("stack {stack} still in progress"))
}

fn task_definition(family: &str) -> TaskDefinitionSpec {
    TaskDefinitionSpec {
        family: family.to_string(),
        cpu: 256,
        memory: 512,
        cpu_architecture: CpuArchitecture::X86_64,
        execution_role_arn: None,
        task_role_arn: None,
        container: ContainerSpec {
            name: "web".into(),
            image: "public.ecr.aws/nginx/nginx:latest".into(),
            command: None,
            entrypoint: None,
            environment: vec![],
            secrets: vec![],
            port_mappings: vec![],
            health_check: None,
            log: None,
            ..Default::default()
        },
        tags: vec![],
        ..Default::default()
    }
}

fn context(timeout: Duration, urn: &str) -> Context {
    Context::new(
        EngineLog::default().for_resource(urn),
        CancellationToken::new(),
        Some(timeout),
    )
}

// ---------------------------------------------------------------------------------------
// Rounds.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Rollout,
    Drain,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Rollout => "rollout",
            Phase::Drain => "drain",
        }
    }
}

/// One wait: when it started and returned, and how it ended.
struct Wait {
    name: String,
    started: f64,
    returned: f64,
    outcome: Result<(), String>,
}

/// What one (phase, waits) entry pooled over its repeats.
#[derive(Default)]
struct Figures {
    /// returned − completes_at, per wait.
    latencies: Vec<f64>,
    /// first poll that showed it − completes_at.
    seen: Vec<f64>,
    /// emulator delay: completes_at − started_at.
    delays: Vec<f64>,
    errors: Vec<String>,
    calls: usize,
    /// Seconds from the first wait's start to the last one's return, summed over repeats.
    window: f64,
    samples: usize,
}

impl Figures {
    fn add(
        &mut self,
        phase: Phase,
        cluster: &str,
        waits: &[Wait],
        counting: &CountingEcs,
        moments: &HashMap<(String, String, String), Moment>,
    ) {
        let from = waits
            .iter()
            .map(|w| w.started)
            .fold(f64::INFINITY, f64::min);
        let to = waits
            .iter()
            .map(|w| w.returned)
            .fold(f64::NEG_INFINITY, f64::max);
        self.calls += counting.calls_between(from, to);
        self.window += to - from;
        for w in waits {
            self.samples += 1;
            if let Err(e) = &w.outcome {
                self.errors.push(format!("{}: {e}", w.name));
                continue;
            }
            let key = (
                cluster.to_string(),
                w.name.clone(),
                phase.as_str().to_string(),
            );
            let Some(m) = moments.get(&key) else {
                self.errors
                    .push(format!("{}: not in the emulator's timeline", w.name));
                continue;
            };
            self.latencies.push(w.returned - m.completes_at);
            self.delays.push(m.completes_at - m.started_at);
            let (completed, gone) = counting.seen(cluster, &w.name);
            let seen = match phase {
                Phase::Rollout => completed,
                Phase::Drain => gone,
            };
            if let Some(at) = seen {
                self.seen.push(at - m.completes_at);
            }
        }
    }

    fn calls_per_minute(&self) -> f64 {
        if self.window > 0.0 {
            self.calls as f64 * 60.0 / self.window
        } else {
            0.0
        }
    }
}

/// Nearest-rank percentile of a sorted slice.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v
}

struct Bench {
    cloud: Cloud,
    counting: Arc<CountingEcs>,
    config: ProviderConfig,
    net: Network,
    project: String,
    timeout: Duration,
}

impl Bench {
    /// Creates `names` and waits for their rollouts, concurrently; returns the waits and the
    /// task definition of each service.
    async fn rollouts(&self, names: &[String]) -> (Vec<Wait>, HashMap<String, String>) {
        let env = Runtime::new(self.cloud.clone(), self.config.clone());
        let mut tasks = Vec::new();
        for name in names {
            let env = env.clone();
            let name = name.clone();
            let project = self.project.clone();
            let net = (
                self.net.cluster.clone(),
                self.net.subnet.clone(),
                self.net.security_group.clone(),
            );
            let ctx = context(self.timeout, &format!("urn:bench::{name}"));
            tasks.push(tokio::spawn(async move {
                let (cluster, subnet, sg) = net;
                let ecs = env.cloud.ecs.clone();
                let family = aws_names::task_family(&project, &name);
                let td = match ecs
                    .register_task_definition(&task_definition(&family))
                    .await
                {
                    Ok(arn) => arn,
                    Err(e) => return (fail(&name, format!("register: {e}")), None),
                };
                let spec = ServiceSpec {
                    cluster: cluster.clone(),
                    name: name.clone(),
                    task_definition_arn: td.clone(),
                    desired_count: 1,
                    network: NetworkSpec {
                        subnets: vec![subnet],
                        security_groups: vec![sg],
                        assign_public_ip: false,
                    },
                    routing: Routing::default(),
                    tags: vec![
                        ("defang:project".into(), project.clone()),
                        ("defang:service".into(), name.clone()),
                    ],
                    client_token: format!("{name}-create"),
                    ..Default::default()
                };
                let state = match ecs.create_service(&spec).await {
                    Ok(state) => state,
                    Err(e) => return (fail(&name, format!("create: {e}")), Some(td)),
                };
                // As the provider's create does: follow the deployment CreateService returned.
                let deployment = state.primary_deployment().map(|d| d.id.clone());
                let started = now();
                let end = wait_for_rollout(
                    &env.poller,
                    &ctx,
                    &cluster,
                    &name,
                    deployment.as_deref(),
                    state,
                )
                .await;
                let returned = now();
                let outcome = match end {
                    Ok(RolloutEnd::Settled(_, ServiceStatus::ServiceDeploymentCompleted)) => Ok(()),
                    Ok(RolloutEnd::Settled(_, status)) => Err(format!("settled {status}")),
                    Ok(RolloutEnd::Interrupted(_, status, why)) => {
                        Err(format!("interrupted at {status}: {why}"))
                    }
                    Err(e) => Err(e.to_string()),
                };
                (
                    Wait {
                        name,
                        started,
                        returned,
                        outcome,
                    },
                    Some(td),
                )
            }));
        }
        let mut waits = Vec::new();
        let mut tds = HashMap::new();
        for task in tasks {
            let (wait, td) = task.await.expect("rollout task");
            if let Some(td) = td {
                tds.insert(wait.name.clone(), td);
            }
            waits.push(wait);
        }
        (waits, tds)
    }

    /// Deletes `names` with the provider's Delete of a service (scale to 0, DeleteService,
    /// wait for the drain, then its parameters, stack, task definitions and repository).
    async fn drains(&self, names: &[String], tds: &HashMap<String, String>) -> Vec<Wait> {
        let env = Runtime::new(self.cloud.clone(), self.config.clone());
        let mut tasks = Vec::new();
        for name in names {
            let env = env.clone();
            let name = name.clone();
            let urn = format!("urn:pulumi:bench::bench::defang:index:Service::{name}");
            let mut old_outputs = PropertyMap::new();
            if let Some(td) = tds.get(&name) {
                old_outputs.insert("taskDefinitionArn".into(), Value::from(td.as_str()));
            }
            let req = DeleteRequest {
                id: format!("{}/{name}", self.project),
                urn: urn.clone(),
                name: name.clone(),
                type_token: "defang:index:Service".into(),
                old_outputs,
                old_inputs: PropertyMap::new(),
                timeout: Some(self.timeout),
            };
            let ctx = context(self.timeout, &urn);
            tasks.push(tokio::spawn(async move {
                let started = now();
                // As the provider serves it.
                let service = Resources::default().typed(ServiceResource);
                let outcome = service
                    .delete(&env, req, ctx)
                    .await
                    .map_err(|e| e.to_string());
                Wait {
                    name,
                    started,
                    returned: now(),
                    outcome,
                }
            }));
        }
        let mut waits = Vec::new();
        for task in tasks {
            waits.push(task.await.expect("drain task"));
        }
        waits
    }
}

fn fail(name: &str, why: String) -> Wait {
    let t = now();
    Wait {
        name: name.to_string(),
        started: t,
        returned: t,
        outcome: Err(why),
    }
}

// ---------------------------------------------------------------------------------------

struct Args {
    waits: Vec<usize>,
    repeat: usize,
    json: Option<std::path::PathBuf>,
    project: Option<String>,
    timeout: Duration,
    timeline: Option<String>,
}

fn usage(why: &str) -> ! {
    eprintln!(
        "detection_latency: {why}\nusage: detection_latency [--waits 1,10,100] [--repeat R] [--json FILE] [--project NAME] [--timeout SECS] [--timeline URL]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        waits: vec![1, 10, 100],
        repeat: 1,
        json: None,
        project: None,
        timeout: Duration::from_secs(600),
        timeline: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .unwrap_or_else(|| usage(&format!("{key} needs a value")))
        };
        match key.as_str() {
            "--waits" => {
                args.waits = value()
                    .split(',')
                    .map(|n| match n.trim().parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => usage(&format!("--waits: {n:?} is not a positive number")),
                    })
                    .collect()
            }
            "--repeat" => {
                args.repeat = match value().parse() {
                    Ok(n) if n > 0 => n,
                    _ => usage("--repeat: a positive number"),
                }
            }
            "--json" => args.json = Some(value().into()),
            "--project" => args.project = Some(value()),
            "--timeout" => {
                args.timeout = Duration::from_secs(
                    value()
                        .parse()
                        .unwrap_or_else(|_| usage("--timeout: seconds")),
                )
            }
            "--timeline" => args.timeline = Some(value()),
            "-h" | "--help" => {
                usage("measures the detection latency of the rollout and drain waits")
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEFANG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = parse_args();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let timeline_url = args.timeline.clone().unwrap_or_else(|| {
        if endpoint.is_empty() {
            usage("AWS_ENDPOINT_URL is not set (start moto, or pass --timeline)");
        }
        format!("{}{TIMELINE_PATH}", endpoint.trim_end_matches('/'))
    });
    if let Err(e) = timeline(&timeline_url).await {
        eprintln!("detection_latency: {e}");
        std::process::exit(1);
    }

    // The provider's configuration and connection, as its Configure does.
    let mut map = PropertyMap::new();
    map.insert("username".into(), Value::from("bench"));
    let config = ProviderConfig::parse(&map).expect("provider config");
    let settings = defang_aws::config::AwsSettings {
        region: config.region.clone(),
        profile: config.profile.clone(),
        max_retries: config.max_retries,
    };
    let mut cloud = match defang_aws::connect(&settings).await {
        Ok(cloud) => cloud,
        Err(e) => {
            eprintln!("detection_latency: {e}");
            std::process::exit(1);
        }
    };
    let counting = Arc::new(CountingEcs {
        inner: cloud.ecs.clone(),
        describes: Mutex::new(Vec::new()),
        seen: Mutex::new(HashMap::new()),
    });
    cloud.ecs = counting.clone();

    let project = args
        .project
        .clone()
        .unwrap_or_else(|| format!("bench{:x}", (now() * 1000.0) as u64 & 0xff_ffff));
    let net = match network(cloud.stacks.as_ref(), &project).await {
        Ok(net) => net,
        Err(e) => {
            eprintln!("detection_latency: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "detection_latency: endpoint {endpoint}, cluster {}, waits {:?} x{}",
        net.cluster, args.waits, args.repeat
    );
    let bench = Bench {
        cloud,
        counting: counting.clone(),
        config,
        net,
        project,
        timeout: args.timeout,
    };

    let mut results: Vec<(Phase, usize, Figures)> = Vec::new();
    for &n in &args.waits {
        let mut rollout = Figures::default();
        let mut drain = Figures::default();
        for rep in 0..args.repeat {
            let names: Vec<String> = (0..n).map(|i| format!("w{n}-r{rep}-s{i:03}")).collect();
            let t = now();
            let (waits, tds) = bench.rollouts(&names).await;
            let rollout_wall = now() - t;
            let t = now();
            let drained = bench.drains(&names, &tds).await;
            let drain_wall = now() - t;
            match timeline(&timeline_url).await {
                Ok(moments) => {
                    rollout.add(
                        Phase::Rollout,
                        &bench.net.cluster,
                        &waits,
                        &bench.counting,
                        &moments,
                    );
                    drain.add(
                        Phase::Drain,
                        &bench.net.cluster,
                        &drained,
                        &bench.counting,
                        &moments,
                    );
                }
                Err(e) => {
                    eprintln!("detection_latency: {e}");
                    std::process::exit(1);
                }
            }
            eprintln!(
                "detection_latency: {n} waits, round {}/{}: rollouts {rollout_wall:.1} s, drains {drain_wall:.1} s",
                rep + 1,
                args.repeat
            );
        }
        results.push((Phase::Rollout, n, rollout));
        results.push((Phase::Drain, n, drain));
    }

    // Best effort: the network stack (and with it the cluster, once no service is ACTIVE).
    let _ = bench
        .cloud
        .stacks
        .delete_stack(&bench.net.stack, &format!("{}-delete", bench.net.stack))
        .await;

    println!(
        "{:<8} {:>5} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>9} {:>13}",
        "phase",
        "waits",
        "samples",
        "p50 s",
        "p95 s",
        "max s",
        "seen p50",
        "seen p95",
        "delay p50",
        "Describe/m",
        "calls",
        "calls/svc/min"
    );
    let mut json = args.json.as_ref().map(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| {
                eprintln!("detection_latency: {}: {e}", path.display());
                std::process::exit(1)
            })
    });
    let mut failed = false;
    for (phase, n, f) in &results {
        let lat = sorted(&f.latencies);
        let seen = sorted(&f.seen);
        let delays = sorted(&f.delays);
        let per_minute = f.calls_per_minute();
        println!(
            "{:<8} {:>5} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>9.1} {:>10.1} {:>9} {:>13.2}",
            phase.as_str(),
            n,
            f.samples,
            percentile(&lat, 50.0),
            percentile(&lat, 95.0),
            lat.last().copied().unwrap_or(f64::NAN),
            percentile(&seen, 50.0),
            percentile(&seen, 95.0),
            percentile(&delays, 50.0),
            per_minute,
            f.calls,
            per_minute / *n as f64,
        );
        for e in f.errors.iter().take(5) {
            println!("  error: {e}");
        }
        if !f.errors.is_empty() {
            failed = true;
            println!("  {} of {} waits failed", f.errors.len(), f.samples);
        }
        if let Some(file) = json.as_mut() {
            let line = serde_json::json!({
                "phase": phase.as_str(),
                "waits": n,
                "repeat": args.repeat,
                "samples": f.samples,
                "p50_s": percentile(&lat, 50.0),
                "p95_s": percentile(&lat, 95.0),
                "max_s": lat.last(),
                "min_s": lat.first(),
                "seen_p50_s": percentile(&seen, 50.0),
                "seen_p95_s": percentile(&seen, 95.0),
                "describe_services_calls": f.calls,
                "window_s": f.window,
                "describe_services_per_min": per_minute,
                "describe_services_per_service_per_min": per_minute / *n as f64,
                "latencies_s": f.latencies,
                "seen_s": f.seen,
                "delays_s": f.delays,
                "errors": f.errors,
            });
            writeln!(file, "{line}").expect("write the JSON line");
        }
    }
    if failed {
        std::process::exit(1);
    }
}
