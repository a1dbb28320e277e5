"""exaop: operate Exasol-style clusters safely through the EXAoperation XML-RPC interface.

The lifecycle procedures are importable from here (loaded on first use)::

    from exaop import ExaClient, Options, start_cluster, stop_cluster, cluster_status
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    api = importlib.import_module("exaop.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'exaop' has no attribute {name!r}")


def __dir__() -> list[str]:
    api = importlib.import_module("exaop.api")
    return sorted([*globals(), *api.__all__])
