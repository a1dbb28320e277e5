"""Server management card groups: /cluster1/srvmgmt1 (NodeClusterSrvMgmtGroup), added on the cluster."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import add_method, configurable_type, description_lookups
from exaop.model.cluster import Cluster
from exaop.model.srvmgmt import SrvMgmtGroup

m = CLUSTER.method

SRVMGMT_TYPE = configurable_type(SrvMgmtGroup, "NodeClusterSrvMgmtGroup", "editNodeClusterSrvMgmtGroup")

add_method(CLUSTER, "addSrvMgmtGroup", SrvMgmtGroup, intro="Add a group of server management cards (BMCs): "
           "their type, where they sit and their credentials. Nodes join it with editNode's ipmi_group. Returns "
           "its object name (srvmgmt1 ...).")  # fmt: skip
description_lookups(CLUSTER, SrvMgmtGroup, "getSrvMgmtGroup", "getSrvMgmtGroupDescription", "server management group")


@m("getAllSrvMgmtCardGroups", "read", "The server management groups: for each, a dictionary with its object "
   "name, settings (passwords as ******** when set) and member nodes.", returns="array")  # fmt: skip
def get_all_srvmgmt_card_groups(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [{"name": o.name, **o.properties(), "nodes": o.members()} for o in c.objects(SrvMgmtGroup.kind)]
