#!/usr/bin/env bash
# Benchmark of build-context packaging (not a test: figures depend on the machine).
#
#   scripts/bench-context.sh [size in MB, default 200]
#
# BENCH_WORK=<dir> keeps the generated context there (and reuses it on the next run).
#
# Makes a context of mixed files (source-like text, random binaries like images, CSV-like data,
# one large file, plus an ignored node_modules), then runs the release build of the
# `package_context` example on it: context_digest and package_context throughput, archive size,
# peak RSS. Files are fresh in the page cache, so this measures CPU, not the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-200}"
WORK="${BENCH_WORK:-$(mktemp -d)}"
[ -n "${BENCH_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT

[ -d "$WORK/ctx" ] || python3 - "$WORK/ctx" "$SIZE_MB" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2]) * 1_000_000
rng = random.Random(42)
words = ["fn", "let", "mut", "self", "return", "match", "impl", "struct", "pub", "use",
         "value", "count", "items", "config", "error", "result", "name", "path", "build"]
lines = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 12))) + ";\n"
         for _ in range(5000)]

def put(rel, data, mode=0o644):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)

def text(size):
    out, n = [], 0
    while n < size:
        line = rng.choice(lines)
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]

def csv(size):
    out, n = [], 0
    while n < size:
        row = "%d,%s,%.3f,%d\n" % (rng.randint(0, 10**6), rng.choice(words),
                                    rng.random() * 1000, rng.randint(0, 99))
        out.append(row)
        n += len(row)
    return "".join(out).encode()[:size]

put("Dockerfile", b"FROM node:22-slim\nCOPY . /app\nRUN /app/bin/build.sh\n")
put(".dockerignore", b"node_modules\n**/*.log\n!keep.log\n")
put("bin/build.sh", b"#!/bin/sh\nexit 0\n", 0o755)
os.makedirs(os.path.join(root, "empty/dir"), exist_ok=True)
os.symlink("bin/build.sh", os.path.join(root, "build"))
for i in range(2000):  # ignored: never read
    put("node_modules/pkg%d/index.js" % (i % 50), text(2000))

budget = {"src": total * 25 // 100, "assets": total * 40 // 100,
          "data": total * 30 // 100, "big": total * 5 // 100}
n = 0
while budget["src"] > 0:
    size = min(rng.randint(1000, 32000), budget["src"])
    put("src/m%02d/f%05d.rs" % (n % 60, n), text(size))
    budget["src"] -= size
    n += 1
n = 0
while budget["assets"] > 0:
    size = min(rng.randint(100_000, 1_000_000), budget["assets"])
    put("assets/img%04d.bin" % n, rng.randbytes(size))
    budget["assets"] -= size
    n += 1
n = 0
while budget["data"] > 0:
    size = min(rng.randint(1_000_000, 5_000_000), budget["data"])
    put("data/table%03d.csv" % n, csv(size))
    budget["data"] -= size
    n += 1
put("big/blob.bin", rng.randbytes(budget["big"]))
put("logs/run.log", b"ignored\n")
PY

echo "context: $(du -sh --apparent-size "$WORK/ctx" | cut -f1) in $(find "$WORK/ctx" -type f | wc -l) files (node_modules ignored)"
cargo build --release -p defang-resources --example package_context
BIN="${CARGO_TARGET_DIR:-target}/release/examples/package_context"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v "$BIN" "$WORK/ctx" 2>"$WORK/time.txt"
  grep -E "Maximum resident set size|Elapsed \(wall" "$WORK/time.txt" | sed 's/^\s*/time -v: /'
else
  "$BIN" "$WORK/ctx"
fi
