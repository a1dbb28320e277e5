"""The cluster's log and the log services that show parts of it."""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity, check_name
from exaop.model.errors import UsageError
from exaop.model.profile import LogRetention
from exaop.model.syslog import parse_server

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

PRIORITIES = ("Error", "Warning", "Notice", "Information")  # most severe first
CLUSTER_SYSTEMS = ("EXAoperation", "DWAd", "Lockd", "Load", "Storage", "Authentication")
_RANK = {p: i for i, p in enumerate(PRIORITIES)}
MAX_RETURNED = 5000
MAX_TAGS = 1000  # per log service; a forgotten tag starts again from the beginning
PRUNE_MARGIN = 0.02  # retention prunes this far below its limits, so it prunes in batches


def strtime(t: float) -> str:
    frac = int((t % 1) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + f".{frac:03d}"


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    t: float
    system: str
    node: str
    priority: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "strtime": strtime(self.t),
            "system": self.system,
            "node": self.node,
            "priority": self.priority,
            "message": self.message,
        }


class LogBook:
    """Every message of the cluster the retention keeps, in order of id.

    New entries wait in ``pending`` for the store, and what retention or deleteLogs took
    away waits in ``dropped`` (inclusive id ranges), so that the store writes both in the
    transaction of the change that made them. Retention works in batches: once the log
    holds more than ``keep_entries`` entries, or its oldest is older than ``keep_days``,
    the oldest go until it is PRUNE_MARGIN below both limits, so the store deletes once
    per many entries, not once per request, and the limits are never exceeded.
    """

    def __init__(self, retention: LogRetention | None = None) -> None:
        retention = retention or LogRetention()
        self.keep_entries = retention.keep_entries
        self.keep_seconds = retention.keep_days * 86400.0
        self.entries: list[LogEntry] = []  # ids ascending, with gaps where entries were deleted
        self.pending: list[LogEntry] = []
        self.dropped: list[tuple[int, int]] = []
        self.last_id = 0
        self.listener: Callable[[LogEntry], None] | None = None  # gets each new entry (remote syslog)

    def add(self, t: float, system: str, node: str, priority: str, message: str) -> LogEntry:
        assert priority in PRIORITIES, priority
        self.last_id += 1
        entry = LogEntry(self.last_id, t, system, node, priority, message)
        self.entries.append(entry)
        self.pending.append(entry)
        if self.listener is not None:
            self.listener(entry)
        if len(self.entries) > self.keep_entries or self.entries[0].t < t - self.keep_seconds:
            self.prune(t)
        return entry

    def prune(self, now: float) -> int:
        """Drop the oldest entries down to PRUNE_MARGIN below both limits; returns how many went."""
        entries = self.entries
        cut = max(0, len(entries) - (self.keep_entries - max(1, int(self.keep_entries * PRUNE_MARGIN))))
        oldest_kept = now - self.keep_seconds * (1 - PRUNE_MARGIN)
        while cut < len(entries) and entries[cut].t < oldest_kept:
            cut += 1
        if cut:
            self.dropped.append((0, entries[cut - 1].id))  # and anything older the store still holds
            del entries[:cut]
        return cut

    def load(self, entries: list[LogEntry], now: float) -> None:
        """The entries the store kept (the newest ``keep_entries`` at most), oldest first."""
        if len(entries) >= self.keep_entries:  # the store may hold older ones still
            self.dropped.append((0, entries[0].id - 1))
        self.entries.extend(entries)
        if entries:
            self.last_id = max(self.last_id, entries[-1].id)
        if self.entries and (len(self.entries) > self.keep_entries or self.entries[0].t < now - self.keep_seconds):
            self.prune(now)

    def since(self, after: int) -> Iterator[LogEntry]:
        """The entries with an id above ``after``, oldest first (found by bisection, not a walk)."""
        return itertools.islice(self.entries, bisect.bisect_right(self.entries, after, key=_entry_id), None)

    def delete(self, wanted: Callable[[LogEntry], bool]) -> int:
        """Delete the entries ``wanted`` says; returns how many."""
        kept: list[LogEntry] = []
        runs: list[tuple[int, int]] = []
        first = last = 0  # the run of neighbouring entries being deleted
        for e in self.entries:
            if wanted(e):
                if not first:
                    first = e.id
                last = e.id
            else:
                if first:
                    runs.append((first, last))
                    first = 0
                kept.append(e)
        if first:
            runs.append((first, last))
        deleted = len(self.entries) - len(kept)
        self.entries = kept
        self.dropped.extend(runs)
        return deleted

    @property
    def unsaved(self) -> bool:
        return bool(self.pending or self.dropped)

    def take(self) -> tuple[list[LogEntry], list[tuple[int, int]]]:
        """What the store has to write: new entries, and id ranges to delete (after them)."""
        taken = self.pending, self.dropped
        self.pending, self.dropped = [], []
        return taken

    def give_back(self, pending: list[LogEntry], dropped: list[tuple[int, int]]) -> None:
        """The store could not write what was taken: keep it for the next attempt."""
        self.pending = pending + self.pending
        self.dropped = dropped + self.dropped


def _entry_id(e: LogEntry) -> int:
    return e.id


def _date(param: str, text: Any, end: bool) -> float | None:
    """'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' (UTC) -> seconds; '' -> None (no limit).

    The start of that day or minute, or with ``end`` the start of the next: a stop date
    names the last day (or minute) included.
    """
    if not isinstance(text, str):
        raise UsageError(f"{param} must be a string (YYYY-MM-DD or YYYY-MM-DD HH:MM, or '' for no limit)")
    text = text.strip()
    if not text:
        return None
    for fmt, step in (("%Y-%m-%d", 86400.0), ("%Y-%m-%d %H:%M", 60.0)):
        try:
            at = datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
        return at + step if end else at
    raise UsageError(f"{param} {text!r} is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), or '' for no limit")


def delete_logs(cluster: Cluster, delete_coredumps: Any, db_names: Any, start_date: Any, stop_date: Any,
                by: str) -> int:  # fmt: skip
    """deleteLogs: the cluster's log entries from ``start_date`` to ``stop_date`` (both
    included, '' open-ended), only those of ``db_names`` when any are named. Returns how
    many were deleted, and logs one line saying so (``by`` names the caller)."""
    if not isinstance(delete_coredumps, bool):
        raise UsageError("delete_coredumps must be True or False")
    if not isinstance(db_names, list) or not all(isinstance(d, str) for d in db_names):
        raise UsageError("db_name_list must be a list of database names ([] for every message)")
    unknown = sorted({d for d in db_names if d not in cluster.databases})
    if unknown:
        known = ", ".join(sorted(cluster.databases)) or "none"
        raise UsageError(f"db_name_list: unknown database(s) {', '.join(unknown)}; the databases are: {known}")
    start = _date("start_date", start_date, end=False)
    stop = _date("stop_date", stop_date, end=True)
    if start is not None and stop is not None and start >= stop:
        raise UsageError(f"start_date {start_date.strip()!r} is after stop_date {stop_date.strip()!r}")
    systems = set(db_names)

    def wanted(e: LogEntry) -> bool:
        return ((start is None or e.t >= start) and (stop is None or e.t < stop)
                and (not systems or e.system in systems))  # fmt: skip

    deleted = cluster.logbook.delete(wanted)
    span = f"from {start_date.strip() or 'the first entry'} to {stop_date.strip() or 'the last'}"
    of = f" of database(s) {', '.join(sorted(systems))}" if systems else ""
    dumps = "; no core dumps to delete (none are kept)" if delete_coredumps else ""
    cluster.log("EXAoperation", cluster.master.node, "Notice",
                f"deleteLogs by {by}: {deleted} log entries deleted {span}{of}{dumps}")  # fmt: skip
    return deleted


def _interval_seconds(text: str) -> float:
    """'1 day', '2 hours', '30 minutes', '1 week' -> seconds."""
    units = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
    parts = text.split()
    if len(parts) == 2 and parts[0].isdigit():
        unit = parts[1].rstrip("s")
        if unit in units:
            return int(parts[0]) * units[unit]
    raise UsageError(f"default_interval {text!r} is not understood; write e.g. '30 minutes', '1 day', '2 weeks'")


class LogService(Entity):
    kind = "logservice"
    FIELDS = (
        "description",
        "priority",
        "exaclusteros_services",
        "exasolution_systems",
        "default_interval",
        "remote_syslog_server",
        "remote_syslog_protocol",
    )

    def __init__(self, cluster: Cluster, name: str) -> None:
        super().__init__(cluster)
        self.name = name
        self.description = ""
        self.priority = "Information"
        self.exaclusteros_services: list[str] = list(CLUSTER_SYSTEMS)
        self.exasolution_systems: list[str] = []
        self.default_interval = "1 day"
        self.remote_syslog_server = ""
        self.remote_syslog_protocol = "UDP"
        self.tags: dict[str, int] = {}

    @property
    def key(self) -> str:
        return self.name

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {f: getattr(self, f) for f in self.FIELDS}
        rec["tags"] = self.tags
        return rec

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> LogService:
        svc = cls(cluster, key)
        for f in cls.FIELDS:
            if f in rec:
                setattr(svc, f, rec[f])
        svc.tags = dict(rec.get("tags", {}))
        return svc

    def properties(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.FIELDS}

    def configure(self, values: dict[str, Any], creating: bool = False) -> list[str]:
        """Validate and apply a dict of fields; returns the names that changed."""
        if creating:
            for required in ("priority", "exaclusteros_services", "exasolution_systems"):
                if required not in values:
                    raise UsageError(f"{required} is required for a log service")
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise UsageError(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(self.FIELDS)}")
        new = dict(values)
        if "priority" in new and new["priority"] not in PRIORITIES:
            raise UsageError(f"priority must be one of {', '.join(PRIORITIES)}")
        if "exaclusteros_services" in new:
            svcs = new["exaclusteros_services"]
            if not isinstance(svcs, list) or not set(svcs) <= set(CLUSTER_SYSTEMS):
                raise UsageError(f"exaclusteros_services must be a list of {', '.join(CLUSTER_SYSTEMS)}")
        if "exasolution_systems" in new:
            dbs = new["exasolution_systems"]
            if not isinstance(dbs, list) or not all(isinstance(d, str) for d in dbs):
                raise UsageError("exasolution_systems must be a list of database names")
            unknown_dbs = [d for d in dbs if d not in self.cluster.databases]
            if unknown_dbs:
                raise UsageError(f"unknown database(s): {', '.join(unknown_dbs)}")
        if "default_interval" in new:
            _interval_seconds(str(new["default_interval"]))
        if "remote_syslog_protocol" in new and new["remote_syslog_protocol"] not in ("TCP", "UDP"):
            raise UsageError("remote_syslog_protocol must be TCP or UDP")
        for f in ("description", "remote_syslog_server", "default_interval"):
            if f in new and not isinstance(new[f], str):
                raise UsageError(f"{f} must be a string")
        if new.get("remote_syslog_server"):
            parse_server(new["remote_syslog_server"])
        changed = [f for f, v in new.items() if getattr(self, f) != v]
        for f in changed:
            setattr(self, f, new[f])
        if changed:
            self.changed()
        return changed

    def shows(self, entry: LogEntry) -> bool:
        if _RANK[entry.priority] > _RANK[self.priority]:
            return False
        return entry.system in self.exaclusteros_services or entry.system in self.exasolution_systems

    def entries(self) -> list[LogEntry]:
        """What the service shows for its default interval (newest MAX_RETURNED at most)."""
        since = self.cluster.now - _interval_seconds(self.default_interval)
        out: list[LogEntry] = []
        for e in reversed(self.cluster.logbook.entries):
            if e.t < since or len(out) >= MAX_RETURNED:
                break
            if self.shows(e):
                out.append(e)
        out.reverse()
        return out

    def entries_tagged(self, tag: str) -> list[LogEntry]:
        """What this tag has not been given before (oldest first, MAX_RETURNED at most)."""
        if not isinstance(tag, str) or not tag or len(tag) > 256:
            raise UsageError("the tag must be a non-empty string of at most 256 characters")
        after = self.tags.pop(tag, 0)  # re-inserted below: the dict keeps tags by last use
        book = self.cluster.logbook
        out: list[LogEntry] = []
        last = after
        for e in book.since(after):
            last = e.id
            if self.shows(e):
                out.append(e)
                if len(out) >= MAX_RETURNED:
                    break
        if len(out) < MAX_RETURNED:
            last = max(last, book.last_id)
        self.tags[tag] = last
        while len(self.tags) > MAX_TAGS:  # forget the tags unused for longest
            del self.tags[next(iter(self.tags))]
        if last != after:
            self.changed()
        return out


def new_logservice(cluster: Cluster, name: str, values: dict[str, Any]) -> LogService:
    check_name("log service name", name)
    svc = LogService(cluster, name)
    svc.configure(values, creating=True)
    return svc
