"""Settings of the lifecycle tool: flags over environment over config file over defaults.

Config files: TOML (``exaop.toml``) or the public Exasol scripts' ``startstop.cfg`` INI::

    [startstop]
    username = admin
    password = ...
    hostname = license-server
    licenseServerNode = n0010
    exaOperationTimeout = 600
    caFile = /etc/exaop/ca.pem     # ours: the CA that signed EXAoperation's certificate
    insecure = no                  # ours: yes skips the certificate check
    api = confd                    # ours: the cluster is managed through ConfD (hostname: host:20003)
"""

from __future__ import annotations

import configparser
import getpass
import netrc
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from exaop.client.detect import APIS
from exaop.ops.errors import ConfigError

DEFAULT_TIMEOUTS: dict[str, float] = {
    # start
    "reachable": 600,
    "nodes": 1200,
    "storage": 600,
    "databases": 1800,
    "plugins": 300,
    # stop
    "master": 600,
    "stop_databases": 1800,
    "stop_storage": 600,
    "stop_nodes": 900,
    "license_servers": 600,
    # one look
    "status": 30,
    "logs": 30,
}
HEARTBEAT = 30.0  # real seconds: a wait that sees nothing new says so at least this often


@dataclass
class PluginStep:
    """A plugin service to bring up after the databases (the seed's vmware-tools example)."""

    plugin: str
    restart_on: list[str] = field(default_factory=list)  # STOP then START on these nodes first
    ensure_running: bool = True  # then START wherever STATUS lacks running_text
    running_text: str = "is running"


@dataclass
class Options:
    url: str = ""
    api: str | None = None  # 'exaoperation' or 'confd'; None: found out from the URL
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False
    ca_file: str | None = None
    license_servers: list[str] = field(default_factory=lambda: ["n0010"])
    ignore_nodes: list[str] = field(default_factory=list)
    timeouts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    call_timeout: float = 60.0
    force: bool = False
    move_master: bool = False
    dry_run: bool = False
    parallel: int = 32
    heartbeat: float = HEARTBEAT
    plugins: list[PluginStep] = field(default_factory=list)

    def timeout(self, phase: str) -> float:
        return self.timeouts.get(phase, 600.0)


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration(text: Any, what: str = "duration") -> float:
    """'30m', '1h30m', '90s', '90' -> seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        m = _DURATION.match(str(text).strip().lower())
        if not m or not any(m.groups()):
            raise ConfigError(f"{what}: {text!r} is not a duration (write e.g. 90s, 30m, 1h30m)")
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        value = h * 3600 + mi * 60 + s
    if value <= 0:
        raise ConfigError(f"{what} must be positive")
    return value


def node_name(value: Any) -> str:
    text = str(value).strip()
    if text.isdigit():
        return f"n{int(text):04d}"
    if re.fullmatch(r"n\d{4}", text):
        return text
    raise ConfigError(f"{value!r} is not a node (write n0010 or 10)")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: it is not UTF-8 text") from None


_TEXT, _DURATION_TYPES = (str,), (str, int, float)
#: TOML settings: the types each may have, and how a message says so
TOML_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "url": (_TEXT, "a string"), "user": (_TEXT, "a string"), "password": (_TEXT, "a string"),
    "insecure": ((bool,), "true or false"), "ca_file": (_TEXT, "a string"),
    "license_servers": ((list,), "a list of nodes"), "ignore_nodes": ((list,), "a list of nodes"),
    "timeout": (_DURATION_TYPES, "a duration"), "timeouts": ((dict,), "a table of durations"),
    "call_timeout": (_DURATION_TYPES, "a duration"), "heartbeat": (_DURATION_TYPES, "a duration"),
    "parallel": ((int,), "a whole number"), "plugins": ((list,), "a list of [[plugins]] tables"),
    "api": (_TEXT, "exaoperation or confd"),
}  # fmt: skip


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    unknown = set(raw) - set(TOML_TYPES)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        types, what = TOML_TYPES[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ConfigError(f"{path}: {key} must be {what}, not {value!r}")
    return raw


def _load_startstop(path: Path) -> dict[str, Any]:
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string(_read(path), source=str(path))
    except configparser.Error as e:
        raise ConfigError(f"{path} is not a valid startstop.cfg: {e}") from None
    if not parser.has_section("startstop"):
        raise ConfigError(f"{path} has no [startstop] section")
    sec = parser["startstop"]
    out: dict[str, Any] = {}
    if sec.get("api"):
        out["api"] = sec["api"]
    if sec.get("hostname"):
        confd = str(sec.get("api", "")).strip().lower() == "confd"  # ConfD: no path; EXAoperation: the cluster's
        out["url"] = f"https://{sec['hostname']}" + ("" if confd else "/cluster1")
    if sec.get("username"):
        out["user"] = sec["username"]
    if sec.get("password"):
        out["password"] = sec["password"]
    if sec.get("licenseServerNode"):
        out["license_servers"] = [sec["licenseServerNode"]]
    if sec.get("exaOperationTimeout"):
        out["timeouts"] = {"reachable": sec["exaOperationTimeout"], "master": sec["exaOperationTimeout"]}
    ca_file = sec.get("caFile") or sec.get("ca_file")
    if ca_file:
        out["ca_file"] = ca_file
    if sec.get("insecure"):
        try:
            out["insecure"] = sec.getboolean("insecure")
        except ValueError:
            raise ConfigError(f"{path}: insecure must be yes or no, not {sec['insecure']!r}") from None
    return out


def load_file(path: str | Path | None) -> dict[str, Any]:
    """Settings from a config file; the default ./exaop.toml only if it exists."""
    if path is None:
        default = Path("exaop.toml")
        return _load_toml(default) if default.exists() else {}
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist")
    if p.suffix == ".cfg" or p.name == "startstop.cfg":
        return _load_startstop(p)
    return _load_toml(p)


def build_options(file: dict[str, Any], flags: dict[str, Any], env: dict[str, str] | None = None) -> Options:
    """Merge file settings, environment (EXAOP_URL, EXAOP_USER, EXAOP_PASSWORD) and flags."""
    env = dict(os.environ) if env is None else env
    o = Options()
    merged: dict[str, Any] = dict(file)
    for key, var in (("url", "EXAOP_URL"), ("user", "EXAOP_USER"), ("password", "EXAOP_PASSWORD")):
        if env.get(var):
            merged[key] = env[var]
    merged.update({k: v for k, v in flags.items() if v is not None and v is not False and v != []})
    o.url = str(merged.get("url") or "")
    if not o.url:
        raise ConfigError("no EXAoperation URL (or ConfD URL): pass --url, set EXAOP_URL or put url in the config file")
    parts = urlsplit(o.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("the URL must look like https://license-server/cluster1 (EXAoperation) or "
                          "https://node:20003 (ConfD)")  # fmt: skip
    if merged.get("api") is not None:
        api = str(merged["api"]).strip().lower()
        if api not in APIS:
            raise ConfigError(f"api must be one of {', '.join(APIS)}, not {merged['api']!r}")
        o.api = api
    o.user = merged.get("user") or parts.username
    o.password = merged.get("password") or parts.password
    if parts.username or parts.password:  # used, but not kept where a repr or a message would show them
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        o.url = urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))
    o.insecure = bool(merged.get("insecure", False))
    o.ca_file = merged.get("ca_file")
    if o.ca_file and not Path(o.ca_file).exists():
        raise ConfigError(f"CA file {o.ca_file} does not exist")
    if o.ca_file and o.insecure:
        raise ConfigError("a CA file and --insecure exclude each other: verify the certificate, or do not")
    o.license_servers = [node_name(n) for n in merged.get("license_servers", ["n0010"])]
    o.ignore_nodes = [node_name(n) for n in merged.get("ignore_nodes", [])]
    if not o.license_servers:
        raise ConfigError("license_servers must name at least one node")
    for phase, value in dict(merged.get("timeouts", {})).items():
        if phase not in DEFAULT_TIMEOUTS:
            raise ConfigError(f"unknown timeout {phase!r}; known: {', '.join(DEFAULT_TIMEOUTS)}")
        o.timeouts[phase] = parse_duration(value, f"timeouts.{phase}")
    if merged.get("timeout") is not None:
        every = parse_duration(merged["timeout"], "--timeout")
        o.timeouts = {k: every for k in o.timeouts}
    if merged.get("call_timeout") is not None:
        o.call_timeout = parse_duration(merged["call_timeout"], "call_timeout")
    if merged.get("heartbeat") is not None:
        o.heartbeat = parse_duration(merged["heartbeat"], "heartbeat")
    if merged.get("parallel") is not None:
        try:
            o.parallel = int(merged["parallel"])
        except (TypeError, ValueError):
            raise ConfigError(f"parallel must be a whole number, not {merged['parallel']!r}") from None
        if not 1 <= o.parallel <= 256:
            raise ConfigError("parallel must be from 1 to 256")
    for key in ("force", "move_master", "dry_run"):
        setattr(o, key, bool(merged.get(key, False)))
    for p in merged.get("plugins", []):
        if not isinstance(p, dict) or "name" not in p:
            raise ConfigError("each [[plugins]] entry needs a name")
        restart_on = p.get("restart_on", [])
        if not isinstance(restart_on, list):
            raise ConfigError(f"plugin {p['name']}: restart_on must be a list of nodes")
        o.plugins.append(
            PluginStep(
                plugin=str(p["name"]),
                restart_on=[node_name(n) for n in restart_on],
                ensure_running=bool(p.get("ensure_running", True)),
                running_text=str(p.get("running_text", "is running")),
            )
        )
    return o


def resolve_password(o: Options, interactive: bool | None = None) -> None:
    """Fill in the password from ~/.netrc or a prompt when it is still missing."""
    if o.password:
        return
    host = urlsplit(o.url).hostname or ""
    try:
        auth = netrc.netrc().authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        auth = None
    if auth:
        login, _, password = auth
        if o.user is None or o.user == login:
            o.user = o.user or login
            o.password = password
            return
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ConfigError("no password: set EXAOP_PASSWORD, add the host to ~/.netrc, or run on a terminal")
    if o.user is None:
        o.user = input(f"EXAoperation user for {host}: ").strip()
    o.password = getpass.getpass(f"password for {o.user}@{host}: ")
