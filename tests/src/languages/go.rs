//! Go: `examples/go-web-and-api` against the Go SDK of `sdk/go`.
//!
//! The example's `automation.go` (build tag `automation`) is its Automation API entry point: the
//! same `webAndAPI` function that `main.go` hands to `pulumi.Run`. The workspace's copy of the
//! program has its `replace` of the SDK made absolute, and builds offline (`GOPROXY=off`) from
//! the module cache that `scripts/install-langs.sh` filled, the one the pinned CLI is built with.
//!
//! The builds share the pinned CLI's build cache too: the example requires the versions the CLI
//! is built with, and every command here uses its flags (`-trimpath`, [`CLI_TAGS`]), so that of
//! the ~900 packages of the driver only the ~150 the CLI does not use (the program SDK, the
//! Automation API, the Defang SDK) are compiled the first time (about 35 s on 2 cores instead
//! of 200 s).

use super::{Driver, Toolchain};
use crate::pulumi::Workspace;
use std::path::Path;

/// The Go toolchain.
pub struct Go;

/// The build tags of the pinned CLI's build (`scripts/install-pulumi.sh`): they change nothing in
/// the program (`osusergo`: the pure-Go `os/user`, which `CGO_ENABLED=0` implies;
/// `grpcnotrace`: gRPC without `x/net/trace`) but are part of what the build cache is keyed by.
const CLI_TAGS: &str = "osusergo,grpcnotrace";

/// The Go settings of every command: the shared caches, the CLI's build flags, and no network.
fn go_env() -> Vec<(String, String)> {
    let cache = crate::cache_dir().join("go");
    [
        ("GOPATH", cache.join("path").display().to_string()),
        ("GOMODCACHE", cache.join("mod").display().to_string()),
        ("GOCACHE", cache.join("build").display().to_string()),
        // -mod=readonly: the committed go.sum must be complete (the replace of the SDK is a
        // directory, which go.sum does not list, so making it absolute changes nothing there).
        (
            "GOFLAGS",
            "-modcacherw -buildvcs=false -mod=readonly -trimpath".into(),
        ),
        ("GOPROXY", "off".into()),
        ("GOTOOLCHAIN", "local".into()),
        ("CGO_ENABLED", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Runs `exe` (`go` or `gofmt`, from `PATH`) in the program's folder; panics unless it succeeds.
fn run(ws: &Workspace, step: &str, exe: &str, args: &[&str]) -> crate::pulumi::Output {
    let env = go_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = args.iter().map(|a| a.to_string()).collect();
    ws.run_exe(step, Path::new(exe), args, &env).ok()
}

impl Toolchain for Go {
    fn example(&self) -> &'static str {
        "go-web-and-api"
    }

    fn prepare(&self, ws: &Workspace) -> Driver {
        // The copy is not in the repository any more: `../../sdk/go` would name nothing.
        let sdk = crate::repo_root().join("sdk/go");
        run(
            ws,
            "go mod edit (the SDK's path)",
            "go",
            &[
                "mod",
                "edit",
                &format!(
                    "-replace=github.com/defang-io/pulumi-defang/sdk/go={}",
                    sdk.display()
                ),
            ],
        );
        let binary = ws.dir.join("bin-go/go-web-and-api");
        run(
            ws,
            "go build -tags automation",
            "go",
            &[
                "build",
                "-tags",
                &format!("automation,{CLI_TAGS}"),
                // Without the symbol table and DWARF: a test binary, linked a second faster.
                "-ldflags=-s -w",
                "-o",
                binary.to_str().unwrap(),
                ".",
            ],
        );
        Driver {
            argv: vec![binary.display().to_string()],
            env: Vec::new(),
        }
    }

    fn static_check(&self, ws: &Workspace) {
        // Both builds of the package: `pulumi up`'s (main.go) and the Automation API's.
        run(ws, "go vet", "go", &["vet", "-tags", CLI_TAGS, "./..."]);
        run(
            ws,
            "go vet -tags automation",
            "go",
            &["vet", "-tags", &format!("automation,{CLI_TAGS}"), "./..."],
        );
        // What an editor does on save; `gofmt -l` lists the files it would change.
        let unformatted = run(ws, "gofmt -l", "gofmt", &["-l", "."]).stdout;
        assert!(
            unformatted.trim().is_empty(),
            "not gofmt-formatted:\n{unformatted}"
        );
    }

    fn edit(&self) -> (&'static str, &'static str, &'static str) {
        (
            "program.go",
            r#""LOG_LEVEL": pulumi.String("info"),"#,
            r#""LOG_LEVEL": pulumi.String("debug"),"#,
        )
    }
}
