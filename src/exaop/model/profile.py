"""A cluster profile as plain data: what a new cluster is made from (parsed in engine/profile.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Duration:
    value: float
    jitter: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if not self.jitter:
            return self.value
        return max(0.0, rng.uniform(self.value - self.jitter, self.value + self.jitter))

    @property
    def longest(self) -> float:
        return self.value + self.jitter


@dataclass(frozen=True)
class LogRetention:
    """How much of its log a cluster keeps: at most ``keep_entries`` entries, none older than ``keep_days``."""

    keep_entries: int = 100_000
    keep_days: int = 30


@dataclass
class Profile:
    raw: dict[str, Any]
    name: str
    description: str
    private_network: str
    exaoperation_nodes: list[str]
    dialect: str
    version: str
    durations: dict[str, Duration]
    hardware: dict[str, Any]
    license_servers: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    volumes: list[dict[str, Any]] = field(default_factory=list)
    databases: list[dict[str, Any]] = field(default_factory=list)
    logservices: list[dict[str, Any]] = field(default_factory=list)
    plugins: list[dict[str, Any]] = field(default_factory=list)
    logs: LogRetention = field(default_factory=LogRetention)
    #: per server-management group (by description or object name): its power driver's settings
    drivers: dict[str, dict[str, Any]] = field(default_factory=dict)
