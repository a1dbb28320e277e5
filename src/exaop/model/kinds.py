"""Every configurable kind's module, imported so that each kind is registered
(model/configurable.py KINDS) before a cluster is rebuilt from the store."""

from exaop.model import disks, network, remote_volumes, storage_nodes

__all__ = ["disks", "network", "remote_volumes", "storage_nodes"]
