#![deny(missing_docs, unreachable_pub)]
//! Generic machinery for a Pulumi resource provider plugin written in Rust: serving the gRPC
//! protocol the engine speaks, the property-value model (secrets, unknowns, references), typed
//! conversion through serde, detailed diffs, partial-failure errors and engine logging.
//!
//! It knows nothing of any cloud: a provider implements [`Provider`] and calls [`serve`](serve()).

pub mod component;
pub mod context;
pub mod diff;
pub mod engine_log;
pub mod error;
pub mod mask;
mod messages;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
pub mod testing;
pub mod value;
pub mod wait;

pub use component::{
    Child, ChildOptions, ComponentScope, ConstructRequest, CustomTimeouts, Registered,
};
pub use context::Context;
pub use diff::{Diff, DiffKind, PropertyDiff, diff_properties};
pub use engine_log::{EngineLog, LogRecord, ResourceLog, Severity};
pub use error::{Error, PartialState};
pub use mask::Mask;
pub use provider::*;
pub use resource::{
    Component, Create, Function, RawResource, Resource, Resources, Update, derive_secrets,
    derive_unknowns, state_of,
};
pub use schema::{PackageSchema, ResourceSchema, Shape};
pub use serve::serve;
pub use value::{PropertyMap, PropertyPath, Value};
pub use wait::{Verdict, Waited, await_condition};

/// The generated protocol bindings, for clients and tests.
pub use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
/// The gRPC library the bindings use (requests and statuses), for clients and tests.
pub use tonic;
