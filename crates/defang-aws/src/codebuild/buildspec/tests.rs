//! The buildspec's structure, checked as text (there is no YAML parser among our
//! dependencies), and its two scripts run by bash against stub `docker` and `aws` commands,
//! which is what proves the quoting.

use super::BUILDSPEC;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The command blocks (`- |` literal scalars) of a phase, dedented.
fn blocks(phase: &str) -> Vec<String> {
    let lines: Vec<&str> = BUILDSPEC.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == format!("  {phase}:"))
        .unwrap_or_else(|| panic!("no phase {phase}"));
    let mut blocks = Vec::new();
    let mut i = start + 1;
    while i < lines.len() && (lines[i].is_empty() || lines[i].starts_with("    ")) {
        if lines[i].trim() == "- |" {
            let dash_indent = indent(lines[i]);
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && (lines[i].is_empty() || indent(lines[i]) > dash_indent) {
                body.push(lines[i]);
                i += 1;
            }
            let strip = body
                .iter()
                .filter(|l| !l.is_empty())
                .map(|l| indent(l))
                .min()
                .unwrap();
            blocks.push(
                body.iter()
                    .map(|l| l.get(strip..).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        } else {
            i += 1;
        }
    }
    blocks
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[test]
fn structure() {
    assert!(
        !BUILDSPEC.contains('\t'),
        "YAML forbids tabs in indentation"
    );
    let top: Vec<&str> = BUILDSPEC
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .collect();
    assert_eq!(top, ["version: 0.2", "env:", "phases:"]);
    assert!(BUILDSPEC.contains("\nenv:\n  shell: bash\n"));
    for phase in ["pre_build", "build"] {
        let section = BUILDSPEC.split(&format!("\n  {phase}:\n")).nth(1).unwrap();
        assert!(
            section.starts_with("    on-failure: ABORT\n    commands:\n      - |\n"),
            "{phase}"
        );
        assert_eq!(blocks(phase).len(), 1, "{phase}");
    }
    assert!(!BUILDSPEC.contains("set -x"));
    for block in blocks("pre_build").iter().chain(&blocks("build")) {
        assert!(block.starts_with("(\nset -euo pipefail\n"), "{block}");
        assert!(block.trim_end().ends_with(')'), "{block}");
    }
}

#[test]
fn key_commands() {
    let pre_build = &blocks("pre_build")[0];
    for part in [
        r#"aws s3 cp --only-show-errors "$CONTEXT_S3_URI" - | tar -xz --no-same-owner -C "$CODEBUILD_SRC_DIR""#,
        r#"aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry""#,
    ] {
        assert!(pre_build.contains(part), "missing {part}");
    }
    // The context comes from the environment, never from a CodeBuild source.
    assert!(!BUILDSPEC.contains("gzip -t"));
    let build = &blocks("build")[0];
    for part in [
        r#"docker buildx build --platform "$PLATFORM" -f "$DOCKERFILE""#,
        r#"-t "$IMAGE_REPO_URI:$IMAGE_TAG" --provenance=false --push ."#,
        r#"target_args=(--target "$BUILD_TARGET")"#,
        r#"build_args+=(--build-arg "${!var}")"#,
    ] {
        assert!(build.contains(part), "missing {part}");
    }
}

/// A scratch directory with stub `docker` and `aws` that record their arguments.
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Option<Self> {
        if Command::new("bash").arg("-c").arg("true").status().is_err() {
            eprintln!("skipped: no bash");
            return None;
        }
        let root =
            std::env::temp_dir().join(format!("defang-buildspec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["bin", "log", "src"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        // Each call writes cwd and argv, NUL-separated; `docker login` also keeps its stdin.
        let docker = r#"#!/usr/bin/env bash
n=$(ls "$STUB_LOG" | wc -l)
printf '%s\0' "$PWD" "$@" > "$STUB_LOG/$n.docker"
if [ "$1" = login ]; then cat > "$STUB_LOG/login.stdin"; fi
if [ "$1" = buildx ] && [ "$2" = build ]; then exit "${STUB_BUILD_EXIT:-0}"; fi
exit 0
"#;
        // `aws s3 cp <uri> -` streams the file STUB_CONTEXT, or fails like the CLI on a
        // missing key when that is unset.
        let aws = r#"#!/usr/bin/env bash
n=$(ls "$STUB_LOG" | wc -l)
printf '%s\0' "$PWD" "$@" > "$STUB_LOG/$n.aws"
if [ "$1" = s3 ] && [ "$2" = cp ]; then
  if [ -n "${STUB_CONTEXT:-}" ]; then exec cat "$STUB_CONTEXT"; fi
  echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key does not exist" >&2
  exit 1
fi
echo ecr-password
"#;
        for (name, script) in [("docker", docker), ("aws", aws)] {
            let path = root.join("bin").join(name);
            std::fs::write(&path, script).unwrap();
            Command::new("chmod").arg("+x").arg(&path).status().unwrap();
        }
        Some(Self { root })
    }

    fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    /// A gzipped tar of these files, made by the system's tar (None, and the test skips,
    /// without one): what `aws s3 cp` streams.
    fn context(&self, files: &[(&str, &str)]) -> Option<PathBuf> {
        let dir = self.root.join("context");
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let archive = self.root.join("context.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&dir)
            .arg(".")
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipped: no tar");
            return None;
        }
        Some(archive)
    }

    fn run(&self, script: &str, env: &[(&str, &str)]) -> Output {
        self.run_in(&self.src(), script, env)
    }

    fn run_in(&self, cwd: &Path, script: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            self.root.join("bin").display()
        );
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("STUB_LOG", self.root.join("log"))
            .env("CODEBUILD_SRC_DIR", self.src())
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// (command, cwd, argv) of every stub call, in order.
    fn calls(&self) -> Vec<(String, String, Vec<String>)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.root.join("log"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "docker" || e == "aws"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .unwrap()
                .to_string_lossy()
                .parse::<u32>()
                .unwrap()
        });
        files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                let mut words: Vec<String> = text.split('\0').map(str::to_owned).collect();
                words.pop(); // after the last NUL
                let cwd = words.remove(0);
                (
                    p.extension().unwrap().to_string_lossy().into_owned(),
                    cwd,
                    words,
                )
            })
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const REPO: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/defang/shop/web";
const SECRET: &str = "p@ss word 'with' \"quotes\" $HOME `id` $(id)\nsecond line";

const CONTEXT: &str = "s3://defang-shop-contexts/contexts/ab12.tar.gz";

fn build_env<'a>(args: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("CONTEXT_S3_URI", CONTEXT),
        ("IMAGE_REPO_URI", REPO),
        ("IMAGE_TAG", "b-0123"),
        ("DOCKERFILE", "docker/Dockerfile"),
        ("PLATFORM", "linux/arm64"),
        ("AWS_REGION", "us-east-1"),
    ];
    env.extend_from_slice(args);
    env
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn pre_build_unpacks_the_context_then_logs_in_to_the_registry_and_its_region() {
    let Some(sandbox) = Sandbox::new("login") else {
        return;
    };
    let Some(context) = sandbox.context(&[("docker/Dockerfile", "FROM scratch\n")]) else {
        return;
    };
    let context = context.to_str().unwrap().to_owned();
    let output = sandbox.run(
        &blocks("pre_build")[0],
        &build_env(&[("STUB_CONTEXT", &context)]),
    );
    assert_ok(&output);
    assert_eq!(
        std::fs::read_to_string(sandbox.src().join("docker/Dockerfile")).unwrap(),
        "FROM scratch\n"
    );
    let calls = sandbox.calls();
    let mut argv: Vec<_> = calls
        .iter()
        .map(|(cmd, _, argv)| (cmd.as_str(), argv.join(" ")))
        .collect();
    // The two sides of the `aws … | docker login` pipe run at once, in either order.
    argv[2..].sort();
    assert_eq!(
        argv,
        [
            ("aws", format!("s3 cp --only-show-errors {CONTEXT} -")),
            ("docker", "buildx version".to_owned()),
            ("aws", "ecr get-login-password --region us-west-2".to_owned()),
            (
                "docker",
                "login --username AWS --password-stdin 123456789012.dkr.ecr.us-west-2.amazonaws.com".to_owned()
            ),
        ]
    );
    let stdin = std::fs::read_to_string(sandbox.root.join("log/login.stdin")).unwrap();
    assert_eq!(stdin, "ecr-password\n");
}

#[test]
fn a_missing_or_broken_context_fails_pre_build_before_docker_runs() {
    let Some(sandbox) = Sandbox::new("nocontext") else {
        return;
    };
    // The object is not there: `aws s3 cp` fails (the stub, like the CLI, with a 404).
    let output = sandbox.run(&blocks("pre_build")[0], &build_env(&[]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "Could not download and unpack the build context {CONTEXT}"
        )),
        "{stderr}"
    );
    assert!(sandbox.calls().iter().all(|(cmd, _, _)| cmd == "aws"));

    // There, but not a gzipped tar.
    let junk = sandbox.root.join("junk");
    std::fs::write(&junk, "not an archive").unwrap();
    let junk = junk.to_str().unwrap().to_owned();
    let output = sandbox.run(
        &blocks("pre_build")[0],
        &build_env(&[("STUB_CONTEXT", &junk)]),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Could not download and unpack"));
    assert!(sandbox.calls().iter().all(|(cmd, _, _)| cmd == "aws"));

    // Not said where.
    let env: Vec<_> = build_env(&[])
        .into_iter()
        .filter(|(name, _)| *name != "CONTEXT_S3_URI")
        .collect();
    let output = sandbox.run(&blocks("pre_build")[0], &env);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("CONTEXT_S3_URI is not set"));
}

#[test]
fn build_passes_arguments_verbatim_and_never_prints_them() {
    let Some(sandbox) = Sandbox::new("args") else {
        return;
    };
    std::fs::create_dir_all(sandbox.src().join("docker")).unwrap();
    std::fs::write(sandbox.src().join("docker/Dockerfile"), "FROM scratch\n").unwrap();
    let arg1 = format!("TOKEN={SECRET}");
    let env = build_env(&[
        ("BUILD_TARGET", "runtime stage"),
        ("BUILD_ARG_COUNT", "2"),
        ("BUILD_ARG_0", "NODE_ENV=production"),
        ("BUILD_ARG_1", &arg1),
    ]);
    let output = sandbox.run(&blocks("build")[0], &env);
    assert_ok(&output);
    let calls = sandbox.calls();
    assert_eq!(calls.len(), 1);
    let (_, cwd, argv) = &calls[0];
    assert_eq!(Path::new(cwd), sandbox.src());
    let expected: Vec<String> = [
        "buildx",
        "build",
        "--platform",
        "linux/arm64",
        "-f",
        "docker/Dockerfile",
        "--target",
        "runtime stage",
        "--build-arg",
        "NODE_ENV=production",
        "--build-arg",
        &arg1,
        "-t",
        &format!("{REPO}:b-0123"),
        "--provenance=false",
        "--push",
        ".",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(argv, &expected);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !printed.contains("p@ss") && !printed.contains("production"),
        "{printed}"
    );
    assert!(printed.contains("(2 build args)"), "{printed}");
}

#[test]
fn no_arguments_and_no_target_add_no_flags() {
    let Some(sandbox) = Sandbox::new("plain") else {
        return;
    };
    std::fs::create_dir_all(sandbox.src().join("docker")).unwrap();
    std::fs::write(sandbox.src().join("docker/Dockerfile"), "FROM scratch\n").unwrap();
    let output = sandbox.run(&blocks("build")[0], &build_env(&[("BUILD_ARG_COUNT", "0")]));
    assert_ok(&output);
    let argv = &sandbox.calls()[0].2;
    assert!(
        !argv.iter().any(|a| a == "--target" || a == "--build-arg"),
        "{argv:?}"
    );
}

#[test]
fn failures_fail_the_block() {
    let Some(sandbox) = Sandbox::new("fail") else {
        return;
    };
    std::fs::create_dir_all(sandbox.src().join("docker")).unwrap();
    std::fs::write(sandbox.src().join("docker/Dockerfile"), "FROM scratch\n").unwrap();
    let output = sandbox.run(&blocks("build")[0], &build_env(&[("STUB_BUILD_EXIT", "3")]));
    assert!(!output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Pushed"));
    // A missing variable fails before docker runs.
    let no_tag: Vec<_> = build_env(&[])
        .into_iter()
        .filter(|(name, _)| *name != "IMAGE_TAG")
        .collect();
    let output = sandbox.run(&blocks("pre_build")[0], &no_tag);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("IMAGE_TAG is not set"));
    // A declared argument that is missing is an error, not an empty argument.
    let output = sandbox.run(&blocks("build")[0], &build_env(&[("BUILD_ARG_COUNT", "1")]));
    assert!(!output.status.success());
}

#[test]
fn both_phases_build_the_downloaded_context_wherever_codebuild_starts_them() {
    let Some(sandbox) = Sandbox::new("phases") else {
        return;
    };
    let Some(context) = sandbox.context(&[
        ("docker/Dockerfile", "FROM scratch\nCOPY app /app\n"),
        ("app", "hello\n"),
    ]) else {
        return;
    };
    let context = context.to_str().unwrap().to_owned();
    let env = build_env(&[("STUB_CONTEXT", &context), ("BUILD_ARG_COUNT", "0")]);
    // Started from elsewhere: each phase works in CODEBUILD_SRC_DIR all the same.
    assert_ok(&sandbox.run_in(&sandbox.root, &blocks("pre_build")[0], &env));
    assert_ok(&sandbox.run_in(&sandbox.root, &blocks("build")[0], &env));
    let calls = sandbox.calls();
    let (cmd, cwd, argv) = calls.last().unwrap();
    assert_eq!(cmd, "docker");
    assert_eq!(&argv[..2], ["buildx", "build"]);
    assert_eq!(Path::new(cwd), sandbox.src());
    assert_eq!(
        std::fs::read_to_string(sandbox.src().join("app")).unwrap(),
        "hello\n"
    );
}

#[test]
fn a_context_without_the_dockerfile_fails_the_build_clearly() {
    let Some(sandbox) = Sandbox::new("nodockerfile") else {
        return;
    };
    let output = sandbox.run(&blocks("build")[0], &build_env(&[]));
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("The build context has no docker/Dockerfile")
    );
    assert!(sandbox.calls().is_empty());
}
