"""Methods every published object has: introspection and list values."""

from __future__ import annotations

from typing import Any

from exaop.model.errors import NotFound, UsageError
from exaop.rpc.dispatch import Context
from exaop.rpc.registry import ObjectType

COMMON = ObjectType("common")

TIME_ZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo"]
STATIC_LISTS: dict[str, list[str]] = {
    "Days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "DiskTypes": ["OS", "Swap", "Data", "Storage"],
    "RaidTypes": ["none", "RAID 1", "RAID 10"],
    "EncrTypes": ["none", "aes128", "aes256"],
    "SrvMgmtTypes": ["IPMI", "Redfish", "HP iLO", "Dell iDRAC", "command"],
    "Mtu": ["1500", "9000"],
    "KeyStoreTypes": ["none"],
    "ScalingGovernor": ["performance", "powersave", "ondemand"],
    "BootInterface": ["eth0", "eth1"],
    "TimeZones": TIME_ZONES,
}


def list_values(ctx: Context, name: str) -> list[Any]:
    c = ctx.cluster
    dynamic = {
        "Nodes": lambda: c.database_node_names(),
        "NodesReserve": lambda: c.database_node_names(),
        "NodesDeactivate": lambda: c.database_node_names(),
        "NodesReactivate": lambda: c.database_node_names(),
        "Databases": lambda: sorted(c.databases),
        "Volumes": lambda: sorted(c.volumes),
        "EXASolutionVersions": lambda: sorted({c.version, *(d.version for d in c.databases.values())}),
        "DataDisks": lambda: ["d01_data"],
        "StorageDisks": lambda: ["d01_data"],
        "StorageVolumeNodes": lambda: c.database_node_names(),
        "Users": lambda: sorted(c.users.by_login),
        "DatabaseNetworkInterfaces": lambda: ["private"],
        "VLAN": lambda: ["private"],
        "PublicNetwork": lambda: [],
        "SrvMgmtGroup": lambda: [],
        "KeyStore": lambda: [],
    }
    if name in dynamic:
        return dynamic[name]()
    if name in STATIC_LISTS:
        return list(STATIC_LISTS[name])
    known = sorted([*dynamic, *STATIC_LISTS])
    raise UsageError(f"unknown list {name!r}; known lists: {', '.join(known)}")


@COMMON.method("listMethods", "read", "The names of the methods this object offers.", returns="array")
def list_methods(ctx: Context, obj: Any) -> list[str]:
    return ctx.type.names(ctx.cluster)


@COMMON.method("listObjects", "read", "The names of the objects below this one.", returns="array")
def list_objects(ctx: Context, obj: Any) -> list[str]:
    return sorted(ctx.type.children(ctx, obj)) if ctx.type.children else []


@COMMON.method("methodHelp", "read", "A description of the named method and its parameters.")
def method_help(ctx: Context, obj: Any, method_name: str) -> str:
    m = ctx.type.lookup(method_name.removeprefix("system."), ctx.cluster)
    if m is None:
        raise NotFound(f"Object {method_name} not found: {ctx.url_path} has no method of that name")
    params = ", ".join(p.name + ("=None" if p.optional else "") for p in m.params)
    text = f"{m.help}\n\nUsage: `{ctx.path[-1]}.{m.name}({params})`"
    if m.aliases and method_name != m.name:
        text += f"\n\nSame as `{m.name}`."
    return text


@COMMON.method(
    "methodSignature",
    "read",
    "The method's signatures: lists of the return type followed by the parameter types.",
    returns="array",
)
def method_signature(ctx: Context, obj: Any, method_name: str) -> list[list[str]]:
    m = ctx.type.lookup(method_name.removeprefix("system."), ctx.cluster)
    if m is None:
        raise NotFound(f"Object {method_name} not found: {ctx.url_path} has no method of that name")
    return m.signature()


@COMMON.method("getPath", "read", "This object's absolute path and its name relative to its parent.", returns="array")
def get_path(ctx: Context, obj: Any) -> list[str]:
    return [ctx.url_path, ctx.path[-1]]


@COMMON.method(
    "getListValues",
    "read",
    "The values of a named list, such as Nodes, Databases, Volumes, Users or EXASolutionVersions.",
    returns="array",
)
def get_list_values(ctx: Context, obj: Any, list_name: str) -> list[Any]:
    return list_values(ctx, list_name)
