//! Which names a service's AWS objects have: the current scheme ([`crate::aws_names`]) for
//! new services, and the old one for services deployed before it, so that upgrading the
//! provider neither recreates a stack nor restarts a task. An old name is only ever used for
//! an object whose tags prove it is this service's: the old names were ambiguous.

use crate::aws_names;
use crate::cloud::{StackState, Stacks};
use crate::cloudformation::stacks::cloud_failed;
use crate::ownership::Claim;
use pulumi_plugin::Error;

/// The service's own stack, with its current state when it exists: the current name, unless
/// only a stack of the old name exists and its tags say it is this service's.
pub(super) async fn service_stack(
    stacks: &dyn Stacks,
    project: &str,
    service: &str,
) -> Result<(String, Option<StackState>), Error> {
    let current = aws_names::service_stack(project, service);
    if let Some(found) = stacks
        .describe_stack(&current)
        .await
        .map_err(cloud_failed)?
    {
        return Ok((current, Some(found)));
    }
    let legacy = aws_names::legacy_service_stack(project, service);
    let claim = Claim::service(project, service, None);
    match stacks.describe_stack(&legacy).await.map_err(cloud_failed)? {
        Some(found) if claim.holds(|k| found.tags.get(k).map(String::as_str)) => {
            Ok((legacy, Some(found)))
        }
        _ => Ok((current, None)),
    }
}

/// The task definition family: the deployed revision's when it is the old name of this
/// service's family (registering into another family would restart every task), else the
/// current name.
pub(super) fn task_family(project: &str, service: &str, deployed: Option<&str>) -> String {
    let legacy = aws_names::legacy_task_family(project, service);
    match deployed.and_then(aws_names::family_of_arn) {
        Some(family) if family == legacy => legacy,
        _ => aws_names::task_family(project, service),
    }
}

/// The families whose revisions a delete deregisters: the current one, and the old one when
/// the deployed revision is in it. `true` marks a family whose name other services could share
/// (the old scheme): only revisions tagged with this service are removed from it.
pub(super) fn task_families(
    project: &str,
    service: &str,
    deployed: Option<&str>,
) -> Vec<(String, bool)> {
    let mut families = vec![(aws_names::task_family(project, service), false)];
    let legacy = aws_names::legacy_task_family(project, service);
    if deployed.and_then(aws_names::family_of_arn) == Some(legacy.as_str()) {
        families.push((legacy, true));
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_families_are_kept_only_for_their_service() {
        let old = "arn:aws:ecs:us-east-1:1:task-definition/shop-web:7";
        assert_eq!(task_family("shop", "web", Some(old)), "shop-web");
        assert_eq!(task_family("shop", "web", None), "defang-shop-S-web");
        // Another service never takes a family that is not its own old one.
        assert_eq!(task_family("sho", "p-web", Some(old)), "defang-sho-S-p-web");
        let new = "arn:aws:ecs:us-east-1:1:task-definition/defang-shop-S-web:8";
        assert_eq!(task_family("shop", "web", Some(new)), "defang-shop-S-web");

        assert_eq!(
            task_families("shop", "web", Some(old)),
            vec![
                ("defang-shop-S-web".to_string(), false),
                ("shop-web".to_string(), true)
            ]
        );
        assert_eq!(
            task_families("shop", "web", Some(new)),
            vec![("defang-shop-S-web".to_string(), false)]
        );
    }
}
