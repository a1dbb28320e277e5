"""Node objects (/cluster1/n0011), and the cluster's node methods: addNode, addNodesFromXML,
getClusterNodesAsXMLBase64, activateNodes, numberOfAvailableNodes.
(The node's disk methods are in node_disks.py.)"""

from __future__ import annotations

import base64
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import node_config, software
from exaop.model.cluster import Cluster
from exaop.model.errors import UsageError
from exaop.model.node import Node

NODE = ObjectType("Node")
m = NODE.method
OK = "OK"
BOOT_FLAG_HELP = "It takes effect at the node's next boot (which then takes longer and is logged), then clears."


@m("getNodeState", "read", "This node's state as a dictionary; 'status' is 'Running' once it is up, 'Suspended' "
   "while its cluster services are stopped; 'mode' is 'Active' or what its next boot does; 'power' is the "
   "machine's power as its management card reported it last, 'power_read' when, 'power_error' the last failure "
   "of a power request.",
   returns="struct")  # fmt: skip
def get_node_state(ctx: Context, n: Node) -> dict[str, Any]:
    return n.state_dict()


@m("nodeRunning", "read", "Whether this node is up and part of the cluster (False while suspended).",
   returns="boolean")  # fmt: skip
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


@m("resetNode", "operate", "Reset this node at once (power cut and on again, no shutdown) and boot it; refused "
   "while a database or EXAStorage runs on it. Returns at once.")  # fmt: skip
def reset_node(ctx: Context, n: Node) -> str:
    n.reset()
    return OK


@m("getNodeInfo", "read", "What this node is: number, addresses, hardware, power driver, mode, cluster services, "
   "ID LED, server management group.", returns="struct")  # fmt: skip
def get_node_info(ctx: Context, n: Node) -> dict[str, Any]:
    return n.info()


@m("operationGetCurrent", "read", "What this node is doing: 'None', 'Booting', 'Installing', 'Wiping' or "
   "'Shutting down'.")  # fmt: skip
def operation_get_current(ctx: Context, n: Node) -> str:
    if n.state == "booting":
        return "Wiping" if "wipe" in n.boot_modes else ("Installing" if "install" in n.boot_modes else "Booting")
    return {"shutting_down": "Shutting down"}.get(n.state, "None")


@m("getProperties", "read", "This node's configuration (the fields of editNode, its number and node_unique_id).",
   returns="struct")  # fmt: skip
def get_properties(ctx: Context, n: Node) -> dict[str, Any]:
    return n.properties()


@m("editNode", "operate", "Change this node's configuration: a dictionary with any of these fields, checked "
   "together (MAC and public addresses unique in the cluster ...) before anything changes. Disk layout fields "
   "take effect when the node is installed again. Returns the names of the fields that changed.\n\n"
   + fields_help(node_config.SCHEMA, creating=False), returns="array")  # fmt: skip
def edit_node(ctx: Context, n: Node, values: dict) -> list[str]:
    return node_config.edit(n, values)


@m("copyNode", "operate", "Add a node configured like this one: copyNode(number, external_number, mac_addr_eth0, "
   "mac_addr_eth1, mac_addr_ipmi, ip_addr_ipmi, idstring, vlan_list, public_network_list) - or one dictionary of "
   "those. Only number is needed: MAC addresses not given are made from it, the others default to this node's. "
   "The new node is powered off and installed at its first boot. Returns its name.")  # fmt: skip
def copy_node(ctx: Context, n: Node, number: int | dict, external_number: int = 0, mac_addr_eth0: str = "",
              mac_addr_eth1: str = "", mac_addr_ipmi: str = "", ip_addr_ipmi: str = "", idstring: str = "",
              vlan_list: dict | None = None, public_network_list: dict | None = None) -> str:  # fmt: skip
    if isinstance(number, dict):
        given = dict(number)
    else:
        given = {"number": number, "external_number": external_number, "mac_addr_eth0": mac_addr_eth0,
                 "mac_addr_eth1": mac_addr_eth1, "mac_addr_ipmi": mac_addr_ipmi, "ip_addr_ipmi": ip_addr_ipmi,
                 "idstring": idstring, "vlan_list": vlan_list, "public_network_list": public_network_list}  # fmt: skip
    unknown = sorted(set(given) - set(node_config.COPY_PARAMS))
    if unknown:
        takes = ", ".join(node_config.COPY_PARAMS)
        raise UsageError(f"copyNode: unknown field(s) {', '.join(unknown)}; it takes {takes}")
    return node_config.copy_node(n, given).name


# deleteSubObject (a disk), the disks as children and the disk methods: faces/exaoperation/objects/node_disks.py


@m("setInstallMode", "operate", "Install this node at its next boot. " + BOOT_FLAG_HELP)
def set_install_mode(ctx: Context, n: Node) -> str:
    n.set_mode("to_install")
    return OK


@m("setWipeMode", "operate", "Wipe this node's disks at its next boot, then install it: the data on it, "
   "EXAStorage segments included, is erased. " + BOOT_FLAG_HELP)  # fmt: skip
def set_wipe_mode(ctx: Context, n: Node) -> str:
    n.set_wipe_mode()
    return OK


@m("setForceFSCKMode", "operate", "Check this node's file systems at its next boot. " + BOOT_FLAG_HELP)
def set_force_fsck_mode(ctx: Context, n: Node) -> str:
    n.set_mode("force_fsck")
    return OK


@m("setForceNoFSCKMode", "operate", "Skip the file system check at this node's next boot. " + BOOT_FLAG_HELP)
def set_force_no_fsck_mode(ctx: Context, n: Node) -> str:
    n.set_mode("force_no_fsck")
    return OK


@m("setActiveMode", "operate", "Clear this node's boot flags (install, wipe, fsck): it boots as it is, available "
   "to every cluster service. Refused for a node never installed.")  # fmt: skip
def set_active_mode(ctx: Context, n: Node) -> str:
    n.set_active_mode()
    return OK


@m("stopClusterServices", "operate", "Stop this node's cluster services: it keeps running but is 'Suspended' - "
   "not online for EXAStorage (which runs degraded without it, and cannot start unless told to ignore it), "
   "databases or plugins. Refused while a database runs on it, and on the node that runs EXAoperation.")  # fmt: skip
def stop_cluster_services(ctx: Context, n: Node) -> str:
    n.stop_services()
    return OK


@m("startClusterServices", "operate", "Start this node's cluster services again (a boot starts them too).")
def start_cluster_services(ctx: Context, n: Node) -> str:
    n.start_services()
    return OK


@m("toggleIdLed", "operate", "Switch the ID LED of this node's machine on or off (to find it in the rack); "
   "returns 'on' or 'off'. Shown in getNodeInfo and the sensors.")  # fmt: skip
def toggle_id_led(ctx: Context, n: Node) -> str:
    return n.toggle_id_led()


@m("getSrvMgmtSensorStatus", "read", "The sensors of this node's management card: dictionaries with name, value, "
   "unit and status (power, ID LED, temperatures, fans, power supplies; 'na' without power).",
   aliases=("getIPMISensorStatus",), returns="array")  # fmt: skip
def get_srvmgmt_sensor_status(ctx: Context, n: Node) -> list[dict[str, str]]:
    return n.sensors()


@m("getBondingActiveSlaves", "read", "This node's bonded networks and their active interfaces: {bond: [interfaces]} "
   "(a bond is two networks of the node bonded in their settings; no interface is active while the node is "
   "not up).", returns="struct")  # fmt: skip
def get_bonding_active_slaves(ctx: Context, n: Node) -> dict[str, list[str]]:
    return n.bonding_active_slaves()


# -- on the cluster ---------------------------------------------------------------------------------

c_m = CLUSTER.method


@c_m("addNode", "operate", "Add a database node: powered off, with the profile's hardware, installed at its first "
     "boot. Returns its name (n + four digits of its number).\n\nFields (a dictionary):\n"
     + fields_help(node_config.SCHEMA, creating=True))  # fmt: skip
def add_node(ctx: Context, c: Cluster, values: dict) -> str:
    return node_config.add_node(c, values).name


@c_m("addNodesFromXML", "operate", "Add the nodes of an XML description: addNodesFromXML(xml_description, "
     "overwrite). The description is what getClusterNodesAsXMLBase64 gives (base64, or the XML itself): "
     "<nodes><node name='n0015'><number>15</number><mac_addr_eth0>...</mac_addr_eth0>...</node></nodes>, one "
     "element per field of addNode. Existing nodes are refused unless overwrite is True, which gives them the "
     "description's settings. Everything is checked before anything changes. Returns the nodes' names.",
     returns="array")  # fmt: skip
def add_nodes_from_xml(ctx: Context, c: Cluster, xml_description: str, overwrite: bool = False) -> list[str]:
    return node_config.add_nodes_from_xml(c, xml_description, overwrite)


@c_m("getClusterNodesAsXMLBase64", "read", "The database nodes' configurations as XML, base64-encoded (the "
     "format addNodesFromXML reads).")  # fmt: skip
def get_cluster_nodes_as_xml_base64(ctx: Context, c: Cluster) -> str:
    return base64.b64encode(node_config.nodes_xml(c).encode()).decode()


@c_m("activateNodes", "operate", "setActiveMode for each node of the list (every node is checked first).")
def activate_nodes(ctx: Context, c: Cluster, nodes_list: list) -> str:
    nodes = [c.node(name) for name in nodes_list]
    never = [n.name for n in nodes if not n.installed]
    if never:
        raise UsageError(f"{', '.join(never)} never installed: installed at the first boot, not activated")
    for n in nodes:
        n.set_active_mode()
    return OK


@c_m("numberOfAvailableNodes", "read", "How many more database nodes the license allows (1048576: no limit).",
     returns="int")  # fmt: skip
def number_of_available_nodes(ctx: Context, c: Cluster) -> int:
    return software.available_nodes(c)
