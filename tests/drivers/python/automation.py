"""The Automation API driver of the Python example (tests/src/languages/python.rs).

    python automation.py <preview|up|destroy> <project> <stack> <events.jsonl>

Run in the folder of a copy of the example (its Pulumi.yaml, its stack's config, __main__.py), it
runs one operation on the stack with the example's own program as an inline program: the
`pulumi` on PATH drives the engine, and the program runs in this process, on the same
pulumi_defang and pulumi packages that `pulumi up` would load for a user.

Every engine event is written to <events.jsonl> as one JSON line, exactly as the CLI sent it
(`apitype.EngineEvent`, the form `pulumi --event-log` writes). Nothing secret is printed: the
CLI's display and the events carry secrets blinded, and outputs are not printed.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import threading
from typing import IO, Any

from pulumi import automation as auto
from pulumi.automation import _stack
from pulumi.automation.events import EngineEvent

OPS = ("preview", "up", "destroy")


class RawEvents:
    """Writes the engine events in their wire form, as the Automation API receives them.

    `on_event` hands the program `EngineEvent` objects converted from the JSON, which keep neither
    the camelCase keys nor every field (`metadata.new.outputs`, `detailedDiff`, …) that the tests
    read. So the module that parses the stream (`pulumi.automation._stack`, for both the gRPC
    stream and the log file of older CLIs) is given a subclass of `EngineEvent` whose `from_json`
    records its input first. This is test-harness code; if a later pulumi parses elsewhere,
    `check` fails the run instead of leaving the events file silently empty.
    """

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.recorded = 0
        self.received = 0

    def install(self) -> None:
        recorder = self

        class RecordingEngineEvent(EngineEvent):
            @classmethod
            def from_json(cls, data: dict[str, Any]) -> EngineEvent:
                recorder.record(data)
                return super().from_json(data)

        _stack.EngineEvent = RecordingEngineEvent  # type: ignore[attr-defined]

    def record(self, data: dict[str, Any]) -> None:
        line = json.dumps(data, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
            self.recorded += 1

    def on_event(self, _event: EngineEvent) -> None:
        # Passing a callback is what makes the Automation API ask the CLI for the event stream.
        with self._lock:
            self.received += 1

    def check(self) -> None:
        if self.recorded < self.received:
            raise RuntimeError(
                f"received {self.received} engine events but recorded {self.recorded} in their "
                "JSON form: pulumi.automation no longer parses them in _stack.EngineEvent.from_json"
            )


def run(op: str, project: str, stack_name: str, events_path: str) -> None:
    work_dir = os.getcwd()

    def program() -> None:
        # As the Python language host runs a program: the folder's __main__.py as `__main__`,
        # with the folder first on sys.path.
        runpy.run_path(work_dir, run_name="__main__")

    # The `pulumi` on PATH; the harness also sets PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK.
    pulumi_command = auto.PulumiCommand(skip_version_check=True)
    # An inline program in the example's folder: Pulumi.yaml and Pulumi.<stack>.yaml (the
    # provider's path, the config the test set) are read from there.
    stack = auto.select_stack(
        stack_name=stack_name,
        project_name=project,
        program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=work_dir, pulumi_command=pulumi_command),
    )

    def on_output(line: str) -> None:
        # The CLI's progress display (secrets shown as [secret]), for the logs.
        print(line, flush=True)

    with open(events_path, "w", encoding="utf-8") as out:
        events = RawEvents(out)
        events.install()
        if op == "preview":
            stack.preview(on_event=events.on_event, on_output=on_output)
        elif op == "up":
            stack.up(on_event=events.on_event, on_output=on_output)
        else:
            stack.destroy(on_event=events.on_event, on_output=on_output)
        events.check()


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in OPS:
        print(
            "usage: automation.py <preview|up|destroy> <project> <stack> <events.jsonl>",
            file=sys.stderr,
        )
        return 2
    op, project, stack_name, events_path = argv
    try:
        run(op, project, stack_name, events_path)
    except Exception as err:  # noqa: BLE001 - any failure is the operation's, reported as such
        # A CommandError carries the CLI's stdout and stderr, which the engine keeps free of
        # secret values.
        print(f"automation.py: {op} failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
