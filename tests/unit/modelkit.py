"""Building blocks for model tests: a default cluster on a hand-moved clock, no server."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.engine.secrets import FernetBox
from exaop.model.cluster import Cluster
from exaop.model.database import Database
from exaop.model.errors import UsageError

T0 = 1_700_000_000.0
DB_NODES = ["n0011", "n0012", "n0013", "n0014"]


class Sim:
    """The default cluster as `exaop serve` opens it (license server up), with a manual clock."""

    def __init__(self, seed: int = 0) -> None:
        self.profile = default_profile()
        self.c = Cluster.from_profile(self.profile, T0, {"simulated": SimulatedDriver()})
        self.c.rng = random.Random(seed)
        self.c.boot_license_server()

    # -- time ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.c.now

    def advance(self, seconds: float) -> None:
        self.c.advance(self.c.now + seconds)

    def longest(self, duration: str) -> float:
        return self.profile.durations[duration].longest

    def settle(self, duration: str) -> None:
        """Advance past the longest draw of a profile duration."""
        self.advance(self.longest(duration) + 1)

    # -- shortcuts -------------------------------------------------------------------------

    def node(self, name: str):  # type: ignore[no-untyped-def]
        return self.c.nodes[name]

    @property
    def db(self) -> Database:
        return self.c.databases["exa_db1"]

    def boot(self, *names: str) -> None:
        for n in names or DB_NODES:
            self.c.nodes[n].startup()
        self.settle("node_boot")

    def storage_online(self, ignored: list[str] | None = None) -> None:
        self.c.storage.start(ignored)
        self.settle("storage_start")
        assert self.c.storage.online

    def db_running(self) -> None:
        self.db.start()
        self.settle("database_start")
        self.settle("database_connect")
        assert self.db.state == "running" and self.db.connectible

    def all_up(self) -> None:
        self.boot()
        self.storage_online()
        self.db_running()

    def messages(self, priority: str | None = None, node: str | None = None) -> list[str]:
        return [
            e.message
            for e in self.c.logbook.entries
            if (priority is None or e.priority == priority) and (node is None or e.node == node)
        ]


def without_jitter(sim: Sim) -> Sim:
    """Make every duration exactly its profile value (for tests that check exact seconds)."""
    from exaop.model.profile import Duration

    for name, d in list(sim.profile.durations.items()):
        sim.profile.durations[name] = Duration(d.value)
    return sim


def keeping_passwords(sim: Sim) -> Sim:
    """Give the cluster a secret box, as `exaop serve` does: kinds with passwords need one."""
    sim.c.secrets = FernetBox()
    return sim


def refusal(fn: Callable[..., Any], *args: Any) -> str:
    """The reason of the UsageError ``fn(*args)`` must raise."""
    with pytest.raises(UsageError) as e:
        fn(*args)
    return e.value.reason
