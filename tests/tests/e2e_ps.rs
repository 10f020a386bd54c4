//! End to end, the binary's own commands: the real `pulumi` CLI deploys a project with two
//! services on a private moto server, then `pulumi-resource-defang ps` (JSON, the table,
//! `--watch`) and `logs` (a service's events and its last build's, JSON, `--follow`) read
//! them back from the same moto, and the binary started as the engine starts it still serves.
//!
//! The project's domain suffix is `example.invalid`, which never resolves (RFC 6761): the
//! health probe's honest answer for the ingress service is `error`, whatever the network.

use defang_tests::Moto;
use defang_tests::provider::provider_binary;
use defang_tests::pulumi::Workspace;
use defang_tests::runtime;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PROGRAM: &str = r#"name: ps-e2e
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
        - target: 80
          mode: ingress
      replicas: 1
  api:
    type: defang:index:Service
    properties:
      project: ${shop.name}
      image: hashicorp/http-echo:1.0
      ports:
        - target: 3000
          mode: host
      replicas: 2
      waitForSteadyState: false
outputs:
  webDomain: ${web.domain}
  webStatus: ${web.status}
"#;

const WEB_DOMAIN: &str = "web--80.shop.alice.example.invalid";
/// ECS names a task's stream `<prefix>/<container>/<task id>`.
const WEB_STREAM: &str = "web/web/0123456789abcdef0123456789abcdef";
const BUILD_STREAM: &str = "builds/web/6f1c2d3e-aaaa-bbbb-cccc-0123456789ab";

/// The binary with `args`, against `moto`, as a user's shell would run it (no terminal).
fn defang(moto: &Moto, args: &[&str]) -> Command {
    let mut cmd = Command::new(provider_binary());
    cmd.args(args)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("DEFANG_PROJECT")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    cmd
}

fn run(moto: &Moto, args: &[&str]) -> Output {
    let out = defang(moto, args).output().expect("run the binary");
    eprintln!(
        "$ pulumi-resource-defang {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The lines a running child prints, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line that satisfies `want`, within `timeout`.
fn wait_for(rx: &mpsc::Receiver<String>, timeout: Duration, want: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if want(&line) => return line,
            Ok(_) => continue,
            Err(e) => panic!("no such line within {timeout:?}: {e}"),
        }
    }
}

/// Ctrl-C, as a user ends `--watch` and `--follow`; their exit code.
fn interrupt(mut child: Child) -> Option<i32> {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not stop within 10 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Puts `events` (`(time, message)`) into `stream` of the project's log group.
async fn put_events(logs: &aws_sdk_cloudwatchlogs::Client, stream: &str, events: &[(i64, &str)]) {
    let created = logs
        .create_log_stream()
        .log_group_name("/defang/shop")
        .log_stream_name(stream)
        .send()
        .await;
    if let Err(err) = created {
        let text = format!("{err:?}");
        assert!(text.contains("ResourceAlreadyExists"), "{text}");
    }
    let mut put = logs
        .put_log_events()
        .log_group_name("/defang/shop")
        .log_stream_name(stream);
    for (at, message) in events {
        put = put.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*at)
                .message(*message)
                .build()
                .unwrap(),
        );
    }
    put.send().await.unwrap();
}

#[test]
fn ps_and_logs_read_a_deployed_project() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let rt = runtime();
    let logs = rt.block_on(async { aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await) });

    // Started as the engine starts it (no command), the binary serves: its port line first.
    let mut engine_style = defang(&moto, &[]).stdout(Stdio::piped()).spawn().unwrap();
    let port = wait_for(
        &lines_of(&mut engine_style),
        Duration::from_secs(30),
        |_| true,
    );
    assert!(port.trim().parse::<u16>().is_ok(), "port line: {port:?}");
    let _ = engine_style.kill();
    let _ = engine_style.wait();

    // Nothing deployed yet: no project to show, exit code 1 and what to do.
    let out = run(&moto, &["ps"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no Defang project in us-east-1"),
        "{}",
        stderr(&out)
    );

    let ws = Workspace::for_program("ps", PROGRAM, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
        ("defang:domainSuffix", "example.invalid", false),
    ]);
    let (out, _, _) = ws.up("up (a project and two services)");
    out.ok();
    let outputs = ws.stack_output(false);
    assert_eq!(outputs["webDomain"], WEB_DOMAIN, "{outputs:#}");

    // --- ps --json: the only project, by default ------------------------------------------
    let out = run(&moto, &["ps", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let ps: Value = serde_json::from_str(&stdout(&out)).expect("ps --json is JSON");
    assert_eq!(ps["project"], "shop");
    assert_eq!(ps["cluster"], "defang-shop");
    let services = ps["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "web"]);
    let (api, web) = (&services[0], &services[1]);
    // The status the Service resource reported, by the same rules.
    assert_eq!(web["status"], outputs["webStatus"]);
    assert_eq!(web["status"], "SERVICE_DEPLOYMENT_COMPLETED");
    assert_eq!(
        (web["running"].as_i64(), web["desired"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(web["domain"], WEB_DOMAIN);
    assert_eq!(
        web["endpoints"],
        serde_json::json!([format!("https://{WEB_DOMAIN}")])
    );
    assert_eq!(web["image"], "nginx:1.27-alpine");
    assert_eq!(web["health"]["state"], "error", "{web:#}");
    assert!(
        web["health"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    let age = web["deployedAgeSeconds"].as_i64().expect("deployment age");
    assert!((0..600).contains(&age), "{age}");
    assert!(web["deployedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    // moto runs one task of the two: the rollout is pending.
    assert_eq!(api["status"], "SERVICE_DEPLOYMENT_PENDING");
    assert_eq!(
        (api["running"].as_i64(), api["desired"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(api["domain"], Value::Null);
    assert_eq!(
        api["endpoints"],
        serde_json::json!(["api.shop.internal:3000"])
    );
    assert!(
        api.get("health").is_none_or(Value::is_null),
        "no domain, no probe: {api:#}"
    );

    // --- ps: the table, plain when not a terminal -----------------------------------------
    let out = run(&moto, &["ps", "--project", "shop", "--no-probe"]);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    assert!(!table.contains('\x1b'), "no colour in a pipe: {table:?}");
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(lines[0][..3], ["NAME", "STATUS", "RUNNING"]);
    assert_eq!(lines[1][..3], ["api", "SERVICE_DEPLOYMENT_PENDING", "1/2"]);
    assert_eq!(
        lines[2][..3],
        ["web", "SERVICE_DEPLOYMENT_COMPLETED", "1/1"]
    );
    assert!(lines[2].contains(&WEB_DOMAIN), "{table}");
    assert!(lines[1].contains(&"api.shop.internal:3000"), "{table}");

    // A project that does not exist names the ones that do; a bad flag is a usage error.
    let out = run(&moto, &["ps", "--project", "shp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("(there are: shop)"),
        "{}",
        stderr(&out)
    );
    let out = defang(&moto, &["ps"])
        .env("DEFANG_PROJECT", "blog")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no Defang project \"blog\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(run(&moto, &["ps", "--wat"]).status.code(), Some(2));

    // --- logs: the service's events and its last build's, oldest first --------------------
    let now = now_ms();
    rt.block_on(async {
        put_events(
            &logs,
            WEB_STREAM,
            &[
                (now - 60_000, "GET / 200"),
                (now - 30_000, "GET /health 200"),
            ],
        )
        .await;
        put_events(
            &logs,
            "web/web/ffffffffffffffffffffffffffffffff",
            &[(now - 45_000, "second replica up")],
        )
        .await;
        put_events(
            &logs,
            "api/api/00000000000000000000000000000000",
            &[(now - 40_000, "api says hello")],
        )
        .await;
        put_events(
            &logs,
            BUILD_STREAM,
            &[(now - 120_000, "Step 1/2 : FROM nginx")],
        )
        .await;
        put_events(&logs, WEB_STREAM, &[(now - 3 * 3_600_000, "long ago")]).await;
    });
    let out = run(&moto, &["logs", "web"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let messages: Vec<&str> = text
        .lines()
        .map(|l| l.splitn(3, ' ').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        [
            "Step 1/2 : FROM nginx",
            "GET / 200",
            "second replica up",
            "GET /health 200"
        ],
        "{text}"
    );
    let first: Vec<&str> = text.lines().next().unwrap().splitn(3, ' ').collect();
    assert_eq!(first[1], "build");
    assert_eq!(
        text.lines().nth(1).unwrap().split(' ').nth(1),
        Some("0123456789ab")
    );
    // --since reaches further back; --json is one object a line.
    let out = run(&moto, &["logs", "web", "--since", "4h", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["message"], "long ago");
    assert_eq!(events[0]["stream"], WEB_STREAM);
    assert_eq!(events[0]["source"], "task");
    assert_eq!(events[1]["source"], "build");
    let out = run(&moto, &["logs", "api"]);
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>().len(),
        1,
        "api's own events only"
    );
    let out = run(&moto, &["logs", "db"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no service \"db\" (it has: api, web)"),
        "{}",
        stderr(&out)
    );
    let out = run(&moto, &["logs", "web", "--since", "10y"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown unit 'y'"),
        "{}",
        stderr(&out)
    );

    // --- logs --follow: new events as they come, each once, until Ctrl-C ------------------
    let mut follow = defang(&moto, &["logs", "web", "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut follow);
    wait_for(&lines, Duration::from_secs(30), |l| {
        l.ends_with("GET /health 200")
    });
    rt.block_on(put_events(
        &logs,
        WEB_STREAM,
        &[(now_ms(), "a new request")],
    ));
    wait_for(&lines, Duration::from_secs(30), |l| {
        l.ends_with("a new request")
    });
    assert_eq!(interrupt(follow), Some(0));
    let repeated: Vec<String> = lines.try_iter().collect();
    assert!(repeated.is_empty(), "printed again: {repeated:?}");

    // --- ps --watch: a JSON line a refresh, until Ctrl-C ---------------------------------
    let mut watch = defang(
        &moto,
        &["ps", "--watch", "--json", "--interval", "1", "--no-probe"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let lines = lines_of(&mut watch);
    for _ in 0..2 {
        let line = wait_for(&lines, Duration::from_secs(30), |_| true);
        let doc: Value = serde_json::from_str(&line).expect("one JSON document a line");
        assert_eq!(doc["services"].as_array().map(Vec::len), Some(2));
    }
    assert_eq!(interrupt(watch), Some(0));

    let (out, _, _) = ws.destroy("destroy");
    out.ok();
    let out = run(&moto, &["ps"]);
    assert_eq!(out.status.code(), Some(1), "the project is gone");
    eprintln!("e2e ps: {:.1} s", started.elapsed().as_secs_f64());
}
