"""EXAoperation plugins: each manages a daemon on the cluster's nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.errors import NotFound, UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

FUNCTIONS = {
    "START": "start the daemon on the node",
    "STOP": "stop the daemon on the node",
    "RESTART": "stop, then start the daemon on the node",
    "STATUS": "tell whether the daemon runs on the node",
}


class Plugin(Entity):
    kind = "plugin"

    def __init__(self, cluster: Cluster, name: str, daemon: str, description: str = "") -> None:
        super().__init__(cluster)
        self.name = name
        self.daemon = daemon
        self.description = description
        self.running: dict[str, int] = {}  # node -> pid

    @property
    def key(self) -> str:
        return self.name

    def record(self) -> dict[str, Any]:
        return {"daemon": self.daemon, "description": self.description, "running": self.running}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Plugin:
        p = cls(cluster, key, rec.get("daemon", key), rec.get("description", ""))
        p.running = dict(rec.get("running", {}))
        return p

    def functions(self) -> list[str]:
        return list(FUNCTIONS)

    def node_gone(self, node: str) -> None:
        if self.running.pop(node, None) is not None:
            self.changed()

    def call(self, node_name: Any, command: Any, extra: Any = "") -> list[Any]:
        if not isinstance(command, str) or command.upper() not in FUNCTIONS:
            raise UsageError(f"plugin {self.name} knows the commands {', '.join(FUNCTIONS)}; got {command!r}")
        node = self.cluster.node(node_name)
        if not node.online:
            raise UsageError(f"plugin {self.name} cannot run on {node.name}: the node is {node.status.lower()}")
        cmd = command.upper()
        d = self.daemon
        pid = self.running.get(node.name)
        if cmd == "STATUS":
            if pid:
                return [0, f"{d} is running (pid {pid}) on {node.name}\n"]
            return [3, f"{d} is not running on {node.name}\n"]
        if cmd == "STOP":
            if not pid:
                return [0, f"{d} was not running on {node.name}\n"]
            del self.running[node.name]
            self.changed()
            self.cluster.log("EXAoperation", node.name, "Information", f"plugin {self.name}: {d} stopped")
            return [0, f"Stopping {d} on {node.name}: done\n"]
        out = ""
        if cmd == "RESTART" and pid:
            del self.running[node.name]
            out = f"Stopping {d} on {node.name}: done\n"
        elif pid:
            return [0, f"{d} is already running (pid {pid}) on {node.name}\n"]
        self.running[node.name] = 4000 + (sum(map(ord, node.name + d)) * 7 + len(self.running)) % 60000
        self.changed()
        self.cluster.log("EXAoperation", node.name, "Information", f"plugin {self.name}: {d} started")
        return [0, out + f"Starting {d} on {node.name}: done\n"]


def find_plugin(cluster: Cluster, name: Any) -> Plugin:
    if not isinstance(name, str) or name not in cluster.plugins:
        raise NotFound(f"Object {name} (plugin) not found; installed: {', '.join(cluster.plugins) or 'none'}")
    return cluster.plugins[name]
