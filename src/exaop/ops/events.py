"""What a procedure tells its caller: a stream of events, one schema per kind.

Every event has ``kind``, ``time`` (ISO 8601, UTC), ``procedure`` (start, stop), ``phase``
('' outside a phase), ``message`` (for people), ``wall`` (real seconds since the run
began), ``clock`` (seconds on the run's clock: simulated time on a simulated cluster) and
``data``, whose keys are exactly those of :data:`SCHEMA` for its kind. A run's stream
ends with exactly one ``done`` event, whatever ended it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

#: kind -> data key -> what it holds; the README's table of events says the same
SCHEMA: dict[str, dict[str, str]] = {
    "plan": {"method": "the call it would make", "targets": "objects it would make it on", "args": "other arguments"},
    "phase_start": {"timeout": "seconds the phase may wait, on the run's clock"},
    "phase_end": {
        "ok": "whether the phase reached its goal",
        "wall": "real seconds the phase took",
        "clock": "seconds on the run's clock",
    },  # fmt: skip
    "action": {
        "method": "the call made",
        "target": "the object it was made on (node, database, storage…)",
        "args": "other arguments",
        "result": "the answer, or null while it is out",
    },  # fmt: skip
    "observation": {
        "done": "objects in the state asked for (null: not counted)",
        "total": "objects awaited",
        "pending": "up to 8 objects not there yet: name, state (as last asked), for (s)",
    },  # fmt: skip
    "progress": {
        "done": "as in observation",
        "total": "as in observation",
        "pending": "as in observation",
        "news": "false for a heartbeat: nothing changed, the wait goes on",
    },  # fmt: skip
    "connection": {"database": "a database accepting connections", "connection_string": "where"},
    "outage": {
        "since": "when EXAoperation stopped answering (ISO 8601 UTC)",
        "until": "when retrying ends (ISO 8601 UTC; null: on a simulated clock, or over)",
        "reason": "the last error",
        "over": "true once it answers again",
    },  # fmt: skip
    "warning": {"targets": "objects it is about"},
    "error": {
        "exit_code": "the run's exit code",
        "reason": "usage, authentication, refused, timeout, server fault, unreachable or interrupted",
    },  # fmt: skip
    "done": {
        "exit_code": "0 when the cluster is in the state asked for",
        "ok": "whether it is",
        "dry_run": "a plan only: nothing was changed",
        "calls": "XML-RPC calls the run made",
    },  # fmt: skip
}
KINDS = tuple(SCHEMA)


def utc_now() -> str:
    """Now as ISO 8601 UTC with milliseconds: 2025-01-31T12:00:03.250Z."""
    return iso(datetime.now(UTC))


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Event:
    kind: str
    phase: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    wall: float = 0.0  # seconds since the procedure started
    clock: float = 0.0  # seconds on the procedure's clock (simulated time on a simulated cluster)
    time: str = field(default_factory=utc_now)
    procedure: str = ""

    def __post_init__(self) -> None:
        keys = SCHEMA.get(self.kind)
        if keys is None:
            raise ValueError(f"unknown event kind {self.kind!r}")
        if set(self.data) != set(keys):
            raise ValueError(f"{self.kind} event with data {sorted(self.data)}; its schema is {sorted(keys)}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


EventSink = Callable[[Event], None]
