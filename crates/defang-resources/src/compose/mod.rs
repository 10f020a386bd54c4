//! A Compose file to the inputs of the child resources of a `defang:index:Compose` component:
//! one `defang:index:Service` per Compose service. Pure: it reads only what it is given (the
//! file's text, the `.env` content, the variables, and `env_file`s through a callback), so it
//! is the same in preview and update and is tested on strings.
//!
//! [`load`] parses the YAML (with `serde_norway`) into an untyped tree, interpolates every string
//! value (see `interpolate.rs`), then types it service by service, collecting every error and
//! warning with its Compose key path (`services.web.ports[1]`).
//!
//! # Mapping
//!
//! | Compose | Service input | how |
//! | --- | --- | --- |
//! | service name | `name` | must be a DNS label without `--` (see [`crate::names::validate_service_name`]) |
//! | `image` | `image` | as is; with `build` too, `build` wins (warning: the image is pushed to the service's repository) |
//! | `build: <dir>` / `build.context` | `build.context` | the Compose file's folder joined with the context, normalised (`app/compose.yaml` + `./web` → `app/web`); default `.`; remote (git/URL) contexts are an error |
//! | `build.dockerfile`, `build.target` | `build.dockerfile`, `build.target` | as is (the Dockerfile is relative to the context) |
//! | `build.args` (list or map) | `build.args` | a value-less argument is looked up like a variable; unset → left out (warning) |
//! | `ports` short: `"80"`, `"8080:80"`, `"127.0.0.1:8080:80"`, `"80/udp"`, `"3000-3001"` | `ports[]` `{target, mode: ingress, protocol}` | ranges expand (at most 100 ports); the published port and host IP are not used (warning when they differ) |
//! | `ports` long: `target`, `published`, `protocol`, `mode`, `app_protocol`, `host_ip`, `name` | `ports[]` `{target, mode, protocol, appProtocol}` | `mode` defaults to `ingress` as in Compose; `app_protocol` http/http2/grpc (others: warning, left out) |
//! | `expose` | `ports[]` `{target, mode: host}` | ports private to the project; not repeated when already in `ports` |
//! | `environment` (list or map), `env_file` (string, list, `{path, required, format}`) | `environment` | env files in order, then `environment` wins; value-less entries come from the component's `environment`, `.env`, the process environment (unset → error); secrets stay secret |
//! | `command`, `entrypoint` (string or list) | `command`, `entrypoint` | a string is split as a POSIX shell would (`shell-words`); empty → warning, the image's is kept |
//! | `deploy.replicas`, else `scale` | `replicas` | whole number ≥ 0 |
//! | `deploy.resources.reservations.cpus`, else `limits.cpus`, else `cpus` | `cpus` | a number or numeric string, > 0 |
//! | `deploy.resources.reservations.memory`, else `limits.memory`, else `mem_reservation`, else `mem_limit` | `memory` | Compose sizes (`b`, `k`, `m`, `g`, `t`, optional `i`/`b`; bare number = bytes) to MiB rounded up: `"512Mi"`, `"1536Mi"`, `"2Gi"` |
//! | `healthcheck.test` (list, or string = `CMD-SHELL`), `disable: true` | `healthCheck.test` | `disable` → `["NONE"]`; a list must start with `CMD`, `CMD-SHELL` or `NONE` |
//! | `healthcheck.interval`, `timeout`, `start_period` | `healthCheck.intervalSeconds`, `timeoutSeconds`, `startPeriodSeconds` | Compose durations (`1m30s`, `500ms`, `1h`; a bare number is seconds) to whole seconds, rounded up |
//! | `healthcheck.retries` | `healthCheck.retries` | whole number |
//! | `platform` | `platform` | `linux/amd64` or `linux/arm64` (aliases `x86_64`, `aarch64`, `arm64/v8`); others → error |
//! | `domainname` | `domainName` | as is |
//! | `depends_on` (list, or map with `condition`, `required`, `restart`) | [`ComposeService::depends_on`] | creation order between the child services; unknown service, self-dependency or cycle → error |
//! | top-level `name` | [`ComposeProject::name`] | interpolated |
//! | `${VAR}`, `$VAR`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+alt}`, `${VAR+alt}`, `$$` | every string value (not keys, not `x-*` sections) | from the component's `environment`, then `.env`, then the process environment; unset without default → empty string (warning, as Compose does) |
//! | `x-defang-*` (service or top level) | — | warning naming the extension: none is supported by this provider yet |
//! | other `x-*` | — | ignored silently, as the specification says |
//! | every other key of the specification | — | warning at its path saying what happens instead (see `keys.rs`); `extends` and `include` are errors (ignoring them would deploy something else) |
//! | keys not in the specification | — | error, with the closest known key |
//!
//! Secrets: a value that comes from a secret entry of the component's `environment` (directly, or
//! through interpolation) is a `Value::Secret`, and no message ever quotes it. Unknowns (preview):
//! a value that depends on an unknown entry is `Value::Unknown` (a whole `ports` or `environment`
//! list when how many entries it has depends on it).
//!
//! Not checked here: the Service's own bounds (e.g. health check intervals 5–300 s, Fargate sizes),
//! which the child Service's Check reports.

pub mod component;
mod dotenv;
mod environment;
mod interpolate;
pub(crate) mod keys;
mod mapping;
mod node;
mod parse;
mod ports;
mod units;

#[cfg(test)]
mod tests;

use interpolate::{Vars, component_value_problem};
use node::{Diag, Node, key_path};
use pulumi_plugin::PropertyMap;
use std::collections::BTreeMap;
use std::fmt;

/// What [`load`] reads: the file and everything its variables may come from.
pub struct ComposeSource<'a> {
    /// The Compose file's content.
    pub text: &'a str,
    /// Its path as the user wrote it (e.g. `compose.yaml`, `app/compose.yaml`): build contexts are
    /// relative to its folder, and messages name it.
    pub path: &'a str,
    /// The content of the `.env` file beside it, if there is one.
    pub dot_env: Option<&'a str>,
    /// The component's `environment` input, name → value; values may be secrets, or unknown in
    /// preview. Highest precedence.
    pub environment: &'a PropertyMap,
    /// The process environment, lowest precedence.
    pub process_env: &'a BTreeMap<String, String>,
    /// Reads an `env_file` path, relative to the Compose file's folder; the error says why.
    pub read_env_file: &'a dyn Fn(&str) -> Result<String, String>,
}

/// A Compose file, mapped.
#[derive(Clone, Debug, PartialEq)]
pub struct ComposeProject {
    /// The top-level `name`, interpolated.
    pub name: Option<String>,
    /// The services, in file order.
    pub services: Vec<ComposeService>,
    /// What is not supported and what happens instead, unused values, unset variables.
    pub warnings: Vec<ComposeWarning>,
}

/// One Compose service, as the inputs of a `defang:index:Service` child.
#[derive(Clone, Debug, PartialEq)]
pub struct ComposeService {
    /// The Compose service name (also `inputs.name`).
    pub name: String,
    /// The Service's inputs (camelCase, as in [`crate::service::inputs::ServiceInputs`]) without
    /// `project`, which the component adds.
    pub inputs: PropertyMap,
    /// The services this one depends on (`depends_on`), to create first.
    pub depends_on: Vec<String>,
}

/// Something of the file that is not deployed as written; the deployment goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeWarning {
    /// The Compose key path, e.g. `services.web.volumes`.
    pub path: String,
    /// What is not supported and what happens instead.
    pub message: String,
}

/// Something of the file that makes deploying it impossible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeError {
    /// The Compose key path, e.g. `services.web.ports[1]`; empty for the whole file.
    pub path: String,
    /// What is wrong and the fix, to be read after the path (`services.web.replicas: must be a
    /// whole number...`).
    pub message: String,
}

fn display(f: &mut fmt::Formatter<'_>, path: &str, message: &str) -> fmt::Result {
    if path.is_empty() {
        write!(f, "the file {message}")
    } else {
        write!(f, "{path}: {message}")
    }
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, &self.path, &self.message)
    }
}

impl fmt::Display for ComposeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, &self.path, &self.message)
    }
}

impl std::error::Error for ComposeError {}

/// Maps a Compose file. Every error found is returned at once (a service with errors is still
/// checked to the end, and the other services too).
pub fn load(source: &ComposeSource) -> Result<ComposeProject, Vec<ComposeError>> {
    let mut diag = Diag::default();

    for (name, value) in source.environment {
        if let Some(problem) = component_value_problem(value) {
            diag.error(
                format!("(component input) environment.{name}"),
                format!("{problem}: it is a variable for the Compose file"),
            );
        }
    }
    let dot_env = match source.dot_env.map(dotenv::parse) {
        None => BTreeMap::new(),
        Some(Ok(entries)) => entries
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect(),
        Some(Err(reason)) => {
            diag.error(".env", format!("is not a valid .env file: {reason}"));
            BTreeMap::new()
        }
    };
    let vars = Vars {
        component: source.environment,
        dot_env,
        process: source.process_env,
    };

    let root = parse::parse(source.text, &vars, &mut diag);
    let project = root.and_then(|root| project(&root, source, &vars, &mut diag));
    match project {
        Some(mut project) if diag.errors.is_empty() => {
            project.warnings = diag.warnings;
            Ok(project)
        }
        _ => Err(diag.errors),
    }
}

fn project(
    root: &Node,
    source: &ComposeSource,
    vars: &Vars,
    diag: &mut Diag,
) -> Option<ComposeProject> {
    let entries = match root {
        Node::Map(entries) => entries,
        Node::Null => {
            diag.error(
                "",
                "is empty: a Compose file needs a `services` mapping, e.g. `services: { web: { \
                 image: nginx:1.27 } }`",
            );
            return None;
        }
        other => {
            diag.error(
                "",
                format!(
                    "must be a mapping with a `services` key; got {} at the top level",
                    other.kind()
                ),
            );
            return None;
        }
    };
    let known: Vec<&str> = keys::TOP_LEVEL_KEYS.iter().map(|(k, _)| *k).collect();
    for (key, value) in entries {
        if key.starts_with("x-defang-") {
            diag.warn(key.as_str(), keys::defang_extension(key));
            continue;
        }
        if key.starts_with("x-") {
            continue;
        }
        match keys::support(keys::TOP_LEVEL_KEYS, key) {
            Some(keys::Support::Mapped) => {}
            Some(keys::Support::Warn(message)) => {
                if !matches!(value, Node::Null) {
                    diag.warn(key.as_str(), format!("{key} {message}"));
                }
            }
            Some(keys::Support::Error(message)) => {
                diag.error(key.as_str(), format!("{key} {message}"))
            }
            None => diag.error(key.as_str(), keys::unknown_key(key, &known, "top-level")),
        }
    }

    let name = root
        .get("name")
        .and_then(|n| node::string(n, "name", diag))
        .and_then(|n| {
            if n.unknown || n.secret {
                diag.error(
                    "name",
                    "must be known when the file is read, and not a secret",
                );
                None
            } else {
                Some(n.value)
            }
        });

    if let Some(networks) = root
        .get("networks")
        .and_then(|n| node::mapping(n, "networks", diag))
    {
        for (network, config) in networks {
            let plain_default = network == "default" && matches!(config, Node::Null);
            if !plain_default {
                diag.warn(
                    key_path("networks", network),
                    "is not created: all services of the project share one private network, \
                     where each reaches the others by name",
                );
            }
        }
    }

    let services_node = match root.get("services") {
        Some(node) => node,
        None => {
            diag.error(
                "",
                "has no `services`: add a `services` mapping, e.g. `services: { web: { image: \
                 nginx:1.27 } }`",
            );
            return None;
        }
    };
    let services_entries = match services_node {
        Node::Map(entries) => entries.as_slice(),
        Node::Null => &[],
        Node::Seq(_) => {
            diag.error(
                "services",
                "must be a mapping of service names to services, not a list: write `services: { \
                 web: { image: ... } }`",
            );
            return None;
        }
        other => {
            diag.wrong_type("services", "a mapping of service names to services", other);
            return None;
        }
    };
    if services_entries.is_empty() {
        diag.warn("services", "is empty: nothing is deployed");
    }
    let names: Vec<String> = services_entries.iter().map(|(k, _)| k.clone()).collect();
    let compose_dir = source.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let ctx = mapping::Ctx {
        compose_path: source.path,
        compose_dir,
        vars,
        read_env_file: source.read_env_file,
        services: &names,
    };
    let services: Vec<ComposeService> = services_entries
        .iter()
        .filter_map(|(name, node)| mapping::service(name, node, &ctx, diag))
        .collect();
    check_cycles(&services, diag);
    Some(ComposeProject {
        name,
        services,
        warnings: Vec::new(),
    })
}

/// Reports each `depends_on` cycle once, at the first service of the file in it.
fn check_cycles(services: &[ComposeService], diag: &mut Diag) {
    let index = |name: &str| services.iter().position(|s| s.name == name);
    // 0: not visited, 1: on the current path, 2: done.
    let mut state = vec![0u8; services.len()];
    fn visit(
        i: usize,
        services: &[ComposeService],
        index: &dyn Fn(&str) -> Option<usize>,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        diag: &mut Diag,
    ) {
        state[i] = 1;
        stack.push(i);
        for dep in &services[i].depends_on {
            let Some(j) = index(dep) else { continue };
            match state[j] {
                0 => visit(j, services, index, state, stack, diag),
                1 => {
                    let start = stack.iter().position(|&k| k == j).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[start..]
                        .iter()
                        .map(|&k| services[k].name.as_str())
                        .collect();
                    cycle.push(services[j].name.as_str());
                    diag.error(
                        key_path(&key_path("services", &services[j].name), "depends_on"),
                        format!(
                            "makes a cycle ({}): no service of it could be created first; remove \
                             one of these dependencies",
                            cycle.join(" → ")
                        ),
                    );
                }
                _ => {}
            }
        }
        stack.pop();
        state[i] = 2;
    }
    for i in 0..services.len() {
        if state[i] == 0 {
            visit(i, services, &index, &mut state, &mut Vec::new(), diag);
        }
    }
}
