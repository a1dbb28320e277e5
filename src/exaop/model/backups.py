"""Database backups on archive volumes, and the schedules that make them.

A backup is an object of its own (kind ``backup``), kept on the archive volume it was
written to, not by the database: it outlives the database and is listed for every
database with ``getBackups(show_all_databases=True)``. Its id (``bid``) is unique on its
volume only, hence the ``[id, volume]`` pairs of ``getBackupList``.

Levels: level 0 is a full backup; level *n* holds the changes since the latest usable
backup of a lower level of the same database on the same volume (its *base*), and needs
the whole chain of bases to be restored. Deleting a base leaves its dependents unusable
(``deleteUnusableBackups`` removes them). A backup's size is used on its archive volume
(``backup:<id>``) from the moment it starts until it is deleted.

A backup expires on the clock (a deadline at its expiry date); an expired backup stays
(restorable, counted on its volume) until it is deleted, but the listings hide it unless
asked for expired ones.

A schedule (kind ``backup_schedule``, one per database) is a list of cron-like entries;
its deadline is the next minute an enabled entry is due, when it starts that backup if the
database can take it and logs why not otherwise.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.database import Database

#: an expiry such as '1w', '3d 12h', '30m' (weeks, days, hours, minutes)
EXPIRE_RE = re.compile(r"^\s*(\d+\s*[wdhm]\s*)+$")
_EXPIRE_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNIT = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}
#: what an incremental backup holds: this share of the database's data (its changes since the base)
INCREMENT_SHARE = 0.1
MIN_BACKUP_GIB = 0.001  # even an empty database writes its metadata
REMOTE_VOLUME_BASE = 10000  # r0001 is volume number 10001, as EXAoperation numbers them
TIME_FORMAT = "%Y-%m-%d %H:%M"


def expire_seconds(expire: Any) -> float | None:
    """Seconds in an expiry like '1w 3d' ('' : never, None), or UsageError."""
    if expire == "":
        return None
    if not isinstance(expire, str) or not EXPIRE_RE.match(expire):
        raise UsageError("expire must be a duration such as '1w', '3d 12h' or '30m' ('' for never)")
    return float(sum(int(n) * _UNIT[u] for n, u in _EXPIRE_PART.findall(expire)))


def utc_text(t: float | None) -> str:
    """'%Y-%m-%d %H:%M' in UTC, the cluster's time zone ('' for None)."""
    return "" if t is None else time.strftime(TIME_FORMAT, time.gmtime(t))


def backup_path(system: str, bid: int, level: int, started: float) -> str:
    """Where node 0's files of a backup are: 'exa_db1/id_3/level_1/node_0/backup_202401010200'."""
    return f"{system}/id_{bid}/level_{level}/node_0/backup_{time.strftime('%Y%m%d%H%M', time.gmtime(started))}"


def volume_number(vid: str) -> int:
    """EXAoperation's number of a volume: v0001 is 1, r0001 (a remote volume) 10001."""
    number = int(vid[1:]) if vid[1:].isdigit() else 0
    return number + REMOTE_VOLUME_BASE if vid.startswith("r") else number


def volume_by_number(cluster: Cluster, ref: Any) -> str:
    """The volume id named by ``ref``: 'v0001', or its number (1, '1'). UsageError if none."""
    if isinstance(ref, str) and ref in cluster.volumes:
        return ref
    if isinstance(ref, str) and ref.isdigit():
        ref = int(ref)
    if isinstance(ref, int) and not isinstance(ref, bool):
        for vid in cluster.volumes:
            if volume_number(vid) == ref:
                return vid
    raise UsageError(f"volume {ref!r} does not exist; give its id (like 'v0001') or its number (like 1)")


class Backup(Entity):
    """One finished backup on an archive volume."""

    kind = "backup"

    def __init__(self, cluster: Cluster, volume: str, bid: int) -> None:
        super().__init__(cluster)
        self.volume = volume
        self.bid = bid
        self.system = ""  # the database it was made of
        self.level = 0
        self.base: int | None = None  # the bid of the backup this one builds on (same volume)
        self.started = 0.0
        self.finished = 0.0
        self.expire_at: float | None = None
        self.expired = False
        self.size_gib = MIN_BACKUP_GIB
        self.data_gib = 0.0  # the database's data when it was made: what a restore brings back
        self.nodes = 1  # the database's active nodes: one set of files each
        self.version = ""

    @property
    def key(self) -> str:
        return f"{self.volume}/{self.bid}"

    RECORD_FIELDS = ("volume", "bid", "system", "level", "base", "started", "finished", "expire_at", "expired",
                     "size_gib", "data_gib", "nodes", "version")  # fmt: skip

    def record(self) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in self.RECORD_FIELDS}, "deadline": self.deadline}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Backup:
        b = cls(cluster, rec["volume"], rec["bid"])
        for f in cls.RECORD_FIELDS:
            if f in rec:
                setattr(b, f, rec[f])
        b.restore_deadline(rec.get("deadline"))
        return b

    # -- what the listings show ------------------------------------------------------------

    @property
    def ts(self) -> str:
        return time.strftime("%Y%m%d%H%M", time.gmtime(self.started))

    @property
    def prefix(self) -> str:
        """'exa_db1/id_3/level_1': what changeBackupExpiration names it by."""
        return f"{self.system}/id_{self.bid}/level_{self.level}"

    @property
    def path(self) -> str:
        return backup_path(self.system, self.bid, self.level, self.started)

    @property
    def ident(self) -> str:
        """getBackups' 'id': volume number, path and database, space-separated."""
        return f"{volume_number(self.volume)} {self.path} {self.system}"

    def files(self) -> list[str]:
        """The files on the archive volume: data and a metadata file (checksums) per node."""
        out = []
        for n in range(self.nodes):
            out += [f"{self.prefix}/node_{n}/backup_{self.ts}", f"{self.prefix}/node_{n}/metadata_{self.ts}"]
        return out

    def chain(self) -> list[int | None]:
        """The bids this backup needs, nearest first (None where a base is missing)."""
        table = self.cluster.table(self.kind)
        out: list[int | None] = []
        base = self.base
        while base is not None:
            out.append(base)
            b = table.get(f"{self.volume}/{base}")
            if b is None:
                out.append(None)
                break
            base = b.base
        return out

    @property
    def usable(self) -> bool:
        return None not in self.chain()

    def dependencies(self) -> list[int]:
        return [b for b in reversed(self.chain()) if b is not None]

    def listing(self) -> dict[str, Any]:
        """One item of getBackups."""
        return {
            "bid": self.bid,
            "comment": "",
            "dependencies": str(self.base) if self.base is not None else "-",
            "expire": utc_text(self.expire_at),
            "expire_alterable": f"{volume_number(self.volume)} {self.prefix}",
            "expired": self.expired,
            "id": self.ident,
            "last_item": False,
            "level": self.level,
            "path": self.path,
            "system": self.system,
            "timestamp": utc_text(self.started),
            "ts": self.ts,
            "usable": self.usable,
            "usage": f"{self.size_gib:.3f} GiB",
            "volume": self.volume,
        }

    def info(self) -> dict[str, Any]:
        """getBackupInfo."""
        return {
            "id": self.bid,
            "system": self.system,
            "level": self.level,
            "usable": self.usable,
            "expired": self.expired,
            "volume": [self.volume],
            "dependencies": self.dependencies(),
            "timestamp": utc_text(self.started),
            "expire date": utc_text(self.expire_at),
            "files": self.files(),
            "size": round(self.size_gib, 3),
            "nodes": self.nodes,
            "path": self.path,
            "version": self.version,
        }

    # -- expiry ------------------------------------------------------------------------------

    def set_expiry(self, at: float | None) -> None:
        """Expire at ``at`` (None: never); a date already past expires it now."""
        self.expire_at = at
        if at is not None and at <= self.cluster.now:
            self.set_deadline(None)
            self._expire()
        else:
            self.expired = False
            self.set_deadline(None if at is None else at - self.cluster.now)

    def _expire(self) -> None:
        if not self.expired:
            self.expired = True
            self.changed()
            self.cluster.log(self.system, "", "Notice", f"Backup {self.prefix} on {self.volume} expired")

    def on_deadline(self) -> None:
        self._expire()


# -- finding backups -------------------------------------------------------------------------


def all_backups(cluster: Cluster) -> list[Backup]:
    """Every backup on a volume that exists, by volume and id."""
    found = [b for b in cluster.table(Backup.kind).values() if b.volume in cluster.volumes]
    return sorted(found, key=lambda b: (b.volume, b.bid))


def backups_of(cluster: Cluster, system: str | None, show_expired: bool = True) -> list[Backup]:
    return [b for b in all_backups(cluster) if (system is None or b.system == system)
            and (show_expired or not b.expired)]  # fmt: skip


def next_bid(cluster: Cluster, volume: str) -> int:
    """The id of a new backup on ``volume``: above every backup there, finished or under way."""
    used = [b.bid for b in cluster.table(Backup.kind).values() if b.volume == volume]
    used += [db.backup["bid"] for db in cluster.databases.values() if db.backup.get("volume") == volume]
    return max(used, default=0) + 1


def latest_base(cluster: Cluster, system: str, volume: str, level: int) -> Backup | None:
    """The backup a new one of ``level`` builds on: the latest usable one of a lower level."""
    candidates = [b for b in backups_of(cluster, system) if b.volume == volume and b.level < level and b.usable]
    return max(candidates, key=lambda b: (b.started, b.bid), default=None)


def by_ident(cluster: Cluster, ident: Any) -> Backup:
    """A backup by getBackups' 'id' ('1 exa_db1/id_3/level_1/node_0/backup_202401010000 exa_db1')."""
    if not isinstance(ident, str) or len(ident.split()) != 3:
        raise UsageError(
            f"backup id {ident!r} is not valid: it has three values separated by spaces, as getBackups shows it"
        )
    for b in all_backups(cluster):
        if b.ident == ident.strip():
            return b
    raise UsageError(f"backup {ident!r} does not exist (see getBackups)")


def find(cluster: Cluster, system: str, ref: Any) -> Backup:
    """getBackupInfo's argument: a backup id of this database (int), [id, volume], its
    timestamp ('%Y-%m-%d %H:%M') or its getBackups id."""
    mine = backups_of(cluster, system)
    if isinstance(ref, list | tuple):
        if len(ref) != 2:
            raise UsageError("a backup given as a list is [backup id, volume id], like [3, 'v0001']")
        bid, volume = ref
        vid = volume_by_number(cluster, volume)
        hits = [b for b in mine if b.bid == _bid(bid) and b.volume == vid]
    elif isinstance(ref, str) and len(ref.split()) == 3:
        hits = [b for b in mine if b.ident == ref.strip()]
    elif isinstance(ref, str) and not ref.strip().isdigit():
        hits = [b for b in mine if utc_text(b.started) == ref.strip()]
    else:
        hits = [b for b in mine if b.bid == _bid(ref)]
        if len(hits) > 1:
            where = ", ".join(b.volume for b in hits)
            raise UsageError(f"backup id {ref} of {system} exists on several volumes ({where}); give [id, volume]")
    if not hits:
        raise UsageError(f"database {system} has no backup {ref!r} (see getBackupList)")
    return hits[0]


def _bid(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"a backup id is a whole number, got {value!r}")
    return value


# -- changing backups --------------------------------------------------------------------------


def in_use(cluster: Cluster, b: Backup) -> str:
    """Who needs ``b`` right now ('' if nobody): a restore, a virtual access, a backup building on it."""
    for db in cluster.databases.values():
        if db.restore.get("backup") == b.key:
            return f"database {db.name} is restoring it"
        if db.virtual_backup == b.key:
            return f"database {db.name} runs on it (virtual access)"
        if db.backup.get("volume") == b.volume and db.backup.get("base") == b.bid:
            return f"the backup of {db.name} under way builds on it"
        restoring = cluster.table(Backup.kind).get(db.restore.get("backup", ""))
        if restoring is not None and b.bid in restoring.dependencies() and restoring.volume == b.volume:
            return f"database {db.name} is restoring a backup that builds on it"
    return ""


def remove(cluster: Cluster, b: Backup, why: str) -> None:
    """Delete a backup and free its space on the archive volume."""
    b.set_deadline(None)
    del cluster.table(Backup.kind)[b.key]
    cluster.forget(b)
    vol = cluster.volumes.get(b.volume)
    if vol is not None:
        vol.release(f"backup:{b.bid}")
    cluster.log(b.system, "", "Notice", f"Backup {b.prefix} on {b.volume} deleted ({why})")


def delete_backups(cluster: Cluster, idents: Any, by: str) -> int:
    """deleteBackups: every id is checked before any backup is deleted."""
    if not isinstance(idents, list | tuple) or not idents:
        raise UsageError("backup_list must be a non-empty list of backup ids as getBackups shows them")
    chosen: dict[str, Backup] = {}
    for ident in idents:
        b = by_ident(cluster, ident)
        busy = in_use(cluster, b)
        if busy:
            raise UsageError(f"backup {b.prefix} on {b.volume} cannot be deleted now: {busy}")
        chosen[b.key] = b
    usable_before = {b.key for b in all_backups(cluster) if b.usable}
    for b in chosen.values():
        remove(cluster, b, f"by {by}")
    broken = [b for b in all_backups(cluster) if b.key in usable_before and not b.usable]
    for b in broken:
        cluster.log(b.system, "", "Warning", f"Backup {b.prefix} on {b.volume} is no longer usable: "
                    "a backup it builds on was deleted")  # fmt: skip
    return len(chosen)


def delete_unusable(cluster: Cluster, system: str | None, by: str) -> int:
    """deleteUnusableBackups: of one database (None: of all)."""
    gone = [b for b in backups_of(cluster, system) if not b.usable and not in_use(cluster, b)]
    for b in gone:
        remove(cluster, b, f"unusable, by {by}")
    return len(gone)


def change_expiration(cluster: Cluster, volume: Any, prefix: Any, expire_time: Any) -> Backup:
    """changeBackupExpiration: ``prefix`` like 'exa_db1/id_3/level_1', ``expire_time`` seconds
    since the epoch (0: never)."""
    vid = volume_by_number(cluster, volume)
    if not isinstance(prefix, str) or not prefix.strip():
        raise UsageError("backup_files must name a backup like 'exa_db1/id_3/level_1' (getBackups: expire_alterable)")
    if isinstance(expire_time, str) and expire_time.strip().isdigit():
        expire_time = int(expire_time)
    if isinstance(expire_time, bool) or not isinstance(expire_time, int | float) or expire_time < 0:
        raise UsageError("expire_time must be seconds since the epoch (UTC), or 0 for never")
    wanted = prefix.strip().strip("/")
    hits = [b for b in all_backups(cluster) if b.volume == vid and (b.prefix == wanted
            or b.path.startswith(wanted + "/") or b.path == wanted)]  # fmt: skip
    if len(hits) != 1:
        raise UsageError(f"no backup {prefix!r} on volume {vid} (see getBackups: expire_alterable)")
    b = hits[0]
    b.set_expiry(None if expire_time == 0 else float(expire_time))
    b.changed()
    when = utc_text(b.expire_at) or "never"
    cluster.log(b.system, "", "Notice", f"Backup {b.prefix} on {b.volume} now expires: {when}")
    return b


# -- schedules -----------------------------------------------------------------------------------

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
CRON_FIELDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7)}
CRON_DEFAULTS = {"minute": "0", "hour": "*", "day": "*", "month": "*", "weekday": "*"}
ENTRY_KEYS = ("backup_name", "volume", "level", "expire", *CRON_FIELDS, "enabled")
NEXT_SCHEDULES_DAYS = 7
NEXT_SCHEDULES_MAX = 100


def parse_cron(name: str, value: Any) -> set[int]:
    """The values a cron field matches: '*', numbers, ranges 'a-b', steps '*/n' or 'a-b/n',
    lists of those; weekdays also by English name (0 and 7 are Sunday)."""
    low, high = CRON_FIELDS[name]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} must be a cron field such as '*', '5', '1-5', '*/15' or '0,30'")
    out: set[int] = set()
    for part in value.strip().lower().split(","):
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise UsageError(f"{name}: step {step_text!r} in {value!r} is not a whole number above 0")
            step = int(step_text)
        if span == "*":
            first, last = low, high
        else:
            a, _, b = span.partition("-")
            first = _cron_number(name, a, value)
            last = _cron_number(name, b, value) if b else (high if step_text else first)
            if first > last:
                raise UsageError(f"{name}: range {span!r} in {value!r} runs backwards")
        out.update(range(first, last + 1, step))
    if name == "weekday" and 7 in out:
        out = (out - {7}) | {0}
    return out


def _cron_number(name: str, text: str, whole: str) -> int:
    low, high = CRON_FIELDS[name]
    text = text.strip()
    if name == "weekday" and text[:3] in {d[:3] for d in WEEKDAYS} and text.isalpha():
        return [d[:3] for d in WEEKDAYS].index(text[:3])
    if not text.isdigit() or not low <= int(text) <= high:
        raise UsageError(f"{name}: {text!r} in {whole!r} is not a number from {low} to {high}")
    return int(text)


@dataclass(frozen=True)
class Entry:
    """One scheduled backup."""

    backup_name: str
    volume: str
    level: int
    expire: str
    minute: str
    hour: str
    day: str
    month: str
    weekday: str
    enabled: bool

    def shown(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ENTRY_KEYS}

    def matches(self, t: float) -> bool:
        tm = time.gmtime(t)
        sets = {f: parse_cron(f, getattr(self, f)) for f in CRON_FIELDS}
        if tm.tm_min not in sets["minute"] or tm.tm_hour not in sets["hour"] or tm.tm_mon not in sets["month"]:
            return False
        return _day_matches(self, sets, tm.tm_mday, (tm.tm_wday + 1) % 7)


def _day_matches(e: Entry, sets: dict[str, set[int]], mday: int, wday: int) -> bool:
    """cron's rule: with both day and weekday restricted, either one will do."""
    day_any, week_any = e.day.strip() == "*", e.weekday.strip() == "*"
    if not day_any and not week_any:
        return mday in sets["day"] or wday in sets["weekday"]
    return mday in sets["day"] and wday in sets["weekday"]


def next_time(e: Entry, after: float, horizon_days: int = 366 * 8) -> float | None:
    """The first whole minute after ``after`` at which ``e`` is due (None: never, like Feb 30)."""
    sets = {f: parse_cron(f, getattr(e, f)) for f in CRON_FIELDS}
    start = (int(after) // 60 + 1) * 60
    day0 = start - start % 86400
    for d in range(horizon_days):
        day = day0 + d * 86400
        tm = time.gmtime(day)
        if tm.tm_mon not in sets["month"] or not _day_matches(e, sets, tm.tm_mday, (tm.tm_wday + 1) % 7):
            continue
        for hour in sorted(sets["hour"]):
            for minute in sorted(sets["minute"]):
                t = day + hour * 3600 + minute * 60
                if t >= start:
                    return float(t)
    return None


def parse_entries(cluster: Cluster, entries: Any) -> list[Entry]:
    """setBackupSchedule's list, checked entry by entry; the refusal names the entry and field."""
    if not isinstance(entries, list | tuple):
        raise UsageError("setBackupSchedule takes a list of backup definitions (dictionaries); [] clears it")
    out: list[Entry] = []
    for i, raw in enumerate(entries, 1):
        where = f"backup definition {i}"
        if not isinstance(raw, dict):
            raise UsageError(f"{where} must be a dictionary with {', '.join(ENTRY_KEYS)}")
        unknown = sorted(str(k) for k in raw if k not in ENTRY_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(ENTRY_KEYS)}")
        missing = [k for k in ("volume", "level") if k not in raw]
        if missing:
            raise UsageError(f"{where}: missing {', '.join(missing)}")
        try:
            out.append(_entry(cluster, raw, i))
        except UsageError as e:
            raise UsageError(f"{where}: {e.reason}") from None
    names = [e.backup_name for e in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"backup_name {', '.join(twice)} is used by more than one backup definition")
    return out


def _entry(cluster: Cluster, raw: dict[str, Any], index: int) -> Entry:
    name = raw.get("backup_name", f"schedule{index}")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise UsageError("backup_name must be a non-empty string of up to 64 characters")
    volume = raw["volume"]
    vol = cluster.volumes.get(volume) if isinstance(volume, str) else None
    if vol is None:
        raise UsageError(f"volume {volume!r} does not exist")
    if vol.type != "Archive":
        raise UsageError(f"volume {volume} is a {vol.type} volume; backups go to an Archive volume")
    level = raw["level"]
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise UsageError("level must be a whole number from 0 to 9")
    expire = raw.get("expire", "")
    expire_seconds(expire)
    crons = {}
    for f in CRON_FIELDS:
        value = raw.get(f, CRON_DEFAULTS[f])
        parse_cron(f, value)
        crons[f] = str(value).strip()
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UsageError("enabled must be True or False")
    return Entry(name.strip(), volume, level, expire.strip(), enabled=enabled, **crons)


class BackupSchedule(Entity):
    """The scheduled backups of one database; due at the next minute an enabled one is."""

    kind = "backup_schedule"

    def __init__(self, cluster: Cluster, database: str) -> None:
        super().__init__(cluster)
        self.database = database
        self.entries: list[Entry] = []

    @property
    def key(self) -> str:
        return self.database

    def record(self) -> dict[str, Any]:
        return {"entries": [e.shown() for e in self.entries], "deadline": self.deadline}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> BackupSchedule:
        s = cls(cluster, key)
        s.entries = [Entry(**e) for e in rec.get("entries", [])]
        deadline = rec.get("deadline")
        if deadline is not None and deadline < cluster.now:
            s.rearm()  # EXAoperation was down when it was due: like cron, it does not make up for it
        else:
            s.restore_deadline(deadline)
        return s

    def upcoming(self, after: float, until: float, limit: int) -> list[tuple[float, Entry]]:
        """Every firing of an enabled entry after ``after`` up to ``until``, in time order."""
        out: list[tuple[float, Entry]] = []
        for e in self.entries:
            if not e.enabled:
                continue
            t = next_time(e, after)
            while t is not None and t <= until and len(out) < limit * 2:
                out.append((t, e))
                t = next_time(e, t)
        out.sort(key=lambda te: te[0])
        return out[:limit]

    def rearm(self) -> None:
        due = [t for e in self.entries if e.enabled and (t := next_time(e, self.cluster.now)) is not None]
        self.set_deadline(min(due) - self.cluster.now if due else None)

    def on_deadline(self) -> None:
        c = self.cluster
        db = c.databases.get(self.database)
        if db is not None:
            for e in self.entries:
                if e.enabled and e.matches(c.now):
                    db.scheduled_backup(e)
        self.rearm()


def schedule_of(cluster: Cluster, database: str) -> BackupSchedule | None:
    return cluster.table(BackupSchedule.kind).get(database)


def set_schedule(cluster: Cluster, db: Database, entries: Any) -> list[Entry]:
    parsed = parse_entries(cluster, entries)
    sched = schedule_of(cluster, db.name)
    if not parsed:
        if sched is not None:
            drop_schedule(cluster, db.name)
            cluster.log(db.name, "", "Notice", f"Backup schedule of {db.name} cleared")
        return []
    if sched is None:
        sched = BackupSchedule(cluster, db.name)
        cluster._add(sched)
    sched.entries = parsed
    sched.changed()
    sched.rearm()
    names = ", ".join(e.backup_name for e in parsed)
    cluster.log(db.name, "", "Notice", f"Backup schedule of {db.name} set: {names}")
    return parsed


def drop_schedule(cluster: Cluster, database: str) -> None:
    sched = schedule_of(cluster, database)
    if sched is not None:
        sched.set_deadline(None)
        del cluster.table(BackupSchedule.kind)[database]
        cluster.forget(sched)


def next_schedules(cluster: Cluster, database: str) -> list[dict[str, Any]]:
    sched = schedule_of(cluster, database)
    if sched is None:
        return []
    now = cluster.now
    firings = sched.upcoming(now, now + NEXT_SCHEDULES_DAYS * 86400, NEXT_SCHEDULES_MAX)
    return [{"time": utc_text(t), "timestamp": int(t), "backup_name": e.backup_name, "volume": e.volume,
             "level": e.level, "expire": e.expire} for t, e in firings]  # fmt: skip


#: the entity kinds of this module, for rebuilding a cluster from the store
ENTITY_KINDS: dict[str, Any] = {Backup.kind: Backup, BackupSchedule.kind: BackupSchedule}


# -- the listings ----------------------------------------------------------------------------------


def listing(cluster: Cluster, system: str, show_all: bool, show_expired: bool) -> list[dict[str, Any]]:
    """getBackups: this database's backups (every database's with ``show_all``), by volume and id."""
    items = [b.listing() for b in backups_of(cluster, None if show_all else system, show_expired)]
    if items:
        items[-1]["last_item"] = True
    return items


def pairs(cluster: Cluster, system: str) -> list[list[Any]]:
    """getBackupList: [id, volume] of each of this database's backups that has not expired."""
    return [[b.bid, b.volume] for b in backups_of(cluster, system, show_expired=False)]


def schedule_entries(cluster: Cluster, system: str) -> list[dict[str, Any]]:
    sched = schedule_of(cluster, system)
    return [e.shown() for e in sched.entries] if sched else []
