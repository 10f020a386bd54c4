#!/usr/bin/env bash
# Local AWS emulator (moto server) for tests.
#
#   eval "$(scripts/moto/moto.sh start [--port N] [--state-dir DIR])"
#   scripts/moto/moto.sh env    [--state-dir DIR]   # re-print the exports of the running server
#   scripts/moto/moto.sh status [--state-dir DIR]   # exit 0 if running
#   scripts/moto/moto.sh stop   [--state-dir DIR]   # safe when nothing runs
#
# start: installs the pinned venv if needed (install.sh), launches server.py in the
# background on 127.0.0.1 (port 0 / default = a free port), waits until it answers
# HTTP (30 s timeout; prints the log tail on failure) and prints shell `export` lines.
# If a server from the same state dir is already running, start reuses it.
# State dir (default <repo>/.cache/moto-run): moto.pid, moto.port, moto.log.
# Environment read by start: MOTO_ECS_SERVICE_RUNNING (passed to the server),
# PYTHON / MOTO_VENV (see install.sh).
# Everything except the export lines goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

usage() { echo "usage: $0 start|stop|status|env [--port N] [--state-dir DIR]" >&2; exit 2; }
log() { echo "moto: $*" >&2; }

[[ $# -ge 1 ]] || usage
cmd="$1"; shift
port=""
state="${DEFANG_CACHE_DIR:-$root/.cache}/moto-run"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --state-dir) state="${2:?--state-dir needs a value}"; shift 2 ;;
    --state-dir=*) state="${1#*=}"; shift ;;
    *) usage ;;
  esac
done
[[ -z "$port" || "$port" =~ ^[0-9]+$ ]] || { log "bad --port '$port'"; exit 2; }
mkdir -p "$state"
state="$(cd "$state" && pwd)"
pidf="$state/moto.pid"; portf="$state/moto.port"; logf="$state/moto.log"

# pid of our running server, or nothing. Checks the pid still is server.py.
running_pid() {
  [[ -f "$pidf" ]] || return 1
  local pid; pid="$(cat "$pidf" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "scripts/moto/server.py" || return 1
  echo "$pid"
}

http_ok() { # port
  local url="http://127.0.0.1:$1/moto-api/config"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null
  fi
}

print_env() { # port
  cat <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
EOF
}

do_stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped pid $pid"
  else
    log "not running"
  fi
  rm -f "$pidf" "$portf"
}

case "$cmd" in
  start)
    if pid="$(running_pid)" && [[ -f "$portf" ]]; then
      cur="$(cat "$portf")"
      if [[ -n "$port" && "$port" != 0 && "$port" != "$cur" ]]; then
        log "already running on port $cur (pid $pid), not $port; run '$0 stop' first"
        exit 1
      fi
      http_ok "$cur" || { log "running (pid $pid) but not answering on port $cur; see $logf"; exit 1; }
      log "already running: pid $pid port $cur"
      print_env "$cur"
      exit 0
    fi
    rm -f "$pidf" "$portf"
    venv="$("$here/install.sh" | tail -n 1)"
    t0=$(date +%s%N)
    echo "=== $(date -u +%FT%TZ) start port=${port:-0} MOTO_ECS_SERVICE_RUNNING=${MOTO_ECS_SERVICE_RUNNING:-<unset>}" >>"$logf"
    # Detached: stdin/stdout/stderr away from the caller, so `eval "$(... start)"` returns.
    "$venv/bin/python" -u "$here/server.py" --port "${port:-0}" --port-file "$portf" \
      </dev/null >>"$logf" 2>&1 &
    pid=$!
    echo "$pid" >"$pidf"
    deadline=$(( $(date +%s) + 30 ))
    while :; do
      if ! kill -0 "$pid" 2>/dev/null; then
        log "server exited during startup; last lines of $logf:"; tail -n 30 "$logf" >&2
        rm -f "$pidf" "$portf"; exit 1
      fi
      if [[ -s "$portf" ]] && http_ok "$(cat "$portf")"; then break; fi
      if (( $(date +%s) >= deadline )); then
        log "no HTTP answer within 30 s; last lines of $logf:"; tail -n 30 "$logf" >&2
        do_stop; exit 1
      fi
      sleep 0.1
    done
    cur="$(cat "$portf")"
    log "started pid $pid on 127.0.0.1:$cur in $(( ($(date +%s%N) - t0) / 1000000 )) ms (log $logf)"
    print_env "$cur"
    ;;
  env)
    if pid="$(running_pid)" && [[ -f "$portf" ]]; then print_env "$(cat "$portf")"
    else log "not running (state dir $state)"; exit 1; fi
    ;;
  status)
    if pid="$(running_pid)" && [[ -f "$portf" ]]; then
      cur="$(cat "$portf")"
      if http_ok "$cur"; then echo "running pid=$pid port=$cur endpoint=http://127.0.0.1:$cur"
      else echo "unhealthy pid=$pid port=$cur (not answering HTTP; see $logf)"; exit 1; fi
    else echo "not running"; exit 1; fi
    ;;
  stop) do_stop ;;
  *) usage ;;
esac
