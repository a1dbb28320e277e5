"""Every configurable kind's module, imported so that each kind is registered
(model/configurable.py KINDS) before a cluster is rebuilt from the store."""

from exaop.model import bucketfs, disks, jdbc, keystore, network, remote_volumes, srvmgmt, storage_nodes

__all__ = ["bucketfs", "disks", "jdbc", "keystore", "network", "remote_volumes", "srvmgmt", "storage_nodes"]
