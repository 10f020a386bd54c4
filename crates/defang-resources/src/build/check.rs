//! Check of the `build` input: the context and Dockerfile exist (relative to the program's
//! directory, which is the provider's working directory), arguments are well-formed.

use crate::service::inputs::Build;
use pulumi_plugin::{CheckFailure, PropertyPath};
use std::path::Path;

pub fn check_build(build: &Build, failures: &mut Vec<CheckFailure>) {
    check_build_in(build, Path::new("."), failures)
}

/// `base` is the program's directory.
pub fn check_build_in(build: &Build, base: &Path, failures: &mut Vec<CheckFailure>) {
    let context = base.join(&build.context);
    if build.context.trim().is_empty() {
        failures.push(CheckFailure::new(
            "build.context",
            "must name the folder to build, e.g. \"./app\"",
        ));
    } else if !context.is_dir() {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        failures.push(CheckFailure::new(
            "build.context",
            format!(
                "folder \"{}\" does not exist (paths are relative to the Pulumi program's directory, {cwd})",
                build.context
            ),
        ));
    } else if !context.join(build.dockerfile()).is_file() {
        failures.push(CheckFailure::new(
            if build.dockerfile.is_some() {
                "build.dockerfile"
            } else {
                "build.context"
            },
            format!(
                "there is no {} in \"{}\": add one, or set `build.dockerfile` to the Dockerfile's path relative to the context",
                build.dockerfile(),
                build.context
            ),
        ));
    }
    if let Some(dockerfile) = &build.dockerfile
        && (Path::new(dockerfile).is_absolute() || dockerfile.split('/').any(|p| p == ".."))
    {
        failures.push(CheckFailure::new(
            "build.dockerfile",
            "must be a path inside the context (relative, without \"..\")",
        ));
    }
    for name in build.args.keys() {
        if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
            failures.push(CheckFailure::new(
                PropertyPath::root()
                    .key("build")
                    .key("args")
                    .key(name)
                    .to_string(),
                "build argument names are non-empty and contain no '=' or spaces",
            ));
        }
    }
    if build.target.as_deref().is_some_and(|t| t.trim().is_empty()) {
        failures.push(CheckFailure::new(
            "build.target",
            "must name a stage of the Dockerfile; remove it to build the last stage",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder with `app/` holding `files`, removed when dropped (also when the test
    /// fails), and never shared with a test running beside it.
    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        for f in files {
            std::fs::write(dir.path().join("app").join(f), "FROM scratch\n").unwrap();
        }
        dir
    }

    fn check(build: Build, base: &Path) -> Vec<CheckFailure> {
        let mut failures = Vec::new();
        check_build_in(&build, base, &mut failures);
        failures
    }

    #[test]
    fn a_good_build_passes() {
        let base = dir_with(&["Dockerfile"]);
        let f = check(
            Build {
                context: "app".into(),
                ..Default::default()
            },
            base.path(),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn missing_context_and_dockerfile_are_explained() {
        let base = dir_with(&[]);
        let f = check(
            Build {
                context: "nope".into(),
                ..Default::default()
            },
            base.path(),
        );
        assert_eq!(f[0].property, "build.context");
        assert!(f[0].reason.contains("does not exist"), "{f:?}");
        let f = check(
            Build {
                context: "app".into(),
                dockerfile: Some("web.Dockerfile".into()),
                ..Default::default()
            },
            base.path(),
        );
        assert_eq!(f[0].property, "build.dockerfile");
    }

    #[test]
    fn args_and_target() {
        let base = dir_with(&["Dockerfile"]);
        let f = check(
            Build {
                context: "app".into(),
                dockerfile: Some("../Dockerfile".into()),
                args: [("A=B".to_string(), "x".to_string())].into(),
                target: Some(" ".into()),
            },
            base.path(),
        );
        let paths: Vec<&str> = f.iter().map(|f| f.property.as_str()).collect();
        assert!(paths.contains(&"build.dockerfile"), "{f:?}");
        assert!(paths.contains(&"build.args[\"A=B\"]"), "{f:?}");
        assert!(paths.contains(&"build.target"), "{f:?}");
    }
}
