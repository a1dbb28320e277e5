"""Node and storage jobs: node_list, node_state, node_suspend, node_resume, node_wait_ready,
node_wait_offline, infra_instances_start, infra_instances_stop, nodes_terminate, st_volume_list,
st_volume_info."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.faces.confd import views
from exaop.faces.confd.registry import Wait, job, p
from exaop.faces.confd.service import JobContext, Next, Outcome, condition
from exaop.model import jobs
from exaop.model.errors import UsageError
from exaop.model.node import BOOTING
from exaop.model.storage import ONLINE, STARTING, STOPPED

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster


@job("node_list", "read", "The database nodes by id ('11' for n0011): id, name, private_ip, private_net, uuid, "
     "disks, state, cores, memory.")  # fmt: skip
def node_list(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    return {views.nid(c.nodes[n]): views.node_info(c, c.nodes[n]) for n in c.database_node_names()}


@job("node_state", "read", "The state of every database node by id: 'online', 'offline' or 'suspended'; "
     "'booted' maps each node that is up to when it booted.")  # fmt: skip
def node_state(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    nodes = [c.nodes[n] for n in c.database_node_names()]
    out: dict[str, Any] = {views.nid(n): views.node_state(n) for n in nodes}
    out["booted"] = {views.nid(n): views.booted(n) for n in nodes if n.up}
    return out


@job("st_volume_list", "read", "Every EXAStorage volume (data, archive and temporary), each as st_volume_info "
     "shows it.")  # fmt: skip
def st_volume_list(ctx: JobContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    c = ctx.cluster
    return [views.volume_info(c, v) for v in views.local_volumes(c)]


@job("st_volume_info", "read", "One volume by id or name: id, name, type, state ('ONLINE', 'DEGRADED', "
     "'UNAVAILABLE', 'OFFLINE' while EXAStorage is down), size, used_size, redundancy, segments, volume_nodes, "
     "labels ... vid 'all_volumes': every volume, by id.",
     mandatory=(p("vid", (int, str), "Id of the volume (0 for the first), or 'all_volumes'."),),
     optional=(p("vname", str, "Name of the volume (DataVolume1 ...)."),), substitutes={"vid": "vname"},
     example={"vid": 0})  # fmt: skip
def st_volume_info(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    if params.get("vid") == "all_volumes":
        return {str(views.volume_number(v)): views.volume_info(c, v) for v in views.local_volumes(c)}
    return views.volume_info(c, views.volume_by(c, params.get("vid"), params.get("vname")))


# -- suspending, waiting, starting and stopping nodes ---------------------------------------------

NIDS = p("nids", list, "List of node ids, like [11, 12].")
NID = p("nid", (int, list), "Id of a node, or a list of node ids.")
WAIT_TIMEOUT = 600  # simulated seconds node_wait_ready / node_wait_offline wait by default
INSTANCES_TIMEOUT = 1800  # ... and infra_instances_start / _stop


@job("node_suspend", "operate", "Suspend nodes: they keep running but leave the cluster (EXAStorage runs "
     "degraded without them, databases cannot use them) until node_resume or their next boot. Refused for a "
     "node a running database uses.", mandatory=(NID,),
     optional=(p("disable", bool, "Also disable the nodes: they stay suspended across boots."),),
     example={"nid": 14})  # fmt: skip
def node_suspend(ctx: JobContext, params: dict[str, Any]) -> None:
    nodes = views.nodes_by_ids(ctx.cluster, params["nid"], "nid")
    for n in nodes:
        if not n.services_stopped:
            n.stop_services()
        if params.get("disable", False):
            n.set_disabled(True)


@job("node_resume", "operate", "Resume suspended nodes: they take part in the cluster again.", mandatory=(NID,),
     optional=(p("enable", bool, "Also enable disabled nodes (they stay suspended across boots until then)."),),
     example={"nid": 14})  # fmt: skip
def node_resume(ctx: JobContext, params: dict[str, Any]) -> None:
    nodes = views.nodes_by_ids(ctx.cluster, params["nid"], "nid")
    for n in nodes:
        if params.get("enable", False):
            n.set_disabled(False)
        if n.services_stopped or not n.up:
            n.start_services()


def _timeout(params: dict[str, Any], default: int) -> float:
    t = params.get("timeout", default)
    if t < 1:
        raise UsageError(f"timeout must be at least 1 second, got {t}")
    return float(t)


def _nids(c: Cluster, params: dict[str, Any]) -> list[int]:
    return [n.number for n in views.nodes_by_ids(c, params["nids"], "nids")]


def _wait_for_nodes(ctx: JobContext, params: dict[str, Any], until: str, what: str) -> Wait:
    return Wait({"until": until, "nids": _nids(ctx.cluster, params), "partial": True, "what": what},
                _timeout(params, WAIT_TIMEOUT))  # fmt: skip


def _all_or_timed_out(got: list[int], wait: dict[str, Any]) -> Outcome | None:
    """Every node there, or the timeout ran out: the job ends with the nodes that are."""
    return (jobs.OK, "Success", got) if len(got) == len(wait["nids"]) or wait.get("timed_out") else None


def _ready(c: Cluster, nids: list[int]) -> list[int]:
    return [i for i in nids if c.node(i).online]


def _offline(c: Cluster, nids: list[int]) -> list[int]:
    return [i for i in nids if views.powered_down(c.node(i))]


NODE_WAIT = (p("timeout", int, "Seconds to wait (default 600)."),)


@job("node_wait_ready", "operate", "Wait until the nodes have booted and are online (timeout: seconds of the "
     "cluster's clock, default 600). Returns the ids of the nodes that are ready: all of them, or those that "
     "were when the timeout ran out.", mandatory=(NIDS,), optional=NODE_WAIT, example={"nids": [11, 12]},
     changes=False)  # fmt: skip
def node_wait_ready(ctx: JobContext, params: dict[str, Any]) -> Wait:
    return _wait_for_nodes(ctx, params, "nodes_ready", "nodes online")


@condition("nodes_ready")
def _nodes_ready(c: Cluster, wait: dict[str, Any]) -> Outcome | None:
    return _all_or_timed_out(_ready(c, wait["nids"]), wait)


@job("node_wait_offline", "operate", "Wait until the nodes have shut down (timeout: seconds of the cluster's "
     "clock, default 600). Returns the ids of the nodes that are offline.", mandatory=(NIDS,), optional=NODE_WAIT,
     example={"nids": [11, 12]}, changes=False)  # fmt: skip
def node_wait_offline(ctx: JobContext, params: dict[str, Any]) -> Wait:
    return _wait_for_nodes(ctx, params, "nodes_offline", "nodes offline")


@condition("nodes_offline")
def _nodes_offline(c: Cluster, wait: dict[str, Any]) -> Outcome | None:
    return _all_or_timed_out(_offline(c, wait["nids"]), wait)


@job("infra_instances_start", "operate", "Power the nodes' machines on and wait until they have booted; once "
     "every storage node is up, EXAStorage starts with them (as the cluster services do on a ConfD cluster) "
     "and the job ends when it is online. Nodes already up are left as they are. Gives up after 1800 seconds "
     "of the cluster's clock. Suspended nodes resume (unless disabled).", mandatory=(NIDS,),
     example={"nids": [11, 12]})  # fmt: skip
def infra_instances_start(ctx: JobContext, params: dict[str, Any]) -> Wait:
    nodes = views.nodes_by_ids(ctx.cluster, params["nids"], "nids")
    for n in nodes:
        if n.up:  # a suspended node's services start again, as with a boot (unless it is disabled)
            if n.services_stopped and not n.disabled:
                n.start_services()
        elif n.state != BOOTING:
            n.startup()  # refused, saying why, for a node that is shutting down
    return Wait({"until": "instances_started", "nids": [n.number for n in nodes], "step": "boot",
                 "what": "the nodes online"}, INSTANCES_TIMEOUT)  # fmt: skip


@condition("instances_started")
def _instances_started(c: Cluster, wait: dict[str, Any]) -> Outcome | Next | None:
    st = c.storage
    if wait["step"] == "boot":
        if len(_ready(c, wait["nids"])) < len(wait["nids"]):
            return None
        if st.state == STOPPED and all(c.nodes[n].online for n in st.storage_nodes()):
            return Next(lambda: _start_storage(c, wait))
        if st.state == STARTING:
            return Next(lambda: Wait({**wait, "step": "storage", "what": "EXAStorage online"}))
        return jobs.OK, "Success", None
    if st.online:
        return jobs.OK, "Success", None
    if st.state == STOPPED:
        return jobs.FAILED, st.last_error or "EXAStorage did not come online", None
    return None


def _start_storage(c: Cluster, wait: dict[str, Any]) -> Wait:
    c.storage.start(c.storage.ignored)
    return Wait({**wait, "step": "storage", "what": "EXAStorage online"})


def _stop_nodes(ctx: JobContext, params: dict[str, Any], timeout: float) -> Wait:
    """Stop EXAStorage when these nodes are all of its nodes (refused while a database uses it), then
    shut the nodes down and wait until they are off."""
    c = ctx.cluster
    nodes = views.nodes_by_ids(c, params["nids"], "nids")
    nids = [n.number for n in nodes]
    st = c.storage
    needed = [n for n in st.storage_nodes() if not st.excused(n)]
    if st.state in (STARTING, ONLINE) and any(n.name in needed for n in nodes):
        if not all(c.nodes[n].name in {x.name for x in nodes} or not c.nodes[n].up for n in needed):
            raise UsageError(f"EXAStorage runs on {', '.join(needed)}; terminate all its nodes together, "
                             "or stop the databases and all its nodes")  # fmt: skip
        st.stop()
        return Wait({"until": "nodes_stopped", "nids": nids, "step": "storage", "what": "EXAStorage stopped"},
                    timeout)  # fmt: skip
    return Wait({**_shut_down(c, nids), "until": "nodes_stopped"}, timeout)


def _shut_down(c: Cluster, nids: list[int]) -> dict[str, Any]:
    nodes = [c.node(i) for i in nids]
    for n in nodes:  # every refusal before the first shutdown
        if n.up:
            c.check_node_may_stop(n)
    for n in nodes:
        if n.up:
            n.shutdown()
    return {"until": "nodes_stopped", "nids": nids, "step": "nodes", "what": "the nodes offline"}


@condition("nodes_stopped")
def _nodes_stopped(c: Cluster, wait: dict[str, Any]) -> Outcome | Next | None:
    if wait["step"] == "storage":
        if c.storage.state == STOPPED:
            return Next(lambda: Wait(_shut_down(c, wait["nids"])))
        return None
    off = _offline(c, wait["nids"])
    return (jobs.OK, "Success", None) if len(off) == len(wait["nids"]) else None


@job("nodes_terminate", "operate", "Stop the Exasol processes on the nodes: EXAStorage stops first when they "
     "are all of its nodes (refused while a database runs), then the nodes shut down; the job ends once they "
     "are offline. (In this simulation a node's host goes down with its processes.)", mandatory=(NIDS,),
     example={"nids": [11, 12, 13, 14]})  # fmt: skip
def nodes_terminate(ctx: JobContext, params: dict[str, Any]) -> Wait:
    return _stop_nodes(ctx, params, INSTANCES_TIMEOUT)


@job("infra_instances_stop", "operate", "Stop the nodes' machines: as nodes_terminate (EXAStorage first when "
     "they are all of its nodes), then power off; the job ends once they are offline or fails after timeout "
     "seconds of the cluster's clock (default 1800).", mandatory=(NIDS,),
     optional=(p("timeout", int, "Seconds to wait for the shutdown (default 1800)."),),
     example={"nids": [11, 12, 13, 14]})  # fmt: skip
def infra_instances_stop(ctx: JobContext, params: dict[str, Any]) -> Wait:
    return _stop_nodes(ctx, params, _timeout(params, INSTANCES_TIMEOUT))
