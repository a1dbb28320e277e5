"""The cluster's networks: private networks (VLANs), public networks and static routes.

Settings only: the simulated nodes send no packets. The rules are those of a real
cluster's configuration: unique descriptions, a bonding partner that exists, addresses
that parse, and no deleting a network something is configured to use.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from exaop.model.configurable import Configurable, refuse_if_used
from exaop.model.errors import UsageError
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

MTUS = ("1500", "9000")


def _others(kind: str) -> Any:
    """Choices for bonding_network: the other networks of ``kind`` ('' for none)."""

    def choices(obj: Configurable) -> list[str]:
        return ["", *(o.name for o in obj.cluster.objects(kind) if o is not obj)]

    return choices


def _network_address(obj: Any, value: str) -> None:
    if value:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise UsageError(f"network_address {value!r} is not a network such as 192.168.16.0/24") from None


def _users_of_network(cluster: Cluster, name: str, field: str) -> list[str]:
    """Who is configured to use the network ``name``: nodes and databases with it in ``field``."""
    users = [f"database {db.name}" for db in cluster.databases.values() if name in getattr(db, "vlan_list", [])]
    users += [f"node {n}" for n, node in cluster.nodes.items() if name in getattr(node, field, {})]
    users += [f"{o.TITLE} {o.name}" for kind in (VLAN.kind, PublicNetwork.kind)
              for o in cluster.objects(kind) if o.values.get("bonding_network") == name]  # fmt: skip
    return users


class _Network(Configurable):
    DESCRIPTION = ""  # the field holding the descriptive name

    def check(self, values: dict[str, Any], creating: bool) -> None:
        text = values[self.DESCRIPTION]
        if not text.strip():
            raise UsageError(f"{self.DESCRIPTION} must not be empty")
        for other in self.cluster.objects(self.kind):
            if other is not self and other.values.get(self.DESCRIPTION) == text:
                raise UsageError(f"{self.DESCRIPTION} {text!r} is already used by {other.name}")

    @classmethod
    def by_description(cls, cluster: Cluster, text: Any) -> str:
        """The name of the network described as ``text`` ('' when there is none)."""
        for o in cluster.objects(cls.kind):
            if o.values.get(cls.DESCRIPTION) == text:
                return o.name
        return ""

    @classmethod
    def description_of(cls, cluster: Cluster, name: Any) -> str:
        for o in cluster.objects(cls.kind):
            if o.name == name:
                return str(o.values.get(cls.DESCRIPTION, ""))
        return ""


class VLAN(_Network):
    kind = "vlan"
    TITLE = "private network"
    PREFIX = "vlan"
    DESCRIPTION = "vlan_description"
    SCHEMA = Schema("private network", [
        Field("vlan_description", "TextLine", "A name for the network, unique in the cluster.", required=True),
        Field("mtu", "Choice", "Largest packet size on the network, in bytes.", required=True, choices=MTUS),
        Field("bonding_network", "Choice", "Another private network to bond this one with ('' for none).",
              choices=_others("vlan")),
    ])  # fmt: skip

    def check_delete(self) -> None:
        refuse_if_used(f"private network {self.name}", _users_of_network(self.cluster, self.name, "vlan_list"))


class PublicNetwork(_Network):
    kind = "public_network"
    TITLE = "public network"
    PREFIX = "pubnet"
    DESCRIPTION = "public_network_description"
    SCHEMA = Schema("public network", [
        Field("public_network_description", "TextLine", "A name for the network, unique in the cluster.",
              required=True),
        Field("mtu", "Choice", "Largest packet size on the network, in bytes.", required=True, choices=MTUS),
        Field("network_address", "TextLine", "The network in CIDR form, such as 192.168.16.0/24.",
              check=_network_address),
        Field("bonding_network", "Choice", "Another public network to bond this one with ('' for none).",
              choices=_others("public_network")),
    ])  # fmt: skip

    def check_delete(self) -> None:
        refuse_if_used(f"public network {self.name}", _users_of_network(self.cluster, self.name, "public_network_list"))


class Route(Configurable):
    kind = "route"
    TITLE = "route"
    PREFIX = "route"
    SCHEMA = Schema("route", [
        Field("route_type", "Choice", "Network (to a network) or Host (to one address).", required=True,
              choices=("Network", "Host")),
        Field("route_destination", "TextLine", "Where the route leads: a network such as 10.2.0.0/16, or a "
              "host address.", required=True),
        Field("route_gateway", "TextLine", "The address of the gateway packets go through.", required=True),
    ])  # fmt: skip

    def check(self, values: dict[str, Any], creating: bool) -> None:
        dest, gateway = values["route_destination"], values["route_gateway"]
        try:
            if values["route_type"] == "Host":
                ipaddress.ip_address(dest)
            else:
                ipaddress.ip_network(dest, strict=False)
        except ValueError:
            want = "an address" if values["route_type"] == "Host" else "a network such as 10.2.0.0/16"
            raise UsageError(f"route_destination {dest!r} is not {want}") from None
        try:
            ipaddress.ip_address(gateway)
        except ValueError:
            raise UsageError(f"route_gateway {gateway!r} is not an address") from None
        for other in self.cluster.objects(self.kind):
            if other is not self and other.values.get("route_destination") == dest:
                raise UsageError(f"{other.name} already routes {dest}")
