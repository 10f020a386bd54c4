//! Fault injection, end to end: the real `pulumi` CLI and the provider binary reach moto through
//! the fault proxy (`scripts/moto/fault_proxy.py`, set as `AWS_ENDPOINT_URL` like moto itself
//! elsewhere), which throttles, answers 5xx and loses responses after moto acted, seeded and
//! reproducibly. The program is a fleet of image services in one project. Every `pulumi`
//! command that should succeed must succeed the first time, and afterwards moto, read directly
//! (not through the proxy), must hold exactly one of everything, or nothing after destroy.
//!
//! - `sdk_retries_every_injected_fault`: each fault kind, at rate 1, is retried by the Rust AWS
//!   SDK to its last attempt, for a JSON protocol (ECS, SSM) and the query protocol
//!   (CloudFormation); a lost response has taken effect in moto. (No pulumi; a few seconds.)
//! - `lifecycle_under_throttling_and_lost_responses`: up, a no-op up, an update of every
//!   service and destroy with 30 % throttling and 10 % lost responses.
//! - `provider_killed_mid_create_then_up_converges`: the provider is SIGKILLed once half the
//!   ECS services exist; the next up converges, destroy leaves nothing.
//! - `ctrl_c_during_rollout_then_up_converges`: Ctrl-C (SIGINT to the CLI's process group) while
//!   a service waits for a rollout that never completes; the next up (the service no longer
//!   waiting) converges, destroy cleans up. `sigint_to_the_cli_during_rollout_then_up_converges`:
//!   the same with SIGINT to the CLI alone, which cancels the provider through the engine.
//!
//! Profile: `cargo test` runs the short one (5 services; the kill and Ctrl-C scenarios only in
//! the full profile); `DEFANG_FAULTS_PROFILE=full` (`make faults`) runs 20 services and every
//! scenario. `DEFANG_FAULTS_{SEED,THROTTLE,5XX,DROP,SERVICES,EVERYWHERE}` override the figures;
//! `DEFANG_FAULTS_REPORT=<file>` collects each step's figures as JSON lines.

use defang_tests::Moto;
use defang_tests::faults::{
    CLUSTER, FaultProxy, Inventory, PROJECT, Profile, Rates, Stats, fleet_program, process_group,
    record, service_names, signal, wait_until, workspace_processes,
};
use defang_tests::pulumi::{Events, Output, Workspace, replace_once};
use defang_tests::runtime;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The passphrase-encrypted secret every service gets (test value).
const TOKEN: &str = "fault-suite-token-3d9a";

/// One scenario at a time: each runs a moto, the proxy and a pulumi CLI with up to 20
/// services, which is what a 2-core machine can take.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// moto, the proxy in front of it, and a workspace whose AWS endpoint is the proxy.
struct Rig {
    scenario: &'static str,
    rt: tokio::runtime::Runtime,
    ws: Workspace,
    proxy: FaultProxy,
    moto: Moto,
}

impl Rig {
    fn new(scenario: &'static str, program: &str, seed: &str, rates: Rates) -> Rig {
        // One running task per service: a rollout of one replica completes, of two never does.
        let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
        let proxy = FaultProxy::start(&moto.endpoint(), seed, rates);
        let mut ws = Workspace::for_program(scenario, program, &proxy.endpoint());
        ws.timeout = Duration::from_secs(900);
        // Stack setup is not under test: no faults while the stack is configured.
        ws.init_stack();
        ws.config_set_all(&[
            ("defang:region", "us-east-1", false),
            ("defang:username", "alice", false),
            ("token", TOKEN, true),
        ]);
        eprintln!(
            "[faults] {scenario}: moto {} behind the proxy {} (seed {seed}, {rates:?})",
            moto.endpoint(),
            proxy.endpoint()
        );
        Rig {
            scenario,
            rt: runtime(),
            ws,
            proxy,
            moto,
        }
    }

    fn inventory(&self) -> Inventory {
        self.rt.block_on(Inventory::read(&self.moto))
    }

    /// Runs a `pulumi` command (`run` gets the workspace), records its figures, returns it.
    /// `expected`: whether it is meant to succeed.
    fn step(
        &self,
        step: &str,
        expected: bool,
        run: impl FnOnce(&Workspace) -> (Output, Events, Events),
    ) -> (Output, Events) {
        let before = self.proxy.stats();
        let started = Instant::now();
        let (out, events, _) = run(&self.ws);
        let after = self.proxy.stats();
        record(
            self.scenario,
            step,
            (out.success(), expected),
            started.elapsed().as_secs_f64(),
            &before,
            &after,
        );
        (out, events)
    }

    /// A step that must succeed the first time.
    fn step_ok(
        &self,
        step: &str,
        run: impl FnOnce(&Workspace) -> (Output, Events, Events),
    ) -> Events {
        let (out, events) = self.step(step, true, run);
        assert!(
            out.success(),
            "{}: `{step}` failed under faults\nerrors:\n{}\n{}",
            self.scenario,
            errors(&events).join("\n"),
            out.context()
        );
        events
    }

    fn assert_fleet(&self, when: &str, names: &[String]) {
        let inv = self.inventory();
        let problems = inv.problems_for_fleet(names);
        self.record_check(&format!("check after {when}"), &problems);
        assert!(
            problems.is_empty(),
            "{}: after {when}, moto does not hold exactly the fleet:\n{}\n{inv:#?}",
            self.scenario,
            problems.join("\n")
        );
    }

    fn assert_nothing_left(&self) {
        let inv = self.inventory();
        let left = inv.leftovers();
        self.record_check("check after destroy", &left);
        assert!(
            left.is_empty(),
            "{}: left after destroy:\n{}",
            self.scenario,
            left.join("\n")
        );
        let export = self.ws.stack_export();
        let resources = export["deployment"]["resources"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default();
        assert_eq!(resources, 0, "state after destroy: {export:#}");
    }

    /// A check of what moto holds, as a row of the figures (failed when there are problems).
    fn record_check(&self, what: &str, problems: &[String]) {
        let now = self.proxy.stats();
        record(
            self.scenario,
            what,
            (problems.is_empty(), true),
            0.0,
            &now,
            &now,
        );
        for p in problems.iter().take(20) {
            eprintln!("[faults]   {p}");
        }
    }

    /// The fleet's services in the state.
    fn services_in_state(&self) -> usize {
        let export = self.ws.stack_export();
        export["deployment"]["resources"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| r["type"] == "defang:index:Service")
                    .count()
            })
            .unwrap_or_default()
    }

    /// The ECS services of the fleet's cluster (any status), read directly from moto.
    fn ecs_service_names(&self) -> Vec<String> {
        self.rt.block_on(async {
            let ecs = self.moto.ecs().await;
            let mut names = Vec::new();
            let mut next = None;
            loop {
                let Ok(page) = ecs
                    .list_services()
                    .cluster(CLUSTER)
                    .max_results(100)
                    .set_next_token(next)
                    .send()
                    .await
                else {
                    return names; // no cluster yet
                };
                names.extend(
                    page.service_arns()
                        .iter()
                        .filter_map(|a| a.rsplit('/').next().map(str::to_string)),
                );
                next = page.next_token().map(str::to_string);
                if next.is_none() {
                    return names;
                }
            }
        })
    }

    fn finish(&self) {
        let stats = self.proxy.stats();
        eprintln!(
            "[faults] {} totals: calls {}, throttle {}, 5xx {}, drop {}, retries seen {}, \
             exhausted {}, abandoned {}",
            self.scenario,
            stats.get("calls"),
            stats.fault("throttle"),
            stats.fault("error_5xx"),
            stats.fault("drop"),
            stats.get("retries_seen"),
            stats.get("exhausted"),
            stats.get("abandoned"),
        );
        self.ws.print_timings();
    }
}

/// The error diagnostics of a command, `resource: message`.
fn errors(events: &Events) -> Vec<String> {
    events
        .diagnostics()
        .into_iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            format!(
                "{}: {}",
                d["urn"]
                    .as_str()
                    .and_then(|u| u.rsplit("::").next())
                    .unwrap_or("-"),
                d["message"].as_str().unwrap_or_default().trim()
            )
        })
        .collect()
}

#[test]
fn sdk_retries_every_injected_fault() {
    let _serial = serial();
    use aws_sdk_ecs::error::ProvideErrorMetadata;
    let moto = Moto::start(&[]);
    let proxy = FaultProxy::start(&moto.endpoint(), "1", Rates::NONE);
    let rt = runtime();
    const ATTEMPTS: u32 = 3;
    let config = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(proxy.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecs::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(5)),
            )
            .load(),
    );
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let direct_ssm = rt.block_on(moto.ssm());
    let direct_ecs = rt.block_on(moto.ecs());

    // Every call below must reach the proxy ATTEMPTS times: the SDK retried each fault.
    let attempts = |before: &Stats, what: &str| {
        let row = proxy.stats().since(before);
        assert_eq!(row["calls"], u64::from(ATTEMPTS), "{what}: {row:?}");
        assert_eq!(
            row["retries_seen"],
            u64::from(ATTEMPTS) - 1,
            "{what}: {row:?}"
        );
        assert_eq!(row["exhausted"], 1, "{what}: {row:?}");
        row
    };

    proxy.set_rates(Rates {
        throttle: 1.0,
        ..Rates::NONE
    });
    for (what, code) in [
        ("ecs ListClusters", "ThrottlingException"),
        ("ssm DescribeParameters", "ThrottlingException"),
        ("cloudformation ListStacks", "Throttling"),
    ] {
        let before = proxy.stats();
        let err = rt.block_on(async {
            match what {
                "ecs ListClusters" => ecs
                    .list_clusters()
                    .send()
                    .await
                    .unwrap_err()
                    .code()
                    .map(str::to_string),
                "ssm DescribeParameters" => ssm
                    .describe_parameters()
                    .send()
                    .await
                    .unwrap_err()
                    .code()
                    .map(str::to_string),
                _ => cfn
                    .list_stacks()
                    .send()
                    .await
                    .unwrap_err()
                    .code()
                    .map(str::to_string),
            }
        });
        assert_eq!(err.as_deref(), Some(code), "{what}");
        assert_eq!(attempts(&before, what)["throttle"], u64::from(ATTEMPTS));
    }

    proxy.set_rates(Rates {
        error_5xx: 1.0,
        ..Rates::NONE
    });
    for what in ["ecs ListClusters", "cloudformation ListStacks"] {
        let before = proxy.stats();
        let failed = rt.block_on(async {
            match what {
                "ecs ListClusters" => ecs.list_clusters().send().await.is_err(),
                _ => cfn.list_stacks().send().await.is_err(),
            }
        });
        assert!(failed, "{what}");
        assert_eq!(attempts(&before, what)["error_5xx"], u64::from(ATTEMPTS));
    }

    // A lost response: moto acted, the client saw a connection closed without a response and
    // retried; here every attempt is lost, so the client fails although the call took effect.
    proxy.set_rates(Rates {
        drop: 1.0,
        ..Rates::NONE
    });
    let before = proxy.stats();
    let err = rt
        .block_on(
            ssm.put_parameter()
                .name("/faults/lost")
                .value("v")
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send(),
        )
        .expect_err("every response is lost");
    let row = attempts(&before, "ssm PutParameter");
    assert_eq!(row["drop"], u64::from(ATTEMPTS), "{err:?}");
    assert!(
        format!("{err:?}").contains("DispatchFailure")
            || format!("{err:?}").contains("ResponseError"),
        "{err:?}"
    );
    let stored = rt
        .block_on(direct_ssm.get_parameter().name("/faults/lost").send())
        .expect("moto stored the parameter although the client never heard of it");
    assert_eq!(stored.parameter().and_then(|p| p.value()), Some("v"));
    let before = proxy.stats();
    assert!(
        rt.block_on(ecs.create_cluster().cluster_name("lost").send())
            .is_err()
    );
    attempts(&before, "ecs CreateCluster");
    let clusters = rt
        .block_on(direct_ecs.describe_clusters().clusters("lost").send())
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .any(|c| c.status() == Some("ACTIVE")),
        "{clusters:?}"
    );

    // No faults: one call each.
    proxy.set_rates(Rates::NONE);
    let before = proxy.stats();
    rt.block_on(ecs.list_clusters().send()).unwrap();
    rt.block_on(cfn.list_stacks().send()).unwrap();
    let row = proxy.stats().since(&before);
    assert_eq!((row["calls"], row["retries_seen"]), (2, 0), "{row:?}");
}

#[test]
fn lifecycle_under_throttling_and_lost_responses() {
    let _serial = serial();
    let profile = Profile::from_env();
    let names = service_names(profile.services);
    let n = names.len() as u64;
    let program = fleet_program("e2e-faults", profile.services, "");
    let rig = Rig::new("lifecycle", &program, &profile.seed, profile.rates);

    let events = rig.step_ok("up (create)", |ws| ws.up("up (create)"));
    let changes = events.changes();
    assert_eq!(changes.get("create"), Some(&(n + 2)), "{changes:?}"); // + project and stack
    assert_eq!(rig.services_in_state(), names.len());
    rig.assert_fleet("up (create)", &names);

    let events = rig.step_ok("up (no change)", |ws| ws.up("up (no change)"));
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    rig.assert_fleet("up (no change)", &names);

    // An update of every service: a new task definition revision and a rollout each.
    rig.ws.edit_program(|p| {
        let from = "GENERATION: \"1\"";
        assert_eq!(p.matches(from).count(), names.len(), "{p}");
        p.replace(from, "GENERATION: \"2\"")
    });
    let events = rig.step_ok("up (update every service)", |ws| ws.up("up (update)"));
    let changes = events.changes();
    assert_eq!(changes.get("update"), Some(&n), "{changes:?}");
    rig.assert_fleet("up (update)", &names);
    let inv = rig.inventory();
    rig.rt.block_on(async {
        let ecs = rig.moto.ecs().await;
        for name in &names {
            let td =
                defang_tests::inventory::task_definition(&ecs, &inv.service_task_definitions[name])
                    .await;
            let env: Vec<(&str, &str)> = td.container_definitions()[0]
                .environment()
                .iter()
                .map(|kv| {
                    (
                        kv.name().unwrap_or_default(),
                        kv.value().unwrap_or_default(),
                    )
                })
                .collect();
            assert!(env.contains(&("GENERATION", "2")), "{name}: {env:?}");
        }
    });

    rig.step_ok("destroy", |ws| ws.destroy("destroy"));
    rig.assert_nothing_left();
    rig.finish();
}

#[test]
fn provider_killed_mid_create_then_up_converges() {
    let profile = Profile::from_env();
    if !profile.full {
        eprintln!("[faults] provider kill: full profile only (DEFANG_FAULTS_PROFILE=full)");
        return;
    }
    let _serial = serial();
    let names = service_names(profile.services);
    let program = fleet_program("e2e-faults-kill", profile.services, "");
    let rig = Rig::new(
        "provider-kill",
        &program,
        &profile.seed,
        profile.interrupt_rates,
    );
    let kill_at = names.len().div_ceil(2);

    let mut killed = Vec::new();
    let mut existing_at_kill = 0;
    let (out, _) = std::thread::scope(|s| {
        let up = s.spawn(|| rig.step("up (provider killed)", false, |ws| ws.up("up (killed)")));
        let reached = wait_until(Duration::from_secs(600), || {
            up.is_finished() || rig.ecs_service_names().len() >= kill_at
        });
        assert!(
            reached && !up.is_finished(),
            "the up ended before {kill_at} services existed"
        );
        existing_at_kill = rig.ecs_service_names().len();
        killed = workspace_processes(&rig.ws.dir, "pulumi-resource-defang");
        assert!(!killed.is_empty(), "no provider process of the workspace");
        for pid in &killed {
            signal(*pid, "KILL", false);
        }
        up.join().expect("the up thread")
    });
    eprintln!(
        "[faults] provider {killed:?} SIGKILLed with {existing_at_kill} of {} ECS services created",
        names.len()
    );
    assert!(
        !out.success(),
        "the up succeeded although its provider was killed:\n{}",
        out.context()
    );

    rig.step_ok("up (after the kill)", |ws| ws.up("up (converge)"));
    assert_eq!(rig.services_in_state(), names.len());
    rig.assert_fleet("up (after the kill)", &names);
    let events = rig.step_ok("up (no change)", |ws| ws.up("up (no change)"));
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");

    rig.step_ok("destroy", |ws| ws.destroy("destroy"));
    rig.assert_nothing_left();
    rig.finish();
}

#[test]
fn ctrl_c_during_rollout_then_up_converges() {
    // Ctrl-C in a terminal: SIGINT to the foreground process group (the CLI, its language
    // host and the provider).
    interrupted_rollout("ctrl-c", true);
}

#[test]
fn sigint_to_the_cli_during_rollout_then_up_converges() {
    // SIGINT to the CLI alone: the engine cancels the provider (its Cancel call).
    interrupted_rollout("sigint-cli", false);
}

fn interrupted_rollout(scenario: &'static str, to_group: bool) {
    let profile = Profile::from_env();
    if !profile.full {
        eprintln!("[faults] {scenario}: full profile only (DEFANG_FAULTS_PROFILE=full)");
        return;
    }
    let _serial = serial();
    let mut names = service_names(profile.services);
    // Two replicas while moto runs one task per service: the rollout never completes.
    let slow = format!(
        "  slow:\n    type: defang:index:Service\n    properties:\n      project: ${{{PROJECT}.name}}\n      \
         image: nginx:1.27-alpine\n      ports:\n        - target: 80\n          mode: host\n      \
         environment:\n        GENERATION: \"1\"\n        TOKEN: ${{token}}\n      replicas: 2\n"
    );
    let program = fleet_program("e2e-faults-ctrl-c", profile.services, &slow);
    let rig = Rig::new(scenario, &program, &profile.seed, profile.interrupt_rates);

    let mut interrupted_after = Duration::ZERO;
    let (out, events) = std::thread::scope(|s| {
        let up = s.spawn(|| {
            rig.step("up (Ctrl-C in the rollout)", false, |ws| {
                ws.up("up (ctrl-c)")
            })
        });
        let reached = wait_until(Duration::from_secs(600), || {
            up.is_finished() || rig.ecs_service_names().iter().any(|n| n == "slow")
        });
        assert!(
            reached && !up.is_finished(),
            "the up ended before `slow` existed"
        );
        // Into the wait for the rollout.
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            !up.is_finished(),
            "the up ended although `slow` never completes"
        );
        let clis = workspace_processes(&rig.ws.dir, "pulumi");
        assert_eq!(clis.len(), 1, "pulumi processes of the workspace: {clis:?}");
        if to_group {
            let group = process_group(clis[0]).expect("pulumi's process group");
            signal(group, "INT", true);
        } else {
            signal(clis[0], "INT", false);
        }
        let sent = Instant::now();
        let result = up.join().expect("the up thread");
        interrupted_after = sent.elapsed();
        result
    });
    eprintln!(
        "[faults] {scenario}: pulumi exited {:.1}s after SIGINT; errors: {:?}",
        interrupted_after.as_secs_f64(),
        errors(&events)
    );
    assert!(
        !out.success(),
        "the up succeeded although interrupted:\n{}",
        out.context()
    );

    // The next up, with `slow` no longer waiting for its rollout, converges.
    rig.ws.edit_program(|p| {
        replace_once(
            p,
            "      replicas: 2\n",
            "      replicas: 2\n      waitForSteadyState: false\n",
        )
    });
    rig.step_ok("up (after Ctrl-C)", |ws| ws.up("up (converge)"));
    names.push("slow".into());
    assert_eq!(rig.services_in_state(), names.len());
    rig.assert_fleet("up (after Ctrl-C)", &names);

    rig.step_ok("destroy", |ws| ws.destroy("destroy"));
    rig.assert_nothing_left();
    rig.finish();
}

#[test]
fn ctrl_c_during_a_build_then_up_converges() {
    // A service built from source whose build never ends (the emulator's RUNNING result):
    // Ctrl-C while the provider follows it stops the CodeBuild build, and the next up (the
    // build allowed to succeed) converges.
    let profile = Profile::from_env();
    if !profile.full {
        eprintln!("[faults] ctrl-c-build: full profile only (DEFANG_FAULTS_PROFILE=full)");
        return;
    }
    let _serial = serial();
    let mut names = service_names(profile.services);
    let built = format!(
        "  built:\n    type: defang:index:Service\n    properties:\n      project: ${{{PROJECT}.name}}\n      \
         build:\n        context: ./app\n        args:\n          DEFANG_EMULATOR_BUILD_RESULT: RUNNING\n      \
         ports:\n        - target: 80\n          mode: host\n      \
         environment:\n        GENERATION: \"1\"\n        TOKEN: ${{token}}\n"
    );
    let program = fleet_program("e2e-faults-ctrl-c-build", profile.services, &built);
    let rig = Rig::new(
        "ctrl-c-build",
        &program,
        &profile.seed,
        profile.interrupt_rates,
    );
    let app = rig.ws.project_dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("Dockerfile"), "FROM nginx:1.27-alpine\n").unwrap();
    let codebuild = rig
        .rt
        .block_on(async { aws_sdk_codebuild::Client::new(&rig.moto.sdk_config().await) });
    let builds = |status: &str| -> Vec<String> {
        rig.rt.block_on(async {
            let Ok(list) = codebuild
                .list_builds_for_project()
                .project_name(format!("defang-{PROJECT}-build"))
                .send()
                .await
            else {
                return Vec::new();
            };
            if list.ids().is_empty() {
                return Vec::new();
            }
            let got = codebuild
                .batch_get_builds()
                .set_ids(Some(list.ids().to_vec()))
                .send()
                .await
                .expect("batch_get_builds");
            got.builds()
                .iter()
                .filter(|b| b.build_status().map(|s| s.as_str()) == Some(status))
                .filter_map(|b| b.id().map(str::to_string))
                .collect()
        })
    };

    let (out, _) = std::thread::scope(|s| {
        let up = s.spawn(|| {
            rig.step("up (Ctrl-C in the build)", false, |ws| {
                ws.up("up (ctrl-c build)")
            })
        });
        let reached = wait_until(Duration::from_secs(600), || {
            up.is_finished() || !builds("IN_PROGRESS").is_empty()
        });
        assert!(
            reached && !up.is_finished(),
            "the up ended before the build started"
        );
        // Into the provider's wait for the build.
        std::thread::sleep(Duration::from_secs(3));
        let clis = workspace_processes(&rig.ws.dir, "pulumi");
        assert_eq!(clis.len(), 1, "pulumi processes of the workspace: {clis:?}");
        let group = process_group(clis[0]).expect("pulumi's process group");
        signal(group, "INT", true);
        up.join().expect("the up thread")
    });
    assert!(
        !out.success(),
        "the up succeeded although interrupted:\n{}",
        out.context()
    );
    assert!(
        builds("IN_PROGRESS").is_empty() && !builds("STOPPED").is_empty(),
        "Ctrl-C left the build running: in progress {:?}, stopped {:?}",
        builds("IN_PROGRESS"),
        builds("STOPPED")
    );

    // The next up, the build allowed to succeed, converges.
    rig.ws.edit_program(|p| {
        replace_once(
            p,
            "DEFANG_EMULATOR_BUILD_RESULT: RUNNING",
            "DEFANG_EMULATOR_BUILD_RESULT: SUCCEEDED",
        )
    });
    rig.step_ok("up (after Ctrl-C in the build)", |ws| {
        ws.up("up (converge)")
    });
    names.push("built".into());
    assert_eq!(rig.services_in_state(), names.len());
    rig.assert_fleet("up (after Ctrl-C in the build)", &names);

    rig.step_ok("destroy", |ws| ws.destroy("destroy"));
    rig.assert_nothing_left();
    rig.finish();
}
