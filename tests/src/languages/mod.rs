//! End to end in TypeScript, Python and Go: the web-and-api example of each language (the same
//! program as `examples/yaml-web-and-api`, written against the generated SDK in `sdk/`) runs
//! through the real `pulumi` CLI against a private moto server, as an Automation API *inline
//! program*: a small driver per language (`tests/drivers/`) imports the example's own program
//! code and runs `preview`, `up` or `destroy` with our CLI, which then serves the program through
//! the language's runtime, the same SDK code that `pulumi up` runs on a user's machine.
//!
//! One body ([`web_and_api_end_to_end`]) checks every language the same way; what differs (how
//! the SDK and packages are linked in, what is compiled, the editor's static check, how the
//! driver starts) is a [`Toolchain`]. Packages come from the cache that `scripts/install-langs.sh`
//! fills (`DEFANG_LANGS_DIR`); the tests install nothing and reach no registry.

pub mod docs;
pub mod go;
pub mod nodejs;
pub mod python;

use crate::Moto;
use crate::inventory;
use crate::pulumi::{Events, UNKNOWN, Workspace};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The example's `apiToken`: distinctive, so that any leak of it can be searched for.
pub const TOKEN: &str = "lang-e2e-plaintext-token-5d2a8";
const CLUSTER: &str = "defang-shop";
const WEB_DOMAIN: &str = "web--80.shop.alice.defang.app";
const API_ENDPOINT: &str = "api.shop.internal:3000";
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";

/// How the Automation API driver of a language starts: the harness appends
/// `<op> <project> <stack> <events.jsonl>` to `argv` (op: `preview`, `up` or `destroy`) and runs
/// it in the program's folder with the workspace's environment plus `env`.
///
/// The driver runs the operation on the stack with the example's program as an inline program,
/// against the `pulumi` on `PATH` (version check skipped), writes every engine event it receives
/// as one JSON line (`apitype.EngineEvent`, as `--event-log` writes them) to the events file, and
/// exits non-zero, with the error on stderr, when the operation fails. It prints no secret.
#[derive(Clone, Debug)]
pub struct Driver {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// What a language needs around its example.
pub trait Toolchain {
    /// The example's folder under `examples/`, e.g. `ts-web-and-api`.
    fn example(&self) -> &'static str;

    /// Makes the copy of the example in `ws.project_dir` runnable: links the generated SDK and
    /// the cached packages in, compiles what must be compiled, and says how the driver starts.
    /// Called again after the program is edited.
    fn prepare(&self, ws: &Workspace) -> Driver;

    /// The static check a user's editor would run on the program (`tsc --noEmit`, `go vet`,
    /// mypy); panics with its output when it finds anything.
    fn static_check(&self, ws: &Workspace);

    /// The edit of the update step: `(file, from, to)` in the program's folder, changing the
    /// api's `LOG_LEVEL` from `info` to `debug`.
    fn edit(&self) -> (&'static str, &'static str, &'static str);
}

/// The cache of language packages (`DEFANG_LANGS_DIR`, exported by `scripts/test.sh` from
/// `scripts/install-langs.sh`); without it the tests fail, never pass vacuously.
pub fn langs_dir() -> PathBuf {
    match std::env::var_os("DEFANG_LANGS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "DEFANG_LANGS_DIR is not set: the language end-to-end tests use the packages that \
             scripts/install-langs.sh installs. Run them through scripts/test.sh (`make test`), \
             or: eval \"$(scripts/install-langs.sh)\""
        ),
    }
}

/// The output names of `examples/yaml-web-and-api`: every language's example exports these.
fn yaml_example_outputs() -> BTreeSet<String> {
    let program =
        std::fs::read_to_string(crate::repo_root().join("examples/yaml-web-and-api/Pulumi.yaml"))
            .unwrap();
    let outputs = program
        .split("\noutputs:\n")
        .nth(1)
        .expect("the YAML example has outputs");
    outputs
        .lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

/// A secret as engine events show it: the signature and no value.
fn is_blinded_secret(v: &Value) -> bool {
    v[SIG_KEY] == SECRET_SIG && v["ciphertext"] == "[secret]" || v == "[secret]"
}

/// One program of a language in its workspace.
struct Program<'a> {
    ws: Workspace,
    toolchain: &'a dyn Toolchain,
    driver: Driver,
    project: String,
}

impl Program<'_> {
    /// Runs `op` through the driver; the events it recorded, and whether it succeeded.
    fn run(&self, step: &str, op: &str) -> (crate::pulumi::Output, Events) {
        let events = self.ws.log_path(&format!("{op}.events.jsonl"));
        let mut args: Vec<String> = self.driver.argv[1..].to_vec();
        args.extend([
            op.to_string(),
            self.project.clone(),
            self.ws.stack.clone(),
            events.display().to_string(),
        ]);
        let env: Vec<(&str, &str)> = self
            .driver
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true")])
            .collect();
        let out = self
            .ws
            .run_exe(step, Path::new(&self.driver.argv[0]), args, &env);
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        let events = Events::parse(&text)
            .unwrap_or_else(|e| panic!("{step}: {} is not JSON lines ({e})", events.display()));
        (out, events)
    }

    fn run_ok(&self, step: &str, op: &str) -> Events {
        let (out, events) = self.run(step, op);
        out.ok();
        assert!(
            !events.0.is_empty(),
            "{step}: the driver recorded no engine event"
        );
        events
    }

    /// Everything a run left in text: the workspace (program, state, logs, event files).
    fn assert_no_plaintext_secret(&self, when: &str) {
        let leaks = crate::files_containing(&self.ws.dir, TOKEN.as_bytes());
        // The stack's config holds it encrypted; the plaintext is nowhere.
        assert!(
            leaks.is_empty(),
            "{when}: the plaintext secret is in {leaks:#?}"
        );
    }
}

/// The task definition that the ECS service `api` runs now.
fn api_task_definition(
    rt: &tokio::runtime::Runtime,
    ecs: &aws_sdk_ecs::Client,
) -> aws_sdk_ecs::types::TaskDefinition {
    let service = rt
        .block_on(inventory::active_service(ecs, CLUSTER, "api"))
        .expect("the ECS service api");
    rt.block_on(inventory::task_definition(
        ecs,
        service.task_definition().unwrap(),
    ))
}

/// The planned outputs of `name` in the events of a preview (the last `resOutputsEvent`).
fn planned_outputs(events: &Events, name: &str) -> Value {
    events
        .outcomes_for(name)
        .last()
        .map(|m| m["new"]["outputs"].clone())
        .unwrap_or_else(|| panic!("no planned outputs for {name} in {} events", events.0.len()))
}

/// The ops of `name` in a run's `resourcePreEvent`s.
fn ops_for(events: &Events, name: &str) -> Vec<String> {
    events
        .steps_for(name)
        .iter()
        .filter_map(|s| s["op"].as_str().map(str::to_string))
        .collect()
}

/// The whole lifecycle of `toolchain`'s web-and-api example, checked as the YAML one is.
pub fn web_and_api_end_to_end(toolchain: &dyn Toolchain) {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let rt = crate::runtime();
    let ecs = rt.block_on(moto.ecs());
    let cfn = rt.block_on(moto.cloudformation());
    let ws = Workspace::for_example(toolchain.example(), &moto.endpoint());
    let project = toolchain.example().to_string();
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("apiToken", TOKEN, true),
    ]);

    // --- the editor's view: the program type-checks against the generated SDK ------------
    let driver = toolchain.prepare(&ws);
    toolchain.static_check(&ws);
    let mut program = Program {
        ws,
        toolchain,
        driver,
        project,
    };

    // --- preview: everything planned, the domains already known, the secret blinded -------
    let preview = program.run_ok("preview (create)", "preview");
    for name in ["shop", "web", "api"] {
        assert_eq!(ops_for(&preview, name), ["create"], "{name}");
    }
    let web = planned_outputs(&preview, "web");
    assert_eq!(web["domain"], WEB_DOMAIN, "{web:#}");
    assert_eq!(
        web["endpoints"],
        json!([format!("https://{WEB_DOMAIN}")]),
        "{web:#}"
    );
    assert_eq!(web["status"], UNKNOWN, "{web:#}");
    let api = planned_outputs(&preview, "api");
    assert_eq!(api["endpoints"], json!([API_ENDPOINT]), "{api:#}");
    assert!(api.get("domain").is_none(), "{api:#}");
    assert_eq!(api["environment"]["LOG_LEVEL"], "info", "{api:#}");
    assert!(
        is_blinded_secret(&api["environment"]["API_TOKEN"]),
        "{api:#}"
    );
    assert_eq!(
        preview.changes().get("create"),
        Some(&4),
        "{:?}",
        preview.changes()
    );

    // --- up: the project and both services, deployed -------------------------------------
    let events = program.run_ok("up (create)", "up");
    let changes = events.changes();
    assert_eq!(changes.get("create"), Some(&4), "{changes:?}");
    assert_eq!(changes.len(), 1, "{changes:?}");
    let outputs = program.ws.stack_output(false);
    let names: BTreeSet<String> = outputs.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        names,
        yaml_example_outputs(),
        "the outputs of examples/{} and of the YAML example",
        toolchain.example()
    );
    assert_eq!(
        outputs["webStatus"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(
        outputs["apiStatus"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(outputs["webDomain"], WEB_DOMAIN, "{outputs:#}");
    assert_eq!(
        outputs["webEndpoints"],
        json!([format!("https://{WEB_DOMAIN}")]),
        "{outputs:#}"
    );
    assert_eq!(
        outputs["apiEndpoints"],
        json!([API_ENDPOINT]),
        "{outputs:#}"
    );
    let servers = outputs["nameServers"].as_array().expect("nameServers");
    assert!(
        !servers.is_empty()
            && servers
                .iter()
                .all(|s| s.as_str().is_some_and(|s| !s.is_empty())),
        "{outputs:#}"
    );
    // What runs in the emulator: both services, the secret held by SSM, not the task.
    for name in ["web", "api"] {
        let svc = rt
            .block_on(inventory::active_service(&ecs, CLUSTER, name))
            .unwrap_or_else(|| panic!("no ECS service {name}"));
        assert_eq!(svc.desired_count(), 1, "{name}");
    }
    let td = api_task_definition(&rt, &ecs);
    let container = &td.container_definitions()[0];
    assert_eq!(container.image(), Some("hashicorp/http-echo:1.0"));
    assert_eq!(
        container.command(),
        ["-listen=:3000", "-text=hello from the api"]
    );
    let env: Vec<(&str, &str)> = container
        .environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap_or_default(),
                kv.value().unwrap_or_default(),
            )
        })
        .collect();
    assert!(env.contains(&("LOG_LEVEL", "info")), "{env:?}");
    assert!(
        !format!("{td:?}").contains(TOKEN),
        "the task definition holds the secret"
    );
    let secrets: Vec<&str> = container.secrets().iter().map(|s| s.name()).collect();
    assert_eq!(secrets, ["API_TOKEN"]);
    // The secret stays a secret: blinded in the events, encrypted in the state, plaintext
    // nowhere (outputs, events, state export, logs, the program's folder).
    let export = program.ws.stack_export();
    let api_state = Workspace::exported_resources(&export, "api");
    assert_eq!(api_state.len(), 1);
    assert_eq!(
        api_state[0]["outputs"]["environment"]["API_TOKEN"][SIG_KEY], SECRET_SIG,
        "{:#}",
        api_state[0]["outputs"]["environment"]
    );
    assert!(
        !export.to_string().contains(TOKEN),
        "the state export holds the secret"
    );
    assert!(!events.text().contains(TOKEN), "the events hold the secret");
    let logged_api: Vec<&Value> = events
        .outcomes_for("api")
        .into_iter()
        .filter(|m| !m["new"]["outputs"]["environment"].is_null())
        .collect();
    assert!(!logged_api.is_empty(), "no outputs of api in the events");
    for m in logged_api {
        assert!(
            is_blinded_secret(&m["new"]["outputs"]["environment"]["API_TOKEN"]),
            "{m:#}"
        );
    }
    program.assert_no_plaintext_secret("after up");

    // --- a second up changes nothing -----------------------------------------------------
    let events = program.run_ok("up (no-op)", "up");
    let changes = events.changes();
    assert_eq!(changes.get("same"), Some(&4), "{changes:?}");
    assert_eq!(changes.len(), 1, "no-op up changed something: {changes:?}");

    // --- editing one property updates that service in place ------------------------------
    let (file, from, to) = toolchain.edit();
    let path = program.ws.project_dir.join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, crate::pulumi::replace_once(&source, from, to)).unwrap();
    program.driver = toolchain.prepare(&program.ws);
    let preview = program.run_ok("preview (edit)", "preview");
    assert_eq!(ops_for(&preview, "api"), ["update"], "api");
    let api_step = preview
        .steps_for("api")
        .into_iter()
        .next()
        .expect("a step for api");
    assert_eq!(
        api_step["detailedDiff"],
        json!({"environment.LOG_LEVEL": {"diffKind": "update", "inputDiff": true}}),
        "{api_step:#}"
    );
    for name in ["shop", "web"] {
        assert_eq!(ops_for(&preview, name), ["same"], "{name}");
    }
    let events = program.run_ok("up (edit)", "up");
    let changes = events.changes();
    assert_eq!(changes.get("update"), Some(&1), "{changes:?}");
    assert_eq!(changes.get("same"), Some(&3), "{changes:?}");
    let td = api_task_definition(&rt, &ecs);
    let env = &td.container_definitions()[0].environment();
    assert!(
        env.iter()
            .any(|kv| kv.name() == Some("LOG_LEVEL") && kv.value() == Some("debug")),
        "{env:?}"
    );
    assert_eq!(
        program.ws.stack_output(false)["apiStatus"],
        "SERVICE_DEPLOYMENT_COMPLETED"
    );

    // --- destroy leaves nothing in the emulator ------------------------------------------
    let events = program.run_ok("destroy", "destroy");
    assert_eq!(
        events.changes().get("delete"),
        Some(&4),
        "{:?}",
        events.changes()
    );
    for name in ["web", "api"] {
        assert!(
            rt.block_on(inventory::active_service(&ecs, CLUSTER, name))
                .is_none(),
            "{name} is still running"
        );
        assert!(
            rt.block_on(inventory::active_revisions(&ecs, &format!("shop-{name}")))
                .is_empty(),
            "{name} has active task definitions"
        );
    }
    let live = rt.block_on(inventory::live_stacks(&cfn));
    assert!(live.is_empty(), "stacks left after destroy: {live:?}");
    program.assert_no_plaintext_secret("after destroy");
    assert!(
        program
            .ws
            .stack_output(false)
            .as_object()
            .is_none_or(|o| o.is_empty()),
        "outputs left after destroy"
    );

    program.ws.print_timings();
    eprintln!(
        "[e2e {}] whole test: {:.1}s",
        program.toolchain.example(),
        started.elapsed().as_secs_f64()
    );
}
