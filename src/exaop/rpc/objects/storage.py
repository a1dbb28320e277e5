"""The EXAStorage service object (/cluster1/storage)."""

from __future__ import annotations

from typing import Any

from exaop.model.errors import UsageError
from exaop.model.storage import Storage
from exaop.rpc.dispatch import Context
from exaop.rpc.registry import ObjectType

STORAGE = ObjectType("Storage")
m = STORAGE.method


@m("startEXAStorage", "operate", "Start EXAStorage on every database node except ignored_nodes, and "
   "answer 'OK' once it is online. Refused, naming them, while any of those nodes is not online.")  # fmt: skip
async def start_exastorage(ctx: Context, s: Storage, ignored_nodes: list | None = None) -> str:
    s.start(ignored_nodes or [])
    ctx.runtime.commit()
    await ctx.runtime.wait_until(lambda: s.settled)
    if not s.online:
        raise UsageError(s.last_error or "EXAStorage did not come online")
    return "OK"


@m("stopEXAStorage", "operate", "Stop EXAStorage and answer 'OK' once it has stopped. Refused while "
   "a database uses it.")  # fmt: skip
async def stop_exastorage(ctx: Context, s: Storage) -> str:
    s.stop()
    ctx.runtime.commit()
    await ctx.runtime.wait_until(lambda: s.settled)
    return "OK"


@m("serviceIsOnline", "read", "Whether EXAStorage is online.", returns="boolean")
def service_is_online(ctx: Context, s: Storage) -> bool:
    return s.online


@m("storageHasQuorum", "read", "Whether EXAStorage is online with more than half of its nodes.", returns="boolean")
def storage_has_quorum(ctx: Context, s: Storage) -> bool:
    return s.has_quorum()


@m("getStorageInfo", "read", "EXAStorage's state, its nodes and the nodes it ignores.", returns="struct")
def get_storage_info(ctx: Context, s: Storage) -> dict[str, Any]:
    return {
        "state": s.state,
        "online": s.online,
        "nodes": s.storage_nodes(),
        "ignored_nodes": list(s.ignored),
        "last_error": s.last_error,
    }


@m("getProperties", "read", "EXAStorage's settings.", returns="struct")
def get_properties(ctx: Context, s: Storage) -> dict[str, Any]:
    return {"vlan_list": ["private"]}
