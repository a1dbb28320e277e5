"""The secrets port: how the model keeps passwords it must be able to give back to a driver
(a BMC's password, a remote volume's) without ever storing or showing them in clear.

The model only seals and opens strings; the engine provides the box (``engine/secrets.py``:
authenticated encryption with a key kept apart from the state database).
"""

from __future__ import annotations

from typing import Protocol


class SecretBox(Protocol):
    def seal(self, plain: str) -> str:
        """An opaque, printable token that :meth:`open` turns back into ``plain``."""
        ...

    def open(self, sealed: str) -> str:
        """The text sealed; ValueError when the token was not made by this box."""
        ...
