"""Nodes beyond power: their configuration (addNode, editNode, copyNode, deletion, XML), boot
modes that take effect at the next boot, cluster services (Suspended), reset, ID LED, sensors."""

from __future__ import annotations

import base64

from exaop.model import node_config
from exaop.model.network import VLAN
from exaop.model.srvmgmt import SrvMgmtGroup
from tests.unit.modelkit import Sim, keeping_passwords, refusal, without_jitter

NEW = {"number": 15, "mac_addr_eth0": "00:25:90:00:00:15", "mac_addr_eth1": "00:25:90:01:00:15",
       "spool_disk": "d02_data"}  # fmt: skip


def sim() -> Sim:
    return keeping_passwords(without_jitter(Sim()))


def test_a_new_node_is_off_and_installed_at_its_first_boot() -> None:
    s = sim()
    node = node_config.add_node(s.c, NEW)
    assert node.name == "n0015" and node.status == "Powered off" and node.mode == "To install"
    assert "n0015" in s.c.database_node_names()
    assert node.properties()["node_unique_id"] == "cluster1-0015" and node.properties()["external_number"] == 15
    assert refusal(node.set_active_mode) == "n0015 was never installed: it is installed at its first boot"
    node.startup()
    assert node.boot_modes == ["install"]
    s.advance(240 + 1)
    assert node.state == "booting"  # an install takes longer than a boot
    s.advance(600)
    assert node.status == "Running" and node.installed and node.mode == "Active"
    assert "Node n0015 installed (EXAClusterOS 6.2.17)" in s.messages()
    assert s.messages(node="n0015")[-1] == "Boot process finished after 840 seconds"


def test_add_refusals_name_the_field_and_add_nothing() -> None:
    s = sim()
    assert refusal(node_config.add_node, s.c, {**NEW, "number": 10}) == "number must be at least 11, got 10"
    assert refusal(node_config.add_node, s.c, {**NEW, "number": 11}) == "number 11: node n0011 already exists"
    assert refusal(node_config.add_node, s.c, {**NEW, "mac_addr_eth0": "02:00:00:00:00:0b"}) == \
        "MAC address 02:00:00:00:00:0b is already used by n0011"  # fmt: skip
    assert refusal(node_config.add_node, s.c, {**NEW, "mac_addr_eth1": "zz"}).startswith(
        "mac_addr_eth1 'zz' is not a MAC address"
    )
    assert refusal(node_config.add_node, s.c, {k: v for k, v in NEW.items() if k != "spool_disk"}) == \
        "missing required field(s) for a new node: spool_disk"  # fmt: skip
    assert refusal(node_config.add_node, s.c, {**NEW, "external_number": 12}) == \
        "public address 10.60.1.12 is already used by n0012"  # fmt: skip
    assert refusal(node_config.add_node, s.c, {**NEW, "vlan_list": {"vlan9": "eth2"}}).startswith(
        "vlan_list: unknown network(s) vlan9"
    )
    assert s.c.database_node_names() == ["n0011", "n0012", "n0013", "n0014"]


def test_edit_checks_the_whole_configuration_and_reports_what_changed() -> None:
    s = sim()
    n = s.node("n0011")
    s.c.add_object(SrvMgmtGroup, {"ipmi_description": "public", "ipmi_type": "Redfish", "ipmi_username": "u",
                                  "public_ip_addresses": True})  # fmt: skip
    assert refusal(node_config.edit, n, {"ipmi_group": "srvmgmt1"}) == \
        "ip_addr_ipmi is required: the cards of group srvmgmt1 have public addresses"  # fmt: skip
    assert node_config.edit(n, {"ipmi_group": "srvmgmt1", "ip_addr_ipmi": "192.0.2.11", "idstring": "rack 3"}) == \
        ["idstring", "ip_addr_ipmi", "ipmi_group"]  # fmt: skip
    assert node_config.edit(n, {"idstring": "rack 3"}) == []
    assert refusal(node_config.edit, n, {"force_fsck": True, "force_no_fsck": True}) == \
        "force_fsck and force_no_fsck cannot both be set"  # fmt: skip
    assert refusal(node_config.edit, n, {"number": 99}) == "number of a node cannot be changed (set when it is added)"
    assert refusal(node_config.edit, n, {"hugepages": 384}) == "hugepages must be below the node's memory (384 GiB), " \
        "got 384"  # fmt: skip
    s.c.add_object(VLAN, {"vlan_description": "a", "mtu": "1500"})
    s.c.add_object(VLAN, {"vlan_description": "b", "mtu": "1500", "bonding_network": "vlan1"})
    node_config.edit(n, {"vlan_list": {"vlan1": "eth2", "vlan2": "eth3"}})
    assert n.bonding_active_slaves() == {"bond-vlan1-vlan2": []}  # not up: no active interface
    assert refusal(s.c.delete_child, "vlan1").startswith("private network vlan1 is still used by node n0011")


def test_copy_and_xml_round_trip_and_delete() -> None:
    s = sim()
    node_config.edit(s.node("n0011"), {"cpu_scaling_governor": "powersave", "idstring": "template"})
    copy = node_config.copy_node(s.node("n0011"), {"number": 21})
    assert copy.name == "n0021" and copy.config()["cpu_scaling_governor"] == "powersave"
    assert copy.config()["mac_addr_eth0"] == "02:00:00:00:00:15" and copy.config()["external_number"] == 21
    text = node_config.nodes_xml(s.c)
    assert 'name="n0021"' in text and "<cpu_scaling_governor>powersave</cpu_scaling_governor>" in text
    encoded = base64.b64encode(text.encode()).decode()
    assert refusal(node_config.add_nodes_from_xml, s.c, encoded) == \
        "node n0011 exists; pass overwrite=True to give it the description's settings"  # fmt: skip
    assert node_config.add_nodes_from_xml(s.c, encoded, True)[:2] == ["n0011", "n0012"]  # no change: still valid
    one = text[: text.index("<node ")] + text[text.index('<node name="n0021"') :]  # only n0021, renamed:
    added = node_config.add_nodes_from_xml(s.c, one.replace("n0021", "n0022").replace(">21<", ">22<")
                                           .replace(":00:15<", ":00:16<").replace("cluster1-0021", ""))  # fmt: skip
    assert added == ["n0022"] and s.c.nodes["n0022"].config()["idstring"] == "template"
    assert refusal(node_config.add_nodes_from_xml, s.c, "<nodes><node name='n0030'><numbr>30</numbr></node></nodes>") \
        .startswith("node n0030: unknown element <numbr>")  # fmt: skip
    assert refusal(s.c.delete_child, "n0011") == "n0011 is still used by database exa_db1, volume v0000, volume v0001"
    s.c.delete_child("n0022")
    assert "n0022" not in s.c.nodes
    s.node("n0021").startup()
    assert refusal(s.c.delete_child, "n0021") == "n0021 is booting; power it off before deleting it"


def test_license_limits_new_nodes() -> None:
    s = sim()
    s.c.settings.license["maxnodes"] = 5
    node_config.add_node(s.c, NEW)
    assert refusal(node_config.add_node, s.c, {**NEW, "number": 16, "mac_addr_eth0": "00:25:90:00:00:16",
                                               "mac_addr_eth1": "00:25:90:01:00:16"}) == \
        "the license allows 5 nodes; the cluster has 5"  # fmt: skip


def test_boot_flags_take_effect_at_the_next_boot_then_clear() -> None:
    s = sim()
    n = s.node("n0011")
    s.boot("n0011")
    n.set_wipe_mode()
    n.set_mode("force_fsck")
    assert n.mode == "To wipe" and n.status == "Running"  # nothing happens until the next boot
    assert "Node n0011 holds segments of volume(s) v0000, v0001: the wipe at its next boot erases them" in s.messages()
    n.set_mode("force_no_fsck")
    assert n.config()["force_fsck"] is False  # one or the other
    n.shutdown(reboot=True)
    s.settle("node_shutdown")
    assert n.boot_modes == ["wipe", "install", "no_fsck"]
    assert s.messages(node="n0011")[-1] == ("Node n0011 is booting (wiping its disks, installing, skipping the file "
                                            "system check)")  # fmt: skip
    s.advance(240 + 1200 + 600 + 1)
    assert n.status == "Running" and n.mode == "Active"
    assert not any(n.config()[f] for f in node_config.BOOT_FLAGS)
    assert "Node n0011: disks wiped; its segments of volume(s) v0000, v0001 are gone" in s.messages()


def test_stopped_cluster_services_suspend_a_node_for_storage_and_databases() -> None:
    s = sim()
    s.boot()
    n = s.node("n0013")
    s.storage_online()
    n.stop_services()
    assert n.status == "Suspended" and not n.online and n.up
    assert "EXAStorage lost a node: node n0013 was suspended (its cluster services stopped); running degraded" \
        in s.messages()  # fmt: skip
    s.db_running()  # the database starts without it, on its reserve node
    assert s.db.node_sets() == {"active": ["n0011", "n0012", "n0014"], "failed": ["n0013"], "reserve": []}
    assert refusal(s.node("n0011").stop_services) == "n0011 runs database(s) exa_db1; stop them first"
    assert refusal(s.node("n0010").stop_services) == "n0010 runs EXAoperation; move it with restartEXAoperation first"
    n.start_services()
    assert n.status == "Running" and n.online
    assert refusal(n.start_services) == "the cluster services of n0013 are running"


def test_reset_reboots_at_once_and_refuses_under_storage() -> None:
    s = sim()
    s.boot("n0011")
    n = s.node("n0011")
    n.reset()
    assert n.status == "Booting" and "Node n0011 reset" in s.messages()
    s.settle("node_boot")
    s.boot("n0012", "n0013", "n0014")
    s.storage_online()
    assert refusal(n.reset).startswith("EXAStorage is online on n0011")
    assert refusal(s.node("n0010").reset) == "n0010 runs EXAoperation; resetting it would end EXAoperation"
    assert refusal(s.c.nodes["n0011"].reset) and n.status == "Running"


def test_id_led_and_sensors_follow_the_machine() -> None:
    s = sim()
    n = s.node("n0011")
    assert n.toggle_id_led() == "on" and n.info()["id_led"] == "on"
    off = {r["name"]: r for r in n.sensors()}
    assert off["Power"]["value"] == "off" and off["ID LED"]["value"] == "on" and off["CPU1 Temp"]["value"] == "na"
    s.boot("n0011")
    on = {r["name"]: r for r in n.sensors()}
    assert on["Power"]["value"] == "on" and on["CPU2 Temp"]["status"] == "ok" and on["CPU2 Temp"]["value"].isdigit()
