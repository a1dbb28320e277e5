"""The wire: authentication, NotFound texts, path and dotted addressing, introspection,
argument checks and the shapes of the read-only calls clients rely on (COMPAT.md).

One server for the module: nothing here changes the cluster.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from xmlrpc.client import Fault, ProtocolError, ServerProxy

import pytest

from tests.integration.wirekit import NOT_FOUND, fault, module_server
from tests.serverproc import ADMIN_PASSWORD, TLS, ServerProcess

OBJECTS = {
    "/cluster1": ("cluster1", ["getNodeList", "getServiceState", "startupNode", "callPlugin", "addUser"]),
    "/cluster1/storage": ("storage", ["startEXAStorage", "stopEXAStorage", "serviceIsOnline"]),
    "/cluster1/db_exa_db1": ("db_exa_db1", ["getDatabaseState", "startDatabase", "stopDatabase", "shutdownDatabase"]),
    "/cluster1/n0011": ("n0011", ["nodeRunning", "startupNode", "shutdownNode", "rebootNode", "poweroffNode"]),
    "/cluster1/n0010": ("n0010", ["nodeRunning", "getNodeState", "getDiskStates"]),
    "/cluster1/logservice1": ("logservice1", ["logEntries", "logEntriesTagged"]),
    "/cluster1/users": ("users", []),
    "/cluster1/simulation": ("simulation", ["advanceClock", "injectFault", "clearFaults"]),
}
INTROSPECTION = ["listMethods", "listObjects", "methodHelp", "methodSignature", "getPath", "getProperties",
                 "getListValues"]  # fmt: skip


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from module_server(tmp_path_factory, "wire")


@pytest.fixture
def cluster(srv: ServerProcess) -> ServerProxy:
    return srv.proxy()


# -- authentication ----------------------------------------------------------------------------


def test_missing_credentials_are_a_401(srv: ServerProcess) -> None:
    proxy = ServerProxy(f"https://127.0.0.1:{srv.port}/cluster1", context=TLS)
    with pytest.raises(ProtocolError) as exc:
        proxy.getNodeList()
    assert exc.value.errcode == 401
    assert "unauthorized" in str(exc.value).lower()
    assert exc.value.headers.get("www-authenticate", "").startswith("Basic")


@pytest.mark.parametrize(("user", "password"), [("admin", "wrong-password"), ("nobody", ADMIN_PASSWORD), ("admin", "")])
def test_wrong_credentials_are_a_401(srv: ServerProcess, user: str, password: str) -> None:
    with pytest.raises(ProtocolError) as exc:
        srv.proxy("/cluster1", user, password).getNodeList()
    assert exc.value.errcode == 401
    assert "Unauthorized" in str(exc.value)


def test_a_401_does_not_stop_the_right_password_from_working(srv: ServerProcess) -> None:
    with pytest.raises(ProtocolError):
        srv.proxy("/cluster1", "admin", "wrong").getNodeList()
    assert srv.proxy().getNodeList() == ["n0011", "n0012", "n0013", "n0014"]


# -- NotFound ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "args"),
    [
        ("/cluster1/db_nosuch", "getDatabaseState", ()),
        ("/cluster1", "db_nosuch.getDatabaseState", ()),
        ("/cluster1/n9999", "nodeRunning", ()),
        ("/cluster1", "n9999.nodeRunning", ()),
        ("/cluster1", "getNodeState", ("n9999",)),
        ("/cluster1", "noSuchMethod", ()),
        ("/cluster1/storage", "noSuchMethod", ()),
        ("/cluster1/db_exa_db1", "startEXAStorage", ()),
        ("/cluster1/nosuchobject", "getProperties", ()),
        ("/cluster2", "getNodeList", ()),
        ("/cluster1", "methodHelp", ("noSuchMethod",)),
        ("/cluster1", "showPluginFunctions", ("No.such-plugin",)),
        ("/cluster1", "getUserByName", ("nobody",)),
    ],
)
def test_unknown_objects_and_methods_give_the_notfound_text(
    srv: ServerProcess, path: str, method: str, args: tuple
) -> None:
    proxy = srv.proxy(path)
    f = fault(getattr(proxy, method), *args)
    assert f.faultString.startswith(NOT_FOUND), f.faultString


def test_notfound_names_what_is_missing(cluster: ServerProxy, srv: ServerProcess) -> None:
    assert "db_nosuch" in fault(srv.proxy("/cluster1/db_nosuch").getDatabaseState).faultString
    assert "n9999" in fault(cluster.getNodeState, "n9999").faultString


# -- addressing -------------------------------------------------------------------------------


def test_path_addressing(srv: ServerProcess) -> None:
    assert srv.proxy("/cluster1").getNodeList() == ["n0011", "n0012", "n0013", "n0014"]
    assert srv.proxy("/cluster1/").getNodeList() == ["n0011", "n0012", "n0013", "n0014"]
    assert srv.proxy("/cluster1/storage").serviceIsOnline() is False
    assert srv.proxy("/cluster1/db_exa_db1").getDatabaseState() == "setup"
    assert srv.proxy("/cluster1/n0011").nodeRunning() is False
    assert srv.proxy("/cluster1/n0010").nodeRunning() is True
    assert len(srv.proxy("/cluster1/logservice1").logEntries()) == 3


def test_dotted_addressing_from_the_parent(cluster: ServerProxy) -> None:
    assert cluster.storage.serviceIsOnline() is False
    assert cluster.db_exa_db1.getDatabaseState() == "setup"
    assert cluster.n0011.nodeRunning() is False
    entries = cluster.logservice1.logEntries()
    assert len(entries) == 3 and isinstance(entries[2], list)
    assert cluster.storage.getPath() == ["/cluster1/storage", "storage"]


def test_system_list_methods(cluster: ServerProxy, srv: ServerProcess) -> None:
    assert cluster.system.listMethods() == cluster.listMethods()
    assert "startEXAStorage" in srv.proxy("/cluster1/storage").system.listMethods()
    assert "getNodeList" in cluster.system.listMethods()
    assert cluster.system.methodHelp("getNodeList") == cluster.methodHelp("getNodeList")


# -- introspection on every object ---------------------------------------------------------------


@pytest.mark.parametrize("path", list(OBJECTS))
def test_introspection_on_every_object(srv: ServerProcess, path: str) -> None:
    name, expected = OBJECTS[path]
    proxy = srv.proxy(path)
    methods = proxy.listMethods()
    assert methods == sorted(set(methods))
    for m in [*expected, *INTROSPECTION]:
        assert m in methods, m
    for m in methods:
        text = proxy.methodHelp(m)
        assert isinstance(text, str) and len(text) > 10, m
        sig = proxy.methodSignature(m)
        assert sig and all(isinstance(s, list) and s and all(isinstance(t, str) for t in s) for s in sig), m
    assert proxy.getPath() == [path, name]
    assert isinstance(proxy.getProperties(), dict)
    assert isinstance(proxy.listObjects(), list)
    assert proxy.getListValues("Nodes") == ["n0011", "n0012", "n0013", "n0014"]
    f = fault(proxy.getListValues, "NoSuchList")
    assert f.faultString.startswith("UsageError: unknown list 'NoSuchList'; known lists:")


def test_list_objects_of_the_cluster(cluster: ServerProxy) -> None:
    objects = cluster.listObjects()
    for name in ("storage", "logservice1", "n0010", "n0011", "n0014", "db_exa_db1", "users"):
        assert name in objects
    assert objects == sorted(objects)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Nodes", ["n0011", "n0012", "n0013", "n0014"]),
        ("Databases", ["exa_db1"]),
        ("Volumes", ["v0000", "v0001"]),
        ("EXASolutionVersions", ["6.2.17"]),
        ("Users", ["admin"]),
    ],
)
def test_get_list_values(cluster: ServerProxy, name: str, values: list[str]) -> None:
    assert cluster.getListValues(name) == values
    for other in ("DataDisks", "StorageDisks"):
        assert isinstance(cluster.getListValues(other), list)


def test_method_help_and_signature(cluster: ServerProxy) -> None:
    assert cluster.methodSignature("getNodeState") == [["struct", "any"]]
    assert cluster.methodSignature("getNodeList") == [["array"]]
    db = cluster.db_exa_db1
    assert "Same as `shutdownDatabase`" in db.methodHelp("stopDatabase")
    assert "backupDatabase(volume, level, expire)" in db.methodHelp("backupDatabase")


# -- arguments --------------------------------------------------------------------------------


def test_wrong_argument_count_and_type_are_clear_faults_on_a_usable_connection(cluster: ServerProxy) -> None:
    f = fault(cluster.getNodeState)
    assert f.faultString == "UsageError: getNodeState takes (node); 0 argument(s) given"
    f = fault(cluster.getNodeList, "extra")
    assert f.faultString == "UsageError: getNodeList takes (no arguments); 1 argument(s) given"
    f = fault(cluster.getNodeState, ["n0011"])
    assert f.faultString == "UsageError: getNodeState: argument node must be string or int, got list"
    f = fault(cluster.storage.startEXAStorage, "n0011")
    assert f.faultString == "UsageError: startEXAStorage: argument ignored_nodes must be array, got str"
    f = fault(cluster.getHardwareInformation, True)
    assert "argument node must be string or int, got bool" in f.faultString
    f = fault(cluster.logservice1.logEntriesTagged)
    assert f.faultString == "UsageError: logEntriesTagged takes (tag); 0 argument(s) given"
    # the same proxy (and its keep-alive connection) keeps working
    assert cluster.getNodeList() == ["n0011", "n0012", "n0013", "n0014"]


def test_a_body_that_is_not_xmlrpc_is_a_fault_not_a_500(srv: ServerProcess) -> None:
    import base64

    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=TLS, timeout=10)
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "text/xml"}
    try:
        for body in (b"this is not xml", b"<?xml version='1.0'?><methodCall></methodCall>"):
            conn.request("POST", "/cluster1", body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode()
            assert resp.status == 200
            assert "<fault>" in text and "BadRequest" in text
        # and the connection is still good for a proper call
        conn.request(
            "POST",
            "/cluster1",
            body=b"<?xml version='1.0'?><methodCall><methodName>getNodeList</methodName><params/></methodCall>",
            headers=headers,
        )
        resp = conn.getresponse()
        assert resp.status == 200 and b"n0011" in resp.read()
    finally:
        conn.close()


# -- shapes of the read-only calls ---------------------------------------------------------------


def test_service_state_pairs(cluster: ServerProxy) -> None:
    states = cluster.getServiceState()
    assert states == [["Loggingd", "OK"], ["Lockd", "OK"], ["Storaged", "not running"], ["DWAd", "OK"]]
    assert cluster.getServiceStates() == states


def test_master_calls(cluster: ServerProxy) -> None:
    number = cluster.getCurrentLicenseServer()
    assert number == 10 and type(number) is int
    assert cluster.getEXAoperationMaster() == "n0010"
    assert cluster.getEXAoperationNodes() == ["n0010", "n0011", "n0012"]


def test_node_calls(cluster: ServerProxy, srv: ServerProcess) -> None:
    state = cluster.getNodeState("n0011")
    assert state["status"] == "Powered off"
    assert cluster.getNodeState(10)["status"] == "Running"
    node = srv.proxy("/cluster1/n0010")
    assert node.getNodeState()["status"] == "Running"
    disks = node.getDiskStates()
    assert disks and all({"name", "size"} <= set(d) for d in disks)
    assert node.getNodeInfo()["number"] == 10
    assert "dmidecode" in cluster.getHardwareInformation("n0010")
    assert "dmidecode" not in cluster.getHardwareInformation("n0011")  # only online nodes have one


def test_database_calls(cluster: ServerProxy) -> None:
    db = cluster.db_exa_db1
    assert cluster.getDatabaseList() == ["exa_db1"]
    assert db.getDatabaseState() == "setup"
    assert db.getDatabaseOperation() == "None"
    assert db.getDatabaseConnectionState() == "No"
    assert db.getDatabaseConnectionString() == "10.50.1.11..13:8563"
    assert db.runningDatabase() is False
    info = db.getDatabaseInfo()
    for key in ("name", "state", "operation", "connectible", "connection string", "info", "nodes",
                "persistent volume", "temporary volume", "quota", "usage persistent", "usage temporary"):  # fmt: skip
        assert key in info, key
    assert info["name"] == "exa_db1" and info["state"] == "setup" and info["operation"] == "None"
    assert info["connectible"] == "No" and info["persistent volume"] == "v0000"
    assert info["nodes"] == {"active": ["n0011", "n0012", "n0013"], "failed": [], "reserve": ["n0014"]}
    assert db.getDatabaseNodes() == info["nodes"]


def test_log_service_listing_and_plugins(cluster: ServerProxy) -> None:
    assert [s["name"] for s in cluster.getAllLogServices()] == ["logservice1"]
    assert cluster.getPlugins() == ["Administration.vmware-tools"]
    assert cluster.showPluginList() == ["Administration.vmware-tools"]
    assert cluster.showPluginFunctions("Administration.vmware-tools") == ["START", "STOP", "RESTART", "STATUS"]


def test_log_entries_shape(cluster: ServerProxy) -> None:
    start, end, entries = cluster.logservice1.logEntries()
    assert isinstance(start, str) and isinstance(end, str) and entries
    for e in entries:
        assert {"strtime", "system", "node", "priority", "message"} <= set(e)
        assert e["priority"] in ("Error", "Warning", "Notice", "Information")


def test_faults_are_not_nil(cluster: ServerProxy) -> None:
    # every method that has nothing to return answers a value every client parses
    assert cluster.storage.getProperties() is not None
    with pytest.raises(Fault):
        cluster.getDatabaseInfo()  # a database method on the cluster: NotFound
