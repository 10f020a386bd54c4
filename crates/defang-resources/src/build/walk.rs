//! The one walk of a build context that both the archive and the digest are made from, so they
//! always agree on what the context is.
//!
//! Order: depth first, each folder's entries sorted by the bytes of their names (the order Go's
//! `filepath.Walk` uses, so parents come before their contents). Only what the archive keeps is
//! reported: kind, path, the executable bit, size and content, symlink targets. Times, owners
//! and the rest of the mode never reach a sink, which is what makes the output reproducible.

use super::dockerignore::MatchInfo;
use super::error::BuildError;
use super::source::ContextSource;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks a walk running on another thread to stop: it ends with [`BuildError::Stopped`] before
/// its next entry or its next read of a file (at most 256 KiB later), so that Cancel or a
/// deadline does not wait for a whole large context to be read. Cheap to clone; clones share
/// the flag.
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The modes stored for each kind of entry: only the executable bit of a file survives (scripts
/// run from the context rely on it); owners' and groups' bits and umasks differ by machine.
pub(crate) const DIR_MODE: u32 = 0o755;
pub(crate) const FILE_MODE: u32 = 0o644;
pub(crate) const EXEC_MODE: u32 = 0o755;
pub(crate) const LINK_MODE: u32 = 0o777;

pub(crate) fn file_mode(executable: bool) -> u32 {
    if executable { EXEC_MODE } else { FILE_MODE }
}

/// Receives the entries of a context in walk order. Paths are relative to the context root.
pub(crate) trait Sink {
    fn dir(&mut self, rel: &Path) -> io::Result<()>;
    /// `content` yields exactly `size` bytes; the sink must read it to the end.
    fn file(
        &mut self,
        rel: &Path,
        size: u64,
        executable: bool,
        content: &mut dyn Read,
    ) -> io::Result<()>;
    fn symlink(&mut self, rel: &Path, target: &Path) -> io::Result<()>;
    /// Turns an error of the sink's own output into a [`BuildError`].
    fn write_failed(&self, err: io::Error) -> BuildError;
}

/// Walks the context, handing every entry that `.dockerignore` keeps to `sink`, until `stop`
/// is set.
pub(crate) fn walk(
    source: &ContextSource,
    sink: &mut dyn Sink,
    stop: &StopFlag,
) -> Result<(), BuildError> {
    let mut walker = Walker {
        source,
        sink,
        pending: Vec::new(),
        stop,
    };
    walker.dir(&source.root, Path::new(""), "", &MatchInfo::default(), true)
}

struct Walker<'a> {
    source: &'a ContextSource,
    sink: &'a mut dyn Sink,
    /// Excluded folders being walked for exceptions, not sent yet: they are sent (before their
    /// first kept entry) only if something inside them is kept, as BuildKit does.
    pending: Vec<PathBuf>,
    stop: &'a StopFlag,
}

impl Walker<'_> {
    fn dir(
        &mut self,
        abs: &Path,
        rel: &Path,
        rel_text: &str,
        info: &MatchInfo,
        kept: bool,
    ) -> Result<(), BuildError> {
        let Some(entries) = self.read_dir(abs, rel_text, kept)? else {
            return Ok(());
        };
        let matcher = &self.source.matcher;
        for (name, file_type) in entries {
            if self.stop.is_stopped() {
                return Err(BuildError::Stopped);
            }
            let child_rel = rel.join(&name);
            // Matching works on text; a name that is not UTF-8 is matched with U+FFFD in place
            // of its bad bytes (Go reads such bytes as U+FFFD too), but stored as it is.
            let lossy = name.to_string_lossy();
            let child_text = match rel_text {
                "" => lossy.into_owned(),
                parent => format!("{parent}/{lossy}"),
            };
            let (excluded, child_info) = match matcher.is_empty() {
                true => (false, MatchInfo::default()),
                false => matcher.matches(&child_text, info),
            };
            let keep = !excluded || self.source.is_forced(&child_text);
            let child_abs = abs.join(&name);
            if file_type.is_dir() {
                if keep {
                    self.flush_pending()?;
                    self.sink
                        .dir(&child_rel)
                        .map_err(|e| self.sink.write_failed(e))?;
                    self.dir(&child_abs, &child_rel, &child_text, &child_info, true)?;
                } else if matcher.may_include_under(&child_text)
                    || self.source.forced_under(&child_text)
                {
                    self.pending.push(child_rel.clone());
                    self.dir(&child_abs, &child_rel, &child_text, &child_info, false)?;
                    if self.pending.last() == Some(&child_rel) {
                        self.pending.pop();
                    }
                }
            } else if keep {
                self.entry(&child_abs, &child_rel, &child_text, file_type)?;
            }
        }
        Ok(())
    }

    /// The folder's entries sorted by name, or `None` when it should be passed over: it
    /// vanished, or it is excluded and unreadable (BuildKit passes over those too).
    fn read_dir(
        &self,
        abs: &Path,
        rel_text: &str,
        kept: bool,
    ) -> Result<Option<Vec<(OsString, fs::FileType)>>, BuildError> {
        let unreadable = |e| BuildError::Unreadable {
            shown: self.source.show(rel_text),
            source: e,
        };
        let iter = match fs::read_dir(abs) {
            Ok(iter) => iter,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if !kept && e.kind() == io::ErrorKind::PermissionDenied => return Ok(None),
            Err(e) => return Err(unreadable(e)),
        };
        let mut entries = Vec::new();
        for entry in iter {
            let entry = entry.map_err(unreadable)?;
            match entry.file_type() {
                Ok(file_type) => entries.push((entry.file_name(), file_type)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(unreadable(e)),
            }
        }
        entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        Ok(Some(entries))
    }

    fn entry(
        &mut self,
        abs: &Path,
        rel: &Path,
        rel_text: &str,
        file_type: fs::FileType,
    ) -> Result<(), BuildError> {
        let source = self.source;
        let shown = || source.show(rel_text);
        // A file deleted since the listing is not part of the context (editors' temp files
        // come and go); any other failure to read is the user's to fix.
        let unreadable = |e: io::Error| match e.kind() {
            io::ErrorKind::NotFound => None,
            _ => Some(BuildError::Unreadable {
                shown: shown(),
                source: e,
            }),
        };
        if file_type.is_symlink() {
            // Stored as a link, never followed: the builder sees what `docker build` would.
            let target = match fs::read_link(abs) {
                Ok(target) => target,
                Err(e) => return unreadable(e).map_or(Ok(()), Err),
            };
            self.flush_pending()?;
            return self
                .sink
                .symlink(rel, &target)
                .map_err(|e| self.sink.write_failed(e));
        }
        if !file_type.is_file() {
            // Sockets, FIFOs and devices cannot be build input (Docker skips sockets too).
            return Ok(());
        }
        let (file, meta) = match File::open(abs).and_then(|f| f.metadata().map(|m| (f, m))) {
            Ok(opened) => opened,
            Err(e) => return unreadable(e).map_or(Ok(()), Err),
        };
        self.flush_pending()?;
        let mut content = ExactReader::new(file, meta.len(), self.stop.clone());
        let written = self
            .sink
            .file(rel, meta.len(), is_executable(&meta), &mut content);
        match (content.failure.take(), written) {
            (Some(Failure::Read(e)), _) => Err(BuildError::Unreadable {
                shown: shown(),
                source: e,
            }),
            (Some(Failure::Changed), _) => Err(BuildError::Changed { shown: shown() }),
            (Some(Failure::Stopped), _) => Err(BuildError::Stopped),
            (None, Err(e)) => Err(self.sink.write_failed(e)),
            (None, Ok(())) => {
                debug_assert!(
                    content.remaining == 0 && content.probed,
                    "sink left content"
                );
                Ok(())
            }
        }
    }

    fn flush_pending(&mut self) -> Result<(), BuildError> {
        for dir in std::mem::take(&mut self.pending) {
            self.sink.dir(&dir).map_err(|e| self.sink.write_failed(e))?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

enum Failure {
    Read(io::Error),
    /// The file is not the size it had when opened.
    Changed,
    /// The walk was asked to stop.
    Stopped,
}

/// Yields exactly the `size` bytes the header promised, and notices a file that shrinks or
/// grows meanwhile (a tar entry whose content does not match its header corrupts the archive).
struct ExactReader {
    file: File,
    remaining: u64,
    probed: bool,
    failure: Option<Failure>,
    stop: StopFlag,
}

impl ExactReader {
    fn new(file: File, size: u64, stop: StopFlag) -> ExactReader {
        ExactReader {
            file,
            remaining: size,
            probed: false,
            failure: None,
            stop,
        }
    }

    fn fail(&mut self, failure: Failure) -> io::Error {
        self.failure = Some(failure);
        io::Error::other("build context file could not be read")
    }
}

impl Read for ExactReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.stop.is_stopped() {
            return Err(self.fail(Failure::Stopped));
        }
        if self.remaining == 0 {
            if self.probed {
                return Ok(0);
            }
            self.probed = true;
            return match self.file.read(&mut [0u8; 1]) {
                Ok(0) => Ok(0),
                Ok(_) => Err(self.fail(Failure::Changed)),
                Err(e) => Err(self.fail(Failure::Read(e))),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        match self.file.read(&mut buf[..max]) {
            Ok(0) => Err(self.fail(Failure::Changed)),
            Ok(n) => {
                self.remaining -= n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.fail(Failure::Read(e))),
        }
    }
}
