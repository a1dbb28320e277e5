"""A database's settings and what follows from them: addDatabase as the public README does it,
refusals naming the field, node lists, enlarging, shrinking, quotas, maintenance, keytabs,
versions, deleting, and records written before the schema."""

from __future__ import annotations

import pytest

from exaop.model.cluster import Cluster
from exaop.model.database import Database
from exaop.model.errors import NotFound
from exaop.model.software import installed_versions, remove_version
from tests.unit.modelkit import DB_NODES, Sim, refusal, without_jitter

README = {"clients_port_number": 2568, "data_disk": "d02_data", "database_name": "db1",
          "database_version": "6.0.dev5", "memory_usage": 4, "nodes_list": DB_NODES, "nodes_number": 4}  # fmt: skip


def test_the_readme_example_takes_a_free_data_volume_and_its_figures_are_the_volumes() -> None:
    s = without_jitter(Sim())
    s.boot()
    s.storage_online()
    vol = s.c.add_volume("Data", 8, DB_NODES)  # what the README's addStorageVolume makes
    db = s.c.add_database(dict(README))
    assert db.volume == vol.vid and db.properties()["data_disk"] == "d02_data"
    assert "6.0.dev5" in installed_versions(s.c)
    db.create()
    assert db.info()["temporary volume"] == "None" and db.info()["usage persistent"] == 0.0
    db.start()
    temp = s.c.volumes[db.info()["temporary volume"]]
    assert (temp.owner, temp.size_gib, temp.nodes, temp.redundancy) == ("db_db1", 1, DB_NODES, 1)
    s.advance(105)
    assert db.info()["connectible"] == "Yes" and db.info()["connection string"] == "10.50.1.11..14:2568"
    assert db.info()["usage persistent"] == vol.usage.get("db:db1", 0.0) == 0.0
    assert s.c.databases["exa_db1"].info()["usage persistent"] == s.c.volumes["v0000"].usage["db:exa_db1"] == 225.0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"data_disk": "d07"}, "data_disk must be one of: d02_data; got 'd07'"),
        ({"data_volume": "v0009"}, "data_volume must be one of: v0002; got 'v0009'"),
        ({"data_volume": "v0000"}, "data_volume must be one of: v0002; got 'v0000'"),  # exa_db1's
        ({"nodes_list": ["n0011", "n0010"]}, "nodes_list: unknown value(s) n0010; allowed: n0011, n0012, n0013, "
                                             "n0014"),
        ({"nodes_number": 5}, "nodes_number must be from 1 to the 4 nodes in nodes_list"),
        ({"clients_port_number": 8563}, "clients_port_number 8563 is already used by database exa_db1"),
        ({"clients_port_number": 80}, "clients_port_number must be at least 1024, got 80"),
        ({"database_version": "six"}, "database_version 'six' is not an EXASolution 6 version: use "
                                      "6.<minor>[.<patch>], optionally with a suffix such as .dev5 or -rc1 "
                                      "(installed: 6.2.17)"),
        ({"database_comment": "x" * 201}, "database_comment is limited to 200 characters, got 201"),
        ({"volume_restore_delay": "later"}, "volume_restore_delay 'later' is not a duration such as '10m', '1h' "
                                            "or '2h 30m'"),
        ({"vlan_list": ["vlan7"]}, "vlan_list: unknown value(s) vlan7; allowed: private"),
        ({"nodes_list_deactivate": ["n0011"]}, "nodes_list_deactivate: only for editDatabase; a new database "
                                               "takes nodes_list"),
        ({"colour": "red"}, "unknown field(s) colour; database has: clients_port_number, data_disk, data_volume, "
                            "database_comment, database_name, database_version, enable_auditing, extra_params, "
                            "krb_host, krb_realm, krb_service, ldap_server, memory_usage, nodes_list, "
                            "nodes_list_add_reserve, nodes_list_deactivate, nodes_list_reactivate, "
                            "nodes_list_remove_reserve, nodes_number, vlan_list, volume_quota, volume_restore_delay"),
    ],
)  # fmt: skip
def test_add_database_refusals_name_the_field(change: dict, reason: str) -> None:
    s = Sim()
    s.c.add_volume("Data", 8, DB_NODES)
    assert refusal(s.c.add_database, {**README, **change}) == reason
    assert sorted(s.c.databases) == ["exa_db1"] and installed_versions(s.c) == ["6.2.17"]


def test_node_lists_are_edited_while_stopped() -> None:
    s = Sim()
    db = s.db
    assert db.node_sets() == {"active": ["n0011", "n0012", "n0013"], "failed": [], "reserve": ["n0014"]}
    assert db.configure({"nodes_list_deactivate": ["n0012"]}) == ["nodes_list", "nodes_list_deactivate"]
    assert db.node_sets() == {"active": ["n0011", "n0014", "n0013"], "failed": ["n0012"], "reserve": []}
    assert refusal(db.configure, {"nodes_list_deactivate": ["n0011"]}) == (
        "nodes_list_deactivate: no reserve node can take the place of n0011"
    )
    assert refusal(db.configure, {"nodes_list_reactivate": ["n0011"]}) == (
        "nodes_list_reactivate: n0011 is not a failed node of exa_db1"
    )
    db.configure({"nodes_list_reactivate": ["n0012"], "nodes_list_remove_reserve": []})
    assert db.node_sets() == {"active": ["n0011", "n0014", "n0013"], "failed": [], "reserve": ["n0012"]}
    db.configure({"nodes_list_remove_reserve": ["n0012"]})
    assert db.nodes_list == ["n0011", "n0014", "n0013"] and db.properties()["nodes_list"] == db.nodes_list
    assert refusal(db.configure, {"nodes_list_add_reserve": ["n0013"]}) == (
        "nodes_list_add_reserve: n0013 is already a node of exa_db1"
    )
    db.configure({"nodes_list_add_reserve": ["n0012"]})
    assert db.reserve == ["n0012"] and db.properties()["nodes_list_add_reserve"] == []
    assert refusal(db.configure, {"nodes_number": 4}) == (
        "nodes_number of a database cannot be changed (set when it is added)"
    )


def test_enlarge_is_for_a_stopped_database_with_reserve_nodes() -> None:
    s = without_jitter(Sim())
    s.all_up()
    assert refusal(s.db.enlarge, 1) == "database exa_db1 must be stopped to be enlarged (state running)"
    s.db.stop()
    s.settle("database_stop")
    assert refusal(s.db.enlarge, 0) == "count_of_added_active_nodes must be a whole number of at least 1"
    s.db.enlarge(1)
    assert s.db.nodes_number == 4 and s.db.reserve == [] and s.db.active == DB_NODES
    assert "Database exa_db1 enlarged by 1 node(s) (n0014) to 4 active nodes; this cannot be undone" in (
        s.messages(priority="Warning")
    )
    assert refusal(s.db.enlarge, 1) == "database exa_db1 has 0 reserve node(s) (none); it cannot add 1 active nodes"


def test_shrink_and_abort_and_the_quota_at_start() -> None:
    s = without_jitter(Sim())
    s.all_up()
    db = s.db
    assert (db.data_gib, db.allocated_gib) == (180, 225)
    assert refusal(db.start_shrink, 225) == (
        "target_size_in_gb 225 is not below the database's size on v0000, 225.000 GiB"
    )
    db.start_shrink(200)
    assert refusal(db.start_backup, "v0001", 0, "1w") == (
        "database exa_db1 cannot start a backup: operation Shrink is in progress"
    )
    s.settle("database_shrink")
    assert db.operation == "None" and db.allocated_gib == 200 and s.c.volumes["v0000"].usage["db:exa_db1"] == 200
    assert refusal(db.abort_shrink) == "database exa_db1 is not shrinking"
    # a quota is met at the next start as far as the data allows
    db.stop()
    s.settle("database_stop")
    db.configure({"volume_quota": 150})
    db.start()
    assert db.allocated_gib == 180 and db.info()["quota"] == 150
    assert "Database exa_db1 holds 180.000 GiB of data, more than its quota of 150 GiB" in s.messages("Warning")


def test_maintenance_mode_runs_without_connections() -> None:
    s = without_jitter(Sim())
    s.boot()
    s.storage_online()
    s.db.start(maintenance=True)
    s.settle("database_start")
    s.advance(3600)
    db = s.db
    assert (db.state, db.connectible, db.maintenance) == ("running", False, True)
    assert db.info()["info"] == "maintenance mode: clients cannot connect"
    db.start_backup("v0001", 0, "")  # backups work in maintenance mode
    s.settle("database_backup")
    assert len(s.c.table("backup")) == 1
    db.stop()
    s.settle("database_stop")
    assert db.maintenance is False


def test_keytabs() -> None:
    s = Sim()
    assert refusal(s.db.upload_keytab, b"") == "the keytab is empty"
    assert refusal(s.db.upload_keytab, b"\x05\x02" + b"x" * 70000) == (
        "the keytab is 70002 bytes; at most 65536 are accepted"
    )
    s.db.upload_keytab(b"\x05\x02rest")
    assert s.db.keytab["size"] == 6 and len(s.db.keytab["sha256"]) == 64
    s.db.remove_keytab()
    assert s.db.keytab == {}


def test_versions_and_deleting_a_database() -> None:
    s = Sim()
    s.c.add_volume("Data", 8, DB_NODES)
    db = s.c.add_database(dict(README))
    assert installed_versions(s.c) == ["6.0.dev5", "6.2.17"]
    assert refusal(remove_version, s.c, "6.0.dev5") == (
        "EXASolution 6.0.dev5 is used by database(s) db1; change their database_version first"
    )
    s.c.logservices["logservice1"].exasolution_systems.append("db1")
    s.c.delete_child("db_db1")
    assert "db1" not in s.c.databases and "db1" not in s.c.logservices["logservice1"].exasolution_systems
    assert s.c.volumes[db.volume].usage == {}
    remove_version(s.c, "6.0.dev5")
    assert installed_versions(s.c) == ["6.2.17"]
    with pytest.raises(NotFound, match="^Object db_db1 not found in /cluster1$"):
        s.c.delete_child("db_db1")
    s.all_up()
    assert refusal(s.c.delete_child, "db_exa_db1") == "database exa_db1 must be stopped to be deleted (state running)"


def test_a_record_from_before_the_schema_loads_with_its_settings() -> None:
    s = Sim()
    old = {"state": "setup", "operation": "None", "connectible": False, "port": 8599, "version": "6.2.17",
           "nodes_list": DB_NODES, "nodes_number": 2, "volume": "v0000", "memory_gib": 64, "comment": "old",
           "extra_params": "", "ldap_server": "", "enable_auditing": False, "volume_quota": 0,
           "volume_restore_delay": "", "active": [], "failed": [], "errors": [], "start_fail": False,
           "backup": {}, "backups": [], "restart_after_stop": False, "deadline": None}  # fmt: skip
    db = Database.from_record(s.c, "legacy", old)
    props = db.properties()
    assert (props["clients_port_number"], props["memory_usage"], props["database_comment"]) == (8599, 64, "old")
    assert (props["database_name"], props["data_volume"]) == ("legacy", "v0000")
    assert db.active == ["n0011", "n0012"] and db.reserve == ["n0013", "n0014"]
    again = Database.from_record(s.c, "legacy", db.record())
    assert again.record() == db.record()


def test_a_profile_database_can_be_left_uncreated() -> None:
    s = Sim()
    raw = dict(s.profile.raw)
    raw["databases"] = [{"name": "later", "created": False, "port": 8600, "volume": "v0000"}]
    from exaop.engine.profile import parse_profile

    c = Cluster.from_profile(parse_profile(raw), s.now, s.c.drivers)
    db = c.databases["later"]
    assert db.state == "none" and db.allocated_gib == 0 and c.volumes["v0000"].usage == {}
