#!/usr/bin/env bash
# Install the pinned moto (local AWS emulator, test setup only) into a venv.
#
#   scripts/moto/install.sh            -> venv at <repo>/.cache/moto-venv
#   MOTO_VENV=/some/dir install.sh     -> venv elsewhere
#   PYTHON=python3.11 install.sh       -> interpreter used to create the venv
#
# The venv is reused when its stamp file matches the hash of requirements.txt
# (and the interpreter version), so a second run takes well under a second.
# Progress goes to stderr; the only stdout line is the venv path (the last line).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
req="$here/requirements.txt"
venv="${MOTO_VENV:-${DEFANG_CACHE_DIR:-$root/.cache}/moto-venv}"
python="${PYTHON:-python3}"
stamp="$venv/.moto-requirements.sha256"

log() { echo "moto-install: $*" >&2; }

command -v "$python" >/dev/null 2>&1 || { log "no '$python' on PATH (set PYTHON=...)"; exit 1; }
mkdir -p "$(dirname "$venv")"

# Serialise concurrent installs (parallel test runners calling moto.sh start).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi

pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
want="$( { cat "$req"; echo "python=$pyver"; } | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log "venv up to date ($venv)"
  echo "$venv"
  exit 0
fi

start=$(date +%s)
if [[ -d "$venv" ]]; then
  log "requirements changed or venv incomplete: recreating $venv"
  rm -rf "$venv"
fi
log "creating venv with $python ($pyver) at $venv"
"$python" -m venv "$venv"
log "installing pinned packages from $req"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
"$venv/bin/python" - <<'EOF' >&2
import importlib.metadata as m
print("moto-install: moto", m.version("moto"), "boto3", m.version("boto3"))
EOF
echo "$want" >"$stamp"
log "done in $(( $(date +%s) - start )) s"
echo "$venv"
