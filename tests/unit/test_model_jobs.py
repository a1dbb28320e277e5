"""ConfD's jobs as the model keeps them: stages, revisions, timeouts, a bounded history, and a
history that comes back from its records."""

from __future__ import annotations

from exaop.model import jobs
from exaop.model.cluster import Cluster
from tests.unit.modelkit import Sim


def _job(sim: Sim, name: str = "db_list", changes: bool = False) -> jobs.Job:
    job = jobs.submit(sim.c, name, {"db_name": "exa_db1", "password": "secret"}, "admin", changes, 10)
    job.executing()
    return job


def test_stages_and_revisions() -> None:
    sim = Sim()
    read = _job(sim)
    assert read.job_id == "10.1" and read.stage == jobs.EXECUTED and read.params["password"] == "********"
    read.succeed(["exa_db1"])
    assert read.stage == jobs.FINISHED and read.result() == {
        "result_code": 0, "result_name": "OK", "result_desc": "Success", "result_jobid": "10.1",
        "result_output": ["exa_db1"]}  # fmt: skip
    first = _job(sim, "db_start", changes=True)
    first.succeed()
    second = _job(sim, "db_stop", changes=True)
    second.succeed()
    assert first.stage == jobs.COMMITTED and second.result()["result_revision"] == first.revision + 1  # type: ignore[operator]
    failed = _job(sim, "db_stop", changes=True)
    failed.fail(jobs.FAILED, "database exa_db1 is not running")
    assert failed.stage == jobs.FINISHED and failed.revision is None
    assert failed.result()["result_code"] == 1 and failed.result()["result_desc"] == "database exa_db1 is not running"


def test_a_waiting_job_times_out_on_the_clock_or_ends_with_what_it_got() -> None:
    sim = Sim()
    job = _job(sim, "db_start", changes=True)
    job.waits({"until": "db_running", "db": "exa_db1", "what": "state running"}, 30)
    sim.advance(29)
    assert not job.ended
    sim.advance(2)
    assert job.ended and job.code == jobs.TIMEOUT and "state running" in job.desc
    partial = _job(sim, "node_wait_ready")
    partial.waits({"until": "nodes_ready", "partial": True}, 10)
    sim.advance(11)
    assert not partial.ended and partial.wait["timed_out"] is True  # the face ends it with what it got


def test_the_history_is_bounded_and_comes_back_from_its_records() -> None:
    sim = Sim()
    for _ in range(jobs.KEEP_JOBS + 5):
        _job(sim).succeed()
    waiting = _job(sim, "db_start", changes=True)
    waiting.waits({"until": "db_running", "db": "exa_db1"}, 60)
    kept = jobs.history(sim.c)
    assert len(kept) == jobs.KEEP_JOBS + 1 and kept[0].seq == 6  # the oldest ended ones went
    records = [(e.kind, e.key, e.record()) for e in sim.c.all_entities()]
    again = Cluster.from_records(sim.profile, sim.now, records, sim.c.drivers)
    assert [j.job_id for j in jobs.history(again)] == [j.job_id for j in kept]
    back = jobs.job(again, waiting.job_id)
    assert jobs.waiting(again) == [back] and back.deadline == waiting.deadline
    assert jobs.submit(again, "db_list", {}, "admin", False, 10).seq == waiting.seq + 1
