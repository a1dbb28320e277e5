"""The cluster's own settings on /cluster1: the editNodeCluster* forms, monitor thresholds, remote
syslog settings, NTP and the cluster time, the firewall, EXAoperation's priorities, TLS files, the
disk password (model/settings.py). getProperties itself is in cluster.py."""

from __future__ import annotations

from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import OK, fields_help
from exaop.model.cluster import Cluster
from exaop.model.settings import FORMS, THRESHOLDS, form_schema

m = CLUSTER.method

FORM_INTROS = {
    "editNodeClusterNetwork": "Change the cluster's network settings (addresses, DNS, NTP, time zone, MTUs, the "
    "software update URL ...). Fields marked as taking effect when EXAoperation starts again are reported by "
    "needEXAoperationRestart until then; a new time zone reaches running databases when they start again.",
    "editNodeClusterDefaults": "Change the defaults a node's disks get unless the node says otherwise.",
    "editMonitorThresholds": "Change the monitor's thresholds: warnings below errors; the memory warning is "
    "checked against the license at once.",
    "editRemoteSyslogSettings": "Change how log messages reach remote syslog servers (the servers themselves are "
    "set per log service: remote_syslog_server, remote_syslog_protocol). With remote_syslog_encrypted, TCP "
    "services send over TLS, checking the server against remote_syslog_ca_cert (or the system's CAs).",
}


def _form(name: str) -> None:
    def edit(ctx: Context, c: Cluster, values: dict) -> list[str]:
        return c.settings.edit(name, values)

    help_text = (f"{FORM_INTROS[name]} A dictionary with any of these fields, checked together before anything "
                 f"changes; returns the names of the fields that changed.\n\n"
                 + fields_help(form_schema(name), creating=False))  # fmt: skip
    m(name, "operate", help_text, returns="array")(edit)


for _name in FORMS:
    _form(_name)


@m("getMonitoringThresholdValues", "read", "The monitor thresholds (the fields of editMonitorThresholds).",
   returns="struct")  # fmt: skip
def get_monitoring_threshold_values(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {k: c.settings.values[k] for k in THRESHOLDS}


@m("getCoredumpDeletionTime", "read", "Days after which core dumps are deleted.", returns="int")
def get_coredump_deletion_time(ctx: Context, c: Cluster) -> int:
    return int(c.settings.values["coredump_deletion_time"])


@m("getSqlLogDeletionTime", "read", "Days after which SQL logs are deleted.", returns="int")
def get_sql_log_deletion_time(ctx: Context, c: Cluster) -> int:
    return int(c.settings.values["sqllog_deletion_time"])


@m("getDomainName", "read", "The cluster's domain name: search_domain of the network settings ('' when unset).")
def get_domain_name(ctx: Context, c: Cluster) -> str:
    return str(c.settings.values["search_domain"])


@m("getNTPServiceState", "read", "Each configured NTP server: dictionaries with server, state ('synchronized' or "
   "'not synchronized'), last_sync and whether a key is set. The simulated license server reaches every "
   "configured server.", returns="array")  # fmt: skip
def get_ntp_service_state(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return c.settings.ntp_state()


@m("synchronizeNTP", "operate", "Synchronise the license server with the configured NTP servers now; returns the "
   "servers. Refused when none is configured.", returns="array")  # fmt: skip
def synchronize_ntp(ctx: Context, c: Cluster) -> list[str]:
    return c.settings.synchronize_ntp()


@m("setClusterTime", "operate", "Set the cluster's time: setClusterTime('YYYY-MM-DD HH:MM:SS'), UTC. The cluster's "
   "clock is the simulation's: it moves forward to that time, and everything due meanwhile happens. Refused "
   "for an earlier time, and while NTP servers set the time.")  # fmt: skip
def set_cluster_time(ctx: Context, c: Cluster, time: str) -> str:
    step = c.settings.cluster_time_step(time)
    before = c.now
    ctx.runtime.advance_clock(step)
    c.settings.cluster_time_set(before)
    return OK


@m("getFirewallConfiguration", "read", "The firewall rules of a node: one rule a line, 'ACCEPT|DROP|REJECT "
   "PROTOCOL [PORT[:PORT]] [from NETWORK]'. Unless rules were submitted they are made from the configuration "
   "(EXAoperation, the databases' and BucketFS ports, the private network).")  # fmt: skip
def get_firewall_configuration(ctx: Context, c: Cluster, node: str | int) -> str:
    return c.settings.firewall_configuration(node)


@m("submitFirewallConfiguration", "operate", "Give every node these firewall rules (the format of "
   "getFirewallConfiguration; '#' starts a comment; '' goes back to the rules made from the configuration). "
   "Every line is checked first. Returns how many rules there are.", returns="int")  # fmt: skip
def submit_firewall_configuration(ctx: Context, c: Cluster, configuration: str) -> int:
    return c.settings.submit_firewall(configuration)


@m("setPriorities", "operate", "Set the order in which EXAoperation's nodes are chosen: every EXAoperation node "
   "once, first choice first (or {node: priority}, higher first). getEXAoperationNodes answers in this order. "
   "Returns the order.", returns="array")  # fmt: skip
def set_priorities(ctx: Context, c: Cluster, priorities: list | dict) -> list[str]:
    return c.settings.set_priorities(priorities)


@m("reinitEXAoperationPriorities", "operate", "Go back to the profile's order of EXAoperation's nodes; returns it.",
   returns="array")  # fmt: skip
def reinit_exaoperation_priorities(ctx: Context, c: Cluster) -> list[str]:
    return c.settings.reinit_priorities()


@m("needEXAoperationRestart", "read", "Whether settings wait for EXAoperation to start again (no_allow_http, "
   "no_allow_backup_download, disable_earlytls, uploaded TLS files); restartEXAoperation puts them in effect.",
   returns="boolean")  # fmt: skip
def need_exaoperation_restart(ctx: Context, c: Cluster) -> bool:
    return c.settings.need_restart()


@m("uploadTlsFiles", "manage", "New TLS files for EXAoperation's web server: uploadTlsFiles(cert, private_key), "
   "PEM strings (the certificate first, then its chain; the key unencrypted). They must belong together and "
   "be valid now; the key is kept encrypted. In effect once EXAoperation starts again (see "
   "needEXAoperationRestart).")  # fmt: skip
def upload_tls_files(ctx: Context, c: Cluster, cert: str, private_key: str) -> str:
    c.settings.upload_tls(cert, private_key)
    return OK


@m("setDiskPassword", "manage", "Set the nodes' disk password (at least 8 characters; kept encrypted, shown as "
   "******** in getProperties). Every database node is then installed again at its next boot.")  # fmt: skip
def set_disk_password(ctx: Context, c: Cluster, new_node_disk_password: str) -> str:
    c.settings.set_disk_password(new_node_disk_password)
    return OK
