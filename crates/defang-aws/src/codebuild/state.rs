//! From CodeBuild's `Build` to the plain [`BuildState`].

use aws_sdk_codebuild::types::{Build, StatusType};
use defang_resources::cloud::{BuildPhase, BuildState, BuildStatus, LogLocation};

pub fn build_state(build: &Build) -> BuildState {
    BuildState {
        id: build.id().unwrap_or_default().to_owned(),
        status: build_status(build.build_status()),
        current_phase: build.current_phase().unwrap_or_default().to_owned(),
        phases: build
            .phases()
            .iter()
            .map(|phase| BuildPhase {
                phase_type: phase
                    .phase_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                status: phase.phase_status().map(|s| s.as_str().to_owned()),
                messages: phase
                    .contexts()
                    .iter()
                    .filter_map(|c| context_message(c.status_code(), c.message()))
                    .collect(),
            })
            .collect(),
        log: build.logs().and_then(|logs| {
            let group = logs.group_name().filter(|g| !g.is_empty())?;
            let stream = logs.stream_name().filter(|s| !s.is_empty())?;
            Some(LogLocation {
                group: group.to_owned(),
                stream: stream.to_owned(),
            })
        }),
    }
}

fn build_status(status: Option<&StatusType>) -> BuildStatus {
    match status {
        Some(StatusType::Succeeded) => BuildStatus::Succeeded,
        Some(StatusType::Failed) => BuildStatus::Failed,
        Some(StatusType::Fault) => BuildStatus::Fault,
        Some(StatusType::TimedOut) => BuildStatus::TimedOut,
        Some(StatusType::Stopped) => BuildStatus::Stopped,
        Some(StatusType::InProgress) | None => BuildStatus::InProgress,
        // A status this SDK does not know yet: keep polling rather than guess an outcome;
        // the engine's operation timeout bounds the wait.
        Some(other) => {
            tracing::warn!(status = %other.as_str(), "unknown CodeBuild build status");
            BuildStatus::InProgress
        }
    }
}

/// `COMMAND_EXECUTION_ERROR: Error while executing command: …`. Successful phases often carry
/// an empty context (`{"statusCode": "", "message": ""}`), which says nothing.
fn context_message(code: Option<&str>, message: Option<&str>) -> Option<String> {
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    match (code, message) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (None, Some(message)) => Some(message.to_owned()),
        (Some(code), None) => Some(code.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codebuild::types::{
        BuildPhase as SdkPhase, BuildPhaseType, LogsLocation, PhaseContext,
    };

    fn phase(
        kind: BuildPhaseType,
        status: Option<StatusType>,
        context: Option<(&str, &str)>,
    ) -> SdkPhase {
        let mut builder = SdkPhase::builder()
            .phase_type(kind)
            .set_phase_status(status);
        if let Some((code, message)) = context {
            builder = builder.contexts(
                PhaseContext::builder()
                    .status_code(code)
                    .message(message)
                    .build(),
            );
        }
        builder.build()
    }

    #[test]
    fn failed_build_keeps_phase_messages_and_log() {
        let build = Build::builder()
            .id("proj:1234")
            .build_status(StatusType::Failed)
            .current_phase("COMPLETED")
            .phases(phase(
                BuildPhaseType::Submitted,
                Some(StatusType::Succeeded),
                Some(("", "")),
            ))
            .phases(phase(
                BuildPhaseType::Build,
                Some(StatusType::Failed),
                Some((
                    "COMMAND_EXECUTION_ERROR",
                    "Error while executing command: docker buildx build. Reason: exit status 1",
                )),
            ))
            .phases(phase(BuildPhaseType::Completed, None, None))
            .logs(
                LogsLocation::builder()
                    .group_name("/defang/shop/builds")
                    .stream_name("web/b-1/1234")
                    .build(),
            )
            .build();
        let state = build_state(&build);
        assert_eq!(state.id, "proj:1234");
        assert_eq!(state.status, BuildStatus::Failed);
        assert_eq!(state.current_phase, "COMPLETED");
        assert_eq!(state.phases.len(), 3);
        assert!(state.phases[0].messages.is_empty());
        assert_eq!(state.phases[1].phase_type, "BUILD");
        assert_eq!(state.phases[1].status.as_deref(), Some("FAILED"));
        assert_eq!(
            state.phases[1].messages,
            [
                "COMMAND_EXECUTION_ERROR: Error while executing command: docker buildx build. Reason: exit status 1"
            ]
        );
        assert_eq!(state.phases[2].status, None);
        assert_eq!(
            state.log,
            Some(LogLocation {
                group: "/defang/shop/builds".into(),
                stream: "web/b-1/1234".into()
            })
        );
    }

    #[test]
    fn statuses() {
        for (sdk, ours) in [
            (StatusType::InProgress, BuildStatus::InProgress),
            (StatusType::Succeeded, BuildStatus::Succeeded),
            (StatusType::Fault, BuildStatus::Fault),
            (StatusType::TimedOut, BuildStatus::TimedOut),
            (StatusType::Stopped, BuildStatus::Stopped),
            (StatusType::from("SOMETHING_NEW"), BuildStatus::InProgress),
        ] {
            assert_eq!(build_status(Some(&sdk)), ours, "{sdk:?}");
        }
        assert_eq!(build_status(None), BuildStatus::InProgress);
    }

    #[test]
    fn a_log_location_without_names_is_none() {
        // What moto returns: a deep link, but no group or stream.
        let build = Build::builder()
            .id("p:1")
            .logs(
                LogsLocation::builder()
                    .deep_link("https://console/x")
                    .build(),
            )
            .build();
        assert_eq!(build_state(&build).log, None);
    }
}
