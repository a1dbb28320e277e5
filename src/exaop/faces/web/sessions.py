"""Browser sessions and CSRF tokens, bounded.

A session is made only by a successful login (a password check through the shared
:class:`~exaop.faces.auth.Authenticator`, with its throttling), so a client that has not
logged in allocates nothing here. The table holds at most ``MAX_SESSIONS``; when full, the
session used least recently goes. One user holds at most ``MAX_PER_USER`` of them (their own
least recently used goes), so one account logging in again and again cannot push everyone
else's sessions out. A session ends after ``IDLE`` seconds without a request,
``LIFETIME`` seconds after the login, on logout, or as soon as its user is deleted,
renamed or given a new password (the session remembers the exact password hash it was
made with). Times are the process's monotonic clock: real seconds, whatever the speed of
the simulated cluster. Sessions live in memory: a restart of the server logs everyone out.

CSRF: each session has its own random token, sent in a hidden field of every form and
compared in constant time. The login form, before any session exists, carries an HMAC of a
random nonce that is also in a short-lived cookie (a signed double submit): nothing is
stored for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SESSIONS = 1024
MAX_PER_USER = 16
IDLE = 30 * 60.0
LIFETIME = 12 * 3600.0
COOKIE = "exaop_session"
LOGIN_COOKIE = "exaop_login"
MAX_STREAMS_PER_SESSION = 8
MAX_FLASH = 10  # messages kept for a session's next page  # live pages (SSE) one session may have open at once


@dataclass
class Session:
    token: str
    uid: int
    login: str
    password_hash: str
    csrf: str
    created: float
    seen: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, text) shown once, on the next page
    streams: int = 0

    def tell(self, kind: str, text: str) -> None:
        """A message for the next page (the last MAX_FLASH are kept)."""
        self.flash.append((kind, text[:2000]))
        del self.flash[:-MAX_FLASH]


class Sessions:
    def __init__(
        self, max_sessions: int = MAX_SESSIONS, idle: float = IDLE, lifetime: float = LIFETIME,
        clock: Callable[[], float] = time.monotonic, max_per_user: int = MAX_PER_USER,
    ) -> None:  # fmt: skip
        self.max_sessions = max_sessions
        self.max_per_user = max_per_user
        self.idle = idle
        self.lifetime = lifetime
        self._clock = clock
        self._table: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._key = secrets.token_bytes(32)  # signs the login form's nonce

    def __len__(self) -> int:
        return len(self._table)

    def create(self, uid: int, login: str, password_hash: str) -> Session:
        now = self._clock()
        self._expire(now)
        theirs = [t for t, s in self._table.items() if s.uid == uid]  # least recently used first
        for token in theirs[: max(0, len(theirs) - self.max_per_user + 1)]:
            del self._table[token]
        while len(self._table) >= self.max_sessions:
            self._table.popitem(last=False)
        token = secrets.token_urlsafe(32)
        s = Session(token, uid, login, password_hash, secrets.token_urlsafe(32), now, now)
        self._table[token] = s
        return s

    def get(self, token: str | None) -> Session | None:
        """The live session of this cookie value (and it counts as used now), else None."""
        if not token or len(token) > 100:
            return None
        s = self._table.get(token)
        if s is None:
            return None
        now = self._clock()
        if now - s.seen > self.idle or now - s.created > self.lifetime:
            del self._table[token]
            return None
        s.seen = now
        self._table.move_to_end(token)
        return s

    def drop(self, token: str) -> None:
        self._table.pop(token, None)

    def _expire(self, now: float) -> None:
        while self._table:
            s = next(iter(self._table.values()))
            if now - s.seen <= self.idle and now - s.created <= self.lifetime:
                return
            self._table.popitem(last=False)

    # -- CSRF ------------------------------------------------------------------------------

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())

    def login_nonce(self) -> tuple[str, str]:
        """(cookie value, form token) for a login form."""
        nonce = secrets.token_urlsafe(16)
        return nonce, self._sign(nonce)

    def login_ok(self, nonce: str | None, given: str | None) -> bool:
        if not nonce or not given or len(nonce) > 100:
            return False
        return hmac.compare_digest(self._sign(nonce).encode(), str(given).encode())

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()
