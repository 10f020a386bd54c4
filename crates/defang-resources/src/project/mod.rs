//! `defang:index:Project`: the shared infrastructure of one project (network, cluster, task
//! execution role, log group) as one CloudFormation stack.

pub mod auto_ingress;
pub mod check;
pub mod cidr;
pub mod ingress;
pub mod inputs;
pub mod lifecycle;
pub mod lookups;
pub mod outputs;
pub mod private_dns;
pub mod resource;
pub mod template;

pub use inputs::ProjectInputs;
pub use outputs::ProjectInfo;

#[cfg(test)]
mod resource_tests;
