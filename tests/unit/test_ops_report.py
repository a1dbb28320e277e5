"""ops/report.py: what a person sees (a terminal's live line, plain lines) and what a
machine reads (JSON lines, one schema per kind)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from exaop.ops import report
from exaop.ops.events import SCHEMA, Event
from exaop.ops.report import JsonReporter, PlainReporter, RichReporter


def event(kind: str, phase: str = "nodes", message: str = "m", at: float = 0.0, **data: Any) -> Event:
    return Event(kind, phase, message, data, wall=at, procedure="start")


def test_an_event_must_match_its_kinds_schema() -> None:
    with pytest.raises(ValueError, match="schema"):
        event("action", method="startupNode")
    with pytest.raises(ValueError, match="unknown event kind"):
        event("news")
    e = event("warning", targets=["n0012"])
    doc = json.loads(e.to_json())
    assert set(doc) == {"kind", "time", "procedure", "phase", "message", "data", "wall", "clock"}
    assert doc["time"].endswith("Z") and set(doc["data"]) == set(SCHEMA["warning"])


def test_the_terminal_line_counts_the_phases_time_not_the_time_since_the_last_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(report.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    r = RichReporter(console)
    r(event("phase_start", message="database nodes powered on and online", timeout=1200))
    r(event("progress", message="nodes online 0/4; waiting for n0011 Booting for 10s", done=0, total=4,
            pending=[], news=True))  # fmt: skip
    line = r._line
    assert line is not None
    now[0] += 20 * 60 + 3  # a whole boot without news
    text = console.render_str("").plain + line.__rich__().plain
    assert text == "nodes: nodes online 0/4; waiting for n0011 Booting for 10s  (20m03s in this phase)"
    r(event("phase_end", message="4 node(s) online", ok=True, wall=1203.0, clock=1203.0))
    r(event("done", phase="", message="start: plan ready; nothing was changed", exit_code=0, ok=True, dry_run=True,
            calls=3))  # fmt: skip
    shown = out.getvalue()
    assert "✔ nodes: 4 node(s) online (20m03s)" in shown
    assert "plan: start: plan ready" in shown and "done" not in shown


def test_plain_lines_name_a_plan_a_plan_and_a_failed_phase_failed() -> None:
    out = io.StringIO()
    r = PlainReporter(out)
    r(event("phase_end", message="4 node(s) online", wall=3.0, ok=True, clock=250.0))
    r(event("phase_end", message="nodes: timed out", wall=9.0, ok=False, clock=1200.0))
    r(event("done", phase="", message="start stopped (timeout); exit code 5", at=9.0, exit_code=5, ok=False,
            dry_run=False, calls=9))  # fmt: skip
    r(event("done", phase="", message="start: plan ready; nothing was changed", exit_code=0, ok=True, dry_run=True,
            calls=3))  # fmt: skip
    assert out.getvalue().splitlines() == [
        "[    0.0s] nodes: 4 node(s) online (took 3s)",
        "[    0.0s] nodes: failed after 9s",
        "[    9.0s] stopped: start stopped (timeout); exit code 5",
        "[    0.0s] plan: start: plan ready; nothing was changed",
    ]


class Gone(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError


def test_a_reader_that_left_stops_the_output_not_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    gone: list[bool] = []
    monkeypatch.setattr(report, "stdout_gone", lambda: gone.append(True))
    for reporter in (JsonReporter(Gone()), PlainReporter(Gone())):
        reporter(event("warning", targets=[]))
        reporter(event("warning", targets=[]))  # quietly nothing
        assert reporter.closed
    assert gone == [True, True]
