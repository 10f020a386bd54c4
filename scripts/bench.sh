#!/usr/bin/env bash
# The benchmark (`make bench`): prints the figures of issue 10 as tables. Not a test: the
# figures depend on the machine (note its load), and nothing here fails on a slow result; a
# command that fails does fail the run (a benchmark of a failed run is worthless).
#
#   1. the release provider: cold start to the port line and RSS (median of 20 launches), and
#      the median of 20 Checks on one connection with a ~100-byte and a ~2 KB reply
#      (tests/src/bin/rpc_bench.rs);
#   2. criterion benches of the pure hot paths: check, diff, templates, task definitions,
#      value conversion (crates/*/benches, summarised by scripts/bench/criterion_summary.py);
#   3. preview, up, no-op up, refresh and destroy of 10, 100 and 1,000 services through the
#      real pulumi CLI on moto: wall time, the provider's own CPU and peak RSS (measured on its
#      process by scripts/bench/provider_rusage.py), AWS calls per service by API (counted by
#      the fault proxy with no faults) (tests/src/bin/ops_bench.rs);
#   4. detection latency: how long after moto marks a rollout complete, or a drain done, the
#      provider's wait returns (p50/p95), with DescribeServices calls per minute for 1, 10 and
#      100 concurrent waits (provider/examples/detection_latency.rs, moto patch 18);
#   5. destroy of 100 services whose drains take 3-30 s, with pulumi's default parallelism and
#      with --parallel 100 (ops_bench --drain).
#
# Settings (environment):
#   BENCH_SERVICES   the program sizes of part 3 (default 10,100,1000; the 1,000 run takes
#                    about 9 minutes here)
#   BENCH_PARTS      which parts to run (default 1,2,3,4,5)
#   BENCH_JSON_DIR   where the JSON lines of every figure go (default: a temp dir, printed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEFANG_CACHE_DIR="${DEFANG_CACHE_DIR:-$PWD/.cache}"
mkdir -p "$DEFANG_CACHE_DIR"
target="${CARGO_TARGET_DIR:-$PWD/target}"
parts=",${BENCH_PARTS:-1,2,3,4,5},"
json_dir="${BENCH_JSON_DIR:-$(mktemp -d -t defang-bench-XXXXXX)}"
mkdir -p "$json_dir"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
want() { [[ "$parts" == *",$1,"* ]]; }

step "machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "figures as JSON lines: $json_dir"

step "moto and the pulumi CLI"
scripts/moto/install.sh >/dev/null
if [ -z "${DEFANG_TEST_PULUMI_DIR:-}" ]; then
    DEFANG_TEST_PULUMI_DIR="$(scripts/install-pulumi.sh | tail -n 1)"
fi
export DEFANG_TEST_PULUMI_DIR

step "build (release)"
cargo build --release -p pulumi-resource-defang -p defang-tests --bins
cargo build --release -p pulumi-resource-defang --example detection_latency
# Every part measures the same snapshot of the binary.
snapshot="$(mktemp -d -t defang-bench-bin-XXXXXX)"
trap 'rm -rf "$snapshot"' EXIT
cp "$target/release/pulumi-resource-defang" "$snapshot/"
export DEFANG_PROVIDER_BIN="$snapshot/pulumi-resource-defang"
echo "provider under test: $DEFANG_PROVIDER_BIN ($(sha256sum "$DEFANG_PROVIDER_BIN" | cut -c1-12), $(du -h "$DEFANG_PROVIDER_BIN" | cut -f1))"

if want 1; then
    step "1. cold start, RSS, Check reply sizes (one connection)"
    "$target/release/rpc_bench" --provider "$DEFANG_PROVIDER_BIN" --runs 20 --calls 20
fi

if want 2; then
    step "2. criterion: the pure hot paths"
    cargo bench -q -p pulumi-plugin -p defang-resources >"$json_dir/criterion.log" 2>&1 ||
        { tail -n 30 "$json_dir/criterion.log"; exit 1; }
    python3 scripts/bench/criterion_summary.py "$target/criterion"
fi

if want 3; then
    step "3. pulumi operations on moto (${BENCH_SERVICES:-10,100,1000} services)"
    "$target/release/ops_bench" --services "${BENCH_SERVICES:-10,100,1000}" --json "$json_dir/ops.jsonl"
fi

if want 4; then
    step "4. detection latency (rollouts and drains of 3-30 s)"
    DETECTION_BIN="$target/release/examples/detection_latency" \
        scripts/bench/detection.sh --waits 1,10,100 --repeat 3 --json "$json_dir/detection.jsonl"
fi

if want 5; then
    step "5. up and destroy of 100 services whose drains take 3-30 s"
    echo "pulumi's default parallelism (4 x cores):"
    "$target/release/ops_bench" --services 100 --ops up,destroy --drain 3-30 \
        --json "$json_dir/drain-default.jsonl"
    echo "--parallel 100 (PULUMI_PARALLEL=100):"
    PULUMI_PARALLEL=100 "$target/release/ops_bench" --services 100 --ops up,destroy --drain 3-30 \
        --json "$json_dir/drain-parallel.jsonl"
fi

step "done"
echo "figures as JSON lines: $json_dir"
