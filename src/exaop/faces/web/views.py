"""What each page shows, read from the model (no wire here, no HTML: the templates draw it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exaop.faces.web import pictures
from exaop.faces.web.live import Change, History
from exaop.faces.web.pictures import TRANSITIONAL, Bar
from exaop.faces.web.runs import WebRun
from exaop.model import backups as backup_model
from exaop.model import volumes as volume_model
from exaop.model.logs import CLUSTER_SYSTEMS, PRIORITIES, strtime

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.model.cluster import Cluster

#: nodes drawn in the timeline (one row each); the rest are counted
TIMELINE_NODES = 24
#: a pause longer than this (cluster seconds) between transitions separates two starts or stops
EPISODE_GAP = 300.0
LOG_ROWS = 200


def happening(rt: Runtime, run: WebRun | None) -> str:
    """One sentence: what the cluster is doing now."""
    c = rt.cluster
    if rt.halted:
        return f"EXAoperation is halting: {c.halt_reason}"
    if c.master.restarting:
        return "EXAoperation is restarting"
    parts: list[str] = []
    if run is not None and run.running:
        last = run.last
        phase = last.phase if last is not None and last.phase else "starting"
        parts.append(
            f"{run.procedure} run #{run.number} by {run.user}: {phase}"
            + (f" ({last.message})" if last is not None and last.message else "")
        )
    states = Counter(n.status for n in c.nodes.values())
    for state in ("Booting", "Shutting down", "Crashed"):
        if states.get(state):
            parts.append(f"{states[state]} node{'s' if states[state] > 1 else ''} {state.lower()}")
    if c.storage.state in ("starting", "stopping"):
        parts.append(f"EXAStorage {c.storage.state}")
    for db in c.databases.values():
        if db.state in ("starting", "stopping") or db.busy:
            parts.append(f"{db.name} {db.state}" + (f", {db.operation}" if db.busy else ""))
    if parts:
        return "; ".join(parts)
    running = states.get("Running", 0)
    dbs = sum(1 for db in c.databases.values() if db.state == "running")
    return (
        f"quiet: {running} of {len(c.nodes)} nodes running, EXAStorage {c.storage.state}, "
        f"{dbs} of {len(c.databases)} databases running"
    )


def _power(c: Cluster) -> dict[str, str]:
    out = {}
    for n in c.nodes.values():
        out[n.name] = c.driver(n).power_state(n.name)
    return out


def overview(rt: Runtime, history: History, run: WebRun | None) -> dict[str, Any]:
    c = rt.cluster
    power = _power(c)
    nodes = [
        {
            "name": n.name,
            "status": n.status,
            "power": power[n.name],
            "since": strtime(n.since),
            "license_server": n.license_server,
        }
        for n in sorted(c.nodes.values(), key=lambda n: n.number)
    ]
    volumes = []
    for v in sorted(c.volumes.values(), key=lambda v: v.vid):
        volumes.append(
            {
                "vid": v.vid,
                "type": v.type,
                "size": v.size_gib,
                "used": round(v.used_gib, 1),
                "state": volume_model.state(c, v),
                "owner": v.owner,
            }
        )
    return {
        "now": strtime(c.now),
        "speed": rt.clock.speed,
        "happening": happening(rt, run),
        "master": c.master.node,
        "counts": sorted(Counter(n["status"] for n in nodes).items()),
        "nodes": nodes,
        "services": c.service_states(),
        "storage": c.storage.state,
        "storage_error": c.storage.last_error,
        "volumes": volumes,
        "databases": [db.info() for db in c.databases.values()],
        "timeline": last_episode(rt, history, run),
    }


def node_page(rt: Runtime, history: History, name: str) -> dict[str, Any] | None:
    c = rt.cluster
    n = c.nodes.get(name)
    if n is None:
        return None
    changes = list(history.nodes.get(name, ()))
    return {
        "name": name,
        "now": strtime(c.now),
        "state": n.state_dict(),
        "info": n.info(),
        "disks": n.disks(),
        "history": [{"t": strtime(ch.t), "state": ch.state} for ch in reversed(changes)],
        "picture": pictures.states_over_time(f"State of {name} over time", changes, c.now),
    }


def database_page(rt: Runtime, history: History, name: str) -> dict[str, Any] | None:
    c = rt.cluster
    db = c.databases.get(name)
    if db is None:
        return None
    info = db.info()
    now = c.now
    found = sorted(backup_model.backups_of(c, name), key=lambda b: b.started, reverse=True)
    listed = [b.listing() for b in found]
    ages = [
        (
            f"{b.volume} #{b.bid} L{b.level}",
            now - b.started,
            None if b.expire_at is None else max(0.0, b.expire_at - now),
            b.usable,
        )
        for b in found
        if not b.expired
    ][:20]
    vols = []
    for vid in (db.volume, db.temp_volume):
        v = c.volumes.get(vid) if vid else None
        if v is not None:
            vols.append(
                {
                    "vid": v.vid,
                    "type": v.type,
                    "size": v.size_gib,
                    "used": round(v.used_gib, 1),
                    "state": volume_model.state(c, v),
                }
            )
    changes = list(history.databases.get(name, ()))
    return {
        "name": name,
        "now": strtime(now),
        "words": db.state_in_words(),
        "info": info,
        "nodes": db.node_sets(),
        "node_states": db.node_states(),
        "volumes": vols,
        "backups": listed,
        "archives": [v.vid for v in sorted(c.volumes.values(), key=lambda v: v.vid) if v.type == "Archive"],
        "errors": list(db.errors),
        "state_picture": pictures.states_over_time(f"State of {name} over time", changes, now),
        "backup_picture": pictures.backup_ages(f"Age of the backups of {name}", ages),
    }


def log_rows(
    rt: Runtime, priority: str, system: str, node: str, after: int = 0, limit: int = LOG_ROWS
) -> tuple[list[dict[str, Any]], int]:
    """The newest entries that pass the filters (newest first), after id ``after``; and the last id."""
    book = rt.cluster.logbook
    rank = PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES) - 1
    wanted = set(PRIORITIES[: rank + 1])
    out: list[dict[str, Any]] = []
    last = book.last_id
    for e in reversed(book.entries):
        if e.id <= after or len(out) >= limit:
            break
        if e.priority in wanted and (not system or e.system == system) and (not node or e.node == node):
            out.append(
                {
                    "id": e.id,
                    "t": strtime(e.t),
                    "system": e.system,
                    "node": e.node,
                    "priority": e.priority,
                    "message": e.message,
                }
            )
    return out, last


def log_systems(rt: Runtime) -> list[str]:
    """The systems a filter may pick: the cluster's own, then each database's (its name)."""
    return [*CLUSTER_SYSTEMS, *sorted(rt.cluster.databases)]


def _intervals(changes: Sequence[Change], now: float) -> list[tuple[float, float, str]]:
    out = []
    for i, ch in enumerate(changes):
        if ch.state in TRANSITIONAL:
            end = changes[i + 1].t if i + 1 < len(changes) else now
            out.append((ch.t, end, ch.state))
    return out


def last_episode(rt: Runtime, history: History, run: WebRun | None) -> dict[str, Any] | None:
    """The last start or stop as drawn: its phases against time and each node's boot or shutdown.

    Found in the recorded states (so a start run by `exaop cluster start` shows as well):
    transitions closer than EPISODE_GAP to each other are one episode, the latest one is
    drawn. The phases are the run's own when it was started from this browser, else the
    spans of the nodes', EXAStorage's and the databases' transitions.
    """
    c = rt.cluster
    now = c.now
    nodes = {name: _intervals(list(ch), now) for name, ch in history.nodes.items()}
    storage = _intervals(list(history.storage), now)
    dbs = {name: _intervals(list(ch), now) for name, ch in history.databases.items()}
    spans = [(s, e) for iv in [*nodes.values(), storage, *dbs.values()] for s, e, _ in iv]
    if not spans and run is None:
        return None
    spans.sort()
    t0 = t1 = None
    for s, e in spans:  # the last group of overlapping or close spans
        if t0 is None or t1 is None or s > t1 + EPISODE_GAP:
            t0, t1 = s, e
        else:
            t1 = max(t1, e)
    use_run = run is not None and (run.running or t0 is None or run.started >= t0 - EPISODE_GAP)
    if run is not None and use_run:
        r0 = run.started
        r1 = max([now if run.running else r0, *(p["end"] or now for p in run.phases.values())])
        if t0 is not None and t1 is not None and t1 >= r0 - EPISODE_GAP:
            t0, t1 = min(t0, r0), max(t1, r1)
        else:
            t0, t1 = r0, r1
    if t0 is None or t1 is None:
        return None
    within = lambda iv: [(s, e, st) for s, e, st in iv if e >= t0 and s <= t1]  # noqa: E731
    phases: list[Bar] = []
    if run is not None and use_run and run.phases:
        for name, p in run.phases.items():
            state = "running" if p["ok"] else ("starting" if p["ok"] is None else "Crashed")
            phases.append(Bar(name, p["start"], p["end"] or now, state, p.get("outcome", p["title"])))
        kind = run.procedure
    else:
        for label, ivs in (
            ("nodes", [iv for v in nodes.values() for iv in within(v)]),
            ("storage", within(storage)),
            ("databases", [iv for v in dbs.values() for iv in within(v)]),
        ):
            if ivs:
                end = max(e for _, e, _ in ivs)
                phases.append(Bar(label, min(s for s, _, _ in ivs), end, ivs[-1][2], "done" if end < now else ""))
        kind = "stop" if any(p.state in ("Shutting down", "stopping") for p in phases) else "start"
    boots = []
    for name in sorted(nodes):
        mine = within(nodes[name])
        if mine:
            s, e, st = mine[-1]
            boots.append(Bar(name, s, e, st, st))
    shown = boots[:TIMELINE_NODES]
    title = f"The last {kind}: phases and each node's {'boot' if kind == 'start' else 'shutdown'}"
    return {
        "kind": kind,
        "from": strtime(t0),
        "took": round(t1 - t0),
        "picture": pictures.timeline(title, phases, shown, t0, max(t1, t0 + 1), len(boots) - len(shown)),
        "phases": [{"name": p.label, "seconds": round(p.end - p.start), "note": p.note} for p in phases],
    }


def users_page(rt: Runtime) -> list[dict[str, Any]]:
    c = rt.cluster
    out = []
    for u in sorted(c.users.by_id.values(), key=lambda u: u.uid):
        role, derived = c.users.role_on(u, [c.name])
        out.append(
            {
                "uid": u.uid,
                "login": u.login,
                "title": u.title,
                "role": role,
                "default": derived,
                "grants": sorted(u.grants.items()),
            }
        )
    return out
