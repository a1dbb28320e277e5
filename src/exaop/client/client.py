"""The XML-RPC client the lifecycle tool uses.

* Credentials travel in an Authorization header, never in the URL, and are never printed.
* TLS is verified by default; ``ca_file`` or ``insecure`` change that.
* Reads are retried with backoff on connection errors and 5xx answers (a server that
  restarts, an EXAoperation that moves); actions are not retried blindly: the
  procedures observe the state again and decide.
* Faults are never retried: they are answers.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.parsers.expat import ExpatError


class ClientError(Exception):
    """Base of the client's errors; ``str()`` never contains credentials."""


class AuthError(ClientError):
    """HTTP 401: the user or password is wrong."""


class Unreachable(ClientError):
    """No answer (connection refused, reset, timed out) or 5xx, after the retries allowed."""


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


@dataclass(frozen=True)
class RetryPolicy:
    first: float = 0.2
    factor: float = 1.6
    cap: float = 5.0


class _Transport(xmlrpc.client.SafeTransport):
    """HTTP(S) transport that adds basic auth and a per-connection timeout."""

    def __init__(self, https: bool, auth: str | None, timeout: float, context: ssl.SSLContext | None) -> None:
        super().__init__(use_datetime=False, use_builtin_types=False, context=context)
        self._https = https
        self._auth = auth
        self.timeout = timeout

    def get_host_info(self, host: Any) -> tuple[Any, list[tuple[str, str]], dict[str, str]]:
        chost, extra, x509 = super().get_host_info(host)
        headers = list(extra or [])
        if self._auth:
            headers.append(("Authorization", self._auth))
        return chost, headers, x509

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, x509 = self.get_host_info(host)
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                chost, timeout=self.timeout, context=self.context, **(x509 or {})
            )
        else:
            conn = http.client.HTTPConnection(chost, timeout=self.timeout)
        self._connection = host, conn
        return conn


_RETRYABLE_STATUS = {500, 502, 503, 504}  # 5xx: the server is away or restarting


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
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an EXAoperation URL: {self._safe(url)!r} (expected https://host/cluster1)")
        if parts.username and user is None:
            user = parts.username
        if parts.password and password is None:
            password = parts.password
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        path = parts.path.rstrip("/") or "/cluster1"
        self.base = urlunsplit((parts.scheme, netloc, path, "", ""))  # no credentials
        self.https = parts.scheme == "https"
        self.user = user
        self._auth = (
            "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode() if user is not None else None
        )
        if self.https:
            if insecure:
                self._ctx: ssl.SSLContext | None = ssl._create_unverified_context()
            else:
                self._ctx = ssl.create_default_context(cafile=ca_file)
        else:
            self._ctx = None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._local = threading.local()
        self._lock = threading.Lock()
        self.calls = 0
        self._methods: list[str] | None = None

    @staticmethod
    def _safe(url: str) -> str:
        p = urlsplit(url)
        host = p.hostname or ""
        return urlunsplit((p.scheme, host + (f":{p.port}" if p.port else ""), p.path, "", ""))

    def _proxy(self, path: str, timeout: float) -> xmlrpc.client.ServerProxy:
        cache: dict[tuple[str, float], xmlrpc.client.ServerProxy] = self._local.__dict__.setdefault("proxies", {})
        key = (path, timeout)
        proxy = cache.get(key)
        if proxy is None:
            transport = _Transport(self.https, self._auth, timeout, self._ctx)
            proxy = xmlrpc.client.ServerProxy(self.base + path, transport=transport, allow_none=True)
            cache[key] = proxy
        return proxy

    def _drop(self, path: str, timeout: float) -> None:
        cache = self._local.__dict__.get("proxies", {})
        proxy = cache.pop((path, timeout), None)
        if proxy is not None:
            proxy("close")()

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
        delay = self.retry.first
        while True:
            with self._lock:
                self.calls += 1
            try:
                return getattr(self._proxy(path, timeout), method)(*args)
            except xmlrpc.client.Fault as f:
                raise ServerFault(method, f.faultCode, f.faultString) from None
            except xmlrpc.client.ProtocolError as e:
                self._drop(path, timeout)
                if e.errcode == 401:
                    raise AuthError(f"{self.base}: user {self.user!r} was refused (wrong user or password)") from None
                if e.errcode == 429:  # exaop serve: this address failed to log in too often
                    wait = e.headers.get("retry-after", "?") if e.headers else "?"
                    raise AuthError(
                        f"{self.base}: logins from this address are refused for {wait} s after too many failed "
                        "logins; check the user and password, then try again"
                    ) from None
                if e.errcode not in _RETRYABLE_STATUS:
                    raise ServerFault(method, e.errcode, f"HTTP {e.errcode} {e.errmsg}") from None
                problem = f"HTTP {e.errcode} {e.errmsg}"
            except (TimeoutError, OSError, http.client.HTTPException) as e:
                self._drop(path, timeout)
                if isinstance(e, ssl.SSLCertVerificationError):
                    raise Unreachable(
                        f"{self.base}: the TLS certificate is not trusted ({e.verify_message}); "
                        "pass --ca-file FILE, or --insecure to skip the check"
                    ) from None
                problem = f"{type(e).__name__}: {e}"
            except ExpatError:  # the answer was cut off: the server went away while it answered
                self._drop(path, timeout)
                problem = "the answer was cut off"
            if retry_until is None or self._monotonic() + delay > retry_until:
                raise Unreachable(f"{self.base}{path}: {method} got no answer ({problem})")
            self._sleep(delay)
            delay = min(self.retry.cap, delay * self.retry.factor)

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
