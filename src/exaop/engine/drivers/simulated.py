"""Simulated hardware: machines whose power state lives apart from the control plane.

The machines keep their state in their own table (``sim_hardware``) and commit it
themselves, so a control-plane crash does not "reboot" them: after a restart the
control plane reads back what is powered.
"""

from __future__ import annotations

import sqlite3

from exaop.engine.drivers.base import DriverError, PowerDriver, PowerState


class SimulatedDriver(PowerDriver):
    name = "simulated"
    simulated = True

    def __init__(self, conn: sqlite3.Connection | None = None) -> None:
        self._conn = conn
        self._power: dict[str, bool] = {}
        self._refuse: set[str] = set()  # nodes whose management card refuses (power_fail)
        if conn is not None:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS sim_hardware"
                " (node TEXT PRIMARY KEY, powered INTEGER NOT NULL, refuse INTEGER NOT NULL)"
            )
            conn.commit()
            for node, powered, refuse in conn.execute("SELECT node, powered, refuse FROM sim_hardware"):
                self._power[node] = bool(powered)
                if refuse:
                    self._refuse.add(node)

    def _save(self, node: str) -> None:
        if self._conn is None:
            return
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO sim_hardware (node, powered, refuse) VALUES (?, ?, ?)",
                (node, int(self._power.get(node, False)), int(node in self._refuse)),
            )

    # the fault the simulation controls can inject
    def set_refuse(self, node: str, refuse: bool) -> None:
        if refuse:
            self._refuse.add(node)
        else:
            self._refuse.discard(node)
        self._save(node)

    def refusing(self) -> set[str]:
        return set(self._refuse)

    def machine_changed(self, node: str, powered: bool) -> None:
        """The machine lost (or got) power by itself: a crash, or the license server booting."""
        self._power[node] = powered
        self._save(node)

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
