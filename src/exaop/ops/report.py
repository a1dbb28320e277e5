"""Showing events and status to a person (rich on a terminal, plain lines otherwise) or as JSON lines."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from exaop.ops.events import Event
from exaop.ops.run import Summary
from exaop.ops.status import ClusterStatus
from exaop.ops.wait import fmt_duration

STYLES = {
    "phase_start": "bold cyan",
    "phase_end": "green",
    "action": "yellow",
    "warning": "bold yellow",
    "error": "bold red",
    "plan": "magenta",
    "done": "bold green",
}


class JsonReporter:
    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event) -> None:
        self.out.write(event.to_json() + "\n")
        self.out.flush()


class PlainReporter:
    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event) -> None:
        phase = f"{event.phase}: " if event.phase else ""
        kind = "" if event.kind in ("progress", "observation", "phase_end") else f"{event.kind}: "
        self.out.write(f"[{event.wall:7.1f}s] {phase}{kind}{event.message}\n")
        self.out.flush()


class RichReporter:
    """Live progress on a terminal: a status line that follows the current phase."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._status: Any = None

    def __call__(self, event: Event) -> None:
        c = self.console
        elapsed = f"[dim]{fmt_duration(event.wall):>6}[/dim]"
        if event.kind == "phase_start":
            self._stop()
            c.print(f"{elapsed} [bold cyan]▶ {event.phase}[/]: {event.message}")
            self._status = c.status(f"{event.phase}: {event.message}", spinner="dots")
            self._status.start()
        elif event.kind == "progress":
            if self._status is not None:
                self._status.update(f"{event.phase}: {event.message}  [dim]({fmt_duration(event.wall)})[/dim]")
        elif event.kind == "phase_end":
            self._stop()
            c.print(f"{elapsed} [green]✔ {event.phase}[/]: {event.message}")
        else:
            if event.kind in ("error", "done"):
                self._stop()
            style = STYLES.get(event.kind, "")
            label = event.kind if event.kind not in ("observation",) else ""
            text = f"{label}: {event.message}" if label else event.message
            c.print(f"{elapsed}   [{style}]{text}[/]" if style else f"{elapsed}   {text}", highlight=False)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def print_summary(summary: Summary, console: Console | None = None, clock_label: str = "clock") -> None:
    c = console or Console()
    t = Table(title=f"{summary.procedure}: {'done' if summary.ok else 'stopped'}", show_lines=False)
    t.add_column("phase")
    t.add_column(clock_label, justify="right")
    t.add_column("wall", justify="right")
    t.add_column("outcome")
    for p in summary.phases:
        t.add_row(p.name, fmt_duration(p.clock_seconds), f"{p.wall_seconds:.2f}s", p.outcome)
    c.print(t)
    c.print(f"XML-RPC calls: {summary.calls}")


def print_status(status: ClusterStatus, console: Console | None = None, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(status.as_dict(), sort_keys=True))
        return
    c = console or Console()
    c.print(f"[bold]{status.url}[/]  EXAoperation {status.dialect}, master on [bold]{status.master}[/]")
    nodes = Table(title="nodes")
    nodes.add_column("node")
    nodes.add_column("role")
    nodes.add_column("status")
    for n, s in status.license_servers.items():
        nodes.add_row(n, "license server", _styled(s))
    for n, s in status.nodes.items():
        nodes.add_row(n, "database node", _styled(s))
    c.print(nodes)
    services = Table(title="services")
    services.add_column("service")
    services.add_column("state")
    for name, state in status.services.items():
        services.add_row(name, _styled(state))
    c.print(services)
    dbs = Table(title="databases")
    for col in ("database", "state", "operation", "connectible", "connection string"):
        dbs.add_column(col)
    for d in status.databases:
        dbs.add_row(d.name, _styled(d.state), d.operation, _styled(d.connectible), d.connection_string)
    c.print(dbs)


def _styled(value: str) -> str:
    good = {"Running", "OK", "running", "Yes"}
    bad = {"Crashed", "not running", "No", "Powered off", "setup", "none"}
    if value in good:
        return f"[green]{value}[/]"
    if value in bad:
        return f"[red]{value}[/]"
    return f"[yellow]{value}[/]"
