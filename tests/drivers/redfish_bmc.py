"""sushy-tools' Redfish emulator (fake systems), with three knobs for tests in its config file.

Run as ``python redfish_bmc.py --config FILE`` (sushy-emulator's own options). The fake
driver's power changes take a random 1-11 s; here they take ``EXAOP_POWER_DELAY``
seconds (default 0.3). ``EXAOP_DROP_ON = N`` silently drops the first N power-on
requests of each system (a BMC that is not ready yet); ``EXAOP_IGNORE_GRACEFUL = True``
makes GracefulShutdown do nothing (an operating system that ignores the power button).
Everything else is the emulator as shipped: its own state dir, htpasswd basic auth, TLS,
and its rule that a power-on sent while a system is still powering off is dropped.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from sushy_tools import error
from sushy_tools.emulator import main as emulator
from sushy_tools.emulator.resources.systems import fakedriver

_dropped: dict[str, int] = {}
_lock = threading.Lock()


def set_power_state(self: Any, identity: str, state: str) -> None:
    config = self._config
    system = self._get(identity)
    if state == "GracefulShutdown" and config.get("EXAOP_IGNORE_GRACEFUL"):
        return
    if "On" in state:
        with _lock:
            dropped = _dropped.get(system["uuid"], 0)
            if dropped < config.get("EXAOP_DROP_ON", 0):
                _dropped[system["uuid"]] = dropped + 1
                return
        pending = "On"
    elif state in ("ForceOff", "GracefulShutdown"):
        pending = "Off"
    elif "Restart" in state:
        system["power_state"] = "Off"
        pending = state
    else:
        raise error.NotSupportedError(f"Power state {state} is not supported")
    if system["power_state"] != pending:  # as shipped: on while powering off (still On) is dropped
        delay = float(config.get("EXAOP_POWER_DELAY", 0.3))
        self._update(system, pending_power={"power_state": pending, "apply_time": time.time() + delay})


fakedriver.FakeDriver.set_power_state = set_power_state

if __name__ == "__main__":
    sys.exit(emulator.main())
