//! AWS SDK adapters implementing the resource layer's cloud traits, one module per service.
//! They translate between plain data and SDK calls and classify errors; the decisions
//! (what to create, when to retry, how to wait) live in `defang-resources`.

pub mod config;
pub mod ecs;
#[allow(dead_code)] // used by the adapters that follow
mod errors;

pub use config::{AwsSettings, load};
pub use ecs::EcsAdapter;
