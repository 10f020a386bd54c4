//! Content hashes: the context digest (what is in the context, computed without writing an
//! archive, cheap enough for every preview) and the build hash (everything that decides the
//! image, used as its tag).

use super::error::BuildError;
use super::source::{ContextSource, normalize_dockerfile};
use super::walk::{DIR_MODE, LINK_MODE, Sink, StopFlag, file_mode, walk};
use crate::service::inputs::Platform;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

/// Bumped when the digest's encoding or the archive's format changes, so old digests no longer
/// match (and images are rebuilt) rather than silently meaning something else.
const CONTEXT_VERSION: &[u8] = b"defang-context-v1\0";
/// Bumped when what a build does for the same inputs changes (e.g. the buildspec).
const BUILD_VERSION: &[u8] = b"defang-build-v1\0";

/// The digest of a build context (64 hex digits): it covers exactly what the archive of
/// [`package_context`](super::package_context) holds, entry by entry (path, kind, stored mode,
/// size, content, symlink target), so it changes exactly when the archive would, and not when
/// only times, owners or ignored files change. It does not depend on the compressor, so a
/// newer gzip never forces a rebuild.
pub fn context_digest(context_dir: &Path, dockerfile: Option<&str>) -> Result<String, BuildError> {
    context_digest_stoppable(context_dir, dockerfile, &StopFlag::default())
}

/// [`context_digest`] that ends early with [`BuildError::Stopped`] once `stop` is set.
pub fn context_digest_stoppable(
    context_dir: &Path,
    dockerfile: Option<&str>,
    stop: &StopFlag,
) -> Result<String, BuildError> {
    let source = ContextSource::open(context_dir, dockerfile)?;
    let mut sink = DigestSink::new();
    walk(&source, &mut sink, stop)?;
    Ok(sink.finish())
}

/// The build hash (64 hex digits, a valid ECR and Docker tag): the context digest, the
/// Dockerfile path (cleaned, so `./Dockerfile` equals `Dockerfile`), the build args with their
/// values, the target stage and the platform. Arg values are hashed, never stored.
pub fn build_hash(
    context_digest: &str,
    dockerfile: Option<&str>,
    args: &BTreeMap<String, String>,
    target: Option<&str>,
    platform: Platform,
) -> String {
    let dockerfile = normalize_dockerfile(dockerfile)
        .unwrap_or_else(|_| dockerfile.unwrap_or_default().to_string());
    let mut hasher = Sha256::new();
    hasher.update(BUILD_VERSION);
    field(&mut hasher, b"context", context_digest.as_bytes());
    field(&mut hasher, b"dockerfile", dockerfile.as_bytes());
    // A BTreeMap iterates sorted by name: the order the user wrote them in does not matter.
    for (name, value) in args {
        field(&mut hasher, b"arg", name.as_bytes());
        field(&mut hasher, b"value", value.as_bytes());
    }
    // Docker treats an empty target as none.
    if let Some(target) = target.filter(|t| !t.is_empty()) {
        field(&mut hasher, b"target", target.as_bytes());
    }
    field(&mut hasher, b"platform", platform_name(platform).as_bytes());
    hex::encode(hasher.finalize())
}

fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::LinuxAmd64 => "linux/amd64",
        Platform::LinuxArm64 => "linux/arm64",
    }
}

/// Name, then the value's length, then the value: no two different inputs hash the same bytes.
fn field(hasher: &mut Sha256, name: &[u8], value: &[u8]) {
    hasher.update(name);
    hasher.update([0]);
    hasher.update((value.len() as u64).to_be_bytes());
    hasher.update(value);
}

/// Hashes the entries of a walk; also used by the packager, so that one pass over the files
/// gives both the archive and its digest.
pub(crate) struct DigestSink {
    hasher: Sha256,
}

impl DigestSink {
    pub fn new() -> DigestSink {
        let mut hasher = Sha256::new();
        hasher.update(CONTEXT_VERSION);
        DigestSink { hasher }
    }

    /// Paths cannot contain NUL, so the NUL after the path makes the encoding unambiguous.
    fn record(&mut self, kind: u8, rel: &Path, mode: u32) {
        self.hasher.update([kind]);
        self.hasher.update(rel.as_os_str().as_encoded_bytes());
        self.hasher.update([0]);
        self.hasher.update(mode.to_be_bytes());
    }

    /// The header of a file record; its `size` content bytes follow through [`Self::content`].
    pub fn file_header(&mut self, rel: &Path, size: u64, executable: bool) {
        self.record(b'f', rel, file_mode(executable));
        self.hasher.update(size.to_be_bytes());
    }

    pub fn content(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl Sink for DigestSink {
    fn dir(&mut self, rel: &Path) -> io::Result<()> {
        self.record(b'd', rel, DIR_MODE);
        Ok(())
    }

    fn file(
        &mut self,
        rel: &Path,
        size: u64,
        executable: bool,
        content: &mut dyn Read,
    ) -> io::Result<()> {
        self.file_header(rel, size, executable);
        io::copy(content, &mut self.hasher)?;
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, target: &Path) -> io::Result<()> {
        self.record(b'l', rel, LINK_MODE);
        let target = target.as_os_str().as_encoded_bytes();
        self.hasher.update((target.len() as u64).to_be_bytes());
        self.hasher.update(target);
        Ok(())
    }

    fn write_failed(&self, err: io::Error) -> BuildError {
        // Hashing writes nowhere; only reading the content can fail, and that is reported
        // before this is asked.
        BuildError::Unreadable {
            shown: "(hashing)".into(),
            source: err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn hash(dockerfile: Option<&str>, a: &[(&str, &str)], target: Option<&str>) -> String {
        build_hash("abc", dockerfile, &args(a), target, Platform::LinuxAmd64)
    }

    #[test]
    fn build_hash_is_a_valid_tag() {
        let tag = hash(None, &[], None);
        assert_eq!(tag.len(), 64);
        assert!(tag.len() <= 128);
        assert!(
            tag.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn build_hash_covers_every_input() {
        let base = hash(None, &[("A", "1")], None);
        assert_eq!(base, hash(Some("Dockerfile"), &[("A", "1")], None));
        assert_eq!(base, hash(Some("./Dockerfile"), &[("A", "1")], None));
        assert_eq!(base, hash(None, &[("A", "1")], Some("")));
        let others = [
            build_hash(
                "abd",
                None,
                &args(&[("A", "1")]),
                None,
                Platform::LinuxAmd64,
            ),
            build_hash(
                "abc",
                None,
                &args(&[("A", "1")]),
                None,
                Platform::LinuxArm64,
            ),
            hash(Some("web.Dockerfile"), &[("A", "1")], None),
            hash(None, &[("A", "2")], None),
            hash(None, &[("B", "1")], None),
            hash(None, &[("A", "1"), ("B", "")], None),
            hash(None, &[], None),
            hash(None, &[("A", "1")], Some("prod")),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&base, other, "variant {i} should change the hash");
        }
    }

    #[test]
    fn build_hash_fields_do_not_run_together() {
        // Length prefixes: moving bytes between a name and its value changes the hash.
        assert_ne!(
            hash(None, &[("AB", "C")], None),
            hash(None, &[("A", "BC")], None)
        );
    }

    #[test]
    fn a_stopped_walk_ends_with_stopped_and_reads_no_further() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        // 64 GiB of (sparse) zeros: minutes to hash, unless the walk stops.
        let huge = std::fs::File::create(dir.path().join("huge.bin")).unwrap();
        huge.set_len(64 << 30).unwrap();
        let stop = StopFlag::default();
        stop.stop();
        assert!(matches!(
            context_digest_stoppable(dir.path(), None, &stop),
            Err(BuildError::Stopped)
        ));
        let stop = StopFlag::default();
        let started = std::time::Instant::now();
        let walk = {
            let stop = stop.clone();
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || context_digest_stoppable(&root, None, &stop))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        stop.stop();
        let result = walk.join().unwrap();
        assert!(matches!(result, Err(BuildError::Stopped)), "{result:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let out = tempfile::tempdir().unwrap();
        let archive = out.path().join("c.tgz");
        let packaged = super::super::package_context_stoppable(dir.path(), None, &archive, &stop);
        assert!(matches!(packaged, Err(BuildError::Stopped)));
        let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
        assert!(left.is_empty(), "no archive, partial or not, is left");
    }

    #[test]
    fn build_hash_keeps_secrets_out() {
        let tag = hash(None, &[("TOKEN", "s3cr3t")], None);
        assert!(!tag.contains("s3cr3t"));
    }
}
