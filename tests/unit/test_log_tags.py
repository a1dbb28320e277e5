"""Tagged log reads start where the tag stopped, and the tags a service keeps are bounded."""

from __future__ import annotations

from exaop.engine.drivers import SimulatedDriver
from exaop.engine.profile import default_profile
from exaop.model import logs
from exaop.model.cluster import Cluster


def test_a_tag_sees_each_message_once_and_old_tags_are_forgotten(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = Cluster.from_profile(default_profile(), 1_000_000.0, {"simulated": SimulatedDriver()})
    svc = c.logservices["logservice1"]
    svc.entries_tagged("monitor")
    for i in range(10):
        c.log("EXAoperation", "n0011", "Warning", f"message {i}")
    assert [e.message for e in svc.entries_tagged("monitor")] == [f"message {i}" for i in range(10)]
    assert svc.entries_tagged("monitor") == []
    c.log("Storage", "", "Error", "one more")
    assert [e.message for e in svc.entries_tagged("monitor")] == ["one more"]

    monkeypatch.setattr(logs, "MAX_TAGS", 3)
    for tag in ("a", "b", "c"):
        svc.entries_tagged(tag)
    assert list(svc.tags) == ["a", "b", "c"]  # "monitor", used longest ago, was forgotten
    svc.entries_tagged("a")
    svc.entries_tagged("d")
    assert list(svc.tags) == ["c", "a", "d"]
