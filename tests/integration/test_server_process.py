"""`exaop serve` as a process: crashes and restarts, signals, passwords, TLS, profiles,
halting, the EXAoperation restart window and a hostile wire.

Every server here is a real subprocess (tests/serverproc.py) on a manual clock: simulated
time moves only through /cluster1/simulation.advanceClock, so no test sleeps to wait for a
state. Where a call blocks until a state settles (startEXAStorage), it runs in a thread
while the test advances the clock.
"""

from __future__ import annotations

import base64
import http.client
import signal
import socket
import ssl
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xmlrpc.client import Fault, ProtocolError, ServerProxy

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from exaop.engine.profile import ProfileError, load_profile
from exaop.tls import ensure_self_signed
from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess

NODES = ["n0011", "n0012", "n0013", "n0014"]
BOOT = 300  # above the default profile's node_boot of 240 +- 30
STORAGE_START = 45  # the default profile's storage_start (no jitter)
DB_START = 120  # above database_start 100 +- 10 plus database_connect 5


# -- helpers ---------------------------------------------------------------------------------


def until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll the server (no sleeping) until ``predicate`` holds; for states that other
    threads' calls bring about, never for simulated time, which only advanceClock moves."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")


def advance(srv: ServerProcess, seconds: float, cluster: str = "cluster1") -> dict[str, Any]:
    return srv.proxy(f"/{cluster}/simulation").advanceClock(seconds)


def sim_now(srv: ServerProcess) -> float:
    return srv.proxy("/cluster1/simulation").getClock()["now"]


def boot(srv: ServerProcess, nodes: list[str] = NODES, seconds: float = BOOT) -> None:
    c = srv.proxy()
    for n in nodes:
        assert c.startupNode(n) == "OK"
    advance(srv, seconds)
    for n in nodes:
        assert c.getNodeState(n)["status"] == "Running", n


def storage_state(srv: ServerProcess) -> str:
    return srv.proxy("/cluster1/storage").getStorageInfo()["state"]


def begin_storage_start(srv: ServerProcess, pool: ThreadPoolExecutor) -> Future[str]:
    """Call the blocking startEXAStorage() in a thread; return once storage is starting."""
    fut = pool.submit(lambda: srv.proxy("/cluster1/storage").startEXAStorage())
    until(lambda: fut.done() or storage_state(srv) == "starting", "EXAStorage to start")
    if fut.done():
        fut.result()  # a fault: raise it here
    return fut


def start_storage(srv: ServerProcess, seconds: float = STORAGE_START + 1) -> None:
    with ThreadPoolExecutor(1) as pool:
        fut = begin_storage_start(srv, pool)
        advance(srv, seconds)
        assert fut.result(timeout=10) == "OK"


def stop_storage(srv: ServerProcess, seconds: float = 20) -> None:
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: srv.proxy("/cluster1/storage").stopEXAStorage())
        until(lambda: fut.done() or storage_state(srv) == "stopping", "EXAStorage to stop")
        advance(srv, seconds)
        assert fut.result(timeout=10) == "OK"


def services(srv: ServerProcess) -> dict[str, str]:
    return dict(srv.proxy().getServiceState())


def lines(srv: ServerProcess, prefix: str) -> list[str]:
    return [line for line in srv.output if line.startswith(prefix)]


# -- 1, 2: kill -9 in the middle of a transition, then a restart ---------------------------------


def test_restart_after_kill9_during_storage_start(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    boot(srv)
    with ThreadPoolExecutor(1) as pool:
        fut = begin_storage_start(srv, pool)
        advance(srv, 20)
        before = sim_now(srv)
        srv.kill9()
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            fut.result(timeout=10)  # the blocked call loses its server, it does not hang

    srv = server_factory(state_dir=srv.state_dir)
    assert sim_now(srv) == pytest.approx(before, abs=1e-3)  # a manual clock stood still while down
    assert storage_state(srv) == "starting"
    assert services(srv)["Storaged"] == "not running"
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is False
    c = srv.proxy()
    for n in NODES:  # the simulated machines kept their power through the crash
        state = c.getNodeState(n)
        assert (state["status"], state["power"]) == ("Running", "on"), n

    advance(srv, STORAGE_START - 20 - 1)
    assert storage_state(srv) == "starting"  # the deadline kept its place on the clock
    advance(srv, 2)
    assert storage_state(srv) == "online"
    assert services(srv) == {"Loggingd": "OK", "Lockd": "OK", "Storaged": "OK", "DWAd": "OK"}
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is True
    assert all(c.getNodeState(n)["status"] == "Running" for n in NODES)


def test_restart_after_kill9_during_database_start(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    boot(srv)
    start_storage(srv)
    db = srv.proxy("/cluster1/db_exa_db1")
    assert db.startDatabase() == "OK"
    advance(srv, 30)
    assert (db.getDatabaseState(), db.getDatabaseOperation()) == ("starting", "Startup")
    srv.kill9()

    srv = server_factory(state_dir=srv.state_dir)
    db = srv.proxy("/cluster1/db_exa_db1")
    assert db.getDatabaseState() == "starting"
    assert db.getDatabaseOperation() == "Startup"
    assert db.getDatabaseConnectionState() == "No"
    assert storage_state(srv) == "online"
    with pytest.raises(Fault, match="already starting"):
        db.startDatabase()

    advance(srv, DB_START)
    assert db.getDatabaseState() == "running"
    assert db.getDatabaseOperation() == "None"
    assert db.getDatabaseConnectionState() == "Yes"
    assert db.getDatabaseInfo()["connectible"] == "Yes"
    entries = srv.proxy("/cluster1/logservice1").logEntries()[2]
    assert any("exa_db1 is accepting connections" in e["message"] for e in entries)


# -- 3: signals, the listening line, the admin password (more in test_admin_password.py) --------------


def serve_cmd(state_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "exaop.cli", "serve", "--host", "127.0.0.1", "--port", "0",
            "--state-dir", str(state_dir), "--speed", "0", "--confd-port", "0", *args]  # fmt: skip


def run_serve(state_dir: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`exaop serve` that is expected to refuse to start."""
    return subprocess.run(serve_cmd(state_dir, *args), capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly_and_keeps_state(server_factory, sig: signal.Signals) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    assert len(lines(srv, "exaop listening on ")) == 1
    assert srv.url.startswith("https://127.0.0.1:") and srv.url.endswith("/cluster1")
    c = srv.proxy()
    assert c.startupNode("n0011") == "OK"
    advance(srv, 7)  # nothing falls due: only the time moves
    before = sim_now(srv)
    srv.proc.send_signal(sig)
    assert srv.wait_exit() == 0
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in srv.output), srv.output

    srv = server_factory(state_dir=srv.state_dir)
    assert len(lines(srv, "exaop listening on ")) == 1
    assert srv.proxy().getNodeState("n0011")["status"] == "Booting"
    assert sim_now(srv) == pytest.approx(before, abs=1e-3)


def test_stop_answers_a_call_that_waits_for_a_state(server_factory) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM while startEXAStorage waits on a manual clock: the call gets a fault at once
    (not a 500 after uvicorn's graceful timeout), and the start goes on after the restart."""
    srv = server_factory()
    boot(srv)
    with ThreadPoolExecutor(1) as pool:
        fut = begin_storage_start(srv, pool)
        srv.stop()
        assert srv.proc.returncode == 0
        # uvicorn alone would wait 3 s, then cancel the call: HTTP 500 and a traceback
        with pytest.raises(Fault, match="Unavailable: EXAoperation is shutting down"):
            fut.result(timeout=10)
    problems = [x for x in srv.output if any(w in x for w in ("Traceback", " ERROR ", " WARNING ", "500"))]
    assert not problems, srv.output  # no error, no traceback

    srv = server_factory(state_dir=srv.state_dir)
    assert storage_state(srv) == "starting"
    start = srv.proxy("/cluster1/simulation").getClock()
    advance(srv, STORAGE_START)
    assert storage_state(srv) == "online"
    assert start["next_deadline"] > start["now"]


def test_generated_admin_password_printed_once(server_factory) -> None:  # type: ignore[no-untyped-def]
    no_password = {"admin_password": None, "env": {"EXAOP_ADMIN_PASSWORD": None}}
    srv = server_factory(**no_password)
    printed = lines(srv, "exaop serve: generated password for user admin: ")
    assert len(printed) == 1
    password = printed[0].rsplit(" ", 1)[1]
    assert len(password) >= 12
    assert srv.proxy(password=password).getNodeList() == NODES
    with pytest.raises(ProtocolError) as e:
        srv.proxy(password=ADMIN_PASSWORD).getNodeList()
    assert e.value.errcode == 401
    srv.stop()
    assert srv.wait_exit() == 0

    srv = server_factory(state_dir=srv.state_dir, **no_password)
    assert not any("password" in line for line in srv.output), srv.output
    assert srv.proxy(password=password).getNodeList() == NODES


def test_too_short_admin_password_is_refused(tmp_path: Path) -> None:
    done = run_serve(tmp_path / "state", "--admin-password", "abc")
    assert done.returncode == 2, done.stderr
    assert "at least 4 characters" in done.stderr
    assert "Traceback" not in done.stderr


# -- 4: TLS ------------------------------------------------------------------------------------------


def der_fingerprint(pem: str | bytes) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    return cert.fingerprint(hashes.SHA256()).hex()


def verifying(cafile: Path) -> ssl.SSLContext:
    """A client that trusts ``cafile``, with the strict X.509 checks of newer Pythons."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def handshake(ctx: ssl.SSLContext, port: int, name: str) -> bytes:
    """TLS to 127.0.0.1:port asking for ``name`` (no resolver involved); the server's certificate."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        return tls.getpeercert(binary_form=True) or b""


def test_default_tls_certificate_from_a_local_ca(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    tls_dir = srv.state_dir / "tls"
    ca_file, chain_file, key_file = tls_dir / "ca.pem", tls_dir / "cert.pem", tls_dir / "key.pem"
    leaf, ca = x509.load_pem_x509_certificates(chain_file.read_bytes())
    assert x509.load_pem_x509_certificates(ca_file.read_bytes()) == [ca]
    assert leaf.issuer == ca.subject and not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert key_file.stat().st_mode & 0o077 == 0  # the private key is for the owner only
    served = ssl.get_server_certificate(("127.0.0.1", srv.port))
    assert der_fingerprint(served) == der_fingerprint(chain_file.read_bytes())  # the leaf (first in the file)
    # a client that trusts the CA verifies the server by address and by name, strict checks included;
    # so does one told, as the README used to say, to trust cert.pem (it holds the CA too)
    for cafile in (ca_file, chain_file):
        for name in ("127.0.0.1", "localhost"):
            assert handshake(verifying(cafile), srv.port, name) == leaf.public_bytes(Encoding.DER), (cafile, name)
    url = f"https://admin:{ADMIN_PASSWORD}@127.0.0.1:{srv.port}/cluster1"
    assert ServerProxy(url, context=verifying(ca_file)).getNodeList() == NODES
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(verifying(ca_file), srv.port, "not-this-server.example")
    srv.stop()
    # the next start keeps the certificate clients may have pinned
    srv = server_factory(state_dir=srv.state_dir)
    assert der_fingerprint(ssl.get_server_certificate(("127.0.0.1", srv.port))) == der_fingerprint(
        chain_file.read_bytes()
    )
    assert der_fingerprint(chain_file.read_bytes()) == leaf.fingerprint(hashes.SHA256()).hex()


def test_cert_and_key_options(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert_file, key_file = ensure_self_signed(tmp_path / "mine", "localhost")
    srv = server_factory(extra=["--cert", str(cert_file), "--key", str(key_file)])
    served = ssl.get_server_certificate(("127.0.0.1", srv.port))
    assert der_fingerprint(served) == der_fingerprint(cert_file.read_bytes())
    assert not (srv.state_dir / "tls").exists()
    assert srv.proxy().getNodeList() == NODES


def test_cert_and_key_refusals(tmp_path: Path) -> None:
    cert_file, key_file = ensure_self_signed(tmp_path / "mine", "localhost")
    cases = {
        "--cert alone": (["--cert", str(cert_file)], "--cert and --key go together"),
        "missing file": (["--cert", str(tmp_path / "nope.pem"), "--key", str(key_file)], "nope.pem"),
        "key for cert": (["--cert", str(key_file), "--key", str(key_file)], "--cert"),
    }
    procs = {name: subprocess.Popen(serve_cmd(tmp_path / name.replace(" ", "_"), "--admin-password", "secret",
                                              *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, (args, _) in cases.items()}  # fmt: skip
    for name, (_, expected) in cases.items():
        out, err = procs[name].communicate(timeout=30)
        assert procs[name].returncode == 2, (name, out, err)
        assert expected in err, (name, err)
        assert "Traceback" not in err, (name, err)


def test_plain_http(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=True)
    assert srv.url.startswith("http://127.0.0.1:")
    assert srv.proxy().getNodeList() == NODES
    assert not (srv.state_dir / "tls").exists()
    with pytest.raises(ssl.SSLError):
        ssl.get_server_certificate(("127.0.0.1", srv.port), timeout=5)


def test_certificate_for_every_address_names_the_machine(tmp_path: Path) -> None:
    """--host 0.0.0.0: clients reach the server by the machine's name, so the certificate names it."""
    cert_file, _ = ensure_self_signed(tmp_path / "tls", "0.0.0.0")
    san = x509.load_pem_x509_certificate(cert_file.read_bytes()).extensions
    dns = san.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert socket.gethostname() in dns and "localhost" in dns
    assert "0.0.0.0" not in str(san)


# -- 5: --profile ------------------------------------------------------------------------------------

SMALL_PROFILE = """
[cluster]
name = "lab"
description = "two database nodes"
exaoperation_nodes = ["n0010", "n0021"]

[durations]
node_boot = 12
node_shutdown = 3
storage_start = 4
storage_stop = 2
database_start = 6
database_connect = 1
database_stop = 3

[nodes]
count = 2
first = 21

[[volumes]]
id = "v0000"
type = "Data"
size_gib = 64
nodes = ["n0021", "n0022"]

[[databases]]
name = "sales"
port = 8563
nodes = ["n0021", "n0022"]
volume = "v0000"

[[databases]]
name = "hr"
port = 8564
nodes = ["n0022", "n0021"]
active = 1
volume = "v0000"
created = false
"""


def test_profile_builds_that_cluster(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile = tmp_path / "lab.toml"
    profile.write_text(SMALL_PROFILE)
    srv = server_factory(extra=["--profile", str(profile)])
    assert srv.url.endswith("/lab")
    c = srv.proxy("/lab")
    assert c.getNodeList() == ["n0021", "n0022"]
    assert c.getEXAoperationNodes() == ["n0010", "n0021"]
    assert c.getDatabaseList() == ["hr", "sales"]
    assert c.getPlugins() == [] and c.havePlugins() is False
    assert c.clusterDesc() == "two database nodes"
    assert srv.proxy("/lab/db_sales").getDatabaseState() == "setup"
    assert srv.proxy("/lab/db_hr").getDatabaseState() == "none"
    with pytest.raises(Fault, match="Unexpected Zope exception: NotFound: Object"):
        srv.proxy("/cluster1").getNodeList()

    # the profile's durations, not the default ones
    for n in ("n0021", "n0022"):
        c.startupNode(n)
    advance(srv, 11, "lab")
    assert c.getNodeState("n0021")["status"] == "Booting"
    advance(srv, 1, "lab")
    assert [c.getNodeState(n)["status"] for n in ("n0021", "n0022")] == ["Running", "Running"]
    # no [hardware] table: the built-in hardware description applies
    assert "dmidecode" in c.getHardwareInformation("n0021")
    assert srv.proxy("/lab/n0022").getNodeInfo()["cores"] > 0
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(lambda: srv.proxy("/lab/storage").startEXAStorage())
        until(lambda: fut.done() or srv.proxy("/lab/storage").getStorageInfo()["state"] == "starting", "storage")
        advance(srv, 4, "lab")
        assert fut.result(timeout=10) == "OK"
    sales = srv.proxy("/lab/db_sales")
    sales.startDatabase()
    advance(srv, 7, "lab")
    assert (sales.getDatabaseState(), sales.getDatabaseConnectionState()) == ("running", "Yes")
    assert sales.getDatabaseConnectionString() == "10.50.1.21..22:8563"
    srv.stop()

    # the state dir now holds the cluster: another profile is ignored, and said so
    other = tmp_path / "other.toml"
    other.write_text("[nodes]\ncount = 1\nfirst = 31\n")
    srv = server_factory(state_dir=srv.state_dir, extra=["--profile", str(other)])
    assert any("--profile is ignored" in line for line in srv.output)
    assert srv.url.endswith("/lab")
    assert srv.proxy("/lab").getNodeList() == ["n0021", "n0022"]


BAD_PROFILES = {
    "not TOML": ("[cluster\nname = 1", "not valid TOML"),
    "unknown duration": ("[durations]\nboot = 5\n", "unknown key(s) boot"),
    "negative duration": ("[durations]\nnode_boot = -1\n", "durations.node_boot"),
    "durations not a table": ("durations = 5\n", "[durations] must be a table"),
    "reserved node number": ("[nodes]\nfirst = 5\n", "nodes.first"),
    "bad license server name": ('[[license_servers]]\nname = "ls1"\n', "n + four digits"),
    "database on unknown node": ('[[databases]]\nname = "a"\nnodes = ["n0099"]\n', "unknown node n0099"),
    "bad dialect": ('[cluster]\ndialect = "5.0"\n', "cluster.dialect"),
    "misspelt table": ('[clustre]\nname = "x"\n', "clustre"),
    "duplicate database": ('[[databases]]\nname = "a"\n[[databases]]\nname = "a"\nport = 8564\n',
                           "databases: a appears twice"),
    "duplicate port": ('[[databases]]\nname = "a"\n[[databases]]\nname = "b"\n', "port 8563"),
    "bad database name": ('[[databases]]\nname = "a b"\n', "databases.name 'a b'"),
    "more active than nodes": ('[[databases]]\nname = "a"\nnodes = ["n0011"]\nactive = 2\n', "databases.a.active"),
    "database on license server": ('[[databases]]\nname = "a"\nnodes = ["n0010"]\n', "license server"),
    "database on archive volume": (
        '[[volumes]]\nid = "v0001"\ntype = "Archive"\n[[databases]]\nname = "a"\nvolume = "v0001"\n',
        "not a Data volume",
    ),
    "plugin without name": ('[[plugins]]\ndaemon = "x"\n', "plugins.name"),
    "bad network": ('[cluster]\nprivate_network = "nope"\n', "cluster.private_network"),
    "bad log priority": ('[[logservices]]\nname = "l"\npriority = "Loud"\n', "logservices.l.priority"),
}  # fmt: skip


# through the command line (the rest are checked in-process: the same code, no interpreter start)
BAD_PROFILES_VIA_CLI = ("not TOML", "misspelt table", "duplicate database", "plugin without name", "bad network")


def test_invalid_profiles_are_refused(tmp_path: Path) -> None:
    problems = []
    for i, (name, (text, expected)) in enumerate(BAD_PROFILES.items()):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(text)
        try:
            load_profile(path)
            problems.append(f"{name}: accepted")
        except ProfileError as e:
            if expected not in str(e):
                problems.append(f"{name}: wanted {expected!r} in: {e}")
    assert not problems, "\n".join(problems)


def test_invalid_profile_exits_2_with_a_clear_error(tmp_path: Path) -> None:
    procs = {}
    for i, name in enumerate(BAD_PROFILES_VIA_CLI):
        path = tmp_path / f"bad{i}.toml"
        path.write_text(BAD_PROFILES[name][0])
        cmd = serve_cmd(tmp_path / f"state{i}", "--admin-password", "secret", "--profile", str(path), "--http")
        procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    missing = run_serve(tmp_path / "state-missing", "--profile", str(tmp_path / "nope.toml"))
    problems = []
    for i, name in enumerate(BAD_PROFILES_VIA_CLI):
        expected = BAD_PROFILES[name][1]
        try:
            out, err = procs[name].communicate(timeout=20)
        except subprocess.TimeoutExpired:  # accepted: it serves
            procs[name].kill()
            out, err = procs[name].communicate()
        if procs[name].returncode != 2 or expected not in err or "Traceback" in err or "listening" in out:
            problems.append(f"{name}: exit {procs[name].returncode}, wanted {expected!r} in: {err.strip()}")
        elif not err.startswith("exaop serve: "):
            problems.append(f"{name}: unexpected output: {err.strip()}")
        elif (tmp_path / f"state{i}" / "exaop.sqlite").exists():
            problems.append(f"{name}: a state dir was written")
    if missing.returncode != 2 or "cannot read profile" not in missing.stderr:
        problems.append(f"missing file: exit {missing.returncode}: {missing.stderr.strip()}")
    assert not problems, "\n".join(problems)


def test_dialect_42_has_no_getexaoperationmaster(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    profile = tmp_path / "old.toml"
    profile.write_text('[cluster]\ndialect = "4.2"\n')
    srv = server_factory(extra=["--profile", str(profile)])
    c = srv.proxy()
    methods = c.listMethods()
    assert "getCurrentLicenseServer" in methods
    assert "getEXAoperationMaster" not in methods
    assert c.getCurrentLicenseServer() == 10
    with pytest.raises(Fault, match="Unexpected Zope exception: NotFound: Object"):
        c.getEXAoperationMaster()
    with pytest.raises(Fault, match="Unexpected Zope exception: NotFound: Object"):
        c.methodHelp("getEXAoperationMaster")


# -- 6: halting the license server ends the process ------------------------------------------------


def test_shutdown_of_license_server_ends_the_process(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    c = srv.proxy()
    boot(srv, ["n0011", "n0012"])
    c.startupNode("n0013")
    advance(srv, 10)  # n0013 is still booting, n0014 stays off
    assert c.shutdownNode("n0010") == "OK"  # answered first...
    assert srv.wait_exit() == 0  # ...then EXAoperation ends with its node
    halted = lines(srv, "exaop serve: EXAoperation halted: ")
    assert len(halted) == 1 and "n0010" in halted[0], srv.output

    srv = server_factory(state_dir=srv.state_dir)  # the license server is switched on again
    c = srv.proxy()
    assert c.getNodeState("n0010")["status"] == "Running"
    assert c.getEXAoperationMaster() == "n0010"
    states = {n: c.getNodeState(n)["status"] for n in NODES}
    assert states == {"n0011": "Running", "n0012": "Running", "n0013": "Booting", "n0014": "Powered off"}
    advance(srv, BOOT)
    assert c.getNodeState("n0013")["status"] == "Running"  # its boot went on
    assert c.getNodeState("n0010")["status"] == "Running"  # the old shutdown does not come back


def test_halt_refused_while_storage_or_database_runs(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    c = srv.proxy()
    boot(srv)
    start_storage(srv)
    db = srv.proxy("/cluster1/db_exa_db1")
    db.startDatabase()
    advance(srv, DB_START)
    for call in (lambda: c.haltLicenseServer(), lambda: c.haltLicenseServer("n0010"),
                 lambda: c.shutdownNode("n0010"), lambda: srv.proxy("/cluster1/n0010").shutdownNode()):  # fmt: skip
        with pytest.raises(Fault, match="UsageError: .*stop the databases and EXAStorage first"):
            call()
    db.shutdownDatabase()
    advance(srv, 60)
    assert db.getDatabaseState() == "setup"
    with pytest.raises(Fault, match="EXAStorage"):
        c.haltLicenseServer()
    assert srv.proc.poll() is None
    assert c.getNodeState("n0010")["status"] == "Running"

    stop_storage(srv)
    assert c.haltLicenseServer() == "OK"
    assert srv.wait_exit() == 0
    assert len(lines(srv, "exaop serve: EXAoperation halted: ")) == 1

    srv = server_factory(state_dir=srv.state_dir)
    c = srv.proxy()
    assert c.getNodeState("n0010")["status"] == "Running"
    assert all(c.getNodeState(n)["status"] == "Running" for n in NODES)  # as they were left
    assert storage_state(srv) == "stopped"
    assert srv.proxy("/cluster1/db_exa_db1").getDatabaseState() == "setup"


# -- 7: restartEXAoperation: the window in which EXAoperation does not answer -------------------------


def test_restart_exaoperation_moves_the_master(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    c = srv.proxy()
    boot(srv, ["n0011", "n0013"])
    assert "n0011" in c.getEXAoperationNodes()
    with pytest.raises(Fault, match="UsageError: EXAoperation cannot move to n0012: the node is powered off"):
        c.restartEXAoperation("n0012")
    with pytest.raises(Fault, match="UsageError: EXAoperation cannot run on n0013"):
        c.restartEXAoperation("n0013")
    with pytest.raises(Fault, match="NotFound"):
        c.restartEXAoperation("n0099")

    assert c.restartEXAoperation("n0011") == "OK"
    for call in (c.getNodeList, srv.proxy("/cluster1/db_exa_db1").getDatabaseState, c.getEXAoperationMaster):
        with pytest.raises(ProtocolError) as e:
            call()
        assert e.value.errcode == 503
        assert e.value.headers.get("retry-after")
    # The simulation controls are the simulated world, not EXAoperation: they answer in the
    # window, or nothing could ever end it on a manual clock. Dotted names reach them too.
    clock = srv.proxy("/cluster1/simulation").getClock()
    assert 0 < clock["next_deadline"] - clock["now"] <= 20  # the profile's exaoperation_restart
    assert c.simulation.getClock()["now"] == clock["now"]
    with pytest.raises(Fault, match="NotFound"):  # the simulation has no cluster methods
        c.simulation.getNodeList()
    with pytest.raises(ProtocolError) as e:  # and credentials still count
        srv.proxy("/cluster1/simulation", password="wrong").getClock()
    assert e.value.errcode == 401
    advance(srv, 19)
    with pytest.raises(ProtocolError):
        c.getNodeList()
    advance(srv, 1)

    assert c.getEXAoperationMaster() == "n0011"
    assert c.getCurrentLicenseServer() == 11
    with pytest.raises(Fault, match="runs the EXAoperation master"):
        c.shutdownNode("n0011")
    # n0010 no longer carries EXAoperation: shutting it down leaves the server running
    assert c.shutdownNode("n0010") == "OK"
    advance(srv, 60)
    assert c.getNodeState("n0010")["status"] == "Powered off"
    assert srv.proc.poll() is None
    assert c.getEXAoperationMaster() == "n0011"


def test_kill9_during_exaoperation_restart_comes_back_answering(server_factory) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory()
    boot(srv, ["n0011"])
    assert srv.proxy().restartEXAoperation("n0011") == "OK"
    with pytest.raises(ProtocolError):
        srv.proxy().getNodeList()
    srv.kill9()

    # Starting again is EXAoperation starting: it answers at once, on the node it was asked
    # to move to (the crash cut the restart short, it did not undo it).
    srv = server_factory(state_dir=srv.state_dir)
    c = srv.proxy()
    assert c.getNodeList() == NODES
    assert c.getEXAoperationMaster() == "n0011"
    advance(srv, 30)  # and the interrupted restart does not end a second time
    assert c.getEXAoperationMaster() == "n0011"
    messages = [e["message"] for e in srv.proxy("/cluster1/logservice1").logEntries()[2]]
    assert messages[-1] == "EXAoperation started on n0011"
    assert c.getNodeState("n0010")["status"] == "Running"


# -- 8: a hostile wire ---------------------------------------------------------------------------------

CALL = b"<?xml version='1.0'?><methodCall><methodName>getDatabaseList</methodName><params></params></methodCall>"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>&lol9;</methodName><params></params></methodCall>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>&xxe;</methodName></methodCall>"""


class Wire:
    """Raw HTTP(S) requests to a server, with the admin's credentials unless told otherwise."""

    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def connect(self) -> http.client.HTTPConnection:
        if self.srv.http:
            return http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        return http.client.HTTPSConnection("127.0.0.1", self.srv.port, timeout=10, context=TLS)

    def request(
        self, method: str, body: bytes | None = None, headers: dict[str, str] | None = None, auth: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connect()
        try:
            all_headers = {**(self.auth if auth else {}), **(headers or {})}
            chunked = all_headers.get("Transfer-Encoding") == "chunked"
            conn.request(method, "/cluster1", body=body, headers=all_headers, encode_chunked=chunked)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def fault(self, body: bytes) -> str:
        status, _, data = self.request("POST", body, {"Content-Type": "text/xml"})
        assert status == 200, (status, data)
        with pytest.raises(Fault) as e:
            xmlrpc.client.loads(data)
        return e.value.faultString

    def works(self) -> None:
        status, _, data = self.request("POST", CALL, {"Content-Type": "text/xml"})
        assert status == 200 and xmlrpc.client.loads(data)[0] == (["exa_db1"],), (status, data)


@pytest.mark.parametrize("http", [False, True], ids=["https", "http"])
def test_hostile_requests_get_clear_answers(server_factory, http: bool) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(http=http)
    wire = Wire(srv)
    wire.works()

    status, headers, _ = wire.request("GET")
    assert status == 405 and headers["allow"] == "POST"
    status, headers, _ = wire.request("POST", CALL, auth=False)
    assert status == 401 and "basic" in headers["www-authenticate"].lower()

    too_big = b"<methodCall>" + b" " * (1 << 20) + b"</methodCall>"
    status, _, _ = wire.request("POST", too_big, {"Content-Type": "text/xml"})
    assert status == 413
    chunks = iter([too_big[i : i + 65536] for i in range(0, len(too_big), 65536)])
    status, _, _ = wire.request("POST", chunks, {"Content-Type": "text/xml", "Transfer-Encoding": "chunked"})  # type: ignore[arg-type]
    assert status == 413  # no Content-Length to refuse early: counted while reading
    wire.works()

    assert wire.fault(b"this is not XML").startswith("BadRequest: ")
    assert wire.fault(b"").startswith("BadRequest: ")
    assert wire.fault(b"<methodResponse><params/></methodResponse>").startswith("BadRequest: ")
    t0 = time.monotonic()
    assert wire.fault(BILLION_LAUGHS).startswith("BadRequest: ")
    assert time.monotonic() - t0 < 5  # refused, not expanded
    assert "root:" not in wire.fault(EXTERNAL_ENTITY)
    assert wire.fault(EXTERNAL_ENTITY).startswith("BadRequest: ")
    wire.works()
    assert srv.proc.poll() is None
    assert not any("Traceback" in line for line in srv.output), srv.output


def test_a_busy_port_is_said_plainly_and_leaves_no_new_state_dir(server: ServerProcess, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh-state"
    r = subprocess.run(
        [sys.executable, "-m", "exaop.cli", "serve", "--port", str(server.port), "--state-dir", str(fresh),
         "--admin-password", ADMIN_PASSWORD, "--confd-port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{server.port}" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not fresh.exists()
