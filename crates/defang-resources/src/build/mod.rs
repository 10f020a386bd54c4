//! Image builds from source: the build context (a folder on the user's machine) turned into a
//! reproducible `.tar.gz` for CodeBuild, and the hashes that decide when to rebuild.
//!
//! - [`package_context`] writes the archive (streaming) and its sha256;
//! - [`context_digest`] hashes the same content without writing anything, for Diff;
//! - [`build_hash`] combines the context digest with the Dockerfile, args, target and platform
//!   into the image tag;
//! - [`dockerignore::Matcher`] implements `.dockerignore` as Docker does.
//!
//! Both the archive and the digest come from one walk (`walk.rs`), which decides what is in the
//! context and which metadata counts, so the two cannot disagree. What the archive keeps:
//! regular files (content, and 0755 if any exec bit is set, else 0644), folders (0755, empty
//! ones too), symlinks as links (never followed, targets as written, even outside the context);
//! hard links become separate files (a copy of the folder packs the same); sockets, FIFOs and
//! devices are left out. Times are [`ARCHIVE_MTIME`], owners 0:0 without names.
//!
//! These functions block on the file system: call them from `spawn_blocking` in async code,
//! with a [`StopFlag`] (the `_stoppable` variants) so that Cancel and deadlines stop them.

pub mod buildspec;
pub mod check;
mod context;
pub mod dockerignore;
mod error;
mod hash;
pub mod image_build;
mod pattern;
mod source;
pub mod status;
mod walk;

pub use context::{
    ARCHIVE_MTIME, GZIP_LEVEL, PackagedContext, package_context, package_context_stoppable,
};
pub use error::BuildError;
pub use hash::{build_hash, context_digest, context_digest_stoppable};
pub use source::{DEFAULT_DOCKERFILE, normalize_dockerfile};
pub use walk::StopFlag;
