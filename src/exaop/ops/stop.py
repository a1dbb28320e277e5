"""Shutdown of a whole cluster: the start in reverse, with the checks that prevent data loss.

master on the license server -> databases idle and stopped -> EXAStorage stopped
-> database nodes off -> license server(s) last

What another run (or a person) is already stopping is waited for, not stopped twice.
"""

from __future__ import annotations

from exaop.client import ExaClient, ServerFault, Unreachable
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import Refused
from exaop.ops.events import EventSink
from exaop.ops.observe import (
    RUNNING,
    LogFeed,
    News,
    NodeWatcher,
    Tracker,
    await_databases,
    database_nodes,
    db_state,
    is_offline,
    node_status,
    node_statuses,
    service_states,
    wait_for_storage,
)
from exaop.ops.run import LongCall, Run, Summary
from exaop.ops.wait import Observation, Seen, wait_until

HALTING = "EXAoperation is halting"  # exaop serve's fault once its license server goes down


def stop_cluster(
    client: ExaClient, opts: Options, clock: ToolClock | None = None, on_event: EventSink | None = None
) -> Summary:
    run = Run("stop", client, opts, clock, on_event)
    nodes: dict[str, str] = {}  # what nodes_check saw, for stop_nodes
    return run.run_phases(
        ("master", "EXAoperation master on the license server", lambda: master_on_license_server(run)),
        ("nodes_check", "no database node in the middle of a boot", lambda: nodes_checked(run, nodes)),
        ("stop_databases", "databases idle and stopped", lambda: databases_stopped(run)),
        ("stop_storage", "EXAStorage stopped", lambda: storage_stopped(run)),
        ("stop_nodes", "database nodes shut down", lambda: nodes_off(run, nodes)),
        ("license_servers", "license server(s) shut down last", lambda: license_servers_off(run)),
    )


def master_on_license_server(run: Run) -> str:
    run.await_answer("master")
    license_server = run.opts.license_servers[0]
    master = run.client.master()
    if master == license_server:
        return f"master runs on {license_server}"
    if not run.opts.move_master:
        raise Refused(
            f"master: the EXAoperation master runs on {master}, not on the license server {license_server}; "
            "move it there first (or pass --move-master)"
        )
    if run.dry_run:
        run.emit("plan", "master", f"would move the EXAoperation master from {master} to {license_server}",
                 method="restartEXAoperation", targets=[license_server], args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    answer = run.act("", "restartEXAoperation", license_server)
    run.emit("action", "master", f"restartEXAoperation {license_server}", method="restartEXAoperation",
             target=license_server, args=[], result=str(answer))  # fmt: skip
    seen = Seen("master", f"on {master}", acted_at, acted_at)

    def observe() -> Observation:
        nonlocal seen
        now = run.client.master()  # Unreachable while EXAoperation restarts: the wait keeps going
        if f"on {now}" != seen.state:
            seen = Seen("master", f"on {now}", run.clock.now(), run.clock.now())
        return Observation(now == license_server, f"master on {now}", progress=now, pending=[seen])

    wait_until(run, "master", f"the master to run on {license_server}", observe, run.opts.timeout("master"))
    return f"master moved from {master} to {license_server}"


def databases_stopped(run: Run) -> str:
    names = list(run.read("", "getDatabaseList"))
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
            run.emit("plan", "stop_databases", f"would stop {', '.join(to_stop)}", method="stopDatabase",
                     targets=to_stop, args=[])  # fmt: skip
        if to_force:
            run.emit("plan", "stop_databases", f"would force the shutdown of {', '.join(to_force)}",
                     method="forceShutdownDatabase", targets=to_force, args=[])  # fmt: skip
        return "planned"
    for n in to_force:
        run.emit("warning", "stop_databases", f"forcing the shutdown of busy database {n} ({states[n].operation})",
                 targets=[n])  # fmt: skip
    down = {n for n, s in states.items() if s.state in ("setup", "none")}

    def ask(dbs: list[str]) -> None:
        for n in dbs:
            state = str(run.read(f"/db_{n}", "getDatabaseState"))
            tracker.saw(n, state, run.clock.now())
            if state in ("setup", "none"):
                down.add(n)

    tracker = Tracker({n: s.state for n, s in states.items()}, run.clock.now(), look=ask)
    if to_stop or to_force:
        tracker.acted(run.clock.now())
    stopped = []
    for method, dbs in (("stopDatabase", to_stop), ("forceShutdownDatabase", to_force)):
        stopped += run.act_each("stop_databases", method, dbs, lambda n, m=method: run.act(f"/db_{n}", m),
                                needed=lambda n: db_state(run, n).state in ("running", "starting"))  # fmt: skip

    news = News(run, feed, about=lambda e: e.get("system"), unseen=[n for n in names if not (feed and feed.shows(n))])

    await_databases(run, "stop_databases", "databases to reach setup", names, news, tracker, down, "stopped")
    return f"{len(names)} database(s) down" + (f", {len(stopped)} stopped" if stopped else ", none was running")


def storage_stopped(run: Run) -> str:
    if service_states(run).get("Storaged") != "OK":
        return "EXAStorage already stopped"
    if run.dry_run:
        run.emit("plan", "stop_storage", "would stop EXAStorage", method="stopEXAStorage", targets=["storage"],
                 args=[])  # fmt: skip
        return "planned"
    call = LongCall(run, "stop_storage", "/storage", "stopEXAStorage", timeout=run.opts.timeout("stop_storage"))
    run.emit("action", "stop_storage", "stopEXAStorage", method="stopEXAStorage", target="storage", args=[],
             result=None)  # fmt: skip
    return wait_for_storage(run, "stop_storage", call, online=False)


def nodes_checked(run: Run, status: dict[str, str]) -> str:
    """Look at the nodes before anything is stopped, so a refusal leaves the cluster whole."""
    nodes = database_nodes(run)
    status.update(node_statuses(run, nodes))
    booting = [n for n in nodes if status[n] == "Booting"]
    if booting and not run.opts.force:
        raise Refused(f"nodes_check: {', '.join(booting)} still booting; wait, or pass --force to power them off")
    running = sum(1 for n in nodes if status[n] == RUNNING)
    return f"{running}/{len(nodes)} node(s) running" + (f", {len(booting)} booting" if booting else "")


def nodes_off(run: Run, status: dict[str, str]) -> str:
    """Shut down the nodes seen by nodes_check (nodes do not start by themselves meanwhile)."""
    nodes = list(status)
    feed = None if run.dry_run else LogFeed.open(run)
    for n in [n for n in nodes if status[n] == "Booting"]:
        status[n] = node_status(run, n)  # a boot may have finished while databases stopped
    booting = [n for n in nodes if status[n] == "Booting"]
    to_stop = [n for n in nodes if status[n] == RUNNING]
    if run.dry_run:
        if to_stop:
            run.emit("plan", "stop_nodes", f"would shut down {len(to_stop)} node(s): {', '.join(to_stop)}",
                     method="shutdownNode", targets=to_stop, args=[])  # fmt: skip
        if booting:
            run.emit("plan", "stop_nodes", f"would power off booting node(s) {', '.join(booting)}",
                     method="poweroffNode", targets=booting, args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    done = run.act_each("stop_nodes", "shutdownNode", to_stop, lambda n: run.act("", "shutdownNode", n),
                        needed=lambda n: node_status(run, n) == RUNNING)  # fmt: skip
    done += run.act_each("stop_nodes", "poweroffNode", booting, lambda n: run.act(f"/{n}", "poweroffNode"),
                         needed=lambda n: node_status(run, n) == "Booting")  # fmt: skip
    watcher = NodeWatcher(run, nodes, online=False, feed=feed, known=status,
                          acted_at=acted_at if to_stop or booting else None)  # fmt: skip
    wait_until(run, "stop_nodes", "nodes to power off", watcher.observe, run.opts.timeout("stop_nodes"),
               last_look=watcher.last_look)  # fmt: skip
    return f"{len(nodes)} node(s) off" + (f", {len(done)} shut down" if done else "")


def license_servers_off(run: Run) -> str:
    master = run.client.master()
    order = sorted(run.opts.license_servers, key=lambda n: n == master)  # the master's last
    if run.dry_run:
        run.emit("plan", "license_servers", f"would shut down {', '.join(order)} (EXAoperation ends with {master})",
                 method="shutdownNode", targets=order, args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    for ls in order:
        status = node_statuses(run, [ls])[ls] if ls != master else RUNNING
        if ls != master and is_offline(status):
            continue
        answer = run.act("", "shutdownNode", ls)
        run.emit("action", "license_servers", f"shutdownNode {ls}", method="shutdownNode", target=ls, args=[],
                 result=str(answer))  # fmt: skip
    answering = Seen("EXAoperation", f"answering on {master}", acted_at, acted_at)

    def observe() -> Observation:
        try:
            run.act("", "getNodeList")
        except Unreachable:
            return Observation(True, "EXAoperation no longer answers")
        except ServerFault as e:
            if HALTING not in e.text:
                raise
            return Observation(True, "EXAoperation is halting")
        return Observation(False, "EXAoperation still answers", pending=[answering])

    wait_until(run, "license_servers", "EXAoperation to go away", observe, run.opts.timeout("license_servers"))
    return f"{', '.join(order)} shut down; EXAoperation has ended"
