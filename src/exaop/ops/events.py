"""What a procedure tells its caller: a stream of events."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("plan", "phase_start", "phase_end", "action", "observation", "progress", "warning", "error", "done")


@dataclass
class Event:
    kind: str
    phase: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    wall: float = 0.0  # seconds since the procedure started
    clock: float = 0.0  # seconds on the procedure's clock (simulated time on a simulated cluster)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


EventSink = Callable[[Event], None]
