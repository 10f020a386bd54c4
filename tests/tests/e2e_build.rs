//! End to end, services built from source (issue 4): the real `pulumi` CLI runs
//! `examples/yaml-build` (a Project and a service `app` built from `./app` for linux/arm64)
//! with the provider binary against a private moto server.
//!
//! moto's CodeBuild is emulated (scripts/moto/README.md, patch 6): a build completes at the
//! first BatchGetBuilds and "pushes" `<repo>:<tag>` with a digest derived from the repository,
//! the tag and the ETag of the uploaded context, so the same sources give the same digest and
//! changed sources a new one. A build fails on purpose with the build argument
//! `DEFANG_EMULATOR_BUILD_RESULT=FAILED`. Because a build completes at once, the engine sees
//! only the BUILD_* statuses shown before the first poll (BUILD_QUEUED) and the outcome
//! (UPDATE_QUEUED or BUILD_FAILED); the intermediate phases are covered by the unit tests of
//! the phase mapping and the scripted-fake lifecycle tests.
//!
//! Assertions are on the CLI's JSON (streamed preview events, `--json` and `--event-log`
//! events, `stack output`, `stack export`) and on what the emulator holds: CodeBuild builds
//! (ListBuildsForProject, BatchGetBuilds), ECR images, ECS services and task definitions,
//! CloudFormation stacks.
//!
//! Some checks are collected ([`Findings`]) rather than asserted on the spot, so that one
//! failing property does not hide the others; the test fails at the end with all of them.

use defang_tests::Moto;
use defang_tests::inventory;
use defang_tests::pulumi::{Events, UNKNOWN, Workspace, replace_once, urn_is};
use defang_tests::runtime;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Instant;

const EXAMPLE: &str = "yaml-build";
const CLUSTER: &str = "defang-hello";
const BUILD_PROJECT: &str = "defang-hello-build";
const REPOSITORY: &str = "defang/hello/app";
const FAMILY: &str = "defang-hello-S-app";
const DOMAIN: &str = "app--80.hello.alice.defang.app";
/// The emulator's scripted build outcome (a build argument; see scripts/moto/README.md).
const FAILING_ARGS: &str = "        args:\n          DEFANG_EMULATOR_BUILD_RESULT: FAILED\n";

/// The example's build context, `examples/yaml-build/app`.
fn example_app_dir() -> std::path::PathBuf {
    defang_tests::repo_root()
        .join("examples")
        .join(EXAMPLE)
        .join("app")
}

/// Checks that do not stop the test at once: every failure is reported at the end.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let what = what();
            eprintln!("[e2e] FAILED CHECK: {what}");
            self.0.push(what);
        }
    }

    fn assert_none(&self) {
        assert!(
            self.0.is_empty(),
            "{} check(s) failed:\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// The status lines the provider sent for `name` (Engine.Log; message, ephemeral).
fn status_lines<'a>(events: &'a Events, name: &str) -> Vec<(&'a str, bool)> {
    events
        .diagnostics()
        .into_iter()
        .filter(|d| urn_is(&d["urn"], name))
        .filter_map(|d| {
            let msg = d["message"].as_str()?;
            ["BUILD_", "UPDATE_QUEUED", "SERVICE_DEPLOYMENT_"]
                .iter()
                .any(|p| msg.starts_with(p))
                .then_some((msg, d["ephemeral"].as_bool().unwrap_or(false)))
        })
        .collect()
}

/// The error diagnostics at `name`.
fn errors_at(events: &Events, name: &str) -> Vec<String> {
    events
        .diagnostics()
        .into_iter()
        .filter(|d| d["severity"] == "error" && urn_is(&d["urn"], name))
        .filter_map(|d| d["message"].as_str().map(str::to_string))
        .collect()
}

/// Whether status lines starting with each of `prefixes` were shown, in that order.
fn shown_in_order(lines: &[(&str, bool)], prefixes: &[&str]) -> bool {
    let mut rest = lines.iter();
    prefixes
        .iter()
        .all(|p| rest.by_ref().any(|(m, _)| m.starts_with(p)))
}

/// The checkpoint state of the resource `name` (exactly one).
fn exported(export: &Value, name: &str) -> Value {
    let found = Workspace::exported_resources(export, name);
    assert_eq!(found.len(), 1, "resources named {name}: {found:#?}");
    found.into_iter().next().unwrap()
}

fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_build_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The emulator, through the AWS SDK.
struct Aws {
    rt: tokio::runtime::Runtime,
    ecs: aws_sdk_ecs::Client,
    codebuild: aws_sdk_codebuild::Client,
    ecr: aws_sdk_ecr::Client,
    cfn: aws_sdk_cloudformation::Client,
}

/// One image in a repository: its tags and digest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Image {
    tags: Vec<String>,
    digest: String,
}

impl Aws {
    fn new(moto: &Moto) -> Aws {
        let rt = runtime();
        let config = rt.block_on(moto.sdk_config());
        Aws {
            ecs: aws_sdk_ecs::Client::new(&config),
            codebuild: aws_sdk_codebuild::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
            cfn: aws_sdk_cloudformation::Client::new(&config),
            rt,
        }
    }

    /// The ids of every build of the CodeBuild project `project` (none if it does not exist).
    fn build_ids(&self, project: &str) -> BTreeSet<String> {
        self.rt.block_on(async {
            let mut ids = BTreeSet::new();
            let mut token = None;
            loop {
                let out = match self
                    .codebuild
                    .list_builds_for_project()
                    .project_name(project)
                    .set_next_token(token)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e) if format!("{e:?}").contains("ResourceNotFoundException") => {
                        return ids;
                    }
                    Err(e) => panic!("list_builds_for_project {project}: {e:?}"),
                };
                ids.extend(out.ids().iter().cloned());
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    return ids;
                }
            }
        })
    }

    /// The builds with these ids (BatchGetBuilds), in the order given.
    fn builds(&self, ids: &[String]) -> Vec<aws_sdk_codebuild::types::Build> {
        if ids.is_empty() {
            return Vec::new();
        }
        let out = self
            .rt
            .block_on(
                self.codebuild
                    .batch_get_builds()
                    .set_ids(Some(ids.to_vec()))
                    .send(),
            )
            .expect("batch_get_builds");
        ids.iter()
            .map(|id| {
                out.builds()
                    .iter()
                    .find(|b| b.id() == Some(id.as_str()))
                    .cloned()
                    .unwrap_or_else(|| panic!("BatchGetBuilds does not know {id}"))
            })
            .collect()
    }

    /// The builds of `project` that are not in `before`.
    fn new_builds(
        &self,
        project: &str,
        before: &BTreeSet<String>,
    ) -> Vec<aws_sdk_codebuild::types::Build> {
        let new: Vec<String> = self
            .build_ids(project)
            .difference(before)
            .cloned()
            .collect();
        self.builds(&new)
    }

    /// The URI of the ECR repository `name`, if it exists.
    fn repository_uri(&self, name: &str) -> Option<String> {
        match self.rt.block_on(
            self.ecr
                .describe_repositories()
                .repository_names(name)
                .send(),
        ) {
            Ok(out) => out
                .repositories()
                .first()
                .and_then(|r| r.repository_uri())
                .map(str::to_string),
            Err(e) if format!("{e:?}").contains("RepositoryNotFoundException") => None,
            Err(e) => panic!("describe_repositories {name}: {e:?}"),
        }
    }

    /// The images in the ECR repository `name`.
    fn images(&self, name: &str) -> Vec<Image> {
        let out = self
            .rt
            .block_on(self.ecr.describe_images().repository_name(name).send())
            .unwrap_or_else(|e| panic!("describe_images {name}: {e:?}"));
        out.image_details()
            .iter()
            .map(|i| Image {
                tags: i.image_tags().to_vec(),
                digest: i.image_digest().unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// The ACTIVE ECS service `name` in `cluster`.
    fn service(&self, cluster: &str, name: &str) -> Option<aws_sdk_ecs::types::Service> {
        self.rt
            .block_on(inventory::active_service(&self.ecs, cluster, name))
    }

    fn task_definition(&self, arn: &str) -> aws_sdk_ecs::types::TaskDefinition {
        self.rt.block_on(inventory::task_definition(&self.ecs, arn))
    }

    /// The task definition the service `name` runs, and its one container's image.
    fn running(&self, cluster: &str, name: &str) -> (String, String) {
        let svc = self
            .service(cluster, name)
            .unwrap_or_else(|| panic!("no ACTIVE ECS service {name} in {cluster}"));
        let arn = svc.task_definition().expect("taskDefinition").to_string();
        let td = self.task_definition(&arn);
        let image = td.container_definitions()[0]
            .image()
            .unwrap_or_default()
            .to_string();
        (arn, image)
    }

    /// The ACTIVE task definition ARNs of exactly `family`.
    fn active_revisions(&self, family: &str) -> Vec<String> {
        self.rt
            .block_on(inventory::active_revisions(&self.ecs, family))
    }

    /// The names of the stacks not deleted.
    fn live_stacks(&self) -> Vec<String> {
        self.rt.block_on(inventory::live_stacks(&self.cfn))
    }

    /// The ECS clusters that exist.
    fn clusters(&self) -> Vec<String> {
        self.rt
            .block_on(self.ecs.list_clusters().send())
            .expect("list_clusters")
            .cluster_arns()
            .to_vec()
    }
}

/// An environment variable of a build, as CodeBuild reports the build's overrides.
fn build_env(build: &aws_sdk_codebuild::types::Build, name: &str) -> Option<String> {
    build
        .environment()?
        .environment_variables()
        .iter()
        .find(|v| v.name() == name)
        .map(|v| v.value().to_string())
}

fn build_status(build: &aws_sdk_codebuild::types::Build) -> String {
    build
        .build_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// A workspace running `examples/yaml-build` (program and `app/`), for user `alice`.
fn example_workspace(moto: &Moto) -> Workspace {
    let ws = Workspace::for_example(EXAMPLE, &moto.endpoint());
    // The runner copies the example's files; the build context is a folder.
    defang_tests::copy_tree(&example_app_dir(), &ws.project_dir.join("app"));
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    ws
}

#[test]
fn example_builds_from_source_end_to_end() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let aws = Aws::new(&moto);
    let ws = example_workspace(&moto);
    let mut findings = Findings::default();

    // --- preview: the build service is planned, its domain known, its image not ----------
    let preview = ws.preview_ok("preview (create)");
    for name in ["hello", "app"] {
        assert_eq!(preview.ops_for(name), ["create"], "{name}");
    }
    let app = preview.planned_outputs("app");
    assert_eq!(app["domain"], DOMAIN, "{app:#}");
    assert_eq!(
        app["endpoints"],
        json!([format!("https://{DOMAIN}")]),
        "{app:#}"
    );
    assert_eq!(app["status"], UNKNOWN, "{app:#}");
    assert_eq!(app["platform"], "linux/arm64", "{app:#}");
    // The image is what the build will make: not known before it runs.
    findings.check(app["deployedImage"] == UNKNOWN, || {
        format!(
            "preview of a service built from source: deployedImage should be unknown, got {}",
            app["deployedImage"]
        )
    });
    let stack = preview.planned_outputs("yaml-build-dev");
    assert_eq!(stack["domain"], DOMAIN, "{stack:#}");
    assert_eq!(
        aws.build_ids(BUILD_PROJECT),
        BTreeSet::new(),
        "a preview built"
    );

    // --- up: one build, the image pinned by digest, rolled out ---------------------------
    let (out, events, event_log) = ws.up("up (create: build and deploy)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.get("create"), Some(&3), "{changes:?}"); // the stack, hello, app
    let outputs = ws.stack_output(false);
    assert_eq!(
        outputs["status"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(outputs["domain"], DOMAIN);
    let hash1 = outputs["buildHash"]
        .as_str()
        .expect("buildHash")
        .to_string();
    assert!(is_build_hash(&hash1), "{outputs:#}");
    let image1 = outputs["deployedImage"]
        .as_str()
        .expect("deployedImage")
        .to_string();
    let repo_uri = aws
        .repository_uri(REPOSITORY)
        .expect("the service's ECR repository");
    assert!(
        repo_uri.ends_with(&format!(".amazonaws.com/{REPOSITORY}")),
        "{repo_uri}"
    );
    let (repo, digest1) = image1
        .split_once('@')
        .unwrap_or_else(|| panic!("not pinned by digest: {image1}"));
    assert_eq!(repo, repo_uri, "{image1}");
    assert!(is_sha256_digest(digest1), "{image1}");
    // Exactly one build, for the service's platform, that pushed the build hash as the tag.
    let builds = aws.new_builds(BUILD_PROJECT, &BTreeSet::new());
    assert_eq!(builds.len(), 1, "{builds:#?}");
    let build1 = &builds[0];
    assert_eq!(build_status(build1), "SUCCEEDED", "{build1:#?}");
    assert_eq!(
        build_env(build1, "IMAGE_TAG").as_deref(),
        Some(hash1.as_str())
    );
    assert_eq!(
        build_env(build1, "IMAGE_REPO_URI").as_deref(),
        Some(repo_uri.as_str())
    );
    assert_eq!(
        build_env(build1, "PLATFORM").as_deref(),
        Some("linux/arm64")
    );
    assert_eq!(
        build1
            .environment()
            .map(|e| e.r#type().as_str().to_string()),
        Some("ARM_CONTAINER".to_string()),
        "an arm64 image is built on an arm64 build host: {build1:#?}"
    );
    // The repository holds that one image, tagged with the build hash.
    let images = aws.images(REPOSITORY);
    assert_eq!(
        images,
        [Image {
            tags: vec![hash1.clone()],
            digest: digest1.to_string()
        }],
        "{images:#?}"
    );
    // ECS runs exactly that digest, on arm64.
    let (td1, running) = aws.running(CLUSTER, "app");
    assert_eq!(running, image1);
    let td = aws.task_definition(&td1);
    assert_eq!(td.family(), Some(FAMILY));
    assert_eq!(
        td.runtime_platform()
            .and_then(|p| p.cpu_architecture())
            .map(|a| a.as_str()),
        Some("ARM64"),
        "{td:#?}"
    );
    // The BUILD_* statuses, then the rollout's, reached the engine as ephemeral status
    // messages, in that order.
    let lines = status_lines(&event_log, "app");
    assert!(lines.iter().all(|(_, eph)| *eph), "{lines:#?}");
    assert!(
        shown_in_order(
            &lines,
            &[
                "BUILD_QUEUED",
                "UPDATE_QUEUED",
                "SERVICE_DEPLOYMENT_COMPLETED"
            ]
        ),
        "status lines of app: {lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|(m, _)| m.starts_with("BUILD_QUEUED (uploading context")),
        "{lines:#?}"
    );
    assert_eq!(status_lines(&events, "app"), lines);

    // --- a second up, nothing changed: no update and zero builds ---------------------------
    let before = aws.build_ids(BUILD_PROJECT);
    let (out, events, _) = ws.up("up (no change)");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    assert_eq!(aws.new_builds(BUILD_PROJECT, &before).len(), 0);
    assert_eq!(aws.images(REPOSITORY).len(), 1);
    assert_eq!(aws.running(CLUSTER, "app").0, td1);

    // --- refresh: the built image is what runs, as `deployedImage`; no drift, no `image` ----
    // (Refresh once added the running `repo@sha256:…` as an `image` input beside `build`, and
    // failed decoding its own result.)
    let (out, events, _) = ws.refresh("refresh");
    out.ok();
    let changes = events.changes();
    assert_eq!(changes.keys().collect::<Vec<_>>(), ["same"], "{changes:?}");
    let app = exported(&ws.stack_export(), "app");
    assert!(app["inputs"].get("image").is_none(), "{:#}", app["inputs"]);
    assert!(app["inputs"]["build"].is_object(), "{:#}", app["inputs"]);
    assert_eq!(
        app["outputs"]["deployedImage"],
        aws.running(CLUSTER, "app").1
    );
    let (out, events, _) = ws.up("up (after refresh)");
    out.ok();
    assert_eq!(events.changes().keys().collect::<Vec<_>>(), ["same"]);

    // --- a file that .dockerignore excludes: not part of the build, so no change -----------
    let notes = ws.project_dir.join("app/NOTES.md");
    std::fs::write(&notes, "edited: never sent to the build\n").unwrap();
    let preview = ws.preview_ok("preview (edit an ignored file)");
    assert_eq!(
        preview.ops_for("app"),
        ["same"],
        "a file excluded by .dockerignore changed the build:\n{:#}",
        preview.step("app")
    );

    // --- a source file edit: an update of `build`, one build, a new digest rolled out ----
    let index = ws.project_dir.join("app/index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, html.replace("Hello from", "Hello again from")).unwrap();
    let preview = ws.preview_ok("preview (edit a source file)");
    assert_eq!(preview.ops_for("app"), ["update"], "{}", preview.0.text());
    assert_eq!(preview.ops_for("hello"), ["same"]);
    let step = preview.step("app");
    assert_eq!(step["diffs"], json!(["build"]), "{step:#}");
    assert_eq!(
        step["detailedDiff"]["build"]["diffKind"], "update",
        "{step:#}"
    );
    // The new image is not known until it is built.
    let planned = preview.planned_outputs("app");
    findings.check(planned["deployedImage"] == UNKNOWN, || {
        format!(
            "preview of a rebuild: deployedImage should be unknown, got {}",
            planned["deployedImage"]
        )
    });
    let before = aws.build_ids(BUILD_PROJECT);
    let (out, events, event_log) = ws.up("up (edit a source file)");
    out.ok();
    assert_eq!(
        events.changes().get("update"),
        Some(&1),
        "{:?}",
        events.changes()
    );
    let builds = aws.new_builds(BUILD_PROJECT, &before);
    assert_eq!(builds.len(), 1, "{builds:#?}");
    assert_eq!(build_status(&builds[0]), "SUCCEEDED");
    let outputs = ws.stack_output(false);
    assert_eq!(outputs["status"], "SERVICE_DEPLOYMENT_COMPLETED");
    let hash2 = outputs["buildHash"].as_str().unwrap().to_string();
    let image2 = outputs["deployedImage"].as_str().unwrap().to_string();
    assert_ne!(hash2, hash1);
    assert_eq!(
        build_env(&builds[0], "IMAGE_TAG").as_deref(),
        Some(hash2.as_str())
    );
    let digest2 = image2
        .strip_prefix(&format!("{repo_uri}@"))
        .unwrap_or_else(|| panic!("{image2}"))
        .to_string();
    assert!(is_sha256_digest(&digest2) && digest2 != digest1, "{image2}");
    let images = aws.images(REPOSITORY);
    assert_eq!(images.len(), 2, "{images:#?}");
    assert!(
        images.contains(&Image {
            tags: vec![hash2.clone()],
            digest: digest2.clone()
        }),
        "{images:#?}"
    );
    // A new task definition revision, running the new digest.
    let (td2, running) = aws.running(CLUSTER, "app");
    assert_ne!(td2, td1);
    assert!(
        td1.ends_with(&format!("{FAMILY}:1")) && td2.ends_with(&format!("{FAMILY}:2")),
        "{td1} → {td2}"
    );
    assert_eq!(running, image2);
    let lines = status_lines(&event_log, "app");
    assert!(
        shown_in_order(
            &lines,
            &[
                "BUILD_QUEUED",
                "UPDATE_QUEUED",
                "SERVICE_DEPLOYMENT_COMPLETED"
            ]
        ),
        "{lines:#?}"
    );

    // --- a failing build: the up fails with the reason; BUILD_FAILED is kept in the state --
    ws.edit_program(|p| {
        replace_once(
            p,
            "        context: ./app # relative to this file\n",
            &format!("        context: ./app # relative to this file\n{FAILING_ARGS}"),
        )
    });
    let preview = ws.preview_ok("preview (failing build arg)");
    assert_eq!(preview.ops_for("app"), ["update"]);
    let before = aws.build_ids(BUILD_PROJECT);
    let (out, events, event_log) = ws.up("up (failing build)");
    assert!(!out.success(), "the up succeeded:\n{}", out.context());
    let builds = aws.new_builds(BUILD_PROJECT, &before);
    assert_eq!(builds.len(), 1, "{builds:#?}");
    let failed_build = builds[0].id().unwrap().to_string();
    assert_eq!(build_status(&builds[0]), "FAILED");
    let errors = errors_at(&event_log, "app");
    assert!(
        errors.iter().any(|m| m.contains(&failed_build)
            && m.contains("failed")
            && m.contains("BUILD")
            && m.contains("DEFANG_EMULATOR_BUILD_RESULT=FAILED")
            && m.contains("last lines of the build log")),
        "{errors:#?}\n{}",
        out.context()
    );
    assert_eq!(errors_at(&events, "app"), errors);
    let lines = status_lines(&event_log, "app");
    assert!(
        lines
            .iter()
            .any(|(m, eph)| *eph && m.starts_with("BUILD_FAILED")),
        "{lines:#?}"
    );
    let export = ws.stack_export();
    let app = exported(&export, "app");
    assert_eq!(app["outputs"]["status"], "BUILD_FAILED", "{app:#}");
    assert!(
        app["initErrors"].as_array().is_some_and(|e| e
            .iter()
            .any(|m| m.as_str().unwrap_or_default().contains(&failed_build))),
        "{app:#}"
    );
    // What runs is still the last good image, and the state says so.
    assert_eq!(app["outputs"]["deployedImage"], image2.as_str(), "{app:#}");
    assert_eq!(app["outputs"]["buildHash"], hash2.as_str(), "{app:#}");
    assert_eq!(aws.running(CLUSTER, "app"), (td2.clone(), image2.clone()));
    assert_eq!(aws.images(REPOSITORY).len(), 2, "a failed build pushed");

    // --- the argument removed: the up succeeds. The sources are those of the last good
    // image, whose tag exists: it is deployed again without a build. ------------------------
    ws.edit_program(|p| replace_once(p, FAILING_ARGS, ""));
    let preview = ws.preview_ok("preview (failing build arg removed)");
    assert_eq!(
        preview.ops_for("app"),
        ["update"],
        "a service in BUILD_FAILED must be updated by the next up"
    );
    let before = aws.build_ids(BUILD_PROJECT);
    let (out, _, _) = ws.up("up (failing build arg removed)");
    out.ok();
    let outputs = ws.stack_output(false);
    assert_eq!(
        outputs["status"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    assert_eq!(outputs["buildHash"], hash2.as_str());
    assert_eq!(outputs["deployedImage"], image2.as_str());
    assert_eq!(aws.new_builds(BUILD_PROJECT, &before).len(), 0);
    assert_eq!(aws.running(CLUSTER, "app"), (td2.clone(), image2.clone()));
    let (out, events, _) = ws.up("up (no change after recovery)");
    out.ok();
    assert_eq!(
        events.changes().keys().collect::<Vec<_>>(),
        ["same"],
        "{:?}",
        events.changes()
    );

    // --- destroy: nothing left behind --------------------------------------------------------
    let (out, events, event_log) = ws.destroy("destroy");
    findings.check(out.success(), || {
        let errors: Vec<String> = event_log
            .diagnostics()
            .into_iter()
            .filter(|d| d["severity"] == "error")
            .filter_map(|d| {
                Some(format!(
                    "{}: {}",
                    d["urn"].as_str().unwrap_or("(stack)").rsplit("::").next()?,
                    d["message"].as_str()?.trim_end()
                ))
            })
            .collect();
        format!("destroy failed ({}); errors: {errors:#?}", out.status)
    });
    findings.check(events.changes().get("delete") == Some(&3), || {
        format!("destroy deleted {:?}, expected 3", events.changes())
    });
    let stacks = aws.live_stacks();
    findings.check(stacks.is_empty(), || {
        format!("stacks left after destroy: {stacks:?}")
    });
    let clusters = aws.clusters();
    findings.check(clusters.is_empty(), || {
        format!("clusters left after destroy: {clusters:?}")
    });
    findings.check(aws.service(CLUSTER, "app").is_none(), || {
        "ECS service app left after destroy".into()
    });
    findings.check(aws.repository_uri(REPOSITORY).is_none(), || {
        format!("ECR repository {REPOSITORY} left after destroy")
    });
    let revisions = aws.active_revisions(FAMILY);
    findings.check(revisions.is_empty(), || {
        format!("ACTIVE revisions left after destroy: {revisions:?}")
    });
    let export = ws.stack_export();
    let left: Vec<String> = export["deployment"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["urn"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    findings.check(left.is_empty(), || {
        format!("state after destroy: {left:#?}")
    });

    ws.print_timings();
    eprintln!(
        "[e2e] example_builds_from_source_end_to_end: {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
    findings.assert_none();
}

/// A service whose first build fails is kept in the state with BUILD_FAILED (it has no ECS
/// service yet); the next `up`, with nothing changed, builds again (the issue: "a failed build
/// is kept in state with status BUILD_FAILED, so the next `up` retries it"; a build can fail
/// for reasons that go away, such as a registry outage). Then, with the failing argument
/// removed, the service is built and created.
///
/// CodeBuild answers a StartBuild whose idempotency token it has seen with the earlier build
/// (AWS for 5 minutes, the emulator always), so a retry must not reuse the failed attempt's
/// token: a token made of the URN and the build hash alone gives the failed build back.
#[test]
fn failed_first_build_is_retried_by_the_next_up() {
    let started = Instant::now();
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let aws = Aws::new(&moto);
    let mut findings = Findings::default();
    let program = format!(
        r#"name: e2e-build-retry
runtime: yaml
plugins:
  providers:
    - name: defang
      path: ../../target/debug
resources:
  retry:
    type: defang:index:Project
    properties:
      name: retry
  worker:
    type: defang:index:Service
    properties:
      project: ${{retry.name}}
      build:
        context: ./app
{FAILING_ARGS}      ports:
        - target: 80
          mode: host
outputs:
  status: ${{worker.status}}
  deployedImage: ${{worker.deployedImage}}
"#
    );
    let ws = Workspace::for_program("build-retry", &program, &moto.endpoint());
    defang_tests::copy_tree(&example_app_dir(), &ws.project_dir.join("app"));
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let build_project = "defang-retry-build";

    // The first build fails: the up fails, the service is in the state with BUILD_FAILED.
    let (out, _, event_log) = ws.up("up (first build fails)");
    assert!(!out.success(), "the up succeeded:\n{}", out.context());
    let first = aws.build_ids(build_project);
    assert_eq!(first.len(), 1, "{first:?}");
    let errors = errors_at(&event_log, "worker");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("DEFANG_EMULATOR_BUILD_RESULT=FAILED")),
        "{errors:#?}"
    );
    let export = ws.stack_export();
    let worker = exported(&export, "worker");
    assert_eq!(worker["id"], "retry/worker", "{worker:#}");
    assert_eq!(worker["outputs"]["status"], "BUILD_FAILED", "{worker:#}");
    assert!(
        worker["outputs"].get("serviceArn").is_none(),
        "nothing was deployed: {worker:#}"
    );
    assert!(aws.service("defang-retry", "worker").is_none());

    // The next up, nothing changed: planned as an update, and it builds again.
    let preview = ws.preview_ok("preview (retry)");
    assert_eq!(
        preview.ops_for("worker"),
        ["update"],
        "{}",
        preview.0.text()
    );
    let (out, _, event_log) = ws.up("up (retry: fails again)");
    assert!(!out.success(), "the up succeeded:\n{}", out.context());
    let retried = aws.new_builds(build_project, &first);
    let first_id = first.iter().next().unwrap().clone();
    findings.check(retried.len() == 1, || {
        let errors = errors_at(&event_log, "worker");
        format!(
            "the up after a failed build started {} new build(s), expected 1 (a retry); {}: \
             {errors:?}",
            retried.len(),
            if errors.iter().any(|e| e.contains(&first_id)) {
                format!("it reported the first build's failure ({first_id}) again")
            } else {
                "its errors".to_string()
            },
        )
    });

    // Without the failing argument: one build, and the service is created with its image.
    ws.edit_program(|p| replace_once(p, FAILING_ARGS, ""));
    let before = aws.build_ids(build_project);
    let (out, _, _) = ws.up("up (argument removed)");
    out.ok();
    let builds = aws.new_builds(build_project, &before);
    assert_eq!(builds.len(), 1, "{builds:#?}");
    assert_eq!(build_status(&builds[0]), "SUCCEEDED");
    let outputs = ws.stack_output(false);
    assert_eq!(
        outputs["status"], "SERVICE_DEPLOYMENT_COMPLETED",
        "{outputs:#}"
    );
    let image = outputs["deployedImage"].as_str().expect("deployedImage");
    assert!(
        image.contains("/defang/retry/worker@sha256:"),
        "{outputs:#}"
    );
    assert_eq!(aws.running("defang-retry", "worker").1, image);

    ws.print_timings();
    eprintln!(
        "[e2e] failed_first_build_is_retried_by_the_next_up: {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
    findings.assert_none();
}
