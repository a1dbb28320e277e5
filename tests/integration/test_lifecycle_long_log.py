"""The lifecycle tool on a long-lived cluster: a log of many pages full of old news.

A cluster that has been started and stopped many times holds 'Boot process finished' and
'powered off' messages of every node, far more than one page of logEntriesTagged
(MAX_RETURNED). The tool must read none of them as news: `start` reports the nodes online
only once they have booted, `stop` reports them off only once they are.

The state dir is made in-process before the server starts: several full cycles driven
through the model (the messages are the model's own, with their simulated times) with
failed logins between them, all saved through the runtime's commits.
"""

from __future__ import annotations

from pathlib import Path

from exaop.engine.runtime import Runtime
from exaop.model.logs import MAX_RETURNED
from tests.integration.lifecycle_kit import DB, NODES, snapshot, start, stop
from tests.serverproc import ADMIN_PASSWORD, ServerProcess

T0 = 1_700_000_000.0
CYCLES = 4
FILLER = 5_000  # failed logins after each cycle: 20,000 older entries in all, four pages and more


def up(rt: Runtime) -> None:
    c = rt.cluster
    for n in NODES:
        c.nodes[n].startup()
    rt.advance_clock(300)
    c.storage.start()
    rt.advance_clock(60)
    c.databases[DB].start()
    rt.advance_clock(130)


def down(rt: Runtime) -> None:
    c = rt.cluster
    c.databases[DB].stop()
    rt.advance_clock(60)
    c.storage.stop()
    rt.advance_clock(30)
    for n in NODES:
        c.nodes[n].shutdown()
    rt.advance_clock(60)


def long_lived(state_dir: Path, running: bool) -> int:
    """A state dir whose log holds CYCLES full start/stop cycles; the cluster left up if ``running``."""
    rt = Runtime.open(state_dir, speed=0, admin_password=ADMIN_PASSWORD, start=T0).runtime
    c = rt.cluster
    for cycle in range(CYCLES):
        up(rt)
        down(rt)
        for i in range(FILLER):
            c.log("Authentication", "", "Warning", f"failed login for user 'probe{cycle}-{i}'")
        rt.commit()
    assert c.nodes["n0011"].status == "Powered off"
    if running:
        up(rt)
        assert c.databases[DB].connectible
    count = len(c.logbook.entries)
    rt.close()
    return count


def old_news(srv: ServerProcess) -> None:
    entries = srv.proxy("/cluster1/logservice1").logEntriesTagged("look")[2]
    assert len(entries) == MAX_RETURNED  # more than one page
    boots = [e for e in srv.proxy("/cluster1/logservice1").logEntriesTagged("look")[2]
             if e["message"].startswith("Boot process finished")]  # fmt: skip
    assert {e["node"] for e in boots} == set(NODES)  # the second page holds old boots of every node


def test_start_on_a_long_lived_cluster_waits_for_the_boots(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    assert long_lived(state, running=False) > CYCLES * FILLER
    srv = server_factory(state_dir=state)
    old_news(srv)

    done = start(srv)
    phases = {p.name: p for p in done.summary.phases}
    assert 200 < phases["nodes"].clock_seconds < 400  # the boots (240 +- 30), not the old messages
    node_ends = [e for e in done.events if e.phase == "nodes" and e.kind == "observation"]
    assert node_ends[-1].message == f"nodes online {len(NODES)}/{len(NODES)}"
    # a first look, one after startupNode (what a message shows is asked after the action), one per boot message
    assert len(done.client.called("getNodeState")) == 3 * len(NODES)
    up_now = snapshot(srv)
    assert up_now["nodes"] == {n: "Running" for n in ["n0010", *NODES]}
    assert up_now["db"] == ("running", "None", "Yes")


def test_stop_on_a_long_lived_cluster_waits_for_the_power_off(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    long_lived(state, running=True)
    srv = server_factory(state_dir=state)
    old_news(srv)
    assert snapshot(srv)["db"] == ("running", "None", "Yes")

    done = stop(srv)
    assert done.summary.ok, done.summary.error
    phases = {p.name: p for p in done.summary.phases}
    assert phases["stop_nodes"].clock_seconds >= 30  # the shutdowns (40 +- 10), not the old messages
    # a first look, one after shutdownNode (what a message shows is asked after the action), one per power-off
    assert len(done.client.called("getNodeState")) == 3 * len(NODES)
    assert srv.wait_exit() == 0
    # the license server back on, on the clock where the stop left it: every node is off already
    again = ServerProcess(state, speed=0).start()
    try:
        assert snapshot(again)["nodes"] == {"n0010": "Running", **{n: "Powered off" for n in NODES}}
    finally:
        again.stop()
