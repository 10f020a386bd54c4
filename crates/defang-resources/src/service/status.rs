//! Service status, as Defang documents it, derived from what ECS says about a rollout.
//!
//! The rollout part follows one deployment (the one an update started) through
//! UPDATE_QUEUED → SERVICE_DEPLOYMENT_PENDING → SERVICE_DEPLOYMENT_COMPLETED or
//! SERVICE_DEPLOYMENT_FAILED, from its `rolloutState` and task counts rather than from event
//! logs, so the status never moves backwards on a late event and never reports COMPLETED
//! before the tasks run.

use crate::cloud::{Deployment, RolloutState, ServiceState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a service's deployment is, with the values and meanings of Defang's service status. A
/// rollout moves from `UPDATE_QUEUED` to `SERVICE_DEPLOYMENT_PENDING`, then ends in
/// `SERVICE_DEPLOYMENT_COMPLETED` or `SERVICE_DEPLOYMENT_FAILED`; a service built from source goes
/// through the `BUILD_*` values first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceStatus {
    /// The service update has been received and is now in the queue for its image to be built.
    BuildQueued,
    /// The container orchestrator is provisioning the necessary resources for building your
    /// service's image.
    BuildProvisioning,
    /// The necessary resources to build your service have been provisioned but the build has not
    /// yet been initiated.
    BuildPending,
    /// The container orchestrator is pulling the build container's image and creating the build
    /// container.
    BuildActivating,
    /// The container which builds your service's image is successfully running.
    BuildRunning,
    /// The container orchestrator has sent a termination signal to the build container and is
    /// waiting for the build process to stop.
    BuildStopping,
    /// The build container exited with a non-zero status code.
    BuildFailed,
    /// The service update has been received and is now in the queue.
    UpdateQueued,
    /// The necessary resources to run your service have been provisioned but the service has not
    /// yet been initiated.
    ServiceDeploymentPending,
    /// Your service has been deployed and is healthy.
    ServiceDeploymentCompleted,
    /// Your service could not be deployed.
    ServiceDeploymentFailed,
}

impl ServiceStatus {
    /// In the order of the Defang documentation.
    pub const ALL: [ServiceStatus; 11] = [
        ServiceStatus::BuildQueued,
        ServiceStatus::BuildProvisioning,
        ServiceStatus::BuildPending,
        ServiceStatus::BuildActivating,
        ServiceStatus::BuildRunning,
        ServiceStatus::BuildStopping,
        ServiceStatus::BuildFailed,
        ServiceStatus::UpdateQueued,
        ServiceStatus::ServiceDeploymentPending,
        ServiceStatus::ServiceDeploymentCompleted,
        ServiceStatus::ServiceDeploymentFailed,
    ];

    /// The value as it appears in outputs, e.g. `SERVICE_DEPLOYMENT_COMPLETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::BuildQueued => "BUILD_QUEUED",
            ServiceStatus::BuildProvisioning => "BUILD_PROVISIONING",
            ServiceStatus::BuildPending => "BUILD_PENDING",
            ServiceStatus::BuildActivating => "BUILD_ACTIVATING",
            ServiceStatus::BuildRunning => "BUILD_RUNNING",
            ServiceStatus::BuildStopping => "BUILD_STOPPING",
            ServiceStatus::BuildFailed => "BUILD_FAILED",
            ServiceStatus::UpdateQueued => "UPDATE_QUEUED",
            ServiceStatus::ServiceDeploymentPending => "SERVICE_DEPLOYMENT_PENDING",
            ServiceStatus::ServiceDeploymentCompleted => "SERVICE_DEPLOYMENT_COMPLETED",
            ServiceStatus::ServiceDeploymentFailed => "SERVICE_DEPLOYMENT_FAILED",
        }
    }

    /// What the status means, as the Defang documentation puts it.
    pub fn description(self) -> &'static str {
        match self {
            ServiceStatus::BuildQueued => {
                "The service update has been received and is now in the queue for its image to be built."
            }
            ServiceStatus::BuildProvisioning => {
                "The container orchestrator is provisioning the necessary resources for building your service's image."
            }
            ServiceStatus::BuildPending => {
                "The necessary resources to build your service have been provisioned but the build has not yet been initiated."
            }
            ServiceStatus::BuildActivating => {
                "The container orchestrator is pulling the build container's image and creating the build container."
            }
            ServiceStatus::BuildRunning => {
                "The container which builds your service's image is successfully running."
            }
            ServiceStatus::BuildStopping => {
                "The container orchestrator has sent a termination signal to the build container and is waiting for the build process to stop."
            }
            ServiceStatus::BuildFailed => "The build container exited with a non-zero status code.",
            ServiceStatus::UpdateQueued => {
                "The service update has been received and is now in the queue."
            }
            ServiceStatus::ServiceDeploymentPending => {
                "The necessary resources to run your service have been provisioned but the service has not yet been initiated."
            }
            ServiceStatus::ServiceDeploymentCompleted => {
                "Your service has been deployed and is healthy."
            }
            ServiceStatus::ServiceDeploymentFailed => "Your service could not be deployed.",
        }
    }

    /// Nothing will change without another update: the wait is over.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ServiceStatus::BuildFailed
                | ServiceStatus::ServiceDeploymentCompleted
                | ServiceStatus::ServiceDeploymentFailed
        )
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            ServiceStatus::BuildFailed | ServiceStatus::ServiceDeploymentFailed
        )
    }
}

impl fmt::Display for ServiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The deployment a wait follows: the one with `deployment_id` (the id an update returned),
/// else the PRIMARY one.
fn watched<'a>(state: &'a ServiceState, deployment_id: Option<&str>) -> Option<&'a Deployment> {
    match deployment_id {
        Some(id) => state.deployments.iter().find(|d| d.id == id),
        None => state.primary_deployment(),
    }
}

/// Why a rollout can no longer complete although its own deployment did not fail, if so.
enum Lost<'a> {
    /// The service is DRAINING or INACTIVE: someone deleted it during the rollout.
    ServiceGone,
    /// The watched deployment is no longer listed, or is no longer PRIMARY: a rollback or
    /// another update replaced it. Carries the deployment that runs instead.
    Replaced(Option<&'a Deployment>),
}

fn lost<'a>(state: &'a ServiceState, deployment_id: Option<&str>) -> Option<Lost<'a>> {
    // Unexpected status strings are not treated as gone: only the two that ECS documents.
    if matches!(state.status.as_str(), "DRAINING" | "INACTIVE") {
        return Some(Lost::ServiceGone);
    }
    let id = deployment_id?;
    let replaced = match watched(state, Some(id)) {
        // Listed but empty: ECS has not filled the list in yet (seen with emulators).
        None => !state.deployments.is_empty(),
        Some(d) => d.status != "PRIMARY" && d.rollout_state != Some(RolloutState::Failed),
    };
    replaced.then(|| Lost::Replaced(state.primary_deployment()))
}

/// The status of the rollout of `deployment_id` (or of the PRIMARY deployment when `None`).
///
/// - The service is DRAINING or INACTIVE (deleted during the rollout) → FAILED.
/// - The watched deployment was replaced (no longer listed, or no longer PRIMARY without having
///   failed itself: a rollback or a concurrent update) → FAILED: what runs is not what this
///   update asked for, and following the replacement could report someone else's success.
/// - No deployment yet → UPDATE_QUEUED.
/// - rolloutState FAILED → FAILED.
/// - COMPLETED → COMPLETED once the service runs its desired count (a desired count of 0 is
///   complete at once), else PENDING.
/// - IN_PROGRESS with no task started (none running or pending, none failed) → UPDATE_QUEUED;
///   otherwise PENDING.
/// - No rolloutState (services without the deployment circuit breaker) → COMPLETED when it is
///   the only deployment and the service runs its desired count, else as IN_PROGRESS.
/// - Tasks stopped for a Fargate Spot interruption are not failures: a deployment still PRIMARY
///   whose failed tasks were all interrupted is not FAILED (COMPLETED once the service runs its
///   desired count again, PENDING until then), whatever ECS counted.
pub fn rollout_status(state: &ServiceState, deployment_id: Option<&str>) -> ServiceStatus {
    if lost(state, deployment_id).is_some() {
        return ServiceStatus::ServiceDeploymentFailed;
    }
    let Some(deployment) = watched(state, deployment_id) else {
        return ServiceStatus::UpdateQueued;
    };
    let service_running = state.desired_count <= 0 || state.running_count >= state.desired_count;
    match deployment.rollout_state {
        Some(RolloutState::Failed) if only_interrupted(deployment) => {
            if service_running {
                ServiceStatus::ServiceDeploymentCompleted
            } else {
                ServiceStatus::ServiceDeploymentPending
            }
        }
        Some(RolloutState::Failed) => ServiceStatus::ServiceDeploymentFailed,
        Some(RolloutState::Completed) if service_running => {
            ServiceStatus::ServiceDeploymentCompleted
        }
        Some(RolloutState::Completed) => ServiceStatus::ServiceDeploymentPending,
        None if state.deployments.len() == 1 && service_running => {
            ServiceStatus::ServiceDeploymentCompleted
        }
        Some(RolloutState::InProgress) | None => {
            let started = deployment.running_count + deployment.pending_count > 0
                || deployment.failed_tasks > 0;
            if started {
                ServiceStatus::ServiceDeploymentPending
            } else {
                ServiceStatus::UpdateQueued
            }
        }
    }
}

/// Whether every failed task of a deployment that is still PRIMARY was a Spot interruption.
fn only_interrupted(d: &Deployment) -> bool {
    d.status == "PRIMARY"
        && d.spot_interrupted_tasks > 0
        && d.failed_tasks <= d.spot_interrupted_tasks
}

/// Failed tasks that were not Spot interruptions.
fn real_failures(d: &Deployment) -> i32 {
    (d.failed_tasks - d.spot_interrupted_tasks).max(0)
}

/// How many service events a failure message quotes.
const MAX_EVENTS: usize = 5;
/// Events are cut to this many characters (some quote whole IAM policies).
const MAX_EVENT_LEN: usize = 300;

/// Words that mark an event as explaining a failure.
const FAILURE_WORDS: &[&str] = &[
    "unable",
    "fail",
    "error",
    "unhealthy",
    "stopped",
    "denied",
    "cannot",
    "not authorized",
    "timed out",
    "timeout",
    "rolling back",
    "insufficient",
    "exceeded",
    "unavailable",
    "exit",
];

/// Known causes, recognised by a (lowercase) phrase in the ECS messages, with what to do.
const HINTS: &[(&[&str], &str)] = &[
    (
        &[
            "cannotpullcontainer",
            "pull image",
            "manifest unknown",
            "repository does not exist",
        ],
        "the image could not be pulled: check that `image` exists (tag or digest), that this \
         AWS account may pull it, and that tasks can reach the registry (assignPublicIp on the \
         project, or a NAT gateway or VPC endpoints for private subnets)",
    ),
    (
        &["exec format error"],
        "the image was built for another CPU architecture: set `platform` to the one it was \
         built for (\"linux/arm64\" for images built on Apple silicon), or build it for \
         linux/amd64",
    ),
    (
        &["outofmemory", "out of memory", "oomkilled"],
        "the container ran out of memory: raise `memory`",
    ),
    (
        &["health check", "unhealthy"],
        "the container health check failed: check that `healthCheck.test` works inside the \
         image, and give slow starters a longer `healthCheck.startPeriodSeconds`",
    ),
    (
        &["essential container in task exited", "exit code"],
        "the container exited: its output is in the project's CloudWatch log group, in streams \
         named after the service",
    ),
    (
        &["resourceinitializationerror"],
        "ECS could not prepare the task: check that tasks can reach ECR and CloudWatch Logs \
         (assignPublicIp, or a NAT gateway or VPC endpoints) and the execution role's \
         permissions",
    ),
    (
        &[
            "unable to assume",
            "accessdenied",
            "access denied",
            "not authorized",
        ],
        "a permission is missing: check the project's task execution role",
    ),
    (
        &[
            "capacity is unavailable",
            "insufficient capacity",
            "no container instance met",
        ],
        "AWS had no Fargate capacity for this size in the subnets' zones: retry later, or give \
         the project subnets in more zones",
    ),
];

/// Shown when ECS only says that its circuit breaker stopped the rollout.
const CIRCUIT_BREAKER_HINT: &str = "ECS stopped the rollout after repeated task failures (its \
     deployment circuit breaker); the events above say why the tasks stopped, and the \
     container's own output is in the project's CloudWatch log group";

/// A clear account of why the rollout of `deployment_id` (else of the PRIMARY deployment) did
/// not complete: what failed and how many tasks, what ECS said, the recent service events that
/// explain it, and a hint for known causes. Users see this when `pulumi up` fails.
pub fn failure_reason(state: &ServiceState, deployment_id: Option<&str>) -> String {
    let deployment = watched(state, deployment_id);
    let mut lines = vec![headline(state, deployment_id, deployment)];

    let events = relevant_events(state);
    if !events.is_empty() {
        lines.push("recent service events (newest first):".to_string());
        lines.extend(events.iter().map(|e| format!("  - {e}")));
    }

    // Hints come from what ECS said, not from the headline, which holds user-chosen names.
    let mut text = events.join("\n").to_ascii_lowercase();
    if let Some(reason) = deployment.and_then(|d| d.rollout_state_reason.as_deref()) {
        text.push('\n');
        text.push_str(&reason.to_ascii_lowercase());
    }
    let mut hints: Vec<&str> = HINTS
        .iter()
        .filter(|(needles, _)| needles.iter().any(|n| text.contains(n)))
        .map(|(_, hint)| *hint)
        .collect();
    if hints.is_empty() && text.contains("circuit breaker") {
        hints.push(CIRCUIT_BREAKER_HINT);
    }
    lines.extend(hints.iter().map(|h| format!("hint: {h}")));
    lines.join("\n")
}

/// The first line: what happened to the rollout, with ECS's own reason and the task counts.
fn headline(
    state: &ServiceState,
    deployment_id: Option<&str>,
    watched: Option<&Deployment>,
) -> String {
    let service = &state.name;
    match lost(state, deployment_id) {
        Some(Lost::ServiceGone) => {
            return format!(
                "service {service} is {}: it was deleted while it was being deployed (outside \
                 this update); run `pulumi refresh`, then `pulumi up` to create it again",
                state.status
            );
        }
        Some(Lost::Replaced(primary)) => {
            let id = deployment_id.unwrap_or_default();
            let instead = primary
                .map(|p| format!("deployment {} ({})", p.id, p.task_definition_arn))
                .unwrap_or_else(|| "another deployment".to_string());
            return format!(
                "deployment {id} of service {service} was replaced by {instead} before it \
                 completed: ECS rolled it back after a failure, or another update of the \
                 service started"
            );
        }
        None => {}
    }
    let Some(d) = watched else {
        return format!("service {service} has no deployment yet");
    };
    let mut line = match d.rollout_state {
        Some(RolloutState::Failed) => format!("deployment {} of service {service} failed", d.id),
        _ => format!(
            "deployment {} of service {service} has not completed: {}",
            d.id,
            task_counts(state, d)
        ),
    };
    if d.rollout_state == Some(RolloutState::Failed) {
        let failed = real_failures(d);
        if failed > 0 {
            line.push_str(&format!(
                ": {} {} failed to start or stay healthy",
                failed,
                if failed == 1 { "task" } else { "tasks" }
            ));
        }
        if let Some(reason) = d.rollout_state_reason.as_deref().filter(|r| !r.is_empty()) {
            line.push_str(&format!(" (ECS: {})", reason.trim_end_matches('.')));
        }
    }
    line
}

fn task_counts(state: &ServiceState, d: &Deployment) -> String {
    let mut counts = format!(
        "{} of {} tasks running, {} pending",
        d.running_count, d.desired_count, d.pending_count
    );
    if real_failures(d) > 0 {
        counts.push_str(&format!(", {} failed", real_failures(d)));
    }
    if d.spot_interrupted_tasks > 0 {
        counts.push_str(&format!(
            ", {} interrupted by Fargate Spot (not failures)",
            d.spot_interrupted_tasks
        ));
    }
    if state.deployments.len() > 1 {
        counts.push_str(&format!(
            " ({} of {} tasks running across all deployments)",
            state.running_count, state.desired_count
        ));
    }
    counts
}

/// The events that explain a failure (newest first), else the newest few; without the
/// "(service x)" prefix ECS puts on each, and without "steady state" noise.
fn relevant_events(state: &ServiceState) -> Vec<String> {
    let cleaned: Vec<String> = state
        .recent_events
        .iter()
        .map(|e| shorten(strip_service_prefix(e, &state.name)))
        .filter(|e| !e.is_empty() && !e.contains("has reached a steady state"))
        .collect();
    let failures: Vec<&String> = cleaned
        .iter()
        .filter(|e| {
            let lower = e.to_ascii_lowercase();
            FAILURE_WORDS.iter().any(|w| lower.contains(w))
        })
        .collect();
    let chosen: Vec<&String> = if failures.is_empty() {
        cleaned.iter().take(3).collect()
    } else {
        failures
    };
    let mut out: Vec<String> = Vec::new();
    for event in chosen {
        if !out.contains(event) {
            out.push(event.clone());
        }
        if out.len() == MAX_EVENTS {
            break;
        }
    }
    out
}

fn strip_service_prefix<'a>(event: &'a str, service: &str) -> &'a str {
    event
        .trim()
        .strip_prefix(&format!("(service {service})"))
        .map(str::trim_start)
        .unwrap_or(event.trim())
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_EVENT_LEN {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX_EVENT_LEN).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(id: &str, status: &str, rollout: Option<RolloutState>) -> Deployment {
        Deployment {
            id: id.into(),
            status: status.into(),
            task_definition_arn: format!("arn:aws:ecs:us-east-1:1:task-definition/shop-web:{id}"),
            rollout_state: rollout,
            rollout_state_reason: None,
            desired_count: 2,
            running_count: 0,
            pending_count: 0,
            failed_tasks: 0,
            spot_interrupted_tasks: 0,
        }
    }

    fn service(deployments: Vec<Deployment>) -> ServiceState {
        ServiceState {
            arn: "arn:aws:ecs:us-east-1:1:service/defang-shop/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/defang-shop".into(),
            status: "ACTIVE".into(),
            task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/shop-web:2".into(),
            desired_count: 2,
            running_count: 0,
            pending_count: 0,
            deployments,
            network: None,
            enable_execute_command: false,
            health_check_grace_period_seconds: None,
            capacity_provider_strategy: vec![],
            tags: vec![],
            recent_events: vec![],
        }
    }

    use RolloutState::*;
    use ServiceStatus::*;

    #[test]
    fn serializes_exactly_as_documented() {
        let seed = "BUILD_QUEUED BUILD_PROVISIONING BUILD_PENDING BUILD_ACTIVATING BUILD_RUNNING \
                    BUILD_STOPPING BUILD_FAILED UPDATE_QUEUED SERVICE_DEPLOYMENT_PENDING \
                    SERVICE_DEPLOYMENT_COMPLETED SERVICE_DEPLOYMENT_FAILED";
        let ours: Vec<&str> = ServiceStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            ours.join(" "),
            seed.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        for s in ServiceStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(
                serde_json::from_value::<ServiceStatus>(s.as_str().into()).unwrap(),
                s
            );
            assert_eq!(s.to_string(), s.as_str());
            assert!(!s.description().is_empty());
        }
    }

    #[test]
    fn terminal_statuses() {
        let terminal: Vec<ServiceStatus> = ServiceStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            vec![
                BuildFailed,
                ServiceDeploymentCompleted,
                ServiceDeploymentFailed
            ]
        );
        assert!(!ServiceDeploymentCompleted.is_failure());
        assert!(ServiceDeploymentFailed.is_failure());
    }

    #[test]
    fn queued_then_pending_then_completed() {
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(InProgress))]);
        assert_eq!(rollout_status(&s, Some("d1")), UpdateQueued);

        s.deployments[0].pending_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);

        s.deployments[0].pending_count = 0;
        s.deployments[0].running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);

        // ECS says COMPLETED but the service does not run its tasks yet.
        s.deployments[0].rollout_state = Some(Completed);
        s.running_count = 1;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);

        s.running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentCompleted);
        assert_eq!(rollout_status(&s, None), ServiceDeploymentCompleted);
    }

    /// Spot interruptions (moto cannot interrupt: scripted here) are AWS taking capacity back:
    /// a rollout whose only "failures" were interrupted tasks is not failed, and the counts
    /// say which tasks were interrupted rather than failed.
    #[test]
    fn spot_interruptions_are_not_a_failed_rollout() {
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(InProgress))]);
        s.deployments[0].failed_tasks = 2;
        s.deployments[0].spot_interrupted_tasks = 2;
        s.deployments[0].running_count = 1;
        s.running_count = 1;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);
        let reason = failure_reason(&s, Some("d1"));
        assert!(
            reason.contains(
                "1 of 2 tasks running, 0 pending, 2 interrupted by Fargate Spot (not failures)"
            ),
            "{reason}"
        );
        assert!(!reason.contains("failed"), "{reason}");

        // Even where ECS counted them and marked the deployment FAILED.
        s.deployments[0].rollout_state = Some(Failed);
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);
        s.running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentCompleted);

        // One real failure beside the interruptions: failed, and only it is counted as such.
        s.deployments[0].failed_tasks = 3;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
        let reason = failure_reason(&s, Some("d1"));
        assert!(
            reason.starts_with("deployment d1 of service web failed: 1 task failed to start"),
            "{reason}"
        );

        // Rolled back (no longer PRIMARY): failed, interruptions or not.
        s.deployments[0].failed_tasks = 2;
        s.deployments[0].status = "ACTIVE".into();
        s.deployments
            .push(deployment("d0", "PRIMARY", Some(Completed)));
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
    }

    #[test]
    fn failed_tasks_mean_the_rollout_started() {
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(InProgress))]);
        s.deployments[0].failed_tasks = 3;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);
        s.deployments[0].rollout_state = Some(Failed);
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
    }

    #[test]
    fn scaled_to_zero_completes() {
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(Completed))]);
        s.desired_count = 0;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentCompleted);
    }

    #[test]
    fn no_deployment_is_queued() {
        let s = service(vec![]);
        assert_eq!(rollout_status(&s, None), UpdateQueued);
        assert_eq!(rollout_status(&s, Some("d1")), UpdateQueued);
    }

    #[test]
    fn deleted_service_fails() {
        for status in ["DRAINING", "INACTIVE"] {
            let mut s = service(vec![deployment("d1", "PRIMARY", Some(Completed))]);
            s.status = status.into();
            s.running_count = 2;
            assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
            let reason = failure_reason(&s, Some("d1"));
            assert!(
                reason.starts_with(&format!("service web is {status}: it was deleted")),
                "{reason}"
            );
        }
        // A status ECS does not document is not taken as deletion.
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(Completed))]);
        s.status = String::new();
        s.running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentCompleted);
    }

    #[test]
    fn a_replaced_deployment_fails_rather_than_reporting_someone_elses_success() {
        // After a rollback the failed deployment may already be gone and the rollback
        // deployment COMPLETED: that is not this update's success.
        let mut s = service(vec![deployment("d0", "PRIMARY", Some(Completed))]);
        s.running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
        let reason = failure_reason(&s, Some("d1"));
        assert!(
            reason.contains("deployment d1 of service web was replaced by deployment d0"),
            "{reason}"
        );

        // Still listed, but no longer PRIMARY.
        let s = service(vec![
            deployment("d2", "PRIMARY", Some(InProgress)),
            deployment("d1", "ACTIVE", Some(InProgress)),
        ]);
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentFailed);
        // Without an id, the PRIMARY one is followed.
        assert_eq!(rollout_status(&s, None), UpdateQueued);
    }

    #[test]
    fn without_rollout_state_counts_decide() {
        let mut s = service(vec![deployment("d1", "PRIMARY", None)]);
        assert_eq!(rollout_status(&s, Some("d1")), UpdateQueued);
        s.deployments[0].running_count = 1;
        s.running_count = 1;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);
        s.deployments[0].running_count = 2;
        s.running_count = 2;
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentCompleted);
        // Old tasks still draining in another deployment: not done.
        s.deployments.push(deployment("d0", "ACTIVE", None));
        assert_eq!(rollout_status(&s, Some("d1")), ServiceDeploymentPending);
    }

    #[test]
    fn failure_reason_explains_the_circuit_breaker() {
        let mut d = deployment("ecs-svc/123", "PRIMARY", Some(Failed));
        d.failed_tasks = 3;
        d.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let mut s = service(vec![d]);
        s.recent_events = vec![
            "(service web) has reached a steady state.".into(),
            "(service web) (deployment ecs-svc/123) deployment failed: tasks failed to start."
                .into(),
            "(service web) has started 1 tasks: (task 1a2b).".into(),
            "(service web) (task 1a2b) failed container health checks.".into(),
            "(service web) (task 1a2b) failed container health checks.".into(),
        ];
        let reason = failure_reason(&s, Some("ecs-svc/123"));
        let expected = "\
deployment ecs-svc/123 of service web failed: 3 tasks failed to start or stay healthy (ECS: ECS deployment circuit breaker: tasks failed to start)
recent service events (newest first):
  - (deployment ecs-svc/123) deployment failed: tasks failed to start.
  - (task 1a2b) failed container health checks.
hint: the container health check failed: check that `healthCheck.test` works inside the image, and give slow starters a longer `healthCheck.startPeriodSeconds`";
        assert_eq!(reason, expected);
    }

    #[test]
    fn failure_reason_without_events_still_says_what_to_do() {
        let mut d = deployment("d1", "PRIMARY", Some(Failed));
        d.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let s = service(vec![d]);
        let reason = failure_reason(&s, Some("d1"));
        assert!(
            reason.starts_with(
                "deployment d1 of service web failed (ECS: ECS deployment circuit breaker"
            ),
            "{reason}"
        );
        assert!(
            reason.contains(&format!("hint: {CIRCUIT_BREAKER_HINT}")),
            "{reason}"
        );
    }

    #[test]
    fn failure_reason_recognises_common_causes() {
        let cases = [
            (
                "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                "could not be pulled",
            ),
            (
                "exec /usr/local/bin/app: exec format error",
                "another CPU architecture",
            ),
            ("Essential container in task exited", "the container exited"),
            (
                "OutOfMemoryError: Container killed due to memory usage",
                "raise `memory`",
            ),
            (
                "ECS was unable to assume the role 'arn:aws:iam::1:role/x'",
                "execution role",
            ),
        ];
        for (event, hint) in cases {
            let mut s = service(vec![deployment("d1", "PRIMARY", Some(Failed))]);
            s.recent_events = vec![format!(
                "(service web) failed to launch a task with (error {event})"
            )];
            let reason = failure_reason(&s, Some("d1"));
            assert!(reason.contains(hint), "{event}: {reason}");
        }
    }

    #[test]
    fn failure_reason_of_an_unfinished_rollout_gives_counts() {
        let mut d = deployment("d1", "PRIMARY", Some(InProgress));
        d.running_count = 1;
        d.pending_count = 1;
        d.failed_tasks = 4;
        let mut s = service(vec![d, deployment("d0", "ACTIVE", Some(Completed))]);
        s.running_count = 3;
        s.recent_events = vec!["(service web) has started 1 tasks: (task 9).".into()];
        let reason = failure_reason(&s, Some("d1"));
        assert_eq!(
            reason,
            "deployment d1 of service web has not completed: 1 of 2 tasks running, 1 pending, 4 failed \
             (3 of 2 tasks running across all deployments)\n\
             recent service events (newest first):\n  - has started 1 tasks: (task 9)."
        );
    }

    #[test]
    fn long_events_are_cut() {
        let mut s = service(vec![deployment("d1", "PRIMARY", Some(Failed))]);
        s.recent_events = vec![format!("(service web) failed: {}", "x".repeat(5000))];
        let reason = failure_reason(&s, Some("d1"));
        assert!(reason.len() < 1000, "{}", reason.len());
        assert!(reason.contains('…'));
    }
}
