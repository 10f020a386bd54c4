//! Defang resources: typed inputs, validation, planning, diffs, status and domain rules as pure
//! functions, and the lifecycles that drive the cloud through the traits in [`cloud`].

pub mod aws_names;
pub mod build;
pub mod cloud;
pub(crate) mod cloudformation;
pub(crate) mod compose;
pub mod config;
pub mod inspect;
pub(crate) mod names;
pub mod ownership;
pub(crate) mod poller;
pub mod project;
pub mod provider;
pub mod runtime;
pub mod schema;
pub mod service;
#[cfg(test)]
pub mod testing;
pub(crate) mod wait;
