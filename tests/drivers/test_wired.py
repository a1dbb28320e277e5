"""The drivers wired to the nodes of a real `exaop serve`: nodes whose server-management group
is Redfish, IPMI or a command hook are powered by that group's driver, against real emulators.

The server runs on a scaled clock (the simulated part — storage, databases, the profile's
boot duration — goes ``SPEED`` times faster); the BMCs answer in real time with FAST settings.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exaop import Event, ExaClient, start_cluster, stop_cluster
from exaop.ops.clock import ScaledClock
from tests.drivers.emulators import FAST, IpmiBmc, RedfishBmc
from tests.integration.lifecycle_kit import NODES, ca_file, options
from tests.serverproc import ADMIN_PASSWORD, ServerProcess

SPEED = 100.0
DEFAULT = Path(__file__).resolve().parents[2] / "src" / "exaop" / "profiles" / "default.toml"
#: the simulated part short: a boot of 3 s, the rest a few seconds at SPEED
DURATIONS = {"node_boot": "3", "node_shutdown": "3", "exaoperation_restart": "2"}


def profile(tmp_path: Path, drivers: str) -> str:
    """The built-in profile with short boots and ``drivers`` (TOML text of [drivers...] tables) added."""
    text = DEFAULT.read_text()
    for key, value in DURATIONS.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    path = tmp_path / "profile.toml"
    path.write_text(text + "\n" + drivers)
    return str(path)


def fast(**extra: Any) -> str:
    """FAST driver timings (and ``extra``) as TOML lines of a [drivers.X] table."""
    return "".join(f"{k} = {_toml(v)}\n" for k, v in {**FAST, **extra}.items())


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def serve(server_factory: Callable[..., ServerProcess], tmp_path: Path, drivers: str) -> ServerProcess:
    return server_factory(speed=SPEED, extra=["--profile", profile(tmp_path, drivers)])


def rpc(srv: ServerProcess, path: str = "") -> Any:
    return srv.proxy("/cluster1" + path)


def group(srv: ServerProcess, kind: str, user: str, password: str, nodes: list[str] = NODES,
          addresses: dict[str, str] | None = None) -> None:  # fmt: skip
    """A server-management group 'rack' of ``kind`` holding ``nodes``."""
    public = addresses is not None
    fields = {"ipmi_description": "rack", "ipmi_type": kind, "ipmi_username": user, "ipmi_password": password,
              "public_ip_addresses": public}  # fmt: skip
    assert rpc(srv).addSrvMgmtGroup(fields) == "srvmgmt1"
    for n in nodes:
        values = {"ipmi_group": "srvmgmt1"}
        if addresses:
            values["ip_addr_ipmi"] = addresses[n]
        rpc(srv, f"/{n}").editNode(values)


def until(what: Callable[[], Any], text: str, timeout: float = 30) -> Any:
    """Poll ``what()`` until truthy, with a short deadline (the BMCs answer in real time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:g} s: {text}")


def state(srv: ServerProcess, node: str) -> dict[str, Any]:
    return dict(rpc(srv, f"/{node}").getNodeState())


def log_lines(srv: ServerProcess, text: str) -> list[str]:
    _start, _end, entries = rpc(srv, "/logservice1").logEntries()
    return [e["message"] for e in entries if text in e["message"]]


def lifecycle(srv: ServerProcess, procedure: Any) -> tuple[Any, list[Event]]:
    events: list[Event] = []
    c = ExaClient(srv.url, "admin", ADMIN_PASSWORD, ca_file=ca_file(srv))
    summary = procedure(c, options(srv), ScaledClock(SPEED), events.append)
    return summary, events


def cold_start_and_stop(srv: ServerProcess, power: Callable[[str], str]) -> None:
    """The lifecycle tool's full cold start, then a full stop; the machines follow."""
    assert {n: power(n) for n in NODES} == dict.fromkeys(NODES, "off")
    summary, _ = lifecycle(srv, start_cluster)
    assert summary.ok, summary.error
    assert {n: state(srv, n)["status"] for n in NODES} == dict.fromkeys(NODES, "Running")
    assert {n: power(n) for n in NODES} == dict.fromkeys(NODES, "on")
    shown = state(srv, "n0011")
    assert shown["power"] == "on" and shown["power_read"] and not shown["power_error"], shown
    summary, _ = lifecycle(srv, stop_cluster)  # the license server (simulated) goes last, and the server with it
    assert summary.ok, summary.error
    assert {n: power(n) for n in NODES} == dict.fromkeys(NODES, "off")


# -- the lifecycle tool against four Redfish systems and four IPMI BMCs -----------------------------


def test_lifecycle_cold_start_and_stop_on_redfish(server_factory, redfish, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmc: RedfishBmc = redfish(systems=NODES, power_delay=0.2)
    srv = serve(server_factory, tmp_path, f'[drivers.rack]\naddress = "127.0.0.1"\nport = {bmc.port}\n'
                f'ca_file = "{bmc.ca_file}"\n' + fast())  # fmt: skip
    group(srv, "Redfish", bmc.username, bmc.password)
    info = rpc(srv, "/n0011").getNodeInfo()
    assert info["power_driver"] == "redfish" and info["ipmi_group"] == "srvmgmt1"
    cold_start_and_stop(srv, lambda n: bmc.power(n).lower())


def test_lifecycle_cold_start_and_stop_on_ipmi(server_factory, ipmi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmcs: dict[str, IpmiBmc] = {n: ipmi(node=n) for n in NODES}
    ports = "".join(f"[drivers.rack.nodes.{n}]\nport = {b.port}\n" for n, b in bmcs.items())
    srv = serve(server_factory, tmp_path, '[drivers.rack]\naddress = "127.0.0.1"\n' + fast() + ports)
    group(srv, "IPMI", "admin", "ipmi-pw")
    cold_start_and_stop(srv, lambda n: bmcs[n].power())


# -- a command hook, a tcp readiness probe, a kill -9 while a job is under way --------------------------


def test_command_hook_nodes_with_tcp_readiness_and_restart(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    machines = tmp_path / "machines"
    machines.mkdir()
    listener = _Listener()
    try:
        drivers = (
            "[drivers.rack]\n"
            f'on = "touch {machines}/{{address}}"\noff = "rm -f {machines}/{{address}}"\n'
            f"status = \"sh -c 'test -e {machines}/{{address}} && echo on || echo off'\"\n" + fast() +
            f'[drivers.rack.readiness]\nprobe = "tcp"\nhost = "127.0.0.1"\nport = {listener.port}\n'
            "interval = 0.05\ndeadline = 20\n"
        )  # fmt: skip
        srv = serve(server_factory, tmp_path, drivers)
        group(srv, "command", "-", "", NODES[:2], {"n0011": "10.0.9.11", "n0012": "10.0.9.12"})
        rpc(srv, "/n0011").startupNode()
        assert state(srv, "n0011")["status"] == "Booting"  # the call returned before the BMC answered
        until(lambda: state(srv, "n0011")["status"] == "Running", "n0011 running")
        assert (machines / "10.0.9.11").exists()
        assert log_lines(srv, "n0011 is ready: TCP port 127.0.0.1")

        # the server dies while n0012 is powered on; started again, it reads the power back and goes on
        rpc(srv, "/n0012").startupNode()
        until(lambda: (machines / "10.0.9.12").exists(), "n0012's machine on")
        srv.kill9()
        srv.start()
        until(lambda: state(srv, "n0012")["status"] == "Running", "n0012 running after the restart")
        assert state(srv, "n0011")["status"] == "Running"

        # the machine of n0011 goes away under the server's feet: a restart says so
        (machines / "10.0.9.11").unlink()
        srv.stop()
        srv.start()
        until(lambda: state(srv, "n0011")["status"] == "Powered off", "n0011 off after the restart")
        assert log_lines(srv, "n0011 was running but is powered off")

        rpc(srv, "/n0012").shutdownNode()
        until(lambda: state(srv, "n0012")["status"] == "Powered off", "n0012 off")
        assert not (machines / "10.0.9.12").exists()
    finally:
        listener.close()


def test_readiness_probe_that_never_passes(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    machines = tmp_path / "machines"
    machines.mkdir()
    drivers = (
        "[drivers.rack]\n"
        f'on = "touch {machines}/{{node}}"\noff = "rm -f {machines}/{{node}}"\n'
        f"status = \"sh -c 'test -e {machines}/{{node}} && echo on || echo off'\"\n" + fast() +
        '[drivers.rack.readiness]\nprobe = "command"\ncommand = "false"\ninterval = 0.05\ndeadline = 0.5\n'
    )  # fmt: skip
    srv = serve(server_factory, tmp_path, drivers)
    group(srv, "command", "-", "", ["n0011"])
    rpc(srv, "/n0011").startupNode()
    shown = until(lambda: (s := state(srv, "n0011"))["status"] == "Crashed" and s, "n0011 not ready")
    assert shown["power"] == "on" and "readiness probe of n0011 gave up" in shown["power_error"], shown
    assert log_lines(srv, "Node n0011 is powered on but not ready")


# -- BMC down, wrong credentials: the node says what failed, the server answers meanwhile -------------


def test_wrong_credentials_at_the_node(server_factory, redfish, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmc: RedfishBmc = redfish(systems=["n0011"])
    srv = serve(server_factory, tmp_path, f'[drivers.rack]\naddress = "127.0.0.1"\nport = {bmc.port}\n'
                f'ca_file = "{bmc.ca_file}"\n' + fast())  # fmt: skip
    group(srv, "Redfish", bmc.username, "not-the-password", ["n0011"])
    rpc(srv, "/n0011").startupNode()
    shown = until(lambda: (s := state(srv, "n0011"))["status"] == "Powered off" and s["power_error"] and s, "failed")
    assert "wrong user name or password (HTTP 401)" in shown["power_error"], shown
    assert f"127.0.0.1:{bmc.port}" in shown["power_error"]
    said = log_lines(srv, "Node n0011 did not power on")
    assert said and "HTTP 401" in said[0], said
    # the group gets the right password: the driver is made again, and the node starts
    rpc(srv, "/srvmgmt1").editNodeClusterSrvMgmtGroup({"ipmi_password": bmc.password})
    rpc(srv, "/n0011").startupNode()
    until(lambda: state(srv, "n0011")["status"] == "Running", "n0011 running")
    assert bmc.power("n0011") == "On" and state(srv, "n0011")["power_error"] == ""


def test_bmc_down_at_the_node(server_factory, ipmi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bmc: IpmiBmc = ipmi(node="n0011")
    bmc.stop()  # nobody answers on its port
    srv = serve(server_factory, tmp_path, f'[drivers.rack]\naddress = "127.0.0.1"\n{fast(retries=0)}'
                f"[drivers.rack.nodes.n0011]\nport = {bmc.port}\n")  # fmt: skip
    group(srv, "IPMI", "admin", "ipmi-pw", ["n0011"])
    started = time.monotonic()
    rpc(srv, "/n0011").startupNode()
    assert time.monotonic() - started < 1.0  # returned at once
    assert rpc(srv).getNodeList()  # the server keeps answering while the BMC does not
    assert state(srv, "n0012")["status"] == "Powered off"
    shown = until(lambda: (s := state(srv, "n0011"))["power_error"] and s, "n0011 failed", timeout=40)
    assert shown["status"] == "Powered off" and shown["power"] == "unknown", shown
    assert f"127.0.0.1:{bmc.port}" in shown["power_error"] and "n0011" in shown["power_error"], shown
    assert log_lines(srv, "Node n0011 did not power on")


class _Listener:
    """A TCP port that accepts (the readiness probe's target)."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        self.sock.close()
