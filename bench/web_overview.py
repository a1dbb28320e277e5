"""The web interface's overview of a 1,000-node simulated cluster: time to answer GET /ui/.

Builds the cluster in memory (bench/lifecycle.py's generated profile: 1,000 database nodes,
one database over all of them), powers every node on and moves the clock half way through
their boots (about half are up, so the page shows a start under way: booting and running nodes, the timeline
drawn), then sends the whole request through the ASGI app as a logged-in Master would:
session lookup, reading the model, rendering, escaping, the answer's bytes. No network,
so the figure is the server's own work for one page; a browser needs this one round trip
for the first view (the CSS is inline, the script only opens the live stream).

Target (issue 11): under one second.

    .venv/bin/python bench/web_overview.py [--nodes 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exaop.engine.profile import parse_profile  # noqa: E402
from exaop.engine.runtime import Runtime  # noqa: E402
from exaop.faces.auth import Authenticator  # noqa: E402
from exaop.faces.exaoperation.dispatch import Dispatcher  # noqa: E402
from exaop.faces.exaoperation.objects import ROOT  # noqa: E402
from exaop.faces.web import WebApp  # noqa: E402
from exaop.faces.web.sessions import COOKIE  # noqa: E402
from lifecycle import profile_toml  # noqa: E402


def build(nodes: int) -> tuple[WebApp, str]:
    profile = parse_profile(tomllib.loads(profile_toml(nodes, 1)))
    rt = Runtime.open(None, profile, speed=0, admin_password="bench-secret").runtime
    app = WebApp(rt, Authenticator(rt.cluster), Dispatcher(rt, ROOT))
    for name in rt.cluster.database_node_names():
        rt.cluster.nodes[name].startup()
    rt.commit()
    rt.advance_clock(rt.cluster.profile.durations["node_boot"].value)  # about half are up
    admin = rt.cluster.users.by_login["admin"]
    session = app.sessions.create(admin.uid, admin.login, admin.password_hash)
    return app, session.token


async def get(app: WebApp, token: str, path: str) -> tuple[int, int]:
    out: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["size"] = out.get("size", 0) + len(message.get("body", b""))

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "client": ("127.0.0.1", 1),
             "headers": [(b"cookie", f"{COOKIE}={token}".encode())]}  # fmt: skip
    await app(scope, receive, send)
    return out["status"], out["size"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    app, token = build(args.nodes)
    print(f"cluster of {args.nodes} database nodes built in {time.perf_counter() - t0:.1f} s")
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        status, size = asyncio.run(get(app, token, "/ui/"))
        times.append(time.perf_counter() - t)
        assert status == 200, status
    booting = sum(1 for n in app.runtime.cluster.nodes.values() if n.status == "Booting")
    print(f"GET /ui/ ({size / 1024:.0f} KiB of HTML, {booting} nodes booting): "
          f"first {times[0] * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, "
          f"best {min(times) * 1000:.0f} ms over {args.repeat} (target < 1000 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
