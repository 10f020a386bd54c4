//! Looking at a deployed project from outside Pulumi: `pulumi-resource-defang ps` (its
//! services, live) and `logs` (a service's CloudWatch log events). Everything here reads
//! through [`Inventory`] and changes nothing; the binary parses arguments, prints and loops.
//!
//! - [`project`]: which project to show, and what its stack records (cluster, log group,
//!   public zone);
//! - [`ps`]: one row per service (status by the Service resource's own rules, domains by the
//!   same naming rules), and the health probe's classification;
//! - [`logs`]: `--since`, which streams to read, and following without repeats;
//! - [`render`]: the table for a terminal and JSON for scripts.

pub mod logs;
pub mod project;
pub mod ps;
pub mod render;
#[cfg(test)]
mod tests_support;
pub mod time;

pub use project::{ProjectSite, choose_project};

use crate::cloud::{CloudError, CloudErrorKind};

/// What a failed read means for someone at a terminal: AWS's error, and for a missing
/// permission the calls `ps` and `logs` make, so that the fix is clear.
pub fn explain(err: &CloudError) -> String {
    match err.kind() {
        CloudErrorKind::AccessDenied => format!(
            "{err} (check the credentials: --profile, AWS_PROFILE or the environment; ps and \
             logs need cloudformation:DescribeStacks, ecs:ListServices, ecs:DescribeServices, \
             ecs:DescribeTaskDefinition, ecs:ListTasks, ecs:DescribeTasks, \
             logs:DescribeLogStreams and logs:FilterLogEvents)"
        ),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_permission_names_the_calls() {
        let err = CloudError::new(CloudErrorKind::AccessDenied, "list ECS services: nope");
        let text = explain(&err);
        assert!(
            text.starts_with("access denied: list ECS services: nope"),
            "{text}"
        );
        assert!(
            text.contains("ecs:ListServices") && text.contains("--profile"),
            "{text}"
        );
        assert_eq!(explain(&CloudError::other("boom")), "boom");
    }
}
