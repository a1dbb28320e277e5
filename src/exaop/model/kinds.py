"""Every configurable kind's module, imported so that each kind is registered
(model/configurable.py KINDS) before a cluster is rebuilt from the store."""

from exaop.model import bucketfs, jdbc, keystore, network, srvmgmt

__all__ = ["bucketfs", "jdbc", "keystore", "network", "srvmgmt"]
