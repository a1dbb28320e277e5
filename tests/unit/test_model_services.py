"""Log services, users and roles, plugins, and the EXAoperation master."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from exaop.model import users as users_module
from exaop.model.errors import Forbidden, NotFound, UsageError
from exaop.model.users import User
from tests.unit.modelkit import Sim, refusal, without_jitter

PLUGIN = "Administration.vmware-tools"


# -- log services -------------------------------------------------------------------------------


def test_log_service_filters_by_priority() -> None:
    s = Sim()
    svc = s.c.logservices["logservice1"]
    s.c.log("EXAoperation", "n0011", "Information", "info message")
    s.c.log("EXAoperation", "n0011", "Error", "error message")
    assert {"info message", "error message"} <= {e.message for e in svc.entries()}
    assert svc.configure({"priority": "Warning"}) == ["priority"]
    shown = svc.entries()
    assert "error message" in {e.message for e in shown}
    assert all(e.priority in ("Error", "Warning") for e in shown)


def test_log_service_filters_by_system() -> None:
    s = Sim()
    s.boot()
    s.storage_online()
    s.db_running()
    svc = s.c.logservices["logservice1"]
    systems = {e.system for e in svc.entries()}
    assert {"EXAoperation", "Storage", "exa_db1"} <= systems
    svc.configure({"exaclusteros_services": ["Storage"], "exasolution_systems": []})
    assert {e.system for e in svc.entries()} == {"Storage"}
    svc.configure({"exaclusteros_services": [], "exasolution_systems": ["exa_db1"]})
    assert {e.system for e in svc.entries()} == {"exa_db1"}


def test_log_entries_have_the_fields_clients_read() -> None:
    s = Sim()
    s.boot("n0011")
    entry = next(e for e in s.c.logservices["logservice1"].entries() if e.message.startswith("Boot process"))
    assert entry.node == "n0011" and entry.priority == "Notice" and entry.system == "EXAoperation"
    assert len(entry.as_dict()["strtime"]) == len("2023-11-14 22:13:20.000")


def test_log_entries_cover_the_default_interval_only() -> None:
    s = Sim()
    svc = s.c.logservices["logservice1"]
    s.c.log("EXAoperation", "", "Notice", "old news")
    s.advance(2 * 86400)
    s.c.log("EXAoperation", "", "Notice", "fresh news")
    assert [e.message for e in svc.entries()] == ["fresh news"]


def test_log_entries_tagged_gives_each_message_once_per_tag() -> None:
    s = Sim()
    svc = s.c.logservices["logservice1"]
    first = [e.message for e in svc.entries_tagged("monitor")]
    assert "EXAoperation started on n0010" in first
    assert svc.entries_tagged("monitor") == []
    s.c.log("EXAoperation", "", "Warning", "one")
    s.c.log("EXAoperation", "", "Notice", "two")
    assert [e.message for e in svc.entries_tagged("monitor")] == ["one", "two"]
    assert svc.entries_tagged("monitor") == []
    # another tag has its own memory
    assert [e.message for e in svc.entries_tagged("other")][-2:] == ["one", "two"]
    # messages the service does not show do not come back later
    svc.configure({"priority": "Error"})
    s.c.log("EXAoperation", "", "Notice", "hidden")
    assert svc.entries_tagged("monitor") == []
    svc.configure({"priority": "Information"})
    assert svc.entries_tagged("monitor") == []
    with pytest.raises(UsageError, match="the tag must be a non-empty string"):
        svc.entries_tagged("")


def test_log_service_configure_refusals() -> None:
    s = Sim()
    svc = s.c.logservices["logservice1"]
    assert (
        refusal(svc.configure, {"priority": "Debug"}) == "priority must be one of Error, Warning, Notice, Information"
    )
    assert refusal(svc.configure, {"exasolution_systems": ["nosuch"]}) == "unknown database(s): nosuch"
    assert "unknown field(s) colour" in refusal(svc.configure, {"colour": "red"})
    assert "default_interval 'forever'" in refusal(svc.configure, {"default_interval": "forever"})


def test_add_log_service() -> None:
    s = Sim()
    svc = s.c.add_logservice({"priority": "Error", "exaclusteros_services": ["Storage"], "exasolution_systems": []})
    assert svc.name == "logservice2" and s.c.logservices["logservice2"] is svc
    assert refusal(s.c.add_logservice, {"priority": "Error"}) == "exaclusteros_services is required for a log service"


# -- users and roles ----------------------------------------------------------------------------


@pytest.fixture
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost: the model's rules, not the hash's cost, are under test."""
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def with_admin() -> tuple[Sim, User]:
    s = Sim()
    admin = User(s.c, 1, "admin")
    admin.set_password("admin-secret")
    admin.grants[s.c.name] = "Master"
    s.c.users.load(admin)
    return s, admin


def test_add_edit_delete_user(fast_hashes: None) -> None:
    s, _ = with_admin()
    users = s.c.users
    u = users.add({"user_login": "alice", "password": "pw-alice", "user_title": "DBA"})
    assert u.uid == 2 and users.by_name("alice") is u and users.get(2) is u and users.get("2") is u
    assert u.describe()["user_title"] == "DBA"
    assert u.verify("pw-alice") and not u.verify("wrong")
    assert "user alice added" in s.messages()
    assert users.edit("alice", {"user_title": "Lead DBA"}) == ["user_title"]
    version = u.password_version
    assert users.edit("alice", {"password": "new-secret"}) == ["password"]
    assert u.password_version == version + 1 and u.verify("new-secret")
    assert users.edit("alice", {"user_login": "alicia"}) == ["user_login"]
    assert users.by_name("alicia") is u
    with pytest.raises(NotFound):
        users.by_name("alice")
    users.delete(u)
    with pytest.raises(NotFound, match=r"^Object 2 \(user\) not found$"):
        users.get(2)
    assert "user alicia deleted" in s.messages()


def test_add_user_refusals(fast_hashes: None) -> None:
    s, _ = with_admin()
    users = s.c.users
    assert refusal(users.add, {"user_login": "admin", "password": "xxxx"}) == "a user with login 'admin' already exists"
    assert refusal(users.add, {"user_login": "bob"}) == "password is required (also for LDAP users)"
    assert refusal(users.add, {"user_login": "bob", "password": "x"}) == (
        "password must be a string of at least 4 characters"
    )
    assert "unknown field(s) role" in refusal(users.add, {"user_login": "bob", "password": "xxxx", "role": "Master"})
    assert "user_login '1bob' is not valid" in refusal(users.add, {"user_login": "1bob", "password": "xxxx"})
    assert refusal(users.add, "bob") == "addUser takes a dictionary with user_login and password"
    assert "bob" not in users.by_login


def test_the_last_master_is_protected(fast_hashes: None) -> None:
    s, admin = with_admin()
    users = s.c.users
    last = "admin is the last user with the Master role on the cluster"
    assert refusal(users.delete, admin) == last
    assert refusal(users.grant, ["cluster1"], 1, "Administrator") == last
    assert refusal(users.set_default, ["cluster1"], "admin") == last
    bob = users.add({"user_login": "bob", "password": "pw-bob"})
    users.grant(["cluster1"], bob.uid, "Master")
    users.grant(["cluster1"], "admin", "Administrator")  # bob is a Master now
    assert refusal(users.delete, bob) == "bob is the last user with the Master role on the cluster"
    users.grant(["cluster1"], "admin", "Master")
    users.delete(bob)
    assert list(users.by_login) == ["admin"]


def test_roles_are_inherited_from_the_cluster_unless_granted_on_the_object(fast_hashes: None) -> None:
    s, _ = with_admin()
    users = s.c.users
    bob = users.add({"user_login": "bob", "password": "pw-bob"})
    db_path, storage_path = ["cluster1", "db_exa_db1"], ["cluster1", "storage"]
    assert users.role_on(bob, ["cluster1"]) == ("User", True)  # nobody granted anything: default
    users.grant(["cluster1"], bob.uid, "Administrator")
    assert users.role_on(bob, db_path) == ("Administrator", True)
    users.authorize(bob, db_path, "operate", "startDatabase")
    users.grant(db_path, "bob", "Supervisor")
    assert users.role_on(bob, db_path) == ("Supervisor", False)
    assert users.role_on(bob, storage_path) == ("Administrator", True)
    users.authorize(bob, db_path, "read", "getDatabaseState")
    with pytest.raises(Forbidden) as exc:
        users.authorize(bob, db_path, "operate", "startDatabase")
    assert exc.value.reason == (
        "user bob has role Supervisor on cluster1/db_exa_db1; startDatabase needs role Administrator or higher"
    )
    users.authorize(bob, storage_path, "operate", "startEXAStorage")
    with pytest.raises(Forbidden, match="addUser needs role Master"):
        users.authorize(bob, ["cluster1"], "manage", "addUser")
    assert users.roles_for(db_path, "bob") == [{"user": bob.uid, "role": "Supervisor", "default": False}]
    assert {"user": 1, "role": "Master", "default": True} in users.roles_for(db_path, "")
    users.set_default(db_path, "bob")
    assert users.role_on(bob, db_path) == ("Administrator", True)
    assert (
        refusal(users.grant, ["cluster1"], "bob", "Owner")
        == "role must be one of User, Supervisor, Administrator, Master"
    )


# -- plugins ------------------------------------------------------------------------------------


def test_plugin_commands_and_outputs() -> None:
    s = Sim()
    p = s.c.plugins[PLUGIN]
    assert p.functions() == ["START", "STOP", "RESTART", "STATUS"]
    s.boot("n0011")
    assert p.call("n0011", "STATUS") == [3, "vmtoolsd is not running on n0011\n"]
    assert p.call("n0011", "STOP") == [0, "vmtoolsd was not running on n0011\n"]
    assert p.call("n0011", "START") == [0, "Starting vmtoolsd on n0011: done\n"]
    rc, out = p.call("n0011", "STATUS")
    assert rc == 0 and "vmtoolsd is running" in out and "n0011" in out
    assert "already running" in p.call("n0011", "START")[1]
    assert p.call("n0011", "restart") == [0, "Stopping vmtoolsd on n0011: done\nStarting vmtoolsd on n0011: done\n"]
    assert p.call(11, "STOP") == [0, "Stopping vmtoolsd on n0011: done\n"]
    assert p.call("n0011", "STATUS")[0] == 3
    assert "plugin Administration.vmware-tools: vmtoolsd started" in s.messages(priority="Information")
    # the license server runs plugins too
    assert p.call("n0010", "START")[0] == 0


def test_plugin_refusals() -> None:
    from exaop.model.plugins import find_plugin

    s = Sim()
    p = s.c.plugins[PLUGIN]
    assert refusal(p.call, "n0011", "STATUS") == (
        "plugin Administration.vmware-tools cannot run on n0011: the node is powered off"
    )
    assert refusal(p.call, "n0010", "DANCE") == (
        "plugin Administration.vmware-tools knows the commands START, STOP, RESTART, STATUS; got 'DANCE'"
    )
    with pytest.raises(NotFound, match=r"Object n0099 \(node\) not found"):
        p.call("n0099", "STATUS")
    with pytest.raises(NotFound, match="installed: Administration.vmware-tools"):
        find_plugin(s.c, "Nope.plugin")


@pytest.mark.parametrize("how", ["shutdown", "reboot", "crash"])
def test_plugin_daemons_stop_when_the_node_goes_down(how: str) -> None:
    s = Sim()
    p = s.c.plugins[PLUGIN]
    s.boot("n0011", "n0012")
    p.call("n0011", "START")
    p.call("n0012", "START")
    node = s.node("n0011")
    if how == "crash":
        node.crash()
        node.startup()
    else:
        node.shutdown(reboot=how == "reboot")
        s.settle("node_shutdown")
        if how == "shutdown":
            node.startup()
    s.settle("node_boot")
    assert node.online
    assert p.call("n0011", "STATUS") == [3, "vmtoolsd is not running on n0011\n"]
    assert p.call("n0012", "STATUS")[0] == 0


# -- the EXAoperation master --------------------------------------------------------------------


def test_restart_exaoperation_moves_the_master_after_the_restart_duration() -> None:
    s = without_jitter(Sim())
    s.boot("n0011")
    s.c.restart_exaoperation("n0011")
    assert s.c.master.restarting and s.c.master.node == "n0010"
    s.advance(19)
    assert s.c.master.node == "n0010"
    s.advance(1)
    assert not s.c.master.restarting and s.c.master.node == "n0011"
    assert "EXAoperation master is running on n0011" in s.messages()
    # '' restarts it where it runs
    s.c.restart_exaoperation("")
    s.settle("exaoperation_restart")
    assert s.c.master.node == "n0011"
    # the node that runs it cannot be shut down before it moves
    assert refusal(s.node("n0011").shutdown) == (
        "n0011 runs the EXAoperation master; move it with restartEXAoperation first"
    )
    s.c.restart_exaoperation(10)
    s.settle("exaoperation_restart")
    assert s.c.master.node == "n0010"


def test_restart_exaoperation_refusals() -> None:
    s = Sim()
    assert refusal(s.c.restart_exaoperation, "n0013") == (
        "EXAoperation cannot run on n0013; it runs on n0010, n0011, n0012"
    )
    assert refusal(s.c.restart_exaoperation, "n0011") == "EXAoperation cannot move to n0011: the node is powered off"
    with pytest.raises(NotFound):
        s.c.restart_exaoperation("n0099")


def test_the_master_stays_when_the_target_goes_down_during_the_restart() -> None:
    s = Sim()
    s.boot("n0011")
    s.c.restart_exaoperation("n0011")
    s.node("n0011").crash()
    s.settle("exaoperation_restart")
    assert s.c.master.node == "n0010" and not s.c.master.restarting


def test_halt_license_server() -> None:
    s = Sim()
    s.boot()
    s.storage_online()
    assert refusal(s.c.halt_license_server, "") == (
        "shutting down n0010 ends EXAoperation; stop the databases and EXAStorage first"
    )
    assert refusal(s.c.halt_license_server, "n0011") == "n0011 is not a license server"
    s.c.storage.stop()
    s.settle("storage_stop")
    assert s.c.halt_reason == ""
    s.c.halt_license_server("")
    assert s.node("n0010").state == "shutting_down"
    assert s.c.halt_reason == "n0010, where EXAoperation runs, is shutting down"
    assert "EXAoperation is going down with n0010" in s.messages(priority="Warning")


def test_powering_off_the_license_server_ends_exaoperation_too() -> None:
    s = Sim()
    s.node("n0010").poweroff()
    assert s.node("n0010").state == "off"
    assert s.c.halt_reason == "n0010, where EXAoperation runs, was powered off"
    assert "EXAoperation is going down with n0010" in s.messages(priority="Warning")
