"""The cluster object (/cluster1): nodes, services, the master, plugins, users, databases."""

from __future__ import annotations

import asyncio
from typing import Any

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.registry import ObjectType
from exaop.model import logs, software
from exaop.model.cluster import Cluster
from exaop.model.configurable import KINDS
from exaop.model.errors import NotFound
from exaop.model.plugins import FUNCTIONS, find_plugin
from exaop.model.users import ROLES, hash_password

CLUSTER = ObjectType("NodeCluster")
m = CLUSTER.method
OK = "OK"


def _has_master_by_name(cluster: Cluster) -> bool:
    return cluster.profile.dialect != "4.2"


# -- nodes ------------------------------------------------------------------------------------


@m("getNodeList", "read", "The names of the database nodes (license servers are not listed). "
   "It says nothing about whether they are up: see getNodeState.", returns="array")  # fmt: skip
def get_node_list(ctx: Context, c: Cluster) -> list[str]:
    return c.database_node_names()


@m("getNodeState", "read", "The state of a node as a dictionary; 'status' is 'Running' once the node is up.",
   returns="struct")  # fmt: skip
def get_node_state(ctx: Context, c: Cluster, node: str | int) -> dict[str, Any]:
    return c.node(node).state_dict()


@m("startupNode", "operate", "Power a node on through its server management card and boot it. "
   "Database nodes boot over PXE, so a license server must be running. Returns at once; "
   "watch getNodeState or the log for the end of the boot.")  # fmt: skip
def startup_node(ctx: Context, c: Cluster, node: str | int) -> str:
    c.node(node).startup()
    return OK


@m("shutdownNode", "operate", "Shut a node down and power it off. Refused while the node runs a "
   "database or EXAStorage. Shutting down the node that runs EXAoperation ends EXAoperation.")  # fmt: skip
def shutdown_node(ctx: Context, c: Cluster, node: str | int) -> str:
    c.node(node).shutdown()
    return OK


@m("getHardwareInformation", "read", "The node's DMI table as dmidecode prints it, when the node is "
   "online. infotype selects a DMI type (1: system, 4: processors, 17: memory, 0: all).")  # fmt: skip
def get_hardware_information(ctx: Context, c: Cluster, node: str | int, infotype: int | str = 1) -> str:
    return c.node(node).hardware_information(infotype)


# -- services and the master ------------------------------------------------------------------


@m("getServiceState", "read", "The cluster services and their state: pairs like ['Storaged', 'OK']; "
   "a stopped service reads 'not running'.", aliases=("getServiceStates",), returns="array")  # fmt: skip
def get_service_state(ctx: Context, c: Cluster) -> list[list[str]]:
    return c.service_states()


@m("getCurrentLicenseServer", "read", "The number of the node that runs the EXAoperation master, "
   "as an integer (10 for n0010).", returns="int")  # fmt: skip
def get_current_license_server(ctx: Context, c: Cluster) -> int:
    return c.nodes[c.master.node].number


@m("getEXAoperationMaster", "read", "The name of the node that runs the EXAoperation master.",
   available=_has_master_by_name)  # fmt: skip
def get_exaoperation_master(ctx: Context, c: Cluster) -> str:
    return c.master.node


@m("getEXAoperationNodes", "read", "The nodes EXAoperation may run on.", returns="array")
def get_exaoperation_nodes(ctx: Context, c: Cluster) -> list[str]:
    return c.exaoperation_nodes()


@m("getPossibleEXAoperationNodes", "read", "The nodes EXAoperation may run on that are online now.",
   returns="array")  # fmt: skip
def get_possible_exaoperation_nodes(ctx: Context, c: Cluster) -> list[str]:
    return c.possible_exaoperation_nodes()


@m("restartEXAoperation", "operate", "Restart EXAoperation on the given node ('' for the node it runs "
   "on now). EXAoperation does not answer while it restarts.")  # fmt: skip
def restart_exaoperation(ctx: Context, c: Cluster, node: str = "") -> str:
    c.restart_exaoperation(node)
    return OK


@m("haltLicenseServer", "operate", "Shut the license server down. EXAoperation ends with it once "
   "this call has been answered.")  # fmt: skip
def halt_license_server(ctx: Context, c: Cluster, node: str = "") -> str:
    c.halt_license_server(node)
    return OK


@m("clusterDesc", "read", "The cluster's description (cluster_desc of its properties).")
def cluster_desc(ctx: Context, c: Cluster) -> str:
    return str(c.settings.values["cluster_desc"])


@m("getEXASuiteVersion", "read", "The installed EXASuite version.")
def get_exasuite_version(ctx: Context, c: Cluster) -> str:
    return c.version


@m("getEXASolutionVersions", "read", "The installed database versions.", returns="array")
def get_exasolution_versions(ctx: Context, c: Cluster) -> list[str]:
    return software.installed_versions(c)


@m("getProperties", "read", "The cluster's settings as a dictionary (passwords as ******** when set): the fields "
   "of editNodeClusterNetwork, editNodeClusterDefaults, editMonitorThresholds and editRemoteSyslogSettings, the "
   "license, versions and plugins (settings.py and software.py change them).", returns="struct")  # fmt: skip
def get_properties(ctx: Context, c: Cluster) -> dict[str, Any]:
    return c.settings.properties()


@m("deleteSubObject", "operate", "Delete the object of that name directly below the cluster (a network, a "
   "route, a log service, a powered-off node no database or volume uses ...) with its settings and whatever is "
   "below it. Refused while something still uses it.")  # fmt: skip
def delete_sub_object(ctx: Context, c: Cluster, name: str) -> str:
    c.delete_child(name)
    return OK


# -- databases --------------------------------------------------------------------------------


@m("getDatabaseList", "read", "The names of the databases, without the 'db_' prefix of their objects.",
   aliases=("getAllDatabaseNames",), returns="array")  # fmt: skip
def get_database_list(ctx: Context, c: Cluster) -> list[str]:
    return sorted(c.databases)


@m("getAllDatabases", "read", "The object names of the databases ('db_' + name).", returns="array")
def get_all_databases(ctx: Context, c: Cluster) -> list[str]:
    return [f"db_{n}" for n in sorted(c.databases)]


# -- log services -----------------------------------------------------------------------------


@m("getAllLogServices", "read", "The log services, each a dictionary with at least 'name'.", returns="array")
def get_all_log_services(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [{"name": s.name, **s.properties()} for _, s in sorted(c.logservices.items())]


@m("deleteLogs", "operate", "Delete log entries: deleteLogs(delete_coredumps, db_name_list, start_date, "
   "stop_date). Dates are UTC, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM'; the start date is the first day (or "
   "minute) deleted, the stop date the last, and '' leaves that end open. A non-empty db_name_list "
   "deletes only those databases' messages; an empty one, every message in the range. "
   "delete_coredumps (True or False) is accepted, but this cluster keeps no core dumps. Returns how "
   "many entries were deleted; the log keeps one line saying what was deleted and by whom.",
   returns="int")  # fmt: skip
def delete_logs(ctx: Context, c: Cluster, delete_coredumps: bool, db_name_list: list, start_date: str,
                stop_date: str) -> int:  # fmt: skip
    return logs.delete_logs(c, delete_coredumps, db_name_list, start_date, stop_date, by=ctx.user.login)


@m("addLogService", "operate", "Create a log service from a dictionary (priority, "
   "exaclusteros_services, exasolution_systems, and optional fields); returns its name.")  # fmt: skip
def add_log_service(ctx: Context, c: Cluster, values: dict) -> str:
    return c.add_logservice(values).name


# -- plugins ----------------------------------------------------------------------------------


@m("callPlugin", "operate", "Run a plugin command on a node; returns [return code, output]. "
   "Commands: " + ", ".join(FUNCTIONS) + ".", returns="array")  # fmt: skip
def call_plugin(ctx: Context, c: Cluster, plugin: str, node: str | int, command: str, extra: Any = "") -> list[Any]:
    return find_plugin(c, plugin).call(node, command, extra)


@m("getPlugins", "read", "The installed plugins.", aliases=("showPluginList",), returns="array")
def get_plugins(ctx: Context, c: Cluster) -> list[str]:
    return sorted(c.plugins)


@m("havePlugins", "read", "Whether any plugin is installed.", returns="boolean")
def have_plugins(ctx: Context, c: Cluster) -> bool:
    return bool(c.plugins)


@m("showPluginFunctions", "read", "The commands a plugin offers.", returns="array")
def show_plugin_functions(ctx: Context, c: Cluster, plugin: str) -> list[str]:
    return find_plugin(c, plugin).functions()


# -- users and roles --------------------------------------------------------------------------


def _object_path(c: Cluster, name: str) -> list[str]:
    if name in ("", c.name, "/" + c.name):
        return [c.name]
    name = name.strip("/").removeprefix(c.name + "/")
    first, *deeper = name.split("/")
    if first not in child_names(c):
        raise NotFound(f"Object {name} not found in /{c.name}")
    parent = first
    for part in deeper:  # objects below objects: a bucket of a BucketFS (bfsdefault/default) ...
        if c.object_at(part, parent) is None:
            raise NotFound(f"Object {name} not found in /{c.name}")
        parent = f"{parent}/{part}"
    return [c.name, first, *deeper]


@m("getAllUsers", "read", "Every user as a dictionary (id, user_login, user_title, ...).", returns="array")
def get_all_users(ctx: Context, c: Cluster) -> list[dict[str, Any]]:
    return [u.describe() for _, u in sorted(c.users.by_id.items())]


@m("getAllUserLogins", "read", "Every user's login.", returns="array")
def get_all_user_logins(ctx: Context, c: Cluster) -> list[str]:
    return sorted(c.users.by_login)


@m("getAllUsersById", "read", "Every user, keyed by user id.", returns="struct")
def get_all_users_by_id(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {str(uid): u.describe() for uid, u in c.users.by_id.items()}


@m("getAllUsersByLogin", "read", "Every user, keyed by login.", returns="struct")
def get_all_users_by_login(ctx: Context, c: Cluster) -> dict[str, Any]:
    return {login: u.describe() for login, u in c.users.by_login.items()}


@m("getUserByName", "read", "One user, by login.", returns="struct")
def get_user_by_name(ctx: Context, c: Cluster, login: str) -> dict[str, Any]:
    return c.users.by_name(login).describe()


@m("getUserById", "read", "One user, by id (a number, as int or string).", returns="struct")
def get_user_by_id(ctx: Context, c: Cluster, user_id: int | str) -> dict[str, Any]:
    return c.users.get(user_id).describe()


@m("getLoginRole", "read", "The role a user (by default the caller) has on the cluster.")
def get_login_role(ctx: Context, c: Cluster, login: str = "") -> str:
    user = c.users.by_name(login) if login else ctx.user
    return c.users.role_on(user, [c.name])[0]


@m("addUser", "manage", "Create a user from a dictionary: user_login and password are required; "
   "user_title, user_description, ldapServer, ldapFullDN are optional. Returns the new user's id.",
   returns="int")  # fmt: skip
async def add_user(ctx: Context, c: Cluster, values: dict) -> int:
    return c.users.add(values, await _hash_off_loop(values)).uid


@m("editUser", "manage", "Change a user's fields (user_login, password, user_title, ...); returns "
   "the names of the fields that changed.", returns="array")  # fmt: skip
async def edit_user(ctx: Context, c: Cluster, login: str, values: dict) -> list[str]:
    return c.users.edit(login, values, await _hash_off_loop(values))


async def _hash_off_loop(values: dict) -> str | None:
    """argon2 takes ~100 ms: hash in a thread so the server keeps answering meanwhile."""
    password = values.get("password")
    if not isinstance(password, str) or len(password) < 4:
        return None  # the model refuses it with its reason
    return await asyncio.to_thread(hash_password, password)


@m("deleteUserById", "manage", "Delete a user by id.")
def delete_user_by_id(ctx: Context, c: Cluster, user_id: int | str) -> str:
    c.users.delete(c.users.get(user_id))
    return OK


@m("deleteUserByLogin", "manage", "Delete a user by login.")
def delete_user_by_login(ctx: Context, c: Cluster, login: str) -> str:
    c.users.delete(c.users.by_name(login))
    return OK


@m("grantRole", "manage", "Give a user a role on an object (and, unless overridden, the objects "
   "below it). Roles: " + ", ".join(ROLES) + ".")  # fmt: skip
def grant_role(ctx: Context, c: Cluster, object_name: str, user_id: int | str, role: str) -> str:
    c.users.grant(_object_path(c, object_name), user_id, role)
    return OK


@m("setDefaultRole", "manage", "Remove the role granted to a user on an object, so that the "
   "role inherited from above (or the default, User) applies.")  # fmt: skip
def set_default_role(ctx: Context, c: Cluster, object_name: str, user_id: int | str) -> str:
    c.users.set_default(_object_path(c, object_name), user_id)
    return OK


@m("getRolesForObject", "read", "The roles users have on an object: dictionaries with 'user' (id), "
   "'role' and 'default' (True when inherited). user_id '' lists every user with a grant.",
   returns="array")  # fmt: skip
def get_roles_for_object(ctx: Context, c: Cluster, object_name: str, user_id: int | str = "") -> list[dict[str, Any]]:
    return c.users.roles_for(_object_path(c, object_name), user_id)


def child_names(c: Cluster) -> list[str]:
    names = ["storage", "users", *c.nodes, *(f"db_{d}" for d in c.databases), *c.logservices]
    names += [o.name for kind in c.tables if kind in KINDS for o in c.objects(kind)]
    names += ["support", "setup"]
    if c.simulated:
        names.append("simulation")
    return names
