"""Node disks: the default layout, devices that bound what fits, changes that wait for the next
boot on a running node, disks holding volume copies, file system checks."""

from __future__ import annotations

import pytest

from exaop.model import disks, volumes
from exaop.model.disks import disk_of, pending_layout
from exaop.model.errors import NotFound
from tests.unit.modelkit import Sim, refusal

LAYOUT = ["d00_os", "d01_swap", "d02_data", "d03_storage"]


def names(s: Sim, node: str) -> list[str]:
    return [d["name"] for d in s.node(node).disks()]


def test_every_node_starts_with_the_default_layout_on_its_devices() -> None:
    s = Sim()
    for node in ("n0010", "n0011", "n0014"):
        assert names(s, node) == LAYOUT
    state = {d["name"]: d for d in s.node("n0011").disks()}
    assert state["d01_swap"] == {"name": "d01_swap", "size": "16", "free": "16", "type": "disk-type-swap",
                                 "state": "offline", "devices": ["/dev/sda"], "raid": "none", "encr": "none",
                                 "mount_count": 0, "next_fsck": 0}  # fmt: skip
    assert state["d03_storage"]["type"] == "disk-type-storage"
    assert disks.device_info(s.c, "n0011") == [
        {"name": "/dev/sda", "size": "400", "free": "84", "disks": ["d00_os", "d01_swap", "d02_data"],
         "sector_size": 512},
        {"name": "/dev/sdb", "size": "3000", "free": "0", "disks": ["d03_storage"], "sector_size": 512},
        {"name": "/dev/sdc", "size": "3000", "free": "3000", "disks": [], "sector_size": 512},
    ]  # fmt: skip
    assert disk_of(s.c, "n0011", "d03_storage").hdd is not None
    assert disk_of(s.c, "n0010", "d03_storage").hdd is None, "a license server is no storage node"


def test_a_disk_added_to_a_powered_off_node_is_made_at_once() -> None:
    s = Sim()
    disk = disks.add_node_disk(s.c, "n0011", {"disktype": "Data", "disksize": 50, "disklabel": "spool"})
    assert disk.name == "d04_data" and disk.values["devices"] == ["/dev/sdc"] and disk.values["disk_number"] == 4
    assert names(s, "n0011")[-1] == "d04_data" and pending_layout(s.c, "n0011") == []
    biggest = disks.add_node_disk(s.c, "n0011", {"disktype": "Storage", "disk_number": 7})
    assert biggest.name == "d07_storage" and biggest.values["disksize"] == 2950  # what /dev/sdc has left
    assert biggest.hdd == disks.new_hdd(2950, in_storage=False)


def test_on_a_running_node_changes_wait_for_its_next_boot() -> None:
    s = Sim()
    s.boot("n0011")
    disks.add_node_disk(s.c, "n0011", {"disktype": "Data", "disksize": 50})
    disk_of(s.c, "n0011", "d02_data").edit({"disklabel": "logs", "disksize": 150})
    disks.delete_disks(s.c, "n0011", ["d01_swap"])
    assert pending_layout(s.c, "n0011") == ["d01_swap: deleted", "d02_data: size", "d04_data: added"]
    assert names(s, "n0011") == LAYOUT
    assert "disk changes of n0011 take effect at its next boot" in s.messages()[-1]
    s.node("n0011").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    assert pending_layout(s.c, "n0011") == []
    assert names(s, "n0011") == ["d00_os", "d02_data", "d03_storage", "d04_data"]
    assert next(d for d in s.node("n0011").disks() if d["name"] == "d02_data")["size"] == "150"
    disks.apply_default_layout(s.c, "n0011")
    assert pending_layout(s.c, "n0011") == ["d01_swap: added", "d02_data: size", "d04_data: deleted"]


@pytest.mark.parametrize(("values", "reason"), [
    ({"disktype": "OS"}, "n0011 already has a OS disk"),
    ({"disktype": "Data", "disk_number": 2}, "disk_number 2 is taken on n0011"),
    ({"disktype": "Data", "devices": ["/dev/sdx"]}, "devices: unknown value(s) /dev/sdx; allowed: /dev/sda, "
                                                    "/dev/sdb, /dev/sdc"),
    ({"disktype": "Data", "devices": ["/dev/sda"], "disksize": 100},
     "disksize 100 GiB needs 100 GiB on /dev/sda of n0011, which has 84 GiB free"),
    ({"disktype": "Data", "devices": ["/dev/sdb"]}, "the devices /dev/sdb of n0011 have no free space left"),
    ({"disktype": "Data", "diskraid": "RAID 1", "devices": ["/dev/sdc"]},
     "diskraid RAID 1 mirrors over at least 2 devices"),
    ({"disktype": "Tape"}, "disktype must be one of: OS, Swap, Data, Storage; got 'Tape'"),
    ({"disksize": 5}, "missing required field(s) for a new node disk: disktype"),
])  # fmt: skip
def test_refusals_name_the_field_or_the_device(values: dict, reason: str) -> None:
    s = Sim()
    assert refusal(disks.add_node_disk, s.c, "n0011", values) == reason
    assert names(s, "n0011") == LAYOUT


def test_raid_takes_its_copies_from_the_devices() -> None:
    s = Sim()
    disk = disks.add_node_disk(s.c, "n0011", {"disktype": "Data", "diskraid": "RAID 1", "disksize": 40,
                                              "devices": ["/dev/sda", "/dev/sdc"]})  # fmt: skip
    free = {d["name"]: d["free"] for d in disks.device_info(s.c, "n0011")}
    assert free == {"/dev/sda": "44", "/dev/sdb": "0", "/dev/sdc": "2960"}
    assert disk.state_dict()["raid"] == "RAID 1"


def test_a_storage_disk_holding_volume_copies_keeps_its_devices_and_size() -> None:
    s = Sim()
    d03 = disk_of(s.c, "n0012", "d03_storage")
    assert refusal(disks.delete_disks, s.c, "n0012", ["d02_data", "d03_storage"]) == (
        "d03_storage of n0012 holds segments of volume(s) v0000, v0001 (1706.67 GiB); remove or move them first"
    )
    assert disk_of(s.c, "n0012", "d02_data").deleting is False, "nothing of a refused list is deleted"
    assert refusal(d03.edit, {"disksize": 1000}) == (
        "disksize 1000 GiB of d03_storage on n0012 is below the 1706.67 GiB its volume segments take"
    )
    assert refusal(d03.edit, {"devices": ["/dev/sdc"]}) == (
        "devices of d03_storage on n0012 cannot change: it holds 1706.67 GiB of volume segments; move them first"
    )
    assert d03.edit({"disksize": 2000}) == ["disksize"]
    assert next(d for d in s.node("n0012").disks() if d["name"] == "d03_storage")["free"] == "293.33"


def test_storage_disks_on_a_running_node_and_devices_appended() -> None:
    s = Sim()
    assert refusal(disks.add_storage_disk, s.c, "n0011", ["/dev/sdc"]) == (
        "n0011 is powered off: addStorageDisk adds a disk to a running node (addNodeDisk configures one for the "
        "next boot)"
    )
    s.boot("n0011")
    assert refusal(disks.add_storage_disk, s.c, "n0011", ["/dev/sdb"]) == \
        "device(s) /dev/sdb of n0011 are used by another disk"  # fmt: skip
    for devices in ([[]], [{}], ["/dev/sdc", 3], []):  # what XML-RPC can send besides names
        assert refusal(disks.add_storage_disk, s.c, "n0011", devices) == \
            "devices must be a non-empty list of device names"  # fmt: skip
    d03 = disk_of(s.c, "n0011", "d03_storage")
    assert refusal(d03.add_device, "/dev/sdb") == "/dev/sdb of n0011 is already used by a disk"
    assert d03.not_extendable() == ""
    d03.add_device("/dev/sdc")
    assert (
        d03.installed is not None
        and d03.installed["size"] == 6000
        and d03.installed["devices"] == ["/dev/sdb", "/dev/sdc"]
    )
    assert d03.not_extendable() == "n0011 has no unused device"
    with pytest.raises(NotFound):
        disk_of(s.c, "n0011", "d09_data")


def test_a_disk_grown_by_a_device_keeps_the_room_it_had_and_can_still_be_edited() -> None:
    s = Sim()
    s.boot("n0011")
    d02 = disk_of(s.c, "n0011", "d02_data")  # 200 GiB of /dev/sda's 400, beside the OS and swap disks
    d02.add_device("/dev/sdc")
    assert d02.values["disksize"] == 3200
    free = {d["name"]: d["free"] for d in disks.device_info(s.c, "n0011")}
    assert free == {"/dev/sda": "84", "/dev/sdb": "0", "/dev/sdc": "0"}, "each device keeps what it gave"
    assert d02.edit({"disklabel": "spool"}) == ["disklabel"]
    assert refusal(d02.edit, {"disksize": 3000}) == (
        "disksize 3000 GiB needs 1500 GiB on /dev/sda of n0011, which has 284 GiB free"
    ), "a new size is spread evenly again, and must fit so"


def test_mounts_are_counted_and_checked_when_due_or_forced() -> None:
    s = Sim()
    os_disk = disk_of(s.c, "n0011", "d00_os")
    s.boot("n0011")
    assert os_disk.mount_count == 1 and disk_of(s.c, "n0011", "d03_storage").mount_count == 0
    os_disk.mount_count = disks.MAX_MOUNTS - 1
    s.node("n0011").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    assert os_disk.mount_count == 0 and "file system of d00_os on n0011 checked" in s.messages()
    s.node("n0011").force_fsck = True  # the node's own setting (setForceFSCKMode), read at boot
    os_disk.mount_count = 5
    s.node("n0011").shutdown(reboot=True)
    s.settle("node_shutdown")
    s.settle("node_boot")
    assert os_disk.mount_count == 0


def test_fix_checksums_needs_a_running_node() -> None:
    s = Sim()
    assert refusal(disks.fix_checksums, s.c, "n0011") == "n0011 is powered off; checksums are fixed on a running node"
    s.boot("n0011")
    assert disks.fix_checksums(s.c, "n0011") == []
    assert disk_of(s.c, "n0011", "d00_os").info()["checksums_fixed"]


def test_lists_follow_the_disks() -> None:
    from exaop.model.lists import list_values

    s = Sim()
    assert list_values(s.c, "StorageDisks") == ["d03_storage"]
    assert list_values(s.c, "DataDisks") == ["d02_data"]
    assert list_values(s.c, "Disks") == LAYOUT
    disks.add_node_disk(s.c, "n0012", {"disktype": "Storage", "disksize": 10})
    assert list_values(s.c, "StorageDisks") == ["d03_storage", "d04_storage"]
    assert list_values(s.c, "Volumes") == ["v0000", "v0001"]
    assert list_values(s.c, "StorageVolumeNodes") == ["n0011", "n0012", "n0013", "n0014"]
    assert volumes.default_disk(s.c, ["n0011", "n0012"]) == "d03_storage"
