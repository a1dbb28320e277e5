"""A node's configuration (the Node schema of addNode / editNode / getProperties) and the
cluster-wide node operations: addNode, copyNode, deleting a node, and the nodes as XML
(getClusterNodesAsXMLBase64 / addNodesFromXML).

The nodes of the profile have a configuration made from their number (MAC addresses in
the locally administered range, the first data disk for spool data ...); a node keeps
only what was set on it (``Node.values``) over those defaults. The boot flags
(``to_install``, ``to_wipe``, ``force_fsck``, ``force_no_fsck``) are fields here and modes in
model/node.py: they take effect at the node's next boot.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from exaop.model import software
from exaop.model.errors import UsageError
from exaop.model.lists import list_values
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.node import Node

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_INTERFACE = re.compile(r"^(eth|bond|ib)\d{1,3}$")
MAC_FIELDS = ("mac_addr_eth0", "mac_addr_eth1", "mac_addr_ipmi")
#: the first octet of the MAC addresses made for a node's interfaces (locally administered)
MAC_PREFIX = {"mac_addr_eth0": "02", "mac_addr_eth1": "06", "mac_addr_ipmi": "0a"}


def _mac(field: str, required: bool) -> Any:
    def check(obj: Any, value: str) -> None:
        if (value or required) and not _MAC.match(value.lower()):
            raise UsageError(f"{field} {value!r} is not a MAC address such as 00:25:90:ab:cd:ef")

    return check


def _ipmi_address(obj: Any, value: str) -> None:
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise UsageError(f"ip_addr_ipmi {value!r} is not an IP address") from None


def _interfaces(field: str, kind: str) -> Any:
    """vlan_list / public_network_list: {network object name: the node's interface for it}."""

    def check(obj: Any, value: dict[str, Any]) -> None:
        networks = [o.name for o in obj.cluster.objects(kind)]
        unknown = sorted(k for k in value if k not in networks)
        if unknown:
            raise UsageError(f"{field}: unknown network(s) {', '.join(unknown)}; "
                             f"the networks are: {', '.join(networks) or 'none'}")  # fmt: skip
        bad = sorted(str(v) for v in value.values() if not isinstance(v, str) or not _INTERFACE.match(v))
        if bad:
            raise UsageError(f"{field}: {', '.join(bad)} is not an interface name such as eth2 or bond0")
        if len(set(value.values())) != len(value):
            raise UsageError(f"{field} names an interface twice")

    return check


def _listed(name: str, extra: tuple[str, ...] = ()) -> Any:
    return lambda o: [*extra, *list_values(o.cluster, name)]


SCHEMA = Schema("node", [
    Field("number", "Int", "The node's number: its name is n + four digits (n0011); 0-10 are reserved.",
          required=True, add_only=True, minimum=11, maximum=9999),
    Field("node_unique_id", "TextLine", "An identifier of the node in this cluster (made from the cluster's name "
          "and the number when not given).", add_only=True, max_len=64),
    Field("external_number", "Int", "Added to external_network's address to make the node's public address "
          "(0: the node's number).", minimum=0, maximum=65535),
    Field("idstring", "TextLine", "A text to recognise the node by (asset tag, rack place).", max_len=128),
    Field("mac_addr_eth0", "TextLine", "MAC address of the first interface (private network, PXE boot).",
          required=True, check=_mac("mac_addr_eth0", True)),
    Field("mac_addr_eth1", "TextLine", "MAC address of the second interface.", required=True,
          check=_mac("mac_addr_eth1", True)),
    Field("mac_addr_ipmi", "TextLine", "MAC address of the server management card.",
          check=_mac("mac_addr_ipmi", False)),
    Field("ipmi_group", "Choice", "The server management group the node's card belongs to ('' none): its type "
          "and credentials are the group's.", choices=_listed("SrvMgmtGroup", ("",))),
    Field("ip_addr_ipmi", "TextLine", "The card's public address (needed when its group uses public addresses).",
          check=_ipmi_address),
    Field("boot_interface", "Choice", "The interface the node boots from over PXE.", default="eth0",
          choices=_listed("BootInterface")),
    Field("console_redirect", "Bool", "Send the kernel's output to the serial console."),
    Field("cpu_scaling_governor", "Choice", "The CPUs' power scheme.", default="performance",
          choices=_listed("ScalingGovernor")),
    Field("hugepages", "Int", "Memory (GiB) in huge pages for the databases; 0 for none.", minimum=0,
          maximum=1 << 20),
    Field("devices", "List", "The disk devices of the node's disks ([]: the cluster's default_devices).",
          max_len=64),
    Field("diskenc", "Choice", "Encryption of the data disks ('': the cluster's default_diskenc).",
          choices=_listed("EncrTypes", ("",))),
    Field("diskraid", "Choice", "Software RAID of the disks ('': the cluster's default_diskraid).",
          choices=_listed("RaidTypes", ("",))),
    Field("raidredundancy", "Int", "Copies of each block with RAID 10 (0: the cluster's default).", minimum=0,
          maximum=8),
    Field("use_4kib", "Bool", "Align the disks to 4 KiB sectors."),
    Field("spool_disk", "Choice", "The disk for spool data of loading processes.", required=True,
          choices=_listed("DataDisks")),
    Field("vlan_list", "FixedDict", "Extra private networks: {network object name: interface}.",
          check=_interfaces("vlan_list", "vlan")),
    Field("public_network_list", "FixedDict", "Extra public networks: {network object name: interface}.",
          check=_interfaces("public_network_list", "public_network")),
    Field("to_install", "Bool", "Install the node at its next boot (takes longer; logged; then cleared)."),
    Field("to_wipe", "Bool", "Wipe the node's disks at its next boot, then install it (takes much longer)."),
    Field("force_fsck", "Bool", "Check the file systems at the next boot."),
    Field("force_no_fsck", "Bool", "Skip the file system check at the next boot."),
])  # fmt: skip
BOOT_FLAGS = ("to_install", "to_wipe", "force_fsck", "force_no_fsck")


def default_mac(field: str, number: int) -> str:
    return f"{MAC_PREFIX[field]}:00:00:00:{number >> 8:02x}:{number & 0xFF:02x}"


def defaults(cluster: Cluster, number: int) -> dict[str, Any]:
    """The configuration of a node of the profile with this number."""
    out = {f.name: f.empty() for f in SCHEMA}
    disks = list_values(cluster, "DataDisks")
    out.update(number=number, node_unique_id=f"{cluster.name}-{number:04d}", external_number=number,
               mac_addr_eth0=default_mac("mac_addr_eth0", number), mac_addr_eth1=default_mac("mac_addr_eth1", number),
               mac_addr_ipmi=default_mac("mac_addr_ipmi", number), spool_disk=disks[0] if disks else "")  # fmt: skip
    return out


def public_ip(cluster: Cluster, config: dict[str, Any]) -> str:
    net = ipaddress.ip_network(cluster.settings.values["external_network"], strict=False)
    number = config["external_number"] or config["number"]
    return str(net.network_address + number) if number < net.num_addresses else ""


def check(cluster: Cluster, name: str, config: dict[str, Any],
          others: list[tuple[str, dict[str, Any]]] | None = None) -> None:  # fmt: skip
    """Rules of a node's whole configuration against the other nodes (and ``others``: nodes
    about to be added with it). Raises UsageError; changes nothing."""
    for f in MAC_FIELDS[:2]:
        config[f] = config[f].lower()
    if config["mac_addr_ipmi"]:
        config["mac_addr_ipmi"] = config["mac_addr_ipmi"].lower()
    if config["mac_addr_eth0"] == config["mac_addr_eth1"]:
        raise UsageError("mac_addr_eth0 and mac_addr_eth1 must differ")
    if config["force_fsck"] and config["force_no_fsck"]:
        raise UsageError("force_fsck and force_no_fsck cannot both be set")
    node = cluster.nodes.get(name)
    memory = int((cluster.hardware_of(node) if node else cluster.profile.hardware).get("memory_gib", 0))
    if memory and config["hugepages"] >= memory:
        raise UsageError(f"hugepages must be below the node's memory ({memory} GiB), got {config['hugepages']}")
    group = cluster.object_at(config["ipmi_group"]) if config["ipmi_group"] else None
    if group is not None and group.values.get("public_ip_addresses") and not config["ip_addr_ipmi"]:
        raise UsageError(f"ip_addr_ipmi is required: the cards of group {group.name} have public addresses")
    mine = _unique_values(cluster, config)
    everyone = [(n, other.config()) for n, other in cluster.nodes.items() if n != name] + list(others or [])
    for other, their in everyone:
        clash = mine & _unique_values(cluster, their)
        if clash:
            what, value = sorted(clash)[0]
            raise UsageError(f"{what} {value} is already used by {other}")


def _unique_values(cluster: Cluster, config: dict[str, Any]) -> set[tuple[str, str]]:
    out = {("MAC address", config[f]) for f in MAC_FIELDS if config.get(f)}
    if config.get("ip_addr_ipmi"):
        out.add(("ip_addr_ipmi", config["ip_addr_ipmi"]))
    address = public_ip(cluster, config) if "number" in config else ""
    if address:
        out.add(("public address", address))
    return out


def edit(node: Node, values: Any) -> list[str]:
    """editNode: a dictionary of fields, checked with the node's whole configuration first."""
    new = SCHEMA.validate(values, node, creating=False)
    before = node.config()
    merged = {**before, **new}
    check(node.cluster, node.name, merged)
    changed = sorted(k for k in new if before.get(k) != merged[k])
    if not changed:
        return []
    node.values.update({k: merged[k] for k in changed})
    node.changed()
    c = node.cluster
    if {"ipmi_group", "ip_addr_ipmi"} & set(changed):
        c.power_epoch += 1  # the node's port (or its card's address) is another now
        node.forget_inventory()  # what the old card told is not this card's
    c.log("EXAoperation", node.name, "Notice", f"node {node.name}: changed {', '.join(changed)}")
    layout = [k for k in changed if k in ("devices", "diskenc", "diskraid", "raidredundancy", "use_4kib")]
    if layout:
        c.log("EXAoperation", node.name, "Notice",
              f"node {node.name}: {', '.join(layout)} take(s) effect when the node is installed again")  # fmt: skip
    return changed


# -- adding, copying and deleting nodes ---------------------------------------------------------------


def _new_config(cluster: Cluster, values: Any) -> dict[str, Any]:
    from exaop.model.node import Node

    new = SCHEMA.validate(values, Node(cluster, "n0000"), creating=True)
    number = new["number"]
    new["node_unique_id"] = new["node_unique_id"] or f"{cluster.name}-{number:04d}"
    new["external_number"] = new["external_number"] or number
    return new


def _check_new(cluster: Cluster, config: dict[str, Any], others: list[tuple[str, dict[str, Any]]]) -> str:
    name = f"n{config['number']:04d}"
    if name in cluster.nodes or any(n == name for n, _ in others):
        raise UsageError(f"number {config['number']}: node {name} already exists")
    if cluster.object_at(name) is not None:
        raise UsageError(f"number {config['number']}: {name} is the name of another object")
    if software.available_nodes(cluster) <= len(others):
        raise UsageError(f"the license allows {cluster.settings.license['maxnodes']} nodes; the cluster has "
                         f"{len(cluster.database_node_names())}")  # fmt: skip
    check(cluster, name, config, others)
    return name


def _add(cluster: Cluster, name: str, config: dict[str, Any], how: str) -> Node:
    from exaop.model.node import Node

    node = Node(cluster, name)
    node.values = config
    node.installed = False
    cluster.nodes[name] = node
    cluster.touch(node)
    cluster.power_epoch += 1
    cluster.log("EXAoperation", name, "Notice", f"node {name} {how}: powered off, installed at its first boot")
    return node


def add_node(cluster: Cluster, values: Any) -> Node:
    """addNode: a new database node, powered off, with the profile's hardware; it is installed
    at its first boot."""
    config = _new_config(cluster, values)
    name = _check_new(cluster, config, [])
    return _add(cluster, name, config, "added")


COPY_PARAMS = ("number", "external_number", "mac_addr_eth0", "mac_addr_eth1", "mac_addr_ipmi", "ip_addr_ipmi",
               "idstring", "vlan_list", "public_network_list")  # fmt: skip


def copy_node(node: Node, given: dict[str, Any]) -> Node:
    """copyNode: a new node configured as ``node`` except its number, addresses and what ``given``
    sets (MAC addresses not given are made from the new number)."""
    number = given.get("number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise UsageError("copyNode needs the new node's number")
    values = {k: v for k, v in node.config().items() if k not in ("node_unique_id", *MAC_FIELDS, "ip_addr_ipmi",
                                                                  "external_number")}  # fmt: skip
    values.update({f: default_mac(f, number) for f in MAC_FIELDS})
    values.update({k: v for k, v in given.items() if v not in ("", None, {}) and k in COPY_PARAMS})
    config = _new_config(node.cluster, values)
    name = _check_new(node.cluster, config, [])
    return _add(node.cluster, name, config, f"added as a copy of {node.name}")


def remove_node(cluster: Cluster, node: Node) -> None:
    """Delete a node: only a powered-off database node that no database or volume uses."""
    if node.license_server:
        raise UsageError(f"{node.name} is a license server; it cannot be deleted")
    if node.state != "off":
        raise UsageError(f"{node.name} is {node.status.lower()}; power it off before deleting it")
    users = [f"database {db.name}" for db in cluster.databases.values() if node.name in db.nodes_list]
    users += [f"volume {v.vid}" for v in cluster.volumes.values() if node.name in v.nodes]
    if users:
        raise UsageError(f"{node.name} is still used by {', '.join(users)}")
    children = cluster.children_of(node)  # type: ignore[arg-type]  # its disks: the storage module's objects
    for child in children:
        child.check_delete()
    for child in children:
        cluster.delete_object(child)
    node.set_deadline(None)
    del cluster.nodes[node.name]
    cluster.forget(node)
    cluster.log("EXAoperation", "", "Notice", f"node {node.name} deleted")


# -- the nodes as XML -------------------------------------------------------------------------------------


def nodes_xml(cluster: Cluster) -> str:
    """The database nodes' configurations as XML: <nodes><node name=...><field>value</field>..."""
    root = Element("nodes", cluster=cluster.name)
    for name in cluster.database_node_names():
        config = cluster.nodes[name].config()
        el = SubElement(root, "node", name=name)
        for f in SCHEMA:
            value = config[f.name]
            child = SubElement(el, f.name)
            if f.type == "List":
                for item in value:
                    SubElement(child, "item").text = str(item)
            elif f.type == "FixedDict":
                for k, v in sorted(value.items()):
                    SubElement(child, "entry", key=k).text = str(v)
            else:
                child.text = str(value)
    return tostring(root, encoding="unicode")


def _from_xml(el: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for child in el:
        f = SCHEMA.fields.get(child.tag)
        if f is None:
            raise UsageError(f"node {el.get('name', '?')}: unknown element <{child.tag}>; "
                             f"a node has: {', '.join(SCHEMA.names())}")  # fmt: skip
        text = (child.text or "").strip()
        if f.type == "List":
            values[f.name] = [(i.text or "").strip() for i in child.iter("item")]
        elif f.type == "FixedDict":
            values[f.name] = {e.get("key", ""): (e.text or "").strip() for e in child.iter("entry")}
        elif f.type == "Bool":
            if text.lower() not in ("true", "false", "1", "0"):
                raise UsageError(f"node {el.get('name', '?')}: <{f.name}> must be True or False, got {text!r}")
            values[f.name] = text.lower() in ("true", "1")
        else:
            values[f.name] = text  # numbers as text: the schema converts them
    return values


def add_nodes_from_xml(cluster: Cluster, text: Any, overwrite: Any = False) -> list[str]:
    """addNodesFromXML: add the nodes an XML description (as getClusterNodesAsXMLBase64 writes it,
    plain or base64) holds; with ``overwrite`` the existing nodes of those names take the
    description's settings. All are checked before any is added. Returns the names."""
    if not isinstance(overwrite, bool):
        raise UsageError("overwrite must be True or False")
    if not isinstance(text, str) or not text.strip():
        raise UsageError("xml_description must be the nodes' XML (or that XML in base64)")
    text = text.strip()
    if not text.startswith("<"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UsageError("xml_description is neither XML nor base64 of XML") from None
    try:
        root = ElementTree.fromstring(text, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as e:
        raise UsageError(f"xml_description is not valid XML: {e}") from None
    if root.tag != "nodes" or not len(root) or any(el.tag != "node" for el in root):
        raise UsageError("xml_description must be <nodes> holding one <node> element per node")

    adds: list[tuple[str, dict[str, Any]]] = []
    edits: list[tuple[Node, dict[str, Any]]] = []
    for el in root:
        values = _from_xml(el)
        name = el.get("name") or (f"n{int(values['number']):04d}" if str(values.get("number", "")).isdigit() else "")
        node = cluster.nodes.get(name)
        if node is not None:
            if not overwrite:
                raise UsageError(f"node {name} exists; pass overwrite=True to give it the description's settings")
            if node.license_server:
                raise UsageError(f"{name} is a license server; its settings are not changed from XML")
            settings = {k: v for k, v in values.items() if not SCHEMA.fields[k].add_only}
            new = SCHEMA.validate(settings, node, creating=False)
            merged = {**node.config(), **new}
            check(cluster, name, merged, [(n, c) for n, c in adds])
            edits.append((node, new))
        else:
            config = _new_config(cluster, values)
            if el.get("name") and el.get("name") != f"n{config['number']:04d}":
                raise UsageError(f"node {el.get('name')}: its number is {config['number']}")
            adds.append((_check_new(cluster, config, adds), config))
    for node, new in edits:
        edit(node, new)
    for name, config in adds:
        _add(cluster, name, config, "added from XML")
    return [n.name for n, _ in edits] + [n for n, _ in adds]
