//! Every key the Compose specification defines for a service and at the top level, and what this
//! provider does with it: mapped to the Service's inputs, ignored with a warning that says what
//! happens instead, or an error because ignoring it would deploy something else than the file
//! describes. Keys that are not in the specification are errors, with the closest known key.

/// What happens to a Compose key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Support {
    /// Mapped to the Service's inputs (see the table in [`super`]).
    Mapped,
    /// Not supported: a warning with this message (what happens instead).
    Warn(&'static str),
    /// Cannot be honoured and cannot be ignored: an error with this message (the fix).
    Error(&'static str),
}

use Support::{Error, Mapped, Warn};

const CPU_CONTROLS: &str = "is not available on Fargate: each task gets exactly the vCPU of its \
     size; set deploy.resources.reservations.cpus (or cpus) instead; it is ignored";
const NAMESPACES: &str = "is not available on Fargate, which isolates each task in its own \
     microVM; it is ignored";
const LINKS: &str = "is not needed: services of a project reach each other by name on the \
     project's private network (<service>.<project>.internal); it is ignored";
const LABELS: &str = "are not applied to the ECS service or its tasks; they are ignored";
const VOLUMES: &str = "are not supported on Fargate services here: the container's filesystem \
     is ephemeral; the volume is not mounted";
const NO_TERMINAL: &str = "has no effect: no terminal is attached to ECS tasks; it is ignored";
const MEMORY_CONTROLS: &str = "is not available on Fargate, which has no swap; it is ignored";

/// The service keys of the Compose specification (services section), in its order.
pub(crate) const SERVICE_KEYS: &[(&str, Support)] = &[
    ("annotations", Warn(LABELS)),
    (
        "attach",
        Warn("only affects the output of a local `docker compose up`; it is ignored"),
    ),
    (
        "blkio_config",
        Warn("is not available on Fargate; block IO is not limited"),
    ),
    ("build", Mapped),
    (
        "cap_add",
        Warn("is not supported here: the container runs with Docker's default capabilities"),
    ),
    (
        "cap_drop",
        Warn("is not supported here: the container runs with Docker's default capabilities"),
    ),
    ("cgroup", Warn(NAMESPACES)),
    (
        "cgroup_parent",
        Warn("is managed by Fargate; it is ignored"),
    ),
    ("command", Mapped),
    (
        "configs",
        Warn(
            "are not mounted: put the file in the image, or pass its content in an environment \
              variable",
        ),
    ),
    (
        "container_name",
        Warn(
            "is not used: the container is named after the service, and other services reach \
              it by the service name",
        ),
    ),
    ("cpu_count", Warn(CPU_CONTROLS)),
    ("cpu_percent", Warn(CPU_CONTROLS)),
    ("cpu_period", Warn(CPU_CONTROLS)),
    ("cpu_quota", Warn(CPU_CONTROLS)),
    ("cpu_rt_period", Warn(CPU_CONTROLS)),
    ("cpu_rt_runtime", Warn(CPU_CONTROLS)),
    ("cpu_shares", Warn(CPU_CONTROLS)),
    ("cpus", Mapped),
    ("cpuset", Warn(CPU_CONTROLS)),
    (
        "credential_spec",
        Warn("applies to Windows containers only; it is ignored"),
    ),
    ("depends_on", Mapped),
    ("deploy", Mapped),
    (
        "develop",
        Warn("only applies to local development (`docker compose watch`); it is ignored"),
    ),
    (
        "device_cgroup_rules",
        Warn("is not available on Fargate: no host devices are mapped"),
    ),
    (
        "devices",
        Warn("are not available on Fargate: no host devices are mapped"),
    ),
    (
        "dns",
        Warn(
            "is not supported here: the task uses the VPC's DNS resolver, which resolves the \
              project's services by name",
        ),
    ),
    (
        "dns_opt",
        Warn("is not supported here: the task uses the VPC's DNS resolver"),
    ),
    (
        "dns_search",
        Warn("is not supported here: the task uses the VPC's DNS resolver"),
    ),
    ("domainname", Mapped),
    ("entrypoint", Mapped),
    ("env_file", Mapped),
    ("environment", Mapped),
    ("expose", Mapped),
    (
        "extends",
        Error("is not supported: copy the settings of the extended service into this one"),
    ),
    ("external_links", Warn(LINKS)),
    (
        "extra_hosts",
        Warn(
            "cannot be added on Fargate (no /etc/hosts entries with awsvpc networking): use DNS \
              names; they are ignored",
        ),
    ),
    (
        "gpus",
        Warn("are not available on Fargate: the service runs without a GPU"),
    ),
    (
        "group_add",
        Warn("is not supported here: the image's user and groups apply"),
    ),
    ("healthcheck", Mapped),
    (
        "hostname",
        Warn(
            "is not set: other services reach this one by its service name \
              (<service>.<project>.internal)",
        ),
    ),
    ("image", Mapped),
    ("init", Mapped),
    ("ipc", Warn(NAMESPACES)),
    ("isolation", Warn(NAMESPACES)),
    ("label_file", Warn(LABELS)),
    ("labels", Warn(LABELS)),
    ("links", Warn(LINKS)),
    (
        "logging",
        Warn("is not used: the container's output goes to the project's CloudWatch log group"),
    ),
    (
        "mac_address",
        Warn("cannot be set on Fargate; it is ignored"),
    ),
    ("mem_limit", Mapped),
    ("mem_reservation", Mapped),
    ("mem_swappiness", Warn(MEMORY_CONTROLS)),
    ("memswap_limit", Warn(MEMORY_CONTROLS)),
    (
        "models",
        Warn("are not supported here: no model runner is attached; they are ignored"),
    ),
    (
        "network_mode",
        Warn(
            "is not supported: Fargate tasks use awsvpc networking on the project's private \
              network; it is ignored",
        ),
    ),
    ("networks", Mapped),
    (
        "oom_kill_disable",
        Warn("is not available on Fargate; it is ignored"),
    ),
    (
        "oom_score_adj",
        Warn("is not available on Fargate; it is ignored"),
    ),
    ("pid", Warn(NAMESPACES)),
    (
        "pids_limit",
        Warn("is not available on Fargate; it is ignored"),
    ),
    ("platform", Mapped),
    ("ports", Mapped),
    (
        "post_start",
        Warn("lifecycle hooks are not run on ECS; it is ignored"),
    ),
    (
        "pre_stop",
        Warn("lifecycle hooks are not run on ECS; it is ignored"),
    ),
    (
        "privileged",
        Warn("is not allowed on Fargate: the container runs unprivileged"),
    ),
    (
        "profiles",
        Warn("are not used: every service of the file is deployed, whatever its profiles"),
    ),
    (
        "provider",
        Warn("services (Compose providers) are not supported here; the provider is not run"),
    ),
    (
        "pull_policy",
        Warn(
            "is not used: ECS pulls the image whenever a task starts (a digest pins it); it \
              is ignored",
        ),
    ),
    ("read_only", Mapped),
    (
        "restart",
        Warn(
            "is not needed: ECS replaces any task that stops, to keep the replicas running; it \
              is ignored",
        ),
    ),
    (
        "runtime",
        Warn("cannot be chosen on Fargate; it is ignored"),
    ),
    ("scale", Mapped),
    (
        "secrets",
        Warn(
            "are not mounted as files: pass each secret through the component's `environment` \
              input (as a Pulumi secret) and a value-less entry such as `environment: [API_KEY]`",
        ),
    ),
    (
        "security_opt",
        Warn("is not available on Fargate; it is ignored"),
    ),
    (
        "shm_size",
        Warn("cannot be set here: the task gets Fargate's default /dev/shm"),
    ),
    ("stdin_open", Warn(NO_TERMINAL)),
    ("stop_grace_period", Mapped),
    (
        "stop_signal",
        Warn("is not set: ECS sends the image's STOPSIGNAL (SIGTERM by default)"),
    ),
    (
        "storage_opt",
        Warn("is not available on Fargate; it is ignored"),
    ),
    (
        "sysctls",
        Warn("are not set (Fargate allows almost none); they are ignored"),
    ),
    (
        "tmpfs",
        Warn(
            "mounts are not created: the container's filesystem is ephemeral and writable \
              anyway",
        ),
    ),
    ("tty", Warn(NO_TERMINAL)),
    ("ulimits", Warn("are not set: Fargate's defaults apply")),
    (
        "use_api_socket",
        Warn("has no effect: there is no Docker engine socket on Fargate"),
    ),
    ("user", Mapped),
    ("userns_mode", Warn(NAMESPACES)),
    ("uts", Warn(NAMESPACES)),
    ("volumes", Warn(VOLUMES)),
    ("volumes_from", Warn(VOLUMES)),
    ("working_dir", Mapped),
];

/// The top-level keys of the Compose specification.
pub(crate) const TOP_LEVEL_KEYS: &[(&str, Support)] = &[
    (
        "version",
        Warn("is obsolete (Compose ignores it too); it is ignored"),
    ),
    ("name", Mapped),
    ("services", Mapped),
    ("networks", Mapped),
    (
        "volumes",
        Warn(
            "are not created: services here have no persistent storage (the container's \
              filesystem is ephemeral); no volume is mounted",
        ),
    ),
    (
        "secrets",
        Warn(
            "are not created: pass secret values through the component's `environment` input \
              (as Pulumi secrets) and value-less `environment` entries",
        ),
    ),
    (
        "configs",
        Warn(
            "are not created: put the files in the images, or pass their content in \
              environment variables",
        ),
    ),
    (
        "include",
        Error("is not supported: merge the included files' services into this file"),
    ),
    (
        "models",
        Warn("are not supported here; no model runner is created"),
    ),
];

/// How `key` is supported among `keys`; `None` when it is not a key of the specification.
pub(crate) fn support(keys: &[(&str, Support)], key: &str) -> Option<Support> {
    keys.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

/// The message for a key that is not in `known`: the closest known key, if one is close.
pub(crate) fn unknown_key(key: &str, known: &[&str], what: &str) -> String {
    match closest(key, known.iter().copied()) {
        Some(close) => format!(
            "{} is not a {what} key: did you mean `{close}`? (extensions start with `x-`)",
            crate::names::quoted(key)
        ),
        // A short list of keys helps; the ninety service keys would drown the message.
        None if known.len() <= 12 => format!(
            "{} is not a {what} key: remove it, or start it with `x-` to mark it as an extension \
             (known keys: {})",
            crate::names::quoted(key),
            known.join(", ")
        ),
        None => format!(
            "{} is not a {what} key of the Compose specification: remove it, or start it with \
             `x-` to mark it as an extension",
            crate::names::quoted(key)
        ),
    }
}

/// The known key closest to `key` in edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = key.to_ascii_lowercase().replace('-', "_");
    let limit = (key.chars().count() / 3).max(1);
    let known: Vec<&str> = known.collect();
    // A key cut short (`retry` for `retries`) is a typo too, however many letters are missing:
    // the known key that starts with all of it but its last letter, at least four letters.
    let prefix = || {
        let len = lower.chars().count();
        known
            .iter()
            .copied()
            .map(|k| (common_prefix(&lower, k), k))
            .filter(|(common, _)| *common >= 4 && *common + 1 >= len)
            .max_by_key(|(common, _)| *common)
            .map(|(_, k)| k)
    };
    known
        .iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
        .or_else(prefix)
}

/// How many leading characters `a` and `b` share.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// The edit distance (optimal string alignment: insertions, deletions, substitutions and
/// transpositions of neighbours, the usual typos), by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, row);
    }
    previous[b.len()]
}

/// The warning for an `x-defang-*` extension: none is mapped to this provider's inputs yet.
pub(crate) fn defang_extension(key: &str) -> String {
    let what = match key {
        "x-defang-postgres" => {
            "asks Defang for a managed Postgres (Amazon RDS); this provider does not create one: \
             the service is deployed as an ordinary container from its image, without persistent \
             storage"
        }
        "x-defang-redis" => {
            "asks Defang for a managed Redis (Amazon ElastiCache); this provider does not create \
             one: the service is deployed as an ordinary container from its image"
        }
        "x-defang-mongodb" => {
            "asks Defang for a managed MongoDB (Amazon DocumentDB); this provider does not create \
             one: the service is deployed as an ordinary container from its image"
        }
        "x-defang-llm" => {
            "asks Defang for access to managed LLMs (Amazon Bedrock); this provider grants none: \
             the service runs without that access"
        }
        "x-defang-static-files" => {
            "asks Defang to serve the service's files from a bucket and CDN; this provider does \
             not: the service is deployed as a container"
        }
        "x-defang-dns-role" => {
            "names a role for Defang to manage DNS in another account; this provider does not \
             use it: domains are managed in this account's Route 53"
        }
        "x-defang-autoscaling" => {
            "asks Defang to scale the service automatically; this provider does not: it runs \
             `deploy.replicas` tasks"
        }
        _ => "is a Defang extension that this provider does not support",
    };
    format!("{key} {what}; it is ignored")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_keys_catch_typos() {
        let known: Vec<&str> = SERVICE_KEYS.iter().map(|(k, _)| *k).collect();
        assert_eq!(closest("imgae", known.iter().copied()), Some("image"));
        assert_eq!(closest("port", known.iter().copied()), Some("ports"));
        assert_eq!(
            closest("healthCheck", known.iter().copied()),
            Some("healthcheck")
        );
        assert_eq!(
            closest("depends-on", known.iter().copied()),
            Some("depends_on")
        );
        assert_eq!(
            closest("environmnet", known.iter().copied()),
            Some("environment")
        );
        assert_eq!(closest("zzzzzz", known.iter().copied()), None);
        assert_eq!(
            closest("retry", ["retries", "timeout"].into_iter()),
            Some("retries")
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("imgae", "image"), 1);
    }

    #[test]
    fn every_key_is_listed_once() {
        for keys in [SERVICE_KEYS, TOP_LEVEL_KEYS] {
            let mut names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count);
        }
    }

    #[test]
    fn unknown_key_messages_give_the_fix() {
        assert_eq!(
            unknown_key("imgae", &["image", "build"], "service"),
            "\"imgae\" is not a service key: did you mean `image`? (extensions start with `x-`)"
        );
        assert_eq!(
            unknown_key("qqqq", &["image", "build"], "service"),
            "\"qqqq\" is not a service key: remove it, or start it with `x-` to mark it as an \
             extension (known keys: image, build)"
        );
    }
}
