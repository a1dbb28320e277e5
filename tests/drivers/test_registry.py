"""make_driver: one registry line per driver, settings from a dictionary, the simulated driver's jobs."""

from __future__ import annotations

import asyncio
import sys

import pytest

from exaop.engine.drivers import REGISTRY, DriverError, SettingsError, SimulatedDriver, make_driver
from exaop.engine.drivers.ipmi import IpmiSettings
from exaop.engine.drivers.redfish import RedfishDriver, RedfishSettings


def test_the_registry_builds_each_kind(tmp_path) -> None:
    assert set(REGISTRY) == {"simulated", "redfish", "ipmi", "command"}
    assert isinstance(make_driver("simulated"), SimulatedDriver)
    d = make_driver("redfish", {"username": "u", "password": "p", "address": "bmc.example", "nodes": {"n0011": {}}})
    try:
        assert isinstance(d, RedfishDriver) and not d.simulated
        assert d.bmc("n0011") == "https://bmc.example:443"
    finally:
        d.close()
    with pytest.raises(SettingsError, match=r"unknown power driver 'hp' \(one of simulated, redfish, ipmi, command\)"):
        make_driver("hp", {})
    with pytest.raises(SettingsError, match="simulated settings: unknown field 'address' "):
        make_driver("simulated", {"address": "x"})


def test_the_drivers_libraries_load_only_when_asked_for() -> None:
    import subprocess

    code = (
        "import exaop.engine.drivers, exaop.engine.runtime, sys; print('sushy' in sys.modules, 'pyghmi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_settings_are_typed_and_checked(tmp_path) -> None:
    s = RedfishSettings.from_dict(
        {
            "username": "u",
            "password": "secret",
            "address": "10.0.0.1",
            "port": 8443,
            "nodes": {"n0011": {}, "n0012": {"address": "fd00::12", "system": "Self"}},
        }
    )
    assert s.target("n0011").address == "10.0.0.1" and s.target("n0011").system == "n0011"
    assert s.target("n0012").system == "Self" and s.call_timeout == 10.0
    assert "secret" not in repr(s)  # passwords stay out of logs and tracebacks
    with pytest.raises(DriverError, match="no BMC is configured for n0013"):
        s.target("n0013")
    ca = tmp_path / "ca.pem"
    cases = {
        "redfish settings: password: required": {"username": "u", "address": "a", "nodes": {"n": {}}},
        "redfish settings: nodes: names no node": {"username": "u", "password": "p", "address": "a", "nodes": {}},
        "redfish settings: nodes.n.address: required": {"username": "u", "password": "p", "nodes": {"n": {}}},
        f"redfish settings: ca_file: '{ca}' is not a readable file": {
            "username": "u",
            "password": "p",
            "address": "a",
            "nodes": {"n": {}},
            "ca_file": str(ca),
        },
        "redfish settings: verify: must be true or false, not 'no'": {
            "username": "u",
            "password": "p",
            "address": "a",
            "nodes": {"n": {}},
            "verify": "no",
        },
        "redfish settings: must be a dictionary, not list": [],
    }
    for message, data in cases.items():
        with pytest.raises(SettingsError) as e:
            RedfishSettings.from_dict(data)  # type: ignore[arg-type]
        assert str(e.value).startswith(message), str(e.value)
    with pytest.raises(SettingsError, match="ipmi settings: password: IPMI 2.0 passwords have at most 20 bytes"):
        IpmiSettings.from_dict({"username": "u", "password": "x" * 21, "address": "a", "nodes": {"n": {}}})


def test_the_simulated_driver_answers_jobs_at_once() -> None:
    d = SimulatedDriver()
    job = d.begin("n0011", "on")
    assert job.done() and job.result().outcome == "done" and d.power_state("n0011") == "on"
    assert d.begin("n0011", "on").result().outcome == "already"
    assert asyncio.run(_await(d.begin("n0011", "shutdown"))).state == "off"
    d.set_refuse("n0011", True)
    failed = d.begin("n0011", "on")
    assert failed.done() and isinstance(failed.exception(), DriverError)
    assert d.power_state("n0011") == "off"
    with pytest.raises(DriverError, match="unknown power action 'boot'"):
        d.begin("n0011", "boot")  # type: ignore[arg-type]


async def _await(job):  # type: ignore[no-untyped-def]
    return await job
