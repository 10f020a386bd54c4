//! Which project `ps` and `logs` look at, and what its CloudFormation stack records.

use crate::aws_names;
use crate::cloud::{CloudResult, Inventory, StackState};
use crate::config::DEFAULT_DOMAIN_SUFFIX;
use crate::ownership::PROJECT_TAG;
use crate::project::ingress::outputs as ingress_keys;
use crate::project::template::outputs as keys;
use crate::service::domain::Zone;

/// The project's stack tag naming the Defang username its domains were made for.
const USERNAME_TAG: &str = "defang:username";

/// What a project's stack says about where its services run and log, and how they are named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSite {
    pub name: String,
    /// The ECS cluster of its services.
    pub cluster: String,
    /// The CloudWatch Logs group its services and builds log to.
    pub log_group: String,
    /// The zone of its ingress domains (`<project>.<username>.<suffix>`, or its own `domain`).
    pub public_domain: Option<String>,
}

impl ProjectSite {
    /// From the project's stack: its outputs where it has them (a stack of any version), else
    /// the names this version gives. The public zone is the one the stack made or adopted
    /// (`ZoneName`), else the one it announces (`PublicDomain`), else, for stacks older than
    /// both, `<project>.<username>.defang.app` from its `defang:username` tag.
    pub fn from_stack(project: &str, stack: &StackState) -> ProjectSite {
        let output = |key: &str| stack.outputs.get(key).filter(|v| !v.is_empty()).cloned();
        let public_domain = output(ingress_keys::ZONE_NAME)
            .or_else(|| output(keys::PUBLIC_DOMAIN))
            .or_else(|| {
                let username = stack.tags.get(USERNAME_TAG).filter(|u| !u.is_empty())?;
                Some(format!("{project}.{username}.{DEFAULT_DOMAIN_SUFFIX}"))
            });
        ProjectSite {
            name: project.to_string(),
            cluster: output(keys::CLUSTER_NAME).unwrap_or_else(|| aws_names::cluster(project)),
            log_group: output(keys::LOG_GROUP_NAME)
                .unwrap_or_else(|| aws_names::log_group(project)),
            public_domain,
        }
    }

    /// The names of the project's domains: ingress domains are `<service>--<port>.<zone>`.
    pub fn zone(&self) -> Zone<'_> {
        Zone::new(&self.name, "").with_adopted(self.public_domain.as_deref())
    }
}

/// The project name of a project stack (its `defang:project` tag).
fn project_of(stack: &StackState) -> Option<&str> {
    stack.tags.get(PROJECT_TAG).map(String::as_str)
}

/// The project to show: `requested` when given (its stack must exist and be tagged as that
/// project's, the tag every project stack carries), else the only project of the region.
/// Errors say what to pass.
pub async fn choose_project(
    inventory: &dyn Inventory,
    requested: Option<&str>,
    region: &str,
) -> Result<ProjectSite, String> {
    let failed = |e: crate::cloud::CloudError| super::explain(&e);
    if let Some(project) = requested {
        let name = aws_names::project_stack(project);
        let stack = inventory.stack(&name).await.map_err(failed)?;
        return match stack {
            Some(stack) if project_of(&stack) == Some(project) => {
                Ok(ProjectSite::from_stack(project, &stack))
            }
            Some(_) => Err(format!(
                "stack {name} in {region} is not the stack of Defang project \"{project}\" (its \
                 `{PROJECT_TAG}` tag says otherwise): check --project"
            )),
            None => Err(not_found(inventory, project, region).await),
        };
    }
    let stacks = project_stacks(inventory).await.map_err(failed)?;
    match stacks.as_slice() {
        [(project, stack)] => Ok(ProjectSite::from_stack(project, stack)),
        [] => Err(format!(
            "no Defang project in {region}: pass --region (or set AWS_REGION) to the region \
             it was deployed to, or --profile for another account"
        )),
        many => Err(format!(
            "{} Defang projects in {region} ({}): pass --project NAME (or set DEFANG_PROJECT)",
            many.len(),
            names(many)
        )),
    }
}

/// The projects of the region, by name.
async fn project_stacks(inventory: &dyn Inventory) -> CloudResult<Vec<(String, StackState)>> {
    let mut found: Vec<(String, StackState)> = inventory
        .project_stacks()
        .await?
        .into_iter()
        .filter_map(|s| Some((project_of(&s)?.to_string(), s)))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn names(projects: &[(String, StackState)]) -> String {
    projects
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `project` was not found, with the projects that do exist.
async fn not_found(inventory: &dyn Inventory, project: &str, region: &str) -> String {
    let known = match project_stacks(inventory).await {
        Ok(found) if found.is_empty() => "there are none".to_string(),
        Ok(found) => format!("there are: {}", names(&found)),
        Err(_) => "the others could not be listed".to_string(),
    };
    format!(
        "no Defang project \"{project}\" in {region} ({known}): check --project, or pass \
         --region for the region it was deployed to"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests_support::FakeInventory;

    pub(crate) fn project_stack(project: &str, outputs: &[(&str, &str)]) -> StackState {
        StackState {
            id: format!("arn:stack/{project}"),
            name: aws_names::project_stack(project),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            outputs: outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tags: [
                (PROJECT_TAG.to_string(), project.to_string()),
                (USERNAME_TAG.to_string(), "alice".to_string()),
            ]
            .into(),
        }
    }

    #[test]
    fn the_site_comes_from_the_stack_outputs() {
        let stack = project_stack(
            "shop",
            &[
                ("ClusterName", "defang-shop"),
                ("LogGroupName", "/defang/shop"),
                ("PublicDomain", "shop.alice.example.com"),
            ],
        );
        let site = ProjectSite::from_stack("shop", &stack);
        assert_eq!(site.cluster, "defang-shop");
        assert_eq!(site.log_group, "/defang/shop");
        assert_eq!(
            site.public_domain.as_deref(),
            Some("shop.alice.example.com")
        );
        assert_eq!(
            site.zone().ingress_domain("web", 80).unwrap(),
            "web--80.shop.alice.example.com"
        );
        // The zone the stack made (or adopted) wins over the announced one.
        let mut adopted = stack.clone();
        adopted
            .outputs
            .insert("ZoneName".into(), "apps.example.org".into());
        assert_eq!(
            ProjectSite::from_stack("shop", &adopted)
                .zone()
                .ingress_domain("web", 80)
                .unwrap(),
            "web--80.apps.example.org"
        );
        // A stack older than both outputs: the username tag and the default suffix.
        let old = project_stack("shop", &[]);
        let site = ProjectSite::from_stack("shop", &old);
        assert_eq!(site.public_domain.as_deref(), Some("shop.alice.defang.app"));
        assert_eq!(site.cluster, "defang-shop");
        assert_eq!(site.log_group, "/defang/shop");
    }

    #[tokio::test]
    async fn the_only_project_is_the_default_and_several_must_be_chosen() {
        let one = FakeInventory::with_stacks(vec![project_stack("shop", &[])]);
        assert_eq!(
            choose_project(&one, None, "us-east-1").await.unwrap().name,
            "shop"
        );
        let none = FakeInventory::with_stacks(vec![]);
        let err = choose_project(&none, None, "eu-west-1").await.unwrap_err();
        assert!(err.contains("no Defang project in eu-west-1"), "{err}");
        assert!(err.contains("--region"), "{err}");
        let two = FakeInventory::with_stacks(vec![
            project_stack("shop", &[]),
            project_stack("blog", &[]),
        ]);
        let err = choose_project(&two, None, "us-east-1").await.unwrap_err();
        assert!(
            err.contains("2 Defang projects in us-east-1 (blog, shop)")
                && err.contains("--project"),
            "{err}"
        );
        assert_eq!(
            choose_project(&two, Some("blog"), "us-east-1")
                .await
                .unwrap()
                .name,
            "blog"
        );
    }

    #[tokio::test]
    async fn a_requested_project_must_exist_and_be_tagged_as_it() {
        let two = FakeInventory::with_stacks(vec![
            project_stack("shop", &[]),
            project_stack("blog", &[]),
        ]);
        let err = choose_project(&two, Some("shp"), "us-east-1")
            .await
            .unwrap_err();
        assert!(
            err.contains("no Defang project \"shp\" in us-east-1 (there are: blog, shop)"),
            "{err}"
        );
        // A stack of the project's name that is another project's (or no project's).
        let mut foreign = project_stack("shop", &[]);
        foreign.tags.insert(PROJECT_TAG.into(), "other".into());
        let foreign = FakeInventory::with_stacks(vec![foreign]);
        let err = choose_project(&foreign, Some("shop"), "us-east-1")
            .await
            .unwrap_err();
        assert!(
            err.contains("not the stack of Defang project \"shop\""),
            "{err}"
        );
    }
}
