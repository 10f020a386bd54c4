#!/usr/bin/env python3
"""Resource usage of a provider plugin process, for the operations benchmark (tests/src/bin/ops_bench.rs).

Put this script (executable) where the engine looks for the provider, e.g. a workspace's
bin/pulumi-resource-defang. It fork+execs the real provider with the same arguments and stdio,
waits for it with wait4(2), appends one JSON line per provider process to a file, and exits with
the provider's status (or dies of the same signal):

    {"pid", "user_s", "sys_s", "maxrss_kb", "wall_s", "argv", "status", "signals", "partial": false}

`status` is the exit code, or minus the signal that ended the provider; `signals` the signals the
wrapper received (and forwarded). It also appends {"pid", "argv", "t"} to <log>.started when it
starts the provider, so that a run can check that every provider process produced its line.

Environment:
  DEFANG_RUSAGE_EXEC     the real provider binary (required)
  DEFANG_RUSAGE_LOG      the file to append the JSON lines to (without it: plain exec, no figures)
  DEFANG_RUSAGE_PARTIAL  seconds after the first SIGINT/SIGTERM after which, if the provider still
                         runs, a line with its figures so far (from /proc) and "partial": true is
                         written (default 4; pulumi 3.274.1 SIGKILLs the plugin's process group
                         5 s after its SIGINT). The final line follows if the provider exits.

Signals: pulumi starts each plugin in its own process group (Setpgid) and stops it with SIGINT to
that group, so the provider gets SIGINT directly (the child stays in the wrapper's group). The
wrapper catches SIGINT, SIGTERM, SIGHUP and SIGQUIT and forwards them to the provider, and never
dies of them itself before the provider has been reaped. The provider runs with the default
disposition of every signal and an unblocked signal mask (Python ignores SIGPIPE and SIGXFSZ; that
would otherwise be inherited through exec).

Stdlib only; a `#!` of the moto venv's python (ops_bench writes it) or /usr/bin/env python3.
"""

import json
import os
import signal
import sys
import threading
import time

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
RESET_IN_CHILD = FORWARDED + (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD)


def append_line(path, record):
    data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def proc_figures(pid):
    """CPU and peak RSS of a live process, from /proc (for a partial line)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    user_s, sys_s = int(fields[11]) / ticks, int(fields[12]) / ticks
    maxrss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                maxrss_kb = int(line.split()[1])
    return user_s, sys_s, maxrss_kb


def main():
    real = os.environ.get("DEFANG_RUSAGE_EXEC")
    log = os.environ.get("DEFANG_RUSAGE_LOG")
    if not real:
        sys.stderr.write("provider_rusage.py: DEFANG_RUSAGE_EXEC (the real provider) is not set\n")
        return 127
    argv = [real] + sys.argv[1:]
    if not log:
        os.execv(real, argv)
    partial_after = float(os.environ.get("DEFANG_RUSAGE_PARTIAL") or 4.0)

    # Block the forwarded signals over the fork: the child resets them before it unblocks, and
    # the parent handles the ones that arrived meanwhile once it knows the child's pid.
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for s in RESET_IN_CHILD:
                signal.signal(s, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.execv(real, argv)
        except BaseException as e:  # noqa: BLE001 - report anything, then exit like a shell
            try:
                os.write(2, f"provider_rusage.py: cannot exec {real}: {e}\n".encode())
            finally:
                os._exit(127)

    state = {"signals": [], "done": False, "timer": None}
    lock = threading.Lock()

    def write_partial():
        with lock:
            if state["done"]:
                return
            try:
                user_s, sys_s, maxrss_kb = proc_figures(pid)
            except (OSError, ValueError, IndexError):
                return
            append_line(log, {
                "pid": pid, "user_s": user_s, "sys_s": sys_s, "maxrss_kb": maxrss_kb,
                "wall_s": round(time.monotonic() - started, 3), "argv": argv, "status": None,
                "signals": list(state["signals"]), "partial": True,
            })

    def forward(signum, _frame):
        state["signals"].append(signum)
        try:
            os.kill(pid, signum)  # not yet reaped, so the pid is still the child's
        except ProcessLookupError:
            pass
        if state["timer"] is None and signum in (signal.SIGINT, signal.SIGTERM):
            t = threading.Timer(partial_after, write_partial)
            t.daemon = True
            state["timer"] = t
            t.start()

    for s in FORWARDED:
        signal.signal(s, forward)
    try:
        append_line(log + ".started", {"pid": pid, "argv": argv, "t": time.time()})
    except OSError as e:
        sys.stderr.write(f"provider_rusage.py: {log}.started: {e}\n")
    # The wrapper itself reads and writes nothing on stdin/stdout: only the provider holds them.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)

    while True:
        try:
            _, status, ru = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    wall_s = time.monotonic() - started
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        code = -os.WTERMSIG(status)
    else:
        code = None
    with lock:
        state["done"] = True
        try:
            append_line(log, {
                "pid": pid, "user_s": ru.ru_utime, "sys_s": ru.ru_stime, "maxrss_kb": ru.ru_maxrss,
                "wall_s": round(wall_s, 3), "argv": argv, "status": code,
                "signals": list(state["signals"]), "partial": False,
            })
        except OSError as e:
            sys.stderr.write(f"provider_rusage.py: {log}: {e}\n")
    if code is not None and code < 0:
        # Die of the same signal, as the provider did.
        sig = -code
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        return 128 + sig
    return code if code is not None else 1


if __name__ == "__main__":
    sys.exit(main())
