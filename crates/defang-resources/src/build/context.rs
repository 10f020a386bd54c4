//! The build context archive: a gzipped tar of the context, honouring `.dockerignore`, with the
//! same bytes for the same files on any machine, written by streaming (nothing is held whole in
//! memory, whatever the size of the files).

use super::error::BuildError;
use super::hash::DigestSink;
use super::source::ContextSource;
use super::walk::{DIR_MODE, LINK_MODE, Sink, StopFlag, file_mode, walk};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The time stored on every entry: 2000-01-01T00:00:00Z. Not 0, because tools that zip files
/// up inside the image (Python wheels, Java jars) reject times before 1980.
pub const ARCHIVE_MTIME: u64 = 946_684_800;

/// gzip level: fixed, because the level changes the bytes. 1, because on a 200 MB mixed context
/// (`scripts/bench-context.sh`) it packs at ~160 MB/s into an archive only ~7% larger than
/// level 6 does at ~30 MB/s: the seconds saved outweigh the upload of the difference.
pub const GZIP_LEVEL: u32 = 1;

/// A written context archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackagedContext {
    /// The `.tar.gz` file.
    pub path: PathBuf,
    /// Hex sha256 of the archive's bytes (its content address, e.g. the S3 key).
    pub sha256: String,
    /// Size of the archive in bytes.
    pub bytes: u64,
    /// Regular files in the archive.
    pub files: u64,
    /// Total size of those files, uncompressed.
    pub content_bytes: u64,
    /// The [`context_digest`](super::context_digest) of what was packaged, computed in the same
    /// pass (use it for the build hash, so the tag names exactly what was uploaded).
    pub context_digest: String,
}

/// Packages the context into `out` (a `.tar.gz`), written to a temporary name beside it and
/// renamed into place, so a crash never leaves a truncated archive under the final name. `out`
/// must not be inside the context.
pub fn package_context(
    context_dir: &Path,
    dockerfile: Option<&str>,
    out: &Path,
) -> Result<PackagedContext, BuildError> {
    package_context_stoppable(context_dir, dockerfile, out, &StopFlag::default())
}

/// [`package_context`] that ends early with [`BuildError::Stopped`] once `stop` is set,
/// leaving no archive behind.
pub fn package_context_stoppable(
    context_dir: &Path,
    dockerfile: Option<&str>,
    out: &Path,
    stop: &StopFlag,
) -> Result<PackagedContext, BuildError> {
    let source = ContextSource::open(context_dir, dockerfile)?;
    let write_failed = |source| BuildError::Write {
        path: out.to_path_buf(),
        source,
    };
    if inside(out, &source.root) {
        // The walk would read the archive while it is being written.
        return Err(write_failed(io::Error::other(
            "it is inside the build context; write it to another folder",
        )));
    }
    let partial = partial_path(out);
    let file = File::create(&partial).map_err(write_failed)?;
    let result = write_archive(&source, file, out, stop);
    let written = match result {
        Ok(written) => written,
        Err(e) => {
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    fs::rename(&partial, out).map_err(write_failed)?;
    Ok(PackagedContext {
        path: out.to_path_buf(),
        ..written
    })
}

fn write_archive(
    source: &ContextSource,
    file: File,
    out: &Path,
    stop: &StopFlag,
) -> Result<PackagedContext, BuildError> {
    let hashed = HashingWriter {
        inner: BufWriter::with_capacity(256 * 1024, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    // The default gzip header has no name and no time (mtime 0, OS "unknown").
    let gzip = GzEncoder::new(hashed, Compression::new(GZIP_LEVEL));
    let mut builder = tar::Builder::new(gzip);
    let mut sink = TarSink {
        builder: &mut builder,
        digest: DigestSink::new(),
        files: 0,
        content_bytes: 0,
        out,
    };
    walk(source, &mut sink, stop)?;
    let (digest, files, content_bytes) = (sink.digest.finish(), sink.files, sink.content_bytes);
    let write_failed = |source| BuildError::Write {
        path: out.to_path_buf(),
        source,
    };
    let hashed = builder
        .into_inner()
        .and_then(GzEncoder::finish)
        .map_err(write_failed)?;
    let HashingWriter {
        inner,
        hasher,
        bytes,
    } = hashed;
    inner
        .into_inner()
        .map_err(|e| write_failed(e.into_error()))?;
    Ok(PackagedContext {
        path: PathBuf::new(),
        sha256: hex::encode(hasher.finalize()),
        bytes,
        files,
        content_bytes,
        context_digest: digest,
    })
}

/// `out` would be written somewhere in the folder `root`.
fn inside(out: &Path, root: &Path) -> bool {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (fs::canonicalize(parent), fs::canonicalize(root)) {
        (Ok(parent), Ok(root)) => parent.starts_with(root),
        _ => false,
    }
}

/// `ctx.tar.gz` → `ctx.tar.gz.partial`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Writes each entry with only the metadata the walk normalised: fixed time, owner 0:0 with no
/// names, modes 0644/0755/0777. GNU headers, so long paths and link targets fit.
struct TarSink<'a, W: Write> {
    builder: &'a mut tar::Builder<W>,
    digest: DigestSink,
    files: u64,
    content_bytes: u64,
    out: &'a Path,
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(ARCHIVE_MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header
}

impl<W: Write> Sink for TarSink<'_, W> {
    fn dir(&mut self, rel: &Path) -> io::Result<()> {
        self.digest.dir(rel)?;
        let mut header = header(tar::EntryType::Directory, DIR_MODE, 0);
        // Docker writes directories with a trailing slash.
        self.builder
            .append_data(&mut header, rel.join(""), io::empty())
    }

    fn file(
        &mut self,
        rel: &Path,
        size: u64,
        executable: bool,
        content: &mut dyn Read,
    ) -> io::Result<()> {
        self.digest.file_header(rel, size, executable);
        let mut header = header(tar::EntryType::Regular, file_mode(executable), size);
        let tee = TeeReader {
            inner: content,
            digest: &mut self.digest,
        };
        self.builder.append_data(&mut header, rel, tee)?;
        self.files += 1;
        self.content_bytes += size;
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, target: &Path) -> io::Result<()> {
        self.digest.symlink(rel, target)?;
        let mut header = header(tar::EntryType::Symlink, LINK_MODE, 0);
        self.builder.append_link(&mut header, rel, target)
    }

    fn write_failed(&self, err: io::Error) -> BuildError {
        BuildError::Write {
            path: self.out.to_path_buf(),
            source: err,
        }
    }
}

/// Feeds file content to the digest as the tar builder reads it.
struct TeeReader<'a> {
    inner: &'a mut dyn Read,
    digest: &'a mut DigestSink,
}

impl Read for TeeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.content(&buf[..n]);
        Ok(n)
    }
}

/// Hashes and counts the archive's bytes on their way to disk, so the archive is never read
/// back to hash it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
