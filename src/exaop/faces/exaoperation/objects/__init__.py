"""One module per published object kind; here they are joined into the object tree."""

from __future__ import annotations

from typing import Any

import exaop.faces.exaoperation.objects.node_disks  # noqa: F401 - publishes the disk methods on nodes
import exaop.faces.exaoperation.objects.remote_volume  # noqa: F401 - publishes its methods on the cluster
from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects import (  # noqa: F401 - each publishes its methods
    bucketfs,
    databases,
    jdbc,
    keystore,
    network,
    settings,
    software,
    srvmgmt,
)
from exaop.faces.exaoperation.objects.cluster import CLUSTER, child_names
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.objects.database import DATABASE
from exaop.faces.exaoperation.objects.kinds import TYPES
from exaop.faces.exaoperation.objects.logservice import LOGSERVICE
from exaop.faces.exaoperation.objects.node import NODE
from exaop.faces.exaoperation.objects.setup import SETUP, SETUP_COMMAND, SETUP_NODE_NUMBER, SETUP_VALUE
from exaop.faces.exaoperation.objects.simulation import SIMULATION
from exaop.faces.exaoperation.objects.storage import STORAGE
from exaop.faces.exaoperation.objects.support import SUPPORT
from exaop.faces.exaoperation.objects.users import USERS
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.cluster import Cluster
from exaop.model.errors import NotFound


def _cluster_child(ctx: Context, c: Cluster, name: str) -> tuple[ObjectType, Any] | None:
    if name == "storage":
        return STORAGE, c.storage
    if name == "users":
        return USERS, c.users
    if name == "simulation":
        return (SIMULATION, c) if c.simulated else None
    if name == "support":
        return SUPPORT, c
    if name == "setup":
        return SETUP, c
    if name.startswith("db_"):
        db = c.databases.get(name[3:])
        if db is None:
            raise NotFound(f"Object {name} not found in /{c.name}")
        return DATABASE, db
    if name in c.nodes:
        return NODE, c.nodes[name]
    if name in c.logservices:
        return LOGSERVICE, c.logservices[name]
    obj = c.object_at(name)
    return (TYPES[obj.kind], obj) if obj is not None else None


CLUSTER.child = _cluster_child
CLUSTER.children = lambda ctx, c: child_names(c)

for _type in (CLUSTER, STORAGE, DATABASE, NODE, LOGSERVICE, USERS, SUPPORT, SETUP, SETUP_COMMAND, SETUP_NODE_NUMBER,
              SETUP_VALUE, *TYPES.values()):  # fmt: skip
    _type.include(COMMON)
SIMULATION.include(COMMON, permission="manage")  # even what it offers is for Master only

ROOT = CLUSTER
__all__ = ["ROOT"]
