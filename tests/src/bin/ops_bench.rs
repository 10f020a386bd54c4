//! The operations benchmark (issue 10, item 1): for fleets of N services (default 10, 100 and
//! 1000), what `pulumi preview`, `up`, a no-op `up`, `refresh` and `destroy` cost: the command's
//! wall time, the provider's CPU time and peak RSS, and the AWS calls by API, in total and per
//! service.
//!
//! ```sh
//! cargo run --release -p defang-tests --bin ops_bench -- [--services 10,100,1000] [--json FILE]
//!     [--timeout SECONDS]
//! ```
//!
//! Needs `DEFANG_TEST_PULUMI_DIR` (the pinned CLI, `scripts/install-pulumi.sh`), moto
//! (`scripts/moto/install.sh`) and the release provider (`cargo build --release -p
//! pulumi-resource-defang`), or `DEFANG_PROVIDER_BIN` naming the provider to measure.
//!
//! Each N gets a fresh moto (`MOTO_ECS_SERVICE_RUNNING=1`, so that rollouts complete), the fault
//! proxy in front of it with every fault rate 0 (it only counts the calls, per API), and a
//! workspace running [`fleet_program`] with N services. The workspace's
//! `bin/pulumi-resource-defang` is `scripts/bench/provider_rusage.py`, which runs the real
//! provider and writes its `wait4` figures (user and system CPU, peak RSS) as one JSON line per
//! provider process; each command gets its own file, and the benchmark checks that every
//! provider process the command started produced its line. pulumi stops a provider plugin with
//! a `Cancel` RPC, then SIGINT to the plugin's process group, and SIGKILLs the group 5 s later
//! if the plugin has not exited (sdk/v3 `go/common/resource/plugin/plugin.go`, the `kill` of
//! `newPlugin`): the wrapper forwards the SIGINT and waits, so its line comes before that.
//!
//! Every command must succeed (a benchmark of a failed run is worthless): the benchmark panics
//! with the command's output otherwise. pulumi's parallelism is its default (4 × GOMAXPROCS, or
//! `PULUMI_PARALLEL` if set in the benchmark's environment); no `--parallel` is passed.

use defang_tests::Moto;
use defang_tests::faults::{FaultProxy, Rates, Stats, fleet_program};
use defang_tests::pulumi::{Output, Workspace};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The passphrase-encrypted secret every service gets (test value).
const TOKEN: &str = "ops-bench-token-51c7";

const OPS: [&str; 5] = ["preview", "up", "up (no-op)", "refresh", "destroy"];

/// How many APIs the per-operation tables list.
const TOP_APIS: usize = 10;

struct Args {
    services: Vec<usize>,
    json: Option<PathBuf>,
    timeout: Option<Duration>,
    /// The operations to run, in [`OPS`] order.
    ops: Vec<&'static str>,
    /// Drains of this many seconds (`MIN-MAX`, moto patch 18) instead of none.
    drain: Option<String>,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "ops_bench: {problem}\nusage: ops_bench [--services 10,100,1000] [--json FILE] \
         [--timeout SECONDS] [--ops preview,up,noop,refresh,destroy] [--drain MIN-MAX]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        services: vec![10, 100, 1000],
        json: None,
        timeout: None,
        ops: OPS.to_vec(),
        drain: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .unwrap_or_else(|| usage(&format!("{key} needs a value")))
        };
        match key.as_str() {
            "--services" => {
                args.services = value()
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        s.trim()
                            .parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .unwrap_or_else(|| usage(&format!("not a service count: {s:?}")))
                    })
                    .collect();
                if args.services.is_empty() {
                    usage("--services is empty");
                }
            }
            "--json" => args.json = Some(PathBuf::from(value())),
            "--timeout" => {
                let v = value();
                let secs: u64 = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("not a number of seconds: {v:?}")));
                args.timeout = Some(Duration::from_secs(secs));
            }
            "--ops" => {
                let wanted: Vec<String> =
                    value().split(',').map(|s| s.trim().to_string()).collect();
                for w in &wanted {
                    if !OPS.iter().any(|op| op_key(op) == w) {
                        usage(&format!("unknown operation {w:?}"));
                    }
                }
                args.ops = OPS
                    .into_iter()
                    .filter(|op| wanted.iter().any(|w| w == op_key(op)))
                    .collect();
            }
            "--drain" => args.drain = Some(value()),
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    args
}

/// An operation's name in `--ops`.
fn op_key(op: &str) -> &str {
    match op {
        "up (no-op)" => "noop",
        other => other,
    }
}

/// One provider process, from the wrapper's line.
#[derive(Debug)]
struct Proc {
    pid: u64,
    user_s: f64,
    sys_s: f64,
    maxrss_kb: u64,
    partial: bool,
}

/// The figures of one command.
struct OpResult {
    services: usize,
    op: &'static str,
    wall_s: f64,
    procs: Vec<Proc>,
    calls: u64,
    retries: u64,
    upstream_errors: u64,
    by_api: BTreeMap<String, u64>,
    changes: BTreeMap<String, u64>,
}

impl OpResult {
    fn user_s(&self) -> f64 {
        self.procs.iter().map(|p| p.user_s).sum()
    }
    fn sys_s(&self) -> f64 {
        self.procs.iter().map(|p| p.sys_s).sum()
    }
    fn cpu_s(&self) -> f64 {
        self.user_s() + self.sys_s()
    }
    fn peak_rss_kb(&self) -> u64 {
        self.procs.iter().map(|p| p.maxrss_kb).max().unwrap_or(0)
    }
    fn per_service(&self, x: f64) -> f64 {
        x / self.services as f64
    }

    fn to_json(&self, parallel: &str) -> Value {
        let by_api: serde_json::Map<String, Value> = self
            .by_api
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!({"calls": v, "per_service": round(self.per_service(*v as f64), 4)}),
                )
            })
            .collect();
        json!({
            "services": self.services,
            "op": self.op,
            "wall_s": round(self.wall_s, 3),
            "provider_processes": self.procs.len(),
            "provider_partial_lines": self.procs.iter().filter(|p| p.partial).count(),
            "provider_user_s": round(self.user_s(), 3),
            "provider_sys_s": round(self.sys_s(), 3),
            "provider_cpu_s": round(self.cpu_s(), 3),
            "provider_cpu_ms_per_service": round(self.per_service(self.cpu_s() * 1000.0), 3),
            "provider_peak_rss_kb": self.peak_rss_kb(),
            "provider_maxrss_kb_each": self.procs.iter().map(|p| p.maxrss_kb).collect::<Vec<_>>(),
            "provider_cpu_s_each": self.procs.iter().map(|p| round(p.user_s + p.sys_s, 3)).collect::<Vec<_>>(),
            "aws_calls": self.calls,
            "aws_calls_per_service": round(self.per_service(self.calls as f64), 4),
            "aws_retries": self.retries,
            "aws_upstream_errors": self.upstream_errors,
            "by_api": by_api,
            "resource_changes": self.changes,
            "parallel": parallel,
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The provider under test: `DEFANG_PROVIDER_BIN`, else the release build (set as
/// `DEFANG_PROVIDER_BIN` for the harness).
fn provider_under_test() -> PathBuf {
    let bin = match std::env::var_os("DEFANG_PROVIDER_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| defang_tests::repo_root().join("target"));
            let bin = target.join("release/pulumi-resource-defang");
            // SAFETY: set before any other thread of this process exists.
            unsafe { std::env::set_var("DEFANG_PROVIDER_BIN", &bin) };
            bin
        }
    };
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release -p pulumi-resource-defang` (or set \
         DEFANG_PROVIDER_BIN)",
        bin.display()
    );
    bin.canonicalize().unwrap_or(bin)
}

/// Replaces the workspace's provider symlink with the rusage wrapper, run by the moto venv's
/// python (`-I`: no user site, no PYTHON* settings).
fn install_wrapper(ws: &mut Workspace, provider: &Path) {
    let script = defang_tests::repo_root().join("scripts/bench/provider_rusage.py");
    let text =
        std::fs::read_to_string(&script).unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    let body = text
        .split_once('\n')
        .filter(|(first, _)| first.starts_with("#!"))
        .map(|(_, rest)| rest)
        .unwrap_or(&text);
    let python = defang_tests::moto::moto_python();
    let link = ws.provider_dir().join("pulumi-resource-defang");
    std::fs::remove_file(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display()));
    std::fs::write(&link, format!("#!{} -I\n{body}", python.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o755)).unwrap();
    ws.set_env("DEFANG_RUSAGE_EXEC", provider.to_str().unwrap());
}

fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {l:?}: {e}", path.display()))
        })
        .collect()
}

/// The provider processes of one command (the wrapper's lines in `log`), checked against the
/// processes it started (`<log>.started`): every one must have its line.
fn provider_processes(step: &str, log: &Path, out: &Output) -> Vec<Proc> {
    let started: BTreeSet<u64> = read_lines(&PathBuf::from(format!("{}.started", log.display())))
        .iter()
        .filter_map(|l| l["pid"].as_u64())
        .collect();
    let mut by_pid: BTreeMap<u64, Proc> = BTreeMap::new();
    for l in read_lines(log) {
        let p = Proc {
            pid: l["pid"].as_u64().unwrap_or_default(),
            user_s: l["user_s"].as_f64().unwrap_or_default(),
            sys_s: l["sys_s"].as_f64().unwrap_or_default(),
            maxrss_kb: l["maxrss_kb"].as_u64().unwrap_or_default(),
            partial: l["partial"].as_bool().unwrap_or(false),
        };
        // A final line supersedes a partial one.
        match by_pid.get(&p.pid) {
            Some(old) if !old.partial => {}
            _ => {
                by_pid.insert(p.pid, p);
            }
        }
    }
    let missing: Vec<&u64> = started.iter().filter(|p| !by_pid.contains_key(p)).collect();
    assert!(
        missing.is_empty(),
        "{step}: provider processes {missing:?} wrote no rusage line to {} (killed before the \
         wrapper could?)\n{}",
        log.display(),
        out.context()
    );
    assert!(
        !started.is_empty(),
        "{step}: no provider process was started (is the wrapper in place?)\n{}",
        out.context()
    );
    let partial: Vec<u64> = by_pid
        .values()
        .filter(|p| p.partial)
        .map(|p| p.pid)
        .collect();
    if !partial.is_empty() {
        eprintln!(
            "[bench] {step}: provider processes {partial:?} were still running 4 s after SIGINT: \
             their figures are those of that moment"
        );
    }
    by_pid.into_values().collect()
}

/// The calls per API (`service:Action`) between two proxy snapshots.
fn calls_by_api(before: &Stats, after: &Stats) -> BTreeMap<String, u64> {
    let empty = serde_json::Map::new();
    after.0["by_action"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .filter_map(|(api, entry)| {
            let was = before.0["by_action"][api]["calls"]
                .as_u64()
                .unwrap_or_default();
            let n = entry["calls"]
                .as_u64()
                .unwrap_or_default()
                .saturating_sub(was);
            (n > 0).then(|| (api.clone(), n))
        })
        .collect()
}

fn run_op(ws: &mut Workspace, proxy: &FaultProxy, services: usize, op: &'static str) -> OpResult {
    let log = ws.log_path(&format!(
        "{}.rusage.jsonl",
        op.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    ));
    ws.set_env("DEFANG_RUSAGE_LOG", log.to_str().unwrap());
    let before = proxy.stats();
    let (out, changes) = match op {
        "preview" => {
            let (out, preview) = ws.preview(op);
            let changes = if out.success() {
                preview.changes()
            } else {
                BTreeMap::new()
            };
            (out, changes)
        }
        _ => {
            let (out, events, _) = match op {
                "up" | "up (no-op)" => ws.up(op),
                "refresh" => ws.refresh(op),
                "destroy" => ws.destroy(op),
                _ => unreachable!("{op}"),
            };
            let changes = if out.success() {
                events.changes()
            } else {
                BTreeMap::new()
            };
            (out, changes)
        }
    };
    let after = proxy.stats();
    assert!(
        out.success(),
        "N={services}: `{op}` failed; the benchmark of a failed run is worthless\n{}",
        out.context()
    );
    let procs = provider_processes(&format!("N={services} {op}"), &log, &out);
    let row = after.since(&before);
    let changed: Vec<String> = changes
        .iter()
        .filter(|(k, v)| k.as_str() != "same" && **v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if matches!(op, "up (no-op)" | "refresh") && !changed.is_empty() {
        eprintln!("[bench] WARNING: N={services} {op} was not a no-op: {changed:?}");
    }
    OpResult {
        services,
        op,
        wall_s: out.elapsed.as_secs_f64(),
        procs,
        calls: row["calls"],
        retries: row["retries_seen"],
        upstream_errors: row["upstream_errors"],
        by_api: calls_by_api(&before, &after),
        changes,
    }
}

/// All operations for one fleet size, each printed as it finishes.
fn bench(services: usize, provider: &Path, args: &Args, sink: &mut Sink) -> f64 {
    let started = Instant::now();
    let timeout = args.timeout;
    eprintln!("[bench] N={services}: starting moto, the counting proxy and the workspace");
    let mut moto_env = vec![("MOTO_ECS_SERVICE_RUNNING", "1")];
    if let Some(drain) = &args.drain {
        moto_env.push(("MOTO_ECS_DRAIN_SECONDS", drain.as_str()));
    }
    let moto = Moto::start(&moto_env);
    let proxy = FaultProxy::start(&moto.endpoint(), "1", Rates::NONE);
    let program = fleet_program("fleet", services, "");
    let mut ws = Workspace::for_program(&format!("bench{services}"), &program, &proxy.endpoint());
    // An `up` of 1000 services against moto takes minutes: allow 3 s a service beyond 300 s.
    ws.timeout = timeout.unwrap_or(Duration::from_secs(300 + 3 * services as u64));
    install_wrapper(&mut ws, provider);
    if let Ok(p) = std::env::var("PULUMI_PARALLEL")
        && !p.is_empty()
    {
        ws.set_env("PULUMI_PARALLEL", &p);
    }
    // Setup commands' provider processes (if any) are not measured.
    let setup_log = ws.log_path("setup.rusage.jsonl");
    ws.set_env("DEFANG_RUSAGE_LOG", setup_log.to_str().unwrap());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("token", TOKEN, true),
    ]);
    for &op in &args.ops {
        let r = run_op(&mut ws, &proxy, services, op);
        eprintln!(
            "[bench] N={services} {op}: {:.1}s wall, provider {:.2}s CPU over {} process(es), \
             peak RSS {:.1} MB, {} AWS calls; changes {:?}",
            r.wall_s,
            r.cpu_s(),
            r.procs.len(),
            r.peak_rss_kb() as f64 / 1024.0,
            r.calls,
            r.changes
        );
        sink.push(r);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("[bench] N={services}: done in {secs:.1}s");
    drop(ws);
    drop(proxy);
    drop(moto);
    secs
}

/// The results so far, and the JSON lines file they are appended to as they come.
struct Sink {
    results: Vec<OpResult>,
    json: Option<std::fs::File>,
    parallel: String,
}

impl Sink {
    fn push(&mut self, r: OpResult) {
        if let Some(f) = &mut self.json {
            writeln!(f, "{}", r.to_json(&self.parallel)).unwrap();
            f.flush().unwrap();
        }
        self.results.push(r);
    }
}

fn print_tables(results: &[OpResult], totals: &[(usize, f64)], parallel: &str) {
    println!();
    println!("pulumi parallelism: {parallel}");
    println!(
        "{:>5}  {:<11} {:>8} {:>11} {:>12} {:>12} {:>6} {:>10} {:>10}",
        "N",
        "operation",
        "wall s",
        "prov CPU s",
        "CPU ms/svc",
        "peak RSS MB",
        "procs",
        "AWS calls",
        "calls/svc"
    );
    for r in results {
        println!(
            "{:>5}  {:<11} {:>8.1} {:>11.2} {:>12.2} {:>12.1} {:>6} {:>10} {:>10.2}",
            r.services,
            r.op,
            r.wall_s,
            r.cpu_s(),
            r.per_service(r.cpu_s() * 1000.0),
            r.peak_rss_kb() as f64 / 1024.0,
            r.procs.len(),
            r.calls,
            r.per_service(r.calls as f64),
        );
    }
    for (n, secs) in totals {
        println!("N={n}: {secs:.0}s in all (moto, setup and the five commands)");
    }
    let sizes: Vec<usize> = totals.iter().map(|(n, _)| *n).collect();
    for op in OPS {
        let rows: Vec<&OpResult> = results.iter().filter(|r| r.op == op).collect();
        let Some(largest) = rows.iter().max_by_key(|r| r.services) else {
            continue;
        };
        println!();
        println!("{op}: top APIs by calls/service (total calls)");
        let mut header = format!("  {:<42}", "API");
        for n in &sizes {
            header.push_str(&format!(" {:>16}", format!("N={n}")));
        }
        println!("{header}");
        let mut apis: Vec<(&String, &u64)> = largest.by_api.iter().collect();
        apis.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (api, _) in apis.into_iter().take(TOP_APIS) {
            let mut line = format!("  {api:<42}");
            for n in &sizes {
                let cell = rows
                    .iter()
                    .find(|r| r.services == *n)
                    .map(|r| {
                        let c = r.by_api.get(api).copied().unwrap_or(0);
                        format!("{:.2} ({c})", r.per_service(c as f64))
                    })
                    .unwrap_or_default();
                line.push_str(&format!(" {cell:>16}"));
            }
            println!("{line}");
        }
        if largest.by_api.len() > TOP_APIS {
            println!(
                "  … and {} more APIs at N={}",
                largest.by_api.len() - TOP_APIS,
                largest.services
            );
        }
    }
}

fn main() {
    let args = parse_args();
    let provider = provider_under_test();
    // Fail early on a missing CLI or moto, before anything is started.
    defang_tests::pulumi::pulumi_dir();
    defang_tests::moto::moto_python();
    let parallel = match std::env::var("PULUMI_PARALLEL") {
        Ok(p) if !p.is_empty() => format!("PULUMI_PARALLEL={p}"),
        _ => format!(
            "pulumi default, 4 x GOMAXPROCS ({} CPUs here: {})",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            4 * std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
    };
    eprintln!(
        "[bench] provider {}; fleets of {:?} services; {parallel}{}",
        provider.display(),
        args.services,
        args.drain
            .as_ref()
            .map(|d| format!("; drains of {d} s"))
            .unwrap_or_default()
    );
    let json = args.json.as_ref().map(|p| {
        std::fs::File::create(p).unwrap_or_else(|e| panic!("--json {}: {e}", p.display()))
    });
    let mut sink = Sink {
        results: Vec::new(),
        json,
        parallel: parallel.clone(),
    };
    let mut totals = Vec::new();
    let mut failed = None;
    for &n in &args.services {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            bench(n, &provider, &args, &mut sink)
        }));
        match run {
            Ok(secs) => totals.push((n, secs)),
            Err(_) => {
                failed = Some(n);
                break;
            }
        }
    }
    print_tables(&sink.results, &totals, &parallel);
    if let Some(n) = failed {
        eprintln!("[bench] N={n} failed (see the panic above); the tables hold what came before");
        std::process::exit(1);
    }
}
