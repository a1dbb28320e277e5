"""HTTP basic authentication against the cluster's users, with a safe memory of good checks.

An argon2 check costs about 100 ms, so a successful check is remembered: the cache key is
a keyed BLAKE2b MAC (with a per-process random key) of the Authorization header, never the
password, and the entry holds the user's id, login and exact (salted) password hash, so a
changed password, a renamed or deleted user, or a new user given an old id misses at once.
Failed checks are not remembered. Requests that
arrive with the same header while it is being checked wait for that check instead of
queueing argon2 runs of their own (64 clients connecting at once would otherwise wait
32 x 100 ms); if it fails, each checks for itself, as before.

Failed logins are the one thing a client without credentials can make the server do, so
they are bounded (:class:`LoginGuard`): per client address, after five failures the
address must wait between attempts, then it is refused (429) for a while, before any
argon2 work; a
client address has at most a few checks in flight, and the server at most
``MAX_WAITING_CHECKS`` queued, so unauthenticated requests cannot fill the connections;
and the log gets one line per address and minute, however many attempts it made. A login
that was checked before (the cache) is never throttled: an administrator already logged in
keeps working while their address is flooded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import heapq
import ipaddress
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exaop.model.users import check_password, hash_password

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.users import User

CACHE_SIZE = 4096
_DUMMY_HASH_PASSWORD = secrets.token_urlsafe(16)
MAX_CHECKS_PER_ADDRESS = 4  # argon2 checks one client address may have in flight
MAX_WAITING_CHECKS = 64  # checks queued for the argon2 threads, all addresses together
MAX_LOGIN_SHOWN = 64  # characters of a login name that reach the log


class LoginRefused(Exception):
    """The client may not try to log in now; ``status`` 429 (its address) or 503 (the server)."""

    def __init__(self, status: int, retry_after: float, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.reason = reason


def shown(login: str) -> str:
    """A client-chosen name as it may appear in a log: capped and escaped."""
    cut = login[:MAX_LOGIN_SHOWN]
    return repr(cut) + ("…" if len(login) > MAX_LOGIN_SHOWN else "")


def address_key(address: str) -> str:
    """Whose failures these are: the IPv4 address, or the IPv6 /64 (one host's share)."""
    if not address:
        return "an unknown address"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Address:
    failures: int = 0  # counted since the last success, forgotten after FORGET quiet seconds
    last_failure: float = 0.0
    locked_until: float = 0.0
    lockouts: int = 0
    in_flight: int = 0
    succeeded: bool = False  # a login from here succeeded since the server started
    # what the current minute's log line will say
    window_start: float = 0.0
    window_failed: int = 0
    window_refused: int = 0
    window_users: list[str] = field(default_factory=list)  # the first few names tried
    window_more_users: bool = False  # and whether there were others


class LoginGuard:
    """Failed logins per client address: counted; after a few, the address must wait longer
    and longer between attempts (earlier ones are refused unchecked, 429), then it is refused
    for a while; and all of it is logged as one line per address and minute. Nothing here
    holds a connection open: a refusal is answered at once.

    ``log(message)`` writes a Warning to the cluster's log. Times are the process's
    monotonic clock (real seconds: an attacker does not wait on the simulated clock).
    """

    FREE = 5  # failures before the address must wait between attempts
    BACKOFF_MAX = 30.0  # the longest wait between two attempts (1 s, 2 s, 4 s ... up to this)
    LOCK_AFTER = 10  # failures before the address is refused
    LOCK_FIRST, LOCK_MAX = 60.0, 3600.0  # the first lockout, doubling each time up to this
    FORGET = 900.0  # quiet seconds after which an address's failures are forgotten
    WINDOW = 60.0  # seconds one log line covers
    MAX_ADDRESSES = 10_000

    def __init__(self, log: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._clock = clock
        self._addresses: OrderedDict[str, _Address] = OrderedDict()
        self.failed_total = 0  # since the server started (the metrics show it)

    def _get(self, key: str) -> _Address:
        a = self._addresses.get(key)
        if a is None:
            a = self._addresses[key] = _Address()
            while len(self._addresses) > self.MAX_ADDRESSES:
                old_key, old = next(iter(self._addresses.items()))
                if old.in_flight:  # checks under way keep their entry
                    self._addresses.move_to_end(old_key)
                    continue
                self._flush_one(old_key, old, force=True)
                del self._addresses[old_key]
        else:
            self._addresses.move_to_end(key)
        return a

    def admit(self, key: str) -> _Address:
        """Before a check: raise :class:`LoginRefused` if the address may not try now."""
        now = self._clock()
        a = self._get(key)
        if a.locked_until > now:
            self._count(key, a, now, refused=True)
            wait = a.locked_until - now
            raise LoginRefused(
                429, wait, f"too many failed logins from this address; try again in {max(1, round(wait))} s"
            )
        if a.in_flight >= MAX_CHECKS_PER_ADDRESS:
            self._count(key, a, now, refused=True)
            raise LoginRefused(429, 1.0, "too many logins under way from this address")
        return a

    def failed(self, key: str, a: _Address, login: str) -> None:
        """A check failed: after a few, the address waits longer before each next attempt,
        then it is refused for a while."""
        now = self._clock()
        self.failed_total += 1
        if now - a.last_failure > self.FORGET:
            a.failures = 0
        a.failures += 1
        a.last_failure = now
        self._count(key, a, now, refused=False, login=login)
        if a.failures >= self.LOCK_AFTER:
            period = min(self.LOCK_MAX, self.LOCK_FIRST * 2**a.lockouts)
            a.lockouts += 1
            a.failures = 0
            a.locked_until = now + period
            self._log(f"logins from {key} refused for {period:.0f} s after {self.LOCK_AFTER} failed logins")
        elif a.failures > self.FREE:
            a.locked_until = now + min(self.BACKOFF_MAX, 2.0 ** (a.failures - self.FREE - 1))

    def succeeded(self, a: _Address) -> None:
        a.failures = 0
        a.lockouts = 0
        a.succeeded = True

    def rank(self, a: _Address) -> int:
        """Whose check comes first: 0 an address that logged in before, 1 one with no recent
        failure, 2 the rest."""
        if a.succeeded and not a.failures:
            return 0
        return 1 if not a.failures or self._clock() - a.last_failure > self.FORGET else 2

    def _count(self, key: str, a: _Address, now: float, refused: bool, login: str = "") -> None:
        if now - a.window_start >= self.WINDOW:
            self._flush_one(key, a, force=True)
            a.window_start = now
            if not refused:  # the first failure of a minute is logged at once
                self._log(f"failed login for user {shown(login)} from {key}")
                return
        if refused:
            a.window_refused += 1
        else:
            a.window_failed += 1
            name = shown(login)
            if name not in a.window_users:
                if len(a.window_users) < 3:
                    a.window_users.append(name)
                else:
                    a.window_more_users = True

    def _flush_one(self, key: str, a: _Address, force: bool = False) -> None:
        if not (a.window_failed or a.window_refused):
            return
        if not force and self._clock() - a.window_start < self.WINDOW:
            return
        parts = []
        if a.window_failed:
            users = ", ".join(a.window_users) + (", …" if a.window_more_users else "")
            parts.append(f"{a.window_failed} more failed login(s) (user {users})")
        if a.window_refused:
            parts.append(f"{a.window_refused} login(s) refused unchecked")
        self._log(f"{' and '.join(parts)} from {key} within a minute")
        a.window_failed = a.window_refused = 0
        a.window_users = []
        a.window_more_users = False

    def flush(self) -> bool:
        """Log every minute that has ended; True while some minute is still being counted."""
        pending = False
        for key, a in self._addresses.items():
            self._flush_one(key, a)
            pending = pending or bool(a.window_failed or a.window_refused)
        return pending


class CheckQueue:
    """The argon2 checks, ``slots`` at a time, in order of trust rather than of arrival: an
    address that logged in before first, then addresses with no recent failure, then the
    rest (each rank first come, first served). When ``capacity`` checks wait, a newcomer
    turns away the least trusted, newest waiter if it ranks better, else it is turned away
    itself (503) — many addresses failing cannot keep a clean one from logging in."""

    def __init__(self, slots: int, capacity: int) -> None:
        self._free = slots
        self.capacity = capacity
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap of (rank, seq, future)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._waiting)

    async def acquire(self, rank: int) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        self._seq += 1
        entry = (rank, self._seq, asyncio.get_running_loop().create_future())
        if len(self._waiting) >= self.capacity:
            worst = max(self._waiting)
            if worst[:2] < entry[:2]:
                raise LoginRefused(503, 1.0, "too many logins are being checked; try again shortly")
            self._waiting.remove(worst)
            heapq.heapify(self._waiting)
            worst[2].set_exception(LoginRefused(503, 1.0, "too many logins are being checked; try again shortly"))
        heapq.heappush(self._waiting, entry)
        try:
            await entry[2]
        except asyncio.CancelledError:
            if entry in self._waiting:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
            elif entry[2].done() and not entry[2].cancelled() and entry[2].exception() is None:
                self.release()  # the slot was handed over just as this waiter went away
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, fut = heapq.heappop(self._waiting)
            if not fut.done():
                fut.set_result(None)  # the slot passes to it
                return
        self._free += 1


class Authenticator:
    def __init__(
        self, cluster: Cluster, max_parallel_checks: int = 1, log: Callable[[str], None] | None = None
    ) -> None:
        """``max_parallel_checks``: argon2 checks at once. Each holds 64 MiB (argon2-cffi's
        memory cost) and any client can ask for one: one at a time keeps the server's peak
        within ~120 MB whatever arrives, for ~20 % fewer checks a second than two."""
        self.cluster = cluster
        self.guard = LoginGuard(log or (lambda text: cluster.log("Authentication", "", "Warning", text)))
        self._mac = hashlib.blake2b(key=secrets.token_bytes(32), digest_size=32)  # keyed: a MAC
        self._cache: OrderedDict[bytes, tuple[int, str, str]] = OrderedDict()
        self._checking: dict[bytes, asyncio.Future[None]] = {}
        self._checks = CheckQueue(max_parallel_checks, MAX_WAITING_CHECKS)
        self._dummy_hash = ""

    def _digest(self, header: bytes) -> bytes:
        # keyed BLAKE2b is a MAC like HMAC-SHA256, at a fraction of the cost per request;
        # copying the keyed state saves hashing the key block again each time
        mac = self._mac.copy()
        mac.update(header)
        return mac.digest()

    def cached(self, header: bytes) -> User | None:
        """The user for an Authorization header checked before, if still valid (no I/O)."""
        return self._lookup(self._digest(header))

    def _lookup(self, digest: bytes) -> User | None:
        entry = self._cache.get(digest)
        if entry is None:
            return None
        uid, login, password_hash = entry
        user = self.cluster.users.by_id.get(uid)
        # the exact (salted) hash and login that were checked: a changed password, a renamed
        # user, or another user who got a deleted user's id all miss
        if user is None or user.password_hash != password_hash or user.login != login:
            self._cache.pop(digest, None)
            return None
        return user

    async def authenticate(self, header: bytes | None, client: str = "") -> User | None:
        """The user, or None (answer 401); :class:`LoginRefused` when ``client`` (its address)
        may not try now. A header checked before is answered from the cache, unthrottled."""
        if not header:
            return None
        digest = self._digest(header)
        user = self._lookup(digest)
        if user is not None:
            return user
        key = address_key(client)
        address = self.guard.admit(key)
        creds = _parse_basic(header)
        if creds is None:
            self.guard.failed(key, address, "(not a basic-auth header)")
            return None
        running = self._checking.get(digest)
        if running is not None:
            # the same header is being checked right now: its success serves this request too
            await asyncio.shield(running)
            user = self._lookup(digest)
            if user is not None:
                return user
            address = self.guard.admit(key)  # it failed: this one counts on its own
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._checking.setdefault(digest, done)
        address.in_flight += 1
        try:
            user = await self._check(digest, *creds, rank=self.guard.rank(address))
        finally:
            address.in_flight -= 1
            if self._checking.get(digest) is done:
                del self._checking[digest]
            done.set_result(None)
        if user is None:
            self.guard.failed(key, address, creds[0])
            return None
        self.guard.succeeded(address)
        return user

    async def _check(self, digest: bytes, login: str, password: str, rank: int) -> User | None:
        user = self.cluster.users.by_login.get(login)
        await self._checks.acquire(rank)
        try:
            if user is None:
                # spend the same time as for a real user, so logins cannot be probed by timing
                await asyncio.to_thread(lambda: check_password(self._dummy(), password))
                ok = False
            else:
                version = user.password_version
                ok = await asyncio.to_thread(user.verify, password) and user.password_version == version
        finally:
            self._checks.release()
        if not ok or user is None:
            return None
        self._cache[digest] = (user.uid, user.login, user.password_hash)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return user

    def _dummy(self) -> str:
        if not self._dummy_hash:
            self._dummy_hash = hash_password(_DUMMY_HASH_PASSWORD)
        return self._dummy_hash


def _parse_basic(header: bytes) -> tuple[str, str] | None:
    scheme, _, value = header.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    if not sep:
        return None
    return login, password
