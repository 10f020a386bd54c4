//! The AWS names of everything a project or a service makes, in one place, unambiguous by
//! construction.
//!
//! Project and service names are lowercase DNS labels (see [`crate::names`]), so an uppercase
//! letter can only be ours: `defang-<project>` names a project's stack and
//! `defang-<project>-S-<service>` a service's, and no project or service name, however chosen,
//! maps onto another's. (Stack names are case-sensitive and allow only letters, digits and
//! hyphens. `--` would also have been unambiguous, but CloudFormation derives the names of
//! target groups from the stack's name, and ELB refuses a `--` in those.) Names with a slash (`/defang/<project>/<service>/...` for SSM
//! and log groups, `defang/<project>/<service>` for ECR) are unambiguous because labels have no
//! slash. Target groups, security groups and roles get names from CloudFormation, which makes
//! them unique.
//!
//! Where AWS's limit is shorter than the longest name (a stack is at most 128 characters, a
//! load balancer 32), the name is cut and ends with `-H` and a hash of the whole name: no name
//! that fits has an `H`, so a shortened name never equals one that fits, and two shortened names
//! differ unless 40 bits of SHA-256 do.
//!
//! Earlier versions named a service's stack `defang-<project>-<service>` and its task
//! definition family `<project>-<service>`: project `shop-web` and service `web-x` of project
//! `shop` both mapped to `defang-shop-web-x`, and service `web` of project `shop` had the stack
//! of project `shop-web`. Those names are still recognised for services deployed
//! by them (see [`legacy_service_stack`]), and only when the stack's tags prove it is that
//! service's.

use sha2::{Digest, Sha256};

/// CloudFormation stack names are at most 128 characters.
pub const MAX_STACK_NAME: usize = 128;
/// Application load balancer names are at most 32 characters.
pub const MAX_LOAD_BALANCER_NAME: usize = 32;
/// ECS task definition families are at most 255 characters.
pub const MAX_FAMILY: usize = 255;

/// What separates a project from a service in names without a slash.
pub const SEPARATOR: &str = "-S-";
/// What ends a name that had to be cut, before its hash.
const SHORTENED: &str = "-H";
/// Hex characters of the hash of a shortened name (40 bits).
const HASH_LEN: usize = 10;

/// `defang-<project>`: the project's CloudFormation stack (at most 7 + 63 characters).
pub fn project_stack(project: &str) -> String {
    fit(format!("defang-{project}"), MAX_STACK_NAME)
}

/// `defang-<project>`: the project's ECS cluster.
pub fn cluster(project: &str) -> String {
    format!("defang-{project}")
}

/// `/defang/<project>`: the project's log group (its services log under their own prefix).
pub fn log_group(project: &str) -> String {
    format!("/defang/{project}")
}

/// `defang-<project>-build`: the project's CodeBuild project (one per project, so the suffix
/// cannot meet another project's name in CodeBuild's namespace).
pub fn build_project(project: &str) -> String {
    format!("defang-{project}-build")
}

/// `defang-<project>`, shortened with a hash beyond 32 characters: the project's load
/// balancer (unique per account and region).
pub fn load_balancer(project: &str) -> String {
    fit(format!("defang-{project}"), MAX_LOAD_BALANCER_NAME)
}

/// How versions before 0.2 named the load balancer: cut at 32 characters, so two long
/// project names with the same start collided. Kept for projects that have one already.
pub fn legacy_load_balancer(project: &str) -> String {
    format!("defang-{project}")
        .chars()
        .take(MAX_LOAD_BALANCER_NAME)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// `defang-<project>-S-<service>`: the service's own stack (security group, private name,
/// routing), shortened with a hash beyond 128 characters.
pub fn service_stack(project: &str, service: &str) -> String {
    fit(
        format!("defang-{project}{SEPARATOR}{service}"),
        MAX_STACK_NAME,
    )
}

/// `defang-<project>-<service>`: the service stack's name before 0.2 (ambiguous; see the
/// module documentation). Only ever used for a stack whose tags name this service.
pub fn legacy_service_stack(project: &str, service: &str) -> String {
    format!("defang-{project}-{service}")
}

/// `defang-<project>-S-<service>`: the service's task definition family.
pub fn task_family(project: &str, service: &str) -> String {
    fit(format!("defang-{project}{SEPARATOR}{service}"), MAX_FAMILY)
}

/// `<project>-<service>`: the family before 0.2 (ambiguous). A service deployed then keeps
/// it, so that upgrading the provider registers no revision and restarts no task.
pub fn legacy_task_family(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

/// The family of a task definition ARN (`arn:…:task-definition/<family>:<revision>`).
pub fn family_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.rsplit_once(":task-definition/")?;
    let (family, revision) = rest.rsplit_once(':')?;
    revision.parse::<u32>().ok()?;
    Some(family)
}

/// `name` if it fits in `max` characters, else its start, `-H` and a hash of all of it.
fn fit(name: String, max: usize) -> String {
    if name.len() <= max {
        return name;
    }
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    let room = max - SHORTENED.len() - HASH_LEN;
    // Names are ASCII (labels), so byte and character positions agree.
    let head = name[..room].trim_end_matches('-');
    format!("{head}{SHORTENED}{}", &digest[..HASH_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{validate_dns_label, validate_service_name};

    #[test]
    fn projects_and_services_never_share_a_stack() {
        // The collision that updated another project's stack: project `shop-web` and service
        // `web` of project `shop`.
        assert_eq!(project_stack("shop-web"), "defang-shop-web");
        assert_eq!(service_stack("shop", "web"), "defang-shop-S-web");
        assert_ne!(project_stack("shop-web"), service_stack("shop", "web"));
        // And two services whose old names met.
        assert_ne!(service_stack("a-b", "c"), service_stack("a", "b-c"));
        assert_ne!(task_family("a-b", "c"), task_family("a", "b-c"));
        assert_eq!(
            legacy_task_family("a-b", "c"),
            legacy_task_family("a", "b-c")
        );
    }

    /// Every valid (project, service) pair of short labels maps to distinct names, and no
    /// service stack is a project stack.
    #[test]
    fn exhaustive_small_names_are_injective() {
        let alphabet = ["a", "b", "a-b", "b-a", "ab", "a-a", "b-b", "a-b-a"];
        let mut stacks = std::collections::BTreeMap::new();
        for p in alphabet {
            assert!(validate_dns_label(p).is_ok());
            let old = stacks.insert(project_stack(p), format!("project {p}"));
            assert!(old.is_none(), "{p}: {old:?}");
            for s in alphabet {
                assert!(validate_service_name(s).is_ok());
                let old = stacks.insert(service_stack(p, s), format!("service {p}/{s}"));
                assert!(old.is_none(), "{p}/{s}: {old:?}");
            }
        }
    }

    #[test]
    fn long_names_fit_with_a_stable_hash() {
        let p = "p".repeat(63);
        let s = "s".repeat(63);
        let stack = service_stack(&p, &s);
        assert_eq!(stack.len(), MAX_STACK_NAME);
        assert!(stack.starts_with(&format!("defang-{p}-S-s")), "{stack}");
        assert!(stack.contains(SHORTENED), "{stack}");
        assert_eq!(stack, service_stack(&p, &s), "stable");
        let other = service_stack(&p, &format!("{}t", "s".repeat(62)));
        assert_ne!(stack, other);
        assert_eq!(other.len(), MAX_STACK_NAME);
        // A stack name is a letter, then letters, digits and hyphens.
        assert!(
            stack.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{stack}"
        );

        // Names that fit are left alone.
        assert_eq!(service_stack("shop", "web"), "defang-shop-S-web");
        assert_eq!(project_stack(&p), format!("defang-{p}"));
    }

    #[test]
    fn load_balancer_names_fit_and_differ() {
        assert_eq!(load_balancer("shop"), "defang-shop");
        let a = load_balancer("my-company-production-us-east");
        let b = load_balancer("my-company-production-us-west");
        assert_ne!(a, b);
        assert_eq!(a.len(), MAX_LOAD_BALANCER_NAME);
        assert!(!a.ends_with('-') && !a.starts_with('-'), "{a}");
        // The old rule cut both to the same name.
        assert_eq!(
            legacy_load_balancer("my-company-production-us-east"),
            legacy_load_balancer("my-company-production-us-west")
        );
        assert_eq!(load_balancer("a".repeat(25).as_str()).len(), 32);
        assert_eq!(
            load_balancer("a".repeat(25).as_str()),
            format!("defang-{}", "a".repeat(25))
        );
        // A cut that ends on a hyphen does not leave two (ELB refuses `--` in names).
        let cut = load_balancer("abcdefghijklmnopqrst-uvwxyz");
        assert!(!cut.contains("--"), "{cut}");
        assert!(!service_stack(&"p".repeat(63), &"s".repeat(63)).contains("--"));
    }

    #[test]
    fn families_of_arns() {
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:1:task-definition/shop-web:3"),
            Some("shop-web")
        );
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:1:task-definition/defang-shop-S-web:12"),
            Some("defang-shop-S-web")
        );
        assert_eq!(family_of_arn("arn:aws:ecs:us-east-1:1:service/x"), None);
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:1:task-definition/x"),
            None
        );
    }
}
