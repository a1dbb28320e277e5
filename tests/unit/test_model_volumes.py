"""EXAStorage volumes: placement by redundancy, room on the storage disks, figures that add up
with the nodes' getDiskStates, removal and resizing rules, recovery on the clock, archive files."""

from __future__ import annotations

import random

import pytest

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import ProfileError, parse_profile
from exaop.engine.secrets import FernetBox
from exaop.model import storage_nodes, volumes
from exaop.model.cluster import Cluster
from exaop.model.disks import disks_of
from exaop.model.errors import NotFound, UsageError
from tests.unit.modelkit import DB_NODES, T0, Sim, refusal

README_VOLUME = {"allowed_users": ["admin"], "hdd_type": "d03_storage", "masternodes": 4, "nodes_list": DB_NODES,
                 "redundancy": 1, "size": 8, "volume_type": "Data"}  # fmt: skip


def bare_sim() -> Sim:
    """A cluster like the default one, without volumes and databases (the public README's start)."""
    s = Sim()
    s.profile = parse_profile({"cluster": {"name": "cluster1"}, "nodes": {"count": 4, "first": 11}})
    s.c = Cluster.from_profile(s.profile, T0, {"simulated": SimulatedDriver()}, FernetBox())
    s.c.rng = random.Random(0)
    s.c.boot_license_server()
    from exaop.model.users import User

    admin = User(s.c, 1, "admin")
    admin.grants["cluster1"] = "Master"
    s.c.users.load(admin)
    return s


def online(s: Sim) -> Sim:
    s.boot()
    s.storage_online()
    return s


def disk_figures(c: Cluster, node: str, disk: str = "d03_storage") -> tuple[float, float]:
    state = next(d for d in c.nodes[node].disks() if d["name"] == disk)
    return float(state["size"]), float(state["free"])


def assert_figures_add_up(c: Cluster) -> None:
    """What monitoring does: each volume puts size / masters GiB on the disk of every node of every
    layer; the disk's size minus that is its free space, on every node."""
    used: dict[tuple[str, str], float] = {}
    for vid in volumes.volume_ids(c):
        info = volumes.info(c, c.volumes[vid])
        if info["remote"]:
            continue
        assert len(info["segments"]) == info["redundancy"]
        per_node = info["size"] / len(info["segments"][0])
        for layer in info["segments"]:
            for node in layer:
                used[(node, info["disk"])] = used.get((node, info["disk"]), 0.0) + per_node
    for node in c.database_node_names():
        for d in c.nodes[node].disks():
            if d["type"] == "disk-type-storage":
                assert float(d["free"]) == pytest.approx(float(d["size"]) - used.get((node, d["name"]), 0.0), abs=0.01)


def test_the_public_readme_example_on_a_fresh_cluster() -> None:
    s = online(bare_sim())
    assert volumes.volume_ids(s.c) == []
    vol = volumes.add_storage_volume(s.c, README_VOLUME)
    assert vol.vid == "v0000"
    info = volumes.info(s.c, vol)
    assert info["size"] == 8 and info["redundancy"] == 1 and info["disk"] == "d03_storage" and info["type"] == "Data"
    assert info["segments"] == [DB_NODES] and info["nodes"] == DB_NODES and info["state"] == "ONLINE"
    assert info["users"] == {"admin": "rw"} and vol.allowed_users == [1]
    for node in DB_NODES:
        assert disk_figures(s.c, node) == (3000.0, 2998.0)
    assert volumes.add_storage_volume(s.c, {**README_VOLUME, "volume_type": "Archive"}).vid == "v0001"
    assert_figures_add_up(s.c)


def test_segments_are_placed_by_layer_on_different_nodes_and_the_default_cluster_adds_up() -> None:
    s = Sim()
    v0000 = s.c.volumes["v0000"]
    assert v0000.layers() == [["n0011", "n0012", "n0013"], ["n0012", "n0013", "n0014"]]
    for i in range(v0000.masters):
        copies = [layer[i] for layer in v0000.layers()]
        assert len(set(copies)) == len(copies)
    assert disk_figures(s.c, "n0012") == (3000.0, pytest.approx(3000 - 2 * 1024 / 3 - 1024, abs=0.01))
    assert_figures_add_up(s.c)


def test_figures_add_up_after_any_sequence_of_changes() -> None:
    s = online(bare_sim())
    rng = random.Random(7)
    for _ in range(60):
        vids = [v.vid for v in volumes.local_volumes(s.c)]
        op = rng.choice(["add", "add", "resize", "remove", "edit"])
        try:
            if op == "add" or not vids:
                nodes = rng.sample(DB_NODES, rng.randint(1, 4))
                volumes.add_storage_volume(s.c, {**README_VOLUME, "nodes_list": nodes, "size": rng.randint(1, 900),
                                                 "masternodes": rng.randint(1, len(nodes)),
                                                 "redundancy": rng.randint(1, len(nodes))})  # fmt: skip
            elif op == "resize":
                volumes.resize(s.c, s.c.volumes[rng.choice(vids)], rng.randint(-300, 600))
            elif op == "remove":
                volumes.remove(s.c, s.c.volumes[rng.choice(vids)])
            else:
                vol = s.c.volumes[rng.choice(vids)]
                volumes.edit(s.c, vol, {"redundancy": rng.randint(1, len(vol.nodes))})
        except UsageError as e:
            assert e.reason
        assert_figures_add_up(s.c)
        for node in DB_NODES:
            assert disk_figures(s.c, node)[1] >= -0.01, "a disk was overcommitted"


@pytest.mark.parametrize(("change", "reason"), [
    ({"hdd_type": "d02_data"}, "hdd_type must be one of: d03_storage; got 'd02_data'"),
    ({"size": 0}, "size must be at least 1, got 0"),
    ({"masternodes": 5}, "masternodes 5 is more than the 4 node(s) of nodes_list"),
    ({"redundancy": 5}, "redundancy 5 needs at least 5 nodes; nodes_list has 4"),
    ({"nodes_list": ["n0011", "n0099"]}, "nodes_list: unknown value(s) n0099; allowed: n0011, n0012, n0013, n0014"),
    ({"volume_type": "Temp"}, "volume_type must be one of: Data, Archive; got 'Temp'"),
    ({"allowed_users": ["nobody"]}, "allowed_users: no user 'nobody'"),
    ({"size": 20000}, "not enough room on d03_storage of n0011: 5000 GiB needed, 3000 GiB free"),
])  # fmt: skip
def test_add_refusals_name_the_field_or_the_node_and_add_nothing(change: dict, reason: str) -> None:
    s = online(bare_sim())
    assert refusal(volumes.add_storage_volume, s.c, {**README_VOLUME, **change}) == reason
    assert s.c.volumes == {}


def test_add_needs_every_required_field_and_an_online_storage() -> None:
    s = bare_sim()
    values = {k: v for k, v in README_VOLUME.items() if k != "hdd_type"}
    assert refusal(volumes.add_storage_volume, s.c, values) == "missing required field(s) for a new storage volume: " \
        "hdd_type"  # fmt: skip
    assert refusal(volumes.add_storage_volume, s.c, README_VOLUME) == "EXAStorage is stopped; creating a volume " \
        "needs it online"  # fmt: skip


def test_remove_is_refused_while_a_database_uses_it_or_it_holds_backups() -> None:
    s = online(Sim())
    before = disk_figures(s.c, "n0011")[1]
    assert refusal(volumes.remove, s.c, s.c.volumes["v0000"]) == "volume v0000 is used by database exa_db1"
    archive = s.c.volumes["v0001"]
    archive.use("backup:3", 40)
    assert refusal(volumes.remove, s.c, archive) == "volume v0001 holds backup(s) 3; delete them first"
    archive.release("backup:3")
    volumes.remove(s.c, archive)
    assert "v0001" not in s.c.volumes and "volume v0001 removed" in s.messages()
    assert disk_figures(s.c, "n0011")[1] == pytest.approx(before + 1024)
    temp = s.c.add_volume("Data", 30, ["n0011", "n0012", "n0013"], owner="db_exa_db1")
    assert refusal(volumes.remove, s.c, temp) == f"volume {temp.vid} is used by database exa_db1 (temporary volume)"


def test_resize_grows_with_room_and_shrinks_never_below_usage() -> None:
    s = online(Sim())
    vol = s.c.volumes["v0000"]
    vol.use("other", 500 - vol.used_gib)  # with exa_db1's data: 500 GiB used
    assert volumes.resize(s.c, vol, 200) == 1224
    assert refusal(volumes.resize, s.c, vol, -800) == "volume v0000 cannot shrink to 424 GiB: 500 GiB of it are used"
    assert volumes.resize(s.c, vol, -700) == 524
    reason = refusal(volumes.resize, s.c, vol, 5000)
    assert reason.startswith("not enough room on d03_storage of n0012:")
    assert vol.size_gib == 524
    assert_figures_add_up(s.c)


def test_a_database_temporary_volume_through_add_volume_is_placed_and_checked() -> None:
    s = Sim()
    temp = s.c.add_volume("Data", 60, ["n0011", "n0012", "n0013"], owner="db_exa_db1")
    assert temp.vid == "v0002" and temp.disk == "d03_storage" and temp.layers() == [["n0011", "n0012", "n0013"]]
    assert temp.use("db_exa_db1", 10) is None and temp.free_gib == 50
    reason = refusal(s.c.add_volume, "Data", 9000, ["n0011", "n0012", "n0013"])
    assert reason == "not enough room on d03_storage of n0011: 3000 GiB needed, 1614.67 GiB free"
    s.c.remove_volume(temp)
    assert_figures_add_up(s.c)


def test_edit_relayout_sends_data_by_recovery_on_the_clock() -> None:
    s = online(bare_sim())
    vol = volumes.add_storage_volume(s.c, {**README_VOLUME, "nodes_list": ["n0011", "n0012"], "masternodes": 2,
                                           "size": 750})  # fmt: skip
    changed = volumes.edit(s.c, vol, {"add_nodes_list": ["n0013"], "redundancy": 2, "labels": ["x"],
                                      "allowed_users": [1]})  # fmt: skip
    assert changed == ["add_nodes_list", "labels", "redundancy"]
    assert vol.layers() == [["n0011", "n0012"], ["n0012", "n0013"]]
    assert sorted(vol.recovering) == ["n0012", "n0013"]
    assert volumes.state(s.c, vol) == "DEGRADED"
    seconds = 375 * 1024 / 375  # 375 GiB at the calibrated 375 MiB/s
    s.advance(seconds - 1)
    assert sorted(vol.recovering) == ["n0012", "n0013"]
    s.advance(2)
    assert vol.recovering == {} and volumes.state(s.c, vol) == "ONLINE"
    assert "recovery of volume v0000 on n0013 finished" in s.messages()
    assert refusal(volumes.edit, s.c, vol, {"add_nodes_list": ["n0012"]}) == \
        "add_nodes_list: n0012 already hold(s) volume v0000"  # fmt: skip
    assert refusal(volumes.edit, s.c, vol, {"add_master_nodes": 2}) == "masternodes 4 is more than the 3 node(s) " \
        "of nodes_list"  # fmt: skip
    assert volumes.edit(s.c, vol, {"labels": ["x"]}) == []


def test_a_crashed_node_leaves_stale_copies_recovered_when_it_is_back() -> None:
    s = online(Sim())
    vol = s.c.volumes["v0000"]
    s.node("n0013").crash()
    assert vol.stale == ["n0013"] and volumes.state(s.c, vol) == "DEGRADED"
    assert volumes.state(s.c, s.c.volumes["v0001"]) == "UNAVAILABLE"  # redundancy 1: its n0013 part is gone
    assert "volume v0000 is degraded: n0013 went down" in s.messages(priority="Warning")
    hdd = next(d for d in disks_of(s.c, "n0013") if d.name == "d03_storage").hdd
    assert hdd is not None and hdd["io_errors"] == 1 and hdd["crc_error"]
    s.boot("n0013")
    assert "n0013" in vol.recovering and volumes.state(s.c, s.c.volumes["v0001"]) == "ONLINE"
    s.advance(2 * 1024 / 3 * 1024 / 375 + 1)
    assert vol.recovering == {} and vol.stale == [] and volumes.state(s.c, vol) == "ONLINE"


def test_without_background_recovery_copies_stay_stale_until_recover_node() -> None:
    s = online(Sim())
    vol = s.c.volumes["v0000"]
    sn = storage_nodes.storage_node(s.c, "n0014")
    sn.set_bg_recovery(False)
    assert refusal(sn.set_bg_recovery, False) == "background recovery of n0014 is already disabled"
    s.node("n0014").crash()
    s.boot("n0014")
    assert vol.stale == ["n0014"] and vol.recovering == {}
    assert refusal(volumes.recover, s.c, s.c.volumes["v0001"], "n0014") == \
        "volume v0001 has redundancy 1: there is no copy to recover n0014 from"  # fmt: skip
    sn.set_bg_limit(1024)
    sn.set_bg_limit(1024)  # again: no change, and no error (a script that sets it on every run)
    volumes.recover(s.c, vol, "n0014")
    assert refusal(volumes.recover, s.c, vol, "n0014") == "n0014 of volume v0000 is already being recovered"
    volumes.stop_recovery(s.c, vol, "n0014")
    assert vol.stale == ["n0014"]
    assert refusal(volumes.stop_recovery, s.c, vol, "n0014") == "no recovery of volume v0000 runs on n0014"
    sn.set_bg_recovery(True)  # enabling starts what waits
    assert vol.recovering["n0014"] == pytest.approx(s.now + 1024 / 3)
    s.advance(1024 / 3 + 1)
    assert volumes.state(s.c, vol) == "ONLINE"


def test_suspend_resume_and_restart_of_a_storage_node() -> None:
    s = online(Sim())
    s.db_running()  # on n0011-n0013, its temporary volume (redundancy 1) too; n0014 is its reserve
    sn13, sn14 = storage_nodes.storage_node(s.c, "n0013"), storage_nodes.storage_node(s.c, "n0014")
    assert refusal(sn14.resume) == "n0014 is not suspended"
    sn14.suspend()
    assert sn14.properties()["state"] == "suspended" and refusal(sn14.suspend) == "n0014 is already suspended"
    assert volumes.state(s.c, s.c.volumes["v0000"]) == "DEGRADED"
    # segment 2 of v0000 is on n0013 and n0014: the running database would lose it
    assert refusal(sn13.suspend) == ("suspending n0013 would leave volume v0000 without segment 2, and database "
                                     "exa_db1 uses it")  # fmt: skip
    assert refusal(sn13.restart) == ("restarting n0013 would leave volume v0000 without segment 2, and database "
                                     "exa_db1 uses it")  # fmt: skip
    sn14.resume()
    assert "n0014" in s.c.volumes["v0000"].recovering
    s.advance(3600)
    s.c.databases["exa_db1"].stop()  # its temporary volume goes with it
    s.settle("database_stop")
    sn13.restart()
    assert sn13.properties()["state"] == "restarting"
    assert refusal(sn13.restart) == "the storage service of n0013 is already restarting"
    s.settle("storage_stop")
    s.settle("storage_start")
    assert sn13.properties()["state"] == "online" and "storage service of n0013 restarted" in s.messages()


def test_a_suspended_node_may_shut_down_while_storage_runs() -> None:
    s = online(Sim())
    assert refusal(s.node("n0014").shutdown) == "EXAStorage is online on n0014; stop EXAStorage before shutting " \
        "the node down"  # fmt: skip
    storage_nodes.storage_node(s.c, "n0014").suspend()
    s.node("n0014").shutdown()
    s.settle("node_shutdown")
    assert s.c.storage.online and s.node("n0014").state == "off"


def test_hdds_added_disabled_enlarged_and_errors_cleared() -> None:
    from exaop.model import disks

    s = online(bare_sim())
    sn = storage_nodes.storage_node(s.c, "n0011")
    disk = disks.add_storage_disk(s.c, "n0011", ["/dev/sdc"], "none", "extra", 1000)
    assert disk.name == "d04_storage"
    assert sn.unused_devices("") == [{"name": "d04_storage", "type": "hdd", "disk": "d04_storage"}]
    assert volumes.capacity(s.c, "n0011", "d04_storage") == 0
    assert sn.add_unused([]) == [{"name": "d04_storage", "type": "hdd", "disk": "d04_storage"}]
    assert volumes.capacity(s.c, "n0011", "d04_storage") == 1000
    assert refusal(sn.add_unused, ["d04_storage"]) == "device(s) d04_storage of n0011 are already in EXAStorage"
    sn.set_enabled(["d04_storage"], False)
    assert refusal(volumes.add_storage_volume, s.c, {**README_VOLUME, "hdd_type": "d04_storage",
                                                      "nodes_list": ["n0011"], "masternodes": 1}) == \
        "hdd_type: d04_storage of n0011 is disabled in EXAStorage"  # fmt: skip
    sn.set_enabled(["d04_storage"], True)
    volumes.add_storage_volume(s.c, {**README_VOLUME, "hdd_type": "d04_storage", "nodes_list": ["n0011"],
                                     "masternodes": 1})  # fmt: skip
    assert refusal(sn.remove_devices, ["d04_storage"]).startswith("d04_storage of n0011 holds 8 GiB of volume")
    assert refusal(sn.set_enabled, ["d04_storage"], False).startswith("d04_storage of n0011 holds 8 GiB")
    # the disk grows by editing its size (the node is powered off: at once), then the HDD is enlarged
    assert refusal(sn.enlarge, ["d04_storage"]) == "device(s) d04_storage of n0011 already use their whole disk"
    assert disk.edit({"disksize": 2000}) == ["disksize"]
    assert disk.installed is not None and disk.installed["size"] == 1000, "a running node waits for its next boot"
    assert disks.pending_layout(s.c, "n0011") == ["d04_storage: size"]
    s.c.storage.stop()
    s.settle("storage_stop")
    s.node("n0011").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    s.storage_online()
    assert disks.pending_layout(s.c, "n0011") == [] and storage_nodes.enlargeable(disk)
    assert sn.enlarge(["d04_storage"])[0]["size"] == 2000.0
    assert volumes.capacity(s.c, "n0011", "d04_storage") == 2000
    s.node("n0012").crash()
    sn12 = storage_nodes.storage_node(s.c, "n0012")
    s.boot("n0012")
    assert sn12.clear_errors() == 1 and sn12.clear_errors() == 0
    assert disks.fix_checksums(s.c, "n0012") == ["d03_storage"]


def test_auto_restart_brings_storage_back_after_a_failed_start() -> None:
    s = Sim()
    s.boot()
    s.c.storage.set_auto_restart(True)
    s.c.storage.start()
    s.node("n0012").crash()
    assert s.c.storage.state == "stopped"
    s.boot("n0012")
    assert s.c.storage.state == "starting" and "EXAStorage restarts by itself (auto-restart flag)" in s.messages()
    s.settle("storage_start")
    assert s.c.storage.online
    s.c.storage.stop()  # stopped on purpose: no restart
    s.settle("storage_stop")
    s.node("n0013").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    assert s.c.storage.state == "stopped"


def test_delete_metadata_forgets_unused_volumes_and_devices() -> None:
    s = Sim()
    assert refusal(s.c.storage.delete_metadata) == "node(s) n0011, n0012, n0013, n0014 are not running and would " \
        "keep their metadata"  # fmt: skip
    s.boot()
    assert refusal(s.c.storage.delete_metadata) == "volume v0000 is used by database exa_db1"
    del s.c.databases["exa_db1"]
    assert s.c.storage.delete_metadata() == ["v0000", "v0001"]
    assert s.c.volumes == {} and volumes.capacity(s.c, "n0011", "d03_storage") == 0
    s.storage_online()
    values = {**README_VOLUME, "allowed_users": []}  # this cluster has no users
    assert refusal(volumes.add_storage_volume, s.c, values) == "hdd_type: d03_storage of n0011 is not in " \
        "EXAStorage; add it with addUnusedDevices"  # fmt: skip
    for n in DB_NODES:
        storage_nodes.storage_node(s.c, n).add_unused([])
    assert volumes.add_storage_volume(s.c, values).vid == "v0000"


def test_archive_files_expire_on_the_clock_and_backups_stay_with_their_database() -> None:
    s = online(Sim())
    archive, data = s.c.volumes["v0001"], s.c.volumes["v0000"]
    archive.use("backup:1", 100)
    archive.use("debuginfo-1", 2)
    assert volumes.files(s.c, archive) == [
        {"id": "backup:1", "size": 100, "expire": "", "backup": True},
        {"id": "debuginfo-1", "size": 2, "expire": "", "backup": False},
    ]
    assert refusal(volumes.files, s.c, data) == "volume v0000 is a Data volume; only archive volumes hold files"
    assert refusal(volumes.remove_file, s.c, archive, "backup:1") == (
        "file backup:1 is a database backup; delete it with its database's backup methods"
    )
    with pytest.raises(NotFound):
        volumes.remove_file(s.c, archive, "nope")
    assert refusal(volumes.set_file_expiration, s.c, archive, "debuginfo-1", s.now - 5).endswith("is not in the future")
    volumes.set_file_expiration(s.c, archive, "debuginfo-1", s.now + 600)
    s.advance(599)
    assert "debuginfo-1" in archive.usage
    s.advance(2)
    assert "debuginfo-1" not in archive.usage and "file debuginfo-1 of volume v0001 expired and was removed" in \
        s.messages()  # fmt: skip
    assert refusal(volumes.format_filesystem, s.c, archive) == (
        "volume v0001 holds backup(s) backup:1; delete them before formatting"
    )
    archive.release("backup:1")
    archive.use("x", 1)
    volumes.format_filesystem(s.c, archive)
    assert archive.usage == {} and archive.formatted == s.now


def test_a_profile_whose_volumes_do_not_fit_is_refused() -> None:
    raw = {
        "cluster": {"name": "c"},
        "nodes": {"count": 2, "first": 11},
        "volumes": [{"id": "v0000", "size_gib": 4000, "redundancy": 2, "nodes": ["n0011", "n0012"]}],
    }
    with pytest.raises(ProfileError) as e:
        parse_profile(raw)
    assert str(e.value) == "volumes need 4000.0 GiB on d03_storage of n0011, which has 3000.0 GiB"
    raw["volumes"][0].update(size_gib=100, masternodes=3)
    with pytest.raises(ProfileError, match=r"volumes.v0000.masternodes is more than its 2 node\(s\)"):
        parse_profile(raw)


def test_move_hands_a_nodes_copies_to_another_node_by_recovery() -> None:
    s = online(bare_sim())
    vol = volumes.add_storage_volume(s.c, {**README_VOLUME, "nodes_list": ["n0011", "n0012", "n0013"],
                                           "masternodes": 3, "redundancy": 2, "size": 300})  # fmt: skip
    assert refusal(volumes.move_nodes, s.c, vol, {"n0014": "n0011"}) == "n0014 holds no part of volume v0000"
    assert refusal(volumes.move_nodes, s.c, vol, {"n0013": "n0012"}) == "n0012 already holds part of volume v0000"
    assert refusal(volumes.move_nodes, s.c, vol, {"n0013": "n0010"}) == "'n0010' is not a database node"
    assert volumes.move_nodes(s.c, vol, {"n0013": "n0014"}) == ["n0011", "n0012", "n0014"]
    assert vol.layers() == [["n0011", "n0012", "n0014"], ["n0012", "n0014", "n0011"]]
    assert list(vol.recovering) == ["n0014"] and vol.pending == {"n0014": [2, 4]}
    assert disk_figures(s.c, "n0013")[1] == 3000 and disk_figures(s.c, "n0014")[1] == 2800
    s.advance(200 * 1024 / 375 + 1)
    assert volumes.state(s.c, vol) == "ONLINE"
    assert_figures_add_up(s.c)


def test_permissions_and_io_state() -> None:
    from exaop.model.users import User

    s = online(bare_sim())
    reader = User(s.c, 2, "reader")
    s.c.users.load(reader)
    vol = volumes.add_storage_volume(s.c, {**README_VOLUME, "allowed_users": [], "readonly_users": ["reader"]})
    assert volumes.permissions(s.c, vol) == {"admin": "rw", "reader": "ro"}  # admin: the Master role
    assert volumes.access(s.c, vol, reader) == "ro"
    volumes.edit(s.c, vol, {"readonly_users": [], "allowed_users": ["2"]})
    assert volumes.access(s.c, vol, reader) == "rw" and vol.allowed_users == [2]
    volumes.set_io_state(s.c, vol, False, True)
    info = volumes.info(s.c, vol)
    assert (info["app_io_enabled"], info["int_io_enabled"]) == (False, True)
    assert "volume v0000: application IO off, internal IO on" in s.messages(priority="Warning")


def test_a_state_dir_from_before_disks_gets_the_default_layout_on_load() -> None:
    s = Sim()
    records, _ = s.c.take_changes()
    old = []
    for kind, key, rec in records:
        if kind in ("node_disk", "storage_node"):
            continue
        if kind == "volume":
            rec = {k: v for k, v in rec.items() if k not in ("disk", "masternodes")}
        if kind == "storage":
            rec = {k: v for k, v in rec.items() if k != "seeded"}
        old.append((kind, key, rec))
    c = Cluster.from_records(s.profile, s.now, old, {"simulated": SimulatedDriver()})
    assert [d["name"] for d in c.nodes["n0012"].disks()] == ["d00_os", "d01_swap", "d02_data", "d03_storage"]
    assert c.volumes["v0000"].disk == "d03_storage" and c.volumes["v0000"].masters == 4
    assert_figures_add_up(c)
    assert c.has_changes, "what the load made up is saved with the next commit"
