"""IPMI over LAN (IPMI 2.0, RMCP+), through pyghmi.

One session per BMC (address, port), reused for every request and opened again after a
failure (a BMC that restarted forgets its sessions). User name and password go to
pyghmi as bytes. ``on`` is chassis control power up, ``shutdown`` a soft (ACPI) power
off, ``off`` power down, ``reset`` a hard reset; sensors come from the BMC's SDR.

Timing: pyghmi retransmits lost UDP packets itself. A BMC that never answers the login
is an error after about 5 s (pyghmi's own retransmits; not retried again here); an
open session whose BMC stops answering fails after about 3 s (pyghmi would try to log
in again for half a minute: here its re-login is off and the base's retry opens a new
session instead). Requests to IPMI BMCs are few at a time (``parallel_limit`` 4): UDP
fan-out is where packets get lost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import GeneratorType
from typing import Any

from pyghmi import exceptions as pyghmi_errors
from pyghmi.ipmi import command as ipmi_command

from exaop.engine.drivers.base import BmcDriver, Failure, LogHook, PowerState, SensorReading
from exaop.engine.drivers.settings import BmcSettings, SettingsError

DEFAULT_PORT = 623
#: pyghmi gives up on an unanswered request in an open session after about this many seconds
SESSION_PATIENCE = 2


@dataclass(frozen=True, kw_only=True)
class IpmiSettings(BmcSettings):
    kind = "ipmi"
    username: str
    password: str = field(repr=False)
    #: one retry: pyghmi already retransmits lost packets (``call_timeout`` is not used: pyghmi keeps its own timing)
    retries: int = 1

    def check(self, where: str) -> None:
        super().check(where)
        if len(self.password.encode()) > 20:
            raise SettingsError(f"{where}: password: IPMI 2.0 passwords have at most 20 bytes")
        if len(self.username.encode()) > 16:
            raise SettingsError(f"{where}: username: IPMI user names have at most 16 bytes")
        self.require_address(where)


_HEALTH = {0: "ok", 1: "warning", 2: "critical", 4: "failed"}


class IpmiDriver(BmcDriver):
    name = "ipmi"
    parallel_limit = 4
    settings_type = IpmiSettings

    def __init__(self, settings: IpmiSettings, log: LogHook | None = None) -> None:
        super().__init__(settings, log)
        self.settings: IpmiSettings = settings
        self._sessions: dict[tuple[str, int], Any] = {}
        self._bmc_locks: dict[tuple[str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    def _where(self, node: str) -> tuple[str, int]:
        t = self.settings.target(node)
        return t.address, t.port or DEFAULT_PORT

    def bmc(self, node: str) -> str:
        address, port = self._where(node)
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"

    def _request(self, node: str, fn: str, *args: Any) -> Any:
        """``Command.<fn>(*args)`` on the node's BMC, one request at a time per BMC."""
        key = self._where(node)
        with self._guard:
            lock = self._bmc_locks.setdefault(key, threading.Lock())
        with lock:
            cmd = self._sessions.get(key)
            if cmd is None or cmd.ipmi_session.broken:
                s = self.settings
                cmd = ipmi_command.Command(
                    bmc=key[0], port=key[1], userid=s.username.encode(), password=s.password.encode()
                )
                session = cmd.ipmi_session
                session.logontries = 0  # no silent re-login loop: a failure surfaces, a new session follows
                session.maxtimeout = SESSION_PATIENCE
                self._sessions[key] = cmd
            result = getattr(cmd, fn)(*args)
            return list(result) if isinstance(result, GeneratorType) else result  # read while the lock is held

    def _forget_session(self, node: str) -> None:
        with self._guard:
            cmd = self._sessions.pop(self._where(node), None)
        if cmd is not None and not cmd.ipmi_session.broken:
            try:
                cmd.ipmi_session.logout()
            except Exception:  # the BMC may be gone: nothing to log out of
                pass

    def _on(self, node: str) -> None:
        self._request(node, "set_power", "on")

    def _shutdown(self, node: str) -> None:
        self._request(node, "set_power", "shutdown")

    def _force_off(self, node: str) -> None:
        self._request(node, "set_power", "off")

    def _reset(self, node: str) -> None:
        self._request(node, "set_power", "reset")

    def _read_power(self, node: str) -> PowerState:
        state = self._request(node, "get_power").get("powerstate")
        if state not in ("on", "off"):
            raise pyghmi_errors.IpmiException(f"the BMC reports power state {state!r}")
        return state  # type: ignore[no-any-return]

    def _sensors(self, node: str) -> list[SensorReading]:
        readings = self._request(node, "get_sensor_data")
        return [
            SensorReading(
                name=str(r.name),
                kind=str(r.type),
                value=r.value,
                unit=str(r.units or ""),
                health="unavailable" if r.unavailable else _HEALTH.get(r.health, "critical"),
            )
            for r in readings
        ]

    def _classify(self, exc: Exception) -> Failure:
        if isinstance(exc, pyghmi_errors.IpmiException):
            text = str(exc.args[0]) if exc.args and exc.args[0] is not None else ""
            if not text or text == "timeout":
                return Failure("no answer (is the BMC reachable, is IPMI over LAN enabled?)", False)
            if "password" in text.lower() or "unauthorized name" in text.lower():
                return Failure(f"wrong user name or password ({text})", False)
            if "no longer connected" in text:
                return Failure("the session stopped answering", True)
            return Failure(text, False)
        if isinstance(exc, OSError):
            return Failure(f"network error: {exc}", True)
        return super()._classify(exc)
