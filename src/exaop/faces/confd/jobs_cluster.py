"""Cluster jobs: license_info, master_change, settings_list, general_settings, st_node_list,
st_device_info, and the system users (user_list, user_info, user_create, user_passwd, user_delete)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from exaop.faces.confd import views
from exaop.faces.confd.registry import Wait, job, p
from exaop.faces.confd.service import JobContext, Outcome, condition
from exaop.model import jobs, storage_nodes
from exaop.model.errors import NotFound, UsageError
from exaop.model.users import ROLES, hash_password

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster
    from exaop.model.users import User

# -- the license and the master ---------------------------------------------------------------------


@job("license_info", "read", "The cluster's license: Contract (company, serial number, expiration_date ...) and "
     "Limits (max_db_mem_size_in_gb, max_nodes; 0: none).")  # fmt: skip
def license_info(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    lic = ctx.cluster.settings.license
    return {
        "Contract": {"company": lic.get("companyname", ""), "distributor": lic.get("distributor", ""),
                     "id_number": lic.get("idnumber", ""), "serial_number": lic.get("serial_number", ""),
                     "comment": lic.get("comment", ""), "expiration_date": lic.get("expiration", "") or "never"},
        "Limits": {"max_db_mem_size_in_gb": int(lic.get("maxdbmemory", 0) or 0),
                   "max_nodes": int(lic.get("maxnodes", 0) or 0)},
        "Features": list(lic.get("features", [])),
    }  # fmt: skip


@job("master_change", "operate", "Move the cluster's master (where ConfD's master and EXAoperation run) to "
     "another node; the job ends once it runs there. GET /master tells where it is.",
     mandatory=(p("nids", (int, list), "The id of the new master node (a list of one id is taken too)."),),
     example={"nids": [10]})  # fmt: skip
def master_change(ctx: JobContext, params: dict[str, Any]) -> Wait:
    nodes = views.nodes_by_ids(ctx.cluster, params["nids"], "nids")
    if len(nodes) != 1:
        raise UsageError(f"nids: the master is one node; {len(nodes)} given")
    ctx.cluster.restart_exaoperation(nodes[0].name)
    return Wait({"until": "master_moved", "node": nodes[0].name, "what": f"the master on {nodes[0].name}"})


@condition("master_moved")
def _master_moved(c: Cluster, wait: dict[str, Any]) -> Outcome | None:
    if c.master.restarting:
        return None
    if c.master.node == wait["node"]:
        return jobs.OK, "Success", None
    return jobs.FAILED, f"the master stayed on {c.master.node}: {wait['node']} went down while it moved", None


# -- settings (EXAConf's sections, as far as this cluster keeps them) --------------------------------


def _dns(c: Cluster) -> str:
    v = c.settings.values
    return ",".join(x for x in (v.get("dns_server1", ""), v.get("dns_server2", "")) if x)


def _set_dns(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise UsageError("Global.NameServers must be a string of addresses separated by commas")
    servers = [s.strip() for s in text.split(",") if s.strip()]
    if len(servers) > 2:
        raise UsageError("Global.NameServers: this cluster keeps at most two name servers")
    servers += [""] * (2 - len(servers))
    return {"dns_server1": servers[0], "dns_server2": servers[1]}


def _field(name: str, kind: type) -> tuple[Any, Any]:
    def get(c: Cluster) -> Any:
        return c.settings.values.get(name)

    def put(value: Any) -> dict[str, Any]:
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise UsageError(f"{name} must be {kind.__name__}")
        return {name: value}

    return get, put


#: (section, key) -> (read it, the settings fields to write for a value); the keys general_settings
#: may change are ConfD's whitelist, as far as this cluster keeps them
SETTINGS: dict[tuple[str, str], tuple[Any, Any]] = {
    ("Global", "NameServers"): (_dns, _set_dns),
    ("Global", "SearchDomains"): _field("search_domain", str),
    ("Global", "Networks"): _field("external_network", str),
    ("Global", "LicenseRAWMEMWarnThreshold"): _field("rawmem_warning", int),
}
#: what settings_list shows besides, read-only
READ_ONLY: dict[tuple[str, str], Any] = {
    ("Global", "ClusterName"): lambda c: c.name,
    ("Global", "Revision"): lambda c: jobs.book(c).revision,
    ("Global", "Timezone"): lambda c: c.settings.values.get("time_zone", "UTC"),
    ("Global", "NTPServers"): lambda c: ",".join(c.settings.ntp_servers()),
}
WHITELIST = {"Global": ["SSHPort", "XMLRPCPort", "WebUIBackendPort", "WebUIDomain", "EnableLoadBalancer", "Networks",
                        "NameServers", "SearchDomains", "LicenseRAWMEMWarnThreshold", "Hugepages", "IssueTracker",
                        "StorageConnectionThreads", "StorageMaxConnections", "ExaMonitorUserName",
                        "ExaMonitorUserPassword"],
             "Logging": ["LogRotationTypes", "RemoteLogRotationVolume", "RemoteLogRotationPrefix"]}  # fmt: skip


@job("settings_list", "read", "The cluster's settings by section, as EXAConf names them (Global: ClusterName, "
     "NameServers, SearchDomains, Networks, LicenseRAWMEMWarnThreshold, Revision ...). sections: only these, "
     "like {'Global': ['NameServers']} ({'Global': []}: the whole section).",
     optional=(p("sections", dict, "Sections and the keys wanted in each."),),
     example={"sections": {"Global": ["NameServers", "SearchDomains"]}})  # fmt: skip
def settings_list(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    readers = {k: get for k, (get, _) in SETTINGS.items()} | READ_ONLY
    out: dict[str, dict[str, Any]] = {}
    for (section, key), get in sorted(readers.items()):
        out.setdefault(section, {})[key] = get(c)
    wanted = params.get("sections")
    if wanted is None:
        return out
    picked: dict[str, Any] = {}
    for section, keys in wanted.items():
        if section not in out:
            raise NotFound(f"sections: no section {section!r} (sections: {', '.join(sorted(out))})")
        if not isinstance(keys, list):
            raise UsageError(f"sections: the keys of {section} must be a list")
        missing = [k for k in keys if k not in out[section]]
        if missing:
            raise NotFound(f"sections: {section} has no {missing[0]!r} here (keys: {', '.join(out[section])})")
        picked[section] = {k: out[section][k] for k in keys} if keys else out[section]
    return picked


@job("general_settings", "manage", "Change settings: changes like {'Global': {'NameServers': '10.0.0.2'}}. "
     "ConfD's whitelist allows " + "; ".join(f"{s}: {', '.join(k)}" for s, k in WHITELIST.items()) + ". Of "
     "those, this cluster keeps Global NameServers (two at most), SearchDomains, Networks and "
     "LicenseRAWMEMWarnThreshold; the job fails for the others, naming them, before anything changes.",
     mandatory=(p("changes", dict, "The sections and their keys' new values."),),
     example={"changes": {"Global": {"NameServers": "10.0.0.2"}}})  # fmt: skip
def general_settings(ctx: JobContext, params: dict[str, Any]) -> list[str]:
    values: dict[str, Any] = {}
    changed: list[str] = []
    for section, keys in params["changes"].items():
        if not isinstance(keys, dict):
            raise UsageError(f"changes: {section} must map keys to values")
        for key, value in keys.items():
            if key not in WHITELIST.get(section, []):
                raise UsageError(f"changes: {section}.{key} may not be changed (see job_help('general_settings'))")
            entry = SETTINGS.get((section, key))
            if entry is None:
                raise UsageError(f"changes: {section}.{key} is not kept by this cluster; nothing was changed")
            values.update(entry[1](value))
            changed.append(f"{section}.{key}")
    if not changed:
        raise UsageError("changes: give at least one setting")
    _edit_forms(ctx.cluster, values)
    return changed


def _form(field: str) -> str:
    return "editMonitorThresholds" if field == "rawmem_warning" else "editNodeClusterNetwork"


def _edit_forms(c: Cluster, values: dict[str, Any]) -> None:
    """Fields of one or two edit forms: each form's fields checked before either is applied."""
    by_form: dict[str, dict[str, Any]] = {}
    for k, v in values.items():
        by_form.setdefault(_form(k), {})[k] = v
    for form, part in by_form.items():
        c.settings.forms[form].validate(part, c.settings, creating=False, seal=c.seal)
    for form, part in by_form.items():
        c.settings.edit(form, part)


# -- EXAStorage's nodes and devices -------------------------------------------------------------------


@job("st_node_list", "read", "EXAStorage's nodes: id, name, state, disk space, free space, the size of the "
     "volume copies they hold.")  # fmt: skip
def st_node_list(ctx: JobContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    c = ctx.cluster
    out = []
    for info in storage_nodes.nodes_information(c):
        node = c.nodes[info["name"]]
        out.append({"id": views.nid(node), "name": node.name, "state": info["state"],
                    "disk_space": views.size_text(info["disk_space"]),
                    "free_space": views.size_text(info["free_space"]),
                    "node_size": views.size_text(info["node_size"]), "online": node.online})  # fmt: skip
    return out


@job("st_device_info", "read", "The EXAStorage devices (disks) of a node: name, state, size, used, IO errors.",
     mandatory=(p("nid", int, "Id of the node."),), example={"nid": 11})  # fmt: skip
def st_device_info(ctx: JobContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    node = views.node_by_id(ctx.cluster, params["nid"], "nid")
    sn = storage_nodes.storage_node(ctx.cluster, node.name)
    return [{**d, "size": views.size_text(d["size"]), "used": views.size_text(d["used"])} for d in sn.devices()]


# -- system users ---------------------------------------------------------------------------------------

#: ConfD's groups and the role each gives on the cluster
GROUP_ROLES = {"root": "Master", "exaadm": "Administrator", "exadbadm": "Administrator",
               "exastoradm": "Administrator", "exausers": "User"}  # fmt: skip
ROLE_GROUPS = {"Master": "root", "Administrator": "exaadm", "Supervisor": "exausers", "User": "exausers"}
USERNAME = p("username", str, "Login of the user.")


def _user(c: Cluster, u: User) -> dict[str, Any]:
    role, _ = c.users.role_on(u, [c.name])
    return {"username": u.login, "userid": u.uid, "group": ROLE_GROUPS.get(role, "exausers"), "role": role,
            "login_enabled": True, "description": u.description}  # fmt: skip


async def _hash(params: dict[str, Any]) -> dict[str, Any]:
    """argon2 takes ~100 ms: the hash is made in a thread so the server keeps answering."""
    password = params.get("password")
    if not isinstance(password, str) or len(password) < 4:
        return {}  # the model refuses it with its reason
    return {"hashed": await asyncio.to_thread(hash_password, password)}


@job("user_list", "read", "Every user: username, userid, group, role, login_enabled.")
def user_list(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    c = ctx.cluster
    return {u.login: _user(c, u) for u in sorted(c.users.by_id.values(), key=lambda u: u.uid)}


@job("user_info", "read", "One user: username, userid, group, role, login_enabled.", mandatory=(USERNAME,),
     example={"username": "admin"})  # fmt: skip
def user_info(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return _user(ctx.cluster, ctx.cluster.users.by_name(params["username"]))


@job("user_create", "manage", "Create a user. group gives the role: root Master; exaadm, exadbadm, exastoradm "
     "Administrator; exausers User. The same users log in to EXAoperation's face.",
     mandatory=(USERNAME, p("userid", int, "Id of the new user (a free one)."),
                p("password", str, "Password of the new user."),
                p("group", (str, int), "Group: " + ", ".join(GROUP_ROLES) + "."),
                p("login_enabled", bool, "Whether the user may log in (only True here).")),
     example={"username": "ops", "userid": 1001, "password": "s3cret-pass", "group": "exaadm",
              "login_enabled": True}, prepare=_hash)  # fmt: skip
def user_create(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    role = _role(params["group"])
    if not params["login_enabled"]:
        raise UsageError("login_enabled: users here can always log in; user_delete removes one")
    user = c.users.add({"user_login": params["username"], "password": params["password"]},
                       ctx.prepared.get("hashed"), uid=params["userid"])  # fmt: skip
    c.users.grant([c.name], user.uid, role)


def _role(group: Any) -> str:
    if group not in GROUP_ROLES:
        raise UsageError(f"group must be one of {', '.join(GROUP_ROLES)}, got {group!r}")
    role = GROUP_ROLES[group]
    assert role in ROLES
    return role


@job("user_passwd", "manage", "Set a user's password.",
     mandatory=(USERNAME, p("password", str, "The new password.")),
     example={"username": "ops", "password": "n3w-s3cret"}, prepare=_hash)  # fmt: skip
def user_passwd(ctx: JobContext, params: dict[str, Any]) -> None:
    ctx.cluster.users.edit(params["username"], {"password": params["password"]}, ctx.prepared.get("hashed"))


@job("user_delete", "manage", "Delete a user (not the last one with the Master role).", mandatory=(USERNAME,),
     example={"username": "ops"})  # fmt: skip
def user_delete(ctx: JobContext, params: dict[str, Any]) -> None:
    c = ctx.cluster
    c.users.delete(c.users.by_name(params["username"]))
