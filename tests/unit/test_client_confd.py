"""client/confd.py against a fake ConfD: the phases' words from ConfD's jobs and results."""

from __future__ import annotations

from typing import Any

import pytest

from exaop.client.backend import RUNNING
from exaop.client.confd import ConfdBackend, JobFailed, node_id, node_name


class FakeConfd:
    """job_exec / job_start / job_info / job_list answered from dicts, every call remembered."""

    def __init__(self, outputs: dict[str, Any], jobs: list[str] | None = None) -> None:
        self.outputs = outputs
        self.jobs = jobs if jobs is not None else ["db_start", "infra_instances_start", "infra_instances_stop"]
        self.sent: list[tuple[str, Any]] = []
        self.calls = 0
        self.base = "https://node11:20003"

    def call(self, path: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        self.calls += 1
        if method == "system.listMethods":
            return ["job_exec", "job_start", "job_info", "job_list"]
        if method == "job_list":
            return self.jobs
        if method == "job_exec":
            out = self.outputs[args[0]]
            return out if isinstance(out, dict) and "result_code" in out else {"result_code": 0, "result_output": out}
        if method == "job_start":
            self.sent.append((args[0], args[1]["params"]))
            return "10.1"
        if method == "job_info":
            return {"stage": "executed", "finished": False}
        raise AssertionError(method)


def backend(outputs: dict[str, Any], jobs: list[str] | None = None) -> tuple[ConfdBackend, FakeConfd]:
    fake = FakeConfd(outputs, jobs)
    b = ConfdBackend(fake)  # type: ignore[arg-type]
    b.ping()
    return b, fake


def test_node_ids_and_states_in_the_phases_words() -> None:
    assert node_name("11") == "n0011" and node_id("n0011") == 11
    b, _ = backend({"node_list": {"12": {}, "11": {}},
                    "node_state": {"11": "online", "12": "offline", "booted": {"11": "2025-01-01"}}})  # fmt: skip
    assert b.nodes() == ["n0011", "n0012"]
    assert b.node_statuses(["n0011", "n0012"]) == {"n0011": RUNNING, "n0012": "offline"}


def test_databases_and_storage() -> None:
    b, _ = backend({
        "db_info": {"state": "startup", "operation": "Startup", "connectible": "No", "connection string": "c:8563"},
        "db_state": "shutdown",
        "st_volume_info": {"0": {"name": "DataVolume1", "state": "DEGRADED"},
                           "2": {"name": "TempVolume_db", "state": "ONLINE", "owner": "db_db"}},
    })  # fmt: skip
    s = b.database("db")
    assert (s.state, s.operation, s.connectible, s.busy) == ("starting", "Startup", False, True)
    assert b.database_state("db") == "stopping" and b.connection_string("db") == "c:8563"
    view = b.storage()
    assert view.parts == {"DataVolume1": "DEGRADED"}  # a database's temporary volume is not storage's
    assert view.online and not view.settled and view.pending == ["DataVolume1"]


def test_a_failed_job_is_a_fault_with_its_description() -> None:
    b, _ = backend({"db_list": {"result_code": 1, "result_desc": "nope", "result_name": "JobError"}})
    with pytest.raises(JobFailed) as e:
        b.databases()
    assert (e.value.method, e.value.code, e.value.text) == ("db_list", 1, "nope")


def test_node_jobs_take_every_node_and_follow_what_the_server_has() -> None:
    b, fake = backend({})
    assert b.power_on(["n0011", "n0012"]) == "job 10.1 executed"
    assert b.shutdown(["n0011"]) == "job 10.1 executed"
    assert fake.sent == [("infra_instances_start", {"nids": [11, 12]}), ("infra_instances_stop", {"nids": [11]})]
    b, _ = backend({}, jobs=["nodes_terminate"])  # no infrastructure control: nodes must be up
    assert (b.actions.power_on, b.actions.shutdown) == (None, "nodes_terminate")
