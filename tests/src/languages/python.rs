//! Python: `examples/py-web-and-api` against the Python SDK of `sdk/python`.
//!
//! The layout a user gets from `pip install ../../sdk/python` into their virtualenv, without a
//! registry: the cached virtualenv (`$DEFANG_LANGS_DIR/python/venv`: pulumi, mypy and their
//! dependencies) runs everything, and the SDK is pip-installed from a copy of `sdk/python` into
//! `<workspace>/pysdk`, which is put first on `PYTHONPATH`. It is installed as a distribution
//! (with its `.dist-info`), as it must be: the SDK reads its own version, which it sends to the
//! engine with each resource, from the package metadata.
//!
//! The driver (`tests/drivers/python/automation.py`) runs in the same interpreter as the
//! program: an Automation API inline program runs in the driver's own process.

use super::{Driver, Toolchain, langs_dir};
use crate::pulumi::Workspace;
use std::path::{Path, PathBuf};

/// The Python toolchain.
pub struct Python;

/// The cached virtualenv's interpreter.
fn python() -> PathBuf {
    let python = langs_dir().join("python/venv/bin/python");
    assert!(
        python.exists(),
        "{} does not exist: run scripts/install-langs.sh",
        python.display()
    );
    python
}

/// The SDK, pip-installed into `<workspace>/pysdk` (once per workspace): the directory to put on
/// `PYTHONPATH`.
fn install_sdk(ws: &Workspace) -> PathBuf {
    let target = ws.dir.join("pysdk");
    if target.join("pulumi_defang/py.typed").exists() {
        return target;
    }
    // Built from a copy: the build writes `build/` and `*.egg-info` next to the sources, and the
    // repository's `sdk/` stays as generated.
    let source = ws.dir.join("sdk-python");
    crate::copy_tree(&crate::repo_root().join("sdk/python"), &source);
    // Offline, with the venv's own setuptools (the workspace's HOME is empty: no pip config,
    // no cache); its dependencies (pulumi, semver, …) are the venv's.
    let args: Vec<String> = [
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--quiet",
        "--target",
        target.to_str().unwrap(),
        source.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let out = ws.run_exe("pip install (sdk/python)", &python(), args, &[]);
    assert!(
        out.success(),
        "pip could not install sdk/python into the workspace. Building it offline needs a \
         setuptools that builds wheels by itself (>= 70.1) in the cached venv: pin it in \
         scripts/langs/python/requirements.txt.\n{}",
        out.context()
    );
    assert!(
        target.join("pulumi_defang/py.typed").exists(),
        "the installed SDK has no py.typed: type checkers would ignore its types"
    );
    target
}

fn python_env(sdk: &Path) -> Vec<(String, String)> {
    vec![
        ("PYTHONPATH".to_string(), sdk.display().to_string()),
        // Nothing compiled is written next to the program or the driver.
        ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
    ]
}

impl Toolchain for Python {
    fn example(&self) -> &'static str {
        "py-web-and-api"
    }

    fn prepare(&self, ws: &Workspace) -> Driver {
        let sdk = install_sdk(ws);
        let driver = crate::repo_root().join("tests/drivers/python/automation.py");
        Driver {
            argv: vec![python().display().to_string(), driver.display().to_string()],
            env: python_env(&sdk),
        }
    }

    fn static_check(&self, ws: &Workspace) {
        // mypy finds the SDK as an installed package (PYTHONPATH is on the interpreter's
        // sys.path, and the SDK ships py.typed), so the program is checked against its types,
        // and a missing import is an error rather than `Any`.
        let sdk = install_sdk(ws);
        let env = python_env(&sdk);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let cache = ws.dir.join("mypy-cache");
        let args: Vec<String> = [
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            cache.to_str().unwrap(),
            "__main__.py",
        ]
        .map(String::from)
        .to_vec();
        let out = ws.run_exe("mypy --strict", &python(), args, &env);
        assert!(
            out.success() && out.stdout.starts_with("Success: no issues found"),
            "mypy found problems in the program:\n{}",
            out.context()
        );
    }

    fn edit(&self) -> (&'static str, &'static str, &'static str) {
        (
            "__main__.py",
            r#""LOG_LEVEL": "info","#,
            r#""LOG_LEVEL": "debug","#,
        )
    }
}
