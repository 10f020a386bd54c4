//! CloudFormation, as the project and the services use it: the building blocks of their
//! templates ([`blocks`]) and applying, waiting on and deleting stacks, with ownership proved
//! before anything is touched ([`stacks`]). The `Stacks` trait the AWS adapter implements is
//! with the other cloud traits, in [`crate::cloud`].

pub mod blocks;
pub mod stacks;
