"""What a real BMC tells about the machine, shown by `exaop serve`: getHardwareInformation and
getNodeInfo with the Redfish system's values (the profile's only where the BMC says nothing),
getSrvMgmtSensorStatus with the IPMI BMC's sensors; read in the background, kept across a
restart, and kept (with the reason logged) when the BMC stops answering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.drivers.emulators import IpmiBmc, RedfishBmc
from tests.drivers.test_wired import fast, group, log_lines, rpc, serve, state, until
from tests.serverproc import ServerProcess


def told(srv: ServerProcess, node: str, key: str, source: str) -> dict[str, Any]:
    """getNodeInfo once its ``key`` comes from ``source`` (asking starts the background read)."""
    return until(  # type: ignore[no-any-return]
        lambda: (i := rpc(srv, f"/{node}").getNodeInfo())["hardware_source"][key] == source and i,
        f"{node}'s {key} from {source}",
    )


def test_hardware_from_the_redfish_system(server_factory, redfish, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmc: RedfishBmc = redfish(systems=["n0011"], power_delay=0.2)
    srv = serve(server_factory, tmp_path, f'[drivers.rack]\naddress = "127.0.0.1"\nport = {bmc.port}\n'
                f'ca_file = "{bmc.ca_file}"\n' + fast())  # fmt: skip
    group(srv, "Redfish", bmc.username, bmc.password, ["n0011"])
    # shown before any power request: the emulator's fake system tells its manufacturer and UUID only
    info = told(srv, "n0011", "vendor", "redfish")
    assert info["vendor"] == "Sushy Emulator" and info["hardware_read"] and info["hardware_error"] == ""
    assert info["product"] == "PowerEdge R740xd" and info["hardware_source"]["product"] == "profile"
    assert info["memory_gib"] == 384 and info["hardware_source"]["memory_gib"] == "profile"
    assert info["hardware_source"]["sensors"] == "simulated"  # Redfish systems: no sensors read
    simulated = rpc(srv, "/n0012").getNodeInfo()  # a node in no group: the profile's, as before
    assert simulated["vendor"] == "Dell Inc." and set(simulated["hardware_source"].values()) == {"profile", "simulated"}

    assert "is not online" in rpc(srv).getHardwareInformation("n0011")  # offline: no DMI dump, as before
    rpc(srv, "/n0011").startupNode()
    until(lambda: state(srv, "n0011")["status"] == "Running", "n0011 running")
    dump = rpc(srv).getHardwareInformation("n0011", 0)
    assert "# dmidecode" in dump and "\tManufacturer: Sushy Emulator\n" in dump, dump
    assert f"\tUUID: {bmc.uuids['n0011']}\n" in dump and "\tProduct Name: PowerEdge R740xd\n" in dump
    assert "# from the redfish BMC: vendor, uuid; the rest from the profile" in dump

    # the BMC goes away: after a restart (which reads the BMC again) the last reading stays, the log says why
    bmc.stop()
    srv.stop()
    srv.start()
    shown = until(lambda: (i := rpc(srv, "/n0011").getNodeInfo())["hardware_error"] and i, "the failed read")
    assert shown["vendor"] == "Sushy Emulator" and shown["hardware_source"]["vendor"] == "redfish", shown
    assert f"127.0.0.1:{bmc.port}" in shown["hardware_error"], shown
    said = log_lines(srv, "n0011: its hardware information cannot be read")
    assert len(said) == 1 and said[0].endswith("the last reading stays"), said


def test_sensors_from_the_ipmi_bmc(server_factory, ipmi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmc: IpmiBmc = ipmi(node="n0011")
    srv = serve(server_factory, tmp_path, f'[drivers.rack]\naddress = "127.0.0.1"\n{fast()}'
                f"[drivers.rack.nodes.n0011]\nport = {bmc.port}\n")  # fmt: skip
    group(srv, "IPMI", "admin", "ipmi-pw", ["n0011"])
    info = told(srv, "n0011", "sensors", "ipmi")
    assert info["vendor"] == "Dell Inc." and info["hardware_source"]["vendor"] == "profile"  # IPMI: no inventory here
    rows = rpc(srv, "/n0011").getSrvMgmtSensorStatus()
    assert [r["name"] for r in rows] == ["Power", "ID LED", "Temp"], rows
    assert rows[2] == {"name": "Temp", "value": "42", "unit": "°C", "status": "ok"}
