"""The remote syslog sender: the engine's side of the model's LogSink port (model/syslog.py).

Each server gets a channel: a bounded queue and a thread of its own that sends from it, so a
dead or slow server never holds up the event loop, nor another server. ``send`` only
queues; a full queue drops the message and counts it. UDP messages go out as datagrams; TCP
(and TLS) ones with octet counting (RFC 6587 / RFC 5425) over a connection that is made
again after a failure, waiting ``backoff`` seconds first, doubling up to a limit. The
message being sent when a connection fails is sent again on the next one.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import deque
from typing import Any

from exaop.model.syslog import Target

QUEUE_SIZE = 10_000  # messages waiting per server, at most
BACKOFF = (0.2, 30.0)  # first and longest wait (seconds) before connecting again
TIMEOUT = 5.0  # connecting, and sending one message


class _Channel:
    def __init__(self, target: Target, queue_size: int, backoff: tuple[float, float], timeout: float) -> None:
        self.target = target
        self.queue_size = queue_size
        self.backoff = backoff
        self.timeout = timeout
        self.queue: deque[bytes] = deque()
        self.cond = threading.Condition()
        self.sent = self.dropped = 0
        self.last_error = ""
        self.sock: socket.socket | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name=f"syslog {target}", daemon=True)
        self.thread.start()

    def put(self, message: bytes) -> None:
        with self.cond:
            if len(self.queue) >= self.queue_size:
                self.dropped += 1
                return
            self.queue.append(message)
            self.cond.notify()

    def stats(self) -> dict[str, Any]:
        with self.cond:
            return {"sent": self.sent, "dropped": self.dropped, "queued": len(self.queue),
                    "connected": self.sock is not None, "last_error": self.last_error}  # fmt: skip

    def stop(self, wait: float = 1.0) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify()
        self.thread.join(wait)
        self._close()

    # -- the channel's thread ---------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.backoff[0]
        while True:
            with self.cond:
                while not self.queue and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                message = self.queue[0]
            try:
                self._send(message)
            except (OSError, ValueError) as e:  # refused, reset, timed out, TLS errors (OSError), bad CA (ValueError)
                self._close()
                with self.cond:
                    self.last_error = f"{type(e).__name__}: {e}"
                    self.cond.wait_for(lambda: self.stopping, timeout=delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            delay = self.backoff[0]
            with self.cond:
                if self.queue and self.queue[0] is message:
                    self.queue.popleft()
                self.sent += 1

    def _send(self, message: bytes) -> None:
        t = self.target
        if t.protocol == "UDP":
            if self.sock is None:
                family, kind, proto, _, address = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_DGRAM)[0]
                sock = socket.socket(family, kind, proto)
                sock.connect(address)  # connected: an unreachable port shows as an error on a later send
                self.sock = sock
            self.sock.send(message)
            return
        if self.sock is None:
            sock = socket.create_connection((t.host, t.port), timeout=self.timeout)
            if t.tls:
                context = ssl.create_default_context(cadata=t.ca or None)
                try:
                    sock = context.wrap_socket(sock, server_hostname=t.host)
                except BaseException:
                    sock.close()
                    raise
            sock.settimeout(self.timeout)
            self.sock = sock
        self.sock.sendall(b"%d " % len(message) + message)

    def _close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


class SyslogSender:
    """A LogSink: one channel (queue and thread) per server, made when it is first sent to."""

    def __init__(self, queue_size: int = QUEUE_SIZE, backoff: tuple[float, float] = BACKOFF,
                 timeout: float = TIMEOUT) -> None:  # fmt: skip
        self.queue_size = queue_size
        self.backoff = backoff
        self.timeout = timeout
        self._channels: dict[Target, _Channel] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(self, target: Target, message: bytes) -> None:
        channel = self._channels.get(target)
        if channel is None:
            with self._lock:
                if self._closed:
                    return
                channel = self._channels.get(target)
                if channel is None:
                    channel = self._channels[target] = _Channel(target, self.queue_size, self.backoff,
                                                                self.timeout)  # fmt: skip
        channel.put(message)

    def stats(self) -> dict[str, dict[str, Any]]:
        return {str(t): ch.stats() for t, ch in list(self._channels.items())}

    def close(self) -> None:
        """Stop every channel (what is still queued is not sent)."""
        with self._lock:
            self._closed = True
            channels = list(self._channels.values())
        for ch in channels:
            ch.stop()
