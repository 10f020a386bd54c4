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
//! context and which metadata counts, so the two cannot disagree.

mod context;
pub mod dockerignore;
mod error;
mod hash;
mod pattern;
mod source;
mod walk;

pub use context::{ARCHIVE_MTIME, GZIP_LEVEL, PackagedContext, package_context};
pub use error::BuildError;
pub use hash::{build_hash, context_digest};
pub use source::{DEFAULT_DOCKERFILE, normalize_dockerfile};
