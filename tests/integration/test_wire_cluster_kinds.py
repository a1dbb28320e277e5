"""The wire of the cluster's own kinds against a real `exaop serve`: a round trip per kind (add,
getProperties, edit, getProperties, delete) that survives a restart and kill -9; the cluster's
settings, software, license, nodes' modes, support and setup objects."""

from __future__ import annotations

import base64
import io
import socket
import tarfile
import zipfile
from pathlib import Path
from typing import Any
from xmlrpc.client import Binary, ServerProxy

from tests.integration.wirekit import BOOT, NOT_FOUND, advance, fault
from tests.serverproc import ServerProcess

GROUP = {"ipmi_description": "rack 1", "ipmi_type": "Redfish", "ipmi_username": "root", "ipmi_password": "calvin"}
KEYSTORE = {"key_store_name": "hsm", "key_store_type": "PKCS#11", "key_store_attributes": "LIB=/p11.so;SLOT=1",
            "keylabel": "exaop"}  # fmt: skip
DRIVER = {"jdbc_name": "MySQL", "jdbc_main": "com.mysql.jdbc.Driver", "jdbc_prefix": "jdbc:mysql:"}
BUCKETFS = {"disk": "d02_data", "http_port": 2590}
BUCKET = {"bucket_name": "udfs", "public_bucket": False, "read_password": "r3ad", "write_password": "wr1te"}
NODE = {"number": 15, "mac_addr_eth0": "00:25:90:00:00:15", "mac_addr_eth1": "00:25:90:01:00:15",
        "spool_disk": "d02_data"}  # fmt: skip


def jar() -> Binary:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("com/mysql/jdbc/Driver.class", b"\xca\xfe\xba\xbe")
    return Binary(buf.getvalue())


def snapshot(c: ServerProxy) -> dict[str, Any]:
    """Everything the round trip set, as clients read it."""
    return {
        "srvmgmt": c.srvmgmt1.getProperties(), "keystore": c.keystore1.getProperties(),
        "keystore_status": c.keystore1.getStatus(), "jdbc": c.jdbc1.getProperties(),
        "bucketfs": c.bucketfs1.getProperties(), "bucket": c.bucketfs1.udfs.getProperties(),
        "bucket_size": c.bfsdefault.default.getSize(), "node": c.n0015.getProperties(),
        "node_state": c.getNodeState("n0015")["status"], "cluster": c.getProperties(),
        "firewall": c.getFirewallConfiguration("n0011"), "priorities": c.getEXAoperationNodes(),
    }  # fmt: skip


def test_round_trip_of_every_kind_survives_restart_and_kill9(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv: ServerProcess = server_factory()
    c = srv.proxy()
    for obj in ("bfsdefault", "support", "setup"):
        assert obj in c.listObjects()
    # add -> getProperties -> edit -> getProperties, for each kind
    assert c.addSrvMgmtGroup(GROUP) == "srvmgmt1"
    assert c.srvmgmt1.getProperties()["ipmi_password"] == "********"
    assert c.srvmgmt1.editNodeClusterSrvMgmtGroup({"ipmi_username": "admin", "ipmi_password": "new"}) == \
        ["ipmi_password", "ipmi_username"]  # fmt: skip
    assert c.srvmgmt1.getProperties()["ipmi_username"] == "admin"
    assert (c.getSrvMgmtGroup("rack 1"), c.getSrvMgmtGroupDescription("srvmgmt1"), c.getVLAN("rack 1")) == \
        ("srvmgmt1", "rack 1", "")  # fmt: skip
    assert [g["nodes"] for g in c.getAllSrvMgmtCardGroups()] == [[]]
    assert c.addKeyStore(KEYSTORE) == "keystore1"
    assert c.keystore1.editNodeClusterKeyStore({"keylabel": "second"}) == ["keylabel"]
    assert c.keystore1.lock() == "OK" and c.getKeyStoreByName("hsm")["status"] == "locked"
    assert c.addJDBCDriver(DRIVER) == "jdbc1"
    assert c.jdbc1.uploadFile("mysql.jar", jar()) == "bfsdefault/default/drivers/jdbc/jdbc1/mysql.jar"
    assert c.jdbc1.editJDBCDriver({"comment": "for the shop"}) == ["comment"]
    assert c.jdbc1.getProperties()["jdbc_jars"] == ["bfsdefault/default/drivers/jdbc/jdbc1/mysql.jar"]
    assert c.getInstalledJDBCDrivers() == ["jdbc1"]
    assert c.addBucketFS(BUCKETFS) == "bucketfs1"
    assert c.bucketfs1.addBucket(BUCKET) == "udfs"
    assert c.bucketfs1.editBucketFS({"https_port": 2591}) == ["https_port"]
    assert c.bucketfs1.udfs.editBucketFSBucket({"description": "UDF files"}) == ["description"]
    assert c.saveBucketFSChanges() == ["bucketfs1", "bucketfs1/udfs"]
    assert c.addNode(NODE) == "n0015"
    assert c.n0015.editNode({"idstring": "rack 1, slot 5", "ipmi_group": "srvmgmt1"}) == ["idstring", "ipmi_group"]
    assert c.n0015.getProperties()["idstring"] == "rack 1, slot 5"
    assert c.editNodeClusterNetwork({"cluster_desc": "production", "ntp_server1": "10.0.0.123"}) == \
        ["cluster_desc", "ntp_server1"]  # fmt: skip
    assert c.editMonitorThresholds({"swap_warning": 40}) == ["swap_warning"]
    assert c.editNodeClusterDefaults({"default_data_size": 250}) == ["default_data_size"]
    assert c.editRemoteSyslogSettings({"remote_syslog_encrypted": True}) == ["remote_syslog_encrypted"]
    assert c.submitFirewallConfiguration("ACCEPT tcp 22\nDROP all\n") == 2
    assert c.setPriorities(["n0012", "n0010", "n0011"]) == ["n0012", "n0010", "n0011"]
    before = snapshot(c)
    assert before["cluster"]["cluster_desc"] == "production" and before["cluster"]["swap_warning"] == 40
    assert c.clusterDesc() == "production" and c.getMonitoringThresholdValues()["swap_warning"] == 40
    srv.stop()
    srv = server_factory(state_dir=srv.state_dir)
    c = srv.proxy()
    assert snapshot(c) == before
    srv.kill9()
    srv = server_factory(state_dir=srv.state_dir)
    c = srv.proxy()
    assert snapshot(c) == before
    # ... -> delete
    assert c.n0015.editNode({"ipmi_group": ""}) == ["ipmi_group"]
    for name in ("srvmgmt1", "jdbc1", "bucketfs1", "n0015"):
        assert c.deleteSubObject(name) == "OK", name
    assert c.setKeyStore("") == "" and c.deleteSubObject("keystore1") == "OK"
    srv.kill9()
    srv = server_factory(state_dir=srv.state_dir)
    c = srv.proxy()
    objects = c.listObjects()
    assert not {"srvmgmt1", "keystore1", "jdbc1", "bucketfs1", "n0015"} & set(objects)
    assert fault(srv.proxy("/cluster1/bucketfs1/udfs").getProperties).faultString.startswith(NOT_FOUND)


def test_refusals_over_the_wire_name_the_field(server) -> None:  # type: ignore[no-untyped-def]
    c = server.proxy()
    missing = "missing required field(s) for a new server management group: ipmi_description, ipmi_username"
    assert fault(c.addSrvMgmtGroup, {"ipmi_type": "IPMI"}).faultString == f"UsageError: {missing}"
    assert fault(c.addNode, {**NODE, "number": 11}).faultString == "UsageError: number 11: node n0011 already exists"
    assert fault(c.editNodeClusterNetwork, {"mtu_public": "1234"}).faultString == \
        "UsageError: mtu_public must be one of: 1500, 9000; got '1234'"  # fmt: skip
    assert fault(c.bfsdefault.addBucket, {**BUCKET, "bucket_name": "default"}).faultString == \
        "UsageError: BucketFS bfsdefault already has a bucket default"  # fmt: skip
    assert c.addJDBCDriver(DRIVER) == "jdbc1"
    assert fault(c.addJDBCDriver, DRIVER).faultString == "UsageError: jdbc_name 'MySQL' is already used by jdbc1"
    assert fault(c.jdbc1.uploadFile, "x.jar", "not base64!").faultString == \
        "UsageError: content must be the file's content: an XML-RPC base64 value, or base64 text"  # fmt: skip
    assert fault(c.n0011.getSrvMgmtSensorStatus, 1).faultString.startswith("UsageError: getSrvMgmtSensorStatus takes")
    assert fault(c.licenseUpdate, "<license/>").faultString == "UsageError: license_data: <companyname> is required"
    assert fault(c.setClusterTime, "2001-01-01 00:00:00").faultString.endswith("its clock only moves forward")
    assert fault(c.getKeyStoreByName, "nope").faultString.startswith(NOT_FOUND)


def test_cluster_methods_act_on_the_clock(server) -> None:  # type: ignore[no-untyped-def]
    c = server.proxy()
    sim = server.proxy("/cluster1/simulation")
    # software: an upload becomes an installed version once unpacked
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("VERSION")
        info.size = 0
        tar.addfile(info, io.BytesIO(b""))
    state = c.uploadSoftware("EXASolution-6.2.18_LINUX_x86_64.tar.gz", Binary(buf.getvalue()))
    assert state["state"] == "unpacking"
    advance(server, 100)
    assert c.getUploadPackageState()["state"] == "installed"
    assert c.getEXASolutionVersions() == ["6.2.17", "6.2.18"] == c.getListValues("EXASolutionVersions")
    assert c.getInstallationHistory()[-1]["action"] == "installed"
    assert c.getObsoleteEXASuiteVersions() == [] and c.getAvailableUpdatesList() == []
    # the clock: setClusterTime moves the simulation forward
    target = "2031-06-01 12:00:00"
    assert c.setClusterTime(target) == "OK"
    assert sim.getClock()["strtime"].startswith(target)
    # nodes: modes take effect at the next boot, services suspend
    assert c.n0011.setInstallMode() == "OK" and c.getNodeState("n0011")["mode"] == "To install"
    assert c.startupNode("n0011") == "OK"
    assert c.n0011.operationGetCurrent() == "Installing"
    advance(server, BOOT + 600)
    assert c.getNodeState("n0011")["status"] == "Running" and c.getNodeState("n0011")["mode"] == "Active"
    assert c.n0011.stopClusterServices() == "OK"
    assert c.getNodeState("n0011")["status"] == "Suspended" and c.n0011.nodeRunning() is False
    assert c.n0011.startClusterServices() == "OK" and c.n0011.nodeRunning() is True
    assert c.n0011.toggleIdLed() == "on"
    sensors = {s["name"]: s["value"] for s in c.n0011.getIPMISensorStatus()}
    assert sensors["Power"] == "on" and sensors["ID LED"] == "on"
    assert c.n0011.getSrvMgmtSensorStatus() == c.n0011.getIPMISensorStatus()
    # nodes as XML, round trip
    xml = base64.b64decode(c.getClusterNodesAsXMLBase64()).decode()
    assert xml.startswith("<nodes") and c.addNodesFromXML(xml, True) == ["n0011", "n0012", "n0013", "n0014"]
    # support and setup
    archive = base64.b64decode(c.support.downloadDebugInfo())
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        log = tar.extractfile("debuginfo/log.txt").read().decode()  # type: ignore[union-attr]
    assert "Node n0011 installed" in log
    assert abs(c.support.estimateDebugInfoSize() - len(archive)) < 200
    assert c.support.storeDebugInfo("v0001").startswith("debuginfo_cluster1_2031")
    assert c.support.getSupportData()["nodes"]["n0011"] == "Running"
    assert c.setup.node_number.getProperties() == {"node_number": 10}
    assert c.setup.private_network.getProperties() == {"value": "10.50.1.0/24"}
    assert "--license-server n0010" in c.setup.install_command.getProperties()["cmd"]
    assert c.setup.getProperties() == {} and "node_number" in c.setup.listObjects()
    assert c.objectRepresentation() == "<NodeCluster at /cluster1>"
    assert server.proxy("/cluster1/users").objectRepresentation() == "<UserFolder at /cluster1/users>"
    # the restart that the TLS-free settings wait for
    assert c.editNodeClusterNetwork({"no_allow_backup_download": True}) == ["no_allow_backup_download"]
    assert c.needEXAoperationRestart() is True
    assert c.restartLicenseServer() == "n0010"
    advance(server, 30)
    assert c.needEXAoperationRestart() is False


def test_log_services_forward_new_entries_to_remote_syslog(server) -> None:  # type: ignore[no-untyped-def]
    c = server.proxy()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(10)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        tcp.settimeout(10)
        udp_port, tcp_port = udp.getsockname()[1], tcp.getsockname()[1]
        assert c.logservice1.editLogService({"remote_syslog_server": f"127.0.0.1:{udp_port}"}) == \
            ["remote_syslog_server"]  # fmt: skip
        c.addLogService({"priority": "Warning", "exaclusteros_services": ["EXAoperation"], "exasolution_systems": [],
                         "remote_syslog_server": f"127.0.0.1:{tcp_port}", "remote_syslog_protocol": "TCP"})  # fmt: skip
        assert c.startupNode("n0011") == "OK"  # a Notice: to the UDP server only
        c.simulation.injectFault("n0013", "power_fail")
        assert fault(c.startupNode, "n0013")  # an Error entry: to both
        datagrams = [udp.recv(65536) for _ in range(2)]
        assert any(b"Node n0011 is booting" in d and d.startswith(b"<133>1 ") for d in datagrams)
        conn, _ = tcp.accept()
        with conn:
            conn.settimeout(10)
            data = b""
            while b"power on of n0013 failed" not in data:
                data += conn.recv(65536)
        assert data.split(b" ", 1)[1].startswith(b"<131>1 ") and b"Node n0011 is booting" not in data
    sent = c.support.getSupportData()["remote_syslog"]
    assert sent[f"127.0.0.1:{tcp_port}/TCP"]["sent"] >= 1 and sent[f"127.0.0.1:{udp_port}/UDP"]["dropped"] == 0


def test_roles_can_be_granted_on_objects_below_objects(server) -> None:  # type: ignore[no-untyped-def]
    c = server.proxy()
    uid = c.addUser({"user_login": "bucketeer", "password": "bucket-pw"})
    assert c.grantRole("bfsdefault/default", uid, "Administrator") == "OK"
    assert c.getRolesForObject("bfsdefault/default", uid) == [{"user": uid, "role": "Administrator",
                                                                "default": False}]  # fmt: skip
    assert fault(c.grantRole, "bfsdefault/nope", uid, "User").faultString.startswith(NOT_FOUND)
    bucket = server.proxy("/cluster1/bfsdefault/default", "bucketeer", "bucket-pw")
    assert bucket.editBucketFSBucket({"description": "mine"}) == ["description"]
    fs = server.proxy("/cluster1/bfsdefault", "bucketeer", "bucket-pw")
    assert fault(fs.editBucketFS, {"description": "not mine"}).faultString.startswith("Forbidden: user bucketeer")
