//! End to end, services from a Compose file (issue 12): the real `pulumi` CLI runs
//! `examples/compose-app` (one `defang:index:Compose` over a compose.yaml with a web front end
//! built from source, a private API with a secret from the component's `environment`, a worker
//! without ports and Redis) with the provider binary against a private moto server.
//!
//! Preview lists the component, its project and every service under it with the web domain
//! known, and warns about the Compose keys it does not support; up deploys them all; the secret
//! is nowhere in plain text; editing one service in the file touches that child only; removing
//! a service deletes it and adding one creates it; renaming the project replaces everything; the
//! file unchanged means no changes; destroy leaves nothing in the emulator or the state.

use defang_tests::Moto;
use defang_tests::inventory;
use defang_tests::pulumi::{Workspace, replace_once};
use defang_tests::{files_containing, runtime};
use serde_json::Value;
use std::time::Instant;

const EXAMPLE: &str = "compose-app";
const API_KEY: &str = "e2e-compose-api-key-51d9e";
const WEB_DOMAIN: &str = "web--80.shop.alice.defang.app";
const SERVICES: [&str; 4] = ["app-web", "app-api", "app-worker", "app-redis"];

/// A workspace running the example (program, compose.yaml and web/), for user `alice`.
fn example_workspace(moto: &Moto) -> Workspace {
    let ws = Workspace::for_example(EXAMPLE, &moto.endpoint());
    let src = defang_tests::repo_root().join("examples").join(EXAMPLE);
    defang_tests::copy_tree(&src.join("web"), &ws.project_dir.join("web"));
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("apiKey", API_KEY, true),
    ]);
    ws
}

fn edit_compose(ws: &Workspace, edit: impl FnOnce(&str) -> String) {
    let path = ws.project_dir.join("compose.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
}

/// Every message the engine showed (diagnostics), as one text.
fn diagnostics_text(events: &defang_tests::pulumi::Events) -> String {
    events
        .diagnostics()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_compose_file_deploys_as_one_component_with_a_service_each() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let ws = example_workspace(&moto);
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cfn = aws_sdk_cloudformation::Client::new(&config);

    // --- preview: the component, its project and one child per Compose service ----------
    let preview = ws.preview_ok("preview (create)");
    for name in ["app", "app-project"].into_iter().chain(SERVICES) {
        assert_eq!(preview.ops_for(name), ["create"], "{name}");
    }
    let web = preview.planned_outputs("app-web");
    assert_eq!(web["domain"], WEB_DOMAIN, "{web:#}");
    let api = preview.planned_outputs("app-api");
    assert_eq!(api["endpoints"][0], "api.shop.internal:8080", "{api:#}");
    let warnings = diagnostics_text(&preview.0);
    assert!(
        warnings.contains("services.redis.volumes"),
        "no warning about redis's volumes in the preview:\n{warnings}"
    );

    // --- up: everything deploys; the secret stays secret ---------------------------------
    let (out, events, _) = ws.up("up (create)");
    out.ok();
    // The stack, the component, its project and the four services.
    assert_eq!(
        events.changes().get("create"),
        Some(&7),
        "{:?}",
        events.changes()
    );
    let outputs = ws.stack_output(false);
    assert_eq!(outputs["project"], "shop", "{outputs:#}");
    assert_eq!(outputs["webDomain"], WEB_DOMAIN, "{outputs:#}");
    for service in ["web", "api", "worker", "redis"] {
        assert_eq!(
            outputs["services"][service]["status"], "SERVICE_DEPLOYMENT_COMPLETED",
            "{service}: {outputs:#}"
        );
        let live = rt.block_on(inventory::active_service(&ecs, "defang-shop", service));
        assert!(live.is_some(), "ECS service {service} is not running");
    }
    assert!(
        files_containing(&ws.dir, API_KEY.as_bytes()).is_empty(),
        "the API key is in plain text in {:?}",
        files_containing(&ws.dir, API_KEY.as_bytes())
    );

    // --- the file unchanged: no changes ---------------------------------------------------
    let preview = ws.preview_ok("preview (unchanged)");
    let changes = preview.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");

    // --- editing one service touches that child only ---------------------------------------
    edit_compose(&ws, |text| {
        replace_once(text, "-text=hello from the api", "-text=hello again")
    });
    let preview = ws.preview_ok("preview (edit api)");
    assert_eq!(preview.ops_for("app-api"), ["update"]);
    for name in ["app-project", "app-web", "app-worker", "app-redis"] {
        assert_eq!(preview.ops_for(name), ["same"], "{name}");
    }

    // --- removing a service deletes it, adding one creates it ------------------------------
    edit_compose(&ws, |text| {
        replace_once(
            text,
            "  worker:\n    image: busybox:1.36\n",
            "  jobs:\n    image: busybox:1.36\n",
        )
    });
    let preview = ws.preview_ok("preview (rename worker to jobs)");
    assert_eq!(preview.ops_for("app-worker"), ["delete"]);
    assert_eq!(preview.ops_for("app-jobs"), ["create"]);
    assert_eq!(preview.ops_for("app-api"), ["update"]);
    let (out, events, _) = ws.up("up (edit api, worker → jobs)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("create"), Some(&1), "{changes:?}");
    assert_eq!(changes.get("delete"), Some(&1), "{changes:?}");
    assert_eq!(changes.get("update"), Some(&1), "{changes:?}");
    assert!(
        rt.block_on(inventory::active_service(&ecs, "defang-shop", "worker"))
            .is_none(),
        "the removed service still runs"
    );

    // --- renaming the project replaces all (a preview only) --------------------------------
    edit_compose(&ws, |text| {
        replace_once(text, "name: shop\n", "name: store\n")
    });
    let preview = ws.preview_ok("preview (rename the project)");
    for name in ["app-project", "app-web", "app-api", "app-jobs", "app-redis"] {
        let ops = preview.ops_for(name);
        assert!(
            ops.iter()
                .any(|op| op == "replace" || op.ends_with("-replacement")),
            "{name}: {ops:?}"
        );
    }
    let web = preview.planned_outputs("app-web");
    assert_eq!(web["domain"], "web--80.store.alice.defang.app", "{web:#}");
    edit_compose(&ws, |text| {
        replace_once(text, "name: store\n", "name: shop\n")
    });

    // --- destroy: nothing left --------------------------------------------------------------
    let (out, _, _) = ws.destroy("destroy");
    out.ok();
    let stacks = rt.block_on(inventory::live_stacks(&cfn));
    assert!(stacks.is_empty(), "stacks left after destroy: {stacks:?}");
    let export = ws.stack_export();
    let left: Vec<&Value> = export["deployment"]["resources"]
        .as_array()
        .map(|rs| rs.iter().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state after destroy: {left:#?}");

    ws.print_timings();
    eprintln!(
        "[e2e] a_compose_file_deploys_as_one_component_with_a_service_each: {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
}

/// The component's program in Python, against the generated SDK (`sdk/python`).
const PY_PROGRAM: &str = r#"name: compose-py
runtime: python
plugins:
  providers:
    - name: defang
      path: ../../target/debug
config:
  apiKey:
    type: string
    secret: true
"#;

const PY_MAIN: &str = r#""""The Compose example's program in Python: one defang.Compose over compose.yaml."""

import pulumi
import pulumi_defang as defang

config = pulumi.Config()
app = defang.Compose(
    "app",
    file="compose.yaml",
    environment={"API_KEY": config.require_secret("apiKey")},
)
pulumi.export("project", app.project)
pulumi.export("webDomain", app.services.apply(lambda services: services["web"].domain))
pulumi.export("apiStatus", app.services.apply(lambda services: services["api"].status))
"#;

/// The same component from a Python program (an Automation API inline program on the
/// generated SDK): the SDK registers it as a remote component, and the provider builds it.
#[test]
fn the_compose_component_from_python() {
    use defang_tests::languages::{Toolchain, python::Python};
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let ws = Workspace::for_program("compose-py", PY_PROGRAM, &moto.endpoint());
    let src = defang_tests::repo_root().join("examples").join(EXAMPLE);
    std::fs::copy(
        src.join("compose.yaml"),
        ws.project_dir.join("compose.yaml"),
    )
    .unwrap();
    defang_tests::copy_tree(&src.join("web"), &ws.project_dir.join("web"));
    std::fs::write(ws.project_dir.join("__main__.py"), PY_MAIN).unwrap();
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("apiKey", API_KEY, true),
    ]);
    let driver = Python.prepare(&ws);
    let run = |step: &str, op: &str| {
        let events = ws.log_path(&format!("{op}.events.jsonl"));
        let mut args: Vec<String> = driver.argv[1..].to_vec();
        args.extend([
            op.to_string(),
            "compose-py".to_string(),
            ws.stack.clone(),
            events.display().to_string(),
        ]);
        let env: Vec<(&str, &str)> = driver
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true")])
            .collect();
        ws.run_exe(step, std::path::Path::new(&driver.argv[0]), args, &env)
            .ok();
    };
    run("python: up", "up");
    let outputs = ws.stack_output(false);
    assert_eq!(outputs["project"], "shop", "{outputs:#}");
    assert_eq!(outputs["webDomain"], WEB_DOMAIN, "{outputs:#}");
    assert_eq!(
        outputs["apiStatus"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    let export = ws.stack_export();
    for name in [
        "app-project",
        "app-web",
        "app-api",
        "app-worker",
        "app-redis",
    ] {
        assert_eq!(
            Workspace::exported_resources(&export, name).len(),
            1,
            "{name} is not in the state"
        );
    }
    assert!(
        files_containing(&ws.dir, API_KEY.as_bytes()).is_empty(),
        "the API key is in plain text in {:?}",
        files_containing(&ws.dir, API_KEY.as_bytes())
    );
    run("python: destroy", "destroy");
    let left = ws.stack_export()["deployment"]["resources"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(left, 0, "resources left in the state after destroy");
}
