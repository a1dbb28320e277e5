"""`exaop cluster start|stop|status` and `exaop demo`."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from exaop.client import AuthError, ExaClient, ServerFault
from exaop.client.client import ClientError
from exaop.ops.clock import RealClock, ScaledClock, SimulationClock, ToolClock
from exaop.ops.config import build_options, load_file, resolve_password
from exaop.ops.errors import EXIT_CODES, AuthFailed, ConfigError, Failed, NoAnswer, OpsError
from exaop.ops.events import EventSink
from exaop.ops.report import JsonReporter, PlainReporter, RichReporter, print_status, print_summary
from exaop.ops.start import start_cluster
from exaop.ops.status import cluster_status
from exaop.ops.stop import stop_cluster

EXIT_HELP = "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


def add_cluster_parser(sub: Any) -> None:
    p = sub.add_parser(
        "cluster",
        help="start, stop or show a whole cluster through EXAoperation",
        description="Start, stop or show a whole cluster through EXAoperation's XML-RPC interface.",
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    csub = p.add_subparsers(dest="action", required=True)
    for name, text in (("start", "cold-start the cluster"), ("stop", "shut the cluster down"),
                       ("status", "show nodes, services, databases and the master")):  # fmt: skip
        a = csub.add_parser(name, help=text, description=text, epilog=EXIT_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        a.add_argument("--url", help="EXAoperation URL, e.g. https://license-server/cluster1 (env EXAOP_URL)")
        a.add_argument("--user", help="EXAoperation user (env EXAOP_USER); password from EXAOP_PASSWORD, "
                       "~/.netrc or a prompt")  # fmt: skip
        a.add_argument("--config", help="TOML config (default ./exaop.toml if present) or a startstop.cfg")
        a.add_argument("--ca-file", help="CA certificate(s) to verify EXAoperation's TLS certificate")
        a.add_argument("--insecure", action="store_true", default=None, help="do not verify the TLS certificate")
        a.add_argument("--license-server", action="append", dest="license_servers",
                       help="license server node(s), default n0010")  # fmt: skip
        a.add_argument("--json", action="store_true", help="one JSON object per event (status: one JSON document)")
        a.add_argument("--parallel", type=int, help="how many calls at once (default 32)")
        a.add_argument("--clock-speed", type=float, help=argparse.SUPPRESS)  # a simulated cluster's --speed
        a.add_argument("--simulated-clock", action="store_true", help=argparse.SUPPRESS)  # ... on a manual clock
        if name != "status":
            a.add_argument("--timeout", help="deadline of every wait, e.g. 30m (default: per phase)")
            a.add_argument("--dry-run", action="store_true", default=None, help="print the plan; act on nothing")
            a.add_argument("--ignore-nodes", help="comma-separated nodes to leave out (e.g. a node that hangs)")
        if name == "stop":
            a.add_argument("--force", action="store_true", default=None,
                           help="stop busy databases and power off booting nodes anyway")  # fmt: skip
            a.add_argument("--move-master", action="store_true", default=None,
                           help="move the EXAoperation master to the license server first")  # fmt: skip
        a.set_defaults(func=run_cluster_command)


def _options(args: argparse.Namespace) -> Any:
    flags: dict[str, Any] = {
        "url": args.url,
        "user": args.user,
        "ca_file": args.ca_file,
        "insecure": args.insecure,
        "license_servers": args.license_servers,
        "parallel": args.parallel,
    }
    if args.action != "status":
        flags.update(timeout=args.timeout, dry_run=args.dry_run)
        if args.ignore_nodes:
            flags["ignore_nodes"] = [n for n in args.ignore_nodes.split(",") if n.strip()]
    if args.action == "stop":
        flags.update(force=args.force, move_master=args.move_master)
    opts = build_options(load_file(args.config), flags)
    resolve_password(opts)
    return opts


def make_clock(args: argparse.Namespace, opts: Any) -> ToolClock:
    if getattr(args, "simulated_clock", False):
        return SimulationClock(
            ExaClient(opts.url, opts.user, opts.password, insecure=opts.insecure, ca_file=opts.ca_file)
        )
    if getattr(args, "clock_speed", None):
        return ScaledClock(args.clock_speed)
    return RealClock()


def as_ops_error(e: ClientError) -> OpsError:
    if isinstance(e, AuthError):
        return AuthFailed(str(e))
    if isinstance(e, ServerFault):
        return Failed(f"{e.method}: {e.text}")
    return NoAnswer(str(e))


def run_cluster_command(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    try:
        opts = _options(args)
        client = ExaClient(opts.url, opts.user, opts.password, insecure=opts.insecure, ca_file=opts.ca_file,
                           timeout=opts.call_timeout)  # fmt: skip
        if args.action == "status":
            print_status(cluster_status(client, opts), as_json=args.json)
            return 0
        sink: EventSink
        if args.json:
            sink = JsonReporter()
        elif sys.stdout.isatty():
            sink = RichReporter()
        else:
            sink = PlainReporter()
        procedure = start_cluster if args.action == "start" else stop_cluster
        summary = procedure(client, opts, make_clock(args, opts), sink)
        if not args.json:
            print_summary(summary, Console() if sys.stdout.isatty() else Console(no_color=True, width=100))
        if not summary.ok:
            err.print(f"[bold red]exaop cluster {args.action}: {summary.error}[/]", highlight=False)
        return summary.exit_code
    except (OpsError, ClientError) as e:
        # a client error outside a procedure: status, or the simulated clock's first call
        failure = e if isinstance(e, OpsError) else as_ops_error(e)
        err.print(f"[bold red]exaop cluster {args.action}: {failure}[/]", highlight=False)
        return failure.exit_code
    except ValueError as e:
        err.print(f"[bold red]exaop cluster {args.action}: {e}[/]", highlight=False)
        return ConfigError.exit_code


# -- exaop demo ---------------------------------------------------------------------------------

DEMO_SPEED = 100.0


def add_demo_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="start an embedded cluster on a fast clock, then start and stop it")
    p.add_argument("--speed", type=float, default=DEMO_SPEED, help=f"clock speed (default {DEMO_SPEED:g})")
    p.add_argument("--keep", action="store_true", help="keep the temporary state dir")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    import secrets

    from exaop.ops.config import Options
    from exaop.server import ControlPlane, ServeOptions

    console = Console()
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
        opts.plugins = []
        from exaop.ops.config import PluginStep

        opts.plugins.append(PluginStep("Administration.vmware-tools", restart_on=["n0010"]))
        client = ExaClient(url, "admin", password, ca_file=opts.ca_file)
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
