//! BUILD_* statuses from CodeBuild's build phases.
//!
//! | CodeBuild                                   | status               |
//! |---------------------------------------------|----------------------|
//! | SUBMITTED, QUEUED                           | BUILD_QUEUED         |
//! | PROVISIONING                                | BUILD_PROVISIONING   |
//! | DOWNLOAD_SOURCE                             | BUILD_PENDING        |
//! | INSTALL, PRE_BUILD (log in to ECR)          | BUILD_ACTIVATING     |
//! | BUILD (docker buildx build --push)          | BUILD_RUNNING        |
//! | POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING    | BUILD_STOPPING       |
//! | build SUCCEEDED                             | UPDATE_QUEUED        |
//! | build FAILED, FAULT, TIMED_OUT, STOPPED     | BUILD_FAILED         |
//!
//! Statuses never move backwards: a poll that sees an earlier phase (or skips phases) keeps
//! the furthest status shown so far.

use crate::cloud::{BuildState, BuildStatus};
use crate::service::status::ServiceStatus;

fn phase_status(phase: &str) -> ServiceStatus {
    match phase {
        "PROVISIONING" => ServiceStatus::BuildProvisioning,
        "DOWNLOAD_SOURCE" => ServiceStatus::BuildPending,
        "INSTALL" | "PRE_BUILD" => ServiceStatus::BuildActivating,
        "BUILD" => ServiceStatus::BuildRunning,
        "POST_BUILD" | "UPLOAD_ARTIFACTS" | "FINALIZING" | "COMPLETED" => {
            ServiceStatus::BuildStopping
        }
        // SUBMITTED, QUEUED, and phases CodeBuild may add later.
        _ => ServiceStatus::BuildQueued,
    }
}

fn rank(status: ServiceStatus) -> usize {
    ServiceStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or(0)
}

/// The status of one build as seen so far.
#[derive(Clone, Copy, Debug)]
pub struct BuildProgress {
    furthest: ServiceStatus,
}

impl Default for BuildProgress {
    fn default() -> Self {
        BuildProgress {
            furthest: ServiceStatus::BuildQueued,
        }
    }
}

impl BuildProgress {
    /// The status after observing `build`.
    pub fn observe(&mut self, build: &BuildState) -> ServiceStatus {
        let status = match build.status {
            BuildStatus::Succeeded => ServiceStatus::UpdateQueued,
            BuildStatus::InProgress => phase_status(&build.current_phase),
            BuildStatus::Failed
            | BuildStatus::Fault
            | BuildStatus::TimedOut
            | BuildStatus::Stopped => ServiceStatus::BuildFailed,
        };
        let terminal = build.status != BuildStatus::InProgress;
        if terminal || rank(status) > rank(self.furthest) {
            self.furthest = status;
        }
        self.furthest
    }
}

/// Why a build failed: its status, the failing phases' messages, and the end of its log.
pub fn build_failure(build: &BuildState, log_tail: &[String]) -> String {
    let outcome = match build.status {
        BuildStatus::Failed => "failed",
        BuildStatus::Fault => "failed (CodeBuild fault)",
        BuildStatus::TimedOut => "timed out",
        BuildStatus::Stopped => "was stopped",
        BuildStatus::Succeeded | BuildStatus::InProgress => "did not finish",
    };
    let mut message = format!("image build {} {outcome}", build.id);
    let failing: Vec<String> = build
        .phases
        .iter()
        .filter(|p| {
            p.status
                .as_deref()
                .is_some_and(|s| s != "SUCCEEDED" && s != "IN_PROGRESS")
        })
        .map(|p| {
            let detail = p.messages.join("; ");
            if detail.is_empty() {
                format!("{} {}", p.phase_type, p.status.as_deref().unwrap_or(""))
            } else {
                format!(
                    "{} {}: {detail}",
                    p.phase_type,
                    p.status.as_deref().unwrap_or("")
                )
            }
        })
        .collect();
    if !failing.is_empty() {
        message.push_str(&format!(" in {}", failing.join(", ")));
    }
    let log: Vec<&str> = log_tail
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    if !log.is_empty() {
        message.push_str("\nlast lines of the build log:\n  ");
        message.push_str(&log.join("\n  "));
    }
    if let Some(loc) = &build.log {
        message.push_str(&format!(
            "\nfull log: CloudWatch Logs group {} stream {}",
            loc.group, loc.stream
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::BuildPhase;

    fn build(status: BuildStatus, phase: &str) -> BuildState {
        BuildState {
            id: "b:1".into(),
            status,
            current_phase: phase.into(),
            phases: vec![],
            log: None,
        }
    }

    fn run(script: &[(BuildStatus, &str)]) -> Vec<&'static str> {
        let mut progress = BuildProgress::default();
        script
            .iter()
            .map(|(s, p)| progress.observe(&build(*s, p)).as_str())
            .collect()
    }

    #[test]
    fn every_phase_in_order() {
        use BuildStatus::*;
        let seen = run(&[
            (InProgress, "SUBMITTED"),
            (InProgress, "QUEUED"),
            (InProgress, "PROVISIONING"),
            (InProgress, "DOWNLOAD_SOURCE"),
            (InProgress, "INSTALL"),
            (InProgress, "PRE_BUILD"),
            (InProgress, "BUILD"),
            (InProgress, "POST_BUILD"),
            (InProgress, "UPLOAD_ARTIFACTS"),
            (InProgress, "FINALIZING"),
            (Succeeded, "COMPLETED"),
        ]);
        assert_eq!(
            seen,
            vec![
                "BUILD_QUEUED",
                "BUILD_QUEUED",
                "BUILD_PROVISIONING",
                "BUILD_PENDING",
                "BUILD_ACTIVATING",
                "BUILD_ACTIVATING",
                "BUILD_RUNNING",
                "BUILD_STOPPING",
                "BUILD_STOPPING",
                "BUILD_STOPPING",
                "UPDATE_QUEUED",
            ]
        );
    }

    #[test]
    fn skipped_phases_and_no_going_back() {
        use BuildStatus::*;
        // Polls are seconds apart: most phases are never seen; a stale answer never moves back.
        let seen = run(&[
            (InProgress, "QUEUED"),
            (InProgress, "BUILD"),
            (InProgress, "PROVISIONING"),
            (Succeeded, "COMPLETED"),
        ]);
        assert_eq!(
            seen,
            vec![
                "BUILD_QUEUED",
                "BUILD_RUNNING",
                "BUILD_RUNNING",
                "UPDATE_QUEUED"
            ]
        );
    }

    #[test]
    fn failures() {
        use BuildStatus::*;
        for terminal in [Failed, Fault, TimedOut, Stopped] {
            let seen = run(&[(InProgress, "BUILD"), (terminal, "COMPLETED")]);
            assert_eq!(seen, vec!["BUILD_RUNNING", "BUILD_FAILED"], "{terminal:?}");
        }
        // A build that fails before anything runs.
        assert_eq!(run(&[(Fault, "PROVISIONING")]), vec!["BUILD_FAILED"]);
    }

    #[test]
    fn failure_message_has_phase_messages_and_log() {
        let mut b = build(BuildStatus::Failed, "COMPLETED");
        b.phases = vec![
            BuildPhase {
                phase_type: "PRE_BUILD".into(),
                status: Some("SUCCEEDED".into()),
                messages: vec![],
            },
            BuildPhase {
                phase_type: "BUILD".into(),
                status: Some("FAILED".into()),
                messages: vec![
                    "Error while executing command: docker buildx build. Reason: exit status 1"
                        .into(),
                ],
            },
        ];
        b.log = Some(crate::cloud::LogLocation {
            group: "/defang/shop".into(),
            stream: "builds/web/1".into(),
        });
        let m = build_failure(&b, &["#8 ERROR: npm ci exited 1".into(), "".into()]);
        assert!(m.contains("BUILD FAILED: Error while executing"), "{m}");
        assert!(m.contains("npm ci exited 1"), "{m}");
        assert!(m.contains("/defang/shop"), "{m}");
        assert!(!m.contains("PRE_BUILD"), "{m}");
    }
}
