//! `defang:index:Service`: a container service on ECS Fargate.
//!
//! Pure functions only: typed inputs and their defaults ([`inputs`]), Fargate sizing
//! ([`sizing`]), domains and endpoints ([`domain`]) and rollout status ([`status`]).

pub mod domain;
pub mod inputs;
pub mod sizing;
pub mod status;
