//! The buildspec every build runs: the project template's own (one copy, in
//! `defang_resources::build::buildspec`), sent as StartBuild's `buildspecOverride` because
//! builds have no CodeBuild source. The tests here run its phases in bash against stub
//! `aws` and `docker`, which is what proves its quoting.

pub use defang_resources::build::buildspec::BUILDSPEC;

#[cfg(test)]
mod tests;
