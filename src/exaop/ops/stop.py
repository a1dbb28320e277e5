"""Shutdown of a whole cluster: the start in reverse, with the checks that prevent data loss.

master on the license server -> databases idle and stopped -> EXAStorage stopped
-> database nodes off -> license server(s) last

What another run (or a person) is already stopping is waited for, not stopped twice.
"""

from __future__ import annotations

from exaop.client import ExaClient
from exaop.client.backend import BOOTING, RUNNING, Backend, is_offline
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import Refused
from exaop.ops.events import EventSink
from exaop.ops.observe import (
    LogFeed,
    News,
    NodeWatcher,
    Tracker,
    act_on_nodes,
    await_databases,
    database_nodes,
    db_state,
    node_status,
    node_statuses,
    storage_view,
    wait_for_storage,
)
from exaop.ops.run import LongCall, Run, Summary
from exaop.ops.wait import Observation, Seen, wait_until


def stop_cluster(
    backend: Backend | ExaClient, opts: Options, clock: ToolClock | None = None, on_event: EventSink | None = None
) -> Summary:
    run = Run("stop", backend, opts, clock, on_event)
    exa = run.backend.api == "exaoperation"
    nodes: dict[str, str] = {}  # what nodes_check saw, for stop_nodes
    return run.run_phases(
        (
            "master",
            "EXAoperation master on the license server" if exa else "ConfD answers on its master",
            lambda: master_on_license_server(run),
        ),  # fmt: skip
        ("nodes_check", "no database node in the middle of a boot", lambda: nodes_checked(run, nodes)),
        ("stop_databases", "databases idle and stopped", lambda: databases_stopped(run)),
        ("stop_storage", "EXAStorage stopped" if exa else "storage stops with the nodes", lambda: storage_stopped(run)),
        ("stop_nodes", "database nodes shut down", lambda: nodes_off(run, nodes)),
        (
            "license_servers",
            "license server(s) shut down last" if exa else "no license server on ConfD",
            lambda: license_servers_off(run),
        ),  # fmt: skip
    )


def master_on_license_server(run: Run) -> str:
    run.await_answer("master")
    master = run.read(run.backend.master)
    if not run.backend.license_servers:  # the interface runs on the database nodes: it goes last with them
        return f"{run.backend.interface} master on {master}; no license server"
    license_server = run.opts.license_servers[0]
    if master == license_server:
        return f"master runs on {license_server}"
    if not run.opts.move_master:
        raise Refused(
            f"master: the EXAoperation master runs on {master}, not on the license server {license_server}; "
            "move it there first (or pass --move-master)"
        )
    if run.dry_run:
        run.emit("plan", "master", f"would move the EXAoperation master from {master} to {license_server}",
                 method=run.backend.actions.move_master, targets=[license_server], args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    method = str(run.backend.actions.move_master)
    answer = run.act(run.backend.move_master, license_server)
    run.emit("action", "master", f"{method} {license_server}", method=method,
             target=license_server, args=[], result=str(answer))  # fmt: skip
    seen = Seen("master", f"on {master}", acted_at, acted_at)

    def observe() -> Observation:
        nonlocal seen
        now = run.backend.master()  # Unreachable while EXAoperation restarts: the wait keeps going
        if f"on {now}" != seen.state:
            seen = Seen("master", f"on {now}", run.clock.now(), run.clock.now())
        return Observation(now == license_server, f"master on {now}", progress=now, pending=[seen])

    wait_until(run, "master", f"the master to run on {license_server}", observe, run.opts.timeout("master"))
    return f"master moved from {master} to {license_server}"


def databases_stopped(run: Run) -> str:
    names = run.read(run.backend.databases)
    feed = None if run.dry_run else LogFeed.open(run)  # from now on, a database's messages say when to look
    states = {n: db_state(run, n) for n in names}
    to_stop, to_force = [], []
    for n, s in states.items():
        if s.state in ("running", "starting") and (s.busy or s.state == "starting"):
            op = s.operation if s.busy else "Startup"
            if not run.opts.force:
                raise Refused(
                    f"stop_databases: database {n} is busy with operation {op}; wait for it to end, "
                    "or pass --force to shut it down anyway"
                )
            to_force.append(n)
        elif s.state == "running":
            to_stop.append(n)
    if run.dry_run:
        if to_stop:
            run.emit("plan", "stop_databases", f"would stop {', '.join(to_stop)}", method=stop_method(run, False),
                     targets=to_stop, args=[])  # fmt: skip
        if to_force:
            run.emit("plan", "stop_databases", f"would force the shutdown of {', '.join(to_force)}",
                     method=stop_method(run, True), targets=to_force, args=[])  # fmt: skip
        return "planned"
    for n in to_force:
        run.emit("warning", "stop_databases", f"forcing the shutdown of busy database {n} ({states[n].operation})",
                 targets=[n])  # fmt: skip
    down = {n for n, s in states.items() if s.state in ("setup", "none")}

    def ask(dbs: list[str]) -> None:
        for n in dbs:
            state = run.read(run.backend.database_state, n)
            tracker.saw(n, state, run.clock.now())
            if state in ("setup", "none"):
                down.add(n)

    tracker = Tracker({n: s.state for n, s in states.items()}, run.clock.now(), look=ask)
    if to_stop or to_force:
        tracker.acted(run.clock.now())
    stopped = []
    for force, dbs in ((False, to_stop), (True, to_force)):
        stopped += run.act_each("stop_databases", stop_method(run, force), dbs,
                                lambda n, f=force: run.act(run.backend.stop_database, n, force=f),
                                needed=lambda n: db_state(run, n).state in ("running", "starting"))  # fmt: skip

    news = News(run, feed, about=lambda e: e.get("system"), unseen=[n for n in names if not (feed and feed.shows(n))])

    await_databases(run, "stop_databases", "databases to reach setup", names, news, tracker, down, "stopped")
    return f"{len(names)} database(s) down" + (f", {len(stopped)} stopped" if stopped else ", none was running")


def stop_method(run: Run, force: bool) -> str:
    actions = run.backend.actions
    return actions.force_stop_database if force else actions.stop_database


def storage_stopped(run: Run) -> str:
    method = run.backend.actions.stop_storage
    if method is None:
        return f"{run.backend.interface} stops storage with the nodes' services"
    if not storage_view(run).online:
        return "EXAStorage already stopped"
    if run.dry_run:
        run.emit("plan", "stop_storage", "would stop EXAStorage", method=method, targets=["storage"],
                 args=[])  # fmt: skip
        return "planned"
    call = LongCall(run, "stop_storage", method, "storage", run.backend.stop_storage,
                    timeout=run.opts.timeout("stop_storage"))  # fmt: skip
    run.emit("action", "stop_storage", method, method=method, target="storage", args=[],
             result=None)  # fmt: skip
    return wait_for_storage(run, "stop_storage", call, online=False)


def nodes_checked(run: Run, status: dict[str, str]) -> str:
    """Look at the nodes before anything is stopped, so a refusal leaves the cluster whole."""
    nodes = database_nodes(run)
    status.update(node_statuses(run, nodes))
    booting = [n for n in nodes if status[n] == BOOTING]
    if booting and not run.opts.force:
        raise Refused(f"nodes_check: {', '.join(booting)} still booting; wait, or pass --force to power them off")
    running = sum(1 for n in nodes if status[n] == RUNNING)
    return f"{running}/{len(nodes)} node(s) running" + (f", {len(booting)} booting" if booting else "")


def nodes_off(run: Run, status: dict[str, str]) -> str:
    """Shut down the nodes seen by nodes_check (nodes do not start by themselves meanwhile)."""
    nodes = list(status)
    feed = None if run.dry_run else LogFeed.open(run)
    for n in [n for n in nodes if status[n] == BOOTING]:
        status[n] = node_status(run, n)  # a boot may have finished while databases stopped
    booting = [n for n in nodes if status[n] == BOOTING]
    to_stop = [n for n in nodes if status[n] == RUNNING]
    b = run.backend
    shutdown, power_off = b.actions.shutdown, b.actions.power_off
    if (to_stop and shutdown is None) or (booting and power_off is None):
        left = to_stop + booting
        run.emit("warning", "stop_nodes", f"{b.interface} cannot shut nodes down here (no job for it): "
                 f"{', '.join(left)} left running; shut them down yourself", targets=left)  # fmt: skip
        return f"{len(left)} node(s) left running: {b.interface} cannot shut nodes down here"
    if run.dry_run:
        if to_stop:
            run.emit("plan", "stop_nodes", f"would shut down {len(to_stop)} node(s): {', '.join(to_stop)}",
                     method=shutdown, targets=to_stop, args=[])  # fmt: skip
        if booting:
            run.emit("plan", "stop_nodes", f"would power off booting node(s) {', '.join(booting)}",
                     method=power_off, targets=booting, args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    done = act_on_nodes(run, "stop_nodes", str(shutdown), to_stop, b.shutdown,
                        needed=lambda n: node_status(run, n) == RUNNING)  # fmt: skip
    done += act_on_nodes(run, "stop_nodes", str(power_off), booting, b.power_off,
                         needed=lambda n: node_status(run, n) == BOOTING)  # fmt: skip
    watcher = NodeWatcher(run, nodes, online=False, feed=feed, known=status,
                          acted_at=acted_at if to_stop or booting else None)  # fmt: skip
    wait_until(run, "stop_nodes", "nodes to power off", watcher.observe, run.opts.timeout("stop_nodes"),
               last_look=watcher.last_look)  # fmt: skip
    return f"{len(nodes)} node(s) off" + (f", {len(done)} shut down" if done else "")


def license_servers_off(run: Run) -> str:
    b = run.backend
    if not b.license_servers or b.actions.halt is None:
        return f"{b.interface} runs on the database nodes: no license server to shut down"
    method = b.actions.halt
    master = run.read(b.master)
    order = sorted(run.opts.license_servers, key=lambda n: n == master)  # the master's last
    if run.dry_run:
        run.emit("plan", "license_servers", f"would shut down {', '.join(order)} ({b.interface} ends with {master})",
                 method=method, targets=order, args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    for ls in order:
        status = node_statuses(run, [ls])[ls] if ls != master else RUNNING
        if ls != master and is_offline(status):
            continue
        answer = run.act(b.halt, ls)
        run.emit("action", "license_servers", f"{method} {ls}", method=method, target=ls, args=[],
                 result=str(answer))  # fmt: skip
    answering = Seen(b.interface, f"answering on {master}", acted_at, acted_at)

    def observe() -> Observation:
        if not b.answering():
            return Observation(True, f"{b.interface} no longer answers")
        return Observation(False, f"{b.interface} still answers", pending=[answering])

    wait_until(run, "license_servers", f"{b.interface} to go away", observe, run.opts.timeout("license_servers"))
    return f"{', '.join(order)} shut down; {b.interface} has ended"
