//! Task definitions: our [`TaskDefinitionSpec`] to ECS's model and back.
//!
//! The mapping back is the exact inverse of the mapping out, so that a spec that was planned,
//! registered and described compares equal. Normalisations that make this hold:
//! environment and tags are sorted by name (the spec keeps them sorted), and an empty
//! `command`/`entryPoint` reads back as `None`.

use aws_sdk_ecs::types::{
    self as sdk, ApplicationProtocol, Compatibility, ContainerDefinition, HealthCheck,
    KeyValuePair, LogConfiguration, LogDriver, NetworkMode, RuntimePlatform, Tag,
};
use defang_resources::cloud::{
    AppProtocol, CloudError, ContainerHealthCheck, ContainerSpec, CpuArchitecture, LogConfig,
    PortMapping, TaskDefinition, TaskDefinitionSpec, TransportProtocol,
};

const AWSLOGS_GROUP: &str = "awslogs-group";
const AWSLOGS_REGION: &str = "awslogs-region";
const AWSLOGS_STREAM_PREFIX: &str = "awslogs-stream-prefix";

/// Fills a RegisterTaskDefinition request from the spec.
pub(super) fn register_request(
    request: aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder,
    spec: &TaskDefinitionSpec,
) -> Result<
    aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder,
    CloudError,
> {
    let request = request
        .family(&spec.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu(spec.cpu.to_string())
        .memory(spec.memory.to_string())
        .runtime_platform(
            RuntimePlatform::builder()
                .operating_system_family(sdk::OsFamily::Linux)
                .cpu_architecture(match spec.cpu_architecture {
                    CpuArchitecture::X86_64 => sdk::CpuArchitecture::X8664,
                    CpuArchitecture::Arm64 => sdk::CpuArchitecture::Arm64,
                })
                .build(),
        )
        .set_execution_role_arn(spec.execution_role_arn.clone())
        .set_task_role_arn(spec.task_role_arn.clone())
        .set_ephemeral_storage(spec.ephemeral_storage_gib.map(|gib| {
            sdk::EphemeralStorage::builder()
                .size_in_gib(to_i32(gib))
                .build()
        }))
        .container_definitions(container_definition(&spec.container)?)
        .set_tags((!spec.tags.is_empty()).then(|| to_tags(&spec.tags)));
    Ok(request)
}

fn container_definition(container: &ContainerSpec) -> Result<ContainerDefinition, CloudError> {
    let mut definition = ContainerDefinition::builder()
        .name(&container.name)
        .image(&container.image)
        // One container per task: if it stops, the task stops and ECS replaces it.
        .essential(true)
        .set_command(container.command.clone())
        .set_entry_point(container.entrypoint.clone())
        .set_environment(Some(
            container
                .environment
                .iter()
                .map(|(name, value)| KeyValuePair::builder().name(name).value(value).build())
                .collect(),
        ))
        .set_port_mappings(Some(
            container.port_mappings.iter().map(port_mapping).collect(),
        ))
        .set_working_directory(container.working_directory.clone())
        .set_user(container.user.clone())
        .set_stop_timeout(container.stop_timeout_seconds.map(to_i32))
        // Only when true: false is ECS's default, and a described false reads back as unset.
        .set_readonly_root_filesystem(container.readonly_root_filesystem.then_some(true));
    if container.init_process_enabled {
        definition = definition.linux_parameters(
            sdk::LinuxParameters::builder()
                .init_process_enabled(true)
                .build(),
        );
    }
    if !container.secrets.is_empty() {
        let secrets = container
            .secrets
            .iter()
            .map(|(name, value_from)| {
                sdk::Secret::builder()
                    .name(name)
                    .value_from(value_from)
                    .build()
                    .map_err(|e| CloudError::invalid(format!("container secret {name}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        definition = definition.set_secrets(Some(secrets));
    }
    if let Some(check) = &container.health_check {
        definition = definition.health_check(health_check(check)?);
    }
    if let Some(log) = &container.log {
        definition = definition.log_configuration(log_configuration(log)?);
    }
    Ok(definition.build())
}

fn port_mapping(port: &PortMapping) -> sdk::PortMapping {
    sdk::PortMapping::builder()
        .container_port(i32::from(port.container_port))
        .protocol(match port.protocol {
            TransportProtocol::Tcp => sdk::TransportProtocol::Tcp,
            TransportProtocol::Udp => sdk::TransportProtocol::Udp,
        })
        .set_app_protocol(port.app_protocol.map(|p| match p {
            AppProtocol::Http => ApplicationProtocol::Http,
            AppProtocol::Http2 => ApplicationProtocol::Http2,
            AppProtocol::Grpc => ApplicationProtocol::Grpc,
        }))
        .name(&port.name)
        .build()
}

fn health_check(check: &ContainerHealthCheck) -> Result<HealthCheck, CloudError> {
    HealthCheck::builder()
        .set_command(Some(check.command.clone()))
        .set_interval(check.interval_seconds.map(to_i32))
        .set_timeout(check.timeout_seconds.map(to_i32))
        .set_retries(check.retries.map(to_i32))
        .set_start_period(check.start_period_seconds.map(to_i32))
        .build()
        .map_err(|e| CloudError::invalid(format!("health check: {e}")))
}

fn log_configuration(log: &LogConfig) -> Result<LogConfiguration, CloudError> {
    LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options(AWSLOGS_GROUP, &log.group)
        .options(AWSLOGS_REGION, &log.region)
        .options(AWSLOGS_STREAM_PREFIX, &log.stream_prefix)
        .build()
        .map_err(|e| CloudError::invalid(format!("log configuration: {e}")))
}

pub(super) fn to_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

/// Tags sorted by key, as the resource layer builds them (from a BTreeMap).
pub(super) fn from_tags(tags: &[Tag]) -> Vec<(String, String)> {
    let mut tags: Vec<_> = tags
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    tags.sort();
    tags
}

/// Maps a described task definition (and its tags) back to the spec it was registered from.
pub(super) fn from_sdk(
    definition: &sdk::TaskDefinition,
    tags: &[Tag],
) -> Result<TaskDefinition, CloudError> {
    let unexpected = |what: &str| {
        CloudError::other(format!(
            "task definition {}: unexpected {what} in the ECS response",
            definition.task_definition_arn().unwrap_or("?")
        ))
        .in_call(crate::errors::ECS, "DescribeTaskDefinition")
    };
    let arn = definition
        .task_definition_arn()
        .ok_or_else(|| unexpected("missing ARN"))?;
    let containers = definition.container_definitions();
    // Ours have exactly one container, marked essential; prefer it if someone added a sidecar.
    let container = containers
        .iter()
        .find(|c| c.essential() == Some(true))
        .or_else(|| containers.first())
        .ok_or_else(|| unexpected("empty container list"))?;
    let parse_units = |value: Option<&str>, what: &str| {
        value
            .and_then(|v| v.trim().parse::<u32>().ok())
            .ok_or_else(|| unexpected(what))
    };
    Ok(TaskDefinition {
        arn: arn.to_owned(),
        revision: definition.revision(),
        spec: TaskDefinitionSpec {
            family: definition.family().unwrap_or_default().to_owned(),
            cpu: parse_units(definition.cpu(), "cpu")?,
            memory: parse_units(definition.memory(), "memory")?,
            cpu_architecture: match definition
                .runtime_platform()
                .and_then(|p| p.cpu_architecture())
            {
                Some(sdk::CpuArchitecture::Arm64) => CpuArchitecture::Arm64,
                _ => CpuArchitecture::X86_64,
            },
            execution_role_arn: definition.execution_role_arn().map(str::to_owned),
            task_role_arn: definition.task_role_arn().map(str::to_owned),
            ephemeral_storage_gib: definition
                .ephemeral_storage()
                .and_then(|e| to_u32(e.size_in_gib())),
            container: container_spec(container),
            tags: from_tags(tags),
        },
    })
}

fn container_spec(container: &ContainerDefinition) -> ContainerSpec {
    let non_empty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    let mut environment: Vec<_> = container
        .environment()
        .iter()
        .filter_map(|kv| {
            Some((
                kv.name()?.to_owned(),
                kv.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    environment.sort();
    let mut secrets: Vec<_> = container
        .secrets()
        .iter()
        .map(|s| (s.name().to_owned(), s.value_from().to_owned()))
        .collect();
    secrets.sort();
    ContainerSpec {
        name: container.name().unwrap_or_default().to_owned(),
        image: container.image().unwrap_or_default().to_owned(),
        command: non_empty(container.command()),
        entrypoint: non_empty(container.entry_point()),
        environment,
        secrets,
        port_mappings: container
            .port_mappings()
            .iter()
            .map(|p| PortMapping {
                container_port: p
                    .container_port()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or_default(),
                protocol: match p.protocol() {
                    Some(sdk::TransportProtocol::Udp) => TransportProtocol::Udp,
                    _ => TransportProtocol::Tcp,
                },
                app_protocol: p.app_protocol().and_then(|a| match a {
                    ApplicationProtocol::Http => Some(AppProtocol::Http),
                    ApplicationProtocol::Http2 => Some(AppProtocol::Http2),
                    ApplicationProtocol::Grpc => Some(AppProtocol::Grpc),
                    _ => None,
                }),
                name: p.name().unwrap_or_default().to_owned(),
            })
            .collect(),
        health_check: container.health_check().map(|h| ContainerHealthCheck {
            command: h.command().to_vec(),
            interval_seconds: h.interval().and_then(to_u32),
            timeout_seconds: h.timeout().and_then(to_u32),
            retries: h.retries().and_then(to_u32),
            start_period_seconds: h.start_period().and_then(to_u32),
        }),
        log: container.log_configuration().and_then(log_config),
        working_directory: container.working_directory().map(str::to_owned),
        user: container.user().map(str::to_owned),
        stop_timeout_seconds: container.stop_timeout().and_then(to_u32),
        readonly_root_filesystem: container.readonly_root_filesystem() == Some(true),
        init_process_enabled: container
            .linux_parameters()
            .and_then(|l| l.init_process_enabled())
            == Some(true),
    }
}

fn log_config(log: &LogConfiguration) -> Option<LogConfig> {
    if log.log_driver() != &LogDriver::Awslogs {
        return None;
    }
    let options = log.options()?;
    let option = |key: &str| options.get(key).cloned().unwrap_or_default();
    Some(LogConfig {
        group: options.get(AWSLOGS_GROUP)?.clone(),
        region: option(AWSLOGS_REGION),
        stream_prefix: option(AWSLOGS_STREAM_PREFIX),
    })
}

/// The family in `arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`.
pub(super) fn family_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.rsplit_once("task-definition/")?;
    let (family, _revision) = rest.rsplit_once(':')?;
    Some(family)
}

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn to_u32(value: i32) -> Option<u32> {
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_from_arn() {
        assert_eq!(
            family_of_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web-api:12"),
            Some("web-api")
        );
        assert_eq!(family_of_arn("web-api:12"), None);
    }
}
