"""The cluster's own settings: what ``getProperties`` on /cluster1 shows and the
``editNodeCluster*`` / ``editMonitorThresholds`` / ``editRemoteSyslogSettings`` forms change.

One schema holds every field; each form may change only its own fields. Fields that other
methods set are read-only here: the license (``licenseUpdate``), the disk password
(``setDiskPassword``), the key store for passwords (``setKeyStore``), the versions and
plugins (computed). Besides the fields the object keeps what the cluster-wide methods
change: the NTP state, the firewall rules, EXAoperation's node priorities, uploaded TLS
files, what waits for EXAoperation's next start, the software and the license
(model/software.py).

Where a real cluster would act on something we do not have (NTP servers, a firewall, a
certificate in a web server), the methods check their input, keep it, log it and show it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from exaop.model import software
from exaop.model.base import Entity
from exaop.model.errors import NotFound, UsageError
from exaop.model.lists import list_values
from exaop.model.logs import strtime
from exaop.model.schema import Field, Schema

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

PERCENT = {"minimum": 1, "maximum": 100}
DAYS = {"minimum": 1, "maximum": 3650}
#: fields that take effect only when EXAoperation starts again
ON_RESTART = ("no_allow_backup_download", "no_allow_http", "disable_earlytls")
NTP_SERVERS = ("ntp_server1", "ntp_server2", "ntp_server3")
#: (warning, error) pairs of the monitor thresholds
THRESHOLD_PAIRS = (("disk_usage_warning", "disk_usage_error"), ("storage_usage_warning", "storage_usage_error"),
                   ("swap_warning", "swap_error"), ("load_warning", "load_error"))  # fmt: skip
_DEVICE = re.compile(r"^(/dev/)?[a-z][a-z0-9/_-]*$")


def _address(obj: Any, value: str, name: str = "") -> None:
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise UsageError(f"{name or 'the value'} {value!r} is not an IP address") from None


def _address_field(name: str) -> Any:
    return lambda obj, value: _address(obj, value, name)


def _host(name: str) -> Any:
    """An NTP server: an address or a host name."""

    def check(obj: Any, value: str) -> None:
        if value and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$", value):
            raise UsageError(f"{name} {value!r} is not a host name or an address")

    return check


def _network(obj: Any, value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise UsageError(f"external_network {value!r} is not a network such as 10.12.1.0/24") from None


def _ntp_key(obj: Any, value: str) -> None:
    if value:
        key_id, _, key = value.partition(" ")
        if not key_id.isdigit() or not key.strip():
            raise UsageError("ntp_key is the key's number and the key, separated by a space: '1 s3cr3t'")


def _devices(obj: Any, value: list[str]) -> None:
    bad = [d for d in value if not _DEVICE.match(d)]
    if bad:
        raise UsageError(f"default_devices: {', '.join(bad)} is not a device name such as /dev/sda")


def _update_url(obj: Any, value: str) -> None:
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "ftp") or not parts.hostname:
            raise UsageError(f"software_update_url {value!r} is not an http, https or ftp URL")
        if parts.username or parts.password:
            raise UsageError("software_update_url: give the user and the password in software_update_user and "
                             "software_update_password, not in the URL")  # fmt: skip


def _certificate(obj: Any, value: str) -> None:
    if value:
        software.load_certificates(value, "remote_syslog_ca_cert")


def _hardware_disk(cluster: Cluster | None, disk_type: str, default: int) -> int:
    disks = cluster.profile.hardware.get("disks", []) if cluster is not None else []
    sizes = [int(d["size_gib"]) for d in disks if d.get("type") == disk_type]
    return sizes[0] if sizes else default


def _fields(cluster: Cluster | None) -> list[Field]:
    """The fields, with the defaults of a new cluster made from ``cluster``'s profile (None: for help texts)."""
    mtus = lambda o: list_values(o.cluster, "Mtu")  # noqa: E731
    return [
        # -- the network form (editNodeClusterNetwork) --
        Field("cluster_desc", "TextLine", "The cluster's name as people see it.",
              default=cluster.profile.description if cluster else ""),
        Field("external_network", "TextLine", "The public network of the nodes, such as 10.12.1.0/24; a node's "
              "public address is this network's address plus the node's external_number.",
              default="10.60.1.0/24", check=_network),
        Field("default_gateway", "TextLine", "The gateway to the external network (an address in it).",
              check=_address_field("default_gateway")),
        Field("dns_server1", "TextLine", "The first DNS server's address.", check=_address_field("dns_server1")),
        Field("dns_server2", "TextLine", "The second DNS server's address.", check=_address_field("dns_server2")),
        Field("search_domain", "TextLine", "The DNS search domain: the cluster's domain name.", max_len=253),
        Field("ntp_server1", "TextLine", "The first NTP server (address or host name).", check=_host("ntp_server1")),
        Field("ntp_server2", "TextLine", "The second NTP server.", check=_host("ntp_server2")),
        Field("ntp_server3", "TextLine", "The third NTP server.", check=_host("ntp_server3")),
        Field("ntp_key", "TextLine", "The NTP key: its number and the key, separated by a space.", check=_ntp_key),
        Field("time_zone", "Choice", "The cluster's time zone; databases take a change when they start again.",
              default="UTC", choices=lambda o: list_values(o.cluster, "TimeZones")),
        Field("mtu_private", "Choice", "Largest packet on the private network, in bytes.", default="1500",
              choices=mtus),
        Field("mtu_public", "Choice", "Largest packet on the public network, in bytes.", default="1500",
              choices=mtus),
        Field("protected_node_mem", "Int", "Memory of each node (GiB) that databases must leave to the system.",
              default=4, minimum=0, maximum=1 << 20),
        Field("disable_broadcast", "Bool", "Do not use broadcasts (for networks that do not allow them)."),
        Field("disable_earlytls", "Bool", "Disable early TLS for EXAoperation; takes effect when EXAoperation "
              "starts again."),
        Field("no_allow_backup_download", "Bool", "No access to archive volumes from outside; takes effect when "
              "EXAoperation starts again."),
        Field("no_allow_http", "Bool", "No plain HTTP for EXAoperation and archive volumes; takes effect when "
              "EXAoperation starts again."),
        Field("no_mac_check", "Bool", "Do not check the nodes' MAC addresses when they boot."),
        Field("software_update_url", "TextLine", "Where software updates come from (http, https or ftp); see "
              "getAvailableUpdatesList and getSoftware.", check=_update_url),
        Field("software_update_user", "TextLine", "The user for the update URL."),
        Field("software_update_password", "Password", "The password for the update URL."),
        # -- the defaults form (editNodeClusterDefaults): what a node's disks get unless it says otherwise --
        Field("default_os_size", "Int", "Size of a node's OS disk in GiB.",
              default=_hardware_disk(cluster, "OS", 100), minimum=1, maximum=1 << 20),
        Field("default_swap_size", "Int", "Size of a node's swap disk in GiB.",
              default=_hardware_disk(cluster, "Swap", 16), minimum=0, maximum=1 << 20),
        Field("default_data_size", "Int", "Size of a node's data disk in GiB.",
              default=_hardware_disk(cluster, "Data", 200), minimum=1, maximum=1 << 20),
        Field("default_devices", "List", "The disk devices a node's disks are made of, such as /dev/sda.",
              default=["/dev/sda"], check=_devices),
        Field("default_diskenc", "Choice", "Encryption of the nodes' data disks.", default="none",
              choices=lambda o: list_values(o.cluster, "EncrTypes")),
        Field("default_diskraid", "Choice", "Software RAID of the nodes' disks.", default="none",
              choices=lambda o: list_values(o.cluster, "RaidTypes")),
        Field("default_raidredundancy", "Int", "Copies of each block with RAID 10.", default=2, minimum=1,
              maximum=8),
        # -- the monitor thresholds (editMonitorThresholds): percent, except load and the days --
        Field("disk_usage_warning", "Int", "Disk usage (%) from which a warning is logged.", default=85, **PERCENT),
        Field("disk_usage_error", "Int", "Disk usage (%) from which an error is logged.", default=95, **PERCENT),
        Field("storage_usage_warning", "Int", "EXAStorage usage (%) from which a warning is logged.", default=85,
              **PERCENT),
        Field("storage_usage_error", "Int", "EXAStorage usage (%) from which an error is logged.", default=95,
              **PERCENT),
        Field("swap_warning", "Int", "Swap usage (%) from which a warning is logged.", default=50, **PERCENT),
        Field("swap_error", "Int", "Swap usage (%) from which an error is logged.", default=80, **PERCENT),
        Field("load_warning", "Int", "System load from which a warning is logged.", default=16, minimum=1,
              maximum=100_000),
        Field("load_error", "Int", "System load from which an error is logged.", default=32, minimum=1,
              maximum=100_000),
        Field("rawmem_warning", "Int", "Share (%) of the license's database memory that the databases' memory "
              "may reach before a warning is logged.", default=90, **PERCENT),
        Field("coredump_deletion_time", "Int", "Days after which core dumps are deleted.", default=30, **DAYS),
        Field("sqllog_deletion_time", "Int", "Days after which SQL logs are deleted.", default=365, **DAYS),
        # -- the remote syslog settings (editRemoteSyslogSettings); servers are set per log service --
        Field("remote_syslog_encrypted", "Bool", "Send to remote syslog servers over TLS (TCP services only)."),
        Field("remote_syslog_ca_cert", "Text", "The CA certificate(s), PEM, that remote syslog servers' "
              "certificates are checked against ('' for the system's).", check=_certificate),
        # -- set by their own methods --
        Field("node_disk_password", "Password", "The nodes' disk password (setDiskPassword); nodes are installed "
              "again when it changes.", read_only=True),
        Field("password_keystore", "TextLine", "The key store whose key encrypts the stored passwords "
              "(setKeyStore; '' for EXAoperation's own).", read_only=True),
        Field("exacluster_version", "TextLine", "The installed EXAClusterOS version.", read_only=True),
        Field("exasolution_versions", "List", "The installed database versions.", read_only=True),
        Field("plugins", "List", "The installed plugins.", read_only=True),
        *(Field(f"license_{k}", t, doc, read_only=True) for k, t, doc in software.LICENSE_FIELDS),
    ]  # fmt: skip


FORMS: dict[str, tuple[str, ...]] = {
    "editNodeClusterNetwork": ("cluster_desc", "default_gateway", "disable_broadcast", "disable_earlytls",
                               "dns_server1", "dns_server2", "external_network", "mtu_private", "mtu_public",
                               "no_allow_backup_download", "no_allow_http", "no_mac_check", "ntp_key", *NTP_SERVERS,
                               "protected_node_mem", "search_domain", "time_zone", "software_update_url",
                               "software_update_user", "software_update_password"),
    "editNodeClusterDefaults": ("default_data_size", "default_devices", "default_diskenc", "default_diskraid",
                                "default_os_size", "default_raidredundancy", "default_swap_size"),
    "editMonitorThresholds": ("coredump_deletion_time", "disk_usage_error", "disk_usage_warning", "load_error",
                              "load_warning", "rawmem_warning", "sqllog_deletion_time", "storage_usage_error",
                              "storage_usage_warning", "swap_error", "swap_warning"),
    "editRemoteSyslogSettings": ("remote_syslog_ca_cert", "remote_syslog_encrypted"),
}  # fmt: skip
THRESHOLDS = FORMS["editMonitorThresholds"]


def form_schema(form: str, cluster: Cluster | None = None) -> Schema:
    """The fields one edit form may change (``cluster``: with its defaults; None: for help texts)."""
    fields = {f.name: f for f in _fields(cluster)}
    return Schema(f"cluster ({form})", [fields[n] for n in FORMS[form]])


_FIREWALL_LINE = re.compile(
    r"^(ACCEPT|DROP|REJECT)\s+(tcp|udp|icmp|all)(?:\s+(\d{1,5})(?::(\d{1,5}))?)?(?:\s+from\s+(\S+))?$", re.I
)


class Settings(Entity):
    kind = "settings"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.schema = Schema("cluster", _fields(cluster))
        self.forms = {form: Schema(f"cluster ({form})", [self.schema.fields[n] for n in names])
                      for form, names in FORMS.items()}  # fmt: skip
        self.values: dict[str, Any] = {f.name: f.empty() for f in self.schema}
        self.ntp_synced: dict[str, float] = {}  # NTP server -> when it was last synchronised with
        self.firewall = ""  # the submitted rules ('' : the rules made from the configuration)
        self.priorities: list[str] = []  # EXAoperation's nodes, first choice first ([]: the profile's order)
        self.restart_needed: list[str] = []  # what waits for EXAoperation's next start
        self.tls: dict[str, str] = {}  # an uploaded certificate (PEM) and its key (sealed)
        self.software: dict[str, Any] = software.initial(cluster)
        self.license: dict[str, Any] = software.initial_license()

    @property
    def key(self) -> str:
        return "settings"

    STATE = ("values", "ntp_synced", "firewall", "priorities", "restart_needed", "tls", "software", "license")

    def record(self) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in self.STATE}, "deadline": self.deadline}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Settings:
        s = cls(cluster)
        for f in cls.STATE:
            if f in rec:
                current = getattr(s, f)
                setattr(s, f, {**current, **rec[f]} if isinstance(current, dict) else rec[f])
        s.restore_deadline(rec.get("deadline"))
        return s

    # -- what getProperties shows --------------------------------------------------------------

    def properties(self) -> dict[str, Any]:
        c = self.cluster
        computed = {
            "exacluster_version": c.version,
            "exasolution_versions": software.installed_versions(c),
            "plugins": sorted(c.plugins),
            **{f"license_{k}": self.license.get(k, "") for k, _, _ in software.LICENSE_FIELDS},
        }
        return self.schema.public({**self.values, **computed})

    def secret(self, field: str) -> str:
        sealed = self.values.get(field, "")
        return self.cluster.unseal(sealed) if sealed else ""

    # -- the edit forms ---------------------------------------------------------------------------

    def edit(self, form: str, values: Any) -> list[str]:
        """Apply a dictionary of ``form``'s fields, checked together; returns those that changed."""
        new = self.forms[form].validate(values, self, creating=False, seal=self.cluster.seal)
        merged = {**self.values, **new}
        self._check(merged)
        changed = sorted(k for k, v in new.items() if self.values.get(k) != v)
        if not changed:
            return []
        self.values = merged
        self.changed()
        self.cluster.log("EXAoperation", "", "Notice", f"cluster settings changed: {', '.join(changed)}")
        self._consequences(changed)
        return changed

    def _check(self, v: dict[str, Any]) -> None:
        for warning, error in THRESHOLD_PAIRS:
            if v[warning] >= v[error]:
                raise UsageError(f"{warning} ({v[warning]}) must be below {error} ({v[error]})")
        gateway = v["default_gateway"]
        if gateway and ipaddress.ip_address(gateway) not in ipaddress.ip_network(v["external_network"], strict=False):
            raise UsageError(f"default_gateway {gateway} is not in external_network {v['external_network']}")
        memory = int(self.cluster.profile.hardware.get("memory_gib", 0))
        if memory and v["protected_node_mem"] >= memory:
            raise UsageError(f"protected_node_mem must be below the nodes' memory ({memory} GiB), "
                             f"got {v['protected_node_mem']}")  # fmt: skip
        if v["software_update_password"] and not v["software_update_url"]:
            raise UsageError("software_update_password needs a software_update_url")

    def _consequences(self, changed: list[str]) -> None:
        c = self.cluster
        if any(f in changed for f in (*NTP_SERVERS, "ntp_key")):
            self.ntp_synced = {}
        waiting = [f for f in changed if f in ON_RESTART and f not in self.restart_needed]
        if waiting:
            self.restart_needed += waiting
            c.log("EXAoperation", "", "Notice",
                  f"{', '.join(waiting)}: take(s) effect when EXAoperation starts again")  # fmt: skip
        if "time_zone" in changed:
            running = sorted(db.name for db in c.databases.values() if db.uses_storage)
            if running:
                c.log("EXAoperation", "", "Warning", f"time zone is now {self.values['time_zone']}; running "
                      f"database(s) {', '.join(running)} keep the old one until they start again")  # fmt: skip
        if "rawmem_warning" in changed:
            software.check_memory(c)

    def exaoperation_started(self) -> None:
        """EXAoperation (re)started: what waited for it is in effect now."""
        if self.restart_needed or self.tls.get("pending"):
            self.cluster.log("EXAoperation", "", "Notice", "now in effect: "
                             + ", ".join(self.restart_needed + (["the uploaded TLS files"] if self.tls.get("pending")
                                                                 else [])))  # fmt: skip
            self.restart_needed = []
            self.tls.pop("pending", None)
            self.changed()

    def on_deadline(self) -> None:
        software.job_done(self.cluster)

    # -- time and NTP ---------------------------------------------------------------------------

    def ntp_servers(self) -> list[str]:
        return [self.values[f] for f in NTP_SERVERS if self.values[f]]

    def ntp_state(self) -> list[dict[str, Any]]:
        """One dictionary per NTP server: whether the license server synchronised with it, and when."""
        return [
            {"server": s, "state": "synchronized" if s in self.ntp_synced else "not synchronized",
             "last_sync": strtime(self.ntp_synced[s]) if s in self.ntp_synced else "",
             "key": "yes" if self.values["ntp_key"] else "no"}
            for s in self.ntp_servers()
        ]  # fmt: skip

    def synchronize_ntp(self) -> list[str]:
        servers = self.ntp_servers()
        if not servers:
            raise UsageError("no NTP server is configured: set ntp_server1 with editNodeClusterNetwork")
        for s in servers:
            self.ntp_synced[s] = self.cluster.now
        self.changed()
        self.cluster.log("EXAoperation", self.cluster.master.node, "Notice",
                         f"license server synchronized with NTP server(s) {', '.join(servers)}")  # fmt: skip
        return servers

    def cluster_time_step(self, text: Any) -> float:
        """setClusterTime('YYYY-MM-DD HH:MM:SS'): how far the clock must move forward (seconds).
        Refused when NTP servers set the time, or for a time before now: the cluster's clock is
        the simulation's, and it never runs backwards."""
        if self.ntp_servers():
            raise UsageError(f"the cluster's time comes from NTP server(s) {', '.join(self.ntp_servers())}; "
                             "remove them with editNodeClusterNetwork to set it by hand")  # fmt: skip
        if not isinstance(text, str):
            raise UsageError("the time must be a string 'YYYY-MM-DD HH:MM:SS' (UTC)")
        try:
            at = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise UsageError(f"{text!r} is not a time 'YYYY-MM-DD HH:MM:SS' (UTC)") from None
        if at < self.cluster.now:
            raise UsageError(f"{text.strip()} is before the cluster's time ({strtime(self.cluster.now)[:19]}); "
                             "its clock only moves forward")  # fmt: skip
        return at - self.cluster.now

    def cluster_time_set(self, before: float) -> None:
        now = strtime(self.cluster.now)[:19]
        self.cluster.log("EXAoperation", self.cluster.master.node, "Notice",
                         f"cluster time set from {strtime(before)[:19]} to {now}")  # fmt: skip

    # -- the firewall --------------------------------------------------------------------------------

    def default_firewall(self) -> str:
        c = self.cluster
        lines = [f"# firewall rules of the nodes of {c.name}, made from its configuration",
                 "# ACTION PROTOCOL [PORT[:PORT]] [from NETWORK]",
                 "ACCEPT tcp 443        # EXAoperation (HTTPS)", "ACCEPT tcp 22         # ssh"]  # fmt: skip
        if not self.values["no_allow_http"]:
            lines.append("ACCEPT tcp 80         # EXAoperation (HTTP)")
        for db in sorted(c.databases.values(), key=lambda d: d.name):
            lines.append(f"ACCEPT tcp {db.port:<10} # database {db.name}")
        for fs in c.objects("bucketfs"):
            conf = fs.saved  # what the service runs with: changes count once saved (saveBucketFSChanges)
            for field in ("http_port", "https_port"):
                if conf.get(field):
                    lines.append(f"ACCEPT tcp {conf[field]:<10} # BucketFS {fs.name} ({field[:-5]})")
        lines += [f"ACCEPT all from {c.profile.private_network}  # the private network", "ACCEPT icmp", "DROP all"]
        return "\n".join(lines) + "\n"

    def firewall_configuration(self, node: Any) -> str:
        self.cluster.node(node)  # NotFound for a node that does not exist
        return self.firewall or self.default_firewall()

    def submit_firewall(self, text: Any) -> int:
        """New rules for every node ('' : back to the rules made from the configuration); returns how many."""
        if not isinstance(text, str):
            raise UsageError("the firewall configuration is a text of rules, one per line")
        rules = 0
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = _FIREWALL_LINE.match(line)
            if m is None:
                raise UsageError(f"line {number}: {line!r} is not 'ACCEPT|DROP|REJECT tcp|udp|icmp|all "
                                 "[PORT[:PORT]] [from NETWORK]'")  # fmt: skip
            low, high, source = m.group(3), m.group(4), m.group(5)
            if low and not (1 <= int(low) <= 65535 and (high is None or int(low) <= int(high) <= 65535)):
                raise UsageError(f"line {number}: port(s) {low}{':' + high if high else ''} out of 1-65535")
            if low and m.group(2).lower() in ("icmp", "all"):
                raise UsageError(f"line {number}: {m.group(2)} has no ports")
            if source:
                try:
                    ipaddress.ip_network(source, strict=False)
                except ValueError:
                    raise UsageError(f"line {number}: {source!r} is not a network such as 10.0.0.0/8") from None
            rules += 1
        if text.strip() and not rules:
            raise UsageError("the firewall configuration has no rule")
        self.firewall = text if rules else ""
        self.changed()
        what = f"{rules} rule(s) submitted" if rules else "back to the rules made from the configuration"
        self.cluster.log("EXAoperation", "", "Notice", f"firewall of every node: {what}")
        return rules

    # -- EXAoperation's nodes ------------------------------------------------------------------------

    def exaoperation_order(self, nodes: list[str]) -> list[str]:
        """EXAoperation's nodes, first choice first (setPriorities; the profile's order by default)."""
        return [n for n in self.priorities if n in nodes] + [n for n in nodes if n not in self.priorities]

    def set_priorities(self, order: Any) -> list[str]:
        nodes = self.cluster.profile.exaoperation_nodes
        if isinstance(order, dict):  # {node: priority}, higher first
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in order.values()):
                raise UsageError("priorities must be whole numbers (higher: chosen first)")
            order = sorted(order, key=lambda n: -order[n])
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            raise UsageError("setPriorities takes the EXAoperation nodes, first choice first (a list of names), "
                             "or a dictionary of node name to priority")  # fmt: skip
        unknown = [n for n in order if n not in nodes]
        if unknown:
            raise UsageError(f"{', '.join(unknown)}: not an EXAoperation node; they are: {', '.join(nodes)}")
        if len(set(order)) != len(order) or set(order) != set(nodes):
            raise UsageError(f"name each EXAoperation node once: {', '.join(nodes)}")
        self.priorities = list(order)
        self.changed()
        self.cluster.log("EXAoperation", "", "Notice", f"EXAoperation node priorities: {', '.join(order)}")
        return list(order)

    def reinit_priorities(self) -> list[str]:
        self.priorities = []
        self.changed()
        order = self.exaoperation_order(self.cluster.profile.exaoperation_nodes)
        self.cluster.log("EXAoperation", "", "Notice", f"EXAoperation node priorities reset: {', '.join(order)}")
        return order

    # -- secrets, key store, TLS ------------------------------------------------------------------

    def set_disk_password(self, password: Any) -> list[str]:
        """A new disk password: every database node is installed again at its next boot. Returns them."""
        if not isinstance(password, str) or len(password) < 8:
            raise UsageError("the disk password must be a string of at least 8 characters")
        if "\n" in password:
            raise UsageError("the disk password must be a single line")
        self.values["node_disk_password"] = self.cluster.seal(password)
        self.changed()
        nodes = self.cluster.database_node_names()
        for n in nodes:
            self.cluster.nodes[n].set_mode("to_install", True, log=False)
        self.cluster.log("EXAoperation", "", "Warning", "node disk password changed: node(s) "
                         f"{', '.join(nodes)} are installed again at their next boot")  # fmt: skip
        return nodes

    def set_key_store(self, name: Any) -> str:
        from exaop.model.keystore import LOCKED, KeyStore, key_store

        if name in ("", None):
            ks = None
        else:
            try:
                ks = key_store(self.cluster, name, by="name")
            except NotFound:
                ks = key_store(self.cluster, name, by="object")
            assert isinstance(ks, KeyStore)
            if ks.status == LOCKED:
                raise UsageError(f"key store {ks.name} is locked; unlock it first")
        self.values["password_keystore"] = ks.name if ks else ""
        self.changed()
        what = f"key store {ks.name} ({ks.values['key_store_name']})" if ks else "EXAoperation's own key"
        self.cluster.log("EXAoperation", "", "Notice", f"stored passwords are encrypted with {what}")
        return ks.name if ks else ""

    def upload_tls(self, cert: Any, key: Any) -> dict[str, str]:
        """New TLS files for EXAoperation's web server, in effect once it starts again."""
        info = software.check_tls_pair(cert, key, self.cluster.now)
        self.tls = {"cert": cert, "key": self.cluster.seal(key), "pending": "yes", **info}
        self.changed()
        self.cluster.log("EXAoperation", "", "Notice", f"TLS certificate for {info['subject']} (valid until "
                         f"{info['not_after']}) uploaded; in effect when EXAoperation starts again")  # fmt: skip
        return info

    def need_restart(self) -> bool:
        return bool(self.restart_needed or self.tls.get("pending"))
