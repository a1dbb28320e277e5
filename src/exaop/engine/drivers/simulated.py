"""Simulated hardware: machines whose power state lives apart from the control plane.

The machines keep their state in a table of their own (``sim_hardware``), not in the
control plane's records of the nodes, so a control-plane crash does not "reboot" them:
after a restart the control plane reads back what is powered. The driver does not write
that table itself: it collects the machines it changed, and the runtime saves them in
the same transaction as the model change that made them (:meth:`take_changes`), so the
state dir never holds a node whose record and power disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from exaop.engine.drivers.base import DriverError, PowerDriver, PowerState

#: a machine as stored: (node, powered, its management card refuses requests)
MachineRow = tuple[str, bool, bool]


class SimulatedDriver(PowerDriver):
    name = "simulated"
    simulated = True

    def __init__(self, machines: Iterable[MachineRow] = ()) -> None:
        self._power: dict[str, bool] = {}
        self._refuse: set[str] = set()  # nodes whose management card refuses (power_fail)
        self._changed: set[str] = set()  # machines changed since the last take_changes
        self._unsaved: set[str] = set()  # what the last take_changes handed out
        for node, powered, refuse in machines:
            self._power[node] = bool(powered)
            if refuse:
                self._refuse.add(node)

    # -- what the runtime saves with the model ------------------------------------------------

    @property
    def has_changes(self) -> bool:
        return bool(self._changed)

    def take_changes(self) -> list[MachineRow]:
        """The rows of the machines changed since the last call, to save with the model change."""
        rows = [(n, self._power.get(n, False), n in self._refuse) for n in sorted(self._changed)]
        self._unsaved, self._changed = self._changed, set()
        return rows

    def keep_changes(self) -> None:
        """The rows last taken could not be saved: hand them out again next time."""
        self._changed |= self._unsaved
        self._unsaved = set()

    # the fault the simulation controls can inject
    def set_refuse(self, node: str, refuse: bool) -> None:
        if refuse:
            self._refuse.add(node)
        else:
            self._refuse.discard(node)
        self._changed.add(node)

    def refusing(self) -> set[str]:
        return set(self._refuse)

    def machine_changed(self, node: str, powered: bool) -> None:
        """The machine lost (or got) power by itself: a crash, or the license server booting."""
        self._power[node] = powered
        self._changed.add(node)

    def _check(self, node: str) -> None:
        if node in self._refuse:
            raise DriverError(f"the server management card of {node} refused the request (simulated power_fail)")

    def _power_on(self, node: str) -> None:
        self._check(node)
        self.machine_changed(node, True)

    def _power_off(self, node: str, hard: bool) -> None:
        self._check(node)
        self.machine_changed(node, False)

    def _power_state(self, node: str) -> PowerState:
        return "on" if self._power.get(node) else "off"
