"""Roles over the wire: User and Supervisor read, Administrator operates, Master also manages
users and roles and alone reaches /cluster1/simulation. Grants on an object override the
cluster's. A refused call is a Forbidden fault naming the role, never a 401 or a 500.

One server for the module; the users are created once (argon2 makes each one cost).
"""

from __future__ import annotations

from collections.abc import Iterator
from xmlrpc.client import ProtocolError, ServerProxy

import pytest

from tests.integration.wirekit import fault, module_server
from tests.serverproc import ServerProcess

ROLES = ["User", "Supervisor", "Administrator", "Master"]
LOGIN = {role: role.lower() for role in ROLES}
PASSWORD = {role: f"pw-{role.lower()}-1" for role in ROLES}
PLUGIN = "Administration.vmware-tools"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    for s in module_server(tmp_path_factory, "roles"):
        admin = s.proxy()
        for role in ROLES:
            uid = admin.addUser({"user_login": LOGIN[role], "password": PASSWORD[role], "user_title": role})
            assert isinstance(uid, int)
            assert admin.grantRole("cluster1", uid, role) == "OK"
        yield s


def as_role(srv: ServerProcess, role: str, path: str = "/cluster1") -> ServerProxy:
    return srv.proxy(path, LOGIN[role], PASSWORD[role])


def forbidden(fn, *args) -> str:  # type: ignore[no-untyped-def]
    f = fault(fn, *args)
    assert f.faultString.startswith("Forbidden: "), f.faultString
    return f.faultString


def test_users_were_created_with_their_roles(srv: ServerProcess) -> None:
    admin = srv.proxy()
    assert admin.getAllUserLogins() == sorted(["admin", *LOGIN.values()])
    for role in ROLES:
        user = admin.getUserByName(LOGIN[role])
        assert user["user_login"] == LOGIN[role] and user["user_title"] == role
        assert "password" not in user and not any("hash" in k for k in user)
        assert admin.getLoginRole(LOGIN[role]) == role
        assert as_role(srv, role).getLoginRole() == role
        roles = admin.getRolesForObject("cluster1", user["id"])
        assert roles == [{"user": user["id"], "role": role, "default": False}]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads(srv: ServerProcess, role: str) -> None:
    c = as_role(srv, role)
    assert c.getNodeList() == ["n0011", "n0012", "n0013", "n0014"]
    assert c.getServiceState()[0] == ["Loggingd", "OK"]
    assert c.storage.serviceIsOnline() is False
    assert c.db_exa_db1.getDatabaseState() == "setup"
    assert len(as_role(srv, role, "/cluster1/logservice1").logEntries()) == 3
    assert "startupNode" in as_role(srv, role, "/cluster1/n0011").listMethods()
    assert c.getAllUsers()


@pytest.mark.parametrize("role", ["User", "Supervisor"])
def test_user_and_supervisor_cannot_operate(srv: ServerProcess, role: str) -> None:
    c = as_role(srv, role)
    text = forbidden(c.startupNode, "n0011")
    assert text == (
        f"Forbidden: user {LOGIN[role]} has role {role} on cluster1; startupNode needs role Administrator or higher"
    )
    forbidden(c.shutdownNode, "n0011")
    forbidden(as_role(srv, role, "/cluster1/n0011").startupNode)
    forbidden(c.storage.startEXAStorage)
    forbidden(c.storage.stopEXAStorage)
    forbidden(c.db_exa_db1.startDatabase)
    forbidden(c.db_exa_db1.stopDatabase)
    forbidden(c.callPlugin, PLUGIN, "n0010", "STATUS")
    forbidden(c.restartEXAoperation, "")
    forbidden(c.haltLicenseServer, "")
    forbidden(c.deleteLogs, False, [], "", "")
    forbidden(c.addUser, {"user_login": "mallory", "password": "xxxxxxxx"})
    forbidden(c.grantRole, "cluster1", LOGIN[role], "Master")
    # nothing happened
    admin = srv.proxy()
    assert admin.getNodeState("n0011")["status"] == "Powered off"
    assert "mallory" not in admin.getAllUserLogins()
    assert admin.getLoginRole(LOGIN[role]) == role


def test_administrator_operates_but_does_not_manage_users(srv: ServerProcess) -> None:
    c = as_role(srv, "Administrator")
    assert c.callPlugin(PLUGIN, "n0010", "START")[0] == 0
    assert c.callPlugin(PLUGIN, "n0010", "STOP")[0] == 0
    # operating is allowed: the refusal that comes is the model's, not the role's
    f = fault(c.storage.startEXAStorage)
    assert f.faultString.startswith("UsageError: EXAStorage cannot start: node(s) not online")
    f = fault(c.db_exa_db1.startDatabase)
    assert f.faultString.startswith("UsageError: database exa_db1 cannot start")
    assert c.deleteLogs(False, [], "1999-01-01", "1999-01-31") == 0
    text = forbidden(c.addUser, {"user_login": "mallory", "password": "xxxxxxxx"})
    assert text.endswith("addUser needs role Master or higher")
    forbidden(c.grantRole, "cluster1", "administrator", "Master")
    forbidden(c.editUser, "user", {"user_title": "x"})
    forbidden(c.deleteUserByLogin, "user")
    forbidden(c.setDefaultRole, "cluster1", "user")


@pytest.mark.parametrize("role", ["User", "Supervisor", "Administrator"])
def test_simulation_is_for_master_only(srv: ServerProcess, role: str) -> None:
    sim = as_role(srv, role, "/cluster1/simulation")
    forbidden(sim.advanceClock, 10)
    forbidden(sim.getClock)
    forbidden(sim.injectFault, "n0011", "crash")
    forbidden(sim.clearFaults)
    forbidden(sim.setClockSpeed, 100)
    forbidden(as_role(srv, role).simulation.advanceClock, 10)  # dotted, too


def test_master_does_everything(srv: ServerProcess) -> None:
    c = as_role(srv, "Master")
    assert isinstance(c.simulation.getClock()["now"], float)
    uid = c.addUser({"user_login": "temp", "password": "temp-pass"})
    assert c.grantRole("cluster1", uid, "Supervisor") == "OK"
    assert c.getLoginRole("temp") == "Supervisor"
    assert srv.proxy("/cluster1", "temp", "temp-pass").getNodeList()
    # a changed password takes effect at once, even though good logins are remembered
    assert c.editUser("temp", {"password": "other-pass"}) == ["password"]
    with pytest.raises(ProtocolError) as exc:
        srv.proxy("/cluster1", "temp", "temp-pass").getNodeList()
    assert exc.value.errcode == 401
    assert srv.proxy("/cluster1", "temp", "other-pass").getNodeList()
    # a deleted user is locked out at once
    assert c.deleteUserByLogin("temp") == "OK"
    with pytest.raises(ProtocolError) as exc:
        srv.proxy("/cluster1", "temp", "other-pass").getNodeList()
    assert exc.value.errcode == 401
    assert c.callPlugin(PLUGIN, "n0010", "STATUS")[0] in (0, 3)


def test_a_grant_on_an_object_overrides_the_cluster_role(srv: ServerProcess) -> None:
    admin = srv.proxy()
    uid = admin.getUserByName("user")["id"]
    assert admin.grantRole("db_exa_db1", uid, "Administrator") == "OK"
    try:
        assert admin.getRolesForObject("db_exa_db1", uid) == [{"user": uid, "role": "Administrator", "default": False}]
        assert admin.getRolesForObject("storage", uid) == [{"user": uid, "role": "User", "default": True}]
        db = as_role(srv, "User", "/cluster1/db_exa_db1")
        f = fault(db.startDatabase)  # allowed by the role; refused by the model
        assert f.faultString.startswith("UsageError: database exa_db1 cannot start: EXAStorage is not online")
        f = fault(as_role(srv, "User").db_exa_db1.startDatabase)  # dotted from the cluster: same object, same role
        assert f.faultString.startswith("UsageError:")
        forbidden(as_role(srv, "User").storage.startEXAStorage)
        forbidden(as_role(srv, "User").startupNode, "n0011")
    finally:
        assert admin.setDefaultRole("db_exa_db1", uid) == "OK"
    forbidden(as_role(srv, "User", "/cluster1/db_exa_db1").startDatabase)
    # and the other way round: a lower role on the object wins over the cluster's
    adm_uid = admin.getUserByName("administrator")["id"]
    admin.grantRole("db_exa_db1", adm_uid, "Supervisor")
    try:
        forbidden(as_role(srv, "Administrator", "/cluster1/db_exa_db1").startDatabase)
        assert as_role(srv, "Administrator").callPlugin(PLUGIN, "n0010", "STATUS")[0] in (0, 3)
    finally:
        admin.setDefaultRole("db_exa_db1", adm_uid)


def test_the_last_master_cannot_be_demoted_over_the_wire(srv: ServerProcess) -> None:
    master = as_role(srv, "Master")
    admin_id = master.getUserByName("admin")["id"]
    assert master.grantRole("cluster1", admin_id, "Administrator") == "OK"
    try:
        forbidden(srv.proxy().addUser, {"user_login": "x", "password": "xxxxxxxx"})
        f = fault(master.grantRole, "cluster1", "master", "User")
        assert f.faultString == "UsageError: master is the last user with the Master role on the cluster"
        f = fault(master.deleteUserByLogin, "master")
        assert f.faultString == "UsageError: master is the last user with the Master role on the cluster"
    finally:
        assert master.grantRole("cluster1", admin_id, "Master") == "OK"
    assert srv.proxy().getLoginRole() == "Master"


def test_user_management_refusals_are_faults(srv: ServerProcess) -> None:
    admin = srv.proxy()
    f = fault(admin.addUser, {"user_login": "user", "password": "xxxxxxxx"})
    assert f.faultString == "UsageError: a user with login 'user' already exists"
    f = fault(admin.grantRole, "cluster1", "user", "Owner")
    assert f.faultString == "UsageError: role must be one of User, Supervisor, Administrator, Master"
    f = fault(admin.grantRole, "nosuchobject", "user", "User")
    assert f.faultString.startswith("Unexpected Zope exception: NotFound: Object nosuchobject")
    f = fault(admin.grantRole, "cluster1", 999, "User")
    assert f.faultString.startswith("Unexpected Zope exception: NotFound: Object 999")
    f = fault(admin.addUser, "not a dict")
    assert f.faultString == "UsageError: addUser: argument values must be struct, got str"
