"""Real BMC emulators on loopback ports, started by the tests themselves.

* :class:`RedfishBmc`: sushy-tools' Redfish emulator with its fake driver, one state dir
  per instance, htpasswd (bcrypt) basic auth and TLS with a certificate made here and
  verified through a CA file (see ``redfish_bmc.py`` for the knobs).
* :class:`IpmiBmc`: OpenIPMI's ``ipmi_sim`` with a LAN config on 127.0.0.1 and a
  chassis-control script that keeps the machine's power in a file.

Each ``settings()`` gives the dictionary ``make_driver`` takes, with short timings.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import requests

from exaop.tls import issue

HERE = Path(__file__).resolve().parent
#: short timings for tests: a few polls a second, quick re-sends
FAST = {
    "call_timeout": 3.0,
    "retries": 1,
    "retry_backoff": 0.1,
    "poll_interval": 0.1,
    "resend_interval": 1.0,
    "power_deadline": 8.0,
    "shutdown_deadline": 8.0,
    "off_settle": 5.0,
}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(ready: Any, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 20.0) -> None:
    """Until ``ready()`` (the process is up) — bounded; its log in the failure."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}:\n{log.read_text(errors='replace')}")
        if ready():
            return
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not start within {timeout:g} s:\n{log.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class RedfishBmc:
    """A Redfish BMC with one fake system per name in ``systems`` (Name = the node's name)."""

    def __init__(
        self,
        root: Path,
        systems: list[str],
        *,
        username: str = "admin",
        password: str = "redfish-pw",
        power_delay: float = 0.3,
        drop_on: int = 0,
        ignore_graceful: bool = False,
        powered: bool = False,
    ) -> None:
        self.root = root
        self.username, self.password = username, password
        self.uuids = {name: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.{root}")) for name in systems}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "tls").mkdir(parents=True, exist_ok=True)
        (root / "state").mkdir(exist_ok=True)
        issue(root / "tls", ["127.0.0.1", "localhost"])
        self.ca_file = str(root / "tls" / "ca.pem")
        digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{username}:{digest}\n")
        self._config = {
            "SUSHY_EMULATOR_LISTEN_IP": "127.0.0.1",
            "SUSHY_EMULATOR_FAKE_DRIVER": True,
            "SUSHY_EMULATOR_STATE_DIR": str(root / "state"),
            "SUSHY_EMULATOR_AUTH_FILE": str(root / "htpasswd"),
            "SUSHY_EMULATOR_SSL_CERT": str(root / "tls" / "cert.pem"),
            "SUSHY_EMULATOR_SSL_KEY": str(root / "tls" / "key.pem"),
            "SUSHY_EMULATOR_FAKE_SYSTEMS": [
                {"uuid": u, "name": n, "power_state": "On" if powered else "Off", "nics": []}
                for n, u in self.uuids.items()
            ],
            "EXAOP_POWER_DELAY": power_delay,
            "EXAOP_DROP_ON": drop_on,
            "EXAOP_IGNORE_GRACEFUL": ignore_graceful,
        }

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> RedfishBmc:
        self.port = self.port or free_port()
        conf = self.root / "emulator.conf"
        lines = [f"{k} = {v!r}" for k, v in {**self._config, "SUSHY_EMULATOR_LISTEN_PORT": self.port}.items()]
        conf.write_text("\n".join(lines) + "\n")
        log = self.root / "emulator.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "redfish_bmc.py"), "--config", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait(self._answers, self.proc, "the Redfish emulator", log)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self.proc)

    def power(self, system: str) -> str:
        """The system's PowerState as the emulator tells it (``On``/``Off``), read past the driver."""
        r = requests.get(
            f"{self.url}/redfish/v1/Systems/{self.uuids[system]}",
            verify=self.ca_file,
            auth=(self.username, self.password),
            timeout=5,
        )
        r.raise_for_status()
        return str(r.json()["PowerState"])

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {
            "address": "127.0.0.1",
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "ca_file": self.ca_file,
            "nodes": {n: {} for n in self.uuids},
            **FAST,
            **overrides,
        }


def ipmi_sim_path() -> str:
    """``ipmi_sim``, or a failed test saying how to get it (never a silent skip)."""
    path = shutil.which("ipmi_sim")
    if path is None:
        pytest.fail("ipmi_sim (OpenIPMI) is not installed: `apt-get install openipmi` (make test does)")
    return path


CHASSIS = r"""#!/bin/sh
# ipmi_sim chassis control: $1 the MC, $2 get|set|check, then parameters (and values)
cd "$(dirname "$0")"
echo "$*" >> calls
mc=$1; op=$2; shift 2
case $op in
get)
    for p in "$@"; do
        case $p in
        power) echo "power:$(cat power)" ;;
        boot) echo "boot:default" ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        case $1 in
        power)
            if [ "$2" = 1 ] && [ "$(cat drop_on)" -gt 0 ]; then
                echo $(( $(cat drop_on) - 1 )) > drop_on     # a BMC that drops a power-on
            else
                echo "$2" > power
            fi ;;
        shutdown) [ "$(cat graceful)" = ignore ] || echo 0 > power ;;   # the OS obeys the button, or not
        reset) echo reset >> resets ;;
        esac
        shift 2
    done ;;
check) ;;
esac
exit 0
"""

# the BMC at IPMB 0x20 with a SEL, a temperature sensor reading 42 °C and its SDR (a full sensor record)
EMU = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 0x09 0x08 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
sensor_add 0x20 0 1 0x01 0x01
sensor_set_value 0x20 0 1 0x2a 0
sensor_set_event_support 0x20 0 1 enable scanning per-state 000000000000000 000000000000000 000000000000000 000000000000000
main_sdr_add 0x20 0x00 0x00 0x51 0x01 0x2f 0x20 0x00 0x01 0x07 0x01 0x67 0x68 0x01 0x01 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x01 0x00 0x00 0x01 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0xff 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00 0xc4 0x54 0x65 0x6d 0x70
mc_enable 0x20
"""  # noqa: E501


class IpmiBmc:
    """``ipmi_sim`` as one node's BMC; the machine's power is the file ``power`` (1 or 0)."""

    def __init__(
        self,
        root: Path,
        node: str = "n0011",
        *,
        username: str = "admin",
        password: str = "ipmi-pw",
        powered: bool = False,
        drop_on: int = 0,
        ignore_graceful: bool = False,
    ) -> None:
        self.root, self.node = root, node
        self.username, self.password = username, password
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)
        (root / "state").mkdir(exist_ok=True)
        script = root / "chassis.sh"
        script.write_text(CHASSIS)
        script.chmod(0o755)
        (root / "power").write_text("1\n" if powered else "0\n")
        (root / "drop_on").write_text(f"{drop_on}\n")
        (root / "graceful").write_text("ignore\n" if ignore_graceful else "obey\n")
        (root / "sim.emu").write_text(EMU)

    def start(self) -> IpmiBmc:
        binary = ipmi_sim_path()
        self.port = self.port or free_port(socket.SOCK_DGRAM)
        (self.root / "lan.conf").write_text(f"""name "exaop{self.port}"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {self.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "{self.root / "chassis.sh"} 0x20"
  user 1 false "" "" user 10 none md2 md5 straight
  user 2 true "{self.username}" "{self.password}" admin 10 none md2 md5 straight
""")
        log = self.root / "ipmi_sim.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    binary,
                    "-c",
                    str(self.root / "lan.conf"),
                    "-f",
                    str(self.root / "sim.emu"),
                    "-s",
                    str(self.root / "state"),
                    "-n",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait(self._pongs, self.proc, "ipmi_sim", log)
        return self

    def _pongs(self) -> bool:
        """An RMCP presence ping answered: the LAN channel is up."""
        ping = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x01, 0x00, 0x00])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(ping, ("127.0.0.1", self.port))
                return len(s.recv(64)) > 8
            except OSError:
                return False

    def stop(self) -> None:
        _stop(self.proc)

    def power(self) -> str:
        return "on" if (self.root / "power").read_text().strip() == "1" else "off"

    def calls(self) -> list[str]:
        path = self.root / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "nodes": {self.node: {"address": "127.0.0.1", "port": self.port}},
            **FAST,
            **overrides,
        }
