//! A runner for the real `pulumi` CLI, for the end-to-end tests: a throw-away workspace (the
//! program, `PULUMI_HOME`, a `file://` backend), the environment of an offline run against one
//! moto server, and the commands the tests need, each returning what the CLI printed as JSON.
//!
//! - The CLI is the pinned one that `scripts/test.sh` builds and exports as
//!   `DEFANG_TEST_PULUMI_DIR`; without it the tests fail (they never pass vacuously).
//! - The provider is the debug build ([`crate::provider::provider_binary`]). Programs name it
//!   the way the examples do, `plugins.providers[].path: ../../target/debug`; the workspace
//!   writes its copy of the program with that path replaced by the absolute path of its own
//!   `bin/`, which holds a `pulumi-resource-defang` symlink to the build.
//! - Every command runs with `--non-interactive`, in its own process group, with a timeout (the
//!   whole group is interrupted, then killed); its stdout and stderr are kept in the workspace.
//! - Each command's wall time is printed (`cargo test -- --nocapture` shows it) and recorded.
//!
//! The workspace directory is removed on drop, unless the test is failing (then its path is
//! printed) or `DEFANG_E2E_KEEP=1`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the example programs name the provider's directory (relative to the program).
pub const EXAMPLE_PROVIDER_PATH: &str = "../../target/debug";

/// The passphrase of the test stacks' secrets (test value).
pub const PASSPHRASE: &str = "e2e-test-passphrase";

/// The directory with the pinned `pulumi` and `pulumi-language-yaml` (`DEFANG_TEST_PULUMI_DIR`).
pub fn pulumi_dir() -> PathBuf {
    let dir = match std::env::var_os("DEFANG_TEST_PULUMI_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "DEFANG_TEST_PULUMI_DIR is not set: the end-to-end tests drive the real pulumi CLI. \
             Run them through scripts/test.sh (`make test`), which builds the pinned CLI and sets \
             it, or set it yourself: \
             export DEFANG_TEST_PULUMI_DIR=\"$(scripts/install-pulumi.sh | tail -n 1)\""
        ),
    };
    for exe in ["pulumi", "pulumi-language-yaml"] {
        assert!(
            dir.join(exe).exists(),
            "DEFANG_TEST_PULUMI_DIR={} has no `{exe}`: run scripts/install-pulumi.sh",
            dir.display()
        );
    }
    dir
}

/// Replaces `from` with `to` in `text`, which must hold it exactly once (a test edit that no
/// longer matches the program must fail, not silently do nothing).
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    let count = text.matches(from).count();
    assert_eq!(
        count, 1,
        "expected exactly one {from:?} in the program, found {count}:\n{text}"
    );
    text.replacen(from, to, 1)
}

/// What one CLI command did.
#[derive(Debug)]
pub struct Output {
    /// The program's file name (`pulumi`, `node`, …) and its arguments.
    pub program: String,
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The command, its exit status and the tail of what it printed: for failure messages.
    pub fn context(&self) -> String {
        fn tail(s: &str, n: usize) -> &str {
            let start = s.len().saturating_sub(n);
            let start = (start..=s.len())
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(s.len());
            &s[start..]
        }
        format!(
            "`{} {}` exited with {} after {:.1}s\n--- stderr (tail) ---\n{}\n--- stdout (tail) ---\n{}",
            self.program,
            self.args.join(" "),
            self.status,
            self.elapsed.as_secs_f64(),
            tail(&self.stderr, 6000),
            tail(&self.stdout, 6000),
        )
    }

    /// Panics with the context unless the command succeeded.
    pub fn ok(self) -> Self {
        assert!(self.success(), "{}", self.context());
        self
    }

    /// Stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.context()))
    }

    /// Stdout as JSON lines (the engine events of `--json` on up/refresh/destroy/import).
    pub fn events(&self) -> Events {
        Events::parse(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON lines ({e}):\n{}", self.context()))
    }
}

/// Engine events (`apitype.EngineEvent`), from `--json` stdout or an `--event-log` file.
#[derive(Clone, Debug, Default)]
pub struct Events(pub Vec<Value>);

impl Events {
    pub fn parse(text: &str) -> Result<Events, serde_json::Error> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<Vec<Value>, _>>()
            .map(Events)
    }

    /// The events that have `kind` (e.g. `diagnosticEvent`, `resourcePreEvent`), the payload.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0.iter().filter_map(move |e| e.get(kind))
    }

    /// `summaryEvent.resourceChanges`: op → count (`same`, `create`, `update`, …).
    pub fn changes(&self) -> BTreeMap<String, u64> {
        let summary = self
            .of_kind("summaryEvent")
            .last()
            .unwrap_or_else(|| panic!("no summaryEvent in {} events", self.0.len()));
        summary["resourceChanges"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The step metadata of `resourcePreEvent`s for resources whose URN ends with `::<name>`.
    pub fn steps_for(&self, name: &str) -> Vec<&Value> {
        self.of_kind("resourcePreEvent")
            .map(|e| &e["metadata"])
            .filter(|m| urn_is(&m["urn"], name))
            .collect()
    }

    /// The step metadata of `resOutputsEvent`s for `name` (the outcome of each step).
    pub fn outcomes_for(&self, name: &str) -> Vec<&Value> {
        self.of_kind("resOutputsEvent")
            .map(|e| &e["metadata"])
            .filter(|m| urn_is(&m["urn"], name))
            .collect()
    }

    /// Diagnostic events (message, severity, urn, ephemeral).
    pub fn diagnostics(&self) -> Vec<&Value> {
        self.of_kind("diagnosticEvent").collect()
    }

    /// The text of every event, for searching for leaked values.
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether a URN names the resource `name` (its last `::` segment).
pub fn urn_is(urn: &Value, name: &str) -> bool {
    urn.as_str()
        .and_then(|u| u.rsplit("::").next())
        .is_some_and(|last| last == name)
}

/// What `pulumi preview --json` streams with `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true`: the
/// engine events of the preview. Unlike the default digest (one document), they carry the
/// planned outputs (`resOutputsEvent`), so they show what is already known at preview.
#[derive(Clone, Debug)]
pub struct Preview(pub Events);

impl Preview {
    /// The planned steps (`resourcePreEvent` metadata) for the resource `name`, in order (a
    /// replacement has several).
    pub fn steps_for(&self, name: &str) -> Vec<&Value> {
        self.0.steps_for(name)
    }

    /// The ops planned for `name`, e.g. `["create"]` or `["create-replacement", "replace", …]`.
    pub fn ops_for(&self, name: &str) -> Vec<String> {
        self.steps_for(name)
            .iter()
            .filter_map(|s| s["op"].as_str().map(str::to_string))
            .collect()
    }

    /// The only step for `name` (panics if there is not exactly one).
    pub fn step(&self, name: &str) -> &Value {
        let steps = self.steps_for(name);
        assert_eq!(steps.len(), 1, "steps for {name}: {steps:#?}");
        steps[0]
    }

    /// The step with `op` for `name`.
    pub fn step_with_op(&self, name: &str, op: &str) -> &Value {
        self.steps_for(name)
            .into_iter()
            .find(|s| s["op"] == op)
            .unwrap_or_else(|| panic!("no {op} step for {name}: {:?}", self.ops_for(name)))
    }

    /// The outputs planned for `name` (the last `resOutputsEvent`): known values, and the
    /// unknown sentinel `04da6b54-80e4-46f7-96ec-b56ff0331ba9` for the others.
    pub fn planned_outputs(&self, name: &str) -> Value {
        self.0
            .outcomes_for(name)
            .last()
            .map(|m| m["new"]["outputs"].clone())
            .unwrap_or_else(|| panic!("no planned outputs for {name}"))
    }

    /// `summaryEvent.resourceChanges`.
    pub fn changes(&self) -> BTreeMap<String, u64> {
        self.0.changes()
    }

    /// The messages of the error diagnostics, with their URNs.
    pub fn errors(&self) -> Vec<(String, String)> {
        self.0
            .diagnostics()
            .into_iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| {
                (
                    d["urn"].as_str().unwrap_or_default().to_string(),
                    d["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

/// The unknown-value sentinel in JSON states and events.
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/// A temporary Pulumi project, stack and backend that talk to one AWS endpoint (moto).
pub struct Workspace {
    /// The temporary root: `project/`, `bin/` (the provider), `home/` (PULUMI_HOME),
    /// `backend/`, `logs/`.
    pub dir: PathBuf,
    pub project_dir: PathBuf,
    pub stack: String,
    pulumi: PathBuf,
    env: Vec<(String, String)>,
    /// The limit for one command.
    pub timeout: Duration,
    timings: Mutex<Vec<(String, Duration)>>,
    seq: Mutex<u32>,
}

impl Workspace {
    /// A workspace running a copy of `examples/<example>` against `aws_endpoint`.
    pub fn for_example(example: &str, aws_endpoint: &str) -> Workspace {
        let src = crate::repo_root().join("examples").join(example);
        let program = std::fs::read_to_string(src.join("Pulumi.yaml"))
            .unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let ws = Workspace::empty(example, aws_endpoint);
        // Everything but the program and local stack files (the README, …) is copied as is.
        for entry in std::fs::read_dir(&src).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type().unwrap().is_file()
                && name != "Pulumi.yaml"
                && !name.starts_with("Pulumi.")
            {
                std::fs::copy(entry.path(), ws.project_dir.join(&*name)).unwrap();
            }
        }
        ws.write_program(&program);
        ws
    }

    /// A workspace running `program` (a Pulumi.yaml naming the provider like the examples do).
    pub fn for_program(label: &str, program: &str, aws_endpoint: &str) -> Workspace {
        let ws = Workspace::empty(label, aws_endpoint);
        ws.write_program(program);
        ws
    }

    fn empty(label: &str, aws_endpoint: &str) -> Workspace {
        let pulumi_dir = pulumi_dir();
        let dir = std::env::temp_dir().join(crate::unique(&format!("e2e-{label}-")));
        let project_dir = dir.join("project");
        let home = dir.join("home");
        let backend = dir.join("backend");
        for d in [&project_dir, &home, &backend, &dir.join("logs")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let path = format!(
            "{}:{}",
            pulumi_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let env: Vec<(String, String)> = [
            ("PATH", path.as_str()),
            ("HOME", home.to_str().unwrap()),
            ("PULUMI_HOME", home.to_str().unwrap()),
            (
                "PULUMI_BACKEND_URL",
                &format!("file://{}", backend.display()),
            ),
            ("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE),
            ("PULUMI_SKIP_UPDATE_CHECK", "true"),
            ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true"),
            ("PULUMI_DISABLE_REGISTRY_RESOLVE", "true"),
            ("PULUMI_SKIP_CONFIRMATIONS", "true"),
            ("NO_COLOR", "1"),
            ("AWS_ENDPOINT_URL", aws_endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Workspace {
            dir,
            project_dir,
            stack: "dev".to_string(),
            pulumi: pulumi_dir.join("pulumi"),
            env,
            timeout: Duration::from_secs(300),
            timings: Mutex::new(Vec::new()),
            seq: Mutex::new(0),
        }
    }

    /// The workspace's provider directory (`bin/`): a symlink `pulumi-resource-defang` to the
    /// build under test ([`crate::provider::provider_binary`], whatever its file name).
    pub fn provider_dir(&self) -> PathBuf {
        let dir = self.dir.join("bin");
        let link = dir.join("pulumi-resource-defang");
        if !link.exists() {
            let bin = crate::provider::provider_binary();
            let bin = bin.canonicalize().unwrap_or(bin);
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::symlink(&bin, &link).unwrap();
        }
        dir
    }

    /// Writes `Pulumi.yaml`, with the examples' provider path replaced by the absolute
    /// [`Workspace::provider_dir`].
    pub fn write_program(&self, program: &str) {
        let program = replace_once(
            program,
            &format!("path: {EXAMPLE_PROVIDER_PATH}"),
            &format!("path: {}", self.provider_dir().display()),
        );
        std::fs::write(self.project_dir.join("Pulumi.yaml"), program).unwrap();
    }

    /// The program as last written.
    pub fn program(&self) -> String {
        std::fs::read_to_string(self.project_dir.join("Pulumi.yaml")).unwrap()
    }

    /// Rewrites the program with `edit` applied to its text.
    pub fn edit_program(&self, edit: impl FnOnce(&str) -> String) {
        let edited = edit(&self.program());
        std::fs::write(self.project_dir.join("Pulumi.yaml"), edited).unwrap();
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// A fresh path in the workspace's `logs/` directory.
    pub fn log_path(&self, name: &str) -> PathBuf {
        let mut seq = self.seq.lock().unwrap();
        *seq += 1;
        self.dir.join("logs").join(format!("{:02}-{name}", *seq))
    }

    /// Runs `pulumi <args> --non-interactive` in the project; `step` names it in the timings.
    pub fn run(&self, step: &str, args: &[&str]) -> Output {
        self.run_with_env(step, args, &[])
    }

    /// [`Workspace::run`] with extra environment variables.
    pub fn run_with_env(&self, step: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push("--non-interactive".into());
        self.run_exe(step, &self.pulumi, args, extra_env)
    }

    /// Runs any program (a compiler, a language's Automation API driver) in the project with
    /// the workspace's environment plus `extra_env`, logged, timed and bounded like `pulumi`.
    pub fn run_exe(
        &self,
        step: &str,
        exe: &std::path::Path,
        args: Vec<String>,
        extra_env: &[(&str, &str)],
    ) -> Output {
        let stdout_path = self.log_path(&format!("{}.stdout", slug(step)));
        let stderr_path = stdout_path.with_extension("stderr");
        let start = Instant::now();
        let mut cmd = Command::new(exe);
        cmd.args(&args)
            .current_dir(&self.project_dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        for inherited in ["TMPDIR", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR"] {
            if let Some(v) = std::env::var_os(inherited) {
                cmd.env(inherited, v);
            }
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{step}: cannot start {}: {e}", exe.display()));
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > self.timeout {
                // Interrupt the whole group (pulumi and its plugins), as Ctrl-C would.
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-INT", "--", &group]).status();
                let grace = Instant::now();
                while grace.elapsed() < Duration::from_secs(15) {
                    if child.try_wait().unwrap().is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                let status = child.wait().unwrap();
                let out = Output {
                    program: program_name(exe),
                    args,
                    status,
                    stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
                    stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
                    elapsed: start.elapsed(),
                };
                panic!(
                    "{step}: timed out after {:?}\n{}",
                    self.timeout,
                    out.context()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let elapsed = start.elapsed();
        eprintln!(
            "[e2e {}] {step}: {:.1}s{}",
            self.project_name_hint(),
            elapsed.as_secs_f64(),
            if status.success() { "" } else { " (failed)" }
        );
        self.timings
            .lock()
            .unwrap()
            .push((step.to_string(), elapsed));
        Output {
            program: program_name(exe),
            args,
            status,
            stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
            elapsed,
        }
    }

    fn project_name_hint(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The recorded (step, wall time) pairs.
    pub fn timings(&self) -> Vec<(String, Duration)> {
        self.timings.lock().unwrap().clone()
    }

    /// Prints the timings as a table.
    pub fn print_timings(&self) {
        let timings = self.timings();
        let total: Duration = timings.iter().map(|(_, d)| *d).sum();
        eprintln!("[e2e] pulumi command wall times:");
        for (step, d) in &timings {
            eprintln!("[e2e]   {:>6.1}s  {step}", d.as_secs_f64());
        }
        eprintln!(
            "[e2e]   {:>6.1}s  total in pulumi commands",
            total.as_secs_f64()
        );
    }

    fn stack_args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--stack", self.stack.as_str()]);
        all
    }

    /// `pulumi stack init` (passphrase secrets, the file backend).
    pub fn init_stack(&self) {
        self.run(
            "stack init",
            &[
                "stack",
                "init",
                &self.stack,
                "--secrets-provider",
                "passphrase",
            ],
        )
        .ok();
    }

    /// `pulumi config set [--secret] <key> <value>`.
    pub fn config_set(&self, key: &str, value: &str, secret: bool) {
        let mut args = vec!["config", "set", key];
        if secret {
            args.push("--secret");
        }
        args.extend(["--", value]);
        let args = self.stack_args(&args);
        self.run(&format!("config set {key}"), &args).ok();
    }

    /// `pulumi config set-all`: `(key, value, secret)` triples in one command.
    pub fn config_set_all(&self, values: &[(&str, &str, bool)]) {
        let pairs: Vec<String> = values.iter().map(|(k, v, _)| format!("{k}={v}")).collect();
        let mut args = vec!["config", "set-all"];
        for ((_, _, secret), pair) in values.iter().zip(&pairs) {
            args.extend([
                if *secret { "--secret" } else { "--plaintext" },
                pair.as_str(),
            ]);
        }
        let args = self.stack_args(&args);
        self.run("config set-all", &args).ok();
    }

    /// `pulumi preview --json`, streamed (see [`Preview`]), whether or not it succeeded.
    pub fn preview(&self, step: &str) -> (Output, Preview) {
        let out = self.run_with_env(
            step,
            &self.stack_args(&["preview", "--json"]),
            &[("PULUMI_ENABLE_STREAMING_JSON_PREVIEW", "true")],
        );
        let events = out.events();
        (out, Preview(events))
    }

    /// A streamed `pulumi preview --json` that must succeed.
    pub fn preview_ok(&self, step: &str) -> Preview {
        let (out, preview) = self.preview(step);
        out.ok();
        preview
    }

    /// `pulumi preview --json` as is: the digest document (`display.PreviewDigest`: `steps`
    /// with `op`, `urn`, `oldState`/`newState` (inputs only), `diffReasons`, `replaceReasons`,
    /// `detailedDiff`; `diagnostics`; `changeSummary`).
    pub fn preview_digest(&self, step: &str) -> (Output, Value) {
        let out = self.run(step, &self.stack_args(&["preview", "--json"]));
        let digest = out.json();
        (out, digest)
    }

    /// `pulumi up --yes --skip-preview --json --event-log <file>`: the `--json` events and
    /// the event log's events.
    pub fn up(&self, step: &str) -> (Output, Events, Events) {
        self.events_command(step, &["up", "--yes", "--skip-preview"])
    }

    /// `pulumi up --refresh --yes --skip-preview --json --event-log <file>`: refresh, then up.
    pub fn up_refresh(&self, step: &str) -> (Output, Events, Events) {
        self.events_command(step, &["up", "--refresh", "--yes", "--skip-preview"])
    }

    /// `pulumi refresh --yes --skip-preview --json --event-log <file>`.
    pub fn refresh(&self, step: &str) -> (Output, Events, Events) {
        self.events_command(step, &["refresh", "--yes", "--skip-preview"])
    }

    /// `pulumi destroy --yes --skip-preview --json --event-log <file>`.
    pub fn destroy(&self, step: &str) -> (Output, Events, Events) {
        self.events_command(step, &["destroy", "--yes", "--skip-preview"])
    }

    /// `pulumi import <type> <name> <id> --yes --protect=false --json --out <file>`: the
    /// events and the generated program text. (Without `--protect=false` the imported resource
    /// would be protected, and `destroy` would refuse it.)
    pub fn import(
        &self,
        step: &str,
        type_token: &str,
        name: &str,
        id: &str,
    ) -> (Output, Events, String) {
        let code = self.log_path(&format!("{}.yaml", slug(step)));
        let code_arg = code.to_str().unwrap().to_string();
        let out = self.run(
            step,
            &self.stack_args(&[
                "import",
                type_token,
                name,
                id,
                "--yes",
                "--skip-preview",
                "--protect=false",
                "--json",
                "--out",
                &code_arg,
            ]),
        );
        let events = if out.stdout.trim().is_empty() {
            Events::default()
        } else {
            out.events()
        };
        let code = std::fs::read_to_string(&code).unwrap_or_default();
        (out, events, code)
    }

    fn events_command(&self, step: &str, args: &[&str]) -> (Output, Events, Events) {
        let log = self.log_path(&format!("{}.events.jsonl", slug(step)));
        let log_arg = log.to_str().unwrap().to_string();
        let mut all = args.to_vec();
        all.extend(["--json", "--event-log", &log_arg]);
        // `--event-log` exists only with PULUMI_DEBUG_COMMANDS set (pulumi v3.274.1).
        let out = self.run_with_env(
            step,
            &self.stack_args(&all),
            &[("PULUMI_DEBUG_COMMANDS", "true")],
        );
        let events = Events::parse(&out.stdout).unwrap_or_else(|e| {
            panic!("{step}: stdout is not JSON lines ({e})\n{}", out.context())
        });
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let logged = Events::parse(&text)
            .unwrap_or_else(|e| panic!("{step}: {} is not JSON lines ({e})", log.display()));
        (out, events, logged)
    }

    /// `pulumi stack output --json [--show-secrets]`.
    pub fn stack_output(&self, show_secrets: bool) -> Value {
        let mut args = vec!["stack", "output", "--json"];
        if show_secrets {
            args.push("--show-secrets");
        }
        let step = if show_secrets {
            "stack output --show-secrets"
        } else {
            "stack output"
        };
        self.run(step, &self.stack_args(&args)).ok().json()
    }

    /// `pulumi stack export` (the deployment; secrets stay encrypted).
    pub fn stack_export(&self) -> Value {
        self.run("stack export", &self.stack_args(&["stack", "export"]))
            .ok()
            .json()
    }

    /// The resources of the exported state whose URN names `name`.
    pub fn exported_resources(export: &Value, name: &str) -> Vec<Value> {
        export["deployment"]["resources"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| urn_is(&r["urn"], name))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let keep = std::env::var("DEFANG_E2E_KEEP").is_ok_and(|v| v == "1");
        if std::thread::panicking() || keep {
            eprintln!(
                "[e2e] workspace kept at {} (program, PULUMI_HOME, backend, logs/ with each \
                 command's stdout, stderr and event log)",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn program_name(exe: &std::path::Path) -> String {
    exe.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn slug(step: &str) -> String {
    step.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
