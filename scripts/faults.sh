#!/usr/bin/env bash
# The fault-injection suite, full profile (`make faults`): the real pulumi CLI and the provider
# reach moto through scripts/moto/fault_proxy.py, which throttles, answers 5xx and loses
# responses after moto acted (seeded, reproducible). tests/tests/e2e_faults.rs runs the
# scenarios with 20 services: up / no-op up / update / destroy under 30 % throttling and 10 %
# lost responses, the provider SIGKILLed mid-create, Ctrl-C during a rollout and during a build.
# Every command that
# should succeed must succeed the first time, and moto (read directly) must hold exactly one of
# everything, or nothing after destroy. At the end it prints each step's figures as a table.
#
# Settings (environment):
#   DEFANG_FAULTS_PROFILE   full (default here) or short (what `cargo test` runs)
#   DEFANG_FAULTS_SERVICES  services in the program (full: 20, short: 5)
#   DEFANG_FAULTS_SEED      the proxy's seed (default 9)
#   DEFANG_FAULTS_THROTTLE, DEFANG_FAULTS_5XX, DEFANG_FAULTS_DROP
#                           fault rates of the lifecycle scenario (default 0.3, 0, 0.1)
#   DEFANG_FAULTS_EVERYWHERE=1  the same rates in the kill and Ctrl-C scenarios (default none)
#   DEFANG_FAULTS_REPORT    where the JSON lines of the figures go (default: a temp file)
#   DEFANG_E2E_KEEP=1       keep workspaces and the proxy's stats.json / faults.jsonl
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEFANG_CACHE_DIR="${DEFANG_CACHE_DIR:-$PWD/.cache}"
mkdir -p "$DEFANG_CACHE_DIR"

step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

step "moto (AWS emulator)"
scripts/moto/install.sh >/dev/null
python="$("$DEFANG_CACHE_DIR/moto-venv/bin/python" -c 'import sys; print(sys.executable)')"

if [ -z "${DEFANG_TEST_PULUMI_DIR:-}" ]; then
    step "pulumi CLI"
    DEFANG_TEST_PULUMI_DIR="$(scripts/install-pulumi.sh | tail -n 1)"
fi
export DEFANG_TEST_PULUMI_DIR

step "build"
cargo build -p pulumi-resource-defang
cargo test -p defang-tests --test e2e_faults --no-run
# The scenarios run a snapshot of the provider: a rebuild in the shared target directory while
# they run (a second `up` after a kill) must not swap the binary between two commands.
target="${CARGO_TARGET_DIR:-$PWD/target}"
snapshot="$(mktemp -d -t defang-faults-bin-XXXXXX)"
trap 'rm -rf "$snapshot"' EXIT
cp "$target/debug/pulumi-resource-defang" "$snapshot/"
export DEFANG_PROVIDER_BIN="${DEFANG_PROVIDER_BIN:-$snapshot/pulumi-resource-defang}"
echo "provider under test: $DEFANG_PROVIDER_BIN ($(sha256sum "$DEFANG_PROVIDER_BIN" | cut -c1-12))"

export DEFANG_FAULTS_PROFILE="${DEFANG_FAULTS_PROFILE:-full}"
report="${DEFANG_FAULTS_REPORT:-$(mktemp -t defang-faults-XXXXXX.jsonl)}"
: >"$report"
export DEFANG_FAULTS_REPORT="$report"

step "fault scenarios (profile $DEFANG_FAULTS_PROFILE)"
status=0
cargo test -p defang-tests --test e2e_faults -- --nocapture --test-threads=1 || status=$?

step "figures ($report)"
"$python" - "$report" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cols = ["calls", "throttle", "error_5xx", "drop", "retries_seen", "exhausted", "abandoned", "upstream_errors"]
heads = ["calls", "throttle", "5xx", "drop", "retries", "exhausted", "abandoned", "moto err"]
w = max([len(f"{r['scenario']} / {r['step']}") for r in rows] + [30])
print(f"{'scenario / step':<{w}} {'result':<9} {'secs':>6} " + " ".join(f"{h:>9}" for h in heads))
totals = {}
for r in rows:
    res = "ok" if r["ok"] else ("FAILED" if r["expected_ok"] else "failed*")
    f = r["figures"]
    print(f"{r['scenario'] + ' / ' + r['step']:<{w}} {res:<9} {r['seconds']:>6.1f} " + " ".join(f"{f.get(c, 0):>9}" for c in cols))
    t = totals.setdefault(r["scenario"], {c: 0 for c in cols} | {"failures": 0, "rates": r["rates"], "seed": r["seed"]})
    for c in cols:
        t[c] += f.get(c, 0)
    t["failures"] += int(r["expected_ok"] and not r["ok"])
print()
print(f"{'scenario (totals)':<{w}} {'failures':<9} {'':>6} " + " ".join(f"{h:>9}" for h in heads))
for s, t in totals.items():
    print(f"{s:<{w}} {t['failures']:<9} {'':>6} " + " ".join(f"{t[c]:>9}" for c in cols))
print()
for s, t in totals.items():
    print(f"{s}: seed {t['seed']}, rates {t['rates']}")
errs = [(r["scenario"], r["step"], e) for r in rows for e in r.get("moto_errors", [])]
if errs:
    print("\nerrors moto answered (forwarded calls; after a lost response these show what the retry ran into):")
    for s, st, e in errs:
        print(f"  {s} / {st}: {e}")
print("\nfailed* = meant to fail (its provider was killed, or it was interrupted); failures = steps that should have succeeded and did not (must be 0)")
PY
exit "$status"
