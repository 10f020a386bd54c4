//! A build context on disk, checked and ready to walk: the folder, the Dockerfile inside it,
//! and the `.dockerignore` rules that apply.

use super::dockerignore::{Matcher, is_under};
use super::error::BuildError;
use super::pattern::clean;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The Dockerfile used when `build.dockerfile` is not set.
pub const DEFAULT_DOCKERFILE: &str = "Dockerfile";

#[derive(Debug)]
pub(crate) struct ContextSource {
    pub root: PathBuf,
    /// The folder as the user wrote it (`./app`), for messages.
    shown: String,
    /// The Dockerfile's path relative to the root, cleaned, `/`-separated.
    pub dockerfile: String,
    pub matcher: Matcher,
    /// Sent even when `.dockerignore` excludes them, as Docker does: the Dockerfile and the
    /// ignore file in use (the builder needs both).
    forced: Vec<String>,
}

impl ContextSource {
    /// Checks the folder and the Dockerfile and reads the ignore rules. A relative
    /// `context_dir` is relative to the process's working directory.
    pub fn open(context_dir: &Path, dockerfile: Option<&str>) -> Result<ContextSource, BuildError> {
        let shown = show_dir(context_dir);
        match fs::metadata(context_dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(BuildError::ContextNotFolder { shown }),
            Err(e) if is_missing(&e) => {
                let relative = match (context_dir.is_relative(), std::env::current_dir()) {
                    (true, Ok(cwd)) => format!(" (relative to {})", cwd.display()),
                    _ => String::new(),
                };
                return Err(BuildError::ContextMissing { shown, relative });
            }
            Err(source) => return Err(BuildError::Unreadable { shown, source }),
        }
        let mut source = ContextSource {
            root: context_dir.to_path_buf(),
            shown,
            dockerfile: normalize_dockerfile(dockerfile)?,
            matcher: Matcher::default(),
            forced: Vec::new(),
        };
        source.check_dockerfile()?;
        source.forced.push(source.dockerfile.clone());
        // BuildKit prefers `<Dockerfile>.dockerignore` next to the Dockerfile over the root's.
        let specific = format!("{}.dockerignore", source.dockerfile);
        for candidate in [specific, ".dockerignore".to_string()] {
            if source.root.join(&candidate).is_file() {
                source.matcher = source.read_ignore_file(&candidate)?;
                source.forced.push(candidate);
                break;
            }
        }
        Ok(source)
    }

    /// `./app/src/main.rs` for `src/main.rs`.
    pub fn show(&self, rel: &str) -> String {
        if rel.is_empty() {
            return self.shown.clone();
        }
        format!("{}/{rel}", self.shown.trim_end_matches('/'))
    }

    pub fn is_forced(&self, rel: &str) -> bool {
        self.forced.iter().any(|f| f == rel)
    }

    /// Some always-sent file lies under the directory `rel`.
    pub fn forced_under(&self, rel: &str) -> bool {
        self.forced.iter().any(|f| f != rel && is_under(f, rel))
    }

    fn check_dockerfile(&self) -> Result<(), BuildError> {
        let path = self.root.join(&self.dockerfile);
        let shown = self.show(&self.dockerfile);
        let unreadable = |source| BuildError::Unreadable {
            shown: shown.clone(),
            source,
        };
        let link = match fs::symlink_metadata(&path) {
            Ok(meta) => meta.file_type().is_symlink(),
            Err(e) if is_missing(&e) => {
                return Err(BuildError::DockerfileMissing {
                    shown,
                    context: self.shown.clone(),
                });
            }
            Err(e) => return Err(unreadable(e)),
        };
        if link {
            // The archive keeps the link as a link: its target must be in the archive too.
            let target = fs::canonicalize(&path).map_err(|e| match is_missing(&e) {
                true => BuildError::DockerfileMissing {
                    shown: shown.clone(),
                    context: self.shown.clone(),
                },
                false => unreadable(e),
            })?;
            let root = fs::canonicalize(&self.root).map_err(unreadable)?;
            if !target.starts_with(&root) {
                return Err(BuildError::DockerfileLinksOutside {
                    shown,
                    target: target.display().to_string(),
                    context: self.shown.clone(),
                });
            }
        }
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(()),
            Ok(_) => Err(BuildError::DockerfileNotFile { shown }),
            Err(e) => Err(unreadable(e)),
        }
    }

    fn read_ignore_file(&self, rel: &str) -> Result<Matcher, BuildError> {
        let shown = self.show(rel);
        let bytes = fs::read(self.root.join(rel)).map_err(|source| BuildError::Unreadable {
            shown: shown.clone(),
            source,
        })?;
        Matcher::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| BuildError::BadIgnorePattern {
            file: shown,
            line: e.line,
            pattern: e.pattern,
            reason: e.reason,
        })
    }
}

/// `build.dockerfile` as a clean path relative to the context (`./Dockerfile` and `Dockerfile`
/// are the same file, and so the same build).
pub fn normalize_dockerfile(dockerfile: Option<&str>) -> Result<String, BuildError> {
    let raw = dockerfile.unwrap_or(DEFAULT_DOCKERFILE);
    let cleaned = clean(raw);
    if raw.is_empty() || cleaned == "." || cleaned == ".." || cleaned.starts_with("../") {
        return Err(BuildError::DockerfileOutside {
            dockerfile: raw.to_string(),
        });
    }
    if cleaned.starts_with('/') {
        return Err(BuildError::DockerfileOutside {
            dockerfile: raw.to_string(),
        });
    }
    Ok(cleaned)
}

fn is_missing(e: &io::Error) -> bool {
    // ENOTDIR: a path component is a file, so the folder does not exist either.
    e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory
}

/// How a folder is shown in messages: as written, with `./` for a bare relative name.
fn show_dir(dir: &Path) -> String {
    let text = dir.display().to_string();
    if dir.is_absolute() || text == "." || text.starts_with("./") || text.starts_with("../") {
        text
    } else {
        format!("./{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_paths_are_cleaned_and_kept_inside() {
        assert_eq!(normalize_dockerfile(None).unwrap(), "Dockerfile");
        assert_eq!(
            normalize_dockerfile(Some("./Dockerfile")).unwrap(),
            "Dockerfile"
        );
        assert_eq!(
            normalize_dockerfile(Some("docker//../docker/web.Dockerfile")).unwrap(),
            "docker/web.Dockerfile"
        );
        for bad in [
            "",
            ".",
            "..",
            "../Dockerfile",
            "a/../../Dockerfile",
            "/etc/Dockerfile",
        ] {
            let err = normalize_dockerfile(Some(bad)).unwrap_err();
            assert_eq!(err.property(), "build.dockerfile", "{bad:?}");
        }
    }

    #[test]
    fn folders_are_shown_as_written() {
        assert_eq!(show_dir(Path::new("app")), "./app");
        assert_eq!(show_dir(Path::new("./app")), "./app");
        assert_eq!(show_dir(Path::new("../app")), "../app");
        assert_eq!(show_dir(Path::new(".")), ".");
        assert_eq!(show_dir(Path::new("/srv/app")), "/srv/app");
    }
}
