//! The buildspec of the project's CodeBuild project: the one copy, put into the project's
//! CloudFormation template and sent with every StartBuild by the CodeBuild adapter in
//! `defang-aws` (whose tests run both phases in bash against stub `aws` and `docker`).
//!
//! Everything build-specific arrives as environment-variable overrides of StartBuild (see
//! the CodeBuild adapter in `defang-aws`), so one project serves every service and platform:
//!
//! | variable | meaning |
//! |---|---|
//! | `CONTEXT_S3_URI` | `s3://<bucket>/<key>` of the build context, a gzipped tar |
//! | `IMAGE_REPO_URI` | repository URI without tag; its host is the registry to log in to |
//! | `IMAGE_TAG` | the tag to push (the build hash) |
//! | `DOCKERFILE` | path of the Dockerfile inside the context |
//! | `PLATFORM` | `linux/amd64` or `linux/arm64` (the build host has the same architecture) |
//! | `BUILD_TARGET` | optional `--target` stage |
//! | `BUILD_ARG_COUNT`, `BUILD_ARG_0` … | build arguments, each value `NAME=value` |
//!
//! Each phase is one bash block run in a subshell with `set -euo pipefail`: any failing step
//! fails the phase (`on-failure: ABORT` stops the build), and `set -e` cannot leak into
//! CodeBuild's own shell, which runs all commands of a version 0.2 buildspec. Build arguments
//! go into a bash array and reach docker as separate words, so values with spaces, quotes or
//! `$` arrive verbatim; they are never echoed (no `set -x`), only their number is.
//! Empty arrays expand with `${a[@]+"${a[@]}"}`, because bash before 4.4 calls `"${a[@]}"` of an
//! empty array unbound under `set -u`.
//!
//! The context: builds run without a CodeBuild source (`NO_SOURCE`; CodeBuild documents its S3
//! source for ZIP archives only). `pre_build` streams the gzipped tar named by
//! `CONTEXT_S3_URI` with the build role's credentials and unpacks it into
//! `$CODEBUILD_SRC_DIR`, where `build` runs buildx. A missing or unreadable object fails
//! `pre_build` with a message naming it, before anything is built.

pub const BUILDSPEC: &str = r#"version: 0.2

env:
  shell: bash

phases:
  pre_build:
    on-failure: ABORT
    commands:
      - |
        (
        set -euo pipefail
        : "${CONTEXT_S3_URI:?CONTEXT_S3_URI is not set}" "${CODEBUILD_SRC_DIR:?CODEBUILD_SRC_DIR is not set}"
        : "${IMAGE_REPO_URI:?IMAGE_REPO_URI is not set}" "${IMAGE_TAG:?IMAGE_TAG is not set}"
        echo "Downloading the build context $CONTEXT_S3_URI"
        if ! aws s3 cp --only-show-errors "$CONTEXT_S3_URI" - | tar -xz --no-same-owner -C "$CODEBUILD_SRC_DIR"; then
          echo "Could not download and unpack the build context $CONTEXT_S3_URI (is the object there, and a gzipped tar?)" >&2
          exit 1
        fi
        registry="${IMAGE_REPO_URI%%/*}"
        # <account>.dkr.ecr.<region>.amazonaws.com: log in to the registry's own region.
        case "$registry" in
          *.dkr.ecr.*) region="${registry#*.dkr.ecr.}"; region="${region%%.*}" ;;
          *) region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" ;;
        esac
        docker buildx version
        echo "Logging in to $registry"
        aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
        )
  build:
    on-failure: ABORT
    commands:
      - |
        (
        set -euo pipefail
        : "${IMAGE_REPO_URI:?}" "${IMAGE_TAG:?}" "${DOCKERFILE:?DOCKERFILE is not set}" "${PLATFORM:?PLATFORM is not set}"
        cd "${CODEBUILD_SRC_DIR:?CODEBUILD_SRC_DIR is not set}"
        if [ ! -f "$DOCKERFILE" ]; then
          echo "The build context has no $DOCKERFILE" >&2
          exit 1
        fi
        build_args=()
        for ((i = 0; i < ${BUILD_ARG_COUNT:-0}; i++)); do
          var="BUILD_ARG_$i"
          build_args+=(--build-arg "${!var}")
        done
        target_args=()
        if [ -n "${BUILD_TARGET:-}" ]; then target_args=(--target "$BUILD_TARGET"); fi
        echo "Building $IMAGE_REPO_URI:$IMAGE_TAG for $PLATFORM from $DOCKERFILE (${BUILD_ARG_COUNT:-0} build args)"
        docker buildx build --platform "$PLATFORM" -f "$DOCKERFILE" ${target_args[@]+"${target_args[@]}"} ${build_args[@]+"${build_args[@]}"} -t "$IMAGE_REPO_URI:$IMAGE_TAG" --provenance=false --push .
        echo "Pushed $IMAGE_REPO_URI:$IMAGE_TAG"
        )
"#;
