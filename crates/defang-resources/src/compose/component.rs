//! `defang:index:Compose`: a component that reads a Compose file and registers one
//! `defang:index:Project` and one `defang:index:Service` per Compose service under it, so that
//! `pulumi up` shows each service as its own resource, with its own status, diff and domain.
//!
//! The children are named after the component: `<name>-project` and `<name>-<service>`, so
//! that two Compose components in one program do not collide.
//!
//! Paths are relative to the Pulumi program's directory, which is the provider's working
//! directory (the engine starts providers there); a service's build context is relative to the
//! Compose file's folder, as in Compose.

use super::{ComposeProject, ComposeSource, load};
use crate::project::lifecycle::TOKEN as PROJECT;
use crate::service::lifecycle::TOKEN as SERVICE;
use crate::service::status::ServiceStatus;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use pulumi_plugin::{
    Child, ChildOptions, Component, ComponentScope, ConstructRequest, Error, PropertyMap,
    Registered, Value,
};
use schemars::JsonSchema;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The type token.
pub const TOKEN: &str = "defang:index:Compose";

/// The files looked for when `file` is not set, in this order (as `docker compose` does).
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Services from a Compose file: one `defang:index:Project` and one `defang:index:Service` per
/// Compose service, each its own resource in `pulumi up` with its own status, diff and domain.
/// Keys this provider does not support are warnings that name the service and the key; keys
/// that make a deployment impossible fail with their path in the file.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // The schema's declaration: construct reads the property map itself.
pub struct ComposeInputs {
    /// The Compose file, relative to the Pulumi program's directory. Defaults to the first of
    /// `compose.yaml`, `compose.yml`, `docker-compose.yaml` and `docker-compose.yml` there.
    file: Option<String>,
    /// The Defang project name. Defaults to the Compose file's top-level `name`, else the Pulumi
    /// project name.
    project: Option<String>,
    /// Values for the variables the Compose file leaves to the environment: `${VAR}` references
    /// and value-less `environment` entries such as `- API_KEY`. Values may be Pulumi secrets:
    /// whatever they reach stays secret. They come before a `.env` file beside the Compose file,
    /// which comes before the environment of the `pulumi` process.
    environment: Option<BTreeMap<String, String>>,
    /// The project's `loadBalancer`: `true` makes the load balancer with the project, `false`
    /// never makes one (ingress ports are then refused). Unset: made when the first service
    /// with an ingress port deploys.
    load_balancer: Option<bool>,
}

/// What a Compose component gives.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ComposeOutputs {
    /// The Defang project the services are in.
    project: String,
    /// Each Compose service by name: its status, domain and endpoints.
    services: BTreeMap<String, ComposeServiceOutputs>,
}

/// One service of a Compose component: its status, domain and endpoints.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceSummary")]
#[allow(dead_code)]
pub struct ComposeServiceOutputs {
    /// Where the service's rollout is, as of the last `up` or refresh.
    status: ServiceStatus,
    /// The public domain of the service's first ingress port; absent without one.
    domain: Option<String>,
    /// One endpoint per port, in the order of its `ports`.
    endpoints: Vec<String>,
}

pub struct ComposeComponent;

#[async_trait::async_trait]
impl<S: Send + Sync + 'static> Component<S> for ComposeComponent {
    fn token(&self) -> &'static str {
        TOKEN
    }

    async fn construct(
        &self,
        _: Option<&S>,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
        construct(req, scope).await
    }
}

/// A text input: `Ok(None)` when unset, `Err` naming it when it has another type.
fn text_input(inputs: &PropertyMap, key: &str) -> Result<Option<Value>, Error> {
    match inputs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) if value.is_unknown() || value.as_str().is_some() => Ok(Some(value.clone())),
        Some(_) => Err(Error::InvalidArgument(format!(
            "{TOKEN}: `{key}` must be a string"
        ))),
    }
}

/// The Compose file to read: `file` from the program's directory, else the first default
/// name found there.
fn compose_file(file: Option<&str>, program_dir: &Path) -> Result<PathBuf, Error> {
    match file {
        Some(file) => {
            let path = program_dir.join(file);
            if path.is_file() {
                Ok(path)
            } else {
                Err(Error::InvalidArgument(format!(
                    "{TOKEN}: `file`: {file:?} is not a file (paths are relative to the Pulumi \
                     program's directory, {})",
                    program_dir.display()
                )))
            }
        }
        None => DEFAULT_FILES
            .iter()
            .map(|name| program_dir.join(name))
            .find(|path| path.is_file())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{TOKEN}: no Compose file in {}: add compose.yaml there, or set `file`",
                    program_dir.display()
                ))
            }),
    }
}

async fn construct(req: ConstructRequest, scope: &ComponentScope) -> Result<PropertyMap, Error> {
    let inputs = &req.inputs;
    let file = text_input(inputs, "file")?;
    let project_input = text_input(inputs, "project")?;
    if file.as_ref().is_some_and(Value::is_unknown) {
        // Which file is not known until `up`: nothing can be planned from it yet.
        return Ok(PropertyMap::from([
            ("project".to_string(), Value::Unknown),
            ("services".to_string(), Value::Unknown),
        ]));
    }
    let environment = match inputs.get("environment") {
        None | Some(Value::Null) => PropertyMap::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::Secret(inner)) => match inner.as_ref() {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into_secret()))
                .collect(),
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "{TOKEN}: `environment` must be a map of names to values"
                )));
            }
        },
        Some(_) => {
            return Err(Error::InvalidArgument(format!(
                "{TOKEN}: `environment` must be a map of names to values"
            )));
        }
    };

    let program_dir = std::env::current_dir()
        .map_err(|e| Error::Failed(format!("{TOKEN}: cannot tell the program's directory: {e}")))?;
    let file_name = file.as_ref().and_then(Value::as_str);
    let path = compose_file(file_name, &program_dir)?;
    let shown = path
        .strip_prefix(&program_dir)
        .unwrap_or(&path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::InvalidArgument(format!("{TOKEN}: cannot read {shown}: {e}")))?;
    let compose_dir = path.parent().unwrap_or(&program_dir).to_path_buf();
    let dot_env = std::fs::read_to_string(compose_dir.join(".env")).ok();
    let process_env: BTreeMap<String, String> = std::env::vars().collect();
    let read_env_file = |relative: &str| {
        std::fs::read_to_string(compose_dir.join(relative)).map_err(|e| e.to_string())
    };
    // Loaded in one go, before anything is awaited (the source borrows a reader that need
    // not be sent between threads).
    let loaded = load(&ComposeSource {
        text: &text,
        path: &shown,
        dot_env: dot_env.as_deref(),
        environment: &environment,
        process_env: &process_env,
        read_env_file: &read_env_file,
    });
    let project = loaded.map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{shown}: {}: {}", e.path, e.message))
            .collect();
        Error::InvalidArgument(lines.join("\n"))
    })?;
    for warning in &project.warnings {
        scope
            .log()
            .warn(&format!("{shown}: {}: {}", warning.path, warning.message))
            .await;
    }
    register_children(&req, scope, project_input, project).await
}

/// Registers the project, then every service as soon as the services it depends on are
/// deployed (all at once when none depends on another), and gathers the outputs.
async fn register_children(
    req: &ConstructRequest,
    scope: &ComponentScope,
    project_input: Option<Value>,
    compose: ComposeProject,
) -> Result<PropertyMap, Error> {
    let order = dependency_order(&compose)?;
    let mut project_inputs = PropertyMap::new();
    if let Some(name) = project_input.or_else(|| compose.name.clone().map(Value::from)) {
        project_inputs.insert("name".into(), name);
    }
    if let Some(lb) = req
        .inputs
        .get("loadBalancer")
        .filter(|v| !matches!(v, Value::Null))
    {
        project_inputs.insert("loadBalancer".into(), lb.clone());
    }
    let project = scope
        .register(Child::custom(
            PROJECT,
            &format!("{}-project", req.name),
            project_inputs,
        ))
        .await?;
    let project_name = project
        .outputs
        .get("name")
        .cloned()
        .unwrap_or(Value::Unknown);

    // Each service's registration is a shared future: the services that depend on it await
    // the same one, so each is registered once, as soon as what it depends on is deployed.
    type Registration<'a> = Shared<BoxFuture<'a, Result<Registered, String>>>;
    let mut registrations: BTreeMap<String, Registration<'_>> = BTreeMap::new();
    for index in order {
        let service = &compose.services[index];
        let mut inputs = service.inputs.clone();
        inputs.insert("project".into(), project_name.clone());
        inputs.insert("name".into(), Value::from(service.name.as_str()));
        let waits: Vec<Registration<'_>> = service
            .depends_on
            .iter()
            .filter_map(|d| registrations.get(d).cloned())
            .collect();
        let child_name = format!("{}-{}", req.name, service.name);
        let project_urn = project.urn.clone();
        let registration = async move {
            let mut depends_on = vec![project_urn.clone()];
            for wait in waits {
                depends_on.push(wait.await?.urn);
            }
            let child = Child::custom(SERVICE, &child_name, inputs).with_options(ChildOptions {
                depends_on,
                property_dependencies: BTreeMap::from([("project".to_string(), vec![project_urn])]),
                ..Default::default()
            });
            scope.register(child).await.map_err(|e| e.to_string())
        }
        .boxed()
        .shared();
        registrations.insert(service.name.clone(), registration);
    }
    let names: Vec<String> = registrations.keys().cloned().collect();
    let results = futures::future::join_all(registrations.into_values()).await;
    let mut services = PropertyMap::new();
    let mut failures = Vec::new();
    for (name, result) in names.into_iter().zip(results) {
        match result {
            Ok(registered) => {
                services.insert(name, Value::Object(service_outputs(&registered.outputs)));
            }
            Err(message) => failures.push(format!("service {name}: {message}")),
        }
    }
    if !failures.is_empty() {
        return Err(Error::Failed(failures.join("\n")));
    }
    Ok(PropertyMap::from([
        ("project".to_string(), project_name),
        ("services".to_string(), Value::Object(services)),
    ]))
}

/// The status, domain and endpoints of a registered service.
fn service_outputs(outputs: &PropertyMap) -> PropertyMap {
    ["status", "domain", "endpoints"]
        .into_iter()
        .filter_map(|key| outputs.get(key).map(|v| (key.to_string(), v.clone())))
        .collect()
}

/// Indices of the services, each after the services it depends on; a cycle is an error that
/// names it.
fn dependency_order(compose: &ComposeProject) -> Result<Vec<usize>, Error> {
    let index: BTreeMap<&str, usize> = compose
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut order = Vec::new();
    // 0: not visited, 1: on the current path, 2: done.
    let mut mark = vec![0u8; compose.services.len()];
    fn visit(
        i: usize,
        compose: &ComposeProject,
        index: &BTreeMap<&str, usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> Result<(), Error> {
        match mark[i] {
            2 => return Ok(()),
            1 => {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..]
                    .iter()
                    .map(|&p| compose.services[p].name.as_str())
                    .collect();
                cycle.push(compose.services[i].name.as_str());
                return Err(Error::InvalidArgument(format!(
                    "services.{}.depends_on: the services depend on each other in a circle \
                     ({}); remove one of these dependencies",
                    compose.services[i].name,
                    cycle.join(" → ")
                )));
            }
            _ => {}
        }
        mark[i] = 1;
        path.push(i);
        for dependency in &compose.services[i].depends_on {
            if let Some(&d) = index.get(dependency.as_str()) {
                visit(d, compose, index, mark, path, order)?;
            }
        }
        path.pop();
        mark[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..compose.services.len() {
        visit(i, compose, &index, &mut mark, &mut Vec::new(), &mut order)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::ComposeService;

    fn project(services: &[(&str, &[&str])]) -> ComposeProject {
        ComposeProject {
            name: None,
            services: services
                .iter()
                .map(|(name, deps)| ComposeService {
                    name: name.to_string(),
                    inputs: PropertyMap::new(),
                    depends_on: deps.iter().map(|d| d.to_string()).collect(),
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    fn names(compose: &ComposeProject, order: &[usize]) -> Vec<String> {
        order
            .iter()
            .map(|&i| compose.services[i].name.clone())
            .collect()
    }

    #[test]
    fn services_come_after_what_they_depend_on() {
        let compose = project(&[
            ("web", &["api"]),
            ("api", &["redis", "db"]),
            ("worker", &["redis"]),
            ("redis", &[]),
            ("db", &[]),
        ]);
        let order = names(&compose, &dependency_order(&compose).unwrap());
        let at = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert_eq!(order.len(), 5, "{order:?}");
        assert!(at("redis") < at("api") && at("db") < at("api"), "{order:?}");
        assert!(
            at("api") < at("web") && at("redis") < at("worker"),
            "{order:?}"
        );
    }

    #[test]
    fn a_dependency_cycle_is_an_error_that_names_it() {
        let compose = project(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        let err = dependency_order(&compose).unwrap_err().to_string();
        assert!(err.contains("a → b → c → a"), "{err}");
        assert!(err.contains("depends_on"), "{err}");
    }

    #[test]
    fn the_compose_file_is_found_by_the_default_names_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let missing = compose_file(None, dir.path()).unwrap_err().to_string();
        assert!(
            missing.contains("add compose.yaml there, or set `file`"),
            "{missing}"
        );
        std::fs::write(dir.path().join("docker-compose.yml"), "services: {}").unwrap();
        assert_eq!(
            compose_file(None, dir.path()).unwrap(),
            dir.path().join("docker-compose.yml")
        );
        std::fs::write(dir.path().join("compose.yaml"), "services: {}").unwrap();
        assert_eq!(
            compose_file(None, dir.path()).unwrap(),
            dir.path().join("compose.yaml")
        );
        let named = compose_file(Some("other.yaml"), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            named.contains("`file`") && named.contains("other.yaml"),
            "{named}"
        );
    }

    #[test]
    fn inputs_of_the_wrong_type_are_named() {
        let inputs = PropertyMap::from([("file".to_string(), Value::Bool(true))]);
        let err = text_input(&inputs, "file").unwrap_err().to_string();
        assert!(err.contains("`file` must be a string"), "{err}");
        let unknown = PropertyMap::from([("file".to_string(), Value::Unknown)]);
        assert_eq!(text_input(&unknown, "file").unwrap(), Some(Value::Unknown));
    }
}
