"""Node objects (/cluster1/n0011)."""

from __future__ import annotations

from typing import Any

from exaop.model.node import Node
from exaop.rpc.dispatch import Context
from exaop.rpc.registry import ObjectType

NODE = ObjectType("Node")
m = NODE.method
OK = "OK"


@m("getNodeState", "read", "This node's state as a dictionary; 'status' is 'Running' once it is up.",
   returns="struct")  # fmt: skip
def get_node_state(ctx: Context, n: Node) -> dict[str, Any]:
    return n.state_dict()


@m("nodeRunning", "read", "Whether this node is up.", returns="boolean")
def node_running(ctx: Context, n: Node) -> bool:
    return n.online


@m("startupNode", "operate", "Power this node on and boot it; returns at once.")
def startup_node(ctx: Context, n: Node) -> str:
    n.startup()
    return OK


@m("shutdownNode", "operate", "Shut this node down and power it off; returns at once.")
def shutdown_node(ctx: Context, n: Node) -> str:
    n.shutdown()
    return OK


@m("rebootNode", "operate", "Shut this node down and boot it again; returns at once.")
def reboot_node(ctx: Context, n: Node) -> str:
    n.shutdown(reboot=True)
    return OK


@m("poweroffNode", "operate", "Cut this node's power at once, without a shutdown. Also ends a boot that hangs.")
def poweroff_node(ctx: Context, n: Node) -> str:
    n.poweroff()
    return OK


@m("getNodeInfo", "read", "What this node is: number, addresses, hardware, power driver.", returns="struct")
def get_node_info(ctx: Context, n: Node) -> dict[str, Any]:
    return n.info()


@m("operationGetCurrent", "read", "What this node is doing: 'None', 'Booting' or 'Shutting down'.")
def operation_get_current(ctx: Context, n: Node) -> str:
    return {"booting": "Booting", "shutting_down": "Shutting down"}.get(n.state, "None")


@m("getProperties", "read", "This node's settings.", returns="struct")
def get_properties(ctx: Context, n: Node) -> dict[str, Any]:
    return {
        "number": n.number,
        "external_number": n.number,
        "idstring": n.name,
        "power_driver": n.driver,
        "license_server": n.license_server,
    }
