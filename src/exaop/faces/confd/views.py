"""How ConfD shows the model: database and node states, node ids, volume sizes.

ConfD speaks of nodes by number (``'11'`` for n0011), of database states in its own words
(``startup`` and ``shutdown`` where EXAoperation says ``starting`` and ``stopping``), and of
sizes as text with a unit (``'1024 GiB'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model import volumes
from exaop.model.errors import NotFound, UsageError
from exaop.model.logs import strtime
from exaop.model.node import CRASHED, OFF

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.database import Database
    from exaop.model.node import Node
    from exaop.model.volumes import Volume

#: the model's database states -> ConfD's ('none': defined through EXAoperation, never created)
DB_STATES = {"none": "none", "setup": "setup", "starting": "startup", "running": "running", "stopping": "shutdown"}
ONLINE, OFFLINE, SUSPENDED = "online", "offline", "suspended"


def db_state(db: Database) -> str:
    return DB_STATES.get(db.state, db.state)


def nid(node: Node) -> str:
    return str(node.number)


def node_state(node: Node) -> str:
    """online (up, its cluster services running), suspended (up, services stopped), offline."""
    if node.online:
        return ONLINE
    return SUSPENDED if node.up else OFFLINE


def powered_down(node: Node) -> bool:
    """Shut down (or crashed): what node_wait_offline waits for (a node shutting down is not yet)."""
    return node.state in (OFF, CRASHED)


def size_text(gib: float) -> str:
    """A size as ConfD prints it: '1024 GiB', '0.5 GiB'."""
    value = int(gib) if float(gib).is_integer() else round(float(gib), 3)
    return f"{value} GiB"


def mib_text(gib: float) -> str:
    return f"{round(float(gib) * 1024)} MiB"


def node_by_id(cluster: Cluster, ident: Any, param: str) -> Node:
    """A database node by ConfD id (11, '11') or name (n0011); ``param`` names it in errors."""
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        raise UsageError(f"{param}: a node id is a number like 11, got {ident!r}")
    return cluster.node(ident)


def nodes_by_ids(cluster: Cluster, idents: Any, param: str) -> list[Node]:
    items = idents if isinstance(idents, list) else [idents]
    if not items:
        raise UsageError(f"{param}: give at least one node id")
    out: list[Node] = []
    for ident in items:
        node = node_by_id(cluster, ident, param)
        if node not in out:
            out.append(node)
    return out


def volume_number(vol: Volume) -> int:
    return int(vol.vid[1:])


def volume_name(vol: Volume) -> str:
    """ConfD names volumes: the data volumes DataVolumeN, the archive volumes ArchiveVolumeN
    (N: the volume's number + 1); the temporary volume of a database is named after it."""
    if vol.owner:
        return f"TempVolume_{vol.owner.removeprefix('db_')}"
    kind = "DataVolume" if vol.type == volumes.DATA else "ArchiveVolume"
    return f"{kind}{volume_number(vol) + 1}"


def local_volumes(cluster: Cluster) -> list[Volume]:
    return volumes.local_volumes(cluster)


def volume_by(cluster: Cluster, vid: Any = None, vname: Any = None) -> Volume:
    """A local volume by ConfD id (0 for v0000) or name (DataVolume1, or v0000)."""
    if vid is not None and not isinstance(vid, bool) and isinstance(vid, int | str):
        text = str(vid)
        key = f"v{int(text):04d}" if text.isdigit() else text
        vol = cluster.volumes.get(key)
        if vol is None or vol.remote:
            raise NotFound(f"no volume with id {vid!r}")
        return vol
    if isinstance(vname, str):
        for vol in local_volumes(cluster):
            if vname in (volume_name(vol), vol.vid):
                return vol
        raise NotFound(f"no volume named {vname!r}")
    raise UsageError("vid must be a volume id (an integer) or 'all_volumes', or vname a volume name")


def volume_info(cluster: Cluster, vol: Volume) -> dict[str, Any]:
    info = volumes.info(cluster, vol)
    return {
        "id": str(volume_number(vol)),
        "name": volume_name(vol),
        "type": info["type"].lower(),
        "state": info["state"],
        "size": size_text(vol.size_gib),
        "used_size": size_text(round(vol.used_gib, 3)),
        "redundancy": vol.redundancy,
        "segments": [[str(int(n[1:])) for n in layer] for layer in info["segments"]],
        "num_master_nodes": info["num_master_nodes"],
        "volume_nodes": [str(int(n[1:])) for n in vol.nodes],
        "labels": list(vol.labels),
        "owner": vol.owner,
        "block_size": f"{vol.block_size} KiB",
        "priority": vol.priority,
        "app_io": vol.app_io,
        "int_io": vol.int_io,
        "disk": vol.disk,
        "databases": list(info["databases"]),
        "created": info["created"],
    }


def node_info(cluster: Cluster, node: Node) -> dict[str, Any]:
    hw, _source = node.shown_hardware()  # the BMC's values where it told them
    return {
        "id": nid(node),
        "name": node.name,
        "private_ip": node.ip,
        "private_net": cluster.profile.private_network,
        "uuid": f"{cluster.name}-{node.name}",
        "disks": [d["name"] for d in node.disks()],
        "state": node_state(node),
        "cores": int(hw["sockets"]) * int(hw["cores_per_socket"]),
        "memory": size_text(hw["memory_gib"]),
    }


def booted(node: Node) -> str:
    return strtime(node.since)
