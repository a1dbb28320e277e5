"""Backups on the clock: levels and dependencies, the three listings, expiry, space on the
archive volume, schedules that fire, restores of each type, and crashes in the middle."""

from __future__ import annotations

import pytest

from exaop.model import backups
from exaop.model.cluster import Cluster
from tests.unit.modelkit import DB_NODES, T0, Sim, refusal, without_jitter


def running() -> Sim:
    s = without_jitter(Sim())
    s.all_up()
    return s


def backup(s: Sim, level: int, expire: str = "1w", volume: str = "v0001") -> None:
    s.db.start_backup(volume, level, expire)
    s.settle("database_backup")
    assert s.db.operation == "None"


def stop(s: Sim) -> None:
    s.db.stop()
    s.settle("database_stop")
    assert s.db.state == "setup"


def ids(s: Sim, show_all: bool = False, show_expired: bool = True) -> list[str]:
    return [b["id"] for b in backups.listing(s.c, "exa_db1", show_all, show_expired)]


# -- making and listing backups -------------------------------------------------------------------


def test_full_and_incremental_backups_are_listed_alike_by_the_three_listings() -> None:
    s = running()
    backup(s, 0)
    backup(s, 1)
    backup(s, 2)
    backup(s, 1)
    items = backups.listing(s.c, "exa_db1", False, False)
    assert [(b["bid"], b["level"], b["dependencies"]) for b in items] == [(1, 0, "-"), (2, 1, "1"), (3, 2, "2"),
                                                                          (4, 1, "1")]  # fmt: skip
    assert backups.pairs(s.c, "exa_db1") == [[1, "v0001"], [2, "v0001"], [3, "v0001"], [4, "v0001"]]
    for item in items:
        info = backups.find(s.c, "exa_db1", item["bid"]).info()
        assert info["id"] == item["bid"] and info["volume"] == [item["volume"]] == ["v0001"]
        assert info["timestamp"] == item["timestamp"] and info["expire date"] == item["expire"]
        assert info["usable"] is item["usable"] is True
        assert backups.find(s.c, "exa_db1", [item["bid"], "v0001"]).info() == info
        assert backups.find(s.c, "exa_db1", item["id"]).info() == info
        # the id is three values: volume number, path of node 0's files, database
        number, path, system = item["id"].split()
        assert (number, system) == ("1", "exa_db1") and path == item["path"]
        assert path.startswith(item["expire_alterable"].split()[1] + "/node_0/backup_")
    third = backups.find(s.c, "exa_db1", 3).info()
    assert third["dependencies"] == [1, 2]  # the whole chain it needs, oldest first
    assert third["files"] == [f"exa_db1/id_3/level_2/node_{n}/{kind}_{items[2]['ts']}"
                              for n in range(3) for kind in ("backup", "metadata")]  # fmt: skip
    # sizes: full = the data, incremental = a tenth; each one used on the archive volume
    assert [b["usage"] for b in items] == ["180.000 GiB", "18.000 GiB", "18.000 GiB", "18.000 GiB"]
    assert s.c.volumes["v0001"].usage == {"backup:1": 180.0, "backup:2": 18.0, "backup:3": 18.0, "backup:4": 18.0}
    assert items[-1]["last_item"] is True and not any(b["last_item"] for b in items[:-1])
    # the backups' timestamps are their start, in UTC
    assert items[0]["timestamp"] == "2023-11-14 22:19" and items[0]["ts"] == "202311142219"


def test_backup_refusals_name_the_reason() -> None:
    s = running()
    assert refusal(s.db.start_backup, "v0001", 1, "1w").startswith("a level 1 backup of exa_db1 builds on")
    s.c.volumes["v0001"].size_gib = 100  # smaller than the 180 GiB of a full backup
    assert refusal(s.db.start_backup, "v0001", 0, "1w") == (
        "backup of exa_db1 refused: archive volume v0001 is full (100.000 GiB free, 180.000 GiB needed)"
    )
    assert s.db.operation == "None" and s.c.volumes["v0001"].usage == {}


def test_ids_are_unique_per_volume_and_a_bare_id_must_not_be_ambiguous() -> None:
    s = running()
    other = s.c.add_volume("Archive", 1000, DB_NODES)
    backup(s, 0)
    backup(s, 0, volume=other.vid)
    assert backups.pairs(s.c, "exa_db1") == [[1, "v0001"], [1, other.vid]]
    assert refusal(backups.find, s.c, "exa_db1", 1) == (
        f"backup id 1 of exa_db1 exists on several volumes (v0001, {other.vid}); give [id, volume]"
    )
    assert backups.find(s.c, "exa_db1", [1, other.vid]).volume == other.vid
    number = backups.volume_number(other.vid)
    assert backups.find(s.c, "exa_db1", [1, number]).volume == other.vid  # the volume by its number
    assert refusal(backups.find, s.c, "exa_db1", 7) == "database exa_db1 has no backup 7 (see getBackupList)"


def test_deleting_a_base_makes_its_dependents_unusable_and_delete_unusable_removes_them() -> None:
    s = running()
    backup(s, 0)
    backup(s, 1)
    backup(s, 2)
    first = ids(s)[0]
    assert backups.delete_backups(s.c, [first], "admin") == 1
    items = backups.listing(s.c, "exa_db1", False, True)
    assert [(b["bid"], b["usable"]) for b in items] == [(2, False), (3, False)]
    assert backups.find(s.c, "exa_db1", 3).info()["dependencies"] == [1, 2]  # what it needs, 1 now missing
    warnings = s.messages(priority="Warning")
    assert "Backup exa_db1/id_2/level_1 on v0001 is no longer usable: a backup it builds on was deleted" in warnings
    assert s.c.volumes["v0001"].usage == {"backup:2": 18.0, "backup:3": 18.0}
    assert backups.delete_unusable(s.c, "exa_db1", "admin") == 2
    assert ids(s) == [] and s.c.volumes["v0001"].usage == {}
    # a bad id is refused before anything is deleted
    backup(s, 0)
    assert refusal(backups.delete_backups, s.c, [ids(s)[0], "nonsense"], "admin").startswith("backup id 'nonsense'")
    assert refusal(backups.delete_backups, s.c, [], "admin").startswith("backup_list must be a non-empty list")
    assert len(ids(s)) == 1


def test_backups_expire_on_the_clock_and_are_then_hidden_unless_asked_for() -> None:
    s = running()
    backup(s, 0, expire="1h")
    backup(s, 1, expire="1d")
    backup(s, 0, expire="")  # never
    s.advance(3600 - 2 * 600)  # the first expires an hour after it started
    assert backups.listing(s.c, "exa_db1", False, True)[0]["expired"] is True
    assert [b[0] for b in backups.pairs(s.c, "exa_db1")] == [2, 3]
    assert [i.split()[1].split("/")[1] for i in ids(s, show_expired=False)] == ["id_2", "id_3"]
    assert "Backup exa_db1/id_1/level_0 on v0001 expired" in s.messages()
    s.advance(86400)
    assert [b[0] for b in backups.pairs(s.c, "exa_db1")] == [3]
    assert backups.listing(s.c, "exa_db1", False, True)[2]["expire"] == ""
    # an expired backup still counts on its volume and can still be restored
    assert s.c.volumes["v0001"].used_gib == 180 + 18 + 180
    assert backups.find(s.c, "exa_db1", 2).info()["usable"] is True


def test_change_backup_expiration() -> None:
    s = running()
    backup(s, 0, expire="1h")
    item = backups.listing(s.c, "exa_db1", False, True)[0]
    prefix = item["expire_alterable"].split()[1]
    assert prefix == "exa_db1/id_1/level_0"
    backups.change_expiration(s.c, 1, prefix, 0)  # the volume by number, as scripts send it: never
    s.advance(7200)
    assert backups.listing(s.c, "exa_db1", False, True)[0]["expire"] == ""
    assert not backups.find(s.c, "exa_db1", 1).expired
    backups.change_expiration(s.c, "v0001", prefix, int(s.now) + 60)
    assert backups.listing(s.c, "exa_db1", False, True)[0]["expire"] == backups.utc_text(int(s.now) + 60)
    s.advance(61)
    assert backups.find(s.c, "exa_db1", 1).expired
    backups.change_expiration(s.c, "v0001", prefix, int(s.now) + 600)  # un-expired by a later date
    assert not backups.find(s.c, "exa_db1", 1).expired
    backups.change_expiration(s.c, "v0001", prefix, 1)  # a date past expires it now
    assert backups.find(s.c, "exa_db1", 1).expired and backups.find(s.c, "exa_db1", 1).deadline is None
    assert refusal(backups.change_expiration, s.c, "v0001", "exa_db1/id_9/level_0", 0) == (
        "no backup 'exa_db1/id_9/level_0' on volume v0001 (see getBackups: expire_alterable)"
    )
    assert refusal(backups.change_expiration, s.c, "v0007", prefix, 0).startswith("volume 'v0007' does not exist")
    assert refusal(backups.change_expiration, s.c, "v0001", prefix, -5).startswith("expire_time must be seconds")


# -- schedules --------------------------------------------------------------------------------------


def test_a_schedule_fires_on_the_clock_and_logs_when_it_cannot_run() -> None:
    s = running()
    entries = [{"backup_name": "nightly", "volume": "v0001", "level": 0, "expire": "1w", "minute": 0, "hour": "2"}]
    backups.set_schedule(s.c, s.db, entries)
    assert backups.schedule_entries(s.c, "exa_db1") == [{
        "backup_name": "nightly", "volume": "v0001", "level": 0, "expire": "1w", "minute": "0", "hour": "2",
        "day": "*", "month": "*", "weekday": "*", "enabled": True,
    }]  # fmt: skip
    upcoming = backups.next_schedules(s.c, "exa_db1")
    assert len(upcoming) == 7 and upcoming[0]["time"] == "2023-11-15 02:00" and upcoming[0]["backup_name"] == "nightly"
    assert all(u["timestamp"] - upcoming[0]["timestamp"] == 86400 * i for i, u in enumerate(upcoming))
    # the first night it runs
    s.advance(upcoming[0]["timestamp"] - s.now)
    assert s.db.operation == "Backup"
    assert "Scheduled backup nightly of exa_db1 started" in s.messages()
    s.settle("database_backup")
    assert backups.pairs(s.c, "exa_db1") == [[1, "v0001"]]
    assert backups.listing(s.c, "exa_db1", False, True)[0]["timestamp"] == "2023-11-15 02:00"
    # the next night the database is down: the schedule says why nothing ran
    stop(s)
    s.advance(upcoming[1]["timestamp"] - s.now)
    assert ("Scheduled backup nightly of exa_db1 not started: database exa_db1 must be running and accepting "
            "connections to back up") in s.messages(priority="Warning")  # fmt: skip
    assert backups.pairs(s.c, "exa_db1") == [[1, "v0001"]]
    backups.set_schedule(s.c, s.db, [])
    assert backups.schedule_entries(s.c, "exa_db1") == [] and backups.next_schedules(s.c, "exa_db1") == []


def test_a_schedule_over_days_makes_one_backup_each_time() -> None:
    s = running()
    backups.set_schedule(s.c, s.db, [{"volume": "v0001", "level": 0, "expire": "1d", "minute": "*/30"},
                                     {"volume": "v0001", "level": 1, "minute": "15", "enabled": False}])  # fmt: skip
    s.advance(4 * 3600)
    made = backups.listing(s.c, "exa_db1", False, True)
    assert len(made) == 8 and {b["level"] for b in made} == {0}
    assert [b["timestamp"][-5:] for b in made][:3] == ["22:30", "23:00", "23:30"]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"volume": "v0001"}, "backup definition 1: missing level"),
        ({"volume": "v0000", "level": 0}, "backup definition 1: volume v0000 is a Data volume; backups go to an "
                                          "Archive volume"),
        ({"volume": "v0001", "level": 0, "hour": "25"}, "backup definition 1: hour: '25' in '25' is not a "
                                                        "number from 0 to 23"),
        ({"volume": "v0001", "level": 0, "weekday": "funday"}, "backup definition 1: weekday: 'funday' in "
                                                               "'funday' is not a number from 0 to 7"),
        ({"volume": "v0001", "level": 0, "minute": "*/0"}, "backup definition 1: minute: step '0' in '*/0' is "
                                                           "not a whole number above 0"),
        ({"volume": "v0001", "level": 12}, "backup definition 1: level must be a whole number from 0 to 9"),
        ({"volume": "v0001", "level": 0, "expire": "soon"}, "backup definition 1: expire must be a duration such "
                                                            "as '1w', '3d 12h' or '30m' ('' for never)"),
        ({"volume": "v0001", "level": 0, "when": "now"}, "backup definition 1: unknown field(s) when; allowed: "
                                                         "backup_name, volume, level, expire, minute, hour, day, "
                                                         "month, weekday, enabled"),
        ("daily", "backup definition 1 must be a dictionary with backup_name, volume, level, expire, minute, "
                  "hour, day, month, weekday, enabled"),
    ],
)  # fmt: skip
def test_schedule_refusals_name_the_entry_and_field(entry: object, reason: str) -> None:
    s = Sim()
    assert refusal(backups.set_schedule, s.c, s.db, [entry]) == reason
    assert backups.schedule_entries(s.c, "exa_db1") == []


def test_cron_fields() -> None:
    assert backups.parse_cron("weekday", "mon-fri") == {1, 2, 3, 4, 5}
    assert backups.parse_cron("weekday", "7") == {0}
    assert backups.parse_cron("hour", "*/6") == {0, 6, 12, 18}
    assert backups.parse_cron("minute", "10-30/10,59") == {10, 20, 30, 59}
    e = backups.Entry("x", "v0001", 0, "", "0", "3", "1", "*", "sun", True)  # the 1st, or a Sunday (cron's or)
    t = backups.next_time(e, T0)  # Tue 2023-11-14
    assert backups.utc_text(t) == "2023-11-19 03:00"
    assert backups.utc_text(backups.next_time(e, t)) == "2023-11-26 03:00"
    never = backups.Entry("x", "v0001", 0, "", "0", "0", "30", "2", "*", True)  # February 30th
    assert backups.next_time(never, T0, horizon_days=400) is None


# -- restores ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["blocking", "nonblocking"])
def test_a_restore_brings_the_data_back(kind: str) -> None:
    s = running()
    backup(s, 0)
    s.db.start_shrink(190)  # the database changes after the backup
    s.settle("database_shrink")
    s.db.data_gib = 150.0
    stop(s)
    ident = ids(s)[0]
    s.db.start_restore(ident, kind)
    db = s.db
    assert (db.state, db.operation, db.running) == ("starting", "Restore", True)
    assert db.pdd_progress()["Comment"] == "Restore has been started" and db.pdd_progress()["Progress"] == 0
    s.settle("database_start")
    assert (db.state, db.operation) == ("running", "Restore")
    s.advance(5)
    assert db.connectible is (kind == "nonblocking")  # nonblocking: usable while it restores
    s.advance(450 - 5)
    assert db.pdd_progress()["Progress"] == 50 and db.pdd_progress()["Type"] == "Restore"
    assert db.operation == "Restore"
    s.advance(450)
    assert db.operation == "None" and db.data_gib == 180 and db.info()["usage persistent"] == 180
    assert db.pdd_progress() == {"Type": "Restore", "Name": ident.split()[1], "Level": 0, "Volume ID": 1,
                                 "Progress": 100, "Comment": "Restore has been successfully finished",
                                 "Files": []}  # fmt: skip
    s.settle("database_connect")
    assert db.connectible
    assert s.c.volumes["v0000"].usage == {"db:exa_db1": 180.0}


def test_virtual_access_runs_on_the_backup_and_leaves_the_data_alone() -> None:
    s = running()
    backup(s, 0)
    stop(s)
    before = s.db.info()["usage persistent"]
    s.db.start_restore(ids(s)[0], "virtual access")
    s.settle("database_start")
    s.settle("database_connect")
    db = s.db
    assert db.connectible and db.operation == "None"
    assert db.info()["info"] == "virtual access to backup exa_db1/id_1/level_0 on v0001 (read-only)"
    assert db.info()["usage persistent"] == before
    assert refusal(backups.delete_backups, s.c, [ids(s)[0]], "admin") == (
        "backup exa_db1/id_1/level_0 on v0001 cannot be deleted now: database exa_db1 runs on it (virtual access)"
    )
    assert refusal(db.start_backup, "v0001", 0, "1w") == (
        "database exa_db1 runs on virtual access to a backup; shut it down first"
    )
    stop(s)
    assert db.virtual_backup == "" and db.info()["info"] == ""
    assert "Virtual access to backup exa_db1/id_1/level_0 on v0001 ended; exa_db1 has its own data again" in (
        s.messages()
    )


def test_restore_refusals_name_why() -> None:
    s = running()
    backup(s, 0)
    ident = ids(s)[0]
    assert refusal(s.db.start_restore, ident, "blocking") == (
        "database exa_db1 must be stopped (state setup) to be restored; it is running"
    )
    stop(s)
    assert refusal(s.db.start_restore, ident, "quick") == (
        "restore_type must be one of: blocking, nonblocking, virtual access; got 'quick'"
    )
    assert refusal(s.db.start_restore, "42", "blocking").startswith("backup id '42' is not valid: it has three")
    assert refusal(s.db.start_restore, "1 exa_db1/id_9/level_0/node_0/backup_1 exa_db1", "blocking") == (
        "backup '1 exa_db1/id_9/level_0/node_0/backup_1 exa_db1' does not exist (see getBackups)"
    )
    s.db.enlarge(1)  # now 4 active nodes; the backup was made on 3
    assert refusal(s.db.start_restore, ident, "blocking") == (
        "backup exa_db1/id_1/level_0 was made on 3 nodes, database exa_db1 has 4 active nodes; a restore needs as many"
    )
    assert s.db.state == "setup" and s.db.temp_volume == ""


def test_a_backup_of_another_database_is_restored_into_this_one() -> None:
    s = running()
    backup(s, 0)
    vol = s.c.add_volume("Data", 500, DB_NODES)
    db2 = s.c.add_database({"database_name": "db2", "clients_port_number": 8564, "nodes_list": DB_NODES,
                            "nodes_number": 3, "memory_usage": 8, "data_volume": vol.vid})  # fmt: skip
    db2.create()
    ident = backups.listing(s.c, "db2", True, True)[0]["id"]
    assert backups.listing(s.c, "db2", False, True) == []  # not its own
    stop(s)  # the nodes are free for db2 (a node runs one database here only for the sake of the test)
    db2.start_restore(ident, "blocking")
    s.advance(100 + 900 + 5)
    assert db2.connectible and db2.data_gib == 180 and s.c.volumes[vol.vid].usage == {"db:db2": 180.0}


# -- crashes in the middle ---------------------------------------------------------------------------


def test_a_crash_mid_backup_drops_the_backup_and_the_database_fails_over() -> None:
    s = running()
    s.db.start_backup("v0001", 0, "1w")
    s.node("n0012").crash()
    db = s.db
    assert (db.state, db.operation) == ("starting", "Startup")
    assert s.c.volumes["v0001"].usage == {} and s.c.table("backup") == {}
    assert "Backup of exa_db1 aborted by node n0012 crashed" in s.messages(priority="Warning")
    assert db.pdd_progress()["Comment"] == "Backup has been aborted by node n0012 crashed"
    s.settle("database_start")
    s.settle("database_connect")
    assert db.connectible and db.node_sets() == {"active": ["n0011", "n0014", "n0013"], "failed": ["n0012"],
                                                   "reserve": []}  # fmt: skip
    backup(s, 0)  # the next one works, on the new nodes
    assert backups.pairs(s.c, "exa_db1") == [[1, "v0001"]]


def test_a_crash_mid_restore_leaves_the_restore_incomplete_until_restored_again() -> None:
    s = running()
    backup(s, 0)
    stop(s)
    ident = ids(s)[0]
    s.db.start_restore(ident, "blocking")
    s.settle("database_start")
    s.advance(300)
    s.node("n0013").crash()
    db = s.db
    assert (db.state, db.operation, db.restore) == ("setup", "None", {})
    assert db.errors == ["database exa_db1 failed: node n0013 crashed during a restore"]
    assert f"Restore of exa_db1 from {ident} failed: node n0013 crashed" in s.messages(priority="Error")
    assert db.restore_incomplete == ident
    assert refusal(db.start).startswith(f"database exa_db1 cannot start: the restore from {ident} did not finish")
    s.node("n0013").startup()
    s.settle("node_boot")
    db.start_restore(ident, "blocking")
    s.advance(100 + 900 + 5)
    assert db.connectible and db.restore_incomplete == "" and db.errors == []


def test_firings_missed_while_exaoperation_was_down_are_not_made_up_for() -> None:
    s = running()
    backups.set_schedule(s.c, s.db, [{"volume": "v0001", "level": 0, "minute": "0"}])
    records = [(e.kind, e.key, e.record()) for e in s.c.all_entities()]
    later = s.now + 3 * 86400 + 1800  # the server comes back three days later
    c = Cluster.from_records(s.c.profile, later, records, s.c.drivers)
    c.advance(later)
    assert backups.all_backups(c) == [] and c.databases["exa_db1"].operation == "None"
    sched = backups.schedule_of(c, "exa_db1")
    assert sched is not None and sched.deadline == (later // 3600 + 1) * 3600
