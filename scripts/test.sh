#!/usr/bin/env bash
# The test command (`make test`): on a fresh machine it installs what the tests need (the
# pinned moto emulator, the pinned pulumi CLI built from Go modules, the npm/PyPI/Go packages of
# the TypeScript, Python and Go examples, the SDK generator), builds the provider and runs every
# check and test: formatting, clippy, unit tests, integration tests (the provider binary over
# gRPC against moto), the SDK drift test, and end-to-end tests (the real pulumi CLI against
# moto, with YAML programs and with TypeScript, Python and Go programs on the generated SDKs).
#
# Caches, reused by later runs:
#   DEFANG_CACHE_DIR   tools (moto venv, pulumi binaries, Go caches, language packages, the SDK
#                      generator); default <repo>/.cache
#   CARGO_TARGET_DIR   Rust build output; default <repo>/target
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEFANG_CACHE_DIR="${DEFANG_CACHE_DIR:-$PWD/.cache}"
mkdir -p "$DEFANG_CACHE_DIR"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

step "moto (AWS emulator)"
scripts/moto/install.sh >/dev/null

step "pulumi CLI"
DEFANG_TEST_PULUMI_DIR="$(scripts/install-pulumi.sh | tail -n 1)"
export DEFANG_TEST_PULUMI_DIR

step "language packages (npm, PyPI, Go modules)"
eval "$(scripts/install-langs.sh)"

step "SDK generator"
DEFANG_GEN_SDK_BIN="$(scripts/gen-sdk.sh --bin | tail -n 1)"
export DEFANG_GEN_SDK_BIN

step "format"
cargo fmt --all -- --check

step "build"
cargo build --workspace --all-targets

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "moto patch 18 (ECS rollouts and drains that take time, for the benchmark)"
"$DEFANG_CACHE_DIR/moto-venv/bin/python" scripts/moto/probe_ecs_timing.py >/dev/null

step "tests"
# One shared emulator for the AWS adapter tests (they read the standard AWS_ENDPOINT_URL);
# the provider's integration and end-to-end tests start their own, one per test.
moto_state="$(mktemp -d)"
trap 'scripts/moto/moto.sh stop --state-dir "$moto_state" >/dev/null 2>&1 || true; rm -rf "$moto_state"' EXIT
eval "$(scripts/moto/moto.sh start --state-dir "$moto_state")"
cargo test --workspace --no-fail-fast
