"""Support's debug information: /cluster1/support (SupportDebugInfo)."""

from __future__ import annotations

import base64
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import support
from exaop.model.cluster import Cluster

SUPPORT = ObjectType("SupportDebugInfo")
m = SUPPORT.method
CONTENT = (
    "a gzip'ed tar of debuginfo/log.txt (the cluster's log), settings.json (the cluster's properties), "
    "state.json (every object's state) and support.json (getSupportData); no password or hash is in it"
)


@m("getProperties", "read", "Support's debug information has no settings: an empty dictionary.", returns="struct")
def get_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {}


@m("downloadDebugInfo", "operate", f"The debug information as base64 text: {CONTENT}.")
def download_debug_info(ctx: Context, c: Cluster) -> str:
    return base64.b64encode(support.archive(c)).decode()


@m("estimateDebugInfoSize", "read", "The size in bytes of the archive downloadDebugInfo gives now (before base64).",
   returns="int")  # fmt: skip
def estimate_debug_info_size(ctx: Context, c: Cluster) -> int:
    return len(support.archive(c))


@m("storeDebugInfo", "operate", f"Store the debug information ({CONTENT}) on an archive volume, where it uses its "
   "size; returns the file's name.")  # fmt: skip
def store_debug_info(ctx: Context, c: Cluster, volume: str) -> str:
    return support.store(c, volume)


@m("getSupportData", "read", "What support asks first: cluster, versions, license, EXAoperation's node, the nodes' "
   "and services' states, EXAStorage, volumes, databases and the log's size.", returns="struct")  # fmt: skip
def get_support_data(ctx: Context, c: Cluster) -> dict[str, Any]:
    return support.support_data(c)
