"""Key stores (/cluster1/keystore1): hardware security modules that hold the key EXAoperation
encrypts its stored passwords with.

Here no module is attached: a key store is its settings, whether its key is locked, and
whether the cluster uses it for its passwords (``setKeyStore``, shown as
``password_keystore`` in the cluster's properties). A locked key store cannot be chosen,
and the one in use cannot be deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.configurable import refuse_if_used
from exaop.model.errors import NotFound, UsageError
from exaop.model.lists import list_values
from exaop.model.network import _Network as Described  # a kind whose objects carry a unique descriptive name
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

LOCKED, UNLOCKED = "locked", "unlocked"


def _attributes(obj: Any, value: str) -> None:
    """KEY=VALUE pairs separated by ';', as a PKCS#11 library is configured."""
    for part in filter(None, (p.strip() for p in value.split(";"))):
        key, eq, val = part.partition("=")
        if not eq or not key.strip() or not val.strip():
            raise UsageError(f"key_store_attributes: {part!r} is not KEY=VALUE (pairs are separated by ';', "
                             "e.g. LIB=/usr/lib/libCryptoki.so;SLOT=1)")  # fmt: skip


class KeyStore(Described):
    kind = "key_store"
    TITLE = "key store"
    PREFIX = "keystore"
    DESCRIPTION = "key_store_name"
    SCHEMA = Schema("key store", [
        Field("key_store_name", "TextLine", "The key store's name, unique in the cluster.", required=True),
        Field("key_store_type", "Choice", "The kind of key store.", required=True,
              choices=lambda o: list_values(o.cluster, "KeyStoreTypes")),
        Field("key_store_attributes", "TextLine", "How to reach the module: KEY=VALUE pairs separated by ';', "
              "e.g. LIB=/usr/lib/libCryptoki.so;SLOT=1.", required=True, check=_attributes),
        Field("keylabel", "TextLine", "The label of the key in the module.", required=True),
    ])  # fmt: skip

    def __init__(self, cluster: Cluster, name: str, parent: str = "") -> None:
        super().__init__(cluster, name, parent)
        self.status = UNLOCKED

    def state(self) -> dict[str, Any]:
        return {"status": self.status}

    def load(self, rec: dict[str, Any]) -> None:
        self.status = rec.get("status", UNLOCKED)

    @property
    def in_use(self) -> bool:
        return self.cluster.settings.values.get("password_keystore") == self.name

    def check(self, values: dict[str, Any], creating: bool) -> None:
        super().check(values, creating)
        if not creating and self.status == LOCKED:
            raise UsageError(f"key store {self.name} is locked; unlock it before changing it")

    def check_delete(self) -> None:
        refuse_if_used(f"key store {self.name}", ["the cluster's passwords"] if self.in_use else [])

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.properties(), "status": self.status, "in_use": self.in_use}

    def lock(self) -> None:
        self._set_status(LOCKED)

    def unlock(self) -> None:
        self._set_status(UNLOCKED)

    def _set_status(self, status: str) -> None:
        if self.status == status:
            raise UsageError(f"key store {self.name} is already {status}")
        self.status = status
        self.changed()
        warn = self.in_use and status == LOCKED
        self.cluster.log("EXAoperation", "", "Warning" if warn else "Notice",
                         f"key store {self.name}: key {status}"
                         + ("; it holds the key of the cluster's passwords" if warn else ""))  # fmt: skip


def key_store(cluster: Cluster, ident: Any, by: str = "name") -> KeyStore:
    """A key store by its key_store_name (``by='name'``) or its object name (``by='object'``)."""
    for ks in cluster.objects(KeyStore.kind):
        if (ks.values.get("key_store_name") if by == "name" else ks.name) == ident:
            return ks  # type: ignore[no-any-return]
    what = "named" if by == "name" else "with object name"
    raise NotFound(f"Object {ident} (key store) not found: no key store {what} {ident!r}")
