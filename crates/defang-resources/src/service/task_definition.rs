//! The task definition a service runs: planned from its resolved inputs, and the inputs
//! recovered from one that exists (for refresh and `pulumi import`).
//!
//! Planning is deterministic and says what ECS would fill in itself (health-check defaults,
//! tcp), so that a planned spec equals the spec described back after registration and an
//! update without changes registers no new revision.

use super::existing_secrets::{AccountScope, reference_from, value_from};
use super::inputs::{
    AppProtocol, HealthCheck, Platform, Port, PortMode, Protocol, ResolvedPort, ResolvedService,
    ServiceInputs,
};
use super::secrets::parameter_prefix;
use super::sizing::format_memory;
use crate::cloud::{
    self, ContainerHealthCheck, ContainerSpec, CpuArchitecture, LogConfig, PortMapping,
    ServiceState, TaskDefinition, TaskDefinitionSpec, TransportProtocol,
};
use crate::project::ProjectInfo;
use pulumi_plugin::value::{Computed, MaybeSecret};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::ownership::{PROJECT_TAG, SERVICE_TAG};
/// The ingress ports (`80/tcp 443/tcp`), so that refresh and import can tell ingress from host
/// ports: a task definition alone does not say how a port is exposed.
pub const INGRESS_PORTS_TAG: &str = "defang:ingress-ports";

/// ECS's health-check defaults, made explicit (ECS describes them even when not registered).
const HEALTH_CHECK_INTERVAL: u32 = 30;
const HEALTH_CHECK_TIMEOUT: u32 = 5;
const HEALTH_CHECK_RETRIES: u32 = 3;

/// ECS port mapping names are at most 64 characters.
const MAX_PORT_NAME_LEN: usize = 64;

/// `<service>-<port>-<protocol>`, unique in the task definition (ports are unique per
/// protocol); a long service name is cut to fit ECS's 64 characters.
pub fn port_name(service: &str, port: u16, protocol: Protocol) -> String {
    let suffix = format!("-{port}-{}", protocol.as_str());
    let room = MAX_PORT_NAME_LEN - suffix.len();
    let prefix: String = service.chars().take(room).collect();
    format!("{}{suffix}", prefix.trim_end_matches('-'))
}

/// The task definition of `service` in `project`, logging to the project's log group.
/// `secrets` are `(variable, SSM parameter ARN)` of the secret environment values: those
/// variables are referenced, not written in `environment`. The service's `secrets` (secrets
/// that exist already) are referenced by ARN in the project's account and region. The task
/// role is `taskRoleArn`; the deploy sets the service's own role when it has one.
pub fn plan_task_definition(
    service: &ResolvedService,
    project: &ProjectInfo,
    region: &str,
    secrets: &[(String, String)],
) -> TaskDefinitionSpec {
    let is_secret = |name: &str| secrets.iter().any(|(n, _)| n == name);
    let mut secrets = secrets.to_vec();
    if let Some(scope) = AccountScope::of_role(&project.execution_role_arn, region) {
        secrets.extend(
            service
                .secrets
                .iter()
                .filter_map(|(var, reference)| Some((var.clone(), value_from(reference, &scope)?))),
        );
    }
    secrets.sort();
    TaskDefinitionSpec {
        family: crate::aws_names::task_family(&service.project, &service.name),
        cpu: service.size.cpu_units,
        memory: service.size.memory_mib,
        cpu_architecture: match service.platform {
            // Graviton: the same Fargate sizes as x86_64.
            Platform::LinuxArm64 => CpuArchitecture::Arm64,
            Platform::LinuxAmd64 => CpuArchitecture::X86_64,
        },
        execution_role_arn: Some(project.execution_role_arn.clone()),
        task_role_arn: service.task_role_arn.clone(),
        ephemeral_storage_gib: service.ephemeral_storage,
        container: ContainerSpec {
            name: service.name.clone(),
            image: service.image.clone(),
            command: service.command.clone(),
            entrypoint: service.entrypoint.clone(),
            // A BTreeMap iterates sorted by name, as the spec wants.
            environment: service
                .environment
                .iter()
                .filter(|(k, _)| !is_secret(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            secrets,
            port_mappings: service
                .ports
                .iter()
                .map(|port| port_mapping(&service.name, port))
                .collect(),
            health_check: service.health_check.as_ref().and_then(ecs_health_check),
            log: Some(LogConfig {
                group: project.log_group_name.clone(),
                region: region.to_string(),
                stream_prefix: service.name.clone(),
            }),
            working_directory: service.working_dir.clone(),
            user: service.user.clone(),
            stop_timeout_seconds: service.stop_grace_period,
            readonly_root_filesystem: service.readonly_root_filesystem,
            init_process_enabled: service.init,
        },
        tags: tags(service),
    }
}

fn port_mapping(service: &str, port: &ResolvedPort) -> PortMapping {
    PortMapping {
        container_port: port.target,
        protocol: match port.protocol {
            Protocol::Tcp => TransportProtocol::Tcp,
            Protocol::Udp => TransportProtocol::Udp,
        },
        app_protocol: port.app_protocol.map(|p| match p {
            AppProtocol::Http => cloud::AppProtocol::Http,
            AppProtocol::Http2 => cloud::AppProtocol::Http2,
            AppProtocol::Grpc => cloud::AppProtocol::Grpc,
        }),
        name: port_name(service, port.target, port.protocol),
    }
}

/// Compose `CMD` and `CMD-SHELL` tests are ECS's own form; `NONE` means no health check.
fn ecs_health_check(health_check: &HealthCheck) -> Option<ContainerHealthCheck> {
    match health_check.test.first().map(String::as_str) {
        Some("CMD") | Some("CMD-SHELL") => Some(ContainerHealthCheck {
            command: health_check.test.clone(),
            interval_seconds: Some(
                health_check
                    .interval_seconds
                    .unwrap_or(HEALTH_CHECK_INTERVAL),
            ),
            timeout_seconds: Some(health_check.timeout_seconds.unwrap_or(HEALTH_CHECK_TIMEOUT)),
            retries: Some(health_check.retries.unwrap_or(HEALTH_CHECK_RETRIES)),
            start_period_seconds: health_check.start_period_seconds,
        }),
        // NONE, or anything Check rejects.
        _ => None,
    }
}

/// Sorted by key, as ECS describes them back.
fn tags(service: &ResolvedService) -> Vec<(String, String)> {
    let mut tags = BTreeMap::from([
        (PROJECT_TAG.to_string(), service.project.clone()),
        (SERVICE_TAG.to_string(), service.name.clone()),
    ]);
    let ingress: Vec<String> = service
        .ports
        .iter()
        .filter(|p| p.mode == PortMode::Ingress)
        .map(|p| format!("{}/{}", p.target, p.protocol.as_str()))
        .collect();
    if !ingress.is_empty() {
        tags.insert(INGRESS_PORTS_TAG.to_string(), ingress.join(" "));
    }
    tags.into_iter().collect()
}

/// The inputs that would plan `task_definition` for `service`, for `pulumi import` and refresh.
///
/// What a task definition cannot say is recovered as follows:
/// - a port's `mode` is `ingress` when the task definition's `defang:ingress-ports` tag lists
///   it, else `host` (ports of task definitions that this provider did not register are
///   treated as private);
/// - `protocol` is left unset (the default) for tcp;
/// - `cpus` and `memory` are the deployed Fargate size, not what was asked for before rounding;
/// - `replicas` is the service's desired count;
/// - health-check timings are as ECS describes them (its defaults included);
/// - `waitForSteadyState` is left unset (it is not a property of what runs);
/// - secret environment values (the service's own SSM parameters) cannot be read back and
///   are left out: an import recovers the plain environment only (add the secret ones to the
///   program, as secrets), and refresh keeps the user's secret values (see `with_drift`);
///   references to secrets of the user's own come back as `secrets`, by ARN;
/// - a task role is `taskRoleArn` only when it is not the service's own (`own_task_role`, the
///   role of its stack): the policies of its own role are in the stack, not in the task
///   definition, and an import leaves `policies` and `policyStatements` out;
/// - `enableExec` and `healthCheckGracePeriod` are the service's; the grace period only for a
///   service with load balancers, where it is ECS's to have.
pub fn inputs_from_task_definition(
    task_definition: &TaskDefinition,
    service: &ServiceState,
    project: &str,
    own_task_role: Option<&str>,
) -> ServiceInputs {
    let spec = &task_definition.spec;
    let container = &spec.container;
    let ingress = ingress_ports(&spec.tags);
    let own_prefix = parameter_prefix(project, &service.name);
    ServiceInputs {
        project: Computed::Known(project.to_string()),
        name: Some(service.name.clone()),
        image: Some(container.image.clone()),
        // What runs is an image; how it was built is not recorded in ECS.
        build: None,
        ports: container
            .port_mappings
            .iter()
            .map(|mapping| {
                let protocol = match mapping.protocol {
                    TransportProtocol::Tcp => Protocol::Tcp,
                    TransportProtocol::Udp => Protocol::Udp,
                };
                let mode = if ingress.contains(&(mapping.container_port, protocol)) {
                    PortMode::Ingress
                } else {
                    PortMode::Host
                };
                Port {
                    target: mapping.container_port,
                    mode: Some(mode),
                    protocol: (protocol != Protocol::Tcp).then_some(protocol),
                    app_protocol: mapping.app_protocol.map(|p| match p {
                        cloud::AppProtocol::Http => AppProtocol::Http,
                        cloud::AppProtocol::Http2 => AppProtocol::Http2,
                        cloud::AppProtocol::Grpc => AppProtocol::Grpc,
                    }),
                }
            })
            .collect(),
        // What a task definition holds is plain (secret values are references, left out).
        environment: container
            .environment
            .iter()
            .map(|(var, value)| {
                let value = MaybeSecret {
                    value: value.clone(),
                    secret: false,
                };
                (var.clone(), value)
            })
            .collect(),
        command: container.command.clone(),
        entrypoint: container.entrypoint.clone(),
        replicas: Some(u32::try_from(service.desired_count).unwrap_or(0)),
        // Not ECS's: refresh reads it from Application Auto Scaling (`super::stack_drift`).
        autoscaling: None,
        capacity: super::scaling::capacity_from_strategy(&service.capacity_provider_strategy),
        cpus: Some(f64::from(spec.cpu) / 1024.0),
        memory: Some(format_memory(spec.memory)),
        platform: Some(match spec.cpu_architecture {
            CpuArchitecture::Arm64 => Platform::LinuxArm64,
            CpuArchitecture::X86_64 => Platform::LinuxAmd64,
        }),
        health_check: container.health_check.as_ref().map(|h| HealthCheck {
            test: h.command.clone(),
            interval_seconds: h.interval_seconds,
            timeout_seconds: h.timeout_seconds,
            retries: h.retries,
            start_period_seconds: h.start_period_seconds,
        }),
        // Routing is not part of the task; refresh keeps the user's domain.
        domain_name: None,
        wait_for_steady_state: None,
        secrets: container
            .secrets
            .iter()
            .filter_map(|(var, from)| Some((var.clone(), reference_from(from, &own_prefix)?)))
            .collect(),
        task_role_arn: spec
            .task_role_arn
            .clone()
            .filter(|arn| Some(arn.as_str()) != own_task_role),
        policies: Vec::new(),
        policy_statements: Vec::new(),
        working_dir: container.working_directory.clone(),
        user: container.user.clone(),
        stop_grace_period: container.stop_timeout_seconds,
        // ECS keeps a grace period only with load balancers, that is for ingress ports.
        health_check_grace_period: service
            .health_check_grace_period_seconds
            .filter(|_| !ingress.is_empty()),
        readonly_root_filesystem: container.readonly_root_filesystem.then_some(true),
        ephemeral_storage: spec.ephemeral_storage_gib,
        init: container.init_process_enabled.then_some(true),
        enable_exec: service.enable_execute_command.then_some(true),
    }
}

/// `(port, protocol)` pairs of the `defang:ingress-ports` tag; unreadable entries are skipped.
fn ingress_ports(tags: &[(String, String)]) -> BTreeSet<(u16, Protocol)> {
    tags.iter()
        .filter(|(key, _)| key == INGRESS_PORTS_TAG)
        .flat_map(|(_, value)| value.split_whitespace())
        .filter_map(|entry| {
            let (port, protocol) = entry.split_once('/')?;
            let protocol = match protocol {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => return None,
            };
            Some((port.parse().ok()?, protocol))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::check::check_service;
    use pulumi_plugin::value::to_properties;
    use serde_json::json;

    fn project() -> ProjectInfo {
        ProjectInfo {
            name: "shop".into(),
            cluster_name: "defang-shop".into(),
            subnet_ids: vec!["subnet-1".into(), "subnet-2".into()],
            security_group_id: "sg-1".into(),
            execution_role_arn: "arn:aws:iam::123456789012:role/defang-shop-exec".into(),
            log_group_name: "/defang/shop".into(),
            assign_public_ip: true,
            context_bucket: None,
            build_project: None,
            vpc_id: "vpc-1".into(),
            private_namespace_id: None,
            load_balancer_policy: None,
            ingress: None,
        }
    }

    fn resolved(value: serde_json::Value) -> ResolvedService {
        let inputs: ServiceInputs = serde_json::from_value(value).unwrap();
        inputs.resolved("web").unwrap()
    }

    fn service_state(desired: i32) -> ServiceState {
        ServiceState {
            arn: "arn:aws:ecs:us-east-1:1:service/defang-shop/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/defang-shop".into(),
            status: "ACTIVE".into(),
            task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/shop-web:1".into(),
            desired_count: desired,
            running_count: desired,
            pending_count: 0,
            deployments: vec![],
            network: None,
            enable_execute_command: false,
            health_check_grace_period_seconds: None,
            capacity_provider_strategy: vec![],
            tags: vec![],
            recent_events: vec![],
        }
    }

    #[test]
    fn plans_a_full_service() {
        let svc = resolved(json!({
            "project": "shop", "image": "ghcr.io/org/web:1",
            "ports": [
                {"target": 80, "appProtocol": "http"},
                {"target": 9090, "mode": "host"},
                {"target": 53, "protocol": "udp"},
            ],
            "environment": {"B": "2", "A": "1"},
            "command": ["serve"], "entrypoint": ["/bin/app"],
            "cpus": 1, "memory": "3Gi", "platform": "linux/arm64",
            "healthCheck": {"test": ["CMD", "curl", "-f", "http://localhost/"], "startPeriodSeconds": 20},
        }));
        let spec = plan_task_definition(&svc, &project(), "us-east-1", &[]);
        let expected = TaskDefinitionSpec {
            family: "defang-shop-S-web".into(),
            cpu: 1024,
            memory: 3072,
            cpu_architecture: CpuArchitecture::Arm64,
            execution_role_arn: Some("arn:aws:iam::123456789012:role/defang-shop-exec".into()),
            task_role_arn: None,
            ephemeral_storage_gib: None,
            container: ContainerSpec {
                name: "web".into(),
                image: "ghcr.io/org/web:1".into(),
                command: Some(vec!["serve".into()]),
                entrypoint: Some(vec!["/bin/app".into()]),
                environment: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
                secrets: vec![],
                port_mappings: vec![
                    PortMapping {
                        container_port: 80,
                        protocol: TransportProtocol::Tcp,
                        app_protocol: Some(cloud::AppProtocol::Http),
                        name: "web-80-tcp".into(),
                    },
                    PortMapping {
                        container_port: 9090,
                        protocol: TransportProtocol::Tcp,
                        app_protocol: None,
                        name: "web-9090-tcp".into(),
                    },
                    PortMapping {
                        container_port: 53,
                        protocol: TransportProtocol::Udp,
                        app_protocol: None,
                        name: "web-53-udp".into(),
                    },
                ],
                health_check: Some(ContainerHealthCheck {
                    command: vec![
                        "CMD".into(),
                        "curl".into(),
                        "-f".into(),
                        "http://localhost/".into(),
                    ],
                    interval_seconds: Some(30),
                    timeout_seconds: Some(5),
                    retries: Some(3),
                    start_period_seconds: Some(20),
                }),
                log: Some(LogConfig {
                    group: "/defang/shop".into(),
                    region: "us-east-1".into(),
                    stream_prefix: "web".into(),
                }),
                ..Default::default()
            },
            tags: vec![
                ("defang:ingress-ports".into(), "80/tcp 53/udp".into()),
                ("defang:project".into(), "shop".into()),
                ("defang:service".into(), "web".into()),
            ],
        };
        assert_eq!(spec, expected);
    }

    #[test]
    fn plans_a_minimal_service() {
        let svc = resolved(json!({"project": "shop", "image": "nginx"}));
        let spec = plan_task_definition(&svc, &project(), "eu-west-1", &[]);
        assert_eq!((spec.cpu, spec.memory), (256, 512));
        assert_eq!(spec.cpu_architecture, CpuArchitecture::X86_64);
        assert!(spec.container.port_mappings.is_empty());
        assert_eq!(spec.container.health_check, None);
        assert_eq!(spec.container.command, None);
        let keys: Vec<&str> = spec.tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["defang:project", "defang:service"]);
    }

    #[test]
    fn none_and_shell_health_checks() {
        let svc = resolved(
            json!({"project": "shop", "image": "nginx", "healthCheck": {"test": ["NONE"], "retries": 5}}),
        );
        assert_eq!(
            plan_task_definition(&svc, &project(), "r", &[])
                .container
                .health_check,
            None
        );
        let svc = resolved(json!({"project": "shop", "image": "nginx",
            "healthCheck": {"test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "intervalSeconds": 10, "timeoutSeconds": 2, "retries": 1}}));
        let check = plan_task_definition(&svc, &project(), "r", &[])
            .container
            .health_check
            .unwrap();
        assert_eq!(
            check.command,
            vec!["CMD-SHELL", "curl -f http://localhost/ || exit 1"]
        );
        assert_eq!(
            (
                check.interval_seconds,
                check.timeout_seconds,
                check.retries,
                check.start_period_seconds
            ),
            (Some(10), Some(2), Some(1), None)
        );
    }

    #[test]
    fn secret_values_are_referenced_not_written() {
        let svc = resolved(json!({"project": "shop", "image": "nginx",
            "environment": {"PLAIN": "1", "TOKEN": "hunter2", "API_KEY": "k"}}));
        let arn = |v: &str| format!("arn:aws:ssm:us-east-1:1:parameter/defang/shop/web/{v}");
        let secrets = vec![
            ("TOKEN".to_string(), arn("TOKEN")),
            ("API_KEY".to_string(), arn("API_KEY")),
        ];
        let spec = plan_task_definition(&svc, &project(), "r", &secrets);
        assert_eq!(
            spec.container.environment,
            vec![("PLAIN".to_string(), "1".to_string())]
        );
        assert_eq!(
            spec.container.secrets,
            vec![
                ("API_KEY".to_string(), arn("API_KEY")),
                ("TOKEN".to_string(), arn("TOKEN")),
            ],
            "sorted by name"
        );
        assert!(!format!("{spec:?}").contains("hunter2"));

        // Import: what is recovered is the plain environment only.
        let td = TaskDefinition {
            arn: "a".into(),
            revision: 1,
            spec,
        };
        let inputs = inputs_from_task_definition(&td, &service_state(1), "shop", None);
        assert_eq!(
            inputs.environment,
            BTreeMap::from([(
                "PLAIN".to_string(),
                MaybeSecret {
                    value: "1".to_string(),
                    secret: false
                }
            )])
        );
    }

    #[test]
    fn port_names_fit_ecs() {
        assert_eq!(port_name("web", 80, Protocol::Tcp), "web-80-tcp");
        let long = format!("a{}", "-b".repeat(31));
        assert_eq!(long.len(), 63);
        let name = port_name(&long, 65535, Protocol::Udp);
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.ends_with("-65535-udp") && !name.contains("--"),
            "{name}"
        );
    }

    /// Import: the recovered inputs pass Check and plan the same task definition again.
    #[test]
    fn recovered_inputs_plan_the_same_task_definition() {
        let cases = [
            json!({"project": "shop", "image": "nginx"}),
            json!({
                "project": "shop", "name": "api", "image": "ghcr.io/org/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "ports": [{"target": 80, "appProtocol": "grpc"}, {"target": 9090, "mode": "host"}, {"target": 53, "protocol": "udp", "mode": "host"}],
                "environment": {"A": "1"}, "command": ["serve"], "entrypoint": ["/bin/sh", "-c"],
                "replicas": 3, "cpus": 0.3, "memory": "1.5G", "platform": "linux/arm64",
                "healthCheck": {"test": ["CMD", "true"], "retries": 4},
            }),
        ];
        for case in cases {
            let svc = resolved(case.clone());
            let spec = plan_task_definition(&svc, &project(), "us-east-1", &[]);
            let td = TaskDefinition {
                arn: "arn:aws:ecs:us-east-1:1:task-definition/x:1".into(),
                revision: 1,
                spec: spec.clone(),
            };
            let mut state = service_state(i32::try_from(svc.replicas).unwrap());
            state.name = svc.name.clone();
            let inputs = inputs_from_task_definition(&td, &state, "shop", None);

            let props = to_properties(&inputs);
            let (checked, failures) = check_service(&props, "ignored");
            assert_eq!(failures, vec![], "{case}");
            let again = checked.unwrap().resolved("ignored").unwrap();
            assert_eq!(
                plan_task_definition(&again, &project(), "us-east-1", &[]),
                spec,
                "{case}"
            );
            assert_eq!(again.replicas, svc.replicas);
            assert_eq!(again.ports, svc.ports, "modes and protocols come back");
        }
    }

    /// Every new input comes back from what runs and plans the same task definition again;
    /// the service's own role and secret environment values are not inputs.
    #[test]
    fn settings_secrets_and_roles_round_trip() {
        let case = json!({
            "project": "shop", "image": "nginx", "ports": [{"target": 80}],
            "secrets": {
                "DB": {"ssm": "/app/db"},
                "API": {"secretsManager": "prod/api", "key": "token"},
                "WHOLE": {"secretsManager": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"},
            },
            "environment": {"TOKEN": "hunter2"},
            "workingDir": "/srv", "user": "node", "stopGracePeriod": 5,
            "readonlyRootFilesystem": false, "ephemeralStorage": 64, "init": true,
            "healthCheckGracePeriod": 120, "enableExec": true,
        });
        let svc = resolved(case.clone());
        let own = [(
            "TOKEN".to_string(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/defang/shop/web/TOKEN/v1".to_string(),
        )];
        let mut spec = plan_task_definition(&svc, &project(), "us-east-1", &own);
        assert_eq!(spec.container.secrets.len(), 4);
        assert!(spec.container.environment.is_empty());
        assert_eq!(spec.task_role_arn, None);
        let own_role = "arn:aws:iam::123456789012:role/defang-shop-S-web-TaskRole-X";
        spec.task_role_arn = Some(own_role.into());
        let td = TaskDefinition {
            arn: "a".into(),
            revision: 1,
            spec: spec.clone(),
        };
        let mut state = service_state(1);
        state.enable_execute_command = true;
        state.health_check_grace_period_seconds = Some(120);
        let inputs = inputs_from_task_definition(&td, &state, "shop", Some(own_role));
        assert_eq!(
            inputs.task_role_arn, None,
            "the service's own role is not an input"
        );
        assert_eq!(
            inputs.secrets.len(),
            3,
            "its own secret values are not references"
        );
        assert_eq!(inputs.working_dir.as_deref(), Some("/srv"));
        assert_eq!(inputs.user.as_deref(), Some("node"));
        assert_eq!(inputs.stop_grace_period, Some(5));
        assert_eq!(
            inputs.readonly_root_filesystem, None,
            "false is the default"
        );
        assert_eq!(inputs.ephemeral_storage, Some(64));
        assert_eq!(inputs.init, Some(true));
        assert_eq!(inputs.enable_exec, Some(true));
        assert_eq!(inputs.health_check_grace_period, Some(120));

        let (checked, failures) = check_service(&to_properties(&inputs), "ignored");
        assert_eq!(failures, vec![]);
        let again = checked.unwrap().resolved("ignored").unwrap();
        let mut replanned = plan_task_definition(&again, &project(), "us-east-1", &own);
        replanned.task_role_arn = Some(own_role.into());
        assert_eq!(replanned, spec);

        // A role of someone else's comes back as `taskRoleArn`.
        let inputs = inputs_from_task_definition(&td, &state, "shop", None);
        assert_eq!(inputs.task_role_arn.as_deref(), Some(own_role));
        // A service without ingress ports has no grace period to recover.
        let mut no_ingress = td.clone();
        no_ingress.spec.tags.clear();
        let inputs = inputs_from_task_definition(&no_ingress, &state, "shop", Some(own_role));
        assert_eq!(inputs.health_check_grace_period, None);
    }

    #[test]
    fn ports_of_foreign_task_definitions_are_host_ports() {
        let svc = resolved(json!({"project": "shop", "image": "nginx", "ports": [{"target": 80}]}));
        let mut spec = plan_task_definition(&svc, &project(), "r", &[]);
        spec.tags.clear();
        let td = TaskDefinition {
            arn: "a".into(),
            revision: 1,
            spec,
        };
        let inputs = inputs_from_task_definition(&td, &service_state(-1), "shop", None);
        assert_eq!(inputs.ports[0].mode, Some(PortMode::Host));
        assert_eq!(inputs.ports[0].protocol, None);
        assert_eq!(inputs.replicas, Some(0));
        assert_eq!(inputs.cpus, Some(0.25));
        assert_eq!(inputs.memory.as_deref(), Some("512Mi"));
        assert_eq!(inputs.platform, Some(Platform::LinuxAmd64));
        assert_eq!(inputs.name.as_deref(), Some("web"));
    }

    #[test]
    fn odd_ingress_tags_are_ignored() {
        let tags = vec![(
            INGRESS_PORTS_TAG.to_string(),
            "80/tcp x/tcp 70000/tcp 53/sctp 443/udp".to_string(),
        )];
        let ports: Vec<(u16, Protocol)> = ingress_ports(&tags).into_iter().collect();
        assert_eq!(ports, vec![(80, Protocol::Tcp), (443, Protocol::Udp)]);
    }
}
