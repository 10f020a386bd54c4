//! Services built from source, on scripted fakes: statuses, zero rebuilds, failures, Cancel.

use super::lifecycle::TOKEN;
use crate::cloud::{BuildPhase, BuildStatus, RolloutState};
use crate::provider::DefangProvider;
use crate::testing::*;
use pulumi_plugin::mask::MASKED;
use pulumi_plugin::rpc::DiffResponse;
use pulumi_plugin::rpc::diff_response::DiffChanges;
use pulumi_plugin::testing::{Deployed, Driver};
use pulumi_plugin::{PropertyMap, Value};
use std::sync::Arc;

/// A build context (Dockerfile and index.html) in a fresh folder, removed when dropped, also
/// when the test fails.
fn context_dir(tag: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("defang-build-test-{tag}-"))
        .tempdir()
        .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM nginx\nCOPY index.html /usr/share/nginx/html/\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("index.html"), "hello\n").unwrap();
    dir
}

fn inputs(dir: &std::path::Path) -> PropertyMap {
    let build = PropertyMap::from([
        (
            "context".to_string(),
            Value::from(dir.display().to_string()),
        ),
        (
            "args".to_string(),
            Value::Object(PropertyMap::from([(
                "TOKEN".to_string(),
                Value::from("s3cr3t").into_secret(),
            )])),
        ),
    ]);
    [
        ("project", Value::from("shop")),
        ("name", Value::from("web")),
        ("build", Value::Object(build)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn completed_ecs() -> Arc<FakeEcs> {
    let ecs = Arc::new(FakeEcs::default());
    ecs.script.lock().unwrap().push_back(service_state(
        "web",
        1,
        deployment("d-1", RolloutState::Completed, 1, 0, 0),
        &[],
    ));
    ecs
}

fn scripted_build(states: &[(BuildStatus, &str)]) -> Arc<FakeBuildCloud> {
    let cloud = Arc::new(FakeBuildCloud::default());
    cloud
        .build_script
        .lock()
        .unwrap()
        .extend(states.iter().map(|(s, p)| build_state(*s, p)));
    cloud
}

fn count(calls: &std::sync::Mutex<Vec<String>>, name: &str) -> usize {
    calls.lock().unwrap().iter().filter(|c| *c == name).count()
}

#[tokio::test(start_paused = true)]
async fn builds_then_deploys_pinned_by_digest_and_never_rebuilds_the_same_sources() {
    let context = context_dir("ok");
    let dir = context.path().to_path_buf();
    let builds = scripted_build(&[
        (BuildStatus::InProgress, "QUEUED"),
        (BuildStatus::InProgress, "PROVISIONING"),
        (BuildStatus::InProgress, "BUILD"),
        (BuildStatus::Succeeded, "COMPLETED"),
    ]);
    let ecs = completed_ecs();
    let stacks = Arc::new(FakeStacks::with_project("shop"));
    let driver = driver(env_with_builds(ecs.clone(), stacks.clone(), builds.clone()).cloud).await;

    let created = driver
        .create(TOKEN, "web", &inputs(&dir))
        .await
        .expect("create");
    // A figure for the notes: every AWS call of one built service's first deploy (polls
    // included; with a 4-poll build and an immediately complete rollout).
    let all: Vec<String> = [&stacks.calls, &builds.calls, &ecs.calls]
        .iter()
        .flat_map(|c| c.lock().unwrap().clone())
        .filter(|c| !c.starts_with("DescribeServices x"))
        .collect();
    println!(
        "AWS calls to build and deploy one service: {} {all:?}",
        all.len()
    );
    let out = &created.outputs;
    assert_eq!(out["status"], Value::from("SERVICE_DEPLOYMENT_COMPLETED"));
    let image = out["deployedImage"].as_str().unwrap();
    assert!(
        image.starts_with("123456789012.dkr.ecr.us-east-1.amazonaws.com/defang/shop/web@sha256:"),
        "{image}"
    );
    let hash = out["buildHash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    // A secret build arg feeds the hash: the hash is secret too (it could be brute-forced).
    assert!(out["buildHash"].is_secret(), "{:?}", out["buildHash"]);
    let started = builds.started.lock().unwrap().clone();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].image_tag, hash, "the tag is the build hash");
    assert_eq!(started[0].platform, "linux/amd64");
    assert!(started[0].source_key.starts_with("contexts/"));
    assert_eq!(count(&builds.calls, "PutObject"), 1);
    // The task runs exactly the built digest.
    let tds = ecs.task_definitions.lock().unwrap().clone();
    assert!(tds.values().any(|td| td.container.image == image));

    // Unchanged sources: Diff sees no change, and even a forced update (the Update alone,
    // which the `update` step would not send) starts no build.
    let diff = diff_of_sources(&driver, &created, &dir).await;
    assert_eq!(diff.changes, DiffChanges::DiffNone as i32, "{diff:?}");
    let again = driver
        .send_update(&created, &inputs(&dir), false)
        .await
        .expect("update");
    assert_eq!(
        builds.started.lock().unwrap().len(),
        1,
        "zero builds for the same sources"
    );
    assert_eq!(again.outputs["deployedImage"], out["deployedImage"]);

    // A source edit is a change, and rebuilds.
    std::fs::write(dir.join("index.html"), "bonjour\n").unwrap();
    let diff = diff_of_sources(&driver, &created, &dir).await;
    assert!(diff.detailed_diff.contains_key("build"), "{diff:?}");
}

/// The engine's Diff alone, of `deployed` against the same inputs (`dir`): whatever changed is
/// in the sources, read as they are now.
async fn diff_of_sources(
    driver: &Driver<DefangProvider>,
    deployed: &Deployed,
    dir: &std::path::Path,
) -> DiffResponse {
    driver.diff(deployed, &inputs(dir)).await.expect("diff")
}

#[tokio::test(start_paused = true)]
async fn a_failed_build_is_build_failed_with_the_reason_and_deploys_nothing() {
    let context = context_dir("fail");
    let dir = context.path().to_path_buf();
    let builds = Arc::new(FakeBuildCloud::default());
    let mut failed = build_state(BuildStatus::Failed, "COMPLETED");
    failed.phases = vec![BuildPhase {
        phase_type: "BUILD".into(),
        status: Some("FAILED".into()),
        messages: vec![
            "Error while executing command: docker buildx build. Reason: exit status 1".into(),
        ],
    }];
    builds
        .build_script
        .lock()
        .unwrap()
        .extend([build_state(BuildStatus::InProgress, "BUILD"), failed]);
    builds.log_lines.lock().unwrap().extend([
        "#5 RUN npm ci".to_string(),
        "#5 ERROR: process \"npm ci\" did not complete successfully".to_string(),
    ]);
    let ecs = completed_ecs();
    let driver = driver(
        env_with_builds(
            ecs.clone(),
            Arc::new(FakeStacks::with_project("shop")),
            builds.clone(),
        )
        .cloud,
    )
    .await;
    let err = driver
        .create(TOKEN, "web", &inputs(&dir))
        .await
        .unwrap_err();
    let state = partial_failure(&err);
    assert_eq!(state.id, "shop/web");
    assert_eq!(state.outputs["status"], Value::from("BUILD_FAILED"));
    assert!(
        !state.outputs.contains_key("buildHash"),
        "no hash: the next up rebuilds"
    );
    let reason = state.reasons.join("\n");
    assert!(
        reason.contains("BUILD FAILED: Error while executing"),
        "{reason}"
    );
    assert!(reason.contains("npm ci"), "{reason}");
    // Not even masked (the service masks what the provider lets through).
    assert!(
        !reason.contains("s3cr3t") && !reason.contains(MASKED),
        "build args never appear"
    );
    assert_eq!(count(&ecs.calls, "CreateService"), 0);
    assert_eq!(count(&ecs.calls, "RegisterTaskDefinition"), 0);
    // The next up sees a change and retries.
    let recorded = service_in_state("web", &state.id, inputs(&dir), state.outputs);
    let d = diff_of_sources(&driver, &recorded, &dir).await;
    assert!(d.detailed_diff.contains_key("build"));
}

#[tokio::test(start_paused = true)]
async fn cancel_stops_the_build() {
    let context = context_dir("cancel");
    let dir = context.path().to_path_buf();
    let builds = scripted_build(&[(BuildStatus::InProgress, "BUILD")]);
    let driver = driver(
        env_with_builds(
            completed_ecs(),
            Arc::new(FakeStacks::with_project("shop")),
            builds.clone(),
        )
        .cloud,
    )
    .await
    .with_timeout(std::time::Duration::from_secs(120));
    let err = driver
        .create(TOKEN, "web", &inputs(&dir))
        .await
        .unwrap_err();
    let state = partial_failure(&err);
    assert_eq!(state.outputs["status"], Value::from("BUILD_RUNNING"));
    assert!(state.reasons[0].contains("stopped"), "{:?}", state.reasons);
    assert_eq!(builds.stopped.lock().unwrap().as_slice(), ["build:1"]);
}
