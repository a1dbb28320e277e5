"""The command hook: a group's own programs power its nodes (a cloud's CLI, a hypervisor's, a script).

Each of ``on``, ``off``, ``shutdown``, ``reset`` and ``status`` is a command line, split
like a shell would (``shlex.split``) but run **without a shell**: ``{node}`` and
``{address}`` are replaced inside each argument, so a node name can never become shell
syntax. No ``shutdown`` command: a graceful shutdown runs ``off``; no ``reset``
command: reset is refused. The child gets no input, runs at most ``call_timeout``
seconds (then its whole process group is killed), and has ``EXAOP_NODE`` and
``EXAOP_ADDRESS`` in its environment. The exit code and the output of every power
command go to the log.

``status`` tells the power state: it must exit 0, and its standard output is searched
for ``on_pattern`` (default: the word ``on``) and ``off_pattern`` (the word ``off``),
case-insensitively; exactly one must match. Exit code 75 (``EX_TEMPFAIL``) and a
timeout count as transient and are retried; any other failure is not.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import ClassVar

from exaop.engine.drivers.base import BmcDriver, Failure, LogHook, PowerState
from exaop.engine.drivers.settings import BmcSettings, SettingsError

EX_TEMPFAIL = 75
_SHOWN = 300  # characters of a command's output kept in a log line or an error


@dataclass(frozen=True, kw_only=True)
class CommandSettings(BmcSettings):
    kind = "command"
    COMMANDS: ClassVar[tuple[str, ...]] = ("on", "off", "shutdown", "reset", "status")
    on: str
    off: str
    status: str
    shutdown: str = ""
    reset: str = ""
    on_pattern: str = r"\bon\b"
    off_pattern: str = r"\boff\b"
    call_timeout: float = 60.0

    def check(self, where: str) -> None:
        super().check(where)
        for name in self.COMMANDS:
            line = getattr(self, name)
            if not line:
                continue
            try:
                argv = shlex.split(line)
            except ValueError as e:
                raise SettingsError(f"{where}: {name}: cannot be split into arguments: {e}") from None
            if not argv:
                raise SettingsError(f"{where}: {name}: names no program")
            if "{" not in argv[0] and shutil.which(argv[0]) is None:
                raise SettingsError(f"{where}: {name}: program {argv[0]!r} not found")
            if "{address}" in line:
                self.require_address(where)
        for name in ("on_pattern", "off_pattern"):
            try:
                re.compile(getattr(self, name))
            except re.error as e:
                raise SettingsError(f"{where}: {name}: not a regular expression: {e}") from None

    def argv(self, name: str) -> list[str]:
        return shlex.split(getattr(self, name))


class CommandFailed(Exception):
    def __init__(self, text: str, transient: bool) -> None:
        super().__init__(text)
        self.transient = transient


class CommandDriver(BmcDriver):
    name = "command"
    parallel_limit = 8
    settings_type = CommandSettings

    def __init__(self, settings: CommandSettings, log: LogHook | None = None) -> None:
        super().__init__(settings, log)
        self.settings: CommandSettings = settings
        self._on_re = re.compile(settings.on_pattern, re.IGNORECASE)
        self._off_re = re.compile(settings.off_pattern, re.IGNORECASE)

    def bmc(self, node: str) -> str:
        return self.settings.target(node).address or "(command hook)"

    def run(self, node: str, name: str) -> str:
        """Run command ``name`` for ``node``; its standard output, or :class:`CommandFailed`."""
        address = self.settings.target(node).address
        argv = [a.replace("{node}", node).replace("{address}", address) for a in self.settings.argv(name)]
        shown = shlex.join(argv)
        env = {**os.environ, "EXAOP_NODE": node, "EXAOP_ADDRESS": address}
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=env,
                start_new_session=True,
            )
        except OSError as e:
            raise CommandFailed(f"cannot run `{shown}`: {e.strerror or e}", False) from e
        timeout = self.settings.call_timeout
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise CommandFailed(f"`{shown}` did not finish within {timeout:g} s (killed)", True) from None
        said = _tail(out + err)
        if name != "status":
            self.log(node, "Notice", f"{node}: `{shown}` exited {proc.returncode}" + (f": {said}" if said else ""))
        if proc.returncode != 0:
            raise CommandFailed(
                f"`{shown}` exited {proc.returncode}" + (f": {said}" if said else ""), proc.returncode == EX_TEMPFAIL
            )
        return out

    def _on(self, node: str) -> None:
        self.run(node, "on")

    def _shutdown(self, node: str) -> None:
        self.run(node, "shutdown" if self.settings.shutdown else "off")

    def _force_off(self, node: str) -> None:
        self.run(node, "off")

    def _reset(self, node: str) -> None:
        if not self.settings.reset:
            raise CommandFailed("no reset command is configured", False)
        self.run(node, "reset")

    def _read_power(self, node: str) -> PowerState:
        out = self.run(node, "status")
        on, off = bool(self._on_re.search(out)), bool(self._off_re.search(out))
        if on != off:
            return "on" if on else "off"
        how = "both" if on else "neither"
        raise CommandFailed(f"status output matches {how} of on_pattern and off_pattern: {_tail(out)!r}", False)

    def _classify(self, exc: Exception) -> Failure:
        if isinstance(exc, CommandFailed):
            return Failure(str(exc), exc.transient)
        return super()._classify(exc)


def _tail(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else "…" + text[-_SHOWN:]
