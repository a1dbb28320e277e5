"""Showing events and status to a person (rich on a terminal, plain lines otherwise) or as JSON lines."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO, Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from exaop.ops.events import Event
from exaop.ops.run import Summary
from exaop.ops.status import ClusterStatus
from exaop.ops.wait import fmt_duration

STYLES = {
    "phase_start": "bold cyan",
    "phase_end": "green",
    "action": "yellow",
    "warning": "bold yellow",
    "outage": "bold yellow",
    "error": "bold red",
    "plan": "magenta",
    "done": "bold green",
}


def stdout_gone() -> None:
    """stdout's reader went away (``| head``): what we still write goes nowhere, quietly,
    and so does the interpreter's last flush."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich would exit 1; a reader that left is no error: go on, writing nowhere."""
        self.quiet = True
        stdout_gone()


def out_console(**kwargs: Any) -> Console:
    """stdout for people; when its reader leaves (``| head``) the rest goes nowhere, quietly."""
    return _Console(**kwargs)


def err_console() -> Console:
    """stderr for messages: colours on a terminal; lines never wrapped (a log file, a pipe)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def done_label(event: Event) -> str:
    """How the end of a run is named: a plan is never 'done'."""
    if event.data.get("dry_run"):
        return "plan"
    return "done" if event.data.get("ok") else "stopped"


class JsonReporter:
    """One JSON object per event (the README's table of events says what each holds)."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.closed = False

    def __call__(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self.out.write(event.to_json() + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.closed = True  # the run goes on: a reader that left does not stop a cluster's start
            stdout_gone()


class PlainReporter:
    """A line per event, for logs and pipes: time since the start, phase, what happened."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.closed = False

    def __call__(self, event: Event) -> None:
        if self.closed:
            return
        phase = f"{event.phase}: " if event.phase else ""
        text = event.message
        if event.kind in ("progress", "observation", "connection", "outage"):
            kind = ""
        elif event.kind == "done":
            kind = f"{done_label(event)}: "
        elif event.kind == "phase_end":  # a failure's reason follows as an error
            kind, took = "", fmt_duration(event.data["wall"])
            text = f"{text} (took {took})" if event.data["ok"] else f"failed after {took}"
        else:
            kind = f"{event.kind}: "
        try:
            self.out.write(f"[{event.wall:7.1f}s] {phase}{kind}{text}\n")
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            stdout_gone()


class _PhaseLine:
    """The live line under a phase: what it waits for, with the phase's time so far (ticking)."""

    def __init__(self, phase: str, text: str) -> None:
        self.phase, self.text = phase, text
        self.t0 = time.monotonic()

    def __rich__(self) -> Text:
        line = Text(f"{self.phase}: ", style="bold")
        line.append(self.text)
        line.append(f"  ({fmt_duration(time.monotonic() - self.t0)} in this phase)", style="dim")
        return line


class RichReporter:
    """Live progress on a terminal: a status line that follows the current phase, its time
    ticking, and each pending object's state with how long it has been in it."""

    heartbeat = 2.0  # real seconds: the line's per-object times are at most this old

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or out_console()
        self._status: Any = None
        self._line: _PhaseLine | None = None

    def __call__(self, event: Event) -> None:
        c = self.console
        elapsed = f"[dim]{fmt_duration(event.wall):>6}[/dim]"
        if event.kind == "phase_start":
            self._stop()
            c.print(f"{elapsed} [bold cyan]▶ {event.phase}[/]: {event.message}")
            self._line = _PhaseLine(event.phase, event.message)
            self._status = c.status(self._line, spinner="dots")
            self._status.start()
        elif event.kind == "progress":
            if self._line is not None:
                self._line.text = event.message
        elif event.kind == "phase_end":
            self._stop()
            if event.data["ok"]:
                took = fmt_duration(event.data["wall"])
                c.print(f"{elapsed} [green]✔ {event.phase}[/]: {event.message} [dim]({took})[/dim]", highlight=False)
            else:
                c.print(f"{elapsed} [bold red]✘ {event.phase}[/]", highlight=False)
        else:
            if event.kind in ("error", "done"):
                self._stop()
            style = STYLES.get(event.kind, "")
            label = {"observation": "", "connection": "", "outage": "", "done": done_label(event)}.get(
                event.kind, event.kind
            )
            text = f"{label}: {event.message}" if label else event.message
            c.print(f"{elapsed}   [{style}]{text}[/]" if style else f"{elapsed}   {text}", highlight=False)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
            self._line = None


def print_summary(summary: Summary, console: Console | None = None, clock_label: str = "clock") -> None:
    c = console or out_console()
    word = "plan" if summary.dry_run else "done" if summary.ok else "stopped"
    t = Table(title=f"{summary.procedure}: {word}", show_lines=False)
    t.add_column("phase")
    t.add_column(clock_label, justify="right")
    t.add_column("wall", justify="right")
    t.add_column("outcome")
    for p in summary.phases:
        t.add_row(p.name, fmt_duration(p.clock_seconds), f"{p.wall_seconds:.2f}s", p.outcome)
    c.print(t)
    c.print(f"XML-RPC calls: {summary.calls}")


INTERFACES = {"exaoperation": "EXAoperation", "confd": "ConfD"}


def status_json(status: ClusterStatus) -> str:
    return json.dumps(status.as_dict(), sort_keys=True)


def status_view(status: ClusterStatus) -> Group:
    """The status as tables (for print and for --watch's live view)."""
    head = Text.from_markup(
        f"[bold]{status.url}[/]  {INTERFACES.get(status.api, status.api)} {status.dialect}, "
        f"master on [bold]{status.master}[/]  "
        + {"healthy": "[bold green]healthy[/]", "degraded": "[bold yellow]degraded[/]", "down": "[bold red]down[/]"}[
            status.health
        ]
    )
    nodes = Table(title="nodes")
    nodes.add_column("node")
    nodes.add_column("role")
    nodes.add_column("status")
    for n, s in status.license_servers.items():
        nodes.add_row(n, "license server", _styled(s))
    for n, s in status.nodes.items():
        nodes.add_row(n, "database node", _styled(s))
    part = "volume" if status.api == "confd" else "service"
    services = Table(title=part + "s")
    services.add_column(part)
    services.add_column("state")
    for name, state in status.services.items():
        services.add_row(name, _styled(state))
    dbs = Table(title="databases")
    for col in ("database", "state", "operation", "connectible", "connection string"):
        dbs.add_column(col)
    for d in status.databases:
        dbs.add_row(d.name, _styled(d.state), d.operation or "-", _styled("yes" if d.connectible else "no"),
                    d.connection_string or "-")  # fmt: skip
    parts: list[Any] = [head, nodes, services, dbs]
    if status.problems:
        parts.append(Text("problems: " + "; ".join(status.problems), style="yellow"))
    return Group(*parts)


def print_status(status: ClusterStatus, console: Console | None = None, as_json: bool = False) -> None:
    if as_json:
        sys.stdout.write(status_json(status) + "\n")
        sys.stdout.flush()
        return
    (console or out_console()).print(status_view(status))


def _styled(value: str) -> str:
    good = {"Running", "OK", "ONLINE", "running", "yes"}
    bad = {"Crashed", "not running", "no", "Powered off", "offline", "setup", "none"}
    if value in good:
        return f"[green]{value}[/]"
    if value in bad:
        return f"[red]{value}[/]"
    return f"[yellow]{value}[/]"
