"""Start `exaop serve` as a real subprocess on a free loopback port, for integration tests."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit
from xmlrpc.client import ServerProxy

ADMIN_PASSWORD = "admin-secret"
TLS = ssl._create_unverified_context()


class ServerProcess:
    """A running `exaop serve`; ``url`` is https://127.0.0.1:PORT/cluster1."""

    def __init__(
        self,
        state_dir: Path,
        speed: float = 0,
        extra: list[str] | None = None,
        http: bool = False,
        admin_password: str | None = ADMIN_PASSWORD,
        env: dict[str, str | None] | None = None,
        umask: int = -1,
    ) -> None:
        """``admin_password=None`` leaves out --admin-password; ``env`` adds (value None: removes) variables;
        ``umask`` is the process's (-1: this one's)."""
        self.state_dir = Path(state_dir)
        self.speed = speed
        self.extra = list(extra or [])
        self.http = http
        self.admin_password = admin_password
        self.env = dict(env or {})
        self.umask = umask
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0
        self.confd_url = ""  # https://127.0.0.1:PORT of the ConfD face ("" with --no-confd)
        self.confd_port = 0
        self.output: list[str] = []

    def start(self, port: int = 0, timeout: float = 30) -> ServerProcess:
        cmd = [
            sys.executable, "-m", "exaop.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--state-dir", str(self.state_dir), "--speed", str(self.speed),
            *(["--admin-password", self.admin_password] if self.admin_password is not None else []),
            *(["--http"] if self.http else []),
            # a ConfD face on a free port (20003 may be taken), unless the test chooses; none with --http
            # (the ConfD face is HTTPS only: it would make the state dir's TLS files)
            *([] if any(a.startswith(("--confd-port", "--no-confd")) for a in self.extra)
              else ["--no-confd"] if self.http else ["--confd-port", "0"]),
            *self.extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, umask=self.umask
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                self.output.append(line.rstrip("\n"))
                if line.startswith("exaop ConfD face on "):
                    self.confd_url = line.split()[4]
                if line.startswith("exaop listening on "):
                    self.url = line.split()[-1]
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or not self.url:
            self.kill()
            raise RuntimeError("exaop serve did not start:\n" + "\n".join(self.output))
        self.port = urlsplit(self.url).port or 0
        self.confd_port = urlsplit(self.confd_url).port or 0 if self.confd_url else 0
        return self

    def base(self, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        scheme = "http" if self.http else "https"
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}"

    def proxy(self, path: str = "/cluster1", user: str = "admin", password: str = ADMIN_PASSWORD) -> ServerProxy:
        kwargs = {} if self.http else {"context": TLS}
        return ServerProxy(self.base(user, password) + path, allow_none=True, **kwargs)

    def confd(self, user: str = "admin", password: str = ADMIN_PASSWORD, path: str = "") -> ServerProxy:
        """A client of the ConfD face, in the documented style (credentials in the URL, TLS unverified)."""
        assert self.confd_port, "this server has no ConfD face"
        return ServerProxy(f"https://{user}:{password}@127.0.0.1:{self.confd_port}{path}", context=TLS,
                           allow_none=True)  # fmt: skip

    def kill9(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait_exit(self, timeout: float = 15) -> int:
        assert self.proc
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    kill = stop
