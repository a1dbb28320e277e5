"""Which interface a URL leads to: EXAoperation (Exasol up to 7.0) or ConfD (7.1 and later).

An EXAoperation URL names its cluster (``/cluster1``); a ConfD URL has no path (or
``/rpc2``). A URL without a path is asked: ConfD's methods (``system.listMethods``) include
``job_exec``, EXAoperation's do not. It is asked when the run first needs the cluster (the
reachable phase, which waits for the server to answer), not when the tool starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from exaop.client.backend import Backend
from exaop.client.client import ExaClient, Moved, ServerFault

APIS = ("exaoperation", "confd")


def looks_like_confd(url: str) -> bool:
    """A URL without a path (or /rpc2) is ConfD's way; EXAoperation's names the cluster."""
    return urlsplit(url).path.rstrip("/").lower() in ("", "/rpc2")


def detect(probe: ExaClient) -> str:
    """'confd' when the server's methods include job_exec, else 'exaoperation' (one call)."""
    try:
        methods = probe.call("", "system.listMethods")
    except (ServerFault, Moved):  # EXAoperation below its cluster's path, or a ConfD node not the master
        return "exaoperation" if not looks_like_confd(probe.base) else "confd"
    return "confd" if isinstance(methods, list) and "job_exec" in methods else "exaoperation"


class AutoBackend:
    """A backend whose interface is found out on first use (:meth:`resolve`): ``make(api)``
    builds the real one. Every attribute is the real backend's once known."""

    def __init__(self, probe: ExaClient, make: Callable[[str], Backend]) -> None:
        self.probe = probe
        self._make = make
        self._real: Backend | None = None
        self._lock = threading.Lock()
        self.api = "confd" if looks_like_confd(probe.base) else "exaoperation"  # a guess until resolved
        self.interface = "ConfD" if self.api == "confd" else "EXAoperation"

    @property
    def resolved(self) -> Backend | None:
        return self._real

    def resolve(self) -> Backend:
        """The real backend (asked once: one call; raises the client's errors while there is no answer)."""
        with self._lock:
            if self._real is None:
                self._real = self._make(detect(self.probe))
                self.api, self.interface = self._real.api, self._real.interface
            return self._real

    @property
    def calls(self) -> int:
        real = self._real
        return self.probe.calls + (real.calls if real is not None and real.client is not self.probe else 0)

    @property
    def base(self) -> str:
        return self._real.base if self._real is not None else self.probe.base

    def abort(self) -> None:
        self.probe.abort()
        if self._real is not None:
            self._real.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)
