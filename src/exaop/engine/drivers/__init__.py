"""Power drivers: how a node is powered on and off, and how we learn whether it is.

``make_driver(kind, settings)`` builds one from its settings dictionary (what a
server-management group or the profile holds). A new driver is one module and one line
in :data:`REGISTRY`: ``kind -> "module:Class"``, imported when first asked for, so the
libraries of drivers nobody uses (sushy, pyghmi) are never loaded. A driver of a real BMC
names its ``settings_type`` (a :class:`~.settings.BmcSettings`); the simulated one takes none.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from exaop.engine.drivers.base import (
    BmcDriver,
    DriverError,
    HardwareInfo,
    LogHook,
    PowerAction,
    PowerDriver,
    PowerJob,
    PowerResult,
    SensorReading,
)
from exaop.engine.drivers.settings import SettingsError
from exaop.engine.drivers.simulated import SimulatedDriver

__all__ = [
    "REGISTRY",
    "BmcDriver",
    "DriverError",
    "HardwareInfo",
    "LogHook",
    "PowerAction",
    "PowerDriver",
    "PowerJob",
    "PowerResult",
    "SensorReading",
    "SettingsError",
    "SimulatedDriver",
    "driver_class",
    "make_driver",
]

REGISTRY: dict[str, str] = {
    "simulated": "exaop.engine.drivers.simulated:SimulatedDriver",
    "redfish": "exaop.engine.drivers.redfish:RedfishDriver",
    "ipmi": "exaop.engine.drivers.ipmi:IpmiDriver",
    "command": "exaop.engine.drivers.command:CommandDriver",
}


def driver_class(kind: str) -> type[PowerDriver]:
    try:
        module, _, cls = REGISTRY[kind].partition(":")
    except (KeyError, TypeError):
        raise SettingsError(f"unknown power driver {kind!r} (one of {', '.join(REGISTRY)})") from None
    found: type[PowerDriver] = getattr(importlib.import_module(module), cls)
    return found


def make_driver(kind: str, settings: Mapping[str, Any] | None = None, log: LogHook | None = None) -> PowerDriver:
    """A driver of ``kind`` built from ``settings``; :class:`SettingsError` names what is wrong.

    ``log(node, priority, message)`` receives what a real driver does (from its worker threads)."""
    cls = driver_class(kind)
    if issubclass(cls, BmcDriver):
        return cls(cls.settings_type.from_dict(settings or {}), log)
    if settings:
        raise SettingsError(f"{kind} settings: unknown field {sorted(settings)[0]!r} (it takes none)")
    return cls()
