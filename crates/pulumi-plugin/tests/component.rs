//! The kit's component machinery end to end: the real `pulumi` CLI runs a YAML program with one
//! `kitdemo:index:Pair` (the kit's example provider, `examples/kitdemo.rs`), which registers
//! two child notes through the engine's monitor.
//!
//! Needs `DEFANG_TEST_PULUMI_DIR` (the pinned CLI that `scripts/test.sh` builds) and the built
//! example (`cargo test` builds it; so does `cargo build --all-targets`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PAIR: &str = "urn:pulumi:dev::kit-component::kitdemo:index:Pair::pair";
const FIRST: &str =
    "urn:pulumi:dev::kit-component::kitdemo:index:Pair$kitdemo:index:Note::pair-first";
const SECOND: &str =
    "urn:pulumi:dev::kit-component::kitdemo:index:Pair$kitdemo:index:Note::pair-second";
const SECRET: &str = "s3cr3t-value-4711";

fn pulumi_dir() -> PathBuf {
    let dir = std::env::var_os("DEFANG_TEST_PULUMI_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .expect(
            "DEFANG_TEST_PULUMI_DIR is not set: this test drives the real pulumi CLI. Run it \
             through scripts/test.sh, or export DEFANG_TEST_PULUMI_DIR=\"$(scripts/install-pulumi.sh | tail -n 1)\"",
        );
    assert!(
        dir.join("pulumi-language-yaml").exists(),
        "{} has no pulumi-language-yaml",
        dir.display()
    );
    dir
}

/// The example provider, built next to this test (`target/<profile>/examples/kitdemo`).
fn example_provider() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let provider = profile_dir.join("examples").join("kitdemo");
    assert!(
        provider.exists(),
        "{} is missing: build it with `cargo build -p pulumi-plugin --example kitdemo`",
        provider.display()
    );
    provider
}

struct Workspace {
    dir: PathBuf,
    pulumi_dir: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = std::env::temp_dir().join(format!(
            "kit-component-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        for sub in ["bin", "home", "backend", "project"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::os::unix::fs::symlink(example_provider(), dir.join("bin/pulumi-resource-kitdemo"))
            .unwrap();
        Workspace {
            dir,
            pulumi_dir: pulumi_dir(),
        }
    }

    fn write_program(&self, prefix: &str, protect: bool) {
        self.write_program_with(prefix, protect, &format!("fn::secret: {SECRET}"));
    }

    /// The program, with `secret` set to `secret` (YAML after `secret:`; empty: not set).
    fn write_program_with(&self, prefix: &str, protect: bool, secret: &str) {
        let secret = match secret {
            "" => String::new(),
            value => format!("      secret:\n        {value}\n"),
        };
        let program = format!(
            r#"name: kit-component
runtime: yaml
plugins:
  providers:
    - name: kitdemo
      path: {bin}
resources:
  pair:
    type: kitdemo:index:Pair
    properties:
      prefix: {prefix}
{secret}    options:
      protect: {protect}
      customTimeouts:
        create: 2m
outputs:
  firstLength: ${{pair.firstLength}}
  secondLength: ${{pair.secondLength}}
  firstUrn: ${{pair.firstUrn}}
"#,
            bin = self.dir.join("bin").display()
        );
        std::fs::write(self.dir.join("project/Pulumi.yaml"), program).unwrap();
    }

    /// Runs `pulumi <args>`; returns (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let path = format!(
            "{}:{}",
            self.pulumi_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new(self.pulumi_dir.join("pulumi"))
            .args(args)
            .arg("--non-interactive")
            .current_dir(self.dir.join("project"))
            .env("PATH", path)
            .env("HOME", self.dir.join("home"))
            .env("PULUMI_HOME", self.dir.join("home"))
            .env(
                "PULUMI_BACKEND_URL",
                format!("file://{}", self.dir.join("backend").display()),
            )
            .env("PULUMI_CONFIG_PASSPHRASE", "kit-test-passphrase")
            .env("PULUMI_SKIP_UPDATE_CHECK", "true")
            .env("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(ok, "pulumi {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// The preview's step per URN: (op, parent of the new state).
    fn preview_steps(&self) -> Vec<(String, String, String)> {
        let preview = self.json(&["preview", "--json"]);
        preview["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["urn"].as_str().unwrap().to_string(),
                    s["op"].as_str().unwrap().to_string(),
                    s["newState"]["parent"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    fn resources(&self) -> Vec<Value> {
        let export = self.ok(&["stack", "export"]);
        assert!(
            !export.contains(SECRET),
            "the secret is in plain text in the state:\n{export}"
        );
        let export: Value = serde_json::from_str(&export).unwrap();
        export["deployment"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kept the workspace {}", self.dir.display());
        }
    }
}

fn resource<'a>(resources: &'a [Value], urn: &str) -> &'a Value {
    resources
        .iter()
        .find(|r| r["urn"] == urn)
        .unwrap_or_else(|| panic!("no {urn} in {resources:#?}"))
}

fn step<'a>(steps: &'a [(String, String, String)], urn: &str) -> &'a (String, String, String) {
    steps
        .iter()
        .find(|(u, _, _)| u == urn)
        .unwrap_or_else(|| panic!("no step for {urn} in {steps:?}"))
}

#[test]
fn a_component_registers_its_children_through_the_engine() {
    let ws = Workspace::new();
    ws.write_program("hello", true);
    ws.ok(&["stack", "init", "dev"]);

    // Preview: the component and both children, each child under the component.
    let steps = ws.preview_steps();
    assert_eq!(step(&steps, PAIR).1, "create");
    for child in [FIRST, SECOND] {
        assert_eq!(step(&steps, child).1, "create", "{steps:?}");
        assert_eq!(step(&steps, child).2, PAIR, "{steps:?}");
    }

    // Up: the outputs come from the children; the secret child's length stays secret.
    ws.ok(&["up", "--yes", "--skip-preview"]);
    let outputs = ws.json(&["stack", "output", "--json", "--show-secrets"]);
    assert_eq!(outputs["firstLength"], 11.0, "{outputs}");
    assert_eq!(outputs["secondLength"], SECRET.len() as f64, "{outputs}");
    assert_eq!(outputs["firstUrn"], FIRST, "{outputs}");
    let plain = ws.json(&["stack", "output", "--json"]);
    assert_eq!(plain["secondLength"], "[secret]", "{plain}");

    // State: parents, the dependency between the children, the options they inherited, the
    // secret input encrypted, and the component's outputs registered.
    let resources = ws.resources();
    let pair = resource(&resources, PAIR);
    assert_eq!(pair["outputs"]["firstLength"], 11.0, "{pair}");
    let first = resource(&resources, FIRST);
    let second = resource(&resources, SECOND);
    for child in [first, second] {
        assert_eq!(child["parent"], PAIR, "{child}");
        assert_eq!(child["protect"], true, "{child}");
        assert_eq!(child["customTimeouts"]["create"], 120.0, "{child}");
    }
    assert_eq!(first["inputs"]["text"], "hello-first", "{first}");
    assert!(
        second["inputs"]["text"]["ciphertext"].is_string(),
        "{second}"
    );
    assert!(
        second["dependencies"]
            .as_array()
            .is_some_and(|d| d.iter().any(|u| u == FIRST)),
        "{second}"
    );

    // Protected through the component: destroy refuses and deletes nothing.
    let (destroyed, stdout, stderr) = ws.run(&["destroy", "--yes", "--skip-preview"]);
    assert!(
        !destroyed,
        "destroy of protected children succeeded:\n{stdout}\n{stderr}"
    );
    assert_eq!(ws.resources().len(), resources.len());

    // Editing one input touches the child it reaches, and nothing else.
    ws.write_program("hi", false);
    let steps = ws.preview_steps();
    assert_eq!(step(&steps, FIRST).1, "update", "{steps:?}");
    assert_eq!(step(&steps, SECOND).1, "same", "{steps:?}");
    ws.ok(&["up", "--yes", "--skip-preview"]);
    let outputs = ws.json(&["stack", "output", "--json"]);
    assert_eq!(outputs["firstLength"], 8.0, "{outputs}");

    // What the component says about its inputs reaches the user (the CLI prints a
    // component's diagnostics after the preview, on stderr).
    ws.write_program_with("hi", false, "");
    let (previewed, stdout, stderr) = ws.run(&["preview", "--diff"]);
    assert!(previewed, "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("warning: no `secret` given"),
        "the component's warning is not in the preview:\n{stdout}\n{stderr}"
    );
    ws.write_program("hi", false);

    // Unprotected now: destroy removes the component and its children.
    ws.ok(&["destroy", "--yes", "--skip-preview"]);
    let left: Vec<Value> = ws
        .resources()
        .into_iter()
        .filter(|r| r["type"] != "pulumi:providers:kitdemo" && r["type"] != "pulumi:pulumi:Stack")
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:#?}");
}
