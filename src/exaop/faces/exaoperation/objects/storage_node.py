"""EXAStorage on one node (/cluster1/storage/n0011): suspend, resume and restart it, its background
recovery, space warnings, and its devices (HDDs)."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.common import COMMON
from exaop.faces.exaoperation.objects.storage_node_hdd import HDD, Hdd
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model.storage_nodes import StorageNode

STORAGE_NODE = ObjectType("StorageNode")
m = STORAGE_NODE.method
OK = "OK"

STORAGE_NODE.child = lambda ctx, sn, name: (HDD, Hdd(sn, sn.hdd(name)))
STORAGE_NODE.children = lambda ctx, sn: [d.name for d in sn.hdds()]


@m("getProperties", "read", "The node's EXAStorage settings and figures: bg_recovery_enabled, bg_rec_limit "
   "(MiB/s, 0: the calibrated auto_bg_rec_limit), space_warn_threshold (percent), disk_space (GiB of its "
   "storage disks), disk_sum_space (GiB of them in EXAStorage), node_size (GiB its volume copies take), "
   "free_space and disk_free_space (what is left of each), link_speed (Mbit/s), nid, phys_nid, state.",
   returns="struct")  # fmt: skip
def get_properties(ctx: Context, sn: StorageNode) -> dict[str, Any]:
    return sn.properties()


@m(
    "suspendNode",
    "operate",
    "Take the node out of EXAStorage for maintenance: volumes with redundancy run "
    "degraded and its copies go stale. Refused when a volume a running database uses would lose a segment.",
)
def suspend_node(ctx: Context, sn: StorageNode) -> str:
    sn.suspend()
    return OK


@m("resumeNode", "operate", "Let a suspended node take part in EXAStorage again; its stale copies are "
   "recovered if its background recovery is enabled. Refused when it is not suspended.")  # fmt: skip
def resume_node(ctx: Context, sn: StorageNode) -> str:
    sn.resume()
    return OK


@m("nodeIsSuspended", "read", "Whether the node is suspended.", returns="boolean")
def node_is_suspended(ctx: Context, sn: StorageNode) -> bool:
    return sn.suspended


@m("restartNode", "operate", "Restart the node's storage service (not the node): it is out of EXAStorage "
   "for the service's stop and start time on the clock, then its copies are recovered.")  # fmt: skip
def restart_node(ctx: Context, sn: StorageNode) -> str:
    sn.restart()
    return OK


@m("enableBgRecovery", "operate", "Recover the node's stale copies in the background (starts now for those "
   "waiting). Refused when it is already enabled.")  # fmt: skip
def enable_bg_recovery(ctx: Context, sn: StorageNode) -> str:
    sn.set_bg_recovery(True)
    return OK


@m("disableBgRecovery", "operate", "Stop starting recoveries of the node's stale copies by themselves "
   "(recoverNode still starts one). Refused when it is already disabled.")  # fmt: skip
def disable_bg_recovery(ctx: Context, sn: StorageNode) -> str:
    sn.set_bg_recovery(False)
    return OK


@m("setBgRecoveryLimit", "operate", "The background recovery limit in MiB/s (0: the calibrated one); "
   "recoveries started afterwards run at it.")  # fmt: skip
def set_bg_recovery_limit(ctx: Context, sn: StorageNode, limit: int) -> str:
    sn.set_bg_limit(limit)
    return OK


@m("forceBgRecoveryLimitCalibration", "operate", "Measure the recovery limit over the node's link again; "
   "returns it in MiB/s (auto_bg_rec_limit).", returns="int")  # fmt: skip
def force_calibration(ctx: Context, sn: StorageNode) -> int:
    return sn.calibrate()


@m("setSpaceWarnThreshold", "operate", "From this percentage of the node's EXAStorage space in use on, "
   "a warning is logged (when volumes grow, and now if it is passed already).")  # fmt: skip
def set_space_warn_threshold(ctx: Context, sn: StorageNode, percent: int) -> str:
    sn.set_space_warn_threshold(percent)
    return OK


@m("changeable", "read", "Whether the node's EXAStorage devices can be changed now (the node runs and takes "
   "part in EXAStorage).", returns="boolean")  # fmt: skip
def changeable(ctx: Context, sn: StorageNode) -> bool:
    return sn.changeable()


@m("getAllDevices", "read", "The node's HDDs (its storage disks as EXAStorage sees them), each a dictionary "
   "as the HDD's getProperties describes it.", returns="array")  # fmt: skip
def get_all_devices(ctx: Context, sn: StorageNode) -> list[dict[str, Any]]:
    return sn.devices()


@m("getUnusedDevices", "read", "The node's storage disks EXAStorage has not taken in (name, type, disk); "
   "disk '' for all of them, or a disk name.", returns="array")  # fmt: skip
def get_unused_devices(ctx: Context, sn: StorageNode, disk: str = "") -> list[dict[str, Any]]:
    return sn.unused_devices(disk)


@m("addUnusedDevices", "operate", "Take these unused devices into EXAStorage ([]: all of them); volumes can "
   "then be placed on them. Returns the devices added (name, type, disk).", returns="array")  # fmt: skip
def add_unused_devices(ctx: Context, sn: StorageNode, devices: list) -> list[dict[str, Any]]:
    return sn.add_unused(devices)


@m("removeDevices", "operate", "Take these devices out of EXAStorage (they become unused). Refused for a "
   "device that holds volume copies.")  # fmt: skip
def remove_devices(ctx: Context, sn: StorageNode, devices: list) -> str:
    sn.remove_devices(devices)
    return OK


@m("enableDevices", "operate", "Enable these devices: volumes may be placed on them again.")
def enable_devices(ctx: Context, sn: StorageNode, devices: list) -> str:
    sn.set_enabled(devices, True)
    return OK


@m("disableDevices", "operate", "Disable these devices: no volume is placed on them. Refused for a device "
   "that holds volume copies.")  # fmt: skip
def disable_devices(ctx: Context, sn: StorageNode, devices: list) -> str:
    sn.set_enabled(devices, False)
    return OK


@m("enlargeDevices", "operate", "Grow these devices to their disks' size (after a disk grew); returns them.",
   returns="array")  # fmt: skip
def enlarge_devices(ctx: Context, sn: StorageNode, devices: list) -> list[dict[str, Any]]:
    return sn.enlarge(devices)


@m("clearDeviceErrors", "operate", "Set the IO error counters of the node's devices back to 0; returns how "
   "many errors were cleared.", returns="int")  # fmt: skip
def clear_device_errors(ctx: Context, sn: StorageNode) -> int:
    return sn.clear_errors()


STORAGE_NODE.include(COMMON)
