"""Node and storage jobs: node_list, node_state, st_volume_list, st_volume_info."""

from __future__ import annotations

from typing import Any

from exaop.faces.confd import views
from exaop.faces.confd.registry import job, p
from exaop.faces.confd.service import JobContext


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
