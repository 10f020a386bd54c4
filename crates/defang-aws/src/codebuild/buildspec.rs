//! The buildspec of the project's CodeBuild project (put into its CloudFormation template).
//!
//! Everything build-specific arrives as environment-variable overrides of StartBuild (see
//! [`super::request`]), so one project serves every service and platform:
//!
//! | variable | meaning |
//! |---|---|
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
//! The context: CodeBuild unpacks a ZIP source into the source directory; its documentation
//! promises that for ZIP objects only. If the source directory has no Dockerfile and holds a
//! single gzip file (our gzipped tar copied as it is), the build step unpacks that first. A
//! real context always contains its Dockerfile, so it never takes that branch.

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
        : "${IMAGE_REPO_URI:?IMAGE_REPO_URI is not set}" "${IMAGE_TAG:?IMAGE_TAG is not set}"
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
        if [ ! -e "$DOCKERFILE" ]; then
          shopt -s nullglob
          entries=(*)
          if [ "${#entries[@]}" -eq 1 ] && [ -f "${entries[0]}" ] && gzip -t "${entries[0]}" 2>/dev/null; then
            echo "Unpacking the build context archive"
            mkdir .defang-context
            tar -xzf "${entries[0]}" -C .defang-context
            cd .defang-context
          fi
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

#[cfg(test)]
mod tests;
