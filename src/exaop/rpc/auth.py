"""HTTP basic authentication against the cluster's users, with a safe memory of good checks.

An argon2 check costs about 100 ms, so a successful check is remembered: the cache key is
a keyed BLAKE2b MAC (with a per-process random key) of the Authorization header, never the
password, and the entry holds the user's id, login and exact (salted) password hash, so a
changed password, a renamed or deleted user, or a new user given an old id misses at once.
Failed checks are not remembered. Requests that
arrive with the same header while it is being checked wait for that check instead of
queueing argon2 runs of their own (64 clients connecting at once would otherwise wait
32 x 100 ms); if it fails, each checks for itself, as before.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING

from exaop.model.users import check_password, hash_password

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.users import User

CACHE_SIZE = 4096
_DUMMY_HASH_PASSWORD = secrets.token_urlsafe(16)


class Authenticator:
    def __init__(self, cluster: Cluster, max_parallel_checks: int = 2) -> None:
        self.cluster = cluster
        self._mac = hashlib.blake2b(key=secrets.token_bytes(32), digest_size=32)  # keyed: a MAC
        self._cache: OrderedDict[bytes, tuple[int, str, str]] = OrderedDict()
        self._checking: dict[bytes, asyncio.Future[None]] = {}
        self._checks = asyncio.Semaphore(max_parallel_checks)
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

    async def authenticate(self, header: bytes | None) -> User | None:
        if not header:
            return None
        digest = self._digest(header)
        user = self._lookup(digest)
        if user is not None:
            return user
        creds = _parse_basic(header)
        if creds is None:
            return None
        running = self._checking.get(digest)
        if running is not None:
            # the same header is being checked right now: its success serves this request too
            await asyncio.shield(running)
            user = self._lookup(digest)
            if user is not None:
                return user
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._checking.setdefault(digest, done)
        try:
            return await self._check(digest, *creds)
        finally:
            if self._checking.get(digest) is done:
                del self._checking[digest]
            done.set_result(None)

    async def _check(self, digest: bytes, login: str, password: str) -> User | None:
        user = self.cluster.users.by_login.get(login)
        async with self._checks:
            if user is None:
                # spend the same time as for a real user, so logins cannot be probed by timing
                await asyncio.to_thread(lambda: check_password(self._dummy(), password))
                ok = False
            else:
                version = user.password_version
                ok = await asyncio.to_thread(user.verify, password) and user.password_version == version
        if not ok or user is None:
            self.cluster.log("Authentication", "", "Warning", f"failed login for user {login!r}")
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
