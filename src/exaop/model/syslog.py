"""Remote syslog: which new log entries go to which server, written as RFC 5424 messages.

Each log service with a ``remote_syslog_server`` ("host", "host:port", "[v6]:port"; port
514 by default) forwards every new entry it shows, over its ``remote_syslog_protocol``
(UDP or TCP). With the cluster's ``remote_syslog_encrypted`` a TCP service sends over TLS,
checking the server against ``remote_syslog_ca_cert`` (or the system's CAs); UDP is never
encrypted. The model decides *what* to send (:class:`Forwarder`); a :class:`LogSink` (the
engine's sender) sends it without ever making the model wait.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from exaop.model.errors import UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.logs import LogEntry

DEFAULT_PORT = 514
FACILITY = 16  # local0
SEVERITY = {"Error": 3, "Warning": 4, "Notice": 5, "Information": 6}
ENTERPRISE = 32473  # the private enterprise number set aside for examples (RFC 5612)
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_NAME = re.compile(r"[^!-~]")  # RFC 5424 names are printable US-ASCII without spaces


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    protocol: str  # 'UDP' or 'TCP'
    tls: bool = False
    ca: str = ""  # PEM CA certificate(s) to check a TLS server against ('' : the system's)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}/{self.protocol}{'+TLS' if self.tls else ''}"


class LogSink(Protocol):
    def send(self, target: Target, message: bytes) -> None:
        """Queue one message for ``target``; returns at once (a full queue drops and counts it)."""
        ...

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per target (``str(target)``): sent, dropped, queued, connected, last_error."""
        ...


def parse_server(text: str) -> tuple[str, int]:
    """'host', 'host:port', '[v6 address]:port' or a bare v6 address -> (host, port)."""
    text = text.strip()
    host, port = text, str(DEFAULT_PORT)
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise UsageError(f"remote_syslog_server {text!r}: write [address]:port for an IPv6 address")
        port = rest[1:] or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"remote_syslog_server {text!r}: the port must be from 1 to 65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            raise UsageError(f"remote_syslog_server {text!r} is not host[:port] (default port {DEFAULT_PORT})") \
                from None  # fmt: skip
    return host, int(port)


def _name(text: str, limit: int) -> str:
    return _NAME.sub("_", text)[:limit] or "-"


def _param(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def format_5424(entry: LogEntry, cluster: str) -> bytes:
    """One entry as an RFC 5424 message: facility local0, the entry's priority as severity, the
    node (or the cluster) as host, the system as app name, the cluster and entry id as data."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(entry.t)) + f".{int(entry.t % 1 * 1000):03d}Z"
    pri = FACILITY * 8 + SEVERITY[entry.priority]
    data = f'[exaop@{ENTERPRISE} cluster="{_param(cluster)}" id="{entry.id}" priority="{entry.priority}"]'
    head = f"<{pri}>1 {stamp} {_name(entry.node or cluster, 255)} {_name(entry.system, 48)} - - {data} "
    return head.encode("ascii") + b"\xef\xbb\xbf" + entry.message.encode("utf-8")


class Forwarder:
    """Hands each new log entry to the sink, once per log service that forwards it."""

    def __init__(self, cluster: Cluster, sink: LogSink) -> None:
        self.cluster = cluster
        self.sink = sink

    def targets(self, entry: LogEntry) -> list[Target]:
        c = self.cluster
        settings = c.settings.values
        out = []
        for svc in c.logservices.values():
            if svc.remote_syslog_server and svc.shows(entry):
                try:
                    host, port = parse_server(svc.remote_syslog_server)
                except UsageError:  # kept from before servers were checked: logging must never fail
                    continue
                tls = svc.remote_syslog_protocol == "TCP" and bool(settings["remote_syslog_encrypted"])
                out.append(Target(host, port, svc.remote_syslog_protocol, tls,
                                  settings["remote_syslog_ca_cert"] if tls else ""))  # fmt: skip
        return list(dict.fromkeys(out))  # two services to one server: one message

    def __call__(self, entry: LogEntry) -> None:
        targets = self.targets(entry)
        if targets:
            message = format_5424(entry, self.cluster.name)
            for target in targets:
                self.sink.send(target, message)

    def stats(self) -> dict[str, dict[str, Any]]:
        return self.sink.stats()


def attach(cluster: Cluster, sink: LogSink) -> Forwarder:
    """Forward the cluster's new log entries through ``sink`` from now on."""
    forwarder = Forwarder(cluster, sink)
    cluster.logbook.listener = forwarder
    return forwarder


def stats(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """What the sink reports per server ({} when nothing forwards)."""
    listener = cluster.logbook.listener
    return listener.stats() if isinstance(listener, Forwarder) else {}
