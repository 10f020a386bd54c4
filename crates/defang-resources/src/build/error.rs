//! What can go wrong while reading a build context, each message naming the path and the fix.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("build.context: folder {shown} does not exist{relative}")]
    ContextMissing { shown: String, relative: String },

    #[error("build.context: {shown} is not a folder; set build.context to the folder to build")]
    ContextNotFolder { shown: String },

    #[error(
        "build.dockerfile: {dockerfile:?} must be a path relative to build.context that stays \
         inside it, like \"Dockerfile\" or \"docker/web.Dockerfile\"; the builder only sees the \
         context"
    )]
    DockerfileOutside { dockerfile: String },

    #[error(
        "build.dockerfile: {shown} does not exist; create it, or set build.dockerfile to the \
         Dockerfile's path relative to build.context ({context})"
    )]
    DockerfileMissing { shown: String, context: String },

    #[error("build.dockerfile: {shown} is not a file; set build.dockerfile to a Dockerfile")]
    DockerfileNotFile { shown: String },

    #[error(
        "build.dockerfile: {shown} is a symlink to {target}, outside build.context ({context}); \
         the builder only sees the context, so move the Dockerfile into it"
    )]
    DockerfileLinksOutside {
        shown: String,
        target: String,
        context: String,
    },

    #[error("build.context: {file} line {line}: {pattern:?} {reason}; fix or remove the line")]
    BadIgnorePattern {
        file: String,
        line: usize,
        pattern: String,
        reason: String,
    },

    #[error(
        "build.context: cannot read {shown}: {source}; make it readable, or exclude it in \
         .dockerignore"
    )]
    Unreadable {
        shown: String,
        #[source]
        source: io::Error,
    },

    #[error("build.context: {shown} changed while it was being read; run the update again")]
    Changed { shown: String },

    /// Cancel or the deadline stopped the reading of the context.
    #[error("build.context: reading the build context was stopped")]
    Stopped,

    #[error("cannot write the build context archive {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl BuildError {
    /// The input property the error is about, for Check failures and error prefixes.
    pub fn property(&self) -> &'static str {
        match self {
            BuildError::DockerfileOutside { .. }
            | BuildError::DockerfileMissing { .. }
            | BuildError::DockerfileNotFile { .. }
            | BuildError::DockerfileLinksOutside { .. } => "build.dockerfile",
            BuildError::Write { .. } => "build",
            _ => "build.context",
        }
    }
}
