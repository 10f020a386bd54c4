//! `defang:index:Service`: a container service on ECS Fargate.
//!
//! Pure functions only: typed inputs and their defaults ([`inputs`]), input validation
//! ([`check`], with image references in [`image`]), Fargate sizing ([`sizing`]), domains and
//! endpoints ([`domain`]), rollout status ([`status`]) and the task definition plan
//! ([`task_definition`]).

pub mod check;
pub(crate) mod delete;
pub(crate) mod domain;
pub(crate) mod existing_secrets;
pub(crate) mod get_domains;
pub(crate) mod image;
pub mod inputs;
pub mod rule_priorities;
pub(crate) mod scaling;
pub(crate) mod sizing;
pub mod status;
pub mod task_definition;
pub(crate) mod task_role;

// Lifecycle over the cloud traits (not pure): create/read/update/delete and rollout waits.
#[cfg(test)]
mod auto_ingress_tests;
#[cfg(test)]
mod build_lifecycle_tests;
mod deployed_names;
pub mod lifecycle;
#[cfg(test)]
mod lifecycle_tests;
pub mod network_stack;
pub(crate) mod outputs;
#[cfg(test)]
mod ownership_tests;
#[cfg(test)]
mod permissions_lifecycle_tests;
pub(crate) mod plan;
pub(crate) mod refresh;
#[cfg(test)]
mod refresh_drift_tests;
pub mod resource;
pub mod rollout;
#[cfg(test)]
mod scaling_lifecycle_tests;
pub mod secrets;
mod stack_drift;
mod stack_repair;
#[cfg(test)]
mod stack_repair_tests;
