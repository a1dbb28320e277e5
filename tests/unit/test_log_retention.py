"""The cluster's log keeps at most N entries and D days, prunes in batches, and deleteLogs
deletes what its arguments say; tags stay right through both, in memory and in the store."""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import ProfileError, parse_profile
from exaop.engine.runtime import Runtime
from exaop.model import logs
from exaop.model.cluster import Cluster
from exaop.model.errors import UsageError
from exaop.model.logs import PRUNE_MARGIN, LogBook, LogEntry, delete_logs
from exaop.model.profile import LogRetention
from exaop.store import Store

DAY = 86400.0
T0 = datetime(2024, 3, 1, tzinfo=UTC).timestamp()


def profile(**limits: int) -> Any:
    raw = tomllib.loads(resources.files("exaop").joinpath("profiles/default.toml").read_text())
    raw["logs"] = limits
    return parse_profile(raw)


def cluster(now: float = T0, **limits: int) -> Cluster:
    return Cluster.from_profile(profile(**limits), now, {"simulated": SimulatedDriver()})


def ids(book: LogBook) -> list[int]:
    return [e.id for e in book.entries]


# -- retention -----------------------------------------------------------------------------------


def test_the_log_never_holds_more_than_keep_entries_and_prunes_in_batches() -> None:
    book = LogBook(LogRetention(keep_entries=1000, keep_days=30))
    sizes = []
    for i in range(5000):
        book.add(T0 + i, "EXAoperation", "", "Notice", f"m{i}")
        sizes.append(len(book.entries))
    assert max(sizes) == 1000
    assert min(sizes[1000:]) == 1000 - int(1000 * PRUNE_MARGIN)  # down to the margin below the limit
    batch = int(1000 * PRUNE_MARGIN) + 1
    assert len(book.dropped) == pytest.approx((5000 - 1000) / batch, abs=2)  # not one delete per entry
    assert ids(book) == list(range(5000 - len(book.entries) + 1, 5001))  # the newest are kept
    assert {lo for lo, _ in book.dropped} == {0}  # the store drops everything older, whatever it holds
    assert book.dropped[-1][1] == book.entries[0].id - 1


def test_the_log_never_holds_entries_older_than_keep_days() -> None:
    book = LogBook(LogRetention(keep_entries=1_000_000, keep_days=2))
    for i in range(6 * 24 * 10):  # every ten minutes for ten days
        now = T0 + i * 600
        book.add(now, "EXAoperation", "", "Notice", f"entry {i}")
        assert book.entries[0].t >= now - 2 * DAY
    assert book.entries[0].t <= now - 2 * DAY * (1 - PRUNE_MARGIN) + 600  # ... and not much less
    assert len(book.dropped) < 6 * 24 * 8 / 4  # in batches here too


def test_loading_more_than_the_store_should_hold_prunes_the_store_as_well() -> None:
    book = LogBook(LogRetention(keep_entries=100, keep_days=30))
    old = [LogEntry(i, T0 + i, "EXAoperation", "", "Notice", f"m{i}") for i in range(501, 601)]
    book.load(old, T0 + 1000)  # the newest 100 of a store that held 600
    assert ids(book) == list(range(501, 601)) and book.last_id == 600
    assert book.dropped == [(0, 500)]
    book.take()
    book.load([], T0 + 1000)
    assert book.dropped == []


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"keep_entries": 10}, "logs.keep_entries must be a whole number from 100 to 1,000,000, got 10"),
        ({"keep_days": 0}, "logs.keep_days must be a whole number from 1 to 3,650, got 0"),
        ({"keep_days": "30"}, "logs.keep_days must be a whole number from 1 to 3,650, got '30'"),
        ({"keep": 1}, "logs: unknown key(s) keep; known: keep_entries, keep_days"),
    ],
)
def test_the_profile_checks_its_log_limits(limits: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as e:
        profile(**limits)
    assert str(e.value) == message


def test_the_profile_sets_the_limits_and_defaults_fill_in() -> None:
    assert profile(keep_days=7).logs == LogRetention(keep_entries=100_000, keep_days=7)
    c = cluster(keep_entries=100, keep_days=3)
    assert (c.logbook.keep_entries, c.logbook.keep_seconds) == (100, 3 * DAY)


# -- tags through pruning and deletion -------------------------------------------------------------------

SYSTEMS = ("EXAoperation", "Storage", "exa_db1", "Load")
step = st.one_of(
    st.tuples(st.just("add"), st.integers(1, 30), st.sampled_from(SYSTEMS), st.sampled_from(logs.PRIORITIES)),
    st.tuples(st.just("read"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("delete"), st.floats(0, 1), st.floats(0, 1), st.booleans()),
    st.tuples(st.just("wait"), st.floats(0, 3 * DAY)),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, max_size=40))
def test_a_tagged_reader_sees_each_retained_message_once_in_order(steps: list[tuple[Any, ...]]) -> None:
    with patch.object(logs, "MAX_RETURNED", 7):
        tagged_reads(steps)


def tagged_reads(steps: list[tuple[Any, ...]]) -> None:
    c = cluster()
    c.logbook = LogBook(LogRetention(keep_entries=40, keep_days=2))  # below the profile's floor: prunes often
    svc = c.logservices["logservice1"]
    svc.priority = "Notice"
    svc.exaclusteros_services = ["EXAoperation", "Storage"]
    cursor = {"a": 0, "b": 0}
    seen: dict[str, list[int]] = {"a": [], "b": []}
    book = c.logbook
    for s in steps:
        if s[0] == "add":
            for i in range(s[1]):
                c.log(s[2], "", s[3], f"{s[2]} {i}")
            assert len(book.entries) <= 40 and book.entries[0].t >= c.now - 2 * DAY
        elif s[0] == "wait":
            c.advance(c.now + s[1])
        elif s[0] == "delete" and book.entries:
            lo, hi = sorted(book.entries[int(f * (len(book.entries) - 1))].id for f in s[1:3])
            book.delete(lambda e, lo=lo, hi=hi, odd=s[3]: lo <= e.id <= hi and (not odd or e.id % 2 == 1))
        elif s[0] == "read":
            tag = s[1]
            want = [e.id for e in book.entries if e.id > cursor[tag] and svc.shows(e)][: logs.MAX_RETURNED]
            got = [e.id for e in svc.entries_tagged(tag)]
            assert got == want
            cursor[tag] = got[-1] if len(got) == logs.MAX_RETURNED else book.last_id
            seen[tag] += got
        assert ids(book) == sorted(set(ids(book)))
    for tag in seen:
        assert seen[tag] == sorted(set(seen[tag]))  # each once, in order


def test_a_tagged_read_finds_its_place_by_bisection(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = cluster()
    c.logbook = book = LogBook(LogRetention(keep_entries=1_000_000, keep_days=30))
    for i in range(200_000):
        book.add(c.now, "EXAoperation", "", "Notice", f"m{i}")
    book.delete(lambda e: e.id % 3 == 0)  # ids with gaps: no place follows from arithmetic
    svc = c.logservices["logservice1"]
    svc.tags["reader"] = 150_000
    probes, looked = [0], [0]
    real_id, real_shows = logs._entry_id, svc.shows

    def counting_id(e: LogEntry) -> int:
        probes[0] += 1
        return real_id(e)

    def counting_shows(e: LogEntry) -> bool:
        looked[0] += 1
        return real_shows(e)

    monkeypatch.setattr(logs, "_entry_id", counting_id)
    monkeypatch.setattr(svc, "shows", counting_shows)
    got = svc.entries_tagged("reader")
    assert len(got) == logs.MAX_RETURNED and got[0].id == 150_001
    assert probes[0] <= 20 and looked[0] == logs.MAX_RETURNED  # never walks the 130,000 before it


# -- deleteLogs ------------------------------------------------------------------------------------------


def busy_month() -> Cluster:
    """A cluster with a Notice every 6 hours through March 2024, alternately the cluster's and exa_db1's."""
    c = cluster(keep_days=60)
    c.logbook.take()
    for i in range(31 * 4):
        c.advance(T0 + i * 6 * 3600)
        c.log("exa_db1" if i % 2 else "EXAoperation", "", "Notice", f"entry {i}")
    return c


def strtimes(c: Cluster) -> list[str]:
    return [logs.strtime(e.t)[:16] for e in c.logbook.entries]


def test_delete_logs_deletes_the_range_with_both_ends_included() -> None:
    c = busy_month()
    before = len(c.logbook.entries)
    assert delete_logs(c, False, [], "2024-03-02", "2024-03-03", by="admin") == 8
    assert not [t for t in strtimes(c) if "2024-03-02" <= t < "2024-03-04"]
    assert len(c.logbook.entries) == before - 8 + 1
    last = c.logbook.entries[-1]
    assert last.message == "deleteLogs by admin: 8 log entries deleted from 2024-03-02 to 2024-03-03"
    assert (last.system, last.priority) == ("EXAoperation", "Notice")
    # a minute names itself: 06:00 is deleted, 12:00 is not
    assert delete_logs(c, False, [], "2024-03-05 06:00", "2024-03-05 06:00", by="admin") == 1
    assert "2024-03-05 12:00" in strtimes(c) and "2024-03-05 06:00" not in strtimes(c)


def test_delete_logs_open_ends_and_databases() -> None:
    c = busy_month()
    dropped = delete_logs(c, True, ["exa_db1"], "", "2024-03-10", by="ops")
    assert dropped == 20  # every other entry of the first ten days
    remaining = [e for e in c.logbook.entries if e.t < datetime(2024, 3, 11, tzinfo=UTC).timestamp()]
    assert remaining and all(e.system != "exa_db1" for e in remaining)
    assert c.logbook.entries[-1].message == (
        "deleteLogs by ops: 20 log entries deleted from the first entry to 2024-03-10 of database(s) exa_db1; "
        "no core dumps to delete (none are kept)"
    )
    assert delete_logs(c, False, [], "2024-03-20", "", by="ops") > 0
    assert all(e.t < datetime(2024, 3, 20, tzinfo=UTC).timestamp() for e in c.logbook.entries[:-1])


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((1, [], "", ""), "delete_coredumps must be True or False"),
        ((False, "exa_db1", "", ""), "db_name_list must be a list of database names ([] for every message)"),
        ((False, ["nope", "exa_db1", "other"], "", ""),
         "db_name_list: unknown database(s) nope, other; the databases are: exa_db1"),
        ((False, [], "2024-13-01", ""), "start_date '2024-13-01' is not a date: write YYYY-MM-DD or "
                                        "YYYY-MM-DD HH:MM (UTC), or '' for no limit"),
        ((False, [], "", "yesterday"), "stop_date 'yesterday' is not a date: write YYYY-MM-DD or "
                                       "YYYY-MM-DD HH:MM (UTC), or '' for no limit"),
        ((False, [], None, ""), "start_date must be a string (YYYY-MM-DD or YYYY-MM-DD HH:MM, or '' for no limit)"),
        ((False, [], "2024-03-05", "2024-03-04"), "start_date '2024-03-05' is after stop_date '2024-03-04'"),
    ],
)  # fmt: skip
def test_delete_logs_refuses_bad_arguments_and_deletes_nothing(args: tuple[Any, ...], reason: str) -> None:
    c = busy_month()
    before = ids(c.logbook)
    with pytest.raises(UsageError) as e:
        delete_logs(c, *args, by="admin")
    assert e.value.reason == reason
    assert ids(c.logbook) == before and c.logbook.dropped == []


def test_deleted_entries_become_id_ranges_for_the_store() -> None:
    c = busy_month()
    c.logbook.take()
    id_of = {e.message: e.id for e in c.logbook.entries}
    delete_logs(c, False, ["exa_db1"], "2024-03-01", "2024-03-01", by="admin")  # 06:00 and 18:00
    assert c.logbook.dropped == [(id_of["entry 1"], id_of["entry 1"]), (id_of["entry 3"], id_of["entry 3"])]
    c.logbook.take()
    delete_logs(c, False, [], "2024-03-02", "2024-03-02", by="admin")
    assert c.logbook.dropped == [(id_of["entry 4"], id_of["entry 7"])]  # neighbours: one range


# -- memory and store alike -----------------------------------------------------------------------------


def store_ids(state: Path) -> list[int]:
    with sqlite3.connect(state / Store.FILE) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM log ORDER BY id")]


def test_retention_and_deletion_reach_the_store_and_survive_a_restart(tmp_path: Path) -> None:
    rt = Runtime.open(tmp_path, profile=profile(keep_entries=100, keep_days=30), speed=0,
                      admin_password="secret", start=T0).runtime  # fmt: skip
    c = rt.cluster
    for i in range(450):
        c.log("Load", "", "Information", f"filler {i}")
        if i % 7 == 0:
            rt.commit()
    rt.commit()
    assert store_ids(tmp_path) == ids(c.logbook) and len(ids(c.logbook)) <= 100
    today = logs.strtime(c.now)[:10]
    held = len(c.logbook.entries)
    assert delete_logs(c, False, [], today, today, by="admin") == held
    rt.commit()
    assert store_ids(tmp_path) == ids(c.logbook) == [c.logbook.last_id]  # only deleteLogs' own line
    rt.close()
    again = Runtime.open(tmp_path, speed=0, start=T0).runtime
    assert ids(again.cluster.logbook)[0] == c.logbook.last_id  # nothing deleted came back
    assert again.cluster.logbook.last_id > c.logbook.last_id  # ids go on, never reused
    again.close()
