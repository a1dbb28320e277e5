"""Redfish, through sushy: every current iLO, iDRAC, XClarity and most virtual BMCs.

One sushy connection per BMC (scheme, address, port), reused and re-opened after a
failure; basic auth; TLS verified against the system's CAs, a CA file of the group
(``ca_file``), or not at all (``verify = false``). The node's system is found at its BMC
by Id or Name (``system``, default the node's name). ``on`` is Redfish's ``On``,
``shutdown`` ``GracefulShutdown`` (``ForceOff`` after the deadline, by the base),
``off`` ``ForceOff``, ``reset`` ``ForceRestart``.

sushy on its own retries a refused connection for about half a minute; here it tries
once per request (``server_side_retries=1``) with ``connect_timeout`` for connecting
and ``call_timeout`` for the answer, and the base's retries (with backoff, transient failures only) do the
rest, so a BMC that is down is an error in a few seconds.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sx

from exaop.engine.drivers.base import BmcDriver, Failure, HardwareInfo, LogHook, PowerState
from exaop.engine.drivers.settings import BmcSettings, SettingsError, readable_file

_POWERED = {sushy.PowerState.ON, sushy.PowerState.POWERING_ON, sushy.PowerState.POWERING_OFF}


@dataclass(frozen=True, kw_only=True)
class RedfishSettings(BmcSettings):
    kind = "redfish"
    username: str
    password: str = field(repr=False)
    #: verify the BMC's TLS certificate (against ``ca_file`` when given, else the system's CAs)
    verify: bool = True
    #: PEM file of the CA(s) that signed the BMCs' certificates
    ca_file: str = ""
    #: ``https``, or ``http`` for a BMC without TLS
    scheme: str = "https"
    #: connecting to the BMC at most (an address nobody answers fails this fast); then ``call_timeout`` for the answer
    connect_timeout: float = 3.0

    def check(self, where: str) -> None:
        super().check(where)
        if not self.username:
            raise SettingsError(f"{where}: username: required")
        if not self.connect_timeout > 0:
            raise SettingsError(f"{where}: connect_timeout: must be more than 0, not {self.connect_timeout!r}")
        if self.scheme not in ("https", "http"):
            raise SettingsError(f"{where}: scheme: must be 'https' or 'http', not {self.scheme!r}")
        if self.ca_file and not self.verify:
            raise SettingsError(f"{where}: ca_file: given, but verify is false")
        readable_file(self.ca_file, f"{where}: ca_file")
        self.require_address(where)


class _SystemNotFound(Exception):
    pass


class RedfishDriver(BmcDriver):
    name = "redfish"
    parallel_limit = 16
    settings_type = RedfishSettings

    def __init__(self, settings: RedfishSettings, log: LogHook | None = None) -> None:
        super().__init__(settings, log)
        self.settings: RedfishSettings = settings
        self._roots: dict[str, sushy.Sushy] = {}
        self._bmc_locks: dict[str, threading.Lock] = {}
        self._paths: dict[str, str] = {}  # node -> its system's path at its BMC
        self._guard = threading.Lock()

    def bmc(self, node: str) -> str:
        t = self.settings.target(node)
        host = f"[{t.address}]" if ":" in t.address else t.address
        return f"{self.settings.scheme}://{host}:{t.port or (443 if self.settings.scheme == 'https' else 80)}"

    @contextmanager
    def _system(self, node: str) -> Iterator[Any]:
        """The node's system resource, freshly read, with its BMC's connection held."""
        url = self.bmc(node)
        with self._guard:
            lock = self._bmc_locks.setdefault(url, threading.Lock())
        with lock:
            root = self._roots.get(url)
            if root is None:
                root = self._roots[url] = self._connect(url)
            path = self._paths.get(node) or self._find(root, node)
            self._paths[node] = path
            yield root.get_system(path)

    def _connect(self, url: str) -> sushy.Sushy:
        s = self.settings
        verify: bool | str = s.ca_file or s.verify
        return sushy.Sushy(
            url,
            auth=sushy_auth.BasicAuth(s.username, s.password),
            verify=verify,
            server_side_retries=1,
            server_side_retries_delay=0.1,
            read_timeout=s.call_timeout,
            connect_timeout=min(s.connect_timeout, s.call_timeout),
        )

    def _find(self, root: sushy.Sushy, node: str) -> str:
        want = self.settings.target(node).system
        paths = list(root.get_system_collection().members_identities)
        for path in paths:
            if path.rstrip("/").rsplit("/", 1)[-1] == want:
                return path
        for path in paths:
            system = root.get_system(path)
            if want in (system.name, system.uuid):
                return path
        raise _SystemNotFound(f"no system with Id or Name {want!r} among its {len(paths)} systems")

    def _forget_session(self, node: str) -> None:
        with self._guard:
            self._roots.pop(self.bmc(node), None)
            self._paths.pop(node, None)

    def _reset_to(self, node: str, kind: sushy.ResetType) -> None:
        with self._system(node) as system:
            system.reset_system(kind)

    def _on(self, node: str) -> None:
        self._reset_to(node, sushy.ResetType.ON)

    def _shutdown(self, node: str) -> None:
        self._reset_to(node, sushy.ResetType.GRACEFUL_SHUTDOWN)

    def _force_off(self, node: str) -> None:
        self._reset_to(node, sushy.ResetType.FORCE_OFF)

    def _reset(self, node: str) -> None:
        self._reset_to(node, sushy.ResetType.FORCE_RESTART)

    def _read_power(self, node: str) -> PowerState:
        with self._system(node) as system:
            state = system.power_state
        if state is None:
            raise _SystemNotFound("the system resource names no PowerState")
        return "on" if state in _POWERED else "off"

    def _hardware(self, node: str) -> HardwareInfo:
        with self._system(node) as system:
            doc: dict[str, Any] = system.json
        cpu = doc.get("ProcessorSummary") or {}
        memory = doc.get("MemorySummary") or {}
        return HardwareInfo(
            manufacturer=str(doc.get("Manufacturer") or ""),
            model=str(doc.get("Model") or ""),
            serial=str(doc.get("SerialNumber") or ""),
            cpu_count=_int(cpu.get("Count")),
            cpu_model=str(cpu.get("Model") or ""),
            memory_gib=_float(memory.get("TotalSystemMemoryGiB")),
            bios_version=str(doc.get("BiosVersion") or ""),
            uuid=str(doc.get("UUID") or ""),
        )

    def _classify(self, exc: Exception) -> Failure:
        if isinstance(exc, sx.AccessError):
            what = "wrong user name or password" if exc.status_code == 401 else "access denied"
            return Failure(f"{what} (HTTP {exc.status_code})", False)
        if isinstance(exc, sx.ServerSideError):
            return Failure(f"the BMC failed (HTTP {exc.status_code}): {exc.detail or exc}", True)
        if isinstance(exc, sx.HTTPError):
            return Failure(f"refused (HTTP {exc.status_code}): {getattr(exc, 'detail', None) or exc}", False)
        if isinstance(exc, sx.ConnectionError):
            cause = exc.__context__
            if isinstance(cause, requests.exceptions.SSLError):
                return Failure(f"TLS failed: {_innermost(cause)}", False)
            return Failure(f"cannot reach it: {_innermost(cause) if cause else exc}", True)
        if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
            return Failure(f"cannot reach it: {_innermost(exc)}", True)
        if isinstance(exc, _SystemNotFound):
            return Failure(str(exc), False)
        if isinstance(exc, sx.SushyError):
            return Failure(str(exc), False)
        return super()._classify(exc)


def _innermost(exc: BaseException) -> str:
    """The most specific reason in the chain of exceptions requests and urllib3 wrap around each other."""
    chain: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if e in chain:
            continue
        chain.append(e)
        todo += [a for a in e.args if isinstance(a, BaseException)]
        todo += [c for c in (e.__cause__, e.__context__, getattr(e, "reason", None)) if isinstance(c, BaseException)]
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {e.verify_message}"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return str(e.strerror).lower()
    for e in chain:
        if isinstance(e, TimeoutError | requests.exceptions.Timeout):
            return "timed out"
    return str(chain[-1])


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
