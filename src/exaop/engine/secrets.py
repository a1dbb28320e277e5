"""Sealed secrets: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key file.

The key lives in the state dir as ``secret.key`` (``Store.secret_key``; 0600 like every file
there), apart from the database that holds the sealed tokens: a copy of ``exaop.sqlite``
alone reveals no password. Without a state dir (embedded use, tests) the key lives in
memory only.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class FernetBox:
    def __init__(self, key: bytes | None = None) -> None:
        """``key``: a Fernet key (``Fernet.generate_key()``); none: a new one, for this process only."""
        self._fernet = Fernet(key or Fernet.generate_key())

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as e:
            raise ValueError("the secret was not sealed with this state dir's key") from e
