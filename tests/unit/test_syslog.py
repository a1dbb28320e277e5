"""Remote syslog: RFC 5424 messages the model chooses, the engine's sender over UDP, TCP and TLS
on loopback sockets; a dead server never blocks, a full queue drops and counts, a server that
comes back gets what waited."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exaop.engine.syslog import SyslogSender
from exaop.model.errors import UsageError
from exaop.model.logs import LogEntry
from exaop.model.syslog import Forwarder, Target, attach, format_5424, parse_server, stats
from tests.unit.modelkit import Sim

ENTRY = LogEntry(7, 1_700_000_000.25, "EXAoperation", "n0011", "Warning", "Node n0011 is booting \u00e4")


def until(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Wait for the sender's thread (real I/O on loopback, not simulated time)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSink:
    def __init__(self) -> None:
        self.sent: list[tuple[Target, bytes]] = []

    def send(self, target: Target, message: bytes) -> None:
        self.sent.append((target, message))

    def stats(self) -> dict[str, dict]:  # type: ignore[type-arg]
        return {}


def test_a_log_entry_as_rfc5424() -> None:
    assert format_5424(ENTRY, "cluster1") == (
        b'<132>1 2023-11-14T22:13:20.250Z n0011 EXAoperation - - [exaop@32473 cluster="cluster1" id="7" '
        b'priority="Warning"] \xef\xbb\xbfNode n0011 is booting \xc3\xa4'
    )
    other = LogEntry(8, 0.0, "exa db", "", "Error", "x")
    assert format_5424(other, "cluster1").startswith(b"<131>1 1970-01-01T00:00:00.000Z cluster1 exa_db - - ")


def test_server_addresses() -> None:
    assert parse_server("syslog.example") == ("syslog.example", 514)
    assert parse_server("10.0.0.5:1514") == ("10.0.0.5", 1514)
    assert parse_server("[::1]:601") == ("::1", 601) and parse_server("::1") == ("::1", 514)
    for bad, why in (("host:0", "the port must be from 1 to 65535"), ("a b", "is not host[:port]"),
                     ("[::1", "write [address]:port")):  # fmt: skip
        with pytest.raises(UsageError, match=re.escape(why)):
            parse_server(bad)


def test_the_model_forwards_what_each_log_service_shows() -> None:
    sim = Sim()
    c = sim.c
    sink = FakeSink()
    attach(c, sink)
    svc = c.logservices["logservice1"]
    with pytest.raises(UsageError, match="is not host"):
        svc.configure({"remote_syslog_server": "not a host"})
    svc.configure({"remote_syslog_server": "127.0.0.1:1514", "remote_syslog_protocol": "TCP", "priority": "Warning"})
    c.log("EXAoperation", "", "Notice", "not shown: below Warning")
    c.log("Storage", "n0012", "Error", "shown")
    assert [(str(t), m.split(b"\xef\xbb\xbf")[1]) for t, m in sink.sent] == [("127.0.0.1:1514/TCP", b"shown")]
    c.settings.values["remote_syslog_encrypted"] = True
    c.log("Storage", "", "Error", "again")
    assert sink.sent[-1][0] == Target("127.0.0.1", 1514, "TCP", True, "")
    assert isinstance(c.logbook.listener, Forwarder) and stats(c) == {}
    svc.remote_syslog_server = "not a host"  # as a state dir from before the check may hold it
    c.log("Storage", "", "Error", "logged all the same")
    assert c.logbook.entries[-1].message == "logged all the same" and len(sink.sent) == 2


@pytest.fixture
def sender() -> Iterator[SyslogSender]:
    s = SyslogSender(queue_size=5, backoff=(0.02, 0.1), timeout=2.0)
    yield s
    s.close()


def test_udp_messages_arrive_as_datagrams(sender: SyslogSender) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        target = Target("127.0.0.1", rx.getsockname()[1], "UDP")
        sender.send(target, b"<134>1 one")
        sender.send(target, b"<134>1 two")
        assert [rx.recv(4096), rx.recv(4096)] == [b"<134>1 one", b"<134>1 two"]
        until(lambda: sender.stats()[str(target)]["sent"] == 2, "two sent")


def read_frames(conn: socket.socket, count: int) -> list[bytes]:
    """Octet-counted frames: 'LEN SP MSG'."""
    data, frames = b"", []
    conn.settimeout(5)
    while len(frames) < count:
        while b" " not in data:
            data += conn.recv(4096)
        length, _, rest = data.partition(b" ")
        while len(rest) < int(length):
            rest += conn.recv(4096)
        frames.append(rest[: int(length)])
        data = rest[int(length) :]
    return frames


def test_tcp_waits_for_a_dead_server_without_blocking_then_delivers(sender: SyslogSender) -> None:
    port = free_port()
    target = Target("127.0.0.1", port, "TCP")
    began = time.monotonic()
    for i in range(20):
        sender.send(target, b"m%d" % i)
    assert time.monotonic() - began < 0.1  # queuing only, whatever the server does
    until(lambda: "ConnectionRefusedError" in sender.stats()[str(target)]["last_error"], "a refused connection")
    st = sender.stats()[str(target)]
    assert (st["queued"], st["dropped"], st["sent"], st["connected"]) == (5, 15, 0, False)
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        server.settimeout(5)
        conn, _ = server.accept()  # the sender connects again after its backoff
        with conn:
            assert read_frames(conn, 5) == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    until(lambda: sender.stats()[str(target)]["sent"] == 5, "five sent")


def certificate_pair(tmp_path: Path) -> tuple[str, Path, Path]:
    """A CA (PEM text) and a server certificate for 127.0.0.1 signed by it (files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test syslog CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syslog")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file


def test_tls_checks_the_server_against_the_ca(sender: SyslogSender, tmp_path: Path) -> None:
    ca, cert_file, key_file = certificate_pair(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    received: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(5)

        def serve() -> None:
            conn, _ = server.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                received.extend(read_frames(tls, 1))

        t = threading.Thread(target=serve)
        t.start()
        target = Target("127.0.0.1", server.getsockname()[1], "TCP", tls=True, ca=ca)
        sender.send(target, b"<131>1 over TLS")
        t.join(10)
    assert received == [b"<131>1 over TLS"]
    wrong = Target("127.0.0.1", free_port(), "TCP", tls=True, ca="not a certificate")
    sender.send(wrong, b"x")
    until(lambda: sender.stats()[str(wrong)]["last_error"] != "", "the refusal")
