//! Schemas from Rust types (schemars): the package schema the engine and the SDK generators
//! read ([`PackageSchema`]), and the check of a property map against the JSON schema of the
//! type it will decode into ([`Shape`]), which reports every problem at its property path.

mod check;
mod generate;

pub use check::{Shape, ShapeFailure, check_shape};
pub use generate::{PackageSchema, ResourceSchema};
