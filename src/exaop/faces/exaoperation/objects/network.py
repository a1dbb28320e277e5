"""Private networks (VLANs), public networks and routes: /cluster1/vlan1, /cluster1/pubnet1, /cluster1/route1."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import add_method, configurable_type, description_lookups
from exaop.model.cluster import Cluster
from exaop.model.network import VLAN, PublicNetwork, Route

m = CLUSTER.method

VLAN_TYPE = configurable_type(VLAN, "NodeClusterVLAN", "editNodeClusterVLAN")
PUBLIC_NETWORK_TYPE = configurable_type(PublicNetwork, "NodeClusterPublicNetwork", "editNodeClusterPublicNetwork")
ROUTE_TYPE = configurable_type(Route, "NodeClusterRoute", "editNodeClusterRoute")

add_method(CLUSTER, "addVLAN", VLAN, intro="Add a private network (a VLAN of the cluster's nodes). Returns its "
           "object name (vlan1, vlan2 ...).")  # fmt: skip
add_method(CLUSTER, "addPublicNetwork", PublicNetwork, intro="Add a public network the nodes can be connected "
           "to. Returns its object name (pubnet1 ...).")  # fmt: skip
add_method(CLUSTER, "addRoute", Route, intro="Add a static route for the cluster's nodes. Returns its object "
           "name (route1 ...).")  # fmt: skip
description_lookups(CLUSTER, VLAN, "getVLAN", "getVLANDescription", "private network")
description_lookups(CLUSTER, PublicNetwork, "getPublicNetwork", "getPublicNetworkDescription", "public network")


@m("getAllVLANs", "read", "The object names of the private networks, sorted.", returns="array")
def get_all_vlans(ctx: Context, c: Cluster) -> list[str]:
    return [o.name for o in c.objects(VLAN.kind)]


@m("getAllPublicNetworks", "read", "The object names of the public networks, sorted.", returns="array")
def get_all_public_networks(ctx: Context, c: Cluster) -> list[str]:
    return [o.name for o in c.objects(PublicNetwork.kind)]


@m("getAllRoutes", "read", "The routes: for each, a dictionary with its object name and settings.",
   returns="array")  # fmt: skip
def get_all_routes(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [{"name": o.name, **o.properties()} for o in c.objects(Route.kind)]
