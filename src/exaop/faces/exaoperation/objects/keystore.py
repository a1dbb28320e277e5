"""Key stores: /cluster1/keystore1 (NodeClusterKeyStore), added on the cluster, chosen with setKeyStore."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import OK, add_method, configurable_type
from exaop.model.cluster import Cluster
from exaop.model.keystore import KeyStore, key_store

m = CLUSTER.method

KEYSTORE_TYPE = configurable_type(KeyStore, "NodeClusterKeyStore", "editNodeClusterKeyStore")
k = KEYSTORE_TYPE.method

add_method(CLUSTER, "addKeyStore", KeyStore, intro="Add a key store (a security module holding the key that "
           "encrypts the stored passwords; here its settings only). Returns its object name (keystore1 "
           "...).")  # fmt: skip


@k("getStatus", "read", "'locked' or 'unlocked': whether the key store's key can be used.")
def get_status(ctx: Context, ks: KeyStore) -> str:
    return ks.status


@k("lock", "operate", "Lock the key store's key. A locked key store cannot be chosen with setKeyStore or changed.")
def lock(ctx: Context, ks: KeyStore) -> str:
    ks.lock()
    return OK


@k("unlock", "operate", "Unlock the key store's key.")
def unlock(ctx: Context, ks: KeyStore) -> str:
    ks.unlock()
    return OK


@m("getAllKeyStores", "read", "The key stores: for each, a dictionary with its object name, settings, status "
   "and whether the cluster's passwords use it.", returns="array")  # fmt: skip
def get_all_key_stores(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [ks.describe() for ks in c.objects(KeyStore.kind)]


@m("getKeyStoreByName", "read", "The key store with this key_store_name, as getAllKeyStores describes it.",
   returns="struct")  # fmt: skip
def get_key_store_by_name(ctx: Context, c: Cluster, key_store_name: str) -> dict[str, Any]:
    return key_store(c, key_store_name, by="name").describe()


@m("getKeyStoreByObjName", "read", "The key store with this object name (keystore1 ...), as getAllKeyStores "
   "describes it.", returns="struct")  # fmt: skip
def get_key_store_by_obj_name(ctx: Context, c: Cluster, object_name: str) -> dict[str, Any]:
    return key_store(c, object_name, by="object").describe()


@m("setKeyStore", "manage", "Encrypt the stored passwords with this key store (its key_store_name or object "
   "name; '' for EXAoperation's own key). Shown as password_keystore in getProperties. Returns the key "
   "store's object name.")  # fmt: skip
def set_key_store(ctx: Context, c: Cluster, key_store_name: str) -> str:
    return c.settings.set_key_store(key_store_name)
