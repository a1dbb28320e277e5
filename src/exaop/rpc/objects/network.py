"""Private networks (VLANs), public networks and routes: /cluster1/vlan1, /cluster1/pubnet1, /cluster1/route1."""

from __future__ import annotations

from typing import Any

from exaop.model.cluster import Cluster
from exaop.model.network import VLAN, PublicNetwork, Route
from exaop.rpc.dispatch import Context
from exaop.rpc.objects.cluster import CLUSTER
from exaop.rpc.objects.kinds import add_method, configurable_type

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


@m("getAllVLANs", "read", "The object names of the private networks, sorted.", returns="array")
def get_all_vlans(ctx: Context, c: Cluster) -> list[str]:
    return [o.name for o in c.objects(VLAN.kind)]


@m("getVLAN", "read", "The object name of the private network with this description ('' when there is none).")
def get_vlan(ctx: Context, c: Cluster, description: str) -> str:
    return VLAN.by_description(c, description)


@m("getVLANDescription", "read", "The description of the private network with this object name ('' when "
   "there is none).")  # fmt: skip
def get_vlan_description(ctx: Context, c: Cluster, name: str) -> str:
    return VLAN.description_of(c, name)


@m("getAllPublicNetworks", "read", "The object names of the public networks, sorted.", returns="array")
def get_all_public_networks(ctx: Context, c: Cluster) -> list[str]:
    return [o.name for o in c.objects(PublicNetwork.kind)]


@m("getPublicNetwork", "read", "The object name of the public network with this description ('' when there "
   "is none).")  # fmt: skip
def get_public_network(ctx: Context, c: Cluster, description: str) -> str:
    return PublicNetwork.by_description(c, description)


@m("getPublicNetworkDescription", "read", "The description of the public network with this object name ('' "
   "when there is none).")  # fmt: skip
def get_public_network_description(ctx: Context, c: Cluster, name: str) -> str:
    return PublicNetwork.description_of(c, name)


@m("getAllRoutes", "read", "The routes: for each, a dictionary with its object name and settings.",
   returns="array")  # fmt: skip
def get_all_routes(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [{"name": o.name, **o.properties()} for o in c.objects(Route.kind)]
