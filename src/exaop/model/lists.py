"""The named lists behind ``getListValues(name)``: the values a field may take.

Fixed lists live here; lists made from the cluster's objects are registered by the
modules that own those objects (``@list_of("Volumes")`` next to the volumes), so each is
written once, where its objects are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

ListFn = Callable[["Cluster"], list[Any]]
LISTS: dict[str, ListFn] = {}

TIME_ZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo"]
STATIC: dict[str, list[str]] = {
    "Days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "DiskTypes": ["OS", "Swap", "Data", "Storage"],
    "RaidTypes": ["none", "RAID 1", "RAID 10"],
    "EncrTypes": ["none", "aes128", "aes256"],
    "SrvMgmtTypes": ["IPMI", "Redfish", "HP iLO", "Dell iDRAC", "command"],
    "Mtu": ["1500", "9000"],
    "KeyStoreTypes": ["none", "PKCS#11"],
    "ScalingGovernor": ["performance", "powersave", "ondemand"],
    "BootInterface": ["eth0", "eth1"],
    "TimeZones": TIME_ZONES,
}


def list_of(name: str) -> Callable[[ListFn], ListFn]:
    """Register the function that makes the list ``name`` from the cluster."""

    def register(fn: ListFn) -> ListFn:
        assert name not in LISTS and name not in STATIC, f"list {name} registered twice"
        LISTS[name] = fn
        return fn

    return register


def list_values(cluster: Cluster, name: Any) -> list[Any]:
    if isinstance(name, str):
        if name in LISTS:
            return LISTS[name](cluster)
        if name in STATIC:
            return list(STATIC[name])
    known = sorted([*LISTS, *STATIC])
    raise UsageError(f"unknown list {name!r}; known lists: {', '.join(known)}")


@list_of("Nodes")
def _nodes(c: Cluster) -> list[str]:
    return c.database_node_names()


@list_of("NodesReserve")
def _nodes_reserve(c: Cluster) -> list[str]:
    return c.database_node_names()


@list_of("NodesDeactivate")
def _nodes_deactivate(c: Cluster) -> list[str]:
    return c.database_node_names()


@list_of("NodesReactivate")
def _nodes_reactivate(c: Cluster) -> list[str]:
    return c.database_node_names()


@list_of("Databases")
def _databases(c: Cluster) -> list[str]:
    return sorted(c.databases)


@list_of("Users")
def _users(c: Cluster) -> list[str]:
    return sorted(c.users.by_login)


@list_of("DatabaseNetworkInterfaces")
def _db_interfaces(c: Cluster) -> list[str]:
    return ["private", *(o.name for o in c.objects("vlan"))]


@list_of("VLAN")
def _vlans(c: Cluster) -> list[str]:
    return ["private", *(o.name for o in c.objects("vlan"))]


@list_of("PublicNetwork")
def _public_networks(c: Cluster) -> list[str]:
    return [o.name for o in c.objects("public_network")]


@list_of("SrvMgmtGroup")
def _srvmgmt_groups(c: Cluster) -> list[str]:
    return [o.name for o in c.objects("srvmgmt_group")]


@list_of("KeyStore")
def _key_stores(c: Cluster) -> list[str]:
    return [o.name for o in c.objects("key_store")]
