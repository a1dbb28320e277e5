"""EXAStorage, volumes, disks and remote volumes through a real `exaop serve` on a manual clock:
every documented method is there, the public README's example works, the figures a monitoring
plugin sums add up, each kind makes the round trip add -> read -> edit -> read -> delete and
survives a restart and kill -9, refusals say why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xmlrpc.client import ServerProxy

import pytest

from tests.integration.wirekit import NODES, NOT_FOUND, advance, boot, fault, module_server, storage_call
from tests.serverproc import ServerProcess

Factory = Callable[..., ServerProcess]
README_VOLUME = {"allowed_users": ["admin"], "hdd_type": "d03_storage", "masternodes": 4,
                 "nodes_list": ["n0011", "n0012", "n0013", "n0014"], "redundancy": 1, "size": 8,
                 "volume_type": "Data"}  # fmt: skip
# the methods of each kind in the two reference files (EXAoperation_XMLRPC.md, the 6.x method help)
REFERENCE = {
    "/cluster1/storage": [
        "addStorageVolume", "checkNodeDiskInformation", "deleteMetadata", "editStorage", "getArchiveFilesystems",
        "getProperties", "getStorageInfo", "getVolumeInfo", "getVolumeList", "nodesInformation",
        "nodesListInformation", "serviceHasAutoRestartFlag", "serviceIsOnline", "setAutoRestartFlag",
        "startEXAStorage", "stopEXAStorage", "storageHasQuorum", "volumeRemove"],
    "/cluster1/storage/v0000": [
        "checkPermissions", "editStorageVolume", "formatFilesystem", "getFilesList", "getPermissions",
        "getProperties", "moveNodes", "removeFile", "resizeVolume", "setFileExpiration", "setIoState"],
    "/cluster1/storage/v0000/n0011": [
        "getAllSegments", "getProperties", "getSegmentsDescriptions", "moveNode", "recoverNode", "stopRecoverNode"],
    "/cluster1/storage/v0000/n0011/s0000": ["getPartitions", "getProperties"],
    "/cluster1/storage/n0011": [
        "addUnusedDevices", "changeable", "clearDeviceErrors", "disableBgRecovery", "disableDevices",
        "enableBgRecovery", "enableDevices", "enlargeDevices", "forceBgRecoveryLimitCalibration", "getAllDevices",
        "getProperties", "getUnusedDevices", "nodeIsSuspended", "removeDevices", "restartNode", "resumeNode",
        "setBgRecoveryLimit", "setSpaceWarnThreshold", "suspendNode"],
    "/cluster1/storage/n0011/d03_storage": ["getProperties", "isEnlargeable"],
    "/cluster1/storage/volume_schema": ["getProperties"],
    "/cluster1/n0011/d03_storage": ["addDevice", "diskIsExtendable", "editNodeDisk", "getProperties"],
    "/cluster1/n0011": [
        "addNodeDisk", "addStorageDisk", "applyDefaultDiskLayout", "deleteDisks", "deleteSubObject", "fixChecksums",
        "getAllDisks", "getDeviceInfo", "getDiskInfo", "getDiskStates"],
    "/cluster1": ["addRemoteVolume", "getAllArchiveVolumes"],
}  # fmt: skip
REMOTE_METHODS = ["editRemoteVolume", "getProperties", "getVolumeId", "state"]
INTROSPECTION = ["getListValues", "getPath", "listMethods", "listObjects", "methodHelp", "methodSignature"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "storage")


def up(srv: ServerProcess) -> ServerProxy:
    """Nodes running, EXAStorage online; the storage object."""
    boot(srv)
    assert storage_call(srv, "startEXAStorage") == "OK"
    return srv.proxy("/cluster1/storage")


def test_every_reference_method_of_the_storage_kinds_is_offered(srv: ServerProcess) -> None:
    for path, methods in REFERENCE.items():
        offered = srv.proxy(path).listMethods()
        assert set(methods + INTROSPECTION) <= set(offered), (path, sorted(set(methods) - set(offered)))
        for name in methods:
            assert srv.proxy(path).methodHelp(name).strip(), (path, name)


def test_the_object_tree_below_storage_and_nodes_with_dotted_names(srv: ServerProcess) -> None:
    c = srv.proxy()
    assert c.storage.listObjects() == ["n0011", "n0012", "n0013", "n0014", "v0000", "v0001", "volume_schema"]
    assert c.storage.v0000.listObjects() == NODES
    assert c.storage.v0000.n0012.getAllSegments() == ["s0001", "s0003"]
    assert c.storage.v0000.n0012.listObjects() == ["s0001", "s0003"]
    seg = c.storage.v0000.n0012.s0003.getProperties()
    assert (seg["sid"], seg["index"], seg["type"], seg["remote_sid"]) == (3, 0, "slave", 0)
    assert seg["partitions"] == c.storage.v0000.n0012.s0003.getPartitions()
    assert c.storage.n0011.listObjects() == ["d03_storage"]
    assert c.storage.n0011.d03_storage.getProperties()["type"] == "hdd"
    assert c.n0011.listObjects() == ["d00_os", "d01_swap", "d02_data", "d03_storage"]
    assert c.n0011.d03_storage.getProperties()["disktype"] == "Storage"
    assert srv.proxy("/cluster1/storage/v0000/n0011/s0000").getPath() == [
        "/cluster1/storage/v0000/n0011/s0000",
        "s0000",
    ]
    for path in ("/cluster1/storage/v0009", "/cluster1/storage/v0000/n0010", "/cluster1/storage/v0000/n0011/s0001",
                 "/cluster1/n0011/d09_data", "/cluster1/storage/n0011/d00_os", "/cluster1/r0007"):  # fmt: skip
        assert NOT_FOUND in fault(srv.proxy(path).getProperties).faultString, path
    assert NOT_FOUND in fault(c.storage.getVolumeInfo, "v0009").faultString


def test_the_readme_example_on_a_fresh_cluster_and_figures_a_monitor_sums(server_factory: Factory,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    profile = tmp_path / "bare.toml"
    profile.write_text('[cluster]\nname = "cluster1"\n\n[nodes]\ncount = 4\nfirst = 11\n')
    srv = server_factory(extra=["--profile", str(profile)])
    storage = srv.proxy("/cluster1/storage")
    assert storage.getVolumeList() == []
    assert storage.getListValues("StorageDisks") == ["d03_storage"]
    assert storage.getListValues("Nodes") == NODES
    up(srv)
    assert storage.addStorageVolume(README_VOLUME) == "v0000"
    info = storage.getVolumeInfo("v0000")
    assert (info["size"], info["redundancy"], info["disk"], info["type"]) == (8, 1, "d03_storage", "Data")
    assert info["segments"] == [NODES] and info["nodes"] == NODES and info["state"] == "ONLINE"
    storage.addStorageVolume({**README_VOLUME, "size": 900, "redundancy": 2, "masternodes": 3,
                              "volume_type": "Archive"})  # fmt: skip
    # the public disk-space plugin: each volume takes size / len(segments[0]) on every node of every layer
    free = {n: float(next(d for d in srv.proxy(f"/cluster1/{n}").getDiskStates() if d["name"] == info["disk"])
                     ["size"]) for n in NODES}  # fmt: skip
    for vid in storage.getVolumeList():
        v = storage.getVolumeInfo(vid)
        for layer in v["segments"][: v["redundancy"]]:
            for node in layer:
                free[node] -= v["size"] / float(len(v["segments"][0]))
    for n in NODES:
        state = next(d for d in srv.proxy(f"/cluster1/{n}").getDiskStates() if d["name"] == "d03_storage")
        assert float(state["free"]) == pytest.approx(free[n], abs=0.01)
        assert state["type"] == "disk-type-storage" and state["state"] == "online"
        assert {"devices", "raid", "encr", "mount_count", "next_fsck"} <= set(state)
        props = srv.proxy(f"/cluster1/storage/{n}").getProperties()
        assert props["free_space"] == pytest.approx(free[n], abs=0.01)
    assert storage.volume_schema.getProperties()["size"] == int(min(free.values()) * 4)


def round_trip_state(srv: ServerProcess) -> dict[str, Any]:
    c = srv.proxy()
    return {
        "volume": c.storage.v0002.getProperties(),
        "volume_info": {k: v for k, v in c.storage.getVolumeInfo("v0002").items() if k != "state"},
        "remote": c.r0000.getProperties(),
        "disk": c.n0011.d04_data.getProperties(),
        "pending": c.n0011.getDiskInfo("d04_data")["pending_changes"],
        "storage_node": c.storage.n0012.getProperties(),
        "archives": c.getAllArchiveVolumes(),
    }


def test_round_trips_survive_a_restart_and_kill9(server_factory: Factory) -> None:
    srv = server_factory()
    c = srv.proxy()
    storage = up(srv)
    # a storage volume
    assert storage.addStorageVolume({**README_VOLUME, "labels": ["sales"]}) == "v0002"
    assert c.storage.v0002.getProperties()["labels"] == ["sales"]
    assert c.storage.v0002.editStorageVolume({"labels": ["sales", "q3"], "priority": 12,
                                              "readonly_users": ["admin"]}) == ["labels", "priority",
                                                                                "readonly_users"]  # fmt: skip
    props = c.storage.v0002.getProperties()
    assert (props["labels"], props["priority"], props["readonly_users"]) == (["sales", "q3"], 12, [1])
    # a remote volume
    assert (
        c.addRemoteVolume(
            {
                "allowed_users": ["admin"],
                "readonly_users": [],
                "url": "ftp://10.9.0.1/backup",
                "user": "bk",
                "password": "secret-pw",
                "options": "nocompression",
            }
        )
        == "r0000"
    )
    assert c.r0000.getProperties()["password"] == "********" and c.r0000.getVolumeId() == 10000
    assert c.r0000.editRemoteVolume({"url": "smb://10.9.0.2/share", "labels": ["offsite"]}) == ["labels", "url"]
    assert c.r0000.getProperties()["url"] == "smb://10.9.0.2/share" and c.r0000.state() == "OK"
    assert c.getAllArchiveVolumes() == ["v0001", "r0000"]
    assert c.storage.getVolumeList() == ["v0000", "v0001", "v0002", "r0000"]
    assert c.storage.getVolumeInfo("r0000")["remote"] is True
    # a node disk (the node runs: it is made at its next boot)
    assert c.n0011.addNodeDisk({"disktype": "Data", "disksize": 20, "disklabel": "spool"}) == "d04_data"
    assert c.n0011.d04_data.editNodeDisk({"disklabel": "spool2", "disksize": 30}) == ["disklabel", "disksize"]
    assert c.n0011.d04_data.getProperties()["disksize"] == 30
    assert c.n0011.getDiskInfo("d04_data")["pending_changes"] == ["added"]
    # a storage node's settings
    c.storage.n0012.setBgRecoveryLimit(500)
    c.storage.n0012.setSpaceWarnThreshold(80)
    before = round_trip_state(srv)
    assert before["storage_node"]["bg_rec_limit"] == 500 and before["storage_node"]["space_warn_threshold"] == 80

    srv.stop()
    srv = server_factory()
    assert round_trip_state(srv) == before
    srv.kill9()
    srv = server_factory()
    assert round_trip_state(srv) == before

    c = srv.proxy()
    assert c.storage.volumeRemove("v0002") == "OK"
    assert c.deleteSubObject("r0000") == "OK"
    assert c.n0011.deleteSubObject("d04_data") == "OK"
    assert c.storage.getVolumeList() == ["v0000", "v0001"] and "r0000" not in c.listObjects()
    srv.kill9()
    srv = server_factory()
    c = srv.proxy()
    assert c.storage.getVolumeList() == ["v0000", "v0001"] and c.getAllArchiveVolumes() == ["v0001"]
    assert "d04_data" not in c.n0011.getAllDisks()
    assert NOT_FOUND in fault(srv.proxy("/cluster1/r0000").getProperties).faultString


def test_refusals_say_why_and_change_nothing(srv: ServerProcess) -> None:
    c = srv.proxy()
    s = c.storage
    f = fault(s.addStorageVolume, {k: v for k, v in README_VOLUME.items() if k != "hdd_type"})
    assert f.faultString == "UsageError: missing required field(s) for a new storage volume: hdd_type"
    assert fault(s.addStorageVolume, README_VOLUME).faultString == (
        "UsageError: EXAStorage is stopped; creating a volume needs it online"
    )
    assert fault(s.volumeRemove, "v0000").faultString == "UsageError: volume v0000 is used by database exa_db1"
    assert fault(s.v0000.resizeVolume, 10).faultString == "UsageError: EXAStorage is stopped; resizing a volume " \
        "needs it online"  # fmt: skip
    assert fault(s.n0011.resumeNode).faultString == "UsageError: n0011 is not suspended"
    assert fault(s.v0000.getFilesList).faultString == (
        "UsageError: volume v0000 is a Data volume; only archive volumes hold files"
    )
    f = fault(c.addRemoteVolume, {"allowed_users": [], "readonly_users": [], "url": "gopher://x"})
    assert f.faultString.startswith("UsageError: url 'gopher://x' is not a remote archive URL")
    assert fault(c.n0011.addNodeDisk, {"disktype": "OS"}).faultString == "UsageError: n0011 already has a OS disk"
    f = fault(c.n0012.d03_storage.editNodeDisk, {"disksize": 100})
    assert f.faultString == (
        "UsageError: disksize 100 GiB of d03_storage on n0012 is below the 1706.67 GiB its volume segments take"
    )
    assert fault(c.n0011.deleteDisks, ["d03_storage"]).faultString.startswith(
        "UsageError: d03_storage of n0011 holds segments of volume(s)"
    )
    assert fault(s.editStorage, {"vlan_list": ["vlan9"]}).faultString == (
        "UsageError: vlan_list: unknown value(s) vlan9; allowed: private"
    )
    assert s.getVolumeList() == ["v0000", "v0001"] and c.listObjects().count("r0000") == 0


def test_storage_node_out_and_back_on_the_clock(server_factory: Factory) -> None:
    srv = server_factory()
    storage = up(srv)
    sn = srv.proxy("/cluster1/storage/n0014")
    assert sn.suspendNode() == "OK" and sn.nodeIsSuspended() is True
    info = storage.getVolumeInfo("v0000")
    assert info["state"] == "DEGRADED" and info["stale"] == ["n0014"]
    assert storage.getVolumeInfo("v0001")["state"] == "UNAVAILABLE"
    assert storage.getStorageInfo()["suspended_nodes"] == ["n0014"]
    assert sn.resumeNode() == "OK"
    info = storage.getVolumeInfo("v0000")
    assert info["recovering"] == ["n0014"] and info["state"] == "DEGRADED"
    node_part = srv.proxy("/cluster1/storage/v0000/n0014")
    assert node_part.getProperties()["state"] == "RECOVERING"
    assert fault(node_part.recoverNode).faultString == "UsageError: n0014 of volume v0000 is already being recovered"
    advance(srv, 600)
    srv.kill9()  # a recovery under way goes on after the restart, with its end time
    srv = server_factory()
    storage, sn = srv.proxy("/cluster1/storage"), srv.proxy("/cluster1/storage/n0014")
    node_part = srv.proxy("/cluster1/storage/v0000/n0014")
    assert storage.getVolumeInfo("v0000")["recovering"] == ["n0014"]
    advance(srv, 1024 / 3 * 1024 / 375 - 600 + 1)
    assert storage.getVolumeInfo("v0000")["state"] == "ONLINE" and node_part.getProperties()["state"] == "ONLINE"
    assert sn.restartNode() == "OK" and sn.getProperties()["state"] == "restarting"
    advance(srv, 61)
    assert sn.getProperties()["state"] == "online"
    assert storage.setAutoRestartFlag(True) == "OK" and storage.serviceHasAutoRestartFlag() is True
    assert sn.forceBgRecoveryLimitCalibration() == 375


def test_every_method_answers_a_value_every_client_parses(server_factory: Factory) -> None:
    """Each method once with valid arguments, in a state that allows it: no fault, no nil, the
    shape its help promises."""
    srv = server_factory()
    c = srv.proxy()
    s = up(srv)
    sn, hdd, vol = s.n0011, s.n0011.d03_storage, s.v0001
    part, seg = s.v0000.n0011, s.v0000.n0011.s0000
    calls: list[tuple[Any, tuple[Any, ...], type | tuple[type, ...]]] = [
        (s.getProperties, (), dict), (s.getStorageInfo, (), dict), (s.getVolumeList, (), list),
        (s.getVolumeInfo, ("v0001",), dict), (s.nodesInformation, (), dict), (s.nodesListInformation, (), list),
        (s.checkNodeDiskInformation, (), list), (s.getArchiveFilesystems, (), dict),
        (s.serviceHasAutoRestartFlag, (), bool), (s.setAutoRestartFlag, (False,), str),
        (s.serviceIsOnline, (), bool), (s.storageHasQuorum, (), bool),
        (vol.getProperties, (), dict), (vol.getPermissions, (), dict), (vol.checkPermissions, (), bool),
        (vol.getFilesList, (), list), (vol.setIoState, (True, False), str), (vol.resizeVolume, (4,), (int, float)),
        (vol.editStorageVolume, ({"priority": 3},), list), (vol.formatFilesystem, (), str),
        (part.getProperties, (), dict), (part.getAllSegments, (), list), (part.getSegmentsDescriptions, (), list),
        (part.recoverNode, (), str), (part.stopRecoverNode, (), str),
        (seg.getProperties, (), dict), (seg.getPartitions, (), list),
        (sn.getProperties, (), dict), (sn.changeable, (), bool), (sn.getAllDevices, (), list),
        (sn.getUnusedDevices, ("",), list), (sn.clearDeviceErrors, (), int), (sn.disableBgRecovery, (), str),
        (sn.enableBgRecovery, (), str), (sn.setBgRecoveryLimit, (200,), str), (sn.setSpaceWarnThreshold, (95,), str),
        (sn.forceBgRecoveryLimitCalibration, (), int), (sn.nodeIsSuspended, (), bool),
        (hdd.getProperties, (), dict), (hdd.isEnlargeable, (), bool),
        (s.volume_schema.getProperties, (), dict),
        (c.n0011.getDiskStates, (), list), (c.n0011.getAllDisks, (), list), (c.n0011.getDeviceInfo, (), list),
        (c.n0011.getDiskInfo, ("d03_storage",), dict), (c.n0011.fixChecksums, (), list),
        (c.n0011.d03_storage.diskIsExtendable, (), bool), (c.n0011.d03_storage.getProperties, (), dict),
        (c.n0011.addStorageDisk, (["/dev/sdc"], "aes256", "fast", 500, 7), str),
        (sn.addUnusedDevices, (["d07_storage"],), list), (sn.disableDevices, (["d07_storage"],), str),
        (sn.enableDevices, (["d07_storage"],), str), (sn.removeDevices, (["d07_storage"],), str),
        (c.getAllArchiveVolumes, (), list),
        (c.n0012.addNodeDisk, ({"disktype": "Storage", "disksize": 100},), str),
        (c.n0012.deleteDisks, (["d04_storage"],), str), (c.n0012.applyDefaultDiskLayout, (), list),
        (s.editStorage, ({"vlan_list": []},), list),
    ]  # fmt: skip
    for fn, args, kind in calls:
        assert isinstance(fn(*args), kind), fn
    assert c.n0011.getDiskInfo("d07_storage")["in_storage"] is False
    advance(srv, 3600)
    assert s.getVolumeInfo("v0000")["state"] == "ONLINE"
    sn.addUnusedDevices(["d07_storage"])
    assert c.n0011.d07_storage.editNodeDisk({"disksize": 2000}) == ["disksize"]  # waits for the next boot
    assert hdd.isEnlargeable() is False and s.n0011.d07_storage.isEnlargeable() is False
    assert s.n0014.suspendNode() == "OK" and s.n0014.resumeNode() == "OK" and s.n0014.restartNode() == "OK"
    advance(srv, 3600)
    small = s.addStorageVolume({**README_VOLUME, "nodes_list": ["n0011", "n0012", "n0013"], "masternodes": 3})
    assert srv.proxy(f"/cluster1/storage/{small}").moveNodes({"n0011": "n0014"}) == ["n0014", "n0012", "n0013"]
    assert srv.proxy(f"/cluster1/storage/{small}/n0012").moveNode("n0011") == "OK"
    assert s.getVolumeInfo(small)["nodes"] == ["n0014", "n0011", "n0013"]
    assert fault(s.v0000.moveNodes, {"n0014": "n0014"}).faultString == "UsageError: n0014 cannot move to itself"
