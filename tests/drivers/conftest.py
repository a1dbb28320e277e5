from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exaop.engine.drivers import PowerDriver, make_driver
from tests.drivers.emulators import IpmiBmc, RedfishBmc


class Log:
    """A log hook that keeps what drivers say: (node, priority, message)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []
        self._changed = threading.Condition()

    def __call__(self, node: str, priority: str, message: str) -> None:
        with self._changed:
            self.lines.append((node, priority, message))
            self._changed.notify_all()

    def has(self, priority: str, text: str) -> bool:
        return any(p == priority and text in m for _n, p, m in list(self.lines))

    def wait_for(self, priority: str, text: str, timeout: float = 10.0) -> None:
        """Until a driver logs it (it logs from its worker threads)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.has(priority, text), timeout):
                raise AssertionError(f"no {priority} containing {text!r} within {timeout:g} s: {self.lines}")


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def driver(log: Log) -> Iterator[Callable[..., PowerDriver]]:
    """make_driver(kind, settings) with the test's log hook; every driver closed at the end."""
    made: list[PowerDriver] = []

    def make(kind: str, settings: dict[str, Any]) -> PowerDriver:
        made.append(make_driver(kind, settings, log=log))
        return made[-1]

    yield make
    for d in made:
        d.close()


def _started(root: Path, build: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """A factory of emulators, each in a directory of its own under ``root``, all stopped at the end."""
    started: list[Any] = []

    def start(*args: Any, **kwargs: Any) -> Any:
        bmc = build(root / f"bmc{len(started)}", *args, **kwargs)
        started.append(bmc)
        return bmc.start()

    yield start
    for bmc in started:
        bmc.stop()


@pytest.fixture
def redfish(tmp_path: Path) -> Iterator[Callable[..., RedfishBmc]]:
    """redfish(systems=["n0011"], **options) -> a started RedfishBmc."""
    yield from _started(tmp_path, lambda root, systems=None, **kw: RedfishBmc(root, systems or ["n0011"], **kw))


@pytest.fixture
def ipmi(tmp_path: Path) -> Iterator[Callable[..., IpmiBmc]]:
    """ipmi(node="n0011", **options) -> a started IpmiBmc."""
    yield from _started(tmp_path, IpmiBmc)
