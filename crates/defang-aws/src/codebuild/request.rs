//! From a [`BuildRequest`] to StartBuild's overrides: pure functions, unit-tested.
//!
//! Builds have no CodeBuild source (`NO_SOURCE`): CodeBuild documents its S3 source for ZIP
//! archives only, and our contexts are gzipped tars. The buildspec, which a source-less build
//! must carry in the request, downloads and unpacks the object named by `CONTEXT_S3_URI`
//! itself (see [`super::BUILDSPEC`]).

use super::BUILDSPEC;
use aws_sdk_codebuild::operation::start_build::StartBuildInput;
use aws_sdk_codebuild::operation::start_build::builders::StartBuildInputBuilder;
use aws_sdk_codebuild::types::{
    CloudWatchLogsConfig, ComputeType, EnvironmentType, EnvironmentVariable,
    EnvironmentVariableType, LogsConfig, LogsConfigStatusType, SourceType,
};
use defang_resources::cloud::{BuildRequest, CloudError, CloudResult};

/// Native build hosts per architecture. Building on the target architecture needs no QEMU,
/// and the image cannot come out for the wrong one.
pub const ARM_IMAGE: &str = "aws/codebuild/amazonlinux2-aarch64-standard:3.0";
pub const X86_IMAGE: &str = "aws/codebuild/amazonlinux2-x86_64-standard:5.0";

/// Where a build runs: the CodeBuild environment type and image for its platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildHost {
    pub environment_type: EnvironmentType,
    pub image: &'static str,
    /// The platform as buildx spells it.
    pub platform: &'static str,
    /// None keeps the project's (BUILD_GENERAL1_MEDIUM, an x86 size). ARM_CONTAINER has long
    /// accepted only BUILD_GENERAL1_SMALL and BUILD_GENERAL1_LARGE, so ARM builds say LARGE.
    pub compute_type: Option<ComputeType>,
}

pub fn build_host(platform: &str) -> CloudResult<BuildHost> {
    match platform.trim().to_ascii_lowercase().as_str() {
        "linux/amd64" | "linux/x86_64" => Ok(BuildHost {
            environment_type: EnvironmentType::LinuxContainer,
            image: X86_IMAGE,
            platform: "linux/amd64",
            compute_type: None,
        }),
        "linux/arm64" | "linux/arm64/v8" | "linux/aarch64" => Ok(BuildHost {
            environment_type: EnvironmentType::ArmContainer,
            image: ARM_IMAGE,
            platform: "linux/arm64",
            compute_type: Some(ComputeType::BuildGeneral1Large),
        }),
        other => Err(CloudError::invalid(format!(
            "unsupported build platform `{other}`: use linux/amd64 or linux/arm64"
        ))),
    }
}

/// The environment-variable overrides the buildspec reads (see [`super::buildspec`]), in order.
/// Build arguments are `BUILD_ARG_<n>` = `NAME=value` with `BUILD_ARG_COUNT`: one variable per
/// argument keeps names and values apart from any quoting, and the buildspec hands each one to
/// docker as a single word.
pub fn environment(request: &BuildRequest, host: &BuildHost) -> CloudResult<Vec<(String, String)>> {
    let mut vars = vec![
        ("CONTEXT_S3_URI".to_owned(), context_uri(request)?),
        ("IMAGE_REPO_URI".to_owned(), request.repository_uri.clone()),
        ("IMAGE_TAG".to_owned(), request.image_tag.clone()),
        ("DOCKERFILE".to_owned(), request.dockerfile.clone()),
        ("PLATFORM".to_owned(), host.platform.to_owned()),
    ];
    // Left out rather than empty: CodeBuild's console and API show every override.
    if let Some(target) = request.target.as_deref().filter(|t| !t.is_empty()) {
        vars.push(("BUILD_TARGET".to_owned(), target.to_owned()));
    }
    vars.push(("BUILD_ARG_COUNT".to_owned(), request.args.len().to_string()));
    for (n, (name, value)) in request.args.iter().enumerate() {
        if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
            // The name only: the value may be a secret.
            return Err(CloudError::invalid(format!(
                "build argument name `{name}` is not valid: it must be non-empty, without `=` or spaces"
            )));
        }
        vars.push((format!("BUILD_ARG_{n}"), format!("{name}={value}")));
    }
    Ok(vars)
}

/// `s3://bucket/key` of the build context, as `aws s3 cp` in the buildspec takes it.
pub fn context_uri(request: &BuildRequest) -> CloudResult<String> {
    if request.source_bucket.is_empty() || request.source_key.is_empty() {
        return Err(CloudError::invalid(
            "the build context location needs both a bucket and a key",
        ));
    }
    Ok(format!(
        "s3://{}/{}",
        request.source_bucket, request.source_key
    ))
}

/// StartBuild for this request, all but the logs override (which needs the project's log
/// group, see [`logs_override`]). Checks the request first: nothing is sent for a bad one.
pub fn start_build_input(request: &BuildRequest) -> CloudResult<StartBuildInputBuilder> {
    let host = build_host(&request.platform)?;
    let variables = environment(request, &host)?
        .into_iter()
        .map(|(name, value)| {
            EnvironmentVariable::builder()
                .name(name)
                .value(value)
                .r#type(EnvironmentVariableType::Plaintext)
                .build()
                .map_err(|e| CloudError::other(format!("start CodeBuild build: {e}")))
        })
        .collect::<CloudResult<Vec<_>>>()?;
    Ok(StartBuildInput::builder()
        .project_name(&request.codebuild_project)
        .source_type_override(SourceType::NoSource)
        // Required without a source; the same text as the project's own.
        .buildspec_override(BUILDSPEC)
        .set_environment_variables_override(Some(variables))
        .environment_type_override(host.environment_type)
        .image_override(host.image)
        .set_compute_type_override(host.compute_type)
        // The project is privileged already; docker-in-docker needs it, so say so here too.
        .privileged_mode_override(true)
        .idempotency_token(&request.idempotency_token))
}

/// The logs override for a project that logs to the named group: the same group, with this
/// build's stream prefix.
pub fn logs_override(group: &str, stream_prefix: &str) -> CloudResult<LogsConfig> {
    let cloud_watch = CloudWatchLogsConfig::builder()
        .status(LogsConfigStatusType::Enabled)
        .group_name(group)
        .stream_name(stream_prefix)
        .build()
        .map_err(|e| CloudError::other(format!("start CodeBuild build: {e}")))?;
    Ok(LogsConfig::builder().cloud_watch_logs(cloud_watch).build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use defang_resources::cloud::CloudErrorKind;

    fn request() -> BuildRequest {
        BuildRequest {
            codebuild_project: "defang-shop-builds".into(),
            source_bucket: "defang-shop-contexts".into(),
            source_key: "contexts/ab12.tar.gz".into(),
            repository_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/defang/shop/web".into(),
            image_tag: "b-0123abcd".into(),
            dockerfile: "docker/Dockerfile".into(),
            target: Some("runtime".into()),
            platform: "linux/arm64".into(),
            args: vec![
                ("NODE_ENV".into(), "production".into()),
                ("TOKEN".into(), "s3cr3t with spaces='\"$HOME".into()),
            ],
            idempotency_token: "tok".into(),
            log_stream_prefix: "web/b-0123abcd".into(),
        }
    }

    #[test]
    fn platforms_pick_native_hosts() {
        let arm = build_host("linux/arm64").unwrap();
        assert_eq!(arm.environment_type, EnvironmentType::ArmContainer);
        assert_eq!(arm.image, ARM_IMAGE);
        assert_eq!(arm.compute_type, Some(ComputeType::BuildGeneral1Large));
        let x86 = build_host("linux/amd64").unwrap();
        assert_eq!(x86.environment_type, EnvironmentType::LinuxContainer);
        assert_eq!(x86.image, X86_IMAGE);
        assert_eq!(x86.compute_type, None);
        assert_eq!(
            build_host(" Linux/AArch64 ").unwrap().platform,
            "linux/arm64"
        );
        let err = build_host("windows/amd64").unwrap_err();
        assert!(
            err.to_string().contains("linux/amd64 or linux/arm64"),
            "{err}"
        );
    }

    #[test]
    fn environment_carries_everything_the_buildspec_reads() {
        let request = request();
        let host = build_host(&request.platform).unwrap();
        let vars = environment(&request, &host).unwrap();
        let names: Vec<_> = vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "CONTEXT_S3_URI",
                "IMAGE_REPO_URI",
                "IMAGE_TAG",
                "DOCKERFILE",
                "PLATFORM",
                "BUILD_TARGET",
                "BUILD_ARG_COUNT",
                "BUILD_ARG_0",
                "BUILD_ARG_1"
            ]
        );
        let get = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(get("BUILD_ARG_COUNT"), "2");
        assert_eq!(get("BUILD_ARG_1"), "TOKEN=s3cr3t with spaces='\"$HOME");
        assert_eq!(get("PLATFORM"), "linux/arm64");
        assert_eq!(
            get("CONTEXT_S3_URI"),
            "s3://defang-shop-contexts/contexts/ab12.tar.gz"
        );
    }

    #[test]
    fn no_target_no_variable() {
        let mut request = request();
        request.target = Some(String::new());
        request.args.clear();
        let vars = environment(&request, &build_host("linux/amd64").unwrap()).unwrap();
        assert!(vars.iter().all(|(n, _)| n != "BUILD_TARGET"));
        assert!(vars.contains(&("BUILD_ARG_COUNT".into(), "0".into())));
    }

    #[test]
    fn bad_argument_names_are_refused_without_their_values() {
        let mut request = request();
        request.args = vec![("A=B".into(), "hidden-value".into())];
        let err = environment(&request, &build_host("linux/amd64").unwrap()).unwrap_err();
        assert_eq!(err.kind(), CloudErrorKind::Invalid);
        assert!(!err.to_string().contains("hidden-value"), "{err}");
    }

    #[test]
    fn context_uri_is_an_s3_uri() {
        assert_eq!(
            context_uri(&request()).unwrap(),
            "s3://defang-shop-contexts/contexts/ab12.tar.gz"
        );
        for clear in [
            |r: &mut BuildRequest| r.source_key.clear(),
            |r: &mut BuildRequest| r.source_bucket.clear(),
        ] {
            let mut request = request();
            clear(&mut request);
            assert!(context_uri(&request).is_err());
            assert!(start_build_input(&request).is_err());
        }
    }

    fn start_build(platform: &str) -> StartBuildInput {
        let mut request = request();
        request.platform = platform.into();
        start_build_input(&request).unwrap().build().unwrap()
    }

    fn variable(input: &StartBuildInput, name: &str) -> Option<String> {
        input
            .environment_variables_override()
            .iter()
            .find(|v| v.name() == name)
            .map(|v| v.value().to_owned())
    }

    #[test]
    fn start_build_has_no_source_and_carries_the_buildspec_and_the_context() {
        for platform in ["linux/arm64", "linux/amd64"] {
            let input = start_build(platform);
            assert_eq!(input.project_name(), Some("defang-shop-builds"));
            assert_eq!(input.source_type_override(), Some(&SourceType::NoSource));
            assert_eq!(input.source_location_override(), None);
            assert_eq!(
                input.buildspec_override(),
                Some(defang_resources::build::buildspec::BUILDSPEC)
            );
            assert_eq!(
                variable(&input, "CONTEXT_S3_URI").as_deref(),
                Some("s3://defang-shop-contexts/contexts/ab12.tar.gz")
            );
            assert_eq!(variable(&input, "IMAGE_TAG").as_deref(), Some("b-0123abcd"));
            assert!(
                input
                    .environment_variables_override()
                    .iter()
                    .all(|v| v.r#type() == Some(&EnvironmentVariableType::Plaintext))
            );
            assert_eq!(input.privileged_mode_override(), Some(true));
            assert_eq!(input.idempotency_token(), Some("tok"));
            // Added by the adapter once it knows the project's log group.
            assert_eq!(input.logs_config_override(), None);
        }
    }

    #[test]
    fn start_build_per_platform() {
        let arm = start_build("linux/arm64");
        assert_eq!(
            arm.environment_type_override(),
            Some(&EnvironmentType::ArmContainer)
        );
        assert_eq!(arm.image_override(), Some(ARM_IMAGE));
        assert_eq!(
            arm.compute_type_override(),
            Some(&ComputeType::BuildGeneral1Large)
        );
        assert_eq!(variable(&arm, "PLATFORM").as_deref(), Some("linux/arm64"));

        let x86 = start_build("linux/amd64");
        assert_eq!(
            x86.environment_type_override(),
            Some(&EnvironmentType::LinuxContainer)
        );
        assert_eq!(x86.image_override(), Some(X86_IMAGE));
        // The project's BUILD_GENERAL1_MEDIUM.
        assert_eq!(x86.compute_type_override(), None);
        assert_eq!(variable(&x86, "PLATFORM").as_deref(), Some("linux/amd64"));

        let mut bad = request();
        bad.platform = "linux/s390x".into();
        assert_eq!(
            start_build_input(&bad).unwrap_err().kind(),
            CloudErrorKind::Invalid
        );
    }

    #[test]
    fn logs_override_names_the_group_and_the_stream_prefix() {
        let logs = logs_override("/defang/shop/builds", "web/b-1").unwrap();
        let cloud_watch = logs.cloud_watch_logs().unwrap();
        assert_eq!(cloud_watch.status(), &LogsConfigStatusType::Enabled);
        assert_eq!(cloud_watch.group_name(), Some("/defang/shop/builds"));
        assert_eq!(cloud_watch.stream_name(), Some("web/b-1"));
    }
}
