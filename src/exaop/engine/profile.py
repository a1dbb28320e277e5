"""Cluster profiles: the TOML description of a cluster that a fresh state dir starts from."""

from __future__ import annotations

import ipaddress
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from exaop.engine.drivers.settings import SettingsError
from exaop.engine.power import check_profile_table
from exaop.model.base import check_name
from exaop.model.errors import UsageError
from exaop.model.logs import PRIORITIES
from exaop.model.profile import Duration, LogRetention, Profile
from exaop.model.volumes import profile_load

__all__ = ["Duration", "Profile", "ProfileError", "default_profile", "load_profile", "parse_profile"]

DURATION_NAMES = (
    "node_boot",
    "node_shutdown",
    "storage_start",
    "storage_stop",
    "database_start",
    "database_connect",
    "database_stop",
    "database_force_stop",
    "database_backup",
    "database_restore",
    "database_shrink",
    "exaoperation_restart",
    "node_install",
    "node_wipe",
    "node_fsck",
    "software_install",
)


class ProfileError(ValueError):
    """The profile file is not valid; the message names the offending key."""


def node_name(number: int) -> str:
    return f"n{number:04d}"


def _duration(key: str, value: Any) -> Duration:
    if isinstance(value, int | float) and not isinstance(value, bool):
        d = Duration(float(value))
    elif isinstance(value, dict) and set(value) <= {"value", "jitter"} and "value" in value:
        d = Duration(float(value["value"]), float(value.get("jitter", 0)))
    else:
        raise ProfileError(f"durations.{key}: expected seconds or {{value=, jitter=}}, got {value!r}")
    if d.value < 0 or d.jitter < 0:
        raise ProfileError(f"durations.{key}: durations cannot be negative")
    return d


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ProfileError(f"[{key}] must be a table")
    return value


def _array(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ProfileError(f"[[{key}]] must be an array of tables")
    return value


TABLES = ("cluster", "durations", "hardware", "license_servers", "nodes", "volumes", "databases", "logservices",
          "plugins", "logs", "drivers")  # fmt: skip
LOG_LIMITS = {"keep_entries": (100, 1_000_000), "keep_days": (1, 3650)}  # [logs] key -> allowed range


def parse_profile(raw: dict[str, Any]) -> Profile:
    unknown_tables = set(raw) - set(TABLES)
    if unknown_tables:
        raise ProfileError(f"unknown table(s) {', '.join(sorted(unknown_tables))}; known: {', '.join(TABLES)}")
    cluster = _table(raw, "cluster")
    durations_raw = _table(raw, "durations")
    unknown = set(durations_raw) - set(DURATION_NAMES)
    if unknown:
        raise ProfileError(
            f"durations: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(DURATION_NAMES)}"
        )
    defaults = _defaults(raw, "durations")
    durations = {}
    for key in DURATION_NAMES:
        if key in durations_raw:
            durations[key] = _duration(key, durations_raw[key])
        elif key in defaults:
            durations[key] = _duration(key, defaults[key])
        else:
            raise ProfileError(f"durations.{key} is missing")

    license_servers = _array(raw, "license_servers") or [{"name": "n0010"}]
    for ls in license_servers:
        _check_node_name(ls.get("name"), "license_servers.name")
    nodes_cfg = _table(raw, "nodes")
    nodes: list[dict[str, Any]] = []
    if "list" in nodes_cfg:
        for entry in nodes_cfg["list"]:
            _check_node_name(entry.get("name"), "nodes.list.name")
            nodes.append(dict(entry))
    else:
        count = nodes_cfg.get("count", 4)
        first = nodes_cfg.get("first", 11)
        if not isinstance(count, int) or count < 0 or count > 9000:
            raise ProfileError("nodes.count must be a whole number from 0 to 9000")
        if not isinstance(first, int) or first <= 10 or first + count > 10000:
            raise ProfileError("nodes.first must be above 10 (0-10 are reserved) and fit 4 digits")
        nodes = [{"name": node_name(first + i)} for i in range(count)]
    names = [n["name"] for n in license_servers] + [n["name"] for n in nodes]
    if len(set(names)) != len(names):
        raise ProfileError("node names must be unique")
    eo_nodes = cluster.get("exaoperation_nodes", [license_servers[0]["name"]])
    for n in eo_nodes:
        if n not in names:
            raise ProfileError(f"cluster.exaoperation_nodes: {n} is not a node of this profile")
    dialect = str(cluster.get("dialect", "6"))
    if dialect not in ("4.2", "5", "6"):
        raise ProfileError('cluster.dialect must be "4.2", "5" or "6"')
    volumes = _array(raw, "volumes")
    vids = {v.get("id") for v in volumes}
    for v in volumes:
        if v.get("type", "Data") not in ("Data", "Archive"):
            raise ProfileError(f"volumes.{v.get('id')}: type must be Data or Archive")
        for n in v.get("nodes", []):
            if n not in names:
                raise ProfileError(f"volumes.{v.get('id')}: unknown node {n}")
    databases = _array(raw, "databases")
    for db in databases:
        if not isinstance(db.get("name"), str) or not db["name"]:
            raise ProfileError("databases.name is required")
        for n in db.get("nodes", []):
            if n not in names:
                raise ProfileError(f"databases.{db['name']}: unknown node {n}")
        if db.get("volume") and db["volume"] not in vids:
            raise ProfileError(f"databases.{db['name']}: unknown volume {db['volume']}")
    hardware = {**_defaults(raw, "hardware"), **_table(raw, "hardware")}
    _check_volume_room(hardware, nodes, [n["name"] for n in license_servers], volumes)
    _check_objects(cluster, hardware, [n["name"] for n in license_servers], volumes, databases,
                   _array(raw, "logservices"), _array(raw, "plugins"))  # fmt: skip
    logs = _log_retention(_table(raw, "logs"), _defaults(raw, "logs"))
    drivers = _table(raw, "drivers")
    for group, table in drivers.items():
        try:
            check_profile_table(group, table)
        except SettingsError as e:
            raise ProfileError(str(e)) from None
    return Profile(
        raw=raw,
        name=str(cluster.get("name", "cluster1")),
        description=str(cluster.get("description", "")),
        private_network=str(cluster.get("private_network", "10.50.1.0/24")),
        exaoperation_nodes=list(eo_nodes),
        dialect=dialect,
        version=str(cluster.get("version", "6.2.17")),
        durations=durations,
        hardware=hardware,
        license_servers=license_servers,
        nodes=nodes,
        volumes=volumes,
        databases=databases,
        logservices=_array(raw, "logservices"),
        plugins=_array(raw, "plugins"),
        logs=logs,
        drivers={str(k): dict(v) for k, v in drivers.items()},
    )


def _log_retention(table: dict[str, Any], defaults: dict[str, Any]) -> LogRetention:
    unknown = set(table) - set(LOG_LIMITS)
    if unknown:
        raise ProfileError(f"logs: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(LOG_LIMITS)}")
    values = {**defaults, **table}
    for key, (low, high) in LOG_LIMITS.items():
        value = values.get(key)
        if value is None:
            raise ProfileError(f"logs.{key} is missing")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProfileError(f"logs.{key} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return LogRetention(keep_entries=values["keep_entries"], keep_days=values["keep_days"])


def _check_objects(
    cluster: dict[str, Any],
    hardware: dict[str, Any],
    license_servers: list[str],
    volumes: list[dict[str, Any]],
    databases: list[dict[str, Any]],
    logservices: list[dict[str, Any]],
    plugins: list[dict[str, Any]],
) -> None:
    """What parse_profile's first checks leave: names, uniqueness, types the model relies on."""

    def name(where: str, value: Any) -> str:
        try:
            return check_name(where, value)
        except UsageError as e:
            raise ProfileError(e.reason) from None

    def unique(where: str, values: list[Any]) -> None:
        seen: set[Any] = set()
        for v in values:
            if v in seen:
                raise ProfileError(f"{where}: {v} appears twice")
            seen.add(v)

    def whole(where: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProfileError(f"{where} must be a whole number from {low} to {high}, got {value!r}")
        return value

    name("cluster.name", cluster.get("name", "cluster1"))
    try:
        ipaddress.ip_network(str(cluster.get("private_network", "10.50.1.0/24")), strict=False)
    except ValueError as e:
        raise ProfileError(f"cluster.private_network: {e}") from None
    for key in ("sockets", "cores_per_socket", "memory_gib"):
        if key in hardware:
            whole(f"hardware.{key}", hardware[key], 1, 1 << 20)
    for key in ("vendor", "product", "cpu"):
        if not isinstance(hardware.get(key), str):
            raise ProfileError(f"hardware.{key} must be a string")

    for v in volumes:
        if not isinstance(v.get("id"), str) or not v["id"]:
            raise ProfileError("volumes.id is required (like v0000)")
    unique("volumes", [v["id"] for v in volumes])
    data_volumes = {v["id"] for v in volumes if v.get("type", "Data") == "Data"}

    ports: dict[int, str] = {}
    for db in databases:
        db_name = name("databases.name", db.get("name"))
        port = whole(f"databases.{db_name}.port", db.get("port", 8563), 1024, 65535)
        if port in ports:
            raise ProfileError(f"databases.{db_name}: port {port} is already used by database {ports[port]}")
        ports[port] = db_name
        nodes = db.get("nodes")
        if nodes is not None:
            if not isinstance(nodes, list) or not nodes or len(set(nodes)) != len(nodes):
                raise ProfileError(f"databases.{db_name}.nodes must list distinct database nodes")
            on_ls = [n for n in nodes if n in license_servers]
            if on_ls:
                raise ProfileError(f"databases.{db_name}: {', '.join(on_ls)} is a license server, not a database node")
            whole(f"databases.{db_name}.active", db.get("active", len(nodes)), 1, len(nodes))
        if db.get("volume") and db["volume"] not in data_volumes:
            raise ProfileError(f"databases.{db_name}: volume {db['volume']} is not a Data volume")
        data = db.get("data_gib", 0)
        if isinstance(data, bool) or not isinstance(data, int | float) or data < 0:
            raise ProfileError(f"databases.{db_name}.data_gib must be a number of GiB, at least 0, got {data!r}")
    unique("databases", [db["name"] for db in databases])

    for ls in logservices:
        ls_name = name("logservices.name", ls.get("name"))
        if ls.get("priority", "Information") not in PRIORITIES:
            raise ProfileError(f"logservices.{ls_name}.priority must be one of {', '.join(PRIORITIES)}")
    unique("logservices", [ls["name"] for ls in logservices])
    for pl in plugins:
        if not isinstance(pl.get("name"), str) or not pl["name"]:
            raise ProfileError("plugins.name is required (like Administration.vmware-tools)")
    unique("plugins", [pl["name"] for pl in plugins])


def _check_volume_room(
    hardware: dict[str, Any], nodes: list[dict[str, Any]], license_servers: list[str], volumes: list[dict[str, Any]]
) -> None:
    """The volumes' segments must fit the storage disks of the nodes they are placed on."""
    db_nodes = [n["name"] for n in nodes]
    for v in volumes:
        names = v.get("nodes", db_nodes)
        if not names:
            raise ProfileError(f"volumes.{v.get('id')}.nodes must name at least one database node")
        on_ls = [n for n in names if n in license_servers]
        if on_ls:
            raise ProfileError(f"volumes.{v.get('id')}: {', '.join(on_ls)} is a license server, not a database node")
        for key in ("masternodes", "redundancy"):
            if v.get(key, 1) > len(names):
                raise ProfileError(f"volumes.{v.get('id')}.{key} is more than its {len(names)} node(s)")
    hw_of = {n["name"]: {**hardware, **n.get("hardware", {})} for n in nodes}
    for (node, disk), gib in sorted(profile_load(volumes, db_nodes).items()):
        layout = hw_of[node].get("disks", [])
        storage = [d for d in layout if d.get("type") == "Storage" and (d.get("name") == disk or not disk)]
        size = float(storage[0]["size_gib"]) if storage else 0.0
        if gib > size + 1e-6:
            name = disk or (storage[0]["name"] if storage else "a storage disk")
            raise ProfileError(f"volumes need {gib:.1f} GiB on {name} of {node}, which has {size:.1f} GiB")


def _check_node_name(name: Any, where: str) -> None:
    if not (isinstance(name, str) and len(name) == 5 and name[0] == "n" and name[1:].isdigit()):
        raise ProfileError(f"{where}: node names are n + four digits (n0011), got {name!r}")


_DEFAULT_CACHE: dict[str, Any] = {}


def _default_raw() -> dict[str, Any]:
    if "raw" not in _DEFAULT_CACHE:
        text = resources.files("exaop").joinpath("profiles/default.toml").read_text()
        _DEFAULT_CACHE["raw"] = tomllib.loads(text)
    return _DEFAULT_CACHE["raw"]


def _defaults(raw: dict[str, Any], table: str) -> dict[str, Any]:
    """The built-in profile's [table], under what a profile of its own leaves out."""
    return _default_raw()[table] if raw is not _DEFAULT_CACHE.get("raw") else {}


def default_profile() -> Profile:
    return parse_profile(_default_raw())


def load_profile(path: str | Path) -> Profile:
    try:
        raw = tomllib.loads(Path(path).read_text())
    except OSError as e:
        raise ProfileError(f"cannot read profile {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {path} is not valid TOML: {e}") from e
    return parse_profile(raw)
