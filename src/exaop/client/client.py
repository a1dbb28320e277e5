"""The XML-RPC client the lifecycle tool uses.

* Credentials travel in an Authorization header, never in the URL, and are never printed.
* TLS is verified by default; ``ca_file`` or ``insecure`` change that.
* With ``retry_until``, calls are retried with backoff on what may pass: connection
  refused or reset, timeouts, 5xx answers (a server that restarts, an EXAoperation that
  moves). What retrying cannot fix ends at once: an untrusted certificate, the wrong
  scheme (https to a plain-HTTP server or the reverse), a host name that does not
  resolve (:class:`CannotConnect`), HTTP 401, 403 and exaop serve's 429 (:class:`AuthError`).
* Faults are never retried: they are answers.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import threading
import time
import weakref
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.parsers.expat import ExpatError


class ClientError(Exception):
    """Base of the client's errors; ``str()`` never contains credentials."""


class AuthError(ClientError):
    """HTTP 401: the user or password is wrong (or 429: refused after too many failed logins)."""


class NotAllowed(AuthError):
    """HTTP 403: the user logged in but may not do this."""


class Unreachable(ClientError):
    """No answer (connection refused, reset, timed out) or 5xx, after the retries allowed."""


class CannotConnect(ClientError):
    """A connection that retrying cannot fix: the certificate is not trusted, the URL's
    scheme is not what the server speaks, or its host name does not resolve."""


class Unsupported(ClientError):
    """The interface has nothing for what was asked (ConfD has no plugins, no log service...)."""


class Moved(ClientError):
    """HTTP 301/302/307/308: the server sends the client elsewhere (a ConfD node that is not
    the master names the master)."""

    def __init__(self, base: str, location: str) -> None:
        super().__init__(f"{base}: moved to {location}")
        self.location = location


class ServerFault(ClientError):
    """EXAoperation answered with a fault; ``code`` and ``text`` are the server's."""

    def __init__(self, method: str, code: int, text: str) -> None:
        super().__init__(f"{method}: {text}")
        self.method = method
        self.code = code
        self.text = text

    @property
    def not_found(self) -> bool:
        return "NotFound" in self.text

    @property
    def forbidden(self) -> bool:
        """The caller's role does not allow the call (exaop serve's ``Forbidden: …`` fault)."""
        return self.text.startswith("Forbidden")


@dataclass(frozen=True)
class RetryPolicy:
    first: float = 0.2
    factor: float = 1.6
    cap: float = 5.0


class _Transport(xmlrpc.client.SafeTransport):
    """HTTP(S) transport that adds basic auth and a per-connection timeout."""

    def __init__(
        self,
        https: bool,
        auth: str | None,
        timeout: float,
        context: ssl.SSLContext | None,
        opened: weakref.WeakSet[http.client.HTTPConnection],
    ) -> None:
        super().__init__(use_datetime=False, use_builtin_types=False, context=context)
        self._https = https
        self._auth = auth
        self.timeout = timeout
        self._opened = opened

    def get_host_info(self, host: Any) -> tuple[Any, list[tuple[str, str]], dict[str, str]]:
        chost, extra, x509 = super().get_host_info(host)
        headers = list(extra or [])
        if self._auth:
            headers.append(("Authorization", self._auth))
        return chost, headers, x509

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        now = time.monotonic()
        last, self._last_request = getattr(self, "_last_request", now), now
        if self._connection and host == self._connection[0]:
            if now - last < REUSE_IDLE:
                return self._connection[1]
            self.close()  # idle for long: the server may have closed it, and a request sent on it would be lost
        chost, self._extra_headers, x509 = self.get_host_info(host)
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                chost, timeout=self.timeout, context=self.context, **(x509 or {})
            )
        else:
            conn = http.client.HTTPConnection(chost, timeout=self.timeout)
        self._connection = host, conn
        self._opened.add(conn)
        return conn


_RETRYABLE_STATUS = {500, 502, 503, 504}  # 5xx: the server is away or restarting
REUSE_IDLE = 5.0  # seconds a kept-alive connection may have been idle and still be used (exaop serve keeps 15)
_PROBE_TIMEOUT = 3.0


def _speaks_plain_http(host: str, port: int) -> bool:
    """Whether a plain HTTP request to host:port gets an HTTP answer (no credentials sent)."""
    try:
        with socket.create_connection((host, port), timeout=_PROBE_TIMEOUT) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode("idna") + b"\r\n\r\n")
            return s.recv(5) == b"HTTP/"
    except (OSError, UnicodeError):
        return False


def _speaks_tls(host: str, port: int) -> bool:
    """Whether host:port completes a TLS handshake (the certificate is not looked at)."""
    ctx = ssl._create_unverified_context()
    try:
        with socket.create_connection((host, port), timeout=_PROBE_TIMEOUT) as raw, ctx.wrap_socket(raw):
            return True
    except (OSError, ssl.SSLError):
        return False


def tls_context(ca_file: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """The context that verifies EXAoperation's certificate (against ``ca_file`` when given).

    A CA file that cannot be used raises ValueError naming the file and why."""
    if insecure:
        return ssl._create_unverified_context()
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as e:
        reason = e.strerror or str(e)
        if isinstance(e, ssl.SSLError):
            reason = f"no certificate in it could be read ({e.reason or e})"
        raise ValueError(f"cannot use CA file {ca_file}: {reason}") from None


class ExaClient:
    """Calls on EXAoperation objects by path: ``client.call('/storage', 'startEXAStorage')``."""

    def __init__(
        self,
        url: str,
        user: str | None = None,
        password: str | None = None,
        *,
        insecure: bool = False,
        ca_file: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        default_path: str = "/cluster1",
    ) -> None:
        """``default_path``: the path when the URL has none (EXAoperation's cluster; ConfD: '')."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an EXAoperation or ConfD URL: {self._safe(url)!r} (expected https://host/cluster1 "
                             "or https://host:20003)")  # fmt: skip
        if parts.username and user is None:
            user = parts.username
        if parts.password and password is None:
            password = parts.password
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        path = parts.path.rstrip("/") or default_path
        self.base = urlunsplit((parts.scheme, netloc, path, "", ""))  # no credentials
        self.https = parts.scheme == "https"
        self.user = user
        self._auth = (
            "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode() if user is not None else None
        )
        self._ctx = tls_context(ca_file, insecure) if self.https else None
        self._host = parts.hostname
        self._port = parts.port or (443 if self.https else 80)
        self._opened: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._local = threading.local()
        self._lock = threading.Lock()
        self.calls = 0
        self._methods: list[str] | None = None
        self._generation = 0  # moves with the base URL (a redirect): cached proxies are for the old one

    @staticmethod
    def _safe(url: str) -> str:
        p = urlsplit(url)
        host = p.hostname or ""
        return urlunsplit((p.scheme, host + (f":{p.port}" if p.port else ""), p.path, "", ""))

    def _proxy(self, path: str, timeout: float) -> xmlrpc.client.ServerProxy:
        cache: dict[tuple[str, float, int], xmlrpc.client.ServerProxy] = self._local.__dict__.setdefault("proxies", {})
        key = (path, timeout, self._generation)
        proxy = cache.get(key)
        if proxy is None:
            transport = _Transport(self.https, self._auth, timeout, self._ctx, self._opened)
            proxy = xmlrpc.client.ServerProxy(self.base + path, transport=transport, allow_none=True)
            cache[key] = proxy
        return proxy

    def _drop(self, path: str, timeout: float) -> None:
        cache = self._local.__dict__.get("proxies", {})
        proxy = cache.pop((path, timeout, self._generation), None)
        if proxy is not None:
            proxy("close")()

    def abort(self) -> None:
        """Cut every connection this client has open, so that calls still under way in other
        threads end now (with :class:`Unreachable`) instead of at their timeout. Later calls
        connect again."""
        with self._lock:
            opened = list(self._opened)
        for conn in opened:
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    # -- what went wrong -------------------------------------------------------------------

    def _cannot_connect(self, e: BaseException) -> CannotConnect | None:
        """The error as :class:`CannotConnect` when retrying cannot help, else None."""
        if isinstance(e, ssl.SSLCertVerificationError):
            if "match" in str(e.verify_message).lower() or "mismatch" in str(e).lower():
                why = f"the TLS certificate is not for {self._host} ({e.verify_message})"
            else:
                why = f"the TLS certificate is not trusted ({e.verify_message})"
            return CannotConnect(f"{self.base}: {why}; pass --ca-file FILE (the CA that signed it), "
                                 "or --insecure to skip the check")  # fmt: skip
        if isinstance(e, socket.gaierror) and e.errno != socket.EAI_AGAIN:
            return CannotConnect(f"{self.base}: the host name {self._host} does not resolve ({e.strerror}); "
                                 "check the URL")  # fmt: skip
        tls_failed = self.https and isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLEOFError)
        if tls_failed and _speaks_plain_http(self._host, self._port):
            return CannotConnect(f"{self.base}: the server speaks plain HTTP; use http:// "
                                     f"(TLS failed: {e.reason or e})")  # fmt: skip
        plain_failure = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError)
        if not self.https and isinstance(e, plain_failure) and _speaks_tls(self._host, self._port):
            return CannotConnect(f"{self.base}: the server speaks HTTPS; use https://")
        return None

    # -- calling -------------------------------------------------------------------------

    def call(
        self,
        path: str,
        method: str,
        *args: Any,
        retry_until: float | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call ``method`` on the object at ``path`` ('' is the cluster).

        With ``retry_until`` (a monotonic deadline) connection errors and 5xx answers are
        retried with backoff until then; without it they raise :class:`Unreachable` at once.
        """
        timeout = timeout or self.timeout
        return self._retrying(method, path, lambda: getattr(self._proxy(path, timeout), method)(*args), retry_until,
                              timeout)  # fmt: skip

    def _retrying(
        self, method: str, path: str, send: Callable[[], Any], retry_until: float | None, timeout: float
    ) -> Any:
        """``send()``, its failures sorted out as :meth:`call` says."""
        delay = self.retry.first
        while True:
            with self._lock:
                self.calls += 1
            try:
                return send()
            except xmlrpc.client.Fault as f:
                raise ServerFault(method, f.faultCode, f.faultString) from None
            except xmlrpc.client.ProtocolError as e:
                self._drop(path, timeout)
                if e.errcode == 401:
                    raise AuthError(f"{self.base}: user {self.user!r} was refused (wrong user or password)") from None
                if e.errcode == 403:
                    raise NotAllowed(f"{self.base}{path}: user {self.user!r} may not call {method} "
                                     f"(HTTP 403 {e.errmsg}); ask for a role that allows it") from None  # fmt: skip
                if e.errcode == 429:  # exaop serve: this address failed to log in too often
                    headers = {k.lower(): v for k, v in dict(e.headers or {}).items()}
                    wait = headers.get("retry-after", "?")
                    raise AuthError(
                        f"{self.base}: logins from this address are refused for {wait} s after too many failed "
                        "logins; check the user and password, then try again"
                    ) from None
                location = dict(e.headers or {}).get("location") or dict(e.headers or {}).get("Location")
                if e.errcode in (301, 302, 307, 308) and location:
                    raise Moved(self.base, location) from None
                if e.errcode not in _RETRYABLE_STATUS:
                    raise ServerFault(method, e.errcode, f"HTTP {e.errcode} {e.errmsg}") from None
                problem = f"HTTP {e.errcode} {e.errmsg}"
            except (TimeoutError, OSError, http.client.HTTPException) as e:
                self._drop(path, timeout)
                hopeless = self._cannot_connect(e)
                if hopeless is not None:
                    raise hopeless from None
                problem = f"{type(e).__name__}: {e}"
            except ExpatError:  # the answer was cut off: the server went away while it answered
                self._drop(path, timeout)
                problem = "the answer was cut off"
            if retry_until is None or self._monotonic() + delay > retry_until:
                raise Unreachable(f"{self.base}{path}: {method} got no answer ({problem})")
            self._sleep(delay)
            delay = min(self.retry.cap, delay * self.retry.factor)

    def move_to(self, location: str) -> None:
        """Send later calls to ``location`` (a redirect's), keeping the credentials and TLS settings."""
        parts = urlsplit(location)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unreachable(f"{self.base}: redirected to {self._safe(location)!r}, which is not a URL to follow")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc += f":{parts.port}" if parts.port else ""
        self.base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port or (443 if self.https else 80)
        with self._lock:
            self._generation += 1

    def fetch(self, path: str, retry_until: float | None = None) -> str:
        """``GET`` a plain-text resource below the base URL (ConfD's ``/master``), with the same
        credentials, TLS settings and error handling as a call."""

        def get() -> str:
            conn: http.client.HTTPConnection
            if self.https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=self._ctx)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            try:
                conn.request("GET", urlsplit(self.base).path + path, headers={"Authorization": self._auth or ""})
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
                headers = dict(resp.getheaders())
            finally:
                conn.close()
            if resp.status >= 300:
                raise xmlrpc.client.ProtocolError(self.base + path, resp.status, resp.reason, headers)
            return body

        return str(self._retrying(f"GET {path}", "", get, retry_until, self.timeout))

    # -- dialect ---------------------------------------------------------------------------

    def methods(self, retry_until: float | None = None, refresh: bool = False) -> list[str]:
        """The cluster's methods (asked once; ``refresh`` asks again: is it there, which dialect)."""
        if self._methods is None or refresh:
            self._methods = list(self.call("", "listMethods", retry_until=retry_until))
        return self._methods

    def has(self, method: str) -> bool:
        return method in self.methods()

    @property
    def dialect(self) -> str:
        """'4.2' when the server only reports the master's number, else '5+'."""
        return "5+" if self.has("getEXAoperationMaster") else "4.2"

    def master(self, retry_until: float | None = None) -> str:
        if self.has("getEXAoperationMaster"):
            return str(self.call("", "getEXAoperationMaster", retry_until=retry_until))
        number = self.call("", "getCurrentLicenseServer", retry_until=retry_until)
        return f"n{int(number):04d}"
