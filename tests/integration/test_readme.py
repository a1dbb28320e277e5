"""The README's examples work when pasted (issue 8), so they cannot rot.

Every ```sh and ```python block runs, in the README's order, in one temporary directory,
sharing the environment as one shell session would (what a block exports, the next one
has), against the servers the README itself starts. ```toml and ```ini blocks are
configurations the tool must accept. A block that cannot run says so on the line before
it, with an HTML comment the reader does not see:

    <!-- readme-test: skip (why) -->    not run (``make test`` itself, a synopsis)
    <!-- readme-test: background -->    run in the background (a server): the test goes on once
                                         it prints "exaop listening on", and ends it at the end

Substitutions, in the spirit of pytest-examples: port 8443 becomes a free port (a machine
may use 8443 already), and so does the ConfD face's 20003 (an ``exaop serve`` without
``--confd-port`` is given that free port), ``--speed 60`` becomes ``--speed 600`` (the
tool's real-clock waits then take seconds, not minutes), and ``.venv/`` is the environment
running the tests. The
session starts without ``exaop`` on its PATH, as a fresh shell would.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from exaop.ops.config import build_options, load_file

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DIRECTIVE = re.compile(r"^<!-- readme-test: (skip|background)\b.*-->$")


@dataclass
class Block:
    lang: str
    code: str
    line: int  # where it starts in the README, for messages
    directive: str = ""


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        d = DIRECTIVE.match(before.strip())
        out.append(Block(m.group(1), "\n".join(lines[i + 1 : end]) + "\n", i + 1, d.group(1) if d else ""))
        i = end + 1
    return out


def test_the_readme_marks_what_it_does_not_run() -> None:
    found = blocks(README.read_text())
    runnable = [b for b in found if b.lang in ("sh", "python")]
    assert len(runnable) >= 6
    assert all(b.lang in ("sh", "python", "toml", "ini", "") for b in found), [b.lang for b in found]
    skipped = [b for b in runnable if b.directive == "skip"]
    assert all("make " in b.code or "[" in b.code for b in skipped), skipped  # only make itself and synopses
    assert any(b.directive == "background" for b in runnable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Session:
    """One shell session: a working directory and an environment that blocks pass on."""

    def __init__(self, work: Path, port: int) -> None:
        self.work = work
        self.port = port
        self.confd_port = free_port()
        venv_bin = str(Path(sys.executable).parent)
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != Path(venv_bin)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("EXAOP_", "VIRTUAL_ENV"))}
        self.env.update(PATH=os.pathsep.join(path), HOME=str(work), COLUMNS="120", PYTHONUNBUFFERED="1")
        self.servers: list[subprocess.Popen[str]] = []
        self.server_output: list[list[str]] = []

    def substitute(self, code: str) -> str:
        code = code.replace("8443", str(self.port)).replace("--speed 60", "--speed 600")
        code = code.replace("20003", str(self.confd_port))
        if "--confd-port" not in code:
            code = code.replace("exaop serve ", f"exaop serve --confd-port {self.confd_port} ")
        return code.replace(".venv/", f"{sys.prefix}/")

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        code = self.substitute(block.code)
        if block.lang == "python":
            return subprocess.run([sys.executable, "-c", code], cwd=self.work, env=self.env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
        envfile = self.work / ".readme-env"
        script = f"set -e\n{code}\nenv -0 > {envfile}\n"
        done = subprocess.run(["bash", "-c", script], cwd=self.work, env=self.env, capture_output=True, text=True,
                              timeout=180)  # fmt: skip
        if done.returncode == 0:
            pairs = [item.split("=", 1) for item in envfile.read_text().split("\0") if "=" in item]
            self.env = {k: v for k, v in pairs if k not in ("_", "SHLVL", "PWD", "OLDPWD")}
        return done

    def background(self, block: Block) -> None:
        for earlier in self.servers:  # the README starts a server again only once the last one has ended
            with contextlib.suppress(subprocess.TimeoutExpired):
                earlier.wait(15)
            assert earlier.poll() is not None, f"README line {block.line}: the server started before still runs"
        proc = subprocess.Popen(["bash", "-c", self.substitute(block.code)], cwd=self.work, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
        output: list[str] = []
        listening = threading.Event()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                output.append(line)
                if line.startswith("exaop listening on "):
                    listening.set()
            listening.set()

        threading.Thread(target=pump, daemon=True).start()
        self.servers.append(proc)
        self.server_output.append(output)
        assert listening.wait(60) and proc.poll() is None, f"README line {block.line}: {''.join(output)}"

    def end(self) -> None:
        for proc in self.servers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)


def check_config(block: Block, work: Path) -> None:
    path = work / ("startstop.cfg" if block.lang == "ini" else "exaop.toml.example")
    path.write_text(block.code)
    settings = load_file(path)
    assert settings.get("ca_file") == "/etc/exaop/ca.pem"
    opts = build_options({**settings, "ca_file": None}, {}, env={})  # the example's CA file is not here
    assert opts.url == "https://license-server/cluster1" and opts.user == "admin"


def test_the_readmes_examples_run_as_written(tmp_path: Path) -> None:
    session = Session(tmp_path, free_port())
    ran = []
    try:
        for block in blocks(README.read_text()):
            if block.directive == "skip" or block.lang not in ("sh", "python", "toml", "ini"):
                continue
            if block.lang in ("toml", "ini"):
                check_config(block, tmp_path)
                continue
            if block.directive == "background":
                session.background(block)
                continue
            done = session.run(block)
            where = f"README line {block.line}:\n{block.code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            assert done.returncode == 0, where
            assert "Traceback" not in done.stdout + done.stderr, where
            ran.append((block, done))
        # the Quick start's stop ended its server, as the README says; the second one still ran
        first, second = session.servers
        assert first.wait(15) == 0, "".join(session.server_output[0])
        assert any("EXAoperation halted" in line for line in session.server_output[0])
        assert second.poll() is None
    finally:
        session.end()
    outputs = "".join(done.stdout for _, done in ran)
    assert "exaop 0." in outputs  # exaop --version, once the venv is activated
    assert "exit code 9" in outputs  # the status before the start: down
    assert '"kind": "done"' in outputs and '"exit_code": 0' in outputs  # tail -1 events.jsonl
    assert "done  start finished: the cluster is up" in outputs  # the Python API example's last event
    assert "'result_output': 'running'" in outputs and "'result_revision'" in outputs  # the ConfD example


def test_a_fresh_shell_has_no_exaop_until_the_venv_is_activated(tmp_path: Path) -> None:
    session = Session(tmp_path, free_port())
    done = session.run(Block("sh", "command -v exaop || echo missing\n", 0))
    assert done.stdout.strip() == "missing"  # so the README's activation step is what makes the rest work
