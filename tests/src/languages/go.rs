//! Go: `examples/go-web-and-api` against the Go SDK of `sdk/go`.
//!
//! The example's `automation.go` (build tag `automation`) is its Automation API entry point: the
//! same `webAndAPI` function that `main.go` hands to `pulumi.Run`. The workspace's copy of the
//! program has its `replace` of the SDK made absolute, and builds offline (`GOPROXY=off`) from
//! the module cache that `scripts/install-langs.sh` filled, the one the pinned CLI is built with.

use super::{Driver, Toolchain};
use crate::pulumi::Workspace;
use std::path::Path;

/// The Go toolchain.
pub struct Go;

/// The Go settings of every command: the shared caches, and no network.
fn go_env() -> Vec<(String, String)> {
    let cache = crate::cache_dir().join("go");
    [
        ("GOPATH", cache.join("path").display().to_string()),
        ("GOMODCACHE", cache.join("mod").display().to_string()),
        ("GOCACHE", cache.join("build").display().to_string()),
        (
            "GOFLAGS",
            "-modcacherw -buildvcs=false -mod=readonly".into(),
        ),
        ("GOPROXY", "off".into()),
        ("GOTOOLCHAIN", "local".into()),
        ("CGO_ENABLED", "0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn go(ws: &Workspace, step: &str, args: &[&str]) {
    let env = go_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = args.iter().map(|a| a.to_string()).collect();
    ws.run_exe(step, Path::new("go"), args, &env).ok();
}

impl Toolchain for Go {
    fn example(&self) -> &'static str {
        "go-web-and-api"
    }

    fn prepare(&self, ws: &Workspace) -> Driver {
        let sdk = crate::repo_root().join("sdk/go");
        go(
            ws,
            "go mod edit (the SDK's path)",
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
        go(
            ws,
            "go build -tags automation",
            &[
                "build",
                "-tags",
                "automation",
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
        go(ws, "go vet", &["vet", "./..."]);
        go(
            ws,
            "go vet -tags automation",
            &["vet", "-tags", "automation", "./..."],
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
