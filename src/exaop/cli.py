"""The `exaop` command."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from exaop import __version__
from exaop.httpguard import Limits


def _serve(args: argparse.Namespace) -> int:
    from exaop.admin import PasswordFileError
    from exaop.engine.profile import ProfileError
    from exaop.model.errors import DomainError
    from exaop.server import ConfdListenError, ControlPlane, ServeOptions, run_event_loop
    from exaop.store import StoreError

    opts = ServeOptions(
        host=args.host,
        port=args.port,
        state_dir=Path(args.state_dir),
        admin_password=args.admin_password,
        admin_password_file=Path(args.admin_password_file) if args.admin_password_file else None,
        http=args.http,
        cert=Path(args.cert) if args.cert else None,
        key=Path(args.key) if args.key else None,
        speed=args.speed,
        profile=Path(args.profile) if args.profile else None,
        log_level=args.log_level,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        confd_port=None if args.no_confd else args.confd_port,
        confd_node=args.confd_node,
        limits=Limits(
            max_connections=args.max_connections,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            keepalive_timeout=args.idle_timeout,
        ),
    )
    if args.speed < 0:
        print("exaop serve: --speed must be 0 (manual clock) or more", file=sys.stderr)
        return 2
    limits = (("--max-connections", args.max_connections, 16), ("--header-timeout", args.header_timeout, 1),
              ("--body-timeout", args.body_timeout, 1), ("--idle-timeout", args.idle_timeout, 1))  # fmt: skip
    for flag, value, low in limits:
        if value < low:
            print(f"exaop serve: {flag} must be at least {low}", file=sys.stderr)
            return 2
    if bool(args.cert) != bool(args.key):
        print("exaop serve: --cert and --key go together", file=sys.stderr)
        return 2
    if not args.no_confd and not 0 <= args.confd_port <= 65535:
        print("exaop serve: --confd-port must be a port number (0: any free one)", file=sys.stderr)
        return 2
    if args.no_confd and args.confd_node:
        print("exaop serve: --confd-node needs the ConfD face (drop --no-confd)", file=sys.stderr)
        return 2
    if args.cert and not args.http:
        # read them now: later, uvicorn would report a bad file as "cannot listen"
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            print(f"exaop serve: cannot use --cert {args.cert} with --key {args.key}: {reason}", file=sys.stderr)
            return 2
    fresh = not Path(args.state_dir).exists()  # made by this start: taken away again if it cannot serve
    try:
        plane = ControlPlane(opts)
    except (ProfileError, StoreError, PasswordFileError) as e:
        print(f"exaop serve: {e}", file=sys.stderr)
        return 2
    except DomainError as e:  # e.g. an admin password the user rules refuse, an unknown --confd-node
        print(f"exaop serve: {e.reason}", file=sys.stderr)
        return 2
    for note in plane.notes:
        print(f"exaop serve: note: {note}", file=sys.stderr)
    if plane.generated_password:
        print(f"exaop serve: generated password for user admin: {plane.generated_password}", flush=True)

    def ready(url: str) -> None:
        if plane.confd_url:
            node = f" (as node {args.confd_node})" if args.confd_node else ""
            print(f"exaop ConfD face on {plane.confd_url}{node}", flush=True)
        print(f"exaop listening on {url}", flush=True)

    try:
        run_event_loop(plane.run(on_ready=ready))
    except OSError as e:
        port = args.confd_port if isinstance(e, ConfdListenError) else args.port
        what = " (the ConfD face)" if isinstance(e, ConfdListenError) else ""
        print(f"exaop serve: cannot listen on {args.host}:{port}{what}: {e.strerror or e}", file=sys.stderr)
        if fresh and not plane.url:  # a state dir this start made, and nothing ever served from it
            shutil.rmtree(args.state_dir, ignore_errors=True)
        return 2
    if plane.halt_reason:
        print(f"exaop serve: EXAoperation halted: {plane.halt_reason}", flush=True)
    return 0


def _ask_password(login: str) -> str | None:
    """Ask twice on the terminal (nothing echoed); None when there is no terminal."""
    import getpass

    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(f"New password for {login}: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ; nothing was changed")
    return first


def _reset_password(args: argparse.Namespace) -> int:
    import os

    from exaop.admin import PasswordFileError, read_password_file, reset_admin_password
    from exaop.model.errors import DomainError
    from exaop.store import StoreError

    try:
        if args.password_file:
            password = read_password_file(args.password_file)
        else:
            password = os.environ.get("EXAOP_ADMIN_PASSWORD") or _ask_password("admin")
        if not password:
            print("exaop admin: give the new password with --password-file FILE or EXAOP_ADMIN_PASSWORD "
                  "(there is no terminal to ask on)", file=sys.stderr)  # fmt: skip
            return 2
        reset_admin_password(args.state_dir, password)
    except (PasswordFileError, StoreError, ValueError) as e:
        print(f"exaop admin: {e}", file=sys.stderr)
        return 2
    except DomainError as e:  # a password the user rules refuse, no user admin
        print(f"exaop admin: {e.reason}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nexaop admin: nothing was changed", file=sys.stderr)
        return 2
    print(f"exaop admin: the password of user admin in state dir {args.state_dir} was reset")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="exaop", description="Operate Exasol-style clusters through EXAoperation XML-RPC.")
    p.add_argument("--version", action="version", version=f"exaop {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "serve",
        help="run the EXAoperation-compatible XML-RPC control plane",
        description="Run the EXAoperation-compatible XML-RPC control plane over a simulated cluster whose "
        "state lives in --state-dir; HTTPS with its own certificate unless --http or --cert.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8443, help="port (default 8443; 0 picks a free one)")
    s.add_argument("--state-dir", default="state", help="where the cluster's state lives (default ./state)")
    pw = s.add_mutually_exclusive_group()
    pw.add_argument("--admin-password", help="password of user admin for a new state dir (other local users "
                    "see it in ps: prefer --admin-password-file or env EXAOP_ADMIN_PASSWORD); generated and "
                    "printed once when none is given; ignored for an existing state dir "
                    "(see exaop admin reset-password)")  # fmt: skip
    pw.add_argument("--admin-password-file", metavar="FILE",
                    help="like --admin-password, from the first line of FILE")  # fmt: skip
    s.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    s.add_argument("--cert", help="TLS certificate (PEM); default: a self-signed one in the state dir")
    s.add_argument("--key", help="TLS private key (PEM) for --cert")
    s.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; 60 = a minute per second; 0 = manual)",
    )
    s.add_argument("--profile", help="TOML cluster profile for a new state dir (default: built-in)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error", "critical"],
                   help="what the server logs on stderr: info (default) every call that may change something and "
                   "every failed login; debug every call; warning only problems")  # fmt: skip
    s.add_argument("--log-format", default="text", choices=["text", "json"],
                   help="text lines (default) or one JSON object per line")  # fmt: skip
    s.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                   help="also serve /metrics (Prometheus) without credentials on this port (default: none; "
                   "/metrics on the main port needs a login)")  # fmt: skip
    s.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="ADDRESS", help="address of --metrics-port (default 127.0.0.1)"
    )
    s.add_argument("--confd-port", type=int, default=20003, metavar="PORT",
                   help="port of the ConfD face (Exasol 7.1+ jobs: job_exec ...; default 20003 as on Exasol 8, 0 "
                   "picks a free one); always HTTPS with the server's certificate, also with --http")  # fmt: skip
    s.add_argument("--no-confd", action="store_true", help="serve no ConfD face")
    s.add_argument("--confd-node", metavar="NODE",
                   help="the node the ConfD face plays (n0011 or 11; default: the master, wherever it runs); "
                   "on another node than the master it answers every call with 302 to the master")  # fmt: skip
    s.add_argument(
        "--max-connections",
        type=int,
        default=Limits.max_connections,
        metavar="N",
        help=f"open connections at most (default {Limits.max_connections}, and what the file-descriptor "
        "limit allows); beyond, the longest-waiting connection without a request in progress is closed",
    )
    s.add_argument(
        "--header-timeout",
        type=float,
        default=Limits.header_timeout,
        metavar="SECONDS",
        help=f"time a client has to send a request's headers (default {Limits.header_timeout:g})",
    )
    s.add_argument(
        "--body-timeout",
        type=float,
        default=Limits.body_timeout,
        metavar="SECONDS",
        help=f"time a client has to send a request's body once its headers are in (default {Limits.body_timeout:g})",
    )
    s.add_argument(
        "--idle-timeout",
        type=float,
        default=Limits.keepalive_timeout,
        metavar="SECONDS",
        help=f"idle keep-alive connections close after this (default {Limits.keepalive_timeout:g})",
    )
    s.set_defaults(func=_serve)

    a = sub.add_parser("admin", help="administer a state dir while no server holds it",
                       description="Administer a state dir while no exaop serve holds it.")  # fmt: skip
    asub = a.add_subparsers(dest="admin_command", required=True)
    r = asub.add_parser(
        "reset-password",
        help="set the password of user admin (refused while exaop serve holds the state dir)",
        description="Set the password of user admin in a state dir no server holds: from --password-file, "
        "else EXAOP_ADMIN_PASSWORD, else asked on the terminal. The reset is logged in the cluster log.",
    )
    r.add_argument("--state-dir", default="state", help="the state dir (default ./state)")
    r.add_argument("--password-file", metavar="FILE", help="the new password is the first line of FILE")
    r.set_defaults(func=_reset_password)

    from exaop.ops.cli import add_cluster_parser, add_demo_parser

    add_cluster_parser(sub)
    add_demo_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from exaop.monitor import configure_logging

        configure_logging(args.log_level, args.log_format)
    else:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
