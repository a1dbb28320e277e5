"""EXAStorage volumes (/cluster1/storage/v0000): their segments on the nodes, the space they
take on the nodes' storage disks, recovery after a node was away, and the files of archive volumes.

A volume of ``size`` GiB with ``masternodes`` M is cut into M segments; each of its
``redundancy`` layers puts one copy of every segment on a node: layer r places segment i on
``nodes[(i + r) % len(nodes)]``, so the copies of a segment are always on different nodes.
Every copy takes ``size / M`` GiB of the node's storage disk named by the volume's ``disk``;
those figures are the disk's used space in the node's ``getDiskStates`` (monitoring sums them).

A copy is usable while its node takes part in EXAStorage (online, not ignored, not suspended,
not restarting its storage service). A node that goes away while EXAStorage runs leaves stale
copies in volumes with redundancy: once back they are recovered from the other copies, by the
node's background recovery or by ``recoverNode``, at the node's recovery limit (MiB/s) on the
simulated clock. A volume reads 'ONLINE', 'DEGRADED' (a copy missing, every segment still
available), 'UNAVAILABLE' (a segment without a usable copy) or 'OFFLINE' (EXAStorage is not online).

``usage`` records who uses how much of a volume (a database's data, a backup 'backup:<id>', a
file); on an archive volume each entry is a file (``getFilesList``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.disks import STORAGE, NodeDisk, disk_loads, disks_by_node, gib_text, seed_layouts
from exaop.model.errors import NotFound, UsageError
from exaop.model.lists import list_of
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.users import User

DATA, ARCHIVE = "Data", "Archive"
VOLUME_TYPES = (DATA, ARCHIVE)
BLOCK_SIZE_KIB = 4
PRIORITY = 10
DEFAULT_RECOVERY_MIBS = 375  # what calibration finds on a 10 Gbit/s link
ONLINE, DEGRADED, UNAVAILABLE, OFFLINE = "ONLINE", "DEGRADED", "UNAVAILABLE", "OFFLINE"
BACKUP_PREFIX = "backup:"


class Volume(Entity):
    kind = "volume"

    def __init__(self, cluster: Cluster, vid: str) -> None:
        super().__init__(cluster)
        self.vid = vid
        self.type = DATA
        self.size_gib: float = 0
        self.redundancy = 1
        self.nodes: list[str] = []
        self.masternodes = 0  # 0: one segment per node
        self.disk = ""  # the storage disk (of every node) the segments are on
        self.block_size = BLOCK_SIZE_KIB
        self.priority = PRIORITY
        self.labels: list[str] = []
        self.allowed_users: list[int] = []
        self.readonly_users: list[int] = []
        self.owner = ""  # what the volume belongs to, e.g. 'db_exa_db1' for a database's temporary volume
        self.usage: dict[str, float] = {}  # GiB used, by whom (a database's data, a backup ...)
        self.expires: dict[str, float] = {}  # when a file (a usage entry) is removed
        self.app_io = True
        self.int_io = True
        self.remote = False  # the local face of a remote archive volume (model/remote_volumes.py)
        self.recovering: dict[str, float] = {}  # node -> when the recovery of its pending copies ends
        self.pending: dict[str, list[int]] = {}  # node -> ids of its copies that are stale or being recovered
        self.formatted: float | None = None
        self.created = cluster.now

    @property
    def key(self) -> str:
        return self.vid

    # -- usage ----------------------------------------------------------------------------------

    @property
    def used_gib(self) -> float:
        return sum(self.usage.values())

    @property
    def free_gib(self) -> float:
        return max(0.0, self.size_gib - self.used_gib)

    def use(self, who: str, gib: float) -> None:
        """``who`` now uses ``gib`` GiB of the volume (replacing what it used before)."""
        if not self.remote and gib > self.free_gib + self.usage.get(who, 0.0):
            raise UsageError(
                f"volume {self.vid} has {self.free_gib + self.usage.get(who, 0.0):.1f} GiB free, {gib:.1f} GiB needed"
            )
        self.usage[who] = round(gib, 3)
        self.changed()

    def release(self, who: str) -> None:
        if self.usage.pop(who, None) is not None:
            if self.expires.pop(who, None) is not None:
                self.rearm()
            self.changed()

    # -- placement ------------------------------------------------------------------------------

    @property
    def masters(self) -> int:
        return self.masternodes or len(self.nodes)

    def layers(self) -> list[list[str]]:
        """One list of node names per redundancy layer: where each segment's copy is."""
        return layers(self.nodes, self.masters, self.redundancy)

    @property
    def segment_gib(self) -> float:
        return self.size_gib / self.masters if self.masters else 0.0

    def load(self) -> dict[str, float]:
        """GiB of this volume's copies on each node's disk."""
        return load_of(self.layers(), self.segment_gib)

    @property
    def stale(self) -> list[str]:
        """Nodes whose copies wait for a recovery that does not run."""
        return sorted(n for n in self.pending if n not in self.recovering)

    def sids_on(self, node: str) -> list[int]:
        """The segment ids of the copies on ``node`` (layer r, index i: r * masters + i)."""
        return [r * self.masters + i for r, layer in enumerate(self.layers()) for i, n in enumerate(layer)
                if n == node]  # fmt: skip

    # -- the clock: recoveries and expiring files ---------------------------------------------

    def rearm(self) -> None:
        due = [*self.recovering.values(), *self.expires.values()]
        after = max(0.0, min(due) - self.cluster.now) if due else None
        if (None if after is None else self.cluster.now + after) != self.deadline:
            self.set_deadline(after)

    def on_deadline(self) -> None:
        now = self.cluster.now
        for node, end in sorted(self.recovering.items()):
            if end <= now:
                del self.recovering[node]
                self.pending.pop(node, None)
                self.cluster.log("Storage", node, "Notice", f"recovery of volume {self.vid} on {node} finished")
        for who, at in sorted(self.expires.items()):
            if at <= now:
                self.expires.pop(who)
                self.usage.pop(who, None)
                self.cluster.log("Storage", "", "Notice", f"file {who} of volume {self.vid} expired and was removed")
        self.rearm()

    # -- persistence ------------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        return {
            "type": self.type, "size_gib": self.size_gib, "redundancy": self.redundancy, "nodes": self.nodes,
            "masternodes": self.masternodes, "disk": self.disk, "block_size": self.block_size,
            "priority": self.priority, "labels": self.labels, "allowed_users": self.allowed_users,
            "readonly_users": self.readonly_users, "owner": self.owner, "usage": self.usage,
            "expires": self.expires, "app_io": self.app_io, "int_io": self.int_io, "remote": self.remote,
            "recovering": self.recovering, "pending": self.pending, "formatted": self.formatted,
            "created": self.created, "deadline": self.deadline,
        }  # fmt: skip

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Volume:
        v = cls(cluster, key)
        v.type = rec.get("type", DATA)
        v.size_gib = rec.get("size_gib", 0)
        v.redundancy = rec.get("redundancy", 1)
        v.nodes = list(rec.get("nodes", []))
        v.masternodes = int(rec.get("masternodes", 0))
        v.disk = rec.get("disk", "")
        v.block_size = int(rec.get("block_size", BLOCK_SIZE_KIB))
        v.priority = int(rec.get("priority", PRIORITY))
        v.labels = list(rec.get("labels", []))
        v.allowed_users = list(rec.get("allowed_users", []))
        v.readonly_users = list(rec.get("readonly_users", []))
        v.owner = rec.get("owner", "")
        v.usage = dict(rec.get("usage", {}))
        v.expires = dict(rec.get("expires", {}))
        v.app_io = bool(rec.get("app_io", True))
        v.int_io = bool(rec.get("int_io", True))
        v.remote = bool(rec.get("remote", False))
        v.recovering = dict(rec.get("recovering", {}))
        v.pending = {n: list(sids) for n, sids in rec.get("pending", {}).items()}
        v.formatted = rec.get("formatted")
        v.created = rec.get("created", cluster.now)
        v.restore_deadline(rec.get("deadline"))
        return v


def layers(nodes: list[str], masters: int, redundancy: int) -> list[list[str]]:
    n = len(nodes)
    return [[nodes[(i + r) % n] for i in range(masters)] for r in range(redundancy)] if n else []


def load_of(placed: list[list[str]], segment_gib: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for layer in placed:
        for node in layer:
            out[node] = out.get(node, 0.0) + segment_gib
    return out


def profile_load(volumes: list[dict[str, Any]], all_nodes: list[str]) -> dict[tuple[str, str], float]:
    """GiB the profile's volumes take on each (node, disk); '' is the default storage disk."""
    out: dict[tuple[str, str], float] = {}
    for v in volumes:
        nodes = list(v.get("nodes", all_nodes))
        masters = int(v.get("masternodes", len(nodes)) or len(nodes))
        placed = layers(nodes, masters, int(v.get("redundancy", 1)))
        for node, gib in load_of(placed, float(v.get("size_gib", 100)) / max(1, masters)).items():
            key = (node, str(v.get("disk", "")))
            out[key] = out.get(key, 0.0) + gib
    return out


# -- who may use a node's storage now --------------------------------------------------------------------


def node_active(cluster: Cluster, name: str) -> bool:
    """Whether ``name`` takes part in EXAStorage now (its copies are usable)."""
    st = cluster.storage
    node = cluster.nodes.get(name)
    if not st.online or name in st.ignored or node is None or not node.online:
        return False
    sn = cluster.table("storage_node").get(f"storage/{name}")
    return sn is None or not (sn.suspended or sn.restarting)


def capacity(cluster: Cluster, node: str, disk: str) -> float:
    """GiB EXAStorage can place on the node's disk ``disk``: its HDD, when in EXAStorage and enabled."""
    d = cluster.table("node_disk").get(f"{node}/{disk}")
    if d is None or d.hdd is None or not d.hdd["in_storage"] or not d.hdd["enabled"]:
        return 0.0
    return float(d.hdd["size"])


def _check_disk(cluster: Cluster, nodes: list[str], disk: str) -> None:
    for node in nodes:
        d = cluster.table("node_disk").get(f"{node}/{disk}")
        if d is None or d.deleting:
            raise UsageError(f"hdd_type: {node} has no disk {disk}")
        if d.type != STORAGE:
            raise UsageError(f"hdd_type: {disk} is a {d.type} disk, not a storage disk")
        if d.hdd is None or not d.hdd["in_storage"]:
            raise UsageError(f"hdd_type: {disk} of {node} is not in EXAStorage; add it with addUnusedDevices")
        if not d.hdd["enabled"]:
            raise UsageError(f"hdd_type: {disk} of {node} is disabled in EXAStorage")


def check_room(cluster: Cluster, disk: str, load: dict[str, float], vol: Volume | None = None) -> None:
    """Refuse unless every node's disk has room for ``load`` besides the other volumes on it."""
    placed = disk_loads(cluster)
    mine = vol.load() if vol is not None and vol.disk == disk else {}
    for node, gib in sorted(load.items()):
        free = capacity(cluster, node, disk) - (placed.get((node, disk), 0.0) - mine.get(node, 0.0))
        if gib > free + 1e-6:
            raise UsageError(f"not enough room on {disk} of {node}: {gib_text(gib)} GiB needed, "
                             f"{gib_text(max(0.0, free))} GiB free")  # fmt: skip


def _check_layout(nodes: list[str], masters: int, redundancy: int) -> None:
    if not nodes:
        raise UsageError("nodes_list must name at least one node")
    if masters > len(nodes):
        raise UsageError(f"masternodes {masters} is more than the {len(nodes)} node(s) of nodes_list")
    if redundancy > len(nodes):
        raise UsageError(f"redundancy {redundancy} needs at least {redundancy} nodes; nodes_list has {len(nodes)}")


def default_disk(cluster: Cluster, nodes: list[str]) -> str:
    """The first storage disk every one of ``nodes`` has in EXAStorage ('' if there is none)."""
    by_node = disks_by_node(cluster)
    names = None
    for node in nodes:
        have = _in_storage(by_node.get(node, []))
        names = have if names is None else [n for n in names if n in have]
    return (names or [""])[0]


def _in_storage(disks: list[NodeDisk]) -> list[str]:
    return [d.name for d in disks if d.hdd and d.hdd["in_storage"] and not d.deleting]


def _new_vid(cluster: Cluster) -> str:
    n = 0
    while f"v{n:04d}" in cluster.volumes:
        n += 1
    return f"v{n:04d}"


def create(cluster: Cluster, vtype: str, size_gib: float, nodes: list[str], redundancy: int = 1, *,
           masters: int = 0, disk: str = "", owner: str = "", vid: str = "") -> Volume:  # fmt: skip
    """A new volume, placed and checked for room first (nothing is made on a refusal)."""
    masters = masters or len(nodes)
    _check_layout(nodes, masters, redundancy)
    unknown = [n for n in nodes if n not in cluster.database_node_names()]
    if unknown:
        raise UsageError(f"nodes_list: {', '.join(unknown)} are not database nodes")
    disk = disk or default_disk(cluster, nodes)
    if not disk:
        raise UsageError(f"the nodes {', '.join(nodes)} share no storage disk in EXAStorage")
    _check_disk(cluster, nodes, disk)
    check_room(cluster, disk, load_of(layers(nodes, masters, redundancy), size_gib / masters))
    vol = Volume(cluster, vid or _new_vid(cluster))
    vol.type, vol.size_gib, vol.nodes, vol.redundancy, vol.owner = vtype, size_gib, list(nodes), redundancy, owner
    vol.masternodes, vol.disk = masters, disk
    cluster._add(vol)
    cluster.log("Storage", "", "Notice", f"volume {vol.vid} ({vtype}, {gib_text(size_gib)} GiB) created")
    warn_space(cluster, nodes)
    return vol


def seed(cluster: Cluster, volumes: list[dict[str, Any]]) -> None:
    """The profile's volumes (its disks first)."""
    seed_layouts(cluster)
    for v in volumes:
        nodes = list(v.get("nodes", cluster.database_node_names()))
        vol = create(cluster, v.get("type", DATA), v.get("size_gib", 100), nodes, v.get("redundancy", 1),
                     masters=int(v.get("masternodes", 0)), disk=str(v.get("disk", "")), vid=v["id"])  # fmt: skip
        vol.labels = list(v.get("labels", []))


def after_load(cluster: Cluster) -> None:
    """A state dir from before nodes had disks: the default layouts, and the volumes on them."""
    seed_layouts(cluster)
    for vol in cluster.volumes.values():
        if not vol.disk and not vol.remote:
            vol.disk = default_disk(cluster, vol.nodes)
            vol.changed()


def volume(cluster: Cluster, vid: Any) -> Volume:
    if isinstance(vid, str) and vid in cluster.volumes:
        return cluster.volumes[vid]
    raise NotFound(f"Object {vid} (volume) not found")


def local_volumes(cluster: Cluster) -> list[Volume]:
    return [v for _, v in sorted(cluster.volumes.items()) if not v.remote]


def volume_ids(cluster: Cluster) -> list[str]:
    """Local volumes first, then the remote ones (r...)."""
    return [v.vid for v in local_volumes(cluster)] + sorted(v for v, x in cluster.volumes.items() if x.remote)


# -- users -----------------------------------------------------------------------------------------------


def user_ids(cluster: Cluster, values: Any, fields: tuple[str, ...] = ("allowed_users", "readonly_users")) -> Any:
    """Users given by id (int or digits) or by login become ids; anything else is left for the
    schema to refuse."""
    if not isinstance(values, dict):
        return values
    out = dict(values)
    for f in fields:
        items = out.get(f)
        if not isinstance(items, list):
            continue
        ids = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | str):
                raise UsageError(f"{f} lists users by id or login, got {item!r}")
            try:
                ids.append(cluster.users.get(item).uid)
            except NotFound:
                raise UsageError(f"{f}: no user {item!r}") from None
        out[f] = ids
    return out


def check_users(obj: Any, ids: list[int]) -> None:
    cluster = obj.cluster if obj is not None else None
    if cluster is not None:
        unknown = [i for i in ids if i not in cluster.users.by_id]
        if unknown:
            raise UsageError(f"no user with id {', '.join(map(str, unknown))}")


def access(cluster: Cluster, vol: Volume, user: User) -> str:
    """The user's access to the volume: 'rw', 'ro' or '' (none). Users with the Master role on
    the cluster may use every volume."""
    if user.uid in vol.allowed_users or cluster.users.role_on(user, [cluster.name])[0] == "Master":
        return "rw"
    return "ro" if user.uid in vol.readonly_users else ""


def permissions(cluster: Cluster, vol: Volume) -> dict[str, str]:
    """Every user's access to the volume, by login ('rw' or 'ro'; users without access left out)."""
    out = {}
    for login, user in sorted(cluster.users.by_login.items()):
        a = access(cluster, vol, user)
        if a:
            out[login] = a
    return out


# -- schemas -----------------------------------------------------------------------------------------------


def _storage_nodes(obj: Any) -> list[str]:
    return obj.cluster.database_node_names()


def _storage_disks(obj: Any) -> list[str]:
    by_node = disks_by_node(obj.cluster)
    return sorted({d.name for n in obj.cluster.database_node_names() for d in by_node.get(n, [])
                   if d.type == STORAGE and not d.deleting})  # fmt: skip


def _block_size(obj: Any, value: int) -> None:
    if value & (value - 1):
        raise UsageError(f"block_size must be a power of two, got {value}")


USERS_DOC = "Users by id (as getUserByName answers) or login"
ADD_SCHEMA = Schema("storage volume", [
    Field("allowed_users", "List", f"{USERS_DOC} who may read and write the volume.", required=True, items="Int",
          check=check_users),
    Field("block_size", "Int", "Size of the volume's blocks in KiB (a power of two).", default=BLOCK_SIZE_KIB,
          minimum=4, maximum=1024, check=_block_size),
    Field("hdd_type", "Choice", "The storage disk of the nodes the volume is placed on.", required=True,
          choices=_storage_disks),
    Field("labels", "List", "Labels to tell the volume by."),
    Field("masternodes", "Int", "How many segments (and master nodes) the volume has; a data volume has one per "
          "active database node.", required=True, minimum=1),
    Field("nodes_list", "List", "The nodes the volume is placed on; the first masternodes of them hold the "
          "masters, each further redundancy layer is shifted by one node.", required=True, choices=_storage_nodes),
    Field("priority", "Int", "Priority from 1 to 20 (higher first).", default=PRIORITY, minimum=1, maximum=20),
    Field("readonly_users", "List", f"{USERS_DOC} who may only read the volume.", items="Int", check=check_users),
    Field("redundancy", "Int", "Copies of each segment, on different nodes (1: no copy).", required=True,
          minimum=1),
    Field("size", "Int", "Size in GiB.", required=True, minimum=1),
    Field("volume_type", "Choice", "Data (a database's data) or Archive (backups).", required=True,
          choices=VOLUME_TYPES),
])  # fmt: skip
EDIT_SCHEMA = Schema("storage volume", [
    Field("add_master_nodes", "Int", "Segments (master nodes) to add; the data is spread anew.", minimum=0),
    Field("add_nodes_list", "List", "Nodes to add to the volume (not yet among its nodes).",
          choices=_storage_nodes),
    Field("allowed_users", "List", f"{USERS_DOC} who may read and write the volume.", items="Int",
          check=check_users),
    Field("labels", "List", "Labels to tell the volume by."),
    Field("priority", "Int", "Priority from 1 to 20 (higher first).", minimum=1, maximum=20),
    Field("readonly_users", "List", f"{USERS_DOC} who may only read the volume.", items="Int", check=check_users),
    Field("redundancy", "Int", "Copies of each segment, on different nodes (1: no copy).", minimum=1),
])  # fmt: skip


class _Owner:
    """What a schema's choices and checks see while a volume is added or edited."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster


def _storage_online(cluster: Cluster, what: str) -> None:
    if not cluster.storage.online:
        raise UsageError(f"EXAStorage is {cluster.storage.state}; {what} needs it online")


def add_storage_volume(cluster: Cluster, values: Any) -> Volume:
    """addStorageVolume: checked as a whole (fields, nodes, disk, room) before anything is made."""
    v = ADD_SCHEMA.validate(user_ids(cluster, values), _Owner(cluster), creating=True)
    _storage_online(cluster, "creating a volume")
    vol = create(cluster, v["volume_type"], v["size"], v["nodes_list"], v["redundancy"], masters=v["masternodes"],
                 disk=v["hdd_type"])  # fmt: skip
    vol.block_size, vol.priority, vol.labels = v["block_size"], v["priority"], v["labels"]
    vol.allowed_users, vol.readonly_users = v["allowed_users"], v["readonly_users"]
    return vol


def properties(cluster: Cluster, vol: Volume) -> dict[str, Any]:
    """The volume's settings, in addStorageVolume's names."""
    return {
        "allowed_users": list(vol.allowed_users), "block_size": vol.block_size, "hdd_type": vol.disk,
        "labels": list(vol.labels), "masternodes": vol.masters, "nodes_list": list(vol.nodes),
        "priority": vol.priority, "readonly_users": list(vol.readonly_users), "redundancy": vol.redundancy,
        "size": _num(vol.size_gib), "volume_type": vol.type,
    }  # fmt: skip


def edit(cluster: Cluster, vol: Volume, values: Any) -> list[str]:
    """editStorageVolume: settings, and a new layout (nodes, masters, redundancy) checked for room;
    nodes that get more of the volume receive it by a recovery."""
    _not_remote(vol)
    v = EDIT_SCHEMA.validate(user_ids(cluster, values), _Owner(cluster), creating=False)
    added = v.get("add_nodes_list", [])
    again = [n for n in added if n in vol.nodes]
    if again:
        raise UsageError(f"add_nodes_list: {', '.join(again)} already hold(s) volume {vol.vid}")
    nodes = vol.nodes + added
    masters = vol.masters + v.get("add_master_nodes", 0)
    redundancy = v.get("redundancy", vol.redundancy)
    relayout = (nodes, masters, redundancy) != (vol.nodes, vol.masters, vol.redundancy)
    if relayout:
        _storage_online(cluster, "changing a volume's layout")
        _check_layout(nodes, masters, redundancy)
        _check_disk(cluster, added, vol.disk)
        load = load_of(layers(nodes, masters, redundancy), vol.size_gib / masters)
        check_room(cluster, vol.disk, load, vol)
    changed = []
    for f in ("allowed_users", "readonly_users", "labels", "priority"):
        if f in v and v[f] != getattr(vol, f):
            setattr(vol, f, v[f])
            changed.append(f)
    if relayout:
        before = {n: vol.sids_on(n) for n in vol.nodes}
        restriped = masters != vol.masters
        changed += [f for f, x in (("add_nodes_list", added), ("add_master_nodes", masters != vol.masters),
                                   ("redundancy", redundancy != vol.redundancy)) if x]  # fmt: skip
        vol.nodes, vol.masternodes, vol.redundancy = nodes, masters, redundancy
        _receive(cluster, vol, before, restriped)
        warn_space(cluster, nodes)
    if changed:
        vol.changed()
        cluster.log("Storage", "", "Notice", f"volume {vol.vid}: changed {', '.join(sorted(changed))}")
    return sorted(changed)


def _receive(cluster: Cluster, vol: Volume, before: dict[str, list[int]], restriped: bool = False) -> None:
    """After a new layout (``before``: each node's copies then): the copies a node did not hold are
    made by a recovery; nodes no longer in the volume forget theirs. With the segments cut anew
    (``restriped``), a node's extra copies count as new."""
    placed = {n: vol.sids_on(n) for n in vol.load()}
    vol.pending = {n: [s for s in sids if s in placed[n]] for n, sids in vol.pending.items() if n in placed}
    vol.pending = {n: sids for n, sids in vol.pending.items() if sids}
    vol.recovering = {n: t for n, t in vol.recovering.items() if n in vol.pending}
    for node, sids in placed.items():
        old = before.get(node, [])
        new = sids[len(old) :] if restriped else [s for s in sids if s not in old]
        if new:
            vol.pending[node] = sorted(set(vol.pending.get(node, [])) | set(new))
            _start_recovery(cluster, vol, node)
    vol.rearm()


def resize(cluster: Cluster, vol: Volume, gib: Any) -> float:
    """resizeVolume: add ``gib`` GiB (a negative number shrinks, never below what is used)."""
    _not_remote(vol)
    if isinstance(gib, bool) or not isinstance(gib, int):
        raise UsageError(f"resizeVolume takes a whole number of GiB, got {gib!r}")
    if gib == 0:
        raise UsageError("resizeVolume: 0 GiB changes nothing")
    _storage_online(cluster, "resizing a volume")
    new = vol.size_gib + gib
    if new < max(1.0, vol.used_gib):
        raise UsageError(f"volume {vol.vid} cannot shrink to {gib_text(new)} GiB: {gib_text(vol.used_gib)} GiB of "
                         "it are used" if new >= 1 else f"volume {vol.vid} cannot shrink below 1 GiB")  # fmt: skip
    if gib > 0:
        check_room(cluster, vol.disk, load_of(vol.layers(), new / vol.masters), vol)
    vol.size_gib = new
    vol.changed()
    cluster.log("Storage", "", "Notice", f"volume {vol.vid} resized by {gib:+d} GiB to {gib_text(new)} GiB")
    warn_space(cluster, vol.nodes)
    return new


def users_of(cluster: Cluster, vol: Volume) -> list[str]:
    """Databases that use the volume (as data volume, or as their temporary volume)."""
    out = [f"database {db.name}" for db in cluster.databases.values() if getattr(db, "volume", "") == vol.vid]
    if vol.owner.startswith("db_") and vol.owner[3:] in cluster.databases:
        out.append(f"database {vol.owner[3:]} (temporary volume)")
    return out


def other_usage(vol: Volume) -> list[str]:
    """Who else uses the volume's space: its usage keys but a database's own data ('db:<name>',
    which users_of names already)."""
    return sorted(k for k in vol.usage if not k.startswith("db:"))


def remove(cluster: Cluster, vol: Volume) -> None:
    """volumeRemove: refused while a database uses the volume or it holds backups or files."""
    if vol.remote:
        raise UsageError(f"{vol.vid} is a remote archive volume; delete it with the cluster's deleteSubObject")
    users = users_of(cluster, vol)
    if users:
        raise UsageError(f"volume {vol.vid} is used by {', '.join(users)}")
    backups = sorted(k[len(BACKUP_PREFIX) :] for k in vol.usage if k.startswith(BACKUP_PREFIX))
    if backups:
        raise UsageError(f"volume {vol.vid} holds backup(s) {', '.join(backups)}; delete them first")
    if other_usage(vol):
        raise UsageError(f"volume {vol.vid} is used by {', '.join(other_usage(vol))}")
    _storage_online(cluster, "removing a volume")
    vol.set_deadline(None)
    cluster.remove_volume(vol)


def move_nodes(cluster: Cluster, vol: Volume, mapping: Any) -> list[str]:
    """moveNodes: each node of the map hands its copies to its new node, which receives them by a
    recovery. Returns the volume's nodes afterwards."""
    _not_remote(vol)
    if not isinstance(mapping, dict) or not mapping:
        raise UsageError("moveNodes takes a dictionary {node: new node}")
    _storage_online(cluster, "moving a volume's nodes")
    for old, new in mapping.items():
        if old not in vol.nodes:
            raise UsageError(f"{old} holds no part of volume {vol.vid}")
        if new == old:
            raise UsageError(f"{old} cannot move to itself")
        if not isinstance(new, str) or new not in cluster.database_node_names():
            raise UsageError(f"{new!r} is not a database node")
        if new in vol.nodes and new not in mapping:
            raise UsageError(f"{new} already holds part of volume {vol.vid}")
        if not node_active(cluster, new):
            raise UsageError(f"{new} does not take part in EXAStorage now")
    targets = list(mapping.values())
    if len(set(targets)) != len(targets):
        raise UsageError("moveNodes: two nodes cannot move to the same node")
    nodes = [mapping.get(n, n) for n in vol.nodes]
    _check_disk(cluster, targets, vol.disk)
    check_room(cluster, vol.disk, load_of(layers(nodes, vol.masters, vol.redundancy), vol.segment_gib), vol)
    before = {n: vol.sids_on(n) for n in vol.nodes if n not in mapping}
    vol.nodes = nodes
    _receive(cluster, vol, before)
    vol.changed()
    moves = ", ".join(f"{a} to {b}" for a, b in mapping.items())
    cluster.log("Storage", "", "Notice", f"volume {vol.vid}: moving {moves}")
    warn_space(cluster, targets)
    return list(nodes)


def set_io_state(cluster: Cluster, vol: Volume, app_io: bool, int_io: bool) -> None:
    if (vol.app_io, vol.int_io) == (app_io, int_io):
        return
    vol.app_io, vol.int_io = app_io, int_io
    vol.changed()
    onoff = {True: "on", False: "off"}
    cluster.log("Storage", "", "Notice" if app_io and int_io else "Warning",
                f"volume {vol.vid}: application IO {onoff[app_io]}, internal IO {onoff[int_io]}")  # fmt: skip


def _not_remote(vol: Volume) -> None:
    if vol.remote:
        raise UsageError(f"{vol.vid} is a remote archive volume; change it with editRemoteVolume")


# -- recovery -------------------------------------------------------------------------------------------------


def recovery_limit(cluster: Cluster, node: str) -> float:
    """MiB/s a node recovers at: its own limit, or the calibrated one."""
    sn = cluster.table("storage_node").get(f"storage/{node}")
    if sn is None:
        return float(DEFAULT_RECOVERY_MIBS)
    return float(sn.values.get("bg_rec_limit") or sn.auto_limit)


def _start_recovery(cluster: Cluster, vol: Volume, node: str) -> None:
    """Recover the node's pending copies, at its recovery limit."""
    gib = len(vol.pending.get(node, [])) * vol.segment_gib
    seconds = gib * 1024 / recovery_limit(cluster, node)
    vol.recovering[node] = cluster.now + seconds
    vol.changed()
    cluster.log(
        "Storage",
        node,
        "Notice",
        f"recovery of volume {vol.vid} on {node} started ({gib_text(gib)} GiB, about {round(seconds)} s)",
    )


def recover(cluster: Cluster, vol: Volume, node: str) -> None:
    """recoverNode: the node's copies are made anew from the other copies."""
    _not_remote(vol)
    _storage_online(cluster, "a recovery")
    if vol.redundancy < 2:
        raise UsageError(f"volume {vol.vid} has redundancy 1: there is no copy to recover {node} from")
    if node in vol.recovering:
        raise UsageError(f"{node} of volume {vol.vid} is already being recovered")
    if not node_active(cluster, node):
        raise UsageError(f"{node} does not take part in EXAStorage now; it cannot receive a recovery")
    vol.pending[node] = vol.pending.get(node) or vol.sids_on(node)  # without stale copies: all of them anew
    _start_recovery(cluster, vol, node)
    vol.rearm()


def stop_recovery(cluster: Cluster, vol: Volume, node: str) -> None:
    """stopRecoverNode: the recovery stops; the node's copies stay stale."""
    if node not in vol.recovering:
        raise UsageError(f"no recovery of volume {vol.vid} runs on {node}")
    del vol.recovering[node]
    vol.rearm()
    vol.changed()
    cluster.log("Storage", node, "Warning", f"recovery of volume {vol.vid} on {node} stopped; its copies are stale")


def node_down(cluster: Cluster, node: str, why: str) -> None:
    """``node`` left EXAStorage while it runs: its copies in volumes with redundancy go stale."""
    for vol in local_volumes(cluster):
        if node not in vol.load():
            continue
        if vol.redundancy > 1:
            vol.recovering.pop(node, None)
            vol.pending[node] = vol.sids_on(node)
            vol.rearm()
            vol.changed()
        cluster.log("Storage", node, "Warning", f"volume {vol.vid} is {state(cluster, vol).lower()}: {node} {why}")


def node_up(cluster: Cluster, node: str) -> None:
    """``node`` takes part in EXAStorage again: its stale copies are recovered if its background
    recovery is enabled."""
    if not node_active(cluster, node):
        return
    sn = cluster.table("storage_node").get(f"storage/{node}")
    if sn is not None and not sn.values.get("bg_recovery_enabled", True):
        return
    for vol in local_volumes(cluster):
        if node in vol.pending and node not in vol.recovering:
            _start_recovery(cluster, vol, node)
            vol.rearm()


def storage_online(cluster: Cluster) -> None:
    for node in cluster.database_node_names():
        node_up(cluster, node)


def storage_stopped(cluster: Cluster) -> None:
    """Recoveries pause while EXAStorage is stopped; they start again once it is back."""
    for vol in local_volumes(cluster):
        if vol.recovering:
            vol.recovering = {}
            vol.rearm()
            vol.changed()


def check_still_available(cluster: Cluster, node: str, action: str) -> None:
    """Refuse ``action`` if taking ``node`` out of EXAStorage leaves a volume a running database
    uses without a usable copy of a segment."""
    for vol in local_volumes(cluster):
        users = [u for u in users_of(cluster, vol) if _db_running(cluster, u)]
        if not users or node not in vol.load():
            continue
        for i in range(vol.masters):
            copies = [(r * vol.masters + i, layer[i]) for r, layer in enumerate(vol.layers())]
            if not any(n != node and copy_state(cluster, vol, n, sid) == ONLINE for sid, n in copies):
                raise UsageError(f"{action} would leave volume {vol.vid} without segment {i}, and "
                                 f"{', '.join(users)} uses it")  # fmt: skip


def _db_running(cluster: Cluster, user: str) -> bool:
    db = cluster.databases.get(user.split()[1])
    return db is not None and db.uses_storage


def copy_state(cluster: Cluster, vol: Volume, node: str, sid: int | None = None) -> str:
    """The state of the copy ``sid`` on ``node`` (None: of the node's copies as a whole)."""
    if not cluster.storage.online:
        return OFFLINE
    pending = vol.pending.get(node, [])
    if pending and (sid is None or sid in pending):
        return "RECOVERING" if node in vol.recovering else "STALE"
    return ONLINE if node_active(cluster, node) else OFFLINE


def state(cluster: Cluster, vol: Volume) -> str:
    if vol.remote:
        return ONLINE
    if not cluster.storage.online:
        return OFFLINE
    states = [[copy_state(cluster, vol, n, r * vol.masters + i) for i, n in enumerate(layer)]
              for r, layer in enumerate(vol.layers())]  # fmt: skip
    for i in range(vol.masters):
        if not any(layer[i] == ONLINE for layer in states):
            return UNAVAILABLE
    return ONLINE if all(s == ONLINE for layer in states for s in layer) else DEGRADED


def warn_space(cluster: Cluster, nodes: list[str]) -> None:
    """A Warning for each node whose EXAStorage space is used beyond its warning threshold."""
    by_node, placed = disks_by_node(cluster), disk_loads(cluster)
    for node in sorted(set(nodes)):
        sn = cluster.table("storage_node").get(f"storage/{node}")
        threshold = sn.values.get("space_warn_threshold", 90) if sn is not None else 90
        own = by_node.get(node, [])
        total = sum(capacity(cluster, node, d.name) for d in own)
        used = sum(placed.get((node, d.name), 0.0) for d in own if d.type == STORAGE)
        if total and used * 100 / total >= threshold:
            cluster.log("Storage", node, "Warning", f"EXAStorage space of {node} is {used * 100 / total:.0f}% used "
                        f"(warning threshold {threshold}%)")  # fmt: skip


# -- segments --------------------------------------------------------------------------------------------------


def segment_name(sid: int) -> str:
    return f"s{sid:04d}"


def segment_sid(vol: Volume, node: str, name: Any) -> int:
    if isinstance(name, str) and name[:1] == "s" and name[1:].isdigit() and int(name[1:]) in vol.sids_on(node):
        return int(name[1:])
    raise NotFound(f"Object {name} (segment) not found on {node} in volume {vol.vid}")


def _blocks(vol: Volume) -> int:
    return int(vol.segment_gib * 1024 * 1024) // vol.block_size


def partitions(cluster: Cluster, vol: Volume, node: str, sid: int) -> list[dict[str, Any]]:
    """Where the copy lies on the node's HDD: one partition, after the copies of the volumes before it."""
    offset = 0
    for other in local_volumes(cluster):
        if other.disk != vol.disk:
            continue
        for s in other.sids_on(node):
            size = int(other.segment_gib * 1024 * 1024)
            if (other.vid, s) == (vol.vid, sid):
                return [{"hdd": vol.disk, "offset": float(offset), "size": float(size)}]
            offset += size
    return []


def segment(cluster: Cluster, vol: Volume, node: str, sid: int) -> dict[str, Any]:
    """A copy of a segment as the segment object describes it (sizes in KiB, blocks of block_size; these
    are doubles, as they pass XML-RPC's 32-bit integers on large volumes)."""
    layer, index = divmod(sid, vol.masters)
    blocks = _blocks(vol)
    if layer == 0:
        remote = vol.masters + index if vol.redundancy > 1 else -1
    else:
        remote = index
    return {
        "sid": sid, "index": index, "layer": layer, "node": node, "vid": vol.vid,
        "type": "master" if layer == 0 else "slave", "remote_sid": remote,
        "segment_size": float(int(vol.segment_gib * 1024 * 1024)), "start_block": float(index * blocks),
        "end_block": float((index + 1) * blocks - 1), "state": copy_state(cluster, vol, node, sid), "snapshot_state": 0,
        "partitions": partitions(cluster, vol, node, sid),
    }  # fmt: skip


def volume_node(cluster: Cluster, vol: Volume, node: str) -> dict[str, Any]:
    sids = vol.sids_on(node)
    return {
        "vid": vol.vid,
        "node": node,
        "segments": [segment_name(s) for s in sids],
        "size": _num(round(vol.load().get(node, 0.0), 3)),
        "state": copy_state(cluster, vol, node),
        "recovery_ends": _when(vol.recovering.get(node)),
    }


# -- archive volumes' files --------------------------------------------------------------------------------------


def _archive(vol: Volume) -> None:
    if vol.type != ARCHIVE:
        raise UsageError(f"volume {vol.vid} is a {vol.type} volume; only archive volumes hold files")


def files(cluster: Cluster, vol: Volume) -> list[dict[str, Any]]:
    """getFilesList: each entry of the archive volume's usage as a file."""
    _archive(vol)
    return [{"id": who, "size": _num(gib), "expire": _when(vol.expires.get(who)),
             "backup": who.startswith(BACKUP_PREFIX)} for who, gib in sorted(vol.usage.items())]  # fmt: skip


def _own_file(vol: Volume, file_id: Any, what: str) -> str:
    _archive(vol)
    if not isinstance(file_id, str) or file_id not in vol.usage:
        raise NotFound(f"Object {file_id} (file) not found in volume {vol.vid}")
    if file_id.startswith(BACKUP_PREFIX):
        raise UsageError(f"file {file_id} is a database backup; {what} it with its database's backup methods")
    return file_id


def remove_file(cluster: Cluster, vol: Volume, file_id: Any) -> None:
    who = _own_file(vol, file_id, "delete")
    vol.release(who)
    cluster.log("Storage", "", "Notice", f"file {who} removed from volume {vol.vid}")


def set_file_expiration(cluster: Cluster, vol: Volume, file_id: Any, exptime: Any) -> str:
    """The file is removed at ``exptime`` (seconds since the epoch; 0: never). Returns it as text."""
    who = _own_file(vol, file_id, "expire")
    if isinstance(exptime, bool) or not isinstance(exptime, int | float) or exptime < 0:
        raise UsageError("exptime must be seconds since the epoch (0: never)")
    if exptime and exptime <= cluster.now:
        raise UsageError(f"exptime {_when(exptime)} is not in the future")
    if exptime:
        vol.expires[who] = float(exptime)
    else:
        vol.expires.pop(who, None)
    vol.rearm()
    vol.changed()
    cluster.log("Storage", "", "Notice", f"file {who} of volume {vol.vid} expires {_when(exptime) or 'never'}")
    return _when(exptime)


def format_filesystem(cluster: Cluster, vol: Volume) -> None:
    """formatFilesystem: a fresh file system on an archive volume; refused while it holds backups."""
    _archive(vol)
    backups = sorted(k for k in vol.usage if k.startswith(BACKUP_PREFIX))
    if backups:
        raise UsageError(f"volume {vol.vid} holds backup(s) {', '.join(backups)}; delete them before formatting")
    _storage_online(cluster, "formatting a volume")
    gone = sorted(vol.usage)
    vol.usage, vol.expires = {}, {}
    vol.formatted = cluster.now
    vol.rearm()
    vol.changed()
    cluster.log("Storage", "", "Warning", f"file system of volume {vol.vid} formatted" +
                (f"; removed {', '.join(gone)}" if gone else ""))  # fmt: skip


# -- views -----------------------------------------------------------------------------------------------------------


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(float(x), 3)


def _when(t: float | None) -> str:
    if not t:
        return ""
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def info(cluster: Cluster, vol: Volume) -> dict[str, Any]:
    """getVolumeInfo: the volume's layout, state and usage."""
    remote = cluster.object_at(vol.vid) if vol.remote else None
    return {
        "vid": vol.vid, "name": vol.vid, "type": vol.type, "size": _num(vol.size_gib),
        "redundancy": vol.redundancy, "num_master_nodes": vol.masters if not vol.remote else 0,
        "disk": vol.disk, "segments": vol.layers(), "nodes": list(vol.nodes), "owner": vol.owner,
        "state": state(cluster, vol), "usage": _num(round(vol.used_gib, 3)),
        "used_by": {who: _num(gib) for who, gib in sorted(vol.usage.items())},
        "free": _num(round(vol.free_gib, 3)) if not vol.remote else 0, "labels": list(vol.labels),
        "priority": vol.priority, "block_size": vol.block_size, "users": permissions(cluster, vol),
        "app_io_enabled": vol.app_io, "int_io_enabled": vol.int_io, "remote": vol.remote,
        "url": remote.values.get("url", "") if remote is not None else "",
        "recovering": sorted(vol.recovering), "stale": sorted(vol.stale),
        "databases": [u.split()[1] for u in users_of(cluster, vol)],
        "created": _when(vol.created),
    }  # fmt: skip


def add_schema_defaults(cluster: Cluster) -> dict[str, Any]:
    """addStorageVolume's fields with what a new volume would get: every storage node, one segment
    per node, their first common storage disk, and the largest size that fits with redundancy 1."""
    nodes = cluster.database_node_names()
    disk = default_disk(cluster, nodes)
    placed = disk_loads(cluster)
    free = [capacity(cluster, n, disk) - placed.get((n, disk), 0.0) for n in nodes] if disk else []
    size = int(max(0.0, min(free)) * len(nodes)) if free else 0
    return {"allowed_users": [], "block_size": BLOCK_SIZE_KIB, "hdd_type": disk, "labels": [],
            "masternodes": len(nodes), "nodes_list": nodes, "priority": PRIORITY, "readonly_users": [],
            "redundancy": 1, "size": size, "volume_type": DATA}  # fmt: skip


@list_of("Volumes")
def _volumes(c: Cluster) -> list[str]:
    return volume_ids(c)


@list_of("StorageVolumeNodes")
def _storage_volume_nodes(c: Cluster) -> list[str]:
    by_node = disks_by_node(c)
    return [n for n in c.database_node_names() if _in_storage(by_node.get(n, []))]


def checkable_nodes(c: Cluster) -> list[str]:
    """Storage nodes whose disks can be checked now: running, with a storage disk in EXAStorage."""
    return [n for n in _storage_volume_nodes(c) if c.nodes[n].online]
