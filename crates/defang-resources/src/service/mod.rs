//! `defang:index:Service`: a container service on ECS Fargate.
//!
//! Pure functions only: typed inputs and their defaults ([`inputs`]), Fargate sizing
//! ([`sizing`]), and domains and endpoints ([`domain`]).

pub mod domain;
pub mod inputs;
pub mod sizing;
