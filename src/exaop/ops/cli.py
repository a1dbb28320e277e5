"""`exaop cluster start|stop|status|logs` and `exaop demo`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from exaop.client import ClientError
from exaop.client.detect import looks_like_confd
from exaop.ops.clock import RealClock, ScaledClock, SimulationClock, ToolClock
from exaop.ops.config import Options, PluginStep, build_options, load_file, parse_duration, resolve_password
from exaop.ops.errors import (
    EXIT_CODES,
    ConfigError,
    NoAnswer,
    OpsError,
    SignalReceived,
    as_ops_error,
    interrupted,
)
from exaop.ops.events import Event, EventSink
from exaop.ops.logs import PRIORITIES, read_logs
from exaop.ops.report import (
    JsonReporter,
    PlainReporter,
    RichReporter,
    err_console,
    out_console,
    print_status,
    print_summary,
    status_json,
    status_view,
    stdout_gone,
)
from exaop.ops.run import client_for, connect
from exaop.ops.start import start_cluster
from exaop.ops.status import ClusterStatus, cluster_status
from exaop.ops.stop import stop_cluster

EXIT_HELP = "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())

COMMANDS = {
    "start": ("cold-start the cluster",
              "Cold-start the whole cluster: wait for EXAoperation, power on the database nodes and wait "
              "until they are online, start EXAStorage, start the databases and wait until they accept "
              "connections, then run the configured plugin steps. Each phase looks first and skips what is "
              "done, so running it again after a failure continues where it stopped."),
    "stop": ("shut the cluster down",
             "Shut the whole cluster down: check that the EXAoperation master runs on the license server and "
             "that no database is busy, stop the databases, stop EXAStorage, shut the database nodes down, "
             "then the license server(s) last, which ends EXAoperation."),
    "status": ("show nodes, services, databases and the master; exit code: healthy, degraded or down",
               "Show the nodes, services, databases and the EXAoperation master, and how healthy that is: "
               "exit 0 healthy, 8 degraded, 9 down (see the exit codes below). --watch keeps the view up to "
               "date until Ctrl-C."),
    "logs": ("print a log service's messages (--follow: and what comes after)",
             "Print the messages of a log service, oldest first, read through a tag of our own "
             "(logEntriesTagged, to the end however many pages); --follow keeps printing new ones until "
             "Ctrl-C."),
}  # fmt: skip


def add_cluster_parser(sub: Any) -> None:
    p = sub.add_parser(
        "cluster",
        help="start, stop, show or read the log of a whole cluster through EXAoperation",
        description=textwrap.fill(
            "Start, stop, show or read the log of a whole cluster through EXAoperation's XML-RPC interface. "
            "Settings: flags over environment (EXAOP_URL, EXAOP_USER, EXAOP_PASSWORD) over the config file.",
            88,
        ),
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    csub = p.add_subparsers(dest="action", required=True, metavar="{start,stop,status,logs}")
    for name, (text, description) in COMMANDS.items():
        a = csub.add_parser(name, help=text, description=textwrap.fill(description, 88), epilog=EXIT_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        a.add_argument("--url", help="EXAoperation URL, e.g. https://license-server/cluster1, or ConfD's, e.g. "
                       "https://node:20003 (env EXAOP_URL)")  # fmt: skip
        a.add_argument("--api", choices=("exaoperation", "confd"),
                       help="the interface at the URL (default: EXAoperation for a URL with a path like "
                       "/cluster1, else asked: ConfD lists job_exec)")  # fmt: skip
        a.add_argument("--user", help="EXAoperation user (env EXAOP_USER); password from EXAOP_PASSWORD, "
                       "~/.netrc or a prompt")  # fmt: skip
        a.add_argument("--config", metavar="FILE",
                       help="TOML config (default ./exaop.toml if present) or a startstop.cfg")  # fmt: skip
        a.add_argument("--ca-file", metavar="FILE", help="CA certificate(s) to verify EXAoperation's TLS certificate")
        a.add_argument("--insecure", action="store_true", default=None, help="do not verify the TLS certificate")
        a.add_argument("--json", action="store_true",
                       help={"status": "the status as one JSON document (--watch: one per line)",
                             "logs": "one JSON object per message"}.get(name, "one JSON object per event"))  # fmt: skip
        timeout_help = {
            "status": "how long to retry while EXAoperation does not answer (default 30s)",
            "logs": "how long each look retries while EXAoperation does not answer (default 30s)",
        }.get(name, "deadline of every wait, e.g. 30m (default: per phase, 10 to 30 minutes)")
        a.add_argument("--timeout", metavar="DURATION", help=timeout_help)
        if name != "logs":
            a.add_argument("--license-server", action="append", dest="license_servers", metavar="NODE",
                           help="a license server node (repeat for more; default n0010)")  # fmt: skip
            a.add_argument("--parallel", type=int, metavar="N", help="how many calls at once (default 32)")
        if name in ("start", "stop"):
            a.add_argument("--dry-run", action="store_true", default=None,
                           help="print the plan from what is observed; act on nothing")  # fmt: skip
            a.add_argument("--ignore-nodes", metavar="NODES",
                           help="comma-separated database nodes to leave out (e.g. a node that hangs)")  # fmt: skip
            a.add_argument("--heartbeat", metavar="DURATION",
                           help="a wait reports at least this often when nothing changes (default 30s)")  # fmt: skip
            a.add_argument("--clock-speed", type=float, metavar="N",
                           help="EXAoperation is `exaop serve --speed N`: count waits in its time")  # fmt: skip
            a.add_argument("--simulated-clock", nargs="?", const="", metavar="URL",
                           help="the cluster is `exaop serve --speed 0`: waiting moves its clock (needs the "
                           "Master role); with ConfD, URL is the same server's EXAoperation (its simulation "
                           "controls)")  # fmt: skip
        if name == "stop":
            a.add_argument("--force", action="store_true", default=None,
                           help="stop busy databases and power off booting nodes anyway")  # fmt: skip
            a.add_argument("--move-master", action="store_true", default=None,
                           help="move the EXAoperation master to the license server first")  # fmt: skip
        if name == "status":
            a.add_argument("--watch", nargs="?", const="5s", metavar="INTERVAL",
                           help="show the status again every INTERVAL (default 5s) until Ctrl-C")  # fmt: skip
        if name == "logs":
            a.add_argument("--service", metavar="NAME", help="the log service (default: the first, logservice1)")
            a.add_argument("--follow", action="store_true", help="keep printing new messages until Ctrl-C")
            a.add_argument("--priority", metavar="P",
                           help=f"only P and more severe ({', '.join(PRIORITIES)}; a prefix will do)")  # fmt: skip
            a.add_argument("--since", metavar="T",
                           help="only messages from T on: a UTC time (2025-01-31 12:00) or a duration before "
                           "the server's clock (10m)")  # fmt: skip
        a.set_defaults(func=run_cluster_command)


def _options(args: argparse.Namespace) -> Options:
    flags: dict[str, Any] = {
        "url": args.url,
        "api": args.api,
        "user": args.user,
        "ca_file": args.ca_file,
        "insecure": args.insecure,
        "timeout": args.timeout,
        "license_servers": getattr(args, "license_servers", None),
        "parallel": getattr(args, "parallel", None),
    }
    if args.action in ("start", "stop"):
        flags.update(dry_run=args.dry_run, heartbeat=args.heartbeat)
        if args.ignore_nodes:
            flags["ignore_nodes"] = [n for n in args.ignore_nodes.split(",") if n.strip()]
    if args.action == "stop":
        flags.update(force=args.force, move_master=args.move_master)
    opts = build_options(load_file(args.config), flags)
    resolve_password(opts)
    return opts


def make_clock(args: argparse.Namespace, opts: Options) -> ToolClock:
    simulated = getattr(args, "simulated_clock", None)
    if simulated is not None:
        if not simulated and (opts.api == "confd" or (opts.api is None and looks_like_confd(opts.url))):
            raise ConfigError("--simulated-clock: with ConfD, name the same server's EXAoperation URL (its "
                              "simulation controls), e.g. --simulated-clock https://host:8443/cluster1")  # fmt: skip
        return SimulationClock(client_for(replace(opts, url=simulated) if simulated else opts))
    if getattr(args, "clock_speed", None):
        return ScaledClock(args.clock_speed)
    return RealClock()


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM end what runs in the main thread with :class:`SignalReceived`
    (once: a second signal while it winds down is ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        if not fired:
            fired.append(signum)
            raise SignalReceived(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class _Stream:
    """The event sink, remembering whether the run's stream has ended (its ``done``)."""

    def __init__(self, sink: EventSink, procedure: str) -> None:
        self.sink, self.procedure = sink, procedure
        self.ended = False
        self.heartbeat = getattr(sink, "heartbeat", None) or float("inf")

    def __call__(self, event: Event) -> None:
        self.ended = self.ended or event.kind == "done"
        self.sink(event)

    def end(self, error: OpsError) -> None:
        """A run that ended before it began (a usage error, a signal): its stream ends all the same."""
        if self.ended:
            return
        self(Event("error", "", str(error), {"exit_code": error.exit_code, "reason": error.label},
                   procedure=self.procedure))  # fmt: skip
        self(Event("done", "", f"{self.procedure} stopped ({error.label}); exit code {error.exit_code}",
                   {"exit_code": error.exit_code, "ok": False, "dry_run": False, "calls": 0},
                   procedure=self.procedure))  # fmt: skip


def run_cluster_command(args: argparse.Namespace) -> int:
    err = err_console()
    stream: _Stream | None = None
    if args.action in ("start", "stop"):
        sink: EventSink
        if args.json:
            sink = JsonReporter()
        elif sys.stdout.isatty():
            sink = RichReporter()
        else:
            sink = PlainReporter()
        stream = _Stream(sink, args.action)
    with stop_signals():
        try:
            code = _dispatch(args, err, stream)
        except (OpsError, ClientError, ValueError, KeyboardInterrupt) as e:
            failure = _failure(e)
            if stream is not None:
                stream.end(failure)
            err.print(f"[bold red]exaop cluster {args.action}: {failure}[/]")
            code = failure.exit_code
    _leave(code)
    return code


def _failure(e: BaseException) -> OpsError:
    if isinstance(e, OpsError):
        return e
    if isinstance(e, ClientError):
        return as_ops_error(e)
    if isinstance(e, KeyboardInterrupt):
        return interrupted(e)
    return ConfigError(str(e))


def _leave(code: int) -> None:
    """Calls still out in worker threads (a signal ended the run, a call hangs in connect)
    must not hold the process: a second for them to end, then exit without them."""
    until = time.monotonic() + 1.0
    for t in [t for t in threading.enumerate() if t.name.startswith("exaop-op")]:
        t.join(max(0.0, until - time.monotonic()))
    if any(t.name.startswith("exaop-op") and t.is_alive() for t in threading.enumerate()):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


def _dispatch(args: argparse.Namespace, err: Console, stream: _Stream | None) -> int:
    opts = _options(args)
    if args.action == "status":
        return _status(args, opts, err)
    if args.action == "logs":
        return _logs(args, opts, err)
    assert stream is not None
    procedure = start_cluster if args.action == "start" else stop_cluster
    summary = procedure(connect(opts), opts, make_clock(args, opts), stream)
    if not args.json:
        try:
            print_summary(summary, out_console() if sys.stdout.isatty() else out_console(no_color=True, width=100))
        except BrokenPipeError:
            stdout_gone()
    if not summary.ok:
        err.print(f"[bold red]exaop cluster {args.action}: {summary.error}[/]")
    return summary.exit_code


def _outages(err: Console) -> EventSink:
    return lambda e: err.print(f"[yellow]{e.message}[/]") if e.kind == "outage" else None


def _status(args: argparse.Namespace, opts: Options, err: Console) -> int:
    client = connect(opts, timeout=min(opts.call_timeout, opts.timeout("status")))
    if args.watch is None:
        status = cluster_status(client, opts, on_event=_outages(err))
        try:
            print_status(status, as_json=args.json)
        except BrokenPipeError:
            stdout_gone()
        return status.exit_code
    interval = parse_duration(args.watch, "--watch")

    def look() -> ClusterStatus | str:
        try:
            return cluster_status(client, opts, on_event=_outages(err))
        except NoAnswer as e:  # a watch outlives an outage: it says so and looks again
            return str(e)

    if sys.stdout.isatty() and not args.json:
        with Live(console=out_console(), auto_refresh=False) as live:
            while True:
                seen = look()
                stamp = time.strftime("%H:%M:%S")
                view: Any = status_view(seen) if isinstance(seen, ClusterStatus) else f"[red]{seen}[/]"
                live.update(_watched(view, stamp, interval), refresh=True)
                time.sleep(interval)
    out = out_console(no_color=True, width=100)
    while True:
        seen = look()
        try:
            if isinstance(seen, str):
                err.print(f"[red]{seen}[/]")
            elif args.json:
                sys.stdout.write(status_json(seen) + "\n")
                sys.stdout.flush()
            else:
                out.print(status_view(seen))
                sys.stdout.flush()
            if out.quiet:
                raise BrokenPipeError
        except BrokenPipeError:  # | head: the reader has what it wanted
            stdout_gone()
            return 0
        time.sleep(interval)


def _watched(view: Any, stamp: str, interval: float) -> Any:
    from rich.console import Group
    from rich.text import Text

    return Group(view, Text(f"as of {stamp}, again every {interval:g}s; Ctrl-C to stop", style="dim"))


def _logs(args: argparse.Namespace, opts: Options, err: Console) -> int:
    client = connect(opts, timeout=min(opts.call_timeout, opts.timeout("logs")))

    def write(e: dict[str, Any]) -> None:
        if args.json:
            line = json.dumps(e, sort_keys=True)
        else:
            line = f"{e.get('strtime', '')}  {e.get('priority', ''):<11} {e.get('system', ''):<14} " \
                   f"{e.get('node') or '-':<6} {e.get('message', '')}"  # fmt: skip
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        read_logs(client, opts, write, service=args.service, since=args.since, priority=args.priority,
                  follow=args.follow, on_event=_outages(err))  # fmt: skip
    except BrokenPipeError:
        stdout_gone()
    return 0


# -- exaop demo ---------------------------------------------------------------------------------

DEMO_SPEED = 100.0


def add_demo_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="start an embedded cluster on a fast clock, then start and stop it",
        description="Start an embedded EXAoperation (exaop serve in this process, on a fast clock, with a "
        "temporary state dir), show its status, cold-start the cluster with the lifecycle tool, show the "
        "status again and shut everything down, license server included; then a timeline of both runs.",
    )
    p.add_argument("--speed", type=float, default=DEMO_SPEED,
                   help=f"simulated seconds per real second (default {DEMO_SPEED:g})")  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the temporary state dir (its path is printed)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        err_console().print("exaop demo: --speed must be more than 0")
        return ConfigError.exit_code
    with stop_signals():
        try:
            return _demo(args)
        except KeyboardInterrupt as e:
            stop = interrupted(e)
            err_console().print(f"exaop demo: {stop}")
            return stop.exit_code


def _demo(args: argparse.Namespace) -> int:
    import secrets

    from exaop.server import ControlPlane, ServeOptions

    console = out_console()
    state = Path(tempfile.mkdtemp(prefix="exaop-demo-"))
    password = secrets.token_urlsafe(12)
    t0 = time.monotonic()
    plane = ControlPlane(
        ServeOptions(port=0, state_dir=state, admin_password=password, speed=args.speed, log_level="critical")
    )
    try:
        url = plane.start_in_thread()
        console.print(f"[bold]exaop demo[/]: embedded EXAoperation at {url}, clock x{args.speed:g}, state in {state}")
        opts = Options(url=url, user="admin", password=password, ca_file=str(state / "tls" / "ca.pem"))
        opts.plugins = [PluginStep("Administration.vmware-tools", restart_on=["n0010"])]
        client = connect(opts)
        clock = ScaledClock(args.speed)
        console.rule("status before")
        print_status(cluster_status(client, opts), console)
        timeline = []
        for title, procedure in (("start", start_cluster), ("stop", stop_cluster)):
            console.rule(f"exaop cluster {title}")
            if title == "stop":
                console.rule("status after start")
                print_status(cluster_status(client, opts), console)
            summary = procedure(client, opts, clock, RichReporter(console))
            timeline.append(summary)
            if not summary.ok:
                console.print(f"[bold red]{title} failed: {summary.error}[/]")
                return summary.exit_code
        console.rule("timeline")
        for summary in timeline:
            print_summary(summary, console, clock_label="simulated")
        plane.join()
        console.print(f"demo finished in {time.monotonic() - t0:.1f}s of wall time; "
                      f"the license server is halted and EXAoperation has ended")  # fmt: skip
        return 0
    finally:
        plane.join()
        if not args.keep:
            shutil.rmtree(state, ignore_errors=True)
