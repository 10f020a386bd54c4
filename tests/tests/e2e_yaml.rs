//! End to end: the real `pulumi` CLI (the pinned build from scripts/install-pulumi.sh) runs
//! `examples/yaml-web-and-api` with the provider binary against a private moto server:
//! preview, up, a no-op up, edits, a rename, secrets, refresh after drift and after an
//! out-of-band delete, import of a service created out of band, the status messages of a
//! rollout, and destroy leaving nothing behind. Assertions are on the CLI's JSON (`--json`
//! digests and events, `--event-log`, `stack output --json`, `stack export`) and on what the
//! emulator holds, never on scraped text.
//!
//! One moto, one workspace and one stack serve the whole lifecycle, step by step, to keep the
//! wall time reasonable (each `pulumi` command starts the YAML host and the provider). Every
//! service runs one replica, and the moto server completes rollouts of one task
//! (`MOTO_ECS_SERVICE_RUNNING=1`); the step that scales to 2 does not wait for the rollout.

use defang_tests::Moto;
use defang_tests::inventory;
use defang_tests::pulumi::{Events, UNKNOWN, Workspace, replace_once, urn_is};
use defang_tests::{files_containing, runtime};
use serde_json::{Value, json};
use std::time::Instant;

const EXAMPLE: &str = "yaml-web-and-api";
/// The example's `apiToken`: distinctive, so that any leak of it can be searched for.
const TOKEN: &str = "e2e-plaintext-token-7c1f9";
/// The signature of an encrypted (or plaintext) secret in a checkpoint.
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const CLUSTER: &str = "defang-shop";
const WEB_DOMAIN: &str = "web--80.shop.alice.defang.app";

/// Whether `endpoints` is the web service's one ingress endpoint: its domain, as a URL
/// (`https://<domain>`) or bare (the provider's earlier form).
fn is_web_endpoints(endpoints: &Value) -> bool {
    *endpoints == json!([format!("https://{WEB_DOMAIN}")]) || *endpoints == json!([WEB_DOMAIN])
}

/// A workspace running the example, with a stack configured for user `alice`.
fn example_workspace(moto: &Moto) -> Workspace {
    let ws = Workspace::for_example(EXAMPLE, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("apiToken", TOKEN, true),
    ]);
    ws
}

/// The checkpoint state of the resource `name` (exactly one).
fn exported(export: &Value, name: &str) -> Value {
    let found = Workspace::exported_resources(export, name);
    assert_eq!(
        found.len(),
        1,
        "resources named {name} in the export: {found:#?}"
    );
    found.into_iter().next().unwrap()
}

/// A secret as the checkpoint stores it: encrypted with the stack's passphrase.
fn is_encrypted_secret(v: &Value) -> bool {
    v[SIG_KEY] == SECRET_SIG
        && v["ciphertext"]
            .as_str()
            .is_some_and(|c| !c.is_empty() && c != "[secret]" && !c.contains(TOKEN))
}

/// A secret as the CLI's JSON events show it without `--show-secrets`.
fn is_blinded_secret(v: &Value) -> bool {
    v[SIG_KEY] == SECRET_SIG && v["ciphertext"] == "[secret]"
}

/// The (ephemeral, URN) diagnostics whose message looks like a rollout status line.
fn status_messages<'a>(events: &'a Events, name: &str) -> Vec<(&'a str, bool)> {
    events
        .diagnostics()
        .into_iter()
        .filter(|d| urn_is(&d["urn"], name))
        .filter_map(|d| {
            let msg = d["message"].as_str()?;
            msg.contains("SERVICE_DEPLOYMENT_")
                .then_some((msg, d["ephemeral"].as_bool().unwrap_or(false)))
        })
        .collect()
}

fn env_of(container: &aws_sdk_ecs::types::ContainerDefinition) -> Vec<(String, String)> {
    container
        .environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap_or_default().to_string(),
                kv.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

struct Ecs {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_ecs::Client,
}

impl Ecs {
    fn service(&self, name: &str) -> Option<aws_sdk_ecs::types::Service> {
        self.rt
            .block_on(inventory::active_service(&self.client, CLUSTER, name))
    }

    fn task_definition(&self, arn: &str) -> aws_sdk_ecs::types::TaskDefinition {
        self.rt
            .block_on(inventory::task_definition(&self.client, arn))
    }

    /// The ACTIVE task definition ARNs of exactly `family`.
    fn active_revisions(&self, family: &str) -> Vec<String> {
        self.rt.block_on(self.active_revisions_async(family))
    }

    async fn active_revisions_async(&self, family: &str) -> Vec<String> {
        inventory::active_revisions(&self.client, family).await
    }
}

#[test]
fn example_end_to_end() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let rt = runtime();
    let ecs = Ecs {
        client: rt.block_on(moto.ecs()),
        rt,
    };
    let cfn = ecs.rt.block_on(moto.cloudformation());
    let ws = example_workspace(&moto);

    // --- preview: the planned resources, with the domains already known -----------------
    // The default `--json` digest lists the planned steps (with inputs, not outputs)...
    let (out, digest) = ws.preview_digest("preview (digest)");
    out.ok();
    let planned: Vec<(&str, &str)> = digest["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["op"].as_str().unwrap(),
                s["newState"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    for (op, ty) in [
        ("create", "pulumi:pulumi:Stack"),
        ("create", "defang:index:Project"),
        ("create", "defang:index:Service"),
    ] {
        assert!(planned.contains(&(op, ty)), "{planned:?}");
    }
    assert_eq!(digest["changeSummary"], json!({"create": 4}));
    // ...and the streamed preview carries the planned outputs as well.
    let preview = ws.preview_ok("preview (create)");
    for name in ["shop", "web", "api"] {
        assert_eq!(preview.ops_for(name), ["create"], "{name}");
    }
    let web = preview.planned_outputs("web");
    assert_eq!(web["domain"], WEB_DOMAIN, "{web:#}");
    assert!(is_web_endpoints(&web["endpoints"]), "{web:#}");
    assert_eq!(web["status"], UNKNOWN, "{web:#}");
    let api = preview.planned_outputs("api");
    assert_eq!(
        api["endpoints"],
        json!(["api.shop.internal:3000"]),
        "{api:#}"
    );
    assert!(api.get("domain").is_none(), "{api:#}");
    let stack = preview.planned_outputs("yaml-web-and-api-dev");
    assert_eq!(stack["webDomain"], WEB_DOMAIN, "{stack:#}");
    // The secret is shown as such, never in plaintext.
    assert!(
        is_blinded_secret(&api["environment"]["API_TOKEN"]),
        "{api:#}"
    );
    let api_step = preview.step("api");
    assert!(
        is_blinded_secret(&api_step["new"]["inputs"]["environment"]["API_TOKEN"]),
        "{api_step:#}"
    );
    assert_eq!(api["environment"]["LOG_LEVEL"], "info");

    // --- up: everything is created and deployed ------------------------------------------
    let (out, events, event_log) = ws.up("up (create)");
    let out = out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("create"), Some(&4), "{changes:?}"); // the stack and 3 resources
    assert_eq!(changes.len(), 1, "{changes:?}");
    let outputs = ws.stack_output(true);
    assert_eq!(
        outputs["webStatus"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(
        outputs["apiStatus"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(outputs["webDomain"], WEB_DOMAIN);
    assert!(is_web_endpoints(&outputs["webEndpoints"]), "{outputs:#}");
    assert_eq!(outputs["apiEndpoints"], json!(["api.shop.internal:3000"]));
    // None of the example's outputs is secret: the same without --show-secrets.
    assert_eq!(ws.stack_output(false), outputs);

    // What runs in the emulator.
    let svc = ecs.service("web").expect("ECS service web");
    assert_eq!(svc.desired_count(), 1);
    assert_eq!(svc.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    // In the project's subnets.
    let export = ws.stack_export();
    let project = exported(&export, "shop");
    let network = svc
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc network");
    assert_eq!(
        json!(network.subnets()),
        project["outputs"]["subnetIds"],
        "{project:#}"
    );
    // The project's member group, and the service's own (which opens its ports).
    let groups = network.security_groups();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(
        groups
            .iter()
            .any(|g| project["outputs"]["securityGroupId"] == g.as_str()),
        "{groups:?} {project:#}"
    );
    let td = ecs.task_definition(svc.task_definition().unwrap());
    assert_eq!(td.family(), Some("defang-shop-S-web"));
    assert_eq!(td.cpu(), Some("256"));
    assert_eq!(td.memory(), Some("512"));
    let c = &td.container_definitions()[0];
    assert_eq!(c.image(), Some("nginx:1.27-alpine"));
    assert_eq!(c.port_mappings()[0].container_port(), Some(80));
    let svc = ecs.service("api").expect("ECS service api");
    let td = ecs.task_definition(svc.task_definition().unwrap());
    assert_eq!(td.family(), Some("defang-shop-S-api"));
    let c = &td.container_definitions()[0];
    assert_eq!(c.image(), Some("hashicorp/http-echo:1.0"));
    assert_eq!(c.command(), ["-listen=:3000", "-text=hello from the api"]);
    assert!(
        env_of(c).contains(&("LOG_LEVEL".into(), "info".into())),
        "{:?}",
        env_of(c)
    );
    assert_eq!(c.port_mappings()[0].container_port(), Some(3000));
    // As the schema documents, the secret value is in SSM Parameter Store, not in the task
    // definition: the container references the parameter.
    assert!(
        env_of(c)
            .iter()
            .all(|(k, v)| k != "API_TOKEN" && v != TOKEN),
        "{:?}",
        env_of(c).iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert!(
        !format!("{td:?}").contains(TOKEN),
        "the task definition holds the secret"
    );
    let refs: Vec<(&str, &str)> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0].0, "API_TOKEN");
    assert!(
        refs[0]
            .1
            .ends_with(":parameter/defang/shop/api/API_TOKEN/v1"),
        "{refs:?}"
    );
    let ssm = ecs.rt.block_on(moto.ssm());
    let stored = ecs
        .rt
        .block_on(
            ssm.get_parameter()
                .name("/defang/shop/api/API_TOKEN/v1")
                .with_decryption(true)
                .send(),
        )
        .expect("the secret's SSM parameter");
    assert_eq!(
        stored.parameter().and_then(|p| p.value()),
        Some(TOKEN),
        "SSM holds the value"
    );

    // The rollout's status lines reached the engine: the event log records the provider's
    // ephemeral Engine.Log calls as diagnostic events with "ephemeral": true.
    for name in ["web", "api"] {
        let logged = status_messages(&event_log, name);
        assert!(
            !logged.is_empty(),
            "no status message for {name} in the event log:\n{}",
            event_log.text()
        );
        assert!(logged.iter().all(|(_, ephemeral)| *ephemeral), "{logged:?}");
        assert!(
            logged
                .iter()
                .any(|(m, _)| m.starts_with("SERVICE_DEPLOYMENT_COMPLETED (1/1 tasks running)")),
            "{logged:?}"
        );
        // `--json` on stdout streams the same events.
        assert_eq!(status_messages(&events, name), logged);
    }

    // The secret: shown as [secret] in the engine's events, encrypted in the state, and its
    // plaintext nowhere in what the CLI printed or stored.
    let api_out = events.outcomes_for("api");
    assert!(
        is_blinded_secret(&api_out.last().unwrap()["new"]["outputs"]["environment"]["API_TOKEN"]),
        "{api_out:#?}"
    );
    let export = ws.stack_export();
    let api = exported(&export, "api");
    assert!(
        is_encrypted_secret(&api["inputs"]["environment"]["API_TOKEN"]),
        "{api:#}"
    );
    assert!(
        is_encrypted_secret(&api["outputs"]["environment"]["API_TOKEN"]),
        "{api:#}"
    );
    assert!(
        !export.to_string().contains(TOKEN),
        "plaintext in the export"
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    assert!(!event_log.text().contains(TOKEN));

    // --- a second up changes nothing ------------------------------------------------------
    let (out, events, _) = ws.up("up (no change)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");

    // --- an environment edit: an in-place update with a property-level diff --------------
    ws.edit_program(|p| replace_once(p, "LOG_LEVEL: info", "LOG_LEVEL: debug"));
    let preview = ws.preview_ok("preview (environment edit)");
    assert_eq!(preview.ops_for("api"), ["update"], "{}", preview.0.text());
    assert_eq!(preview.ops_for("web"), ["same"]);
    let step = preview.step("api");
    assert_eq!(step["diffs"], json!(["environment"]), "{step:#}");
    assert_eq!(
        step["detailedDiff"]["environment.LOG_LEVEL"]["diffKind"], "update",
        "{step:#}"
    );
    let (out, events, _) = ws.up("up (environment edit)");
    out.ok();
    assert_eq!(events.changes().get("update"), Some(&1));
    let svc = ecs.service("api").unwrap();
    let td = ecs.task_definition(svc.task_definition().unwrap());
    let env = env_of(&td.container_definitions()[0]);
    assert!(
        env.contains(&("LOG_LEVEL".into(), "debug".into())),
        "{env:?}"
    );
    assert_eq!(
        ws.stack_output(false)["apiStatus"],
        "SERVICE_DEPLOYMENT_COMPLETED"
    );

    // --- a rename: a replacement ---------------------------------------------------------
    ws.edit_program(|p| {
        replace_once(
            p,
            "      image: hashicorp/http-echo:1.0\n",
            "      name: api-v2\n      image: hashicorp/http-echo:1.0\n",
        )
    });
    let preview = ws.preview_ok("preview (rename)");
    let ops = preview.ops_for("api");
    assert!(
        ops.contains(&"replace".to_string()),
        "{ops:?}\n{}",
        preview.0.text()
    );
    let replace = preview.step_with_op("api", "replace");
    assert_eq!(replace["keys"], json!(["name"]), "{replace:#}");
    assert!(
        replace["detailedDiff"]["name"]["diffKind"]
            .as_str()
            .is_some_and(|k| k.ends_with("-replace")),
        "{replace:#}"
    );
    assert_eq!(
        preview.planned_outputs("api")["endpoints"],
        json!(["api-v2.shop.internal:3000"])
    );
    let (out, events, _) = ws.up("up (rename)");
    out.ok();
    assert_eq!(
        events.changes().get("replace"),
        Some(&1),
        "{:?}",
        events.changes()
    );
    assert!(ecs.service("api-v2").is_some());
    assert!(
        ecs.service("api").is_none(),
        "the old service is still ACTIVE"
    );
    assert_eq!(
        ecs.active_revisions("defang-shop-S-api"),
        Vec::<String>::new()
    );
    assert_eq!(ecs.active_revisions("defang-shop-S-api-v2").len(), 1);
    let outputs = ws.stack_output(false);
    assert_eq!(
        outputs["apiEndpoints"],
        json!(["api-v2.shop.internal:3000"])
    );

    // --- replicas: in place (without waiting: the emulator runs one task per service) ----
    ws.edit_program(|p| {
        replace_once(
            p,
            "      replicas: 1\n",
            "      replicas: 2\n      waitForSteadyState: false\n",
        )
    });
    let preview = ws.preview_ok("preview (replicas)");
    assert_eq!(preview.ops_for("web"), ["update"], "{}", preview.0.text());
    let step = preview.step("web");
    assert_eq!(
        step["detailedDiff"]["replicas"]["diffKind"], "update",
        "{step:#}"
    );
    assert_eq!(
        step["detailedDiff"]["waitForSteadyState"]["diffKind"], "add",
        "{step:#}"
    );
    let (out, _, _) = ws.up("up (replicas)");
    out.ok();
    assert_eq!(ecs.service("web").unwrap().desired_count(), 2);

    // --- refresh after an out-of-band scale: the drift is reported ------------------------
    ecs.rt
        .block_on(
            ecs.client
                .update_service()
                .cluster(CLUSTER)
                .service("web")
                .desired_count(3)
                .send(),
        )
        .expect("scale web out of band");
    let (out, events, _) = ws.refresh("refresh (scaled out of band)");
    out.ok();
    assert_eq!(
        events.changes().get("update"),
        Some(&1),
        "{:?}",
        events.changes()
    );
    let drift = events.outcomes_for("web");
    let drift = drift.last().expect("web refreshed");
    assert_eq!(drift["op"], "update", "{drift:#}");
    let diffs: Vec<&str> = drift["diffs"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(diffs.contains(&"replicas"), "{drift:#}");
    let export = ws.stack_export();
    let web = exported(&export, "web");
    assert_eq!(web["outputs"]["desiredCount"], 3, "{web:#}");

    // --- refresh after an out-of-band delete: the resource leaves the state ---------------
    ecs.rt.block_on(async {
        ecs.client
            .update_service()
            .cluster(CLUSTER)
            .service("api-v2")
            .desired_count(0)
            .send()
            .await
            .expect("scale api-v2 to 0");
        ecs.client
            .delete_service()
            .cluster(CLUSTER)
            .service("api-v2")
            .send()
            .await
            .expect("delete api-v2 out of band");
        // Whoever deletes a service by hand also cleans up its task definition (refresh only
        // forgets the resource; it deletes nothing).
        for arn in ecs.active_revisions_async("defang-shop-S-api-v2").await {
            ecs.client
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .expect("deregister shop-api-v2");
        }
    });
    let (out, events, _) = ws.refresh("refresh (deleted out of band)");
    out.ok();
    assert_eq!(
        events.changes().get("delete"),
        Some(&1),
        "{:?}",
        events.changes()
    );
    let export = ws.stack_export();
    assert!(Workspace::exported_resources(&export, "api").is_empty());

    // --- the next up converges: the drift is undone, the deleted service comes back --------
    let preview = ws.preview_ok("preview (after refresh)");
    assert_eq!(preview.ops_for("api"), ["create"]);
    assert_eq!(preview.ops_for("web"), ["update"]);
    let step = preview.step("web");
    assert_eq!(
        step["detailedDiff"]["replicas"]["diffKind"], "update",
        "{step:#}"
    );
    let (out, _, _) = ws.up("up (converge)");
    out.ok();
    assert_eq!(ecs.service("web").unwrap().desired_count(), 2);
    assert!(ecs.service("api-v2").is_some());

    // --- import of a service created out of band -----------------------------------------
    let project = exported(&export, "shop");
    let subnets: Vec<String> = project["outputs"]["subnetIds"]
        .as_array()
        .expect("subnetIds")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let sg = project["outputs"]["securityGroupId"]
        .as_str()
        .expect("securityGroupId")
        .to_string();
    let execution_role = project["outputs"]["executionRoleArn"]
        .as_str()
        .map(str::to_string);
    ecs.rt.block_on(async {
        use aws_sdk_ecs::types::*;
        let td = ecs
            .client
            .register_task_definition()
            .family("shop-legacy")
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu("256")
            .memory("512")
            .set_execution_role_arn(execution_role)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("legacy")
                    .image("traefik/whoami:v1.10")
                    .essential(true)
                    .port_mappings(
                        PortMapping::builder()
                            .container_port(8080)
                            .protocol(TransportProtocol::Tcp)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("register shop-legacy");
        let arn = td.task_definition().unwrap().task_definition_arn().unwrap();
        ecs.client
            .create_service()
            .cluster(CLUSTER)
            .service_name("legacy")
            .task_definition(arn)
            .desired_count(1)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .set_subnets(Some(subnets))
                            .security_groups(sg)
                            .assign_public_ip(AssignPublicIp::Enabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create legacy out of band");
    });
    let (out, events, code) = ws.import(
        "import legacy",
        "defang:index:Service",
        "legacy",
        "shop/legacy",
    );
    let out = out.ok();
    assert_eq!(
        events.changes().get("import"),
        Some(&1),
        "{}",
        out.context()
    );
    assert!(
        code.contains("traefik/whoami:v1.10"),
        "generated code:\n{code}"
    );
    // pulumi-yaml writes the type token without its `index` module.
    assert!(
        code.contains("type: defang:Service"),
        "generated code:\n{code}"
    );
    let export = ws.stack_export();
    let legacy = exported(&export, "legacy");
    assert_eq!(
        legacy["inputs"]["image"], "traefik/whoami:v1.10",
        "{legacy:#}"
    );
    assert_eq!(legacy["inputs"]["project"], "shop", "{legacy:#}");
    assert_eq!(legacy["id"], "shop/legacy");
    // The generated code, added to the program as `pulumi import` asks, matches what runs.
    // Its `project` is a literal; referring to the project resource instead (same value) also
    // orders the deletes: the service before the project.
    ws.edit_program(|p| {
        let resources = code
            .split_once("resources:\n")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("generated code:\n{code}"));
        let resources = replace_once(resources, "project: shop\n", "project: ${shop.name}\n");
        replace_once(p, "\noutputs:\n", &format!("\n{resources}\noutputs:\n"))
    });
    let preview = ws.preview_ok("preview (imported code added)");
    let step = preview.step("legacy");
    assert_eq!(step["op"], "same", "{step:#}");
    // The up changes nothing, and records the dependency on the project: without it (state
    // straight from `pulumi import`), destroy deletes the project and the service at the same
    // time, and the project's cluster refuses to go while the service is active.
    let (out, events, _) = ws.up("up (imported code added)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let export = ws.stack_export();
    let legacy = exported(&export, "legacy");
    assert!(
        legacy["dependencies"]
            .as_array()
            .is_some_and(|d| d.iter().any(|u| urn_is(u, "shop"))),
        "{legacy:#}"
    );

    // --- destroy: nothing left behind ------------------------------------------------------
    let (out, events, _) = ws.destroy("destroy");
    out.ok();
    // shop, web, api (api-v2), legacy and the stack itself.
    assert_eq!(
        events.changes().get("delete"),
        Some(&5),
        "{:?}",
        events.changes()
    );
    ecs.rt.block_on(async {
        let clusters = ecs.client.list_clusters().send().await.unwrap();
        assert!(
            !clusters
                .cluster_arns()
                .iter()
                .any(|a| a.ends_with("/defang-shop")),
            "{clusters:?}"
        );
        let described = ecs
            .client
            .describe_clusters()
            .clusters(CLUSTER)
            .send()
            .await
            .unwrap();
        assert!(
            described
                .clusters()
                .iter()
                .all(|c| c.status() != Some("ACTIVE")),
            "{described:?}"
        );
        let stacks = cfn.list_stacks().send().await.unwrap();
        let alive: Vec<_> = stacks
            .stack_summaries()
            .iter()
            .filter(|s| {
                s.stack_status()
                    != Some(&aws_sdk_cloudformation::types::StackStatus::DeleteComplete)
            })
            .map(|s| s.stack_name().unwrap_or_default().to_string())
            .collect();
        assert!(alive.is_empty(), "stacks left: {alive:?}");
        let err = cfn
            .describe_stacks()
            .stack_name(CLUSTER)
            .send()
            .await
            .expect_err("the stack is gone");
        assert!(format!("{err:?}").contains("does not exist"), "{err:?}");
    });
    // The services' secret parameters went with them.
    let ssm = ecs.rt.block_on(moto.ssm());
    let params = ecs
        .rt
        .block_on(
            ssm.get_parameters_by_path()
                .path("/defang/shop")
                .recursive(true)
                .send(),
        )
        .unwrap();
    let names: Vec<_> = params.parameters().iter().map(|p| p.name()).collect();
    assert!(names.is_empty(), "SSM parameters left: {names:?}");
    for family in [
        "defang-shop-S-web",
        "defang-shop-S-api",
        "defang-shop-S-api-v2",
        "shop-legacy",
    ] {
        assert_eq!(
            ecs.active_revisions(family),
            Vec::<String>::new(),
            "{family} still has ACTIVE revisions"
        );
    }
    let export = ws.stack_export();
    let left: Vec<&Value> = export["deployment"]["resources"]
        .as_array()
        .map(|rs| rs.iter().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state after destroy: {left:#?}");

    // The secret's plaintext is nowhere on disk: not in the state and its backups, the stack
    // config, PULUMI_HOME, nor in anything any command printed.
    let leaks = files_containing(&ws.dir, TOKEN.as_bytes());
    assert!(leaks.is_empty(), "the plaintext secret is in {leaks:?}");

    ws.print_timings();
    eprintln!(
        "[e2e] example_end_to_end: {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
}

/// A bad port, then a bad service name: each preview fails before anything is created, and the
/// error names the resource and the property. (One program with both mistakes would report
/// only the first registration to fail: the engine stops the preview there.)
#[test]
fn invalid_program_fails_in_preview_naming_the_property() {
    let moto = Moto::start(&[]);
    let program = r#"name: e2e-invalid
runtime: yaml
plugins:
  providers:
    - name: defang
      path: ../../target/debug
resources:
  shop:
    type: defang:index:Project
    properties:
      name: shop
  web:
    type: defang:index:Service
    properties:
      project: ${shop.name}
      image: nginx:1.27-alpine
      ports:
        - target: 70000
"#;
    let ws = Workspace::for_program("invalid", program, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let (out, preview) = ws.preview("preview (bad port)");
    assert!(!out.success(), "the preview succeeded:\n{}", out.context());
    let errors = preview.errors();
    assert!(
        errors.iter().any(|(urn, message)| urn.ends_with("::web")
            && message.contains("ports[0].target")
            && message.contains("70000")),
        "{errors:#?}"
    );

    ws.edit_program(|p| {
        let p = replace_once(p, "target: 70000", "target: 80");
        replace_once(
            &p,
            "      image: nginx",
            "      name: Web_1\n      image: nginx",
        )
    });
    let (out, preview) = ws.preview("preview (bad name)");
    assert!(!out.success(), "the preview succeeded:\n{}", out.context());
    let errors = preview.errors();
    assert!(
        errors.iter().any(|(urn, message)| urn.ends_with("::web")
            && message.contains("property name")
            && message.contains("Web_1")),
        "{errors:#?}"
    );
    // Nothing was created.
    let export = ws.stack_export();
    assert!(
        export["deployment"]["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "{export:#}"
    );
    ws.print_timings();
}

/// While a rollout runs, the provider sends its status line (`SERVICE_DEPLOYMENT_PENDING (1/2
/// tasks running)`) as an ephemeral Engine.Log message. The engine records it in the event log
/// (and in `--json` events) as a diagnostic with `"ephemeral": true`. Here the emulator runs 1
/// of 2 tasks, so the rollout never completes, and a short `customTimeouts.create` ends the
/// wait: the service is kept in the state with the reason, and destroy removes it.
#[test]
fn rollout_status_while_waiting_reaches_the_engine() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let program = r#"name: e2e-rollout
runtime: yaml
plugins:
  providers:
    - name: defang
      path: ../../target/debug
resources:
  shop:
    type: defang:index:Project
    properties:
      name: shop
  slow:
    type: defang:index:Service
    properties:
      project: ${shop.name}
      image: nginx:1.27-alpine
      ports:
        - target: 80
          mode: host
      replicas: 2
    options:
      customTimeouts:
        create: 8s
"#;
    let ws = Workspace::for_program("rollout", program, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let (out, events, event_log) = ws.up("up (rollout times out)");
    assert!(!out.success(), "the up succeeded:\n{}", out.context());
    let logged = status_messages(&event_log, "slow");
    assert!(
        logged
            .iter()
            .any(|(m, eph)| *eph && m.starts_with("SERVICE_DEPLOYMENT_PENDING (1/2 tasks running)")),
        "status messages of slow: {logged:?}\n{}",
        event_log.text()
    );
    assert_eq!(status_messages(&events, "slow"), logged);
    // The failure says why, at the resource.
    let errors: Vec<String> = event_log
        .diagnostics()
        .into_iter()
        .filter(|d| d["severity"] == "error" && urn_is(&d["urn"], "slow"))
        .filter_map(|d| d["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        errors
            .iter()
            .any(|m| m.contains("timed out") && m.contains("SERVICE_DEPLOYMENT_PENDING")),
        "{errors:#?}\n{}",
        out.context()
    );
    // The service exists, so the state keeps it, with the status it was left in.
    let export = ws.stack_export();
    let slow = exported(&export, "slow");
    assert_eq!(slow["id"], "shop/slow", "{slow:#}");
    assert_eq!(
        slow["outputs"]["status"], "SERVICE_DEPLOYMENT_PENDING",
        "{slow:#}"
    );
    assert!(
        slow["initErrors"].as_array().is_some_and(|e| !e.is_empty()),
        "{slow:#}"
    );

    let (out, _, _) = ws.destroy("destroy");
    out.ok();
    let rt = runtime();
    let left = rt.block_on(async {
        let ecs = moto.ecs().await;
        ecs.list_clusters()
            .send()
            .await
            .unwrap()
            .cluster_arns()
            .to_vec()
    });
    assert!(left.is_empty(), "clusters left: {left:?}");
    ws.print_timings();
}
