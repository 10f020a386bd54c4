//! The fault-injection suite's harness: the fault proxy (`scripts/moto/fault_proxy.py`) between
//! the provider and moto, the profile (short under `cargo test`, full with
//! `DEFANG_FAULTS_PROFILE=full`), a fleet program of many services, the provider and CLI
//! processes of a workspace (to kill or interrupt them), what moto holds (read directly, not
//! through the proxy), and the figures of each step (printed, and appended as JSON lines to
//! `DEFANG_FAULTS_REPORT` for `scripts/faults.sh`).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Fractions of calls that get each fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    pub throttle: f64,
    pub error_5xx: f64,
    pub drop: f64,
}

impl Rates {
    pub const NONE: Rates = Rates {
        throttle: 0.0,
        error_5xx: 0.0,
        drop: 0.0,
    };
}

fn env_f64(key: &str, default: f64) -> f64 {
    match std::env::var(key) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{key}={v:?} is not a number: {e}")),
        _ => default,
    }
}

/// What a run of the suite does: `DEFANG_FAULTS_PROFILE=full` (`make faults`) or the short
/// default of `cargo test`.
#[derive(Clone, Debug)]
pub struct Profile {
    pub full: bool,
    /// Services in the fleet program.
    pub services: usize,
    pub seed: String,
    /// The faults of the lifecycle scenario (default 30 % throttling, 10 % lost responses).
    pub rates: Rates,
    /// The faults of the kill and Ctrl-C scenarios (none unless `DEFANG_FAULTS_EVERYWHERE=1`).
    pub interrupt_rates: Rates,
}

impl Profile {
    pub fn from_env() -> Profile {
        let full = std::env::var("DEFANG_FAULTS_PROFILE").is_ok_and(|p| p == "full");
        let services = std::env::var("DEFANG_FAULTS_SERVICES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { 20 } else { 5 });
        let rates = Rates {
            throttle: env_f64("DEFANG_FAULTS_THROTTLE", 0.3),
            error_5xx: env_f64("DEFANG_FAULTS_5XX", 0.0),
            drop: env_f64("DEFANG_FAULTS_DROP", 0.1),
        };
        let everywhere = std::env::var("DEFANG_FAULTS_EVERYWHERE").is_ok_and(|v| v == "1");
        Profile {
            full,
            services,
            seed: std::env::var("DEFANG_FAULTS_SEED").unwrap_or_else(|_| "9".into()),
            rates,
            interrupt_rates: if everywhere { rates } else { Rates::NONE },
        }
    }
}

/// The fault proxy, started with the moto venv's python in front of `upstream`.
pub struct FaultProxy {
    pub port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

impl FaultProxy {
    // The child is owned by the returned proxy, whose Drop stops and waits for it.
    #[allow(clippy::zombie_processes)]
    pub fn start(upstream: &str, seed: &str, rates: Rates) -> FaultProxy {
        let dir = std::env::temp_dir().join(crate::unique("fault-proxy-"));
        std::fs::create_dir_all(&dir).unwrap();
        let port_file = dir.join("port");
        let child = Command::new(crate::moto::moto_python())
            .arg(crate::repo_root().join("scripts/moto/fault_proxy.py"))
            .args(["--upstream", upstream, "--port", "0", "--seed", seed])
            .arg("--throttle")
            .arg(rates.throttle.to_string())
            .arg("--error-5xx")
            .arg(rates.error_5xx.to_string())
            .arg("--drop")
            .arg(rates.drop.to_string())
            .arg("--port-file")
            .arg(&port_file)
            .arg("--stats-file")
            .arg(dir.join("stats.json"))
            .arg("--log")
            .arg(dir.join("faults.jsonl"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .expect("start the fault proxy");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                return FaultProxy {
                    port,
                    child: Some(child),
                    dir,
                };
            }
            assert!(
                Instant::now() < deadline,
                "the fault proxy did not start within 20 s:\n{}",
                std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The log of injected faults and of the errors moto answered (JSON lines).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("faults.jsonl")
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("fault proxy on port {}: {e}", self.port));
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            conn,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).unwrap();
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("fault proxy answered {response:?}"));
        assert!(head.starts_with("HTTP/1.1 200"), "fault proxy: {response}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("fault proxy stats {body:?}: {e}"))
    }

    /// The figures so far (`GET /__faults/stats`).
    pub fn stats(&self) -> Stats {
        Stats(self.control("GET", "/__faults/stats", ""))
    }

    /// New rates from now on (`POST /__faults/config`).
    pub fn set_rates(&self, rates: Rates) {
        let body =
            json!({"throttle": rates.throttle, "error_5xx": rates.error_5xx, "drop": rates.drop});
        self.control("POST", "/__faults/config", &body.to_string());
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM: the proxy writes its figures to stats.json and stdout, then exits.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() || std::env::var("DEFANG_E2E_KEEP").is_ok_and(|v| v == "1") {
            eprintln!(
                "[faults] fault proxy files kept at {} (stats.json, faults.jsonl)",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A snapshot of the proxy's figures (`/__faults/stats`).
#[derive(Clone, Debug)]
pub struct Stats(pub Value);

impl Stats {
    pub fn get(&self, key: &str) -> u64 {
        self.0[key].as_u64().unwrap_or_default()
    }

    pub fn fault(&self, kind: &str) -> u64 {
        self.0["faults"][kind].as_u64().unwrap_or_default()
    }

    /// The counters of `self` minus those of `before` (a step's share), as a flat row.
    pub fn since(&self, before: &Stats) -> BTreeMap<String, u64> {
        let mut row = BTreeMap::new();
        for key in [
            "calls",
            "forwarded",
            "retries_seen",
            "exhausted",
            "abandoned",
            "upstream_errors",
            "proxy_errors",
        ] {
            row.insert(
                key.to_string(),
                self.get(key).saturating_sub(before.get(key)),
            );
        }
        for kind in ["throttle", "error_5xx", "drop"] {
            row.insert(
                kind.to_string(),
                self.fault(kind).saturating_sub(before.fault(kind)),
            );
        }
        row
    }

    /// The actions moto answered with an error since `before`: `action: code × n`.
    pub fn upstream_errors_since(&self, before: &Stats) -> Vec<String> {
        let mut out = Vec::new();
        let empty = serde_json::Map::new();
        for (action, entry) in self.0["by_action"].as_object().unwrap_or(&empty) {
            for (code, n) in entry["upstream_errors"].as_object().unwrap_or(&empty) {
                let was = before.0["by_action"][action]["upstream_errors"][code]
                    .as_u64()
                    .unwrap_or_default();
                let n = n.as_u64().unwrap_or_default().saturating_sub(was);
                if n > 0 {
                    out.push(format!("{action}: {code} x{n}"));
                }
            }
        }
        out
    }
}

/// Prints a step's figures and appends them to `DEFANG_FAULTS_REPORT` (JSON lines). `expected`
/// is false for a step that is meant to fail (the up whose provider is killed).
pub fn record(
    scenario: &str,
    step: &str,
    (ok, expected): (bool, bool),
    seconds: f64,
    before: &Stats,
    after: &Stats,
) {
    let row = after.since(before);
    let errors = after.upstream_errors_since(before);
    eprintln!(
        "[faults] {scenario} / {step}: {} in {seconds:.1}s; {row:?}; moto errors: {errors:?}",
        match (ok, expected) {
            (true, _) => "ok",
            (false, true) => "FAILED",
            (false, false) => "failed (as meant)",
        }
    );
    if let Ok(path) = std::env::var("DEFANG_FAULTS_REPORT")
        && !path.is_empty()
    {
        let line = json!({
            "scenario": scenario,
            "step": step,
            "ok": ok,
            "expected_ok": expected,
            "seconds": (seconds * 10.0).round() / 10.0,
            "figures": row,
            "moto_errors": errors,
            "rates": after.0["rates"],
            "seed": after.0["seed"],
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("DEFANG_FAULTS_REPORT={path}: {e}"));
        writeln!(f, "{line}").unwrap();
    }
}

/// The fleet program: one project `fleet` and `services` image services `svc00`, `svc01`, …,
/// each with a host port, a plain variable `GENERATION` and a secret `TOKEN` (so every service
/// also has an SSM parameter and its own CloudFormation stack). `extra` is appended to the
/// resources.
pub fn fleet_program(name: &str, services: usize, extra: &str) -> String {
    let mut p = format!(
        "name: {name}\nruntime: yaml\nplugins:\n  providers:\n    - name: defang\n      path: {}\n\
         config:\n  token:\n    type: string\n    secret: true\nresources:\n  fleet:\n    \
         type: defang:index:Project\n    properties:\n      name: fleet\n",
        crate::pulumi::EXAMPLE_PROVIDER_PATH
    );
    for name in service_names(services) {
        p.push_str(&format!(
            "  {name}:\n    type: defang:index:Service\n    properties:\n      project: ${{fleet.name}}\n      \
             image: nginx:1.27-alpine\n      ports:\n        - target: 80\n          mode: host\n      \
             environment:\n        GENERATION: \"1\"\n        TOKEN: ${{token}}\n"
        ));
    }
    p.push_str(extra);
    p
}

pub const PROJECT: &str = "fleet";
pub const CLUSTER: &str = "defang-fleet";

/// Whether the stack or family `resource` is the service `service`'s: it names the project
/// and ends with `-<service>`.
pub fn owned_by(resource: &str, service: &str) -> bool {
    resource.contains(PROJECT) && resource.ends_with(&format!("-{service}"))
}

/// Whether the SSM parameter `name` holds the service's secret `TOKEN`:
/// `/defang/<project>/<service>/TOKEN`, or a version of it (`…/TOKEN/v1`).
pub fn is_secret_parameter(name: &str, service: &str) -> bool {
    let base = format!("/defang/{PROJECT}/{service}/TOKEN");
    name == base
        || name
            .strip_prefix(&format!("{base}/"))
            .is_some_and(|v| !v.contains('/'))
}

pub fn service_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("svc{i:02}")).collect()
}

/// The processes of a workspace's commands named `exe` (`pulumi`, `pulumi-resource-defang`):
/// those whose argv[0] has that file name and whose environment holds the workspace's
/// `PULUMI_HOME`.
pub fn workspace_processes(workspace_dir: &Path, exe: &str) -> Vec<u32> {
    let home = format!("PULUMI_HOME={}", workspace_dir.join("home").display());
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        let argv0 = String::from_utf8_lossy(argv0);
        if Path::new(&*argv0).file_name().and_then(|n| n.to_str()) != Some(exe) {
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|kv| kv == home.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// The process group of `pid` (field 5 of /proc/<pid>/stat).
pub fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    after_comm.split_whitespace().nth(2)?.parse().ok()
}

/// Sends `signal` (`KILL`, `INT`, …) to `pid`, or to the process group `pid` when `group`.
pub fn signal(pid: u32, signal: &str, group: bool) {
    let target = if group {
        format!("-{pid}")
    } else {
        pid.to_string()
    };
    let status = Command::new("kill")
        .args([&format!("-{signal}"), "--", &target])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal} {target} failed");
}

/// Polls `cond` every 100 ms until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cond()
}

/// What moto holds for the fleet, read directly (not through the proxy).
#[derive(Debug, Default, PartialEq)]
pub struct Inventory {
    /// ECS services of the cluster, name → statuses (a duplicate shows as two entries).
    pub services: BTreeMap<String, Vec<String>>,
    /// Each service's task definition (the ARN its ACTIVE service runs).
    pub service_task_definitions: BTreeMap<String, String>,
    /// Task definition families with ACTIVE revisions, family → revision count.
    pub families: BTreeMap<String, usize>,
    /// Stacks not deleted, name → statuses.
    pub stacks: BTreeMap<String, Vec<String>>,
    /// SSM parameters under /defang/.
    pub parameters: Vec<String>,
    /// Whether the cluster is ACTIVE.
    pub cluster_active: bool,
}

impl Inventory {
    pub async fn read(moto: &crate::Moto) -> Inventory {
        let ecs = moto.ecs().await;
        let cfn = moto.cloudformation().await;
        let ssm = moto.ssm().await;
        let mut inv = Inventory::default();

        let clusters = ecs
            .describe_clusters()
            .clusters(CLUSTER)
            .send()
            .await
            .expect("describe_clusters");
        inv.cluster_active = clusters
            .clusters()
            .iter()
            .any(|c| c.status() == Some("ACTIVE"));
        if inv.cluster_active {
            let mut arns = Vec::new();
            let mut next = None;
            loop {
                let page = ecs
                    .list_services()
                    .cluster(CLUSTER)
                    .max_results(100)
                    .set_next_token(next)
                    .send()
                    .await
                    .expect("list_services");
                arns.extend(page.service_arns().iter().cloned());
                next = page.next_token().map(str::to_string);
                if next.is_none() {
                    break;
                }
            }
            for chunk in arns.chunks(10) {
                let out = ecs
                    .describe_services()
                    .cluster(CLUSTER)
                    .set_services(Some(chunk.to_vec()))
                    .send()
                    .await
                    .expect("describe_services");
                for s in out.services() {
                    let name = s.service_name().unwrap_or_default().to_string();
                    let status = s.status().unwrap_or_default().to_string();
                    if status == "ACTIVE" {
                        inv.service_task_definitions.insert(
                            name.clone(),
                            s.task_definition().unwrap_or_default().to_string(),
                        );
                    }
                    inv.services.entry(name).or_default().push(status);
                }
            }
        }

        let mut next = None;
        loop {
            let page = ecs
                .list_task_definitions()
                .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
                .set_next_token(next)
                .send()
                .await
                .expect("list_task_definitions");
            for arn in page.task_definition_arns() {
                let family = arn
                    .rsplit_once(":task-definition/")
                    .and_then(|(_, rest)| rest.rsplit_once(':'))
                    .map(|(family, _)| family.to_string())
                    .unwrap_or_else(|| arn.clone());
                *inv.families.entry(family).or_default() += 1;
            }
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }

        let mut next = None;
        loop {
            let page = cfn
                .list_stacks()
                .set_next_token(next)
                .send()
                .await
                .expect("list_stacks");
            for s in page.stack_summaries() {
                let status = s.stack_status().map(|s| s.as_str()).unwrap_or_default();
                if status != "DELETE_COMPLETE" {
                    inv.stacks
                        .entry(s.stack_name().unwrap_or_default().to_string())
                        .or_default()
                        .push(status.to_string());
                }
            }
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }

        let mut next = None;
        loop {
            let page = ssm
                .get_parameters_by_path()
                .path("/defang/")
                .recursive(true)
                .set_next_token(next)
                .send()
                .await
                .expect("get_parameters_by_path");
            inv.parameters.extend(
                page.parameters()
                    .iter()
                    .filter_map(|p| p.name().map(str::to_string)),
            );
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        inv.parameters.sort();
        inv
    }

    /// The ACTIVE ECS services of the cluster.
    pub fn active_services(&self) -> usize {
        self.services
            .values()
            .map(|s| s.iter().filter(|s| *s == "ACTIVE").count())
            .sum()
    }

    /// Checks that moto holds exactly the fleet of `names`, once each: one ACTIVE ECS service,
    /// one service stack, one task definition family (which the service runs) and one secret
    /// parameter per service, the project's stack, and nothing else. Returns the problems.
    ///
    /// Stacks and families are matched by their ending `-<service>`, so that both the naming
    /// `defang-<project>-<service>` / `<project>-<service>` and `defang-<project>--<service>`
    /// count (the service names of the fleet are fixed-width, so no name ends another).
    pub fn problems_for_fleet(&self, names: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.cluster_active {
            problems.push(format!("cluster {CLUSTER} is not ACTIVE"));
        }
        let project_stack = format!("defang-{PROJECT}");
        let complete = |s: &Vec<String>| {
            s.len() == 1 && s[0].ends_with("_COMPLETE") && !s[0].contains("ROLLBACK")
        };
        for name in names {
            match self.services.get(name) {
                Some(statuses) if statuses.iter().filter(|s| *s == "ACTIVE").count() == 1 => {}
                other => problems.push(format!("ECS service {name}: {other:?} (want one ACTIVE)")),
            }
            let families: Vec<&String> =
                self.families.keys().filter(|f| owned_by(f, name)).collect();
            if families.len() != 1 {
                problems.push(format!(
                    "{name}: task definition families {families:?} (want exactly one)"
                ));
            }
            if let Some(td) = self.service_task_definitions.get(name)
                && !families
                    .iter()
                    .any(|f| td.contains(&format!(":task-definition/{f}:")))
            {
                problems.push(format!("{name} runs {td}, not a revision of {families:?}"));
            }
            let stacks: Vec<(&String, &Vec<String>)> = self
                .stacks
                .iter()
                .filter(|(s, _)| **s != project_stack && owned_by(s, name))
                .collect();
            if stacks.len() != 1 || !complete(stacks[0].1) {
                problems.push(format!(
                    "{name}: service stacks {stacks:?} (want exactly one, *_COMPLETE)"
                ));
            }
            let params: Vec<&String> = self
                .parameters
                .iter()
                .filter(|p| is_secret_parameter(p, name))
                .collect();
            if params.len() != 1 {
                problems.push(format!(
                    "{name}: SSM parameters {params:?} for TOKEN (want exactly one)"
                ));
            }
        }
        for (name, statuses) in &self.services {
            if !names.contains(name) && statuses.iter().any(|s| s == "ACTIVE") {
                problems.push(format!("unexpected ECS service {name}: {statuses:?}"));
            }
        }
        for family in self.families.keys() {
            if !names.iter().any(|n| owned_by(family, n)) {
                problems.push(format!("unexpected task definition family {family}"));
            }
        }
        match self.stacks.get(&project_stack) {
            Some(s) if complete(s) => {}
            other => problems.push(format!("stack {project_stack}: {other:?}")),
        }
        for (stack, statuses) in &self.stacks {
            if *stack != project_stack && !names.iter().any(|n| owned_by(stack, n)) {
                problems.push(format!("unexpected stack {stack}: {statuses:?}"));
            }
        }
        for p in &self.parameters {
            if !names.iter().any(|n| is_secret_parameter(p, n)) {
                problems.push(format!("unexpected SSM parameter {p}"));
            }
        }
        problems
    }

    /// What is left after destroy (nothing is the only right answer).
    pub fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        if self.cluster_active {
            left.push(format!("cluster {CLUSTER} ACTIVE"));
        }
        for (name, statuses) in &self.services {
            if statuses.iter().any(|s| s == "ACTIVE") {
                left.push(format!("ECS service {name} {statuses:?}"));
            }
        }
        for (family, n) in &self.families {
            left.push(format!(
                "task definition family {family} ({n} ACTIVE revisions)"
            ));
        }
        for (stack, statuses) in &self.stacks {
            left.push(format!("stack {stack} {statuses:?}"));
        }
        for p in &self.parameters {
            left.push(format!("SSM parameter {p}"));
        }
        left
    }
}
