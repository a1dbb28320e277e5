"""The Redfish driver against sushy-tools' emulator: TLS verified through a CA file, basic auth."""

from __future__ import annotations

import asyncio
import time

import pytest

from exaop.engine.drivers import DriverError


def test_power_on_reset_force_off_and_read_back(redfish, driver, log) -> None:
    bmc = redfish(["n0011", "n0012"])
    d = driver("redfish", bmc.settings())
    assert d.read_power("n0011") == "off"

    on = d.begin("n0011", "on").result(timeout=10)
    assert (on.outcome, on.state, on.requests) == ("done", "on", 1)
    assert bmc.power("n0011") == "On" and bmc.power("n0012") == "Off"
    assert d.read_power("n0011") == "on" and d.power_state("n0012") == "off"

    again = d.begin("n0011", "on").result(timeout=10)
    assert (again.outcome, again.requests) == ("already", 0)  # nothing sent to a machine that is on

    reset = d.begin("n0011", "reset").result(timeout=10)
    assert (reset.outcome, reset.state) == ("done", "on") and bmc.power("n0011") == "On"

    off = d.begin("n0011", "off").result(timeout=10)
    assert (off.outcome, off.state) == ("done", "off") and bmc.power("n0011") == "Off"
    assert log.has("Notice", f"force off of n0011 sent to BMC {bmc.url}")


def test_graceful_shutdown(redfish, driver, log) -> None:
    bmc = redfish(powered=True)
    result = driver("redfish", bmc.settings()).begin("n0011", "shutdown").result(timeout=10)
    assert (result.outcome, result.state, result.requests) == ("done", "off", 1)
    assert bmc.power("n0011") == "Off"
    assert log.has("Notice", "graceful shutdown of n0011 sent")


def test_graceful_shutdown_falls_back_to_force_off_after_the_deadline(redfish, driver, log) -> None:
    bmc = redfish(powered=True, ignore_graceful=True)
    d = driver("redfish", bmc.settings(shutdown_deadline=1.0))
    result = d.begin("n0011", "shutdown").result(timeout=15)
    assert (result.outcome, result.state, result.requests) == ("forced", "off", 2)
    assert result.seconds >= 1.0
    assert bmc.power("n0011") == "Off"
    assert log.has("Warning", "graceful shutdown of n0011 not finished after 1 s: forcing it off")
    assert "forced off" in result.message


def test_a_dropped_power_on_is_sent_again(redfish, driver, log) -> None:
    bmc = redfish(drop_on=1)
    result = driver("redfish", bmc.settings()).begin("n0011", "on").result(timeout=15)
    assert (result.outcome, result.state, result.requests) == ("done", "on", 2)
    assert bmc.power("n0011") == "On"
    assert log.has("Warning", "n0011: the BMC still reports off")


def test_power_on_while_still_powering_off_is_resent_once_off(redfish, driver, log) -> None:
    """The emulator drops an On while a system is still going off (as many BMCs do): the
    'on' it still reports is not trusted, and once it reads 'off' the On goes out again."""
    bmc = redfish(powered=True, power_delay=1.0)
    d = driver("redfish", bmc.settings())
    shutdown = d.begin("n0011", "shutdown")
    log.wait_for("Notice", "graceful shutdown of n0011 sent")  # the emulator applies it 1 s later
    on = d.begin("n0011", "on")
    assert shutdown.result(timeout=10).outcome == "superseded"
    result = on.result(timeout=15)
    assert (result.outcome, result.state) == ("done", "on") and result.requests >= 2
    assert bmc.power("n0011") == "On"


def test_wrong_credentials_fail_fast_and_say_so(redfish, driver) -> None:
    bmc = redfish()
    d = driver("redfish", bmc.settings(password="not-the-password"))
    start = time.monotonic()
    with pytest.raises(DriverError) as e:
        d.begin("n0011", "on").result(timeout=10)
    assert time.monotonic() - start < 2
    assert f"power state of n0011 failed at BMC {bmc.url}: wrong user name or password (HTTP 401)" in str(e.value)
    assert bmc.power("n0011") == "Off"


def test_a_bmc_that_is_down_is_an_error_in_seconds(redfish, driver) -> None:
    bmc = redfish()
    d = driver("redfish", bmc.settings())
    assert d.read_power("n0011") == "off"
    bmc.stop()
    start = time.monotonic()
    with pytest.raises(DriverError, match=r"n0011 failed at BMC https://127\.0\.0\.1:\d+: cannot reach it"):
        d.begin("n0011", "on").result(timeout=30)
    assert time.monotonic() - start < 5
    assert d.power_state("n0011") == "unknown"


def test_tls_is_verified(redfish, driver) -> None:
    bmc = redfish()
    system_cas = driver("redfish", bmc.settings(ca_file=""))  # our test CA is not among the system's
    with pytest.raises(DriverError, match="TLS failed: .*certificate verify failed"):
        system_cas.read_power("n0011")
    unverified = driver("redfish", bmc.settings(ca_file="", verify=False))
    assert unverified.read_power("n0011") == "off"


def test_the_system_is_found_by_id_or_name(redfish, driver) -> None:
    bmc = redfish(["n0011", "n0012"])
    nodes = {"a": {"system": bmc.uuids["n0012"]}, "b": {"system": "n0012"}, "c": {"system": "nope"}}
    d = driver("redfish", bmc.settings(nodes=nodes))
    d.begin("a", "on").result(timeout=10)
    assert bmc.power("n0012") == "On" and d.read_power("b") == "on"
    with pytest.raises(DriverError, match="no system with Id or Name 'nope' among its 2 systems"):
        d.read_power("c")
    with pytest.raises(DriverError, match="no BMC is configured for n0099"):
        d.read_power("n0099")


def test_hardware_information(redfish, driver) -> None:
    bmc = redfish()
    info = driver("redfish", bmc.settings()).hardware_info("n0011")
    assert info.manufacturer == "Sushy Emulator" and info.uuid == bmc.uuids["n0011"]
    assert info.as_dict() == {"manufacturer": "Sushy Emulator", "uuid": bmc.uuids["n0011"]}


def test_four_nodes_from_an_event_loop_that_never_waits(redfish, driver) -> None:
    """The runtime's shape: jobs begun from a coroutine, awaited, the loop free meanwhile."""
    nodes = ["n0011", "n0012", "n0013", "n0014"]
    bmc = redfish(nodes, power_delay=0.5)
    d = driver("redfish", bmc.settings())

    async def main() -> tuple[list, int, float]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        t = asyncio.create_task(ticker())
        start = time.monotonic()
        jobs = [d.begin(n, "on") for n in nodes]
        begun = time.monotonic() - start
        assert not any(j.done() for j in jobs)  # each takes 0.5 s at the BMC
        results = await asyncio.gather(*jobs)
        stop.set()
        await t
        return results, ticks, begun

    results, ticks, begun = asyncio.run(main())
    assert begun < 0.4  # begin never waits for a BMC
    assert [r.state for r in results] == ["on"] * 4 and all(bmc.power(n) == "On" for n in nodes)
    assert ticks > 20  # the loop ran all along (~0.6 s of jobs at 10 ms a tick)
    futures = [d.in_background(d.read_power, n) for n in nodes]
    assert [f.result(timeout=10) for f in futures] == ["on"] * 4
