"""Cold start of a whole cluster, in the seed article's order, done carefully.

reachable -> nodes online -> EXAStorage online -> databases accepting connections -> plugins

Every phase observes first and skips what is already done, so running start again after
any failure continues where it stopped; what another run (or a person) has under way is
waited for, not done twice. ``dry_run`` observes and reports the plan only.
"""

from __future__ import annotations

from exaop.client import ExaClient
from exaop.client.backend import RUNNING, Backend, DbState, is_offline
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options
from exaop.ops.errors import ConfigError, Failed, Refused
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
from exaop.ops.run import LongCall, Run, Summary, fault_reason
from exaop.ops.wait import SHOW, Observation, Seen, wait_until


def start_cluster(
    backend: Backend | ExaClient, opts: Options, clock: ToolClock | None = None, on_event: EventSink | None = None
) -> Summary:
    run = Run("start", backend, opts, clock, on_event)
    exa = run.backend.api == "exaoperation"
    return run.run_phases(
        ("reachable", f"{run.backend.interface} answers", lambda: reachable(run)),
        ("nodes", "database nodes powered on and online", lambda: nodes_online(run)),
        (
            "storage",
            "EXAStorage online, all services OK" if exa else "storage online, every volume ONLINE",
            lambda: storage_online(run),
        ),  # fmt: skip
        ("databases", "databases accepting connections", lambda: databases_running(run)),
        ("plugins", "plugin services started", lambda: plugins_started(run)),
    )


def reachable(run: Run) -> str:
    """Wait for the cluster's interface to answer (the license server may still be booting)."""
    run.await_answer("reachable")
    nodes = run.read(run.backend.nodes)
    master = run.read(run.backend.master)
    b = run.backend
    return f"{b.interface} {b.dialect} answers; master on {master}; {len(nodes)} database nodes"


def counted(summary: str, states: dict[str, str], reached: set[str], now: float) -> Observation:
    """A first look: how many of ``states`` are there, and what the others are."""
    waiting = sorted(n for n in states if n not in reached)
    pending = [Seen(n, states[n], now, now) for n in waiting[:SHOW]]
    total = len(states)
    return Observation(not waiting, summary, count=(total - len(waiting), total), pending=pending,
                       more=len(waiting) - len(pending))  # fmt: skip


def nodes_online(run: Run) -> str:
    nodes = database_nodes(run)
    feed = None if run.dry_run else LogFeed.open(run)
    status = node_statuses(run, nodes)
    leaving = [n for n in nodes if status[n] == "Shutting down"]
    if leaving:
        raise Refused(f"nodes: {', '.join(leaving)} still shutting down; run start again once they are off")
    to_start = [n for n in nodes if is_offline(status[n])]
    running = {n for n in nodes if status[n] == RUNNING}
    first = counted(f"nodes online {len(running)}/{len(nodes)}", status, running, run.clock.now())
    run.emit("observation", "nodes", first.summary, **first.data(run.clock.now()))
    method = run.backend.actions.power_on
    if to_start and method is None:
        raise Refused(f"nodes: {', '.join(to_start)} not up, and {run.backend.interface} cannot power nodes on "
                      "here; start them, then run start again")  # fmt: skip
    if run.dry_run:
        if to_start:
            run.emit("plan", "nodes", f"would power on {len(to_start)} node(s): {', '.join(to_start)}",
                     method=method, targets=to_start, args=[])  # fmt: skip
        return "planned"
    acted_at = run.clock.now()
    started = act_on_nodes(run, "nodes", method, to_start, run.backend.power_on,
                           needed=lambda n: is_offline(node_status(run, n)))  # fmt: skip
    run.booted_nodes = list(to_start)  # booted now, by this run or another: plugins restart after boots
    watcher = NodeWatcher(run, nodes, online=True, feed=feed, known=status, acted_at=acted_at if to_start else None)
    wait_until(run, "nodes", "nodes to come online", watcher.observe, run.opts.timeout("nodes"),
               last_look=watcher.last_look)  # fmt: skip
    return f"{len(nodes)} node(s) online" + (f", {len(started)} started" if started else ", none needed starting")


def storage_online(run: Run) -> str:
    view = storage_view(run)
    method = run.backend.actions.start_storage
    if view.online and (method is not None or view.settled):
        return "EXAStorage already online" if method else "storage already online, every volume ONLINE"
    if method is None:  # storage starts with the nodes' services: wait for it
        if run.dry_run:
            return f"would wait for the volumes to be ONLINE ({', '.join(view.pending) or 'storage not online'})"
        return wait_for_storage(run, "storage", None, online=True)
    ignore = list(run.opts.ignore_nodes)
    also = f" ignoring {', '.join(ignore)}" if ignore else ""
    if run.dry_run:
        run.emit("plan", "storage", "would start EXAStorage" + also, method=method, targets=["storage"],
                 args=ignore)  # fmt: skip
        return "planned"
    # startEXAStorage answers once storage is up: send it aside, and look at the services once it has
    call = LongCall(run, "storage", method, "storage", run.backend.start_storage, ignore,
                    timeout=run.opts.timeout("storage"))  # fmt: skip
    run.emit("action", "storage", method + also, method=method, target="storage", args=ignore,
             result=None)  # fmt: skip
    return wait_for_storage(run, "storage", call, online=True)


def db_label(s: DbState) -> str:
    if s.state == "running" and not s.connectible:
        return "running, not accepting connections yet"
    return s.state + (f" ({s.operation})" if s.busy and s.state != "starting" else "")


def databases_running(run: Run) -> str:
    names = run.read(run.backend.databases)
    feed = None if run.dry_run else LogFeed.open(run)  # from now on, a database's messages say when to look
    states = {n: db_state(run, n) for n in names}
    to_start, not_created = [], []
    method = run.backend.actions.start_database
    for n, s in states.items():
        if s.state == "setup" and not s.busy:
            to_start.append(n)
        elif s.state == "none":
            not_created.append(n)
        elif s.state in ("stopping",) or (s.state == "setup" and s.busy):
            raise Refused(f"databases: {n} is {s.state} (operation {s.operation}); run start again when it is idle")
    for n in not_created:
        run.emit("warning", "databases", f"{n} has never been created (state none); not starting it", targets=[n])
    wanted = [n for n in names if n not in not_created]
    if run.dry_run:
        if to_start:
            run.emit("plan", "databases", f"would start {', '.join(to_start)}", method=method,
                     targets=to_start, args=[])  # fmt: skip
        return "planned"
    news = News(run, feed, about=lambda e: e.get("system"), unseen=[n for n in wanted if not (feed and feed.shows(n))])
    seen_starting: set[str] = set()
    ready: set[str] = {n for n in wanted if states[n].connectible}

    def ask(dbs: list[str]) -> None:
        for n in dbs:
            s = db_state(run, n)
            tracker.saw(n, db_label(s), run.clock.now())
            if s.state in ("starting", "running"):
                seen_starting.add(n)
            if s.connectible:
                ready.add(n)
            elif (
                s.state == "setup"
                and not s.busy
                and n in started_at
                and (n in seen_starting or run.clock.now() - started_at[n] > 60)
            ):
                errors = run.read(run.backend.database_errors, n)
                reason = "; ".join(errors) if errors else "it went back to setup"
                raise Failed(f"databases: {n} failed to start: {reason}")

    tracker = Tracker({n: db_label(s) for n, s in states.items()}, run.clock.now(), look=ask)
    if to_start:
        tracker.acted(run.clock.now())
    started = run.act_each("databases", method, to_start, lambda n: run.act(run.backend.start_database, n),
                           needed=lambda n: db_state(run, n).state == "setup")  # fmt: skip
    started_at = {n: run.clock.now() for n in to_start}

    await_databases(run, "databases", "databases to accept connections", wanted, news, tracker, ready,
                    "accepting connections")  # fmt: skip
    for n in wanted:
        conn = run.read(run.backend.connection_string, n)
        run.emit("connection", "databases", f"{n} accepts connections at {conn}", database=n, connection_string=conn)
    return f"{len(wanted)} database(s) accepting connections" + (f", {len(started)} started" if started else "")


def plugins_started(run: Run) -> str:
    if not run.opts.plugins:
        return "no plugin steps configured"
    method = run.backend.actions.plugin
    if method is None:
        raise ConfigError(f"plugins: {run.backend.interface} has no plugins to call; remove the plugin steps "
                          "from the configuration")  # fmt: skip
    installed = run.read(run.backend.plugins) or set()
    done = 0
    ignore = set(run.opts.ignore_nodes)
    for step in run.opts.plugins:
        if installed and step.plugin not in installed:
            raise Refused(f"plugins: {step.plugin} is not installed (installed: {', '.join(sorted(installed))})")
        if run.dry_run:
            where = ", ".join(step.restart_on) or "no node"
            ensure = " and start it wherever it is not running" if step.ensure_running else ""
            run.emit("plan", "plugins", f"would restart {step.plugin} on {where}{ensure}", method=method,
                     targets=step.restart_on, args=[step.plugin, "STOP", "START"])  # fmt: skip
            continue
        # restarting on the license server matters after the nodes booted (the seed's PID namespace);
        # on a cluster that was already up, a re-run leaves running daemons alone
        restart_on = step.restart_on if run.booted_nodes else []
        for node in restart_on:
            for command in ("STOP", "START"):
                rc, out = _plugin(run, step.plugin, node, command)
                run.emit("action", "plugins", f"{step.plugin} {command} on {node}: rc {rc}", method=method,
                         target=node, args=[step.plugin, command], result=f"rc {rc}: {out}")  # fmt: skip
                if command == "START" and rc != 0:
                    raise Failed(f"plugins: {step.plugin} START on {node} failed (rc {rc}): {out.strip()}")
        if step.ensure_running:
            nodes = [n for n in run.read(run.backend.nodes) if n not in ignore]

            def ensure(node: str, plugin: str = step.plugin, text: str = step.running_text) -> tuple[str, str]:
                rc, out = _plugin(run, plugin, node, "STATUS")
                if text in out:
                    return "running", out
                rc, out = _plugin(run, plugin, node, "START")
                if rc != 0:
                    raise Failed(f"{plugin} START on {node} failed (rc {rc}): {out.strip()}")
                return "started", f"rc {rc}: {out}"

            results = run.parallel(nodes, ensure)
            for node, what, err in results:
                if err is None and what[0] == "started":
                    run.emit("action", "plugins", f"{step.plugin} START on {node}", method=method, target=node,
                             args=[step.plugin, "START"], result=what[1])  # fmt: skip
            failed = [(n, e) for n, _, e in results if e is not None]
            if failed:
                raise Failed("plugins: " + "; ".join(f"{n}: {fault_reason(e)}" for n, e in failed))
        done += 1
    return "planned" if run.dry_run else f"{done} plugin step(s) done"


def _plugin(run: Run, plugin: str, node: str, command: str) -> tuple[int, str]:
    answer = run.act(run.backend.call_plugin, plugin, node, command)
    if not isinstance(answer, list) or len(answer) < 2:
        raise Failed(f"plugins: callPlugin({plugin}, {node}, {command}) answered {answer!r}")
    return int(answer[0]), str(answer[1])
