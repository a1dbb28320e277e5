"""Log service objects (/cluster1/logservice1)."""

from __future__ import annotations

from typing import Any

from exaop.model.logs import LogService, strtime
from exaop.rpc.dispatch import Context
from exaop.rpc.registry import ObjectType

LOGSERVICE = ObjectType("LogService")
m = LOGSERVICE.method


@m("logEntries", "read", "The messages this service shows for its default interval: "
   "[interval start, interval end, entries], each entry a dictionary with strtime, system, node, "
   "priority and message.", returns="array")  # fmt: skip
def log_entries(ctx: Context, svc: LogService) -> list[Any]:
    entries = svc.entries()
    return [entries[0]["strtime"] if entries else strtime(ctx.cluster.now), strtime(ctx.cluster.now), entries]


@m("logEntriesTagged", "read", "Like logEntries, but only the messages not yet given to this tag: "
   "a monitor polling with its own tag sees each message once.", returns="array")  # fmt: skip
def log_entries_tagged(ctx: Context, svc: LogService, tag: str) -> list[Any]:
    entries = svc.entries_tagged(tag)
    return [entries[0]["strtime"] if entries else strtime(ctx.cluster.now), strtime(ctx.cluster.now), entries]


@m("getProperties", "read", "The log service's settings.", returns="struct")
def get_properties(ctx: Context, svc: LogService) -> dict[str, Any]:
    return svc.properties()


@m("editLogService", "operate", "Change the log service's settings; returns the names of the fields that changed.",
   returns="array")  # fmt: skip
def edit_log_service(ctx: Context, svc: LogService, values: dict) -> list[str]:
    return svc.configure(values)
