#!/usr/bin/env bash
# Detection latency of the provider's ECS waits (issue 10, item 3); not a test: the figures
# depend on the poller and the machine.
#
#   scripts/bench/detection.sh [detection_latency options, e.g. --waits 1,10,100 --repeat 3 --json F]
#
# Starts a moto (scripts/moto, patch 18) in a temporary state dir with
#   MOTO_ECS_SERVICE_RUNNING=1 MOTO_ECS_ROLLOUT_SECONDS=${MOTO_ECS_ROLLOUT_SECONDS:-3-30}
#   MOTO_ECS_DRAIN_SECONDS=${MOTO_ECS_DRAIN_SECONDS:-3-30} MOTO_ECS_ROLLOUT_SEED=${MOTO_ECS_ROLLOUT_SEED:-1}
# builds and runs the release example provider/examples/detection_latency.rs against it,
# stops moto and prints the example's table (stdout). Progress goes to stderr.
#
# DETECTION_BIN=<path> runs that binary instead of building (e.g. one built from another tree);
# the cargo build honours CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bin="${DETECTION_BIN:-}"
if [[ -z "$bin" ]]; then
  echo "detection: building the example (release)" >&2
  cargo build --release -q -p pulumi-resource-defang --example detection_latency >&2
  bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/detection_latency"
fi
[[ -x "$bin" ]] || { echo "detection: no executable $bin" >&2; exit 1; }

state="$(mktemp -d "${TMPDIR:-/tmp}/moto-detection.XXXXXX")"
stop() {
  scripts/moto/moto.sh stop --state-dir "$state" || true
  rm -rf "$state"
}
trap stop EXIT

export MOTO_ECS_SERVICE_RUNNING=1
export MOTO_ECS_ROLLOUT_SECONDS="${MOTO_ECS_ROLLOUT_SECONDS:-3-30}"
export MOTO_ECS_DRAIN_SECONDS="${MOTO_ECS_DRAIN_SECONDS:-3-30}"
export MOTO_ECS_ROLLOUT_SEED="${MOTO_ECS_ROLLOUT_SEED:-1}"
eval "$(scripts/moto/moto.sh start --state-dir "$state")"
echo "detection: moto at $AWS_ENDPOINT_URL (rollouts ${MOTO_ECS_ROLLOUT_SECONDS} s, drains ${MOTO_ECS_DRAIN_SECONDS} s, seed ${MOTO_ECS_ROLLOUT_SEED})" >&2

"$bin" "$@"
