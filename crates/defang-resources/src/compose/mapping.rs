//! One Compose service to the inputs of a `defang:index:Service` (see the table in [`super`]).

use super::ComposeService;
use super::environment::{entries, environment};
use super::interpolate::Vars;
use super::keys::{SERVICE_KEYS, Support, defang_extension, support, unknown_key};
use super::node::{
    Diag, Node, Text, boolean, count, index_path, key_path, mapping, number, shown, string,
    string_list, wrap,
};
use super::ports::ports;
use super::units::{duration_seconds, memory};
use pulumi_plugin::{PropertyMap, Value};

/// What every service of one file is mapped with.
pub(crate) struct Ctx<'a> {
    /// The Compose file's path as the user wrote it, for messages.
    pub compose_path: &'a str,
    /// Its folder (`""` for the current one), which build contexts are relative to.
    pub compose_dir: &'a str,
    pub vars: &'a Vars<'a>,
    pub read_env_file: &'a dyn Fn(&str) -> Result<String, String>,
    /// The names of all the file's services, for `depends_on`.
    pub services: &'a [String],
}

/// Maps the service `name`; `None` when it has errors (they are in `diag`).
pub(crate) fn service(
    name: &str,
    node: &Node,
    ctx: &Ctx,
    diag: &mut Diag,
) -> Option<ComposeService> {
    let path = key_path("services", name);
    let errors_before = diag.errors.len();
    if let Err(reason) = crate::names::validate_service_name(name) {
        diag.error(
            &path,
            format!("has an invalid name: the service name {reason}; rename the service"),
        );
    }
    let Node::Map(entries) = node else {
        diag.error(
            &path,
            format!(
                "must be a mapping with at least `image` or `build`, e.g. `{name}: {{ image: \
                 nginx:1.27 }}`; got {}",
                node.kind()
            ),
        );
        return None;
    };

    let known: Vec<&str> = SERVICE_KEYS.iter().map(|(k, _)| *k).collect();
    for (key, value) in entries {
        let key_at = key_path(&path, key);
        if key.starts_with("x-defang-") {
            diag.warn(&key_at, defang_extension(key));
            continue;
        }
        if key.starts_with("x-") {
            continue; // Extensions are ignored, as the specification says.
        }
        match support(SERVICE_KEYS, key) {
            Some(Support::Mapped) => {}
            Some(Support::Warn(message)) => {
                if !is_empty(value) {
                    diag.warn(&key_at, format!("{key} {message}"));
                }
            }
            Some(Support::Error(message)) => diag.error(&key_at, format!("{key} {message}")),
            None => diag.error(&key_at, unknown_key(key, &known, "service")),
        }
    }

    let mut inputs = PropertyMap::new();
    inputs.insert("name".into(), Value::from(name));
    let get = |key: &str| node.get(key).filter(|n| !matches!(n, Node::Null));

    let image = get("image").and_then(|n| string(n, &key_path(&path, "image"), diag));
    let build = get("build").and_then(|n| build(n, &key_path(&path, "build"), ctx, diag));
    match (image, build) {
        (Some(_), Some(build)) => {
            diag.warn(
                key_path(&path, "image"),
                "is not used: the service is built from `build`, and the image is pushed to the \
                 service's own ECR repository instead of this name",
            );
            inputs.insert("build".into(), build);
        }
        (Some(image), None) => {
            inputs.insert("image".into(), image.into_value(Value::String));
        }
        (None, Some(build)) => {
            inputs.insert("build".into(), build);
        }
        (None, None) => {
            // A `build` that failed has its own error already.
            if get("build").is_none() {
                diag.error(
                    &path,
                    "has neither `image` nor `build`: set `image` to the image to run (e.g. \
                     `image: nginx:1.27`) or `build` to the folder to build it from (e.g. \
                     `build: .`)",
                );
            }
        }
    }

    if let Some(ports) = ports(get("ports"), get("expose"), &path, diag) {
        inputs.insert("ports".into(), ports);
    }
    if let Some(env) = environment(
        node,
        &path,
        ctx.compose_path,
        ctx.vars,
        ctx.read_env_file,
        diag,
    ) {
        inputs.insert("environment".into(), env);
    }
    for (key, input) in [("command", "command"), ("entrypoint", "entrypoint")] {
        if let Some(value) = get(key).and_then(|n| command(n, key, &key_path(&path, key), diag)) {
            inputs.insert(input.into(), value);
        }
    }
    deploy(node, &path, &mut inputs, diag);
    if let Some(check) =
        get("healthcheck").and_then(|n| healthcheck(n, &key_path(&path, "healthcheck"), diag))
    {
        inputs.insert("healthCheck".into(), check);
    }
    if let Some(platform) =
        get("platform").and_then(|n| platform(n, &key_path(&path, "platform"), diag))
    {
        inputs.insert("platform".into(), platform);
    }
    if let Some(domain) =
        get("domainname").and_then(|n| string(n, &key_path(&path, "domainname"), diag))
    {
        inputs.insert("domainName".into(), domain.into_value(Value::String));
    }
    container_settings(node, &path, &mut inputs, diag);
    if let Some(networks) = get("networks") {
        networks_warning(networks, &key_path(&path, "networks"), diag);
    }
    let depends_on = get("depends_on")
        .map(|n| depends_on(n, name, &key_path(&path, "depends_on"), ctx.services, diag))
        .unwrap_or_default();

    (diag.errors.len() == errors_before).then(|| ComposeService {
        name: name.to_string(),
        inputs,
        depends_on,
    })
}

/// `working_dir`, `user`, `read_only`, `init` and `stop_grace_period` (a duration, rounded up
/// to seconds): the container's settings of the same meaning. Their ranges are the Service's
/// Check's.
fn container_settings(node: &Node, path: &str, inputs: &mut PropertyMap, diag: &mut Diag) {
    let get = |key: &str| node.get(key).filter(|n| !matches!(n, Node::Null));
    for (key, input) in [("working_dir", "workingDir"), ("user", "user")] {
        if let Some(text) = get(key).and_then(|n| string(n, &key_path(path, key), diag)) {
            inputs.insert(input.into(), text.into_value(Value::String));
        }
    }
    for (key, input) in [("read_only", "readonlyRootFilesystem"), ("init", "init")] {
        if let Some(flag) = get(key).and_then(|n| boolean(n, &key_path(path, key), diag)) {
            inputs.insert(input.into(), flag.into_value(Value::Bool));
        }
    }
    let at = key_path(path, "stop_grace_period");
    if let Some(text) = get("stop_grace_period").and_then(|n| string(n, &at, diag)) {
        if text.unknown {
            inputs.insert(
                "stopGracePeriod".into(),
                wrap(text.secret, true, || Value::Null),
            );
            return;
        }
        match duration_seconds(&text.value) {
            Ok(seconds) => {
                inputs.insert(
                    "stopGracePeriod".into(),
                    text.map(|_| Value::from(f64::from(seconds)))
                        .into_value(|v| v),
                );
            }
            Err(_) if text.secret => diag.error(
                &at,
                "must be a duration such as \"1m30s\" (the secret value is not)",
            ),
            Err(reason) => diag.error(&at, reason),
        }
    }
}

/// Whether a value asks for nothing (`volumes:` or `volumes: []`): no warning for it.
fn is_empty(node: &Node) -> bool {
    match node {
        Node::Null => true,
        Node::Seq(items) => items.is_empty(),
        Node::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

/// Reports keys of a mapping that are not among `known` (extensions `x-*` aside); says what
/// happens to the `ignored` ones.
fn check_keys(
    entries: &[(String, Node)],
    path: &str,
    known: &[&str],
    ignored: &[(&str, &str)],
    what: &str,
    diag: &mut Diag,
) {
    for (key, value) in entries {
        if key.starts_with("x-") || known.contains(&key.as_str()) {
            continue;
        }
        if let Some((_, message)) = ignored.iter().find(|(k, _)| k == key) {
            if !is_empty(value) {
                diag.warn(key_path(path, key), format!("{key} {message}"));
            }
            continue;
        }
        let all: Vec<&str> = known
            .iter()
            .chain(ignored.iter().map(|(k, _)| k))
            .copied()
            .collect();
        diag.error(key_path(path, key), unknown_key(key, &all, what));
    }
}

/// The folder of the Compose file joined with `context`, normalised (`app` + `./web` is
/// `app/web`; `` + `.` is `.`; `app` + `../lib` is `lib`). An absolute context stays absolute.
pub(crate) fn join_context(dir: &str, context: &str) -> String {
    let absolute = context.starts_with('/');
    let joined = if absolute || dir.is_empty() {
        context.to_string()
    } else {
        format!("{dir}/{context}")
    };
    let dir_absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                // Above the root of an absolute path is the root.
                _ if dir_absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (dir_absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// `dockerfile_inline` is known, and an error of its own below.
const BUILD_KEYS: &[&str] = &[
    "context",
    "dockerfile",
    "args",
    "target",
    "dockerfile_inline",
];
const BUILD_IGNORED: &[(&str, &str)] = &[
    (
        "additional_contexts",
        "is not supported by the builds here (AWS CodeBuild): only `context` is sent; it is ignored",
    ),
    (
        "cache_from",
        "is not used: builds here reuse an image whose build hash is unchanged instead",
    ),
    (
        "cache_to",
        "is not used: builds here reuse an image whose build hash is unchanged instead",
    ),
    (
        "entitlements",
        "is not granted by the builds here; it is ignored",
    ),
    (
        "extra_hosts",
        "cannot be added to the builds here; it is ignored",
    ),
    (
        "isolation",
        "is not available for the builds here; it is ignored",
    ),
    (
        "labels",
        "are not added to the built image; they are ignored",
    ),
    (
        "network",
        "cannot be chosen for the builds here; it is ignored",
    ),
    (
        "no_cache",
        "is not needed: each build here starts without a local cache",
    ),
    (
        "platforms",
        "are not used: the image is built for the service's `platform` only",
    ),
    (
        "privileged",
        "is not available for the builds here; it is ignored",
    ),
    (
        "provenance",
        "is not attached by the builds here; it is ignored",
    ),
    (
        "pull",
        "is not needed: each build here pulls its base images",
    ),
    ("sbom", "is not attached by the builds here; it is ignored"),
    (
        "secrets",
        "are not passed to the builds here: use `args` (they may be secrets)",
    ),
    (
        "shm_size",
        "cannot be set for the builds here; it is ignored",
    ),
    ("ssh", "is not forwarded to the builds here; it is ignored"),
    (
        "tags",
        "are not used: the image is tagged with its build hash in the service's ECR repository",
    ),
    (
        "ulimits",
        "cannot be set for the builds here; it is ignored",
    ),
];

/// `build`: a context string, or `context`, `dockerfile`, `args`, `target`.
fn build(node: &Node, path: &str, ctx: &Ctx, diag: &mut Diag) -> Option<Value> {
    let mut out = PropertyMap::new();
    let context = match node {
        Node::Map(entries) => {
            check_keys(entries, path, BUILD_KEYS, BUILD_IGNORED, "build", diag);
            if node.get("dockerfile_inline").is_some() {
                diag.error(
                    key_path(path, "dockerfile_inline"),
                    "is not supported: write the Dockerfile to a file in the context and set \
                     `dockerfile` to its name",
                );
            }
            let context = match node.get("context") {
                Some(n) => string(n, &key_path(path, "context"), diag),
                None => Some(Text::plain(".".to_string())),
            };
            if let Some(file) = node
                .get("dockerfile")
                .and_then(|n| string(n, &key_path(path, "dockerfile"), diag))
            {
                out.insert("dockerfile".into(), file.into_value(Value::String));
            }
            if let Some(target) = node
                .get("target")
                .and_then(|n| string(n, &key_path(path, "target"), diag))
            {
                out.insert("target".into(), target.into_value(Value::String));
            }
            if let Some(args) = node
                .get("args")
                .and_then(|n| build_args(n, &key_path(path, "args"), ctx, diag))
            {
                out.insert("args".into(), args);
            }
            context
        }
        other => string(other, path, diag),
    }?;
    let context_path = if matches!(node, Node::Map(_)) {
        key_path(path, "context")
    } else {
        path.to_string()
    };
    if !context.unknown {
        let c = context.value.trim();
        if c.contains("://") || c.starts_with("git@") || c.ends_with(".git") {
            diag.error(
                &context_path,
                "is a remote context, which the builds here cannot fetch: clone it next to the \
                 Compose file and set the context to that folder",
            );
            return None;
        }
        if c.is_empty() {
            diag.error(
                &context_path,
                "is empty: set it to the folder to build, e.g. `.`",
            );
            return None;
        }
    }
    let joined = context.map(|c| join_context(ctx.compose_dir, c.trim()));
    out.insert("context".into(), joined.into_value(Value::String));
    Some(Value::Object(out))
}

/// `build.args`, a list or a mapping; a value-less argument takes its value from the
/// component's `environment`, `.env` or the process environment, and is left out (the
/// Dockerfile's default applies) when it is set nowhere, as Compose does.
fn build_args(node: &Node, path: &str, ctx: &Ctx, diag: &mut Diag) -> Option<Value> {
    let mut args = PropertyMap::new();
    for entry in entries(node, path, diag) {
        if entry.key.unknown {
            return Some(Value::Unknown);
        }
        let name = entry.key.value.trim().to_string();
        let value = match entry.value.or_else(|| ctx.vars.lookup(&name)) {
            Some(value) => value,
            None => {
                diag.warn(
                    &entry.path,
                    format!(
                        "{name} has no value and is set nowhere: it is not passed, so the \
                         Dockerfile's default applies"
                    ),
                );
                continue;
            }
        };
        args.insert(name, value.into_value(Value::String));
    }
    (!args.is_empty()).then_some(Value::Object(args))
}

/// `command` / `entrypoint`: a list, or a string split as a POSIX shell would.
fn command(node: &Node, key: &str, path: &str, diag: &mut Diag) -> Option<Value> {
    let items: Vec<Value> = match node {
        Node::Seq(_) => string_list(node, path, diag)?
            .into_iter()
            .map(|t| t.into_value(Value::String))
            .collect(),
        other => {
            let text = string(other, path, diag)?;
            if text.unknown {
                return Some(wrap(text.secret, true, || Value::Null));
            }
            match shell_words::split(&text.value) {
                Ok(words) => words
                    .into_iter()
                    .map(|w| wrap(text.secret, false, || Value::String(w)))
                    .collect(),
                Err(_) => {
                    diag.error(
                        path,
                        "cannot be split into words as a shell would: a quote is not closed or \
                         it ends with a lone backslash; fix the quoting, or write it as a list",
                    );
                    return None;
                }
            }
        }
    };
    if items.is_empty() {
        diag.warn(
            path,
            format!(
                "is empty, which cannot be deployed as an override: the image's own {key} is kept"
            ),
        );
        return None;
    }
    Some(Value::Array(items))
}

const DEPLOY_KEYS: &[&str] = &["replicas", "resources", "mode"];
const DEPLOY_IGNORED: &[(&str, &str)] = &[
    (
        "endpoint_mode",
        "is not used: other services reach this one by name through the project's DNS",
    ),
    (
        "labels",
        "are not applied to the ECS service; they are ignored",
    ),
    (
        "placement",
        "is not used: Fargate places the tasks in the project's subnets",
    ),
    (
        "restart_policy",
        "is not used: ECS replaces any task that stops, to keep the replicas running",
    ),
    (
        "rollback_config",
        "is not used: a rollout that fails is rolled back by ECS's deployment circuit breaker",
    ),
    (
        "update_config",
        "is not used: rollouts are ECS rolling deployments with the circuit breaker",
    ),
];
const RESOURCE_KEYS: &[&str] = &["cpus", "memory"];
const RESOURCE_IGNORED: &[(&str, &str)] = &[
    ("pids", "is not available on Fargate; it is ignored"),
    (
        "devices",
        "are not available on Fargate (no GPUs or host devices); they are ignored",
    ),
    (
        "generic_resources",
        "are not available on Fargate; they are ignored",
    ),
];

/// `deploy` (`replicas`, `resources.reservations`, else `resources.limits`, `mode`), and the
/// service-level `scale`, `cpus`, `mem_reservation` and `mem_limit` where `deploy` does not say.
fn deploy(service: &Node, path: &str, inputs: &mut PropertyMap, diag: &mut Diag) {
    let deploy_path = key_path(path, "deploy");
    let deploy = service
        .get("deploy")
        .and_then(|n| mapping(n, &deploy_path, diag));
    let deploy_node = service.get("deploy");
    if let Some(entries) = deploy {
        check_keys(
            entries,
            &deploy_path,
            DEPLOY_KEYS,
            DEPLOY_IGNORED,
            "deploy",
            diag,
        );
    }
    let get = |key: &str| {
        deploy_node
            .and_then(|d| d.get(key))
            .filter(|n| !matches!(n, Node::Null))
    };

    // Replicas.
    let replicas = match get("replicas") {
        Some(n) => {
            if service
                .get("scale")
                .is_some_and(|s| !matches!(s, Node::Null))
            {
                diag.warn(key_path(path, "scale"), "is not used: deploy.replicas is");
            }
            count(n, &key_path(&deploy_path, "replicas"), diag)
        }
        None => service
            .get("scale")
            .and_then(|n| count(n, &key_path(path, "scale"), diag)),
    };
    if let Some(r) = replicas {
        inputs.insert(
            "replicas".into(),
            r.into_value(|v| Value::from(f64::from(v))),
        );
    }

    // Mode.
    if let Some(mode) = get("mode").and_then(|n| string(n, &key_path(&deploy_path, "mode"), diag)) {
        let mode_path = key_path(&deploy_path, "mode");
        match mode.value.as_str() {
            _ if mode.unknown => {}
            "replicated" => {}
            "global" => diag.warn(
                mode_path,
                "is global, which has no meaning on Fargate (there are no nodes): the service \
                 runs `replicas` tasks (1 by default)",
            ),
            "replicated-job" | "global-job" => diag.warn(
                mode_path,
                "is a job mode, which is not supported: the service runs continuously, and ECS \
                 starts a task again when one exits",
            ),
            _ => diag.error(
                mode_path,
                format!("must be `replicated` (or `global`); got {}", shown(&mode)),
            ),
        }
    }

    // Resources.
    let resources_path = key_path(&deploy_path, "resources");
    let resources = get("resources");
    if let Some(entries) = resources.and_then(|n| mapping(n, &resources_path, diag)) {
        check_keys(
            entries,
            &resources_path,
            &["limits", "reservations"],
            &[],
            "deploy.resources",
            diag,
        );
    }
    let section = |name: &str, diag: &mut Diag| {
        let node = resources?.get(name)?;
        let section_path = key_path(&resources_path, name);
        let entries = mapping(node, &section_path, diag)?;
        check_keys(
            entries,
            &section_path,
            RESOURCE_KEYS,
            RESOURCE_IGNORED,
            "resources",
            diag,
        );
        Some(node)
    };
    let reservations = section("reservations", diag);
    let limits = section("limits", diag);
    // A field of `reservations`, else of `limits`, with its path.
    let field = |name: &str| -> Option<(&Node, String)> {
        [(reservations, "reservations"), (limits, "limits")]
            .into_iter()
            .find_map(|(section, which)| {
                let node = section?.get(name).filter(|n| !matches!(n, Node::Null))?;
                Some((node, key_path(&key_path(&resources_path, which), name)))
            })
    };
    for name in ["cpus", "memory"] {
        let set = |section: Option<&Node>| {
            section
                .and_then(|s| s.get(name))
                .is_some_and(|n| !matches!(n, Node::Null))
        };
        if set(reservations) && set(limits) {
            diag.warn(
                key_path(&key_path(&resources_path, "limits"), name),
                format!(
                    "is not applied separately: a Fargate task gets exactly its size, which is \
                     taken from reservations.{name}"
                ),
            );
        }
    }

    let cpus = field("cpus").or_else(|| {
        service
            .get("cpus")
            .filter(|n| !matches!(n, Node::Null))
            .map(|n| (n, key_path(path, "cpus")))
    });
    if let Some((node, at)) = cpus
        && let Some(c) = number(node, &at, diag)
    {
        if !c.unknown && c.value <= 0.0 {
            diag.error(&at, "must be more than 0 vCPU, e.g. 0.25, 0.5 or 1");
        } else {
            inputs.insert("cpus".into(), c.into_value(Value::from));
        }
    }
    let mem = field("memory")
        .or_else(|| {
            service
                .get("mem_reservation")
                .filter(|n| !matches!(n, Node::Null))
                .map(|n| (n, key_path(path, "mem_reservation")))
        })
        .or_else(|| {
            service
                .get("mem_limit")
                .filter(|n| !matches!(n, Node::Null))
                .map(|n| (n, key_path(path, "mem_limit")))
        });
    if let Some((node, at)) = mem
        && let Some(text) = string(node, &at, diag)
    {
        if text.unknown {
            inputs.insert("memory".into(), wrap(text.secret, true, || Value::Null));
        } else {
            match memory(&text.value) {
                Ok(m) => {
                    inputs.insert("memory".into(), text.map(|_| m).into_value(Value::String));
                }
                Err(_) if text.secret => diag.error(
                    &at,
                    "must be a size such as \"512m\" or \"1g\" (the secret value is not)",
                ),
                Err(reason) => diag.error(&at, reason),
            }
        }
    }
}

const HEALTHCHECK_KEYS: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "disable",
];
const HEALTHCHECK_IGNORED: &[(&str, &str)] = &[(
    "start_interval",
    "is not available on ECS: checks run every `interval` from the start",
)];

/// `healthcheck`: `test` (a list, or a string run with the shell), durations in whole seconds
/// (rounded up), `retries`, and `disable: true` as `["NONE"]`.
fn healthcheck(node: &Node, path: &str, diag: &mut Diag) -> Option<Value> {
    let entries = mapping(node, path, diag)?;
    check_keys(
        entries,
        path,
        HEALTHCHECK_KEYS,
        HEALTHCHECK_IGNORED,
        "healthcheck",
        diag,
    );
    let mut out = PropertyMap::new();
    let disabled = node
        .get("disable")
        .and_then(|n| boolean(n, &key_path(path, "disable"), diag));
    let test_path = key_path(path, "test");
    let test = match disabled {
        Some(d) if d.value && !d.unknown => Some(Value::Array(vec![Value::from("NONE")])),
        _ => match node.get("test") {
            None | Some(Node::Null) => None,
            Some(Node::Seq(_)) => {
                let items = string_list(node.get("test")?, &test_path, diag)?;
                let first = items.first().map(|t| (t.value.as_str(), t.unknown));
                match first {
                    Some(("CMD" | "CMD-SHELL", _)) if items.len() > 1 => {}
                    Some(("NONE", _)) | Some((_, true)) => {}
                    Some(("CMD" | "CMD-SHELL", _)) => {
                        diag.error(&test_path, "needs a command after CMD or CMD-SHELL, e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost/\"]");
                        return None;
                    }
                    _ => {
                        diag.error(
                            &test_path,
                            "must start with \"CMD\" (a program and its arguments), \"CMD-SHELL\" \
                             (a shell command) or \"NONE\", e.g. [\"CMD\", \"curl\", \"-f\", \
                             \"http://localhost/\"]",
                        );
                        return None;
                    }
                }
                Some(Value::Array(
                    items
                        .into_iter()
                        .map(|t| t.into_value(Value::String))
                        .collect(),
                ))
            }
            Some(other) => {
                let text = string(other, &test_path, diag)?;
                if !text.unknown && text.value.trim().is_empty() {
                    diag.error(
                        &test_path,
                        "is empty: give the command to run, or `disable: true`",
                    );
                    return None;
                }
                Some(Value::Array(vec![
                    Value::from("CMD-SHELL"),
                    text.into_value(Value::String),
                ]))
            }
        },
    };
    let Some(test) = test else {
        diag.warn(
            path,
            "has no `test`, and ECS does not run the image's HEALTHCHECK: no health check is set; \
             add a `test`",
        );
        return None;
    };
    out.insert("test".into(), test);
    for (key, input) in [
        ("interval", "intervalSeconds"),
        ("timeout", "timeoutSeconds"),
        ("start_period", "startPeriodSeconds"),
    ] {
        let at = key_path(path, key);
        let Some(text) = node.get(key).and_then(|n| string(n, &at, diag)) else {
            continue;
        };
        if text.unknown {
            out.insert(input.into(), wrap(text.secret, true, || Value::Null));
            continue;
        }
        match duration_seconds(&text.value) {
            Ok(seconds) => {
                out.insert(
                    input.into(),
                    text.map(|_| Value::from(f64::from(seconds)))
                        .into_value(|v| v),
                );
            }
            Err(_) if text.secret => diag.error(
                &at,
                "must be a duration such as \"30s\" (the secret value is not)",
            ),
            Err(reason) => diag.error(&at, reason),
        }
    }
    if let Some(r) = node
        .get("retries")
        .and_then(|n| count(n, &key_path(path, "retries"), diag))
    {
        out.insert(
            "retries".into(),
            r.into_value(|v| Value::from(f64::from(v))),
        );
    }
    Some(Value::Object(out))
}

/// `platform`: `linux/amd64` or `linux/arm64` (Docker's aliases `x86_64`, `aarch64` and the
/// `arm64/v8` variant are the same platforms).
fn platform(node: &Node, path: &str, diag: &mut Diag) -> Option<Value> {
    let text = string(node, path, diag)?;
    if text.unknown {
        return Some(wrap(text.secret, true, || Value::Null));
    }
    let platform = match text.value.trim().to_ascii_lowercase().as_str() {
        "linux/amd64" | "linux/x86_64" | "linux/x86-64" => "linux/amd64",
        "linux/arm64" | "linux/arm64/v8" | "linux/aarch64" => "linux/arm64",
        _ => {
            diag.error(
                path,
                format!(
                    "must be linux/amd64 or linux/arm64, the platforms Fargate runs; got {}: \
                     build the image for one of them and set it here",
                    shown(&text)
                ),
            );
            return None;
        }
    };
    Some(text.map(|_| platform.to_string()).into_value(Value::String))
}

/// Warns about networks other than `default`: every service of a project is on one network.
fn networks_warning(node: &Node, path: &str, diag: &mut Diag) {
    let names: Vec<String> = match node {
        Node::Seq(items) => items
            .iter()
            .filter_map(|n| n.scalar_text())
            .map(|t| t.value)
            .collect(),
        Node::Map(entries) => entries.iter().map(|(k, _)| k.clone()).collect(),
        other => {
            diag.wrong_type(path, "a list or a mapping of networks", other);
            return;
        }
    };
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "default")
        .collect();
    if !others.is_empty() {
        diag.warn(
            path,
            format!(
                "networks {} are not created: all services of the project share one private \
                 network, where each reaches the others by name; the service joins that one",
                others.join(", ")
            ),
        );
    }
}

/// `depends_on`: a list of service names, or a mapping of names to `condition`, `restart` and
/// `required`. Unknown services are errors, except optional ones (`required: false`).
fn depends_on(
    node: &Node,
    own: &str,
    path: &str,
    services: &[String],
    diag: &mut Diag,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str, at: &str, required: bool, secret: bool, diag: &mut Diag| {
        if name == own {
            diag.error(at, format!("makes {own} depend on itself: remove it"));
        } else if services.iter().any(|s| s == name) {
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        } else if required {
            let close = super::keys::closest(name, services.iter().map(String::as_str));
            let hint = close
                .filter(|_| !secret)
                .map(|c| format!(" Did you mean `{c}`?"))
                .unwrap_or_default();
            diag.error(
                at,
                format!(
                    "names the service {}, which is not in the file: list services of this file \
                     only.{hint}",
                    if secret {
                        "(a secret value, not shown)".to_string()
                    } else {
                        crate::names::quoted(name)
                    }
                ),
            );
        }
    };
    match node {
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let at = index_path(path, i);
                match item.scalar_text() {
                    Some(t) if !t.unknown => add(&t.value, &at, true, t.secret, diag),
                    Some(_) => {
                        diag.error(&at, "must be a service name known when the file is read")
                    }
                    None => diag.wrong_type(&at, "a service name", item),
                }
            }
        }
        Node::Map(entries) => {
            for (name, value) in entries {
                let at = key_path(path, name);
                let mut required = true;
                if let Some(options) = mapping(value, &at, diag) {
                    check_keys(
                        options,
                        &at,
                        &["condition", "required"],
                        &[(
                            "restart",
                            "is not used: a dependency's restart does not restart this service",
                        )],
                        "depends_on",
                        diag,
                    );
                    if let Some(c) = value
                        .get("condition")
                        .and_then(|n| string(n, &key_path(&at, "condition"), diag))
                    {
                        match c.value.as_str() {
                            "service_started" | "service_healthy" => {}
                            "service_completed_successfully" => diag.warn(
                                key_path(&at, "condition"),
                                "cannot be waited for: services here run continuously; the \
                                 service is only created after it",
                            ),
                            _ => diag.error(
                                key_path(&at, "condition"),
                                format!(
                                    "must be service_started, service_healthy or \
                                     service_completed_successfully; got {}",
                                    shown(&c)
                                ),
                            ),
                        }
                    }
                    if let Some(r) = value
                        .get("required")
                        .and_then(|n| boolean(n, &key_path(&at, "required"), diag))
                    {
                        required = r.value || r.unknown;
                    }
                }
                add(name, &at, required, false, diag);
            }
        }
        other => diag.wrong_type(path, "a list of service names or a mapping", other),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_join_the_compose_folder() {
        let cases = [
            ("", ".", "."),
            ("", "./web", "web"),
            ("app", "./web", "app/web"),
            ("app", ".", "app"),
            ("app", "..", "."),
            ("app", "../lib", "lib"),
            ("", "../x", "../x"),
            ("a/b", "../../..", ".."),
            ("app", "/srv/web", "/srv/web"),
            ("/abs/app", "web/", "/abs/app/web"),
            ("/abs", "../../..", "/"),
            ("app", "web//src/./x", "app/web/src/x"),
        ];
        for (dir, context, expected) in cases {
            assert_eq!(join_context(dir, context), expected, "{dir} + {context}");
        }
    }
}
