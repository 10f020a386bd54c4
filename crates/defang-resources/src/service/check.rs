//! Check for `defang:index:Service`: every problem at once, each at its property path with a
//! reason that says how to fix it.
//!
//! Two passes:
//! 1. the shape of the raw properties against the schema of [`ServiceInputs`] (unknown or
//!    misspelled properties at every level, wrong types, ranges, enum values), see
//!    [`crate::shape`];
//! 2. the rules a schema cannot say (names, image reference, ports, environment names, sizes,
//!    health check), on the top-level properties that are well-formed and fully known. A
//!    property that is malformed or still unknown (preview) is left out of the second pass, so
//!    one mistake does not hide the others and an unknown value never fails.

use super::domain::check_ingress_label;
use super::image::parse_image;
use super::inputs::{HealthCheck, PortMode, ServiceInputs};
use super::sizing::{fargate_size, parse_memory};
use crate::names::{validate_project_name, validate_service_name};
use pulumi_plugin::Shape;
use pulumi_plugin::value::from_properties;
use pulumi_plugin::{CheckFailure, PropertyMap, PropertyPath, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The schema of [`ServiceInputs`] for checks outside the provider's registry (tests, benches).
fn shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(Shape::of::<ServiceInputs>)
}

/// Checks the inputs of a service named `resource_name` in the Pulumi program.
///
/// Returns the decoded inputs when there are no failures and `project` is known. Properties
/// that contain unknown values (during preview) are absent from them (or empty): ask
/// [`pulumi_plugin::value::unknown_paths`] before reading an absent property as "not set".
/// Returns `None` with no failures when only unknown values stand in the way.
pub fn check_service(
    news: &PropertyMap,
    resource_name: &str,
) -> (Option<ServiceInputs>, Vec<CheckFailure>) {
    check_against(shape(), news, resource_name)
}

/// [`check_service`] against `shape`, the schema of [`ServiceInputs`] (the provider's registry
/// derives it once).
pub(crate) fn check_against(
    shape: &Shape,
    news: &PropertyMap,
    resource_name: &str,
) -> (Option<ServiceInputs>, Vec<CheckFailure>) {
    let shape_failures = shape.check(news);
    let malformed: BTreeSet<String> = shape_failures
        .iter()
        .filter_map(|f| f.path.top().map(str::to_string))
        .collect();
    let mut failures: Vec<CheckFailure> = shape_failures.into_iter().map(Into::into).collect();

    // Usually every property is well-formed, known and without nulls: then they decode as
    // they are, with no copy.
    let as_given = malformed.is_empty()
        && news.contains_key("project")
        && news
            .values()
            .all(|value| !value.contains_unknowns() && !has_null(value));
    let (decodable, project_known): (Cow<PropertyMap>, bool) = if as_given {
        (Cow::Borrowed(news), true)
    } else {
        let mut decodable: PropertyMap = news
            .iter()
            .filter(|(key, value)| {
                !malformed.contains(*key) && !value.contains_unknowns() && **value != Value::Null
            })
            .map(|(key, value)| (key.clone(), without_nulls(value)))
            .collect();
        let project_known = decodable.contains_key("project");
        if !project_known {
            // Missing (reported by the shape pass), malformed or unknown: a stand-in lets the
            // other properties be checked; the inputs are not returned.
            decodable.insert("project".into(), Value::from(""));
        }
        (Cow::Owned(decodable), project_known)
    };
    let inputs: ServiceInputs = match from_properties(&decodable) {
        Ok(inputs) => inputs,
        Err(err) => {
            // The shape pass should have caught it; never leave a decoding problem unreported.
            failures.push(CheckFailure::new(err.path, err.message));
            return (None, failures);
        }
    };

    let checked = |key: &str| decodable.contains_key(key) && (key != "project" || project_known);
    let given = |key: &str| news.get(key).is_some_and(|v| *v != Value::Null);

    if checked("project")
        && let Some(project) = inputs.project.known()
        && let Err(reason) = validate_project_name(project)
    {
        failures.push(CheckFailure::new("project", reason));
    }
    check_name(
        &inputs,
        resource_name,
        checked("name"),
        given("name"),
        checked("ports"),
        &mut failures,
    );
    match (given("image"), given("build")) {
        (true, true) => failures.push(CheckFailure::new(
            "build",
            "set either `image` (a prebuilt image) or `build` (build from source), not both",
        )),
        (false, false) => failures.push(CheckFailure::new(
            "image",
            "is required unless `build` is set: the container image to run, for example \
             \"nginx:1.27\" or \"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:<64 hex \
             digits>\", or `build: {context: ./app}` to build it from source",
        )),
        _ => {}
    }
    if checked("image")
        && let Some(Err(reason)) = inputs.image.as_deref().map(parse_image)
    {
        failures.push(CheckFailure::new("image", reason));
    }
    if checked("build")
        && let Some(build) = &inputs.build
    {
        crate::build::check::check_build(build, &mut failures);
    }
    if checked("ports") {
        check_ports(&inputs, &mut failures);
    }
    if checked("environment") {
        // `[A-Za-z_][A-Za-z0-9_]*`, as POSIX shells require. Values are never quoted: they
        // may be secrets.
        check_variable_names("environment", inputs.environment.keys(), &mut failures);
    }
    for (key, list) in [
        ("command", &inputs.command),
        ("entrypoint", &inputs.entrypoint),
    ] {
        if checked(key) && list.as_ref().is_some_and(Vec::is_empty) {
            failures.push(CheckFailure::new(
                key,
                format!(
                    "must not be empty: ECS cannot clear the image's {}; remove `{key}` to keep \
                     the image's, or list the program and its arguments",
                    if key == "command" {
                        "CMD"
                    } else {
                        "ENTRYPOINT"
                    }
                ),
            ));
        }
    }
    check_size(&inputs, checked("cpus"), checked("memory"), &mut failures);
    if checked("domainName")
        && let Some(domain) = &inputs.domain_name
    {
        check_domain_name(domain, &inputs, &mut failures);
    }
    if checked("healthCheck")
        && let Some(health_check) = &inputs.health_check
    {
        check_health_check(health_check, &mut failures);
    }
    if checked("secrets") {
        check_secrets(&inputs, checked("environment"), &mut failures);
    }
    super::task_role::check_permissions(&inputs, &checked, &mut failures);
    check_operational(&inputs, &checked, &mut failures);
    super::scaling::check_scaling(&inputs, &checked, &mut failures);

    let complete = failures.is_empty() && project_known;
    (complete.then_some(inputs), failures)
}

/// Whether there is a `null` anywhere in `value`.
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().any(has_null),
        Value::Array(items) => items.iter().any(has_null),
        Value::Secret(inner) => has_null(inner),
        _ => false,
    }
}

/// `null` inside objects means absent (decoding would reject it for lists and maps).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| **v != Value::Null)
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        Value::Secret(inner) => Value::Secret(Box::new(without_nulls(inner))),
        other => other.clone(),
    }
}

/// The service name (given, or the resource name), and that its domains fit in DNS labels.
fn check_name(
    inputs: &ServiceInputs,
    resource_name: &str,
    name_checked: bool,
    name_given: bool,
    ports_checked: bool,
    failures: &mut Vec<CheckFailure>,
) {
    let name = match (&inputs.name, name_checked, name_given) {
        (Some(name), true, _) => {
            if let Err(reason) = validate_service_name(name) {
                failures.push(CheckFailure::new("name", reason));
                return;
            }
            name.as_str()
        }
        (_, _, false) => {
            if let Err(reason) = validate_service_name(resource_name) {
                failures.push(CheckFailure::new(
                    "name",
                    format!(
                        "is not set, so the service would be named after the Pulumi resource; \
                         set `name` (or rename the resource), because the resource name {reason}"
                    ),
                ));
                return;
            }
            resource_name
        }
        // Unknown or malformed: nothing more to check yet.
        _ => return,
    };
    if !ports_checked {
        return;
    }
    // The longest port number makes the longest `<name>--<port>` label.
    let longest = inputs
        .ports
        .iter()
        .filter(|p| p.mode.unwrap_or_default() == PortMode::Ingress)
        .max_by_key(|p| p.target.to_string().len());
    if let Some(port) = longest
        && let Err(err) = check_ingress_label(name, port.target)
    {
        failures.push(err.into());
    }
}

fn check_ports(inputs: &ServiceInputs, failures: &mut Vec<CheckFailure>) {
    let ports = PropertyPath::root().key("ports");
    let mut seen = BTreeMap::new();
    for (i, port) in inputs.ports.iter().enumerate() {
        let resolved = port.resolved();
        let protocol = resolved.protocol.as_str();
        if let Some(first) = seen.insert((resolved.target, protocol), i) {
            // Keep the first index for later duplicates too.
            seen.insert((resolved.target, protocol), first);
            failures.push(CheckFailure::new(
                ports.index(i).key("target").to_string(),
                format!(
                    "repeats port {}/{protocol} of ports[{first}]: list each target and \
                     protocol once (one port may be both tcp and udp)",
                    resolved.target
                ),
            ));
        }
        if resolved.app_protocol.is_some() && protocol != "tcp" {
            failures.push(CheckFailure::new(
                ports.index(i).key("appProtocol").to_string(),
                "applies only to tcp ports: remove it, or make this port tcp",
            ));
        } else if resolved.mode == super::inputs::PortMode::Ingress && protocol != "tcp" {
            // Ingress is served by the project's HTTPS load balancer; there is no network load
            // balancer for raw UDP yet.
            failures.push(CheckFailure::new(
                ports.index(i).key("protocol").to_string(),
                "ingress ports are HTTP(S) behind the project's load balancer, so they are tcp: \
                 set `mode: host` for a private UDP port",
            ));
        }
    }
}

/// `secrets`: names as for `environment` and not also in it, and well-formed references.
fn check_secrets(
    inputs: &ServiceInputs,
    environment_checked: bool,
    failures: &mut Vec<CheckFailure>,
) {
    check_variable_names("secrets", inputs.secrets.keys(), failures);
    for (var, reference) in &inputs.secrets {
        super::existing_secrets::check_reference(var, reference, failures);
        if environment_checked && inputs.environment.contains_key(var) {
            failures.push(CheckFailure::new(
                PropertyPath::root().key("secrets").key(var).to_string(),
                format!(
                    "{var} is also in `environment`: a variable has one value, so keep it in one of them"
                ),
            ));
        }
    }
}

/// `workingDir`, `user`, `healthCheckGracePeriod` and `enableExec` with what they need (the
/// ranges are the schema's).
fn check_operational(
    inputs: &ServiceInputs,
    checked: &dyn Fn(&str) -> bool,
    failures: &mut Vec<CheckFailure>,
) {
    if checked("workingDir")
        && let Some(dir) = &inputs.working_dir
        && !dir.starts_with('/')
    {
        failures.push(CheckFailure::new(
            "workingDir",
            format!(
                "must be an absolute path, e.g. \"/app\"; got {}",
                crate::names::quoted(dir)
            ),
        ));
    }
    if checked("user")
        && let Some(user) = &inputs.user
    {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        let valid = match user.split_once(':') {
            Some((u, g)) => part_ok(u) && part_ok(g),
            None => part_ok(user),
        };
        if !valid {
            failures.push(CheckFailure::new(
                "user",
                format!(
                    "{} is not a user: use `user`, `user:group`, `uid` or `uid:gid`, e.g. \"1000:1000\" or \"node\"",
                    crate::names::quoted(user)
                ),
            ));
        }
    }
    if checked("healthCheckGracePeriod")
        && checked("ports")
        && inputs.health_check_grace_period.is_some()
        && !inputs
            .ports
            .iter()
            .any(|p| p.mode.unwrap_or_default() == PortMode::Ingress)
    {
        failures.push(CheckFailure::new(
            "healthCheckGracePeriod",
            "applies to load-balanced services only (the load balancer's health checks), and this service has no ingress port: remove it, or use `healthCheck.startPeriodSeconds` for the container's own check",
        ));
    }
    if checked("enableExec")
        && checked("readonlyRootFilesystem")
        && inputs.enable_exec == Some(true)
        && inputs.readonly_root_filesystem == Some(true)
    {
        failures.push(CheckFailure::new(
            "enableExec",
            "ECS Exec needs a writable root filesystem (its agent writes into the container): turn `readonlyRootFilesystem` off, or `enableExec` off",
        ));
    }
}

fn check_variable_names<'a>(
    property: &str,
    names: impl Iterator<Item = &'a String>,
    failures: &mut Vec<CheckFailure>,
) {
    for name in names {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            continue;
        }
        let path = PropertyPath::root().key(property).key(name).to_string();
        let reason = if name.is_empty() {
            "an environment variable needs a name".to_string()
        } else {
            format!(
                "is not a valid environment variable name: use letters, digits and '_', not \
                 starting with a digit — try {:?}",
                suggest_env_name(name)
            )
        };
        failures.push(CheckFailure::new(path, reason));
    }
}

fn suggest_env_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if cleaned.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

fn check_domain_name(domain: &str, inputs: &ServiceInputs, failures: &mut Vec<CheckFailure>) {
    let name = domain.trim_end_matches('.');
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if labels.len() < 2 || name.len() > 253 || !labels.iter().all(label_ok) {
        failures.push(CheckFailure::new(
            "domainName",
            format!("\"{domain}\" is not a domain name like www.example.com (letters, digits and '-' in dot-separated labels)"),
        ));
    }
    let has_ingress = inputs
        .ports
        .iter()
        .any(|p| p.resolved().mode == super::inputs::PortMode::Ingress);
    if !has_ingress {
        failures.push(CheckFailure::new(
            "domainName",
            "needs an ingress port to serve: add one to `ports` (mode ingress), or remove `domainName`",
        ));
    }
}

fn check_size(
    inputs: &ServiceInputs,
    cpus_checked: bool,
    memory_checked: bool,
    failures: &mut Vec<CheckFailure>,
) {
    let memory_mib = match inputs.memory.as_deref().filter(|_| memory_checked) {
        None => None,
        Some(text) => match parse_memory(text) {
            Ok(mib) => Some(mib),
            Err(reason) => {
                failures.push(CheckFailure::new("memory", reason));
                None
            }
        },
    };
    let cpus = inputs.cpus.filter(|_| cpus_checked);
    if let Err(err) = fargate_size(cpus, memory_mib) {
        failures.push(CheckFailure::new(err.input.property(), err.reason));
    }
}

const HEALTH_CHECK_FORMS: &str = "[\"CMD\", \"curl\", \"-f\", \"http://localhost/\"], \
     [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"] or [\"NONE\"]";

/// Compose form: `["CMD", program, args...]`, `["CMD-SHELL", "shell command"]` or `["NONE"]`.
fn check_health_check(health_check: &HealthCheck, failures: &mut Vec<CheckFailure>) {
    let test = PropertyPath::root().key("healthCheck").key("test");
    let Some(first) = health_check.test.first() else {
        failures.push(CheckFailure::new(
            test.to_string(),
            format!("must not be empty: use {HEALTH_CHECK_FORMS}"),
        ));
        return;
    };
    let problem = match (first.as_str(), health_check.test.len()) {
        ("CMD", 1) => Some("[\"CMD\"] needs the program to run after it, e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost/\"]".to_string()),
        ("CMD", _) => None,
        ("CMD-SHELL", 2) => None,
        ("CMD-SHELL", 1) => Some("[\"CMD-SHELL\"] needs the shell command after it, e.g. [\"CMD-SHELL\", \"curl -f http://localhost/ || exit 1\"]".to_string()),
        ("CMD-SHELL", _) => Some("[\"CMD-SHELL\", ...] takes one shell command string: join the rest into one string, or use \"CMD\" with separate arguments".to_string()),
        ("NONE", 1) => None,
        ("NONE", _) => Some("[\"NONE\"] disables the health check and takes nothing after it".to_string()),
        (other, _) => {
            let upper = other.to_ascii_uppercase();
            let hint = if ["CMD", "CMD-SHELL", "NONE"].contains(&upper.as_str()) {
                format!(" — write {upper:?} in uppercase")
            } else {
                format!(" — to run {other:?} directly, put \"CMD\" before it")
            };
            failures.push(CheckFailure::new(
                test.index(0).to_string(),
                format!(
                    "must be \"CMD\", \"CMD-SHELL\" or \"NONE\"; got {}{hint}",
                    crate::names::quoted(other)
                ),
            ));
            None
        }
    };
    if let Some(problem) = problem {
        failures.push(CheckFailure::new(test.to_string(), problem));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulumi_plugin::value::from_json;
    use serde_json::json;

    fn props(value: serde_json::Value) -> PropertyMap {
        match from_json(value) {
            Value::Object(map) => map,
            _ => unreachable!("test input must be an object"),
        }
    }

    fn check(value: serde_json::Value) -> (Option<ServiceInputs>, Vec<(String, String)>) {
        let (inputs, failures) = check_service(&props(value), "web");
        let failures = failures
            .into_iter()
            .map(|f| (f.property, f.reason))
            .collect();
        (inputs, failures)
    }

    fn paths(value: serde_json::Value) -> Vec<String> {
        check(value).1.into_iter().map(|(p, _)| p).collect()
    }

    fn reason_at(value: serde_json::Value, path: &str) -> String {
        let (_, failures) = check(value);
        failures
            .into_iter()
            .find(|(p, _)| p == path)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("no failure at {path}"))
    }

    #[test]
    fn a_good_service_passes() {
        let (inputs, failures) = check(json!({
            "project": "shop", "image": "nginx:1.27",
            "ports": [{"target": 80, "appProtocol": "http"}, {"target": 53, "protocol": "udp", "mode": "host"}],
            "environment": {"DATABASE_URL": "postgres://", "_x1": ""},
            "command": ["nginx", "-g", "daemon off;"],
            "replicas": 0, "cpus": 0.5, "memory": "1Gi", "platform": "linux/arm64",
            "healthCheck": {"test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "intervalSeconds": 10},
            "waitForSteadyState": false,
        }));
        assert_eq!(failures, vec![]);
        let inputs = inputs.unwrap();
        assert_eq!(inputs.project.known().map(String::as_str), Some("shop"));
        assert_eq!(inputs.replicas, Some(0));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let got = paths(json!({
            "project": "Shop", "name": "Web_1", "image": "Nginx latest",
            "replica": 2,
            "ports": [{"target": 80}, {"target": 0}, {"target": 80}, {"target": 53, "protocol": "udp", "appProtocol": "grpc"}],
            "environment": {"1BAD": "x", "GOOD": "y", "my-var": "z"},
            "cpus": 32, "memory": "lots", "platform": "linux/386",
            "healthCheck": {"test": ["curl", "-f", "http://localhost/"], "intervalSeconds": 1, "tmeout": 3},
        }));
        assert_eq!(
            got,
            vec![
                "healthCheck.intervalSeconds",
                "healthCheck.tmeout",
                "platform",
                "ports[1].target",
                "replica",
                "project",
                "name",
                "image",
                "environment[\"1BAD\"]",
                "environment[\"my-var\"]",
                "memory",
                "cpus",
            ]
        );
    }

    #[test]
    fn ports_are_checked_once_well_formed() {
        let got = check(json!({
            "project": "shop", "image": "nginx",
            "ports": [{"target": 80}, {"target": 80, "protocol": "udp", "mode": "host"}, {"target": 80}, {"target": 80}, {"target": 53, "protocol": "udp", "appProtocol": "grpc"}],
        }))
        .1;
        assert_eq!(
            got,
            vec![
                ("ports[2].target".to_string(), "repeats port 80/tcp of ports[0]: list each target and protocol once (one port may be both tcp and udp)".to_string()),
                ("ports[3].target".to_string(), "repeats port 80/tcp of ports[0]: list each target and protocol once (one port may be both tcp and udp)".to_string()),
                ("ports[4].appProtocol".to_string(), "applies only to tcp ports: remove it, or make this port tcp".to_string()),
            ]
        );
    }

    #[test]
    fn reasons_say_the_fix() {
        let base = |extra: serde_json::Value| {
            let mut v = json!({"project": "shop", "image": "nginx"});
            if let (Some(map), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
                map.extend(extra);
            }
            v
        };
        assert_eq!(
            reason_at(base(json!({"replica": 2})), "replica"),
            "unknown property `replica` — did you mean `replicas`?"
        );
        assert_eq!(
            reason_at(base(json!({"ports": [{"target": 0}]})), "ports[0].target"),
            "must be between 1 and 65535; got 0"
        );
        assert!(reason_at(base(json!({"name": "My_App"})), "name").ends_with("try \"my-app\""));
        assert_eq!(
            reason_at(
                base(json!({"environment": {"1BAD": "secret-value"}})),
                "environment[\"1BAD\"]"
            ),
            "is not a valid environment variable name: use letters, digits and '_', not starting with a digit — try \"_1BAD\""
        );
        assert!(reason_at(base(json!({"memory": "1T"})), "memory").contains("unknown unit"));
        assert!(reason_at(base(json!({"memory": "200Gi"})), "memory").contains("at most 120 GiB"));
        assert!(reason_at(base(json!({"cpus": 0})), "cpus").contains("more than 0"));
        assert_eq!(
            reason_at(base(json!({"platform": "arm64"})), "platform"),
            "must be one of \"linux/amd64\", \"linux/arm64\"; got \"arm64\" — did you mean \"linux/arm64\"?"
        );
        assert!(
            reason_at(base(json!({"image": "MyOrg/app"})), "image").contains("try \"myorg/app\"")
        );
        assert!(
            reason_at(base(json!({"image": "nginx@sha256:abc"})), "image")
                .contains("64 hex digits")
        );
        assert_eq!(
            reason_at(
                base(json!({"ports": [{"target": 80, "protocol": "sctp"}]})),
                "ports[0].protocol"
            ),
            "must be one of \"tcp\", \"udp\"; got \"sctp\""
        );
        assert_eq!(
            reason_at(
                base(json!({"ports": [{"target": "80"}]})),
                "ports[0].target"
            ),
            "expected a whole number, got \"80\""
        );
        assert!(reason_at(base(json!({"command": []})), "command").contains("remove `command`"));
        assert!(
            reason_at(
                base(json!({"waitForSteadyState": "yes"})),
                "waitForSteadyState"
            )
            .contains("expected true or false")
        );
    }

    #[test]
    fn permissions_secrets_and_settings_are_checked_with_the_fix() {
        let base = |extra: serde_json::Value| {
            let mut v = json!({"project": "shop", "image": "nginx"});
            if let (Some(map), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
                map.extend(extra);
            }
            v
        };
        let ok = base(json!({
            "ports": [{"target": 80}],
            "secrets": {"DB": {"ssm": "/app/db"}, "API": {"secretsManager": "prod/api", "key": "token"}},
            "policies": ["AmazonS3ReadOnlyAccess"],
            "policyStatements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]}],
            "workingDir": "/app", "user": "1000:1000", "stopGracePeriod": 120,
            "healthCheckGracePeriod": 300, "readonlyRootFilesystem": true, "ephemeralStorage": 200,
            "init": true,
        }));
        assert_eq!(check(ok).1, vec![]);
        assert!(
            reason_at(base(json!({"workingDir": "app"})), "workingDir").contains("absolute path")
        );
        assert!(reason_at(base(json!({"user": "my user"})), "user").contains("uid:gid"));
        assert_eq!(
            reason_at(base(json!({"stopGracePeriod": 121})), "stopGracePeriod"),
            "must be between 0 and 120; got 121"
        );
        assert_eq!(
            reason_at(base(json!({"ephemeralStorage": 20})), "ephemeralStorage"),
            "must be between 21 and 200; got 20"
        );
        assert!(
            reason_at(
                base(
                    json!({"healthCheckGracePeriod": 30, "ports": [{"target": 80, "mode": "host"}]})
                ),
                "healthCheckGracePeriod"
            )
            .contains("no ingress port")
        );
        assert!(
            reason_at(
                base(json!({"enableExec": true, "readonlyRootFilesystem": true})),
                "enableExec"
            )
            .contains("writable root filesystem")
        );
        assert!(
            reason_at(
                base(json!({"environment": {"DB": "x"}, "secrets": {"DB": {"ssm": "/app/db"}}})),
                "secrets.DB"
            )
            .contains("also in `environment`")
        );
        assert!(
            reason_at(
                base(json!({"secrets": {"1DB": {"ssm": "/app/db"}}})),
                "secrets[\"1DB\"]"
            )
            .contains("try \"_1DB\"")
        );
        assert!(
            reason_at(
                base(json!({"secrets": {"DB": {"ssm": "arn:aws:ssm:us-east-1:1:parameter/x"}}})),
                "secrets.DB.ssm"
            )
            .contains("is not an SSM parameter ARN")
        );
        assert_eq!(
            reason_at(
                base(json!({"secrets": {"DB": {"ssm": "/a", "kee": "x"}}})),
                "secrets.DB.kee"
            ),
            "unknown property `kee` — did you mean `key`?"
        );
        assert!(
            reason_at(
                base(json!({"taskRoleArn": "arn:aws:iam::123456789012:role/r", "policies": ["ReadOnlyAccess"]})),
                "policies"
            )
            .contains("taskRoleArn")
        );
        assert!(
            reason_at(
                base(json!({"policyStatements": [{"actions": ["s3:GetObject"]}]})),
                "policyStatements[0].resources"
            )
            .contains("required")
        );
    }

    #[test]
    fn udp_ingress_is_rejected() {
        let got = check(json!({"project": "shop", "image": "nginx",
            "ports": [{"target": 53, "protocol": "udp"}, {"target": 54, "protocol": "udp", "mode": "host"}]})).1;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "ports[0].protocol");
        assert!(got[0].1.contains("mode: host"), "{}", got[0].1);
    }

    #[test]
    fn image_or_build_not_both() {
        let got = check(json!({"project": "shop", "image": "nginx", "build": {"context": "."}})).1;
        assert_eq!(got[0].0, "build", "{got:?}");
        assert!(got[0].1.contains("not both"), "{}", got[0].1);
    }

    #[test]
    fn project_and_image_are_required() {
        let got = check(json!({})).1;
        assert_eq!(got[0].0, "project");
        assert!(
            got[0]
                .1
                .starts_with("is required: the name of the Defang project"),
            "{}",
            got[0].1
        );
        assert_eq!(got[1].0, "image");
        assert!(
            got[1].1.starts_with("is required unless `build` is set"),
            "{}",
            got[1].1
        );
    }

    #[test]
    fn the_resource_name_must_be_a_service_name_when_name_is_not_set() {
        let (_, failures) = check_service(
            &props(json!({"project": "shop", "image": "nginx"})),
            "My_Web",
        );
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].property, "name");
        assert!(
            failures[0]
                .reason
                .starts_with("is not set, so the service would be named after the Pulumi resource"),
            "{}",
            failures[0].reason
        );
        assert!(
            failures[0].reason.ends_with("try \"my-web\""),
            "{}",
            failures[0].reason
        );
        let (inputs, failures) = check_service(
            &props(json!({"project": "shop", "image": "nginx", "name": "web"})),
            "My_Web",
        );
        assert!(failures.is_empty() && inputs.is_some());
        // No `--` in service names: it separates the port in domains.
        assert!(
            reason_at(
                json!({"project": "shop", "image": "nginx", "name": "a--b"}),
                "name"
            )
            .contains("\"--\"")
        );
    }

    #[test]
    fn long_names_do_not_fit_the_domain() {
        let name = "a".repeat(59);
        let ok = json!({"project": "shop", "image": "nginx", "name": name, "ports": [{"target": 80}, {"target": 5432, "mode": "host"}]});
        assert!(check(ok).1.is_empty());
        let bad = json!({"project": "shop", "image": "nginx", "name": name, "ports": [{"target": 80}, {"target": 8080}]});
        let reason = reason_at(bad, "name");
        assert!(
            reason.contains("port 8080") && reason.contains("at most 57 characters"),
            "{reason}"
        );
    }

    #[test]
    fn health_checks_in_compose_form() {
        let reason = |test: serde_json::Value| {
            let (_, failures) =
                check(json!({"project": "shop", "image": "nginx", "healthCheck": {"test": test}}));
            failures
                .into_iter()
                .map(|(p, r)| format!("{p}: {r}"))
                .collect::<Vec<_>>()
        };
        assert!(reason(json!(["CMD", "curl", "-f", "http://localhost/"])).is_empty());
        assert!(reason(json!(["CMD-SHELL", "curl -f http://localhost/ || exit 1"])).is_empty());
        assert!(reason(json!(["NONE"])).is_empty());
        assert!(reason(json!([]))[0].starts_with("healthCheck.test: must not be empty"));
        assert!(reason(json!(["CMD"]))[0].contains("needs the program"));
        assert!(reason(json!(["CMD-SHELL"]))[0].contains("needs the shell command"));
        assert!(reason(json!(["CMD-SHELL", "curl", "-f"]))[0].contains("one shell command string"));
        assert!(reason(json!(["NONE", "x"]))[0].contains("takes nothing after it"));
        assert_eq!(
            reason(json!(["curl", "-f", "http://localhost/"])),
            vec![
                "healthCheck.test[0]: must be \"CMD\", \"CMD-SHELL\" or \"NONE\"; got \"curl\" — to run \"curl\" directly, put \"CMD\" before it"
            ]
        );
        assert!(reason(json!(["cmd-shell", "x"]))[0].ends_with("write \"CMD-SHELL\" in uppercase"));
        let (_, failures) = check(
            json!({"project": "shop", "image": "nginx", "healthCheck": {"test": ["NONE"], "retries": 11, "timeoutSeconds": 1}}),
        );
        let paths: Vec<&str> = failures.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec!["healthCheck.retries", "healthCheck.timeoutSeconds"]
        );
        let (_, failures) = check(json!({"project": "shop", "image": "nginx", "healthCheck": {}}));
        assert_eq!(failures[0].0, "healthCheck.test");
    }

    #[test]
    fn unknown_values_never_fail() {
        let mut news = props(json!({
            "environment": {"A": "1"},
            "ports": [{"target": 80}],
            "healthCheck": {"test": ["CMD", "true"]},
        }));
        news.insert("project".into(), Value::Unknown);
        news.insert("image".into(), Value::Unknown);
        news.insert("name".into(), Value::Unknown);
        news.insert("memory".into(), Value::Unknown);
        let (inputs, failures) = check_service(&news, "Bad_Resource_Name");
        assert_eq!(failures, vec![]);
        assert_eq!(inputs, None, "project is unknown");

        // Unknowns deep inside lists and objects.
        let mut news = props(json!({"project": "shop", "image": "nginx"}));
        news.insert(
            "ports".into(),
            Value::Array(vec![
                Value::Unknown,
                Value::Object(props(json!({"target": 0}))),
            ]),
        );
        news.insert(
            "healthCheck".into(),
            Value::Object([("test".to_string(), Value::Unknown)].into_iter().collect()),
        );
        news.insert(
            "environment".into(),
            Value::Object([("A".to_string(), Value::Unknown)].into_iter().collect()),
        );
        let (inputs, failures) = check_service(&news, "web");
        // The known bad port is still reported; nothing about the unknowns.
        let got: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(got, vec!["ports[1].target"]);
        assert_eq!(inputs, None);

        // Known project, unknown image: the inputs come back without the unknowns.
        let mut news = props(json!({"project": "shop", "ports": [{"target": 80}]}));
        news.insert("image".into(), Value::Unknown);
        let (inputs, failures) = check_service(&news, "web");
        assert_eq!(failures, vec![]);
        let inputs = inputs.unwrap();
        assert_eq!(inputs.image, None);
        assert_eq!(inputs.ports.len(), 1);
    }

    #[test]
    fn secrets_are_checked_and_never_shown() {
        let mut news = props(json!({"project": "shop", "image": "nginx"}));
        news.insert(
            "environment".into(),
            Value::Object(
                [
                    ("PASSWORD".to_string(), Value::from("hunter2").into_secret()),
                    ("1BAD".to_string(), Value::from("hunter3").into_secret()),
                    ("NUM".to_string(), Value::Number(12345.0).into_secret()),
                ]
                .into_iter()
                .collect(),
            ),
        );
        let (inputs, failures) = check_service(&news, "web");
        assert_eq!(inputs, None);
        let text = format!("{failures:?}");
        assert!(
            !text.contains("hunter") && !text.contains("12345"),
            "{text}"
        );
        let got: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(got, vec!["environment.NUM"]);

        // Once well-formed, names are checked (and values still not shown).
        news.insert(
            "environment".into(),
            Value::Object(
                [("1BAD".to_string(), Value::from("hunter3").into_secret())]
                    .into_iter()
                    .collect(),
            ),
        );
        let (_, failures) = check_service(&news, "web");
        assert_eq!(failures[0].property, "environment[\"1BAD\"]");
        assert!(!failures[0].reason.contains("hunter"));

        // A secret environment decodes to plain values for planning.
        news.insert(
            "environment".into(),
            Value::Object(
                [("TOKEN".to_string(), Value::from("hunter4").into_secret())]
                    .into_iter()
                    .collect(),
            ),
        );
        let (inputs, failures) = check_service(&news, "web");
        assert!(failures.is_empty());
        assert_eq!(inputs.unwrap().environment["TOKEN"].value, "hunter4");
    }

    #[test]
    fn nulls_are_absent() {
        let (inputs, failures) = check(json!({
            "project": "shop", "image": "nginx", "name": null, "ports": null,
            "environment": {"A": null}, "healthCheck": {"test": ["NONE"], "retries": null},
        }));
        assert_eq!(failures, vec![]);
        let inputs = inputs.unwrap();
        assert!(inputs.environment.is_empty());
        assert_eq!(inputs.name, None);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            json!({"project": 1, "image": [], "ports": "80", "environment": [], "replicas": -1}),
            json!({"project": "shop", "image": "nginx", "ports": [null, 80, {"target": 1e20}]}),
            json!({"project": "shop", "image": "nginx", "cpus": 1e308, "memory": "1e308G"}),
            json!({"project": "shop", "image": "nginx", "memory": "99999999999999999999"}),
            json!({"project": "", "image": "", "name": "", "environment": {"": ""}}),
            json!({"project": "shop", "image": "nginx", "healthCheck": {"test": "CMD true"}}),
            json!({"project": "shop", "image": "@", "platform": null, "command": [1, 2]}),
        ];
        for value in odd {
            let (inputs, failures) = check(value.clone());
            assert!(inputs.is_none() && !failures.is_empty(), "{value}");
        }
    }
}
