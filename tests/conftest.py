from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.serverproc import ServerProcess

# Hypothesis judges by wall time, which on a shared CI machine (two cores, other jobs) says more
# about the neighbours than about our strategies: no deadline, no "too slow" health check.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    started: list[ServerProcess] = []

    def make(
        speed: float = 0,
        extra: list[str] | None = None,
        http: bool = False,
        state_dir: Path | None = None,
        **kwargs: Any,
    ) -> ServerProcess:
        """kwargs go to ServerProcess (admin_password, env)."""
        srv = ServerProcess(state_dir or tmp_path / "state", speed=speed, extra=extra, http=http, **kwargs)
        started.append(srv)
        return srv.start()

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def server(server_factory) -> ServerProcess:  # type: ignore[no-untyped-def]
    """A server on a manual clock (speed 0): tests move time with simulation.advanceClock."""
    return server_factory(speed=0)
