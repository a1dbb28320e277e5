"""What the cluster was set up with: /cluster1/setup (NodeClusterAfterAdd) and below it the setup's
parameters, read-only: node_number (SetupNodeNumber: the node EXAoperation runs on), install_command
(SetupCommand: the command that installs a node over PXE), and one SetupValue per parameter
(cluster_name, private_network, license_server, exaoperation_nodes, version, time_zone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.cluster import Cluster

SETUP = ObjectType("NodeClusterAfterAdd")
SETUP_NODE_NUMBER = ObjectType("SetupNodeNumber")
SETUP_COMMAND = ObjectType("SetupCommand")
SETUP_VALUE = ObjectType("SetupValue")

VALUES: dict[str, Callable[[Cluster], Any]] = {
    "cluster_name": lambda c: c.name,
    "private_network": lambda c: c.profile.private_network,
    "license_server": lambda c: c.license_server_names()[0],
    "exaoperation_nodes": lambda c: ",".join(c.exaoperation_nodes()),
    "version": lambda c: c.version,
    "time_zone": lambda c: c.settings.values["time_zone"],
}


def install_command(c: Cluster) -> str:
    ls = c.license_server_names()[0]
    return (f"pxe-install --cluster {c.name} --license-server {ls} --address {c.nodes[ls].ip} "
            f"--private-network {c.profile.private_network} --version {c.version}")  # fmt: skip


CHILDREN: dict[str, ObjectType] = {"node_number": SETUP_NODE_NUMBER, "install_command": SETUP_COMMAND,
                                   **{name: SETUP_VALUE for name in VALUES}}  # fmt: skip


@SETUP.method("getProperties", "read", "The setup has no settings of its own: an empty dictionary; its parameters "
              "are the objects below it.", returns="struct")  # fmt: skip
def get_setup_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {}


SETUP.child = lambda ctx, c, name: (CHILDREN[name], c) if name in CHILDREN else None
SETUP.children = lambda ctx, c: list(CHILDREN)


@SETUP_NODE_NUMBER.method("getProperties", "read", "node_number: the number of the node EXAoperation runs on.",
                          returns="struct")  # fmt: skip
def get_node_number(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {"node_number": c.nodes[c.master.node].number}


@SETUP_COMMAND.method("getProperties", "read", "cmd: the command the license server runs to install a node.",
                      returns="struct")  # fmt: skip
def get_command(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {"cmd": install_command(c)}


@SETUP_VALUE.method("getProperties", "read", "value: this setup parameter's value.", returns="struct")
def get_value(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {"value": VALUES[ctx.path[-1]](c)}
