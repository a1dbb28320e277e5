"""The IPMI driver against OpenIPMI's ipmi_sim on a loopback UDP port."""

from __future__ import annotations

import re
import time

import pytest

from exaop.engine.drivers import DriverError
from tests.drivers.emulators import IpmiBmc, free_port


def test_power_on_shutdown_force_off_reset_and_read_back(ipmi, driver, log) -> None:
    bmc = ipmi()
    d = driver("ipmi", bmc.settings())
    assert d.read_power("n0011") == "off"

    assert d.begin("n0011", "on").result(timeout=10).state == "on"
    assert bmc.power() == "on" and "0x20 set power 1" in bmc.calls()
    assert d.begin("n0011", "on").result(timeout=10).outcome == "already"

    reset = d.begin("n0011", "reset").result(timeout=10)
    assert (reset.outcome, reset.state) == ("done", "on") and "0x20 set reset 1" in bmc.calls()

    shutdown = d.begin("n0011", "shutdown").result(timeout=10)
    assert (shutdown.outcome, shutdown.state) == ("done", "off") and "0x20 set shutdown 1" in bmc.calls()
    assert bmc.power() == "off"

    d.begin("n0011", "on").result(timeout=10)
    off = d.begin("n0011", "off").result(timeout=10)
    assert (off.outcome, off.state, off.requests) == ("done", "off", 1)
    assert bmc.calls()[-2:] == ["0x20 set power 0", "0x20 get power"]  # sent, then read back
    assert log.has("Notice", f"force off of n0011 sent to BMC 127.0.0.1:{bmc.port}")


def test_graceful_shutdown_falls_back_to_force_off(ipmi, driver, log) -> None:
    bmc = ipmi(powered=True, ignore_graceful=True)
    result = driver("ipmi", bmc.settings(shutdown_deadline=0.5)).begin("n0011", "shutdown").result(timeout=10)
    assert (result.outcome, result.state, result.requests) == ("forced", "off", 2)
    assert bmc.power() == "off"
    assert log.has("Warning", "graceful shutdown of n0011 not finished after 0.5 s: forcing it off")


def test_a_dropped_power_on_is_sent_again(ipmi, driver, log) -> None:
    bmc = ipmi(drop_on=2)
    result = driver("ipmi", bmc.settings(resend_interval=0.3)).begin("n0011", "on").result(timeout=10)
    assert (result.outcome, result.state, result.requests) == ("done", "on", 3)
    assert bmc.calls().count("0x20 set power 1") == 3 and bmc.power() == "on"
    assert log.has("Warning", "n0011: the BMC still reports off")


def test_a_power_on_not_seen_by_the_deadline_fails_and_says_how_often_it_was_sent(ipmi, driver, log) -> None:
    bmc = ipmi(drop_on=100)
    # ten re-send intervals before the deadline: under load an IPMI round trip can take most of a second
    d = driver("ipmi", bmc.settings(resend_interval=0.3, power_deadline=3.0))
    with pytest.raises(
        DriverError,
        match=r"power on of n0011 not confirmed by BMC 127\.0\.0\.1:\d+: it still "
        r"reports off 3 s after the request \((\d+) requests sent\)",
    ) as e:
        d.begin("n0011", "on").result(timeout=10)
    sent = int(re.search(r"\((\d+) requests", str(e.value)).group(1))  # type: ignore[union-attr]
    assert sent >= 2 and bmc.calls().count("0x20 set power 1") == sent
    assert log.has("Error", "power on of n0011 not confirmed")


def test_wrong_credentials_fail_fast(ipmi, driver) -> None:
    bmc = ipmi()
    for wrong in ({"password": "wrong"}, {"username": "nobody"}):
        start = time.monotonic()
        with pytest.raises(DriverError, match=r"n0011 failed at BMC 127\.0\.0\.1:\d+: wrong user name or password"):
            driver("ipmi", bmc.settings(**wrong)).begin("n0011", "on").result(timeout=10)
        assert time.monotonic() - start < 2
    assert bmc.power() == "off" and "0x20 set power 1" not in bmc.calls()


def test_a_bmc_that_never_answers_is_an_error_in_seconds(driver, tmp_path) -> None:
    nobody = IpmiBmc(tmp_path / "absent")  # configured, never started: nothing listens on its port
    nobody.port = free_port(__import__("socket").SOCK_DGRAM)
    start = time.monotonic()
    with pytest.raises(DriverError, match="no answer"):
        driver("ipmi", nobody.settings()).begin("n0011", "on").result(timeout=30)
    assert time.monotonic() - start < 8


def test_a_dead_session_is_opened_again(ipmi, driver) -> None:
    bmc = ipmi()
    d = driver("ipmi", bmc.settings())
    assert d.read_power("n0011") == "off"
    bmc.stop()  # the BMC restarts: it forgets the session
    start = time.monotonic()
    assert d.power_state("n0011") == "unknown"
    assert time.monotonic() - start < 12
    bmc.start()
    assert d.begin("n0011", "on").result(timeout=10).state == "on" and bmc.power() == "on"


def test_sensors(ipmi, driver) -> None:
    bmc = ipmi()
    [temp] = driver("ipmi", bmc.settings()).sensors("n0011")
    assert (temp.name, temp.kind, temp.value, temp.unit, temp.health) == ("Temp", "Temperature", 42.0, "°C", "ok")
