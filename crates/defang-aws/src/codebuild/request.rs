//! From a [`BuildRequest`] to StartBuild's overrides: pure functions, unit-tested.

use aws_sdk_codebuild::types::EnvironmentType;
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
}

pub fn build_host(platform: &str) -> CloudResult<BuildHost> {
    match platform.trim().to_ascii_lowercase().as_str() {
        "linux/amd64" | "linux/x86_64" => Ok(BuildHost {
            environment_type: EnvironmentType::LinuxContainer,
            image: X86_IMAGE,
            platform: "linux/amd64",
        }),
        "linux/arm64" | "linux/arm64/v8" | "linux/aarch64" => Ok(BuildHost {
            environment_type: EnvironmentType::ArmContainer,
            image: ARM_IMAGE,
            platform: "linux/arm64",
        }),
        other => Err(CloudError::Invalid(format!(
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
            return Err(CloudError::Invalid(format!(
                "build argument name `{name}` is not valid: it must be non-empty, without `=` or spaces"
            )));
        }
        vars.push((format!("BUILD_ARG_{n}"), format!("{name}={value}")));
    }
    Ok(vars)
}

/// `bucket/key`, the form StartBuild's `sourceLocationOverride` takes for S3.
pub fn source_location(request: &BuildRequest) -> CloudResult<String> {
    if request.source_bucket.is_empty() || request.source_key.is_empty() {
        return Err(CloudError::Invalid(
            "the build context location needs both a bucket and a key".into(),
        ));
    }
    Ok(format!("{}/{}", request.source_bucket, request.source_key))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let x86 = build_host("linux/amd64").unwrap();
        assert_eq!(x86.environment_type, EnvironmentType::LinuxContainer);
        assert_eq!(x86.image, X86_IMAGE);
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
        assert!(matches!(err, CloudError::Invalid(_)));
        assert!(!err.to_string().contains("hidden-value"), "{err}");
    }

    #[test]
    fn source_location_is_bucket_slash_key() {
        assert_eq!(
            source_location(&request()).unwrap(),
            "defang-shop-contexts/contexts/ab12.tar.gz"
        );
        let mut request = request();
        request.source_key.clear();
        assert!(source_location(&request).is_err());
    }
}
