"""Server management card groups (/cluster1/srvmgmt1): how the nodes' BMCs are reached.

A group holds what every card of its nodes shares: the card's type (IPMI, Redfish ...),
where the cards sit (the private network, or public addresses each node names in
``ip_addr_ipmi``) and the credentials. A node names its group in ``ipmi_group``
(editNode). The power drivers (issue 9) read a node's card through :func:`bmc_of`; the
password comes back in clear only there (``secret``), never from a getter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.model.configurable import refuse_if_used
from exaop.model.errors import UsageError
from exaop.model.lists import list_values
from exaop.model.network import _Network as Described  # a kind whose objects carry a unique descriptive name
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.node import Node


class SrvMgmtGroup(Described):
    kind = "srvmgmt_group"
    TITLE = "server management group"
    PREFIX = "srvmgmt"
    DESCRIPTION = "ipmi_description"
    SCHEMA = Schema("server management group", [
        Field("ipmi_description", "TextLine", "A name for the group, unique in the cluster.", required=True),
        Field("ipmi_type", "Choice", "The kind of card: how a power driver talks to it.", required=True,
              choices=lambda o: list_values(o.cluster, "SrvMgmtTypes")),
        Field("ipmi_username", "TextLine", "The user the cards are logged in with.", required=True),
        Field("ipmi_password", "Password", "The cards' password ('' for none)."),
        Field("ipmi_password_multiline", "Password", "A password of several lines (a key), used instead of "
              "ipmi_password; set at most one of the two."),
        Field("public_ip_addresses", "Bool", "True: the cards have public addresses, each node gives its own in "
              "ip_addr_ipmi; False: the cards are on the cluster's private network."),
    ])  # fmt: skip

    def members(self) -> list[str]:
        """The nodes whose card belongs to this group."""
        return sorted(n for n, node in self.cluster.nodes.items() if node.config().get("ipmi_group") == self.name)

    def check(self, values: dict[str, Any], creating: bool) -> None:
        super().check(values, creating)
        if values.get("ipmi_password") and values.get("ipmi_password_multiline"):
            raise UsageError("set ipmi_password or ipmi_password_multiline, not both ('' clears one)")
        if values.get("public_ip_addresses") and not creating:
            missing = [n for n in self.members() if not self.cluster.nodes[n].config().get("ip_addr_ipmi")]
            if missing:
                raise UsageError(f"public_ip_addresses: node(s) {', '.join(missing)} of group {self.name} have no "
                                 "ip_addr_ipmi; give them one with editNode first")  # fmt: skip

    def check_delete(self) -> None:
        refuse_if_used(f"server management group {self.name}", [f"node {n}" for n in self.members()])

    def password(self) -> str:
        """The cards' password in clear (the multi-line one when that is set): for drivers only."""
        return self.secret("ipmi_password_multiline") or self.secret("ipmi_password")


@dataclass(frozen=True)
class Bmc:
    """What a power driver needs to reach one node's card."""

    node: str
    group: str  # the group's object name
    type: str  # ipmi_type: IPMI, Redfish ...
    public: bool  # the card has a public address (``address``) rather than a private one
    address: str  # ip_addr_ipmi ('' for a card on the private network: reached by its MAC)
    mac: str  # mac_addr_ipmi
    username: str
    password: str


def group_of(cluster: Cluster, name: str) -> SrvMgmtGroup | None:
    obj = cluster.object_at(name) if name else None
    return obj if isinstance(obj, SrvMgmtGroup) else None


def bmc_of(node: Node) -> Bmc | None:
    """The node's server management card, or None when the node names no group."""
    config = node.config()
    group = group_of(node.cluster, config.get("ipmi_group", ""))
    if group is None:
        return None
    return Bmc(node=node.name, group=group.name, type=group.values["ipmi_type"],
               public=bool(group.values.get("public_ip_addresses")), address=config.get("ip_addr_ipmi", ""),
               mac=config.get("mac_addr_ipmi", ""), username=group.values["ipmi_username"],
               password=group.password())  # fmt: skip
