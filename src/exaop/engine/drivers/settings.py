"""Typed settings of the power drivers, built from plain dictionaries.

What a server-management group (or the profile) holds is a dictionary; each driver has
a frozen dataclass for it, and :meth:`DriverSettings.from_dict` turns one into the other,
refusing unknown fields, missing ones and values of the wrong type with a
:class:`SettingsError` that names the field (``redfish settings: nodes.n0011.port: must
be an integer, not 'x'``). Fields shared by the drivers of real BMCs are in
:class:`BmcSettings`: the per-node targets and the timing of requests and of verifying.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from exaop.model.power import DriverError


class SettingsError(DriverError, ValueError):
    """Settings that cannot be used; the text names the driver and the field."""


@dataclass(frozen=True, kw_only=True)
class DriverSettings:
    #: the driver's name in messages and in the registry
    kind: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Self:
        return _build(cls, {} if data is None else data, f"{cls.kind} settings")

    def check(self, where: str) -> None:
        """Checks across fields, after each field has its type; raise :class:`SettingsError`."""


@dataclass(frozen=True, kw_only=True)
class NodeTarget:
    """Where one node's BMC is; empty or zero: the group's value (or the protocol's default)."""

    address: str = ""
    port: int = 0
    #: Redfish: the system's Id or Name at that BMC (default: the node's name)
    system: str = ""

    def check(self, where: str) -> None:
        _port_ok(self.port, f"{where}.port")


@dataclass(frozen=True, kw_only=True)
class BmcSettings(DriverSettings):
    """What every driver of a real management interface takes. Times are seconds."""

    #: node name -> where its BMC is
    nodes: Mapping[str, NodeTarget]
    #: the BMC address of a node that names none
    address: str = ""
    #: the port of a node that names none (0: the protocol's default)
    port: int = 0
    #: one request to the BMC at most (connect + answer)
    call_timeout: float = 10.0
    #: more attempts of a request that failed for a reason that may pass
    retries: int = 2
    #: wait before the first retry; it doubles for each further one
    retry_backoff: float = 0.5
    #: wait between re-reads of the power state while verifying an action
    poll_interval: float = 2.0
    #: send on/off again when the BMC still shows the old state this long after the last request
    resend_interval: float = 15.0
    #: an on, off or reset the BMC does not show by then fails
    power_deadline: float = 120.0
    #: a graceful shutdown not done by then is forced off
    shutdown_deadline: float = 300.0
    #: how long after an off request a reading of 'on' is not trusted (unless 'off' was read)
    off_settle: float = 30.0

    def check(self, where: str) -> None:
        _port_ok(self.port, f"{where}: port")
        for name in ("call_timeout", "poll_interval", "resend_interval", "power_deadline", "shutdown_deadline"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{where}: {name}: must be more than 0, not {getattr(self, name)!r}")
        for name in ("retry_backoff", "off_settle"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{where}: {name}: must not be negative, not {getattr(self, name)!r}")
        if not 0 <= self.retries <= 10:
            raise SettingsError(f"{where}: retries: must be from 0 to 10, not {self.retries!r}")
        if not self.nodes:
            raise SettingsError(f"{where}: nodes: names no node")

    def target(self, node: str) -> NodeTarget:
        """The node's target with the group's defaults filled in; :class:`DriverError` for a node not configured."""
        t = self.nodes.get(node)
        if t is None:
            raise DriverError(f"{self.kind}: no BMC is configured for {node}")
        return NodeTarget(address=t.address or self.address, port=t.port or self.port, system=t.system or node)

    def require_address(self, where: str) -> None:
        for name in self.nodes:
            if not self.target(name).address:
                raise SettingsError(f"{where}: nodes.{name}.address: required (no group address either)")


def _port_ok(port: int, where: str) -> None:
    if not 0 <= port <= 65535:
        raise SettingsError(f"{where}: must be from 1 to 65535 (0: the default), not {port!r}")


def readable_file(path: str, where: str) -> None:
    if path and not Path(path).is_file():
        raise SettingsError(f"{where}: {path!r} is not a readable file")


# -- building a dataclass from a dictionary -------------------------------------------------


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where}: must be a dictionary, not {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise SettingsError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for name, f in known.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], f"{where}: {name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise SettingsError(f"{where}: {name}: required")
    obj = cls(**values)
    obj.check(where)
    return obj


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        [tp] = options
        origin = typing.get_origin(tp)
    if origin is not None and issubclass(origin, Mapping):
        _key, item = typing.get_args(tp)
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: must be a dictionary, not {type(value).__name__}")
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise SettingsError(f"{where}: keys must be names, not {k!r}")
            out[k] = _convert(item, v, f"{where}.{k}")
        return types.MappingProxyType(out)
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return _build(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise SettingsError(f"{where}: must be true or false, not {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise SettingsError(f"{where}: must be an integer, not {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise SettingsError(f"{where}: must be a number of seconds, not {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise SettingsError(f"{where}: must be text, not {value!r}")
    raise TypeError(f"{where}: settings of type {tp!r} are not supported")  # a driver's own mistake
