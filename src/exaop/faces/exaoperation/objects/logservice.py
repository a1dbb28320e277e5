"""Log service objects (/cluster1/logservice1)."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any

from exaop.faces.exaoperation.codec import Encoded, escape
from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.logs import LogEntry, LogService, strtime

LOGSERVICE = ObjectType("LogService")
m = LOGSERVICE.method

#: log entries never change once written: each is marshalled once and remembered (by value,
#: so equal entries of two clusters in one process share their text), the newest this many
_WRITTEN: OrderedDict[LogEntry, bytes] = OrderedDict()
WRITTEN_MAX = 20_000


def _member(name: str, value: str, kind: str = "string") -> str:
    return f"<member>\n<name>{name}</name>\n<value><{kind}>{value}</{kind}></value>\n</member>\n"


def _written(e: LogEntry) -> bytes:
    """The entry as xmlrpc.client marshals ``e.as_dict()``, byte for byte."""
    text = _WRITTEN.get(e)
    if text is None:
        text = _WRITTEN[e] = (
            "<value><struct>\n"
            + _member("id", str(e.id), "int")
            + _member("strtime", strtime(e.t))
            + _member("system", escape(e.system))
            + _member("node", escape(e.node))
            + _member("priority", escape(e.priority))
            + _member("message", escape(e.message))
            + "</struct></value>\n"
        ).encode("utf-8")
        if len(_WRITTEN) > WRITTEN_MAX:
            with contextlib.suppress(KeyError):  # an embedded server in another thread took it first
                _WRITTEN.popitem(last=False)
    return text


def page(at: float, entries: list[LogEntry]) -> list[Any]:
    """[interval start, interval end (``at``), entries], the entries written as XML-RPC once and kept."""
    now = strtime(at)
    array = Encoded((b"<value><array><data>\n", *map(_written, entries), b"</data></array></value>\n"))
    return [strtime(entries[0].t) if entries else now, now, array]


@m("logEntries", "read", "The messages this service shows for its default interval: "
   "[interval start, interval end, entries], each entry a dictionary with strtime, system, node, "
   "priority and message.", returns="array")  # fmt: skip
def log_entries(ctx: Context, svc: LogService) -> list[Any]:
    return page(ctx.cluster.now, svc.entries())


@m("logEntriesTagged", "read", "Like logEntries, but only the messages not yet given to this tag: "
   "a monitor polling with its own tag sees each message once.", returns="array")  # fmt: skip
def log_entries_tagged(ctx: Context, svc: LogService, tag: str) -> list[Any]:
    return page(ctx.cluster.now, svc.entries_tagged(tag))


@m("getProperties", "read", "The log service's settings.", returns="struct")
def get_properties(ctx: Context, svc: LogService) -> dict[str, Any]:
    return svc.properties()


@m("editLogService", "operate", "Change the log service's settings; returns the names of the fields that changed.",
   returns="array")  # fmt: skip
def edit_log_service(ctx: Context, svc: LogService, values: dict) -> list[str]:
    return svc.configure(values)
