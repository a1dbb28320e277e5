"""The power drivers wired to the nodes: a node whose card is in a server-management group
is powered by that group's driver, and nothing waits for a BMC on the event loop.

* **Which driver**: the group's ``ipmi_type`` — ``Redfish``, ``HP iLO`` and ``Dell iDRAC``
  (they all speak Redfish) → ``redfish``, ``IPMI`` → ``ipmi``, ``command`` → ``command``.
  Its settings are the group's fields (user name, password), each member node's card
  address (``ip_addr_ipmi``) and the profile's ``[drivers."<group>"]`` table (keyed by the
  group's description or its object name): ports, CA file, commands, timings, per-node
  overrides under ``nodes``, and the readiness probe under ``readiness``. A node without a
  group stays simulated.
* **Made lazily, cached per group, rebuilt** when the group, a member's group or a member's
  card address changes (the model's ``power_epoch`` moves); a replaced driver finishes what
  it was doing and is closed with the others at shutdown.
* **Never blocking**: :class:`WiredPort` implements the model's request + completion shape:
  ``request`` calls the driver's ``begin`` and returns; the job's outcome (after a failure,
  with a fresh read of the power) is handed to the event loop with
  ``loop.call_soon_threadsafe`` and applied there between a sync and a commit
  (``Runtime.apply``). The driver's log lines reach the cluster's log the same way.
* **Readiness**: ``boot`` (default: the profile's boot duration after power-on, for emulated
  BMCs), ``tcp`` (a TCP connection to ``host``:``port``) or ``command`` (exit code 0); a
  probe tries again with backoff (``interval`` doubling up to ``max_interval``) until
  ``deadline`` seconds, each try bounded by ``timeout``, as a task on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.engine.drivers import HardwareInfo, PowerDriver, PowerJob, make_driver
from exaop.engine.drivers.settings import DriverSettings, SettingsError
from exaop.model.power import (
    Done,
    DriverError,
    InventoryReport,
    PowerAction,
    PowerPort,
    PowerReport,
    PowerState,
)
from exaop.model.srvmgmt import SrvMgmtGroup, group_of

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

log = logging.getLogger("exaop.power")

#: a server-management group's ipmi_type -> the driver that speaks to its cards
GROUP_DRIVERS = {
    "Redfish": "redfish", "HP iLO": "redfish", "Dell iDRAC": "redfish", "IPMI": "ipmi", "command": "command",
}  # fmt: skip
#: the drivers whose settings take the group's user name and password
WITH_CREDENTIALS = ("redfish", "ipmi")
PROBES = ("boot", "tcp", "command")
#: a driver's HardwareInfo field -> the model's hardware key (getNodeInfo's and the profile's names)
HARDWARE_KEYS = {
    "manufacturer": "vendor", "model": "product", "serial": "serial", "uuid": "uuid", "cpu_model": "cpu",
    "cpu_count": "sockets", "memory_gib": "memory_gib", "bios_version": "bios_version",
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Readiness(DriverSettings):
    """When a powered-on node counts as Running; times are seconds."""

    kind = "readiness"
    #: ``boot``: the profile's boot duration; ``tcp``: a TCP port answers; ``command``: a command exits 0
    probe: str = "boot"
    #: tcp: where to connect; ``{ip}`` the node's private address, ``{node}`` its name, ``{address}`` its card's
    host: str = "{ip}"
    port: int = 22
    #: command: run without a shell, with the same {ip}, {node} and {address} fields
    command: str = ""
    #: give up (the node is not Running, the log says why) after this long
    deadline: float = 600.0
    #: the first wait between tries; it doubles up to ``max_interval``
    interval: float = 1.0
    max_interval: float = 15.0
    #: one try at most
    timeout: float = 5.0

    def check(self, where: str) -> None:
        if self.probe not in PROBES:
            raise SettingsError(f"{where}: probe: must be one of {', '.join(PROBES)}, not {self.probe!r}")
        for name in ("deadline", "interval", "max_interval", "timeout"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{where}: {name}: must be more than 0, not {getattr(self, name)!r}")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"{where}: port: must be from 1 to 65535, not {self.port!r}")
        if self.probe == "command":
            try:
                argv = shlex.split(self.command)
            except ValueError as e:
                raise SettingsError(f"{where}: command: cannot be split into arguments: {e}") from None
            if not argv:
                raise SettingsError(f"{where}: command: required for the command probe")


def check_profile_table(name: str, table: Any) -> None:
    """A profile's ``[drivers."<group>"]`` table, as far as it can be checked before the group
    exists: a table, its ``nodes`` a table of tables, its ``readiness`` valid. The driver's own
    fields are checked (naming the field) when the driver is made."""
    where = f"drivers.{name}"
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where}: must be a table")
    for banned in ("username", "password"):
        if banned in table:
            raise SettingsError(f"{where}: {banned}: comes from the server management group, not the profile")
    nodes = table.get("nodes", {})
    if not isinstance(nodes, Mapping) or not all(isinstance(v, Mapping) for v in nodes.values()):
        raise SettingsError(f"{where}: nodes: must be a table of tables (one per node)")
    readiness_from(table.get("readiness", {}), f"{where}.readiness")


def readiness_from(data: Any, where: str) -> Readiness:
    """:class:`Readiness` from a profile's table; errors name it as ``where`` (``drivers.rack1.readiness``)."""
    try:
        return Readiness.from_dict(data)
    except SettingsError as e:
        raise SettingsError(str(e).replace("readiness settings", where, 1)) from None


class Handover:
    """Hands work from driver threads to the event loop, where the model may be touched."""

    def __init__(self, apply: Callable[[Callable[[], None]], None]) -> None:
        self.apply = apply  # runs fn between a sync and a commit (Runtime.apply)
        self.loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, fn: Callable[[], None]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # the server has stopped: the power is read back on its next start
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(self.apply, fn)


class WiredPort(PowerPort):
    """A real driver as the model's port: requests return at once, outcomes come back on the loop."""

    simulated = False
    asynchronous = True

    def __init__(
        self, driver: PowerDriver, readiness: Readiness, handover: Handover, addresses: Callable[[str], dict[str, str]]
    ) -> None:
        self.driver = driver
        self.name = driver.name
        self.readiness = readiness
        self.handover = handover
        self.addresses = addresses  # node -> {"node", "ip", "address"} filled into the probe's host and command
        self._probes: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references to tasks

    # the blocking shape, for tools: it waits for the BMC
    def power_on(self, node: str) -> None:
        self.driver.power_on(node)

    def power_off(self, node: str, hard: bool = False) -> None:
        self.driver.power_off(node, hard)

    def power_state(self, node: str) -> PowerState:
        return self.driver.power_state(node)

    # -- request + completion ---------------------------------------------------------------

    def request(self, node: str, action: PowerAction, done: Done) -> None:
        try:
            job = self.driver.begin(node, action)
        except DriverError as e:
            done(PowerReport(node, action, False, "unknown", str(e)))
            return
        job.add_done_callback(lambda j: self._finished(j, done))

    def _finished(self, job: PowerJob, done: Done) -> None:
        """In a driver thread: the job ended. A failure is followed by a read of the power."""
        exc = job.exception()
        if exc is None:
            r = job.result()
            if r.outcome == "superseded":
                return  # the newer request reports
            report = PowerReport(job.node, job.action, True, r.state, r.message, forced=r.outcome == "forced")
            self.handover(lambda: done(report))
            return

        def then(power: PowerState, _why: str = "") -> None:
            self.handover(lambda: done(PowerReport(job.node, job.action, False, power, str(exc))))

        self._read(job.node, then)

    def read(self, node: str, done: Done) -> None:
        def then(power: PowerState, why: str = "") -> None:
            text = why or f"{node}: the BMC reports {power}"
            self.handover(lambda: done(PowerReport(node, "read", not why, power, text)))

        self._read(node, then)

    def _read(self, node: str, then: Callable[..., None]) -> None:
        try:
            fut: Future[PowerState] = self.driver.in_background(self.driver.read_power, node)
        except DriverError as e:
            then("unknown", str(e))
            return

        def read_done(f: Future[PowerState]) -> None:
            exc = f.exception() if not f.cancelled() else DriverError("the driver was closed")
            if exc is None:
                then(f.result())
            else:
                then("unknown", str(exc))

        fut.add_done_callback(read_done)

    # -- what the BMC tells about the machine --------------------------------------------------

    def inventory(self, node: str, done: Callable[[InventoryReport], None]) -> bool:
        try:
            fut: Future[InventoryReport] = self.driver.in_background(self._inventory, node)
        except DriverError as e:
            failed = InventoryReport(node, False, {}, [], str(e))
            self.handover(lambda: done(failed))
            return True

        def read_done(f: Future[InventoryReport]) -> None:
            exc = f.exception() if not f.cancelled() else DriverError("the driver was closed")
            report = f.result() if exc is None else InventoryReport(node, False, {}, [], str(exc))
            self.handover(lambda: done(report))

        fut.add_done_callback(read_done)
        return True

    def _inventory(self, node: str) -> InventoryReport:
        """In a driver thread: the hardware (Redfish) and the sensors (IPMI), where the protocol has them."""
        info: HardwareInfo = self.driver.hardware_info(node)
        hardware = {HARDWARE_KEYS[k]: v for k, v in info.as_dict().items()}
        sensors = [
            {"name": r.name, "kind": r.kind, "value": r.value, "unit": r.unit, "health": r.health}
            for r in self.driver.sensors(node)
        ]
        told = ", ".join([*hardware, *(["sensors"] if sensors else [])]) or "nothing"
        return InventoryReport(node, True, hardware, sensors, f"{node}: the BMC tells {told}")

    # -- readiness --------------------------------------------------------------------------

    def probe(self, node: str, done: Done) -> bool:
        if self.readiness.probe == "boot":
            return False
        loop = self.handover.loop
        if loop is None:
            raise DriverError(f"{self.name}: no event loop to run the readiness probe of {node} on")
        task = loop.create_task(self._probe(node, done))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)
        return True

    async def _probe(self, node: str, done: Done) -> None:
        r = self.readiness
        start = time.monotonic()
        wait, tries = r.interval, 0
        places = self.addresses(node)
        while True:
            tries += 1
            try:
                ok, what = await self._try(places)
            except Exception as e:  # a probe that cannot even be tried says why, and the node is not left booting
                log.exception("readiness probe of %s failed", node)
                ok, what = False, f"{type(e).__name__}: {e}"
            elapsed = time.monotonic() - start
            if ok:
                report = PowerReport(node, "ready", True, "on", f"{node} is ready: {what} after {elapsed:.1f} s")
                break
            if elapsed + wait > r.deadline:
                text = f"readiness probe of {node} gave up after {elapsed:.1f} s ({tries} tries): {what}"
                report = PowerReport(node, "ready", False, "on", text)
                break
            await asyncio.sleep(wait)
            wait = min(wait * 2, r.max_interval)
        self.handover.apply(lambda: done(report))

    async def _try(self, places: dict[str, str]) -> tuple[bool, str]:
        r = self.readiness

        def fill(text: str) -> str:
            for key, value in places.items():
                text = text.replace("{" + key + "}", value)
            return text

        if r.probe == "tcp":
            host = fill(r.host)
            try:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, r.port), r.timeout)
            except (OSError, TimeoutError) as e:
                return False, f"TCP port {host}:{r.port} does not answer ({type(e).__name__}: {e})"
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True, f"TCP port {host}:{r.port} answers"
        argv = [fill(a) for a in shlex.split(r.command)]
        shown = shlex.join(argv)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        except OSError as e:
            return False, f"cannot run `{shown}`: {e.strerror or e}"
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), r.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return False, f"`{shown}` did not finish within {r.timeout:g} s"
        said = " ".join(out.decode(errors="replace").split())[-200:]
        if proc.returncode == 0:
            return True, f"`{shown}` exited 0"
        return False, f"`{shown}` exited {proc.returncode}" + (f": {said}" if said else "")


@dataclass
class _Wired:
    epoch: int
    settings: dict[str, Any]
    port: WiredPort | None
    error: str = ""


class PowerWiring:
    """The model's :class:`~exaop.model.power.PowerPorts`: a driver per server-management group."""

    def __init__(self, cluster: Cluster, apply: Callable[[Callable[[], None]], None]) -> None:
        self.cluster = cluster
        self.handover = Handover(apply)
        self._groups: dict[str, _Wired] = {}
        self._retired: list[PowerDriver] = []
        self._closed = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Outcomes go to ``loop`` from now on."""
        self.handover.loop = loop

    def port_for(self, node: str) -> PowerPort | None:
        c = self.cluster
        group = group_of(c, c.nodes[node].values.get("ipmi_group", ""))
        if group is None or group.values.get("ipmi_type") not in GROUP_DRIVERS:
            return None
        wired = self._groups.get(group.name)
        if wired is None or wired.epoch != c.power_epoch:
            wired = self._wire(group, wired)
        if wired.port is None:
            raise DriverError(wired.error)
        return wired.port

    def _wire(self, group: SrvMgmtGroup, old: _Wired | None) -> _Wired:
        kind = GROUP_DRIVERS[group.values["ipmi_type"]]
        try:
            settings, readiness = self._settings(group, kind)
        except SettingsError as e:
            settings, readiness, error = {"error": str(e)}, None, str(e)
        else:
            error = ""
        if old is not None and old.settings == settings:
            old.epoch = self.cluster.power_epoch
            return old
        if old is not None and old.port is not None:
            self._retired.append(old.port.driver)  # it finishes what it does; closed at shutdown
        port = None
        if readiness is not None:
            try:
                driver = make_driver(kind, settings, log=self._log)
            except SettingsError as e:
                error = f"server management group {group.values.get(group.DESCRIPTION) or group.name}: {e}"
            else:
                port = WiredPort(driver, readiness, self.handover, self._addresses)
                log.info("power driver %s made for server management group %s", kind, group.name)
        wired = _Wired(self.cluster.power_epoch, settings, port, error)
        self._groups[group.name] = wired
        return wired

    def _settings(self, group: SrvMgmtGroup, kind: str) -> tuple[dict[str, Any], Readiness]:
        c = self.cluster
        tables = c.profile.drivers
        label = str(group.values.get(group.DESCRIPTION, ""))
        table = dict(tables.get(label, tables.get(group.name, {})))
        where = f"drivers.{label or group.name}"
        readiness = readiness_from(table.pop("readiness", {}), f"{where}.readiness")
        overrides = table.pop("nodes", {})
        nodes: dict[str, dict[str, Any]] = {}
        for name in group.members():
            target = dict(overrides.get(name, {}))
            address = c.nodes[name].values.get("ip_addr_ipmi", "")
            if address:
                target["address"] = address
            nodes[name] = target
        settings: dict[str, Any] = {**table, "nodes": nodes}
        if kind in WITH_CREDENTIALS:
            settings["username"] = group.values.get("ipmi_username", "")
            settings["password"] = group.password()
        return settings, readiness

    def _addresses(self, node: str) -> dict[str, str]:
        n = self.cluster.nodes[node]
        return {"node": node, "ip": n.ip, "address": n.values.get("ip_addr_ipmi", "")}

    def _log(self, node: str, priority: str, message: str) -> None:
        """The drivers' log hook (their worker threads): into the cluster's log, on the loop."""
        self.handover(lambda: self.cluster.log("EXAoperation", node, priority, message))

    def close(self) -> None:
        """Shutdown: every driver ends its jobs (at their next look) and its threads."""
        self._closed = True
        self.handover.loop = None
        for wired in self._groups.values():
            if wired.port is not None:
                wired.port.driver.close()
        for driver in self._retired:
            driver.close()
        self._groups.clear()
        self._retired.clear()
