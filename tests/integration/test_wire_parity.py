"""Parity with the public reference, method by method, over the wire (issue 7).

Every method that either reference file (read by tools/api_coverage.py) documents for an object
kind is listed by our object of that kind; refuses one argument too many, a wrong type, a list of
anything but names and an unknown field with a Fault that names the problem and changes nothing;
and answers valid arguments, built from its signature and its kind's schema, without a fault and
with the XML-RPC type its methodSignature names. The calls run on one server in the order below;
each call that needs a state first makes it (its ``GIVEN``), so any one of them also runs alone,
and a call that ends the server, or wipes it, gets one of its own. A server that logged an
unexpected error (an InternalError) fails the module. Plain ``xmlrpc.client`` against a real
``exaop serve`` on a manual clock.
"""

from __future__ import annotations

import io
import itertools
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xmlrpc.client import Binary, Fault, ServerProxy

import pytest

import exaop.faces.exaoperation.objects  # noqa: F401 - imports every object kind
import tests.unit.test_api_coverage as coverage
from exaop.faces.exaoperation.registry import ALL_TYPES, Method
from exaop.model import database, node_config, volumes
from exaop.model.bucketfs import Bucket, BucketFS
from exaop.model.disks import NodeDisk
from exaop.model.jdbc import JDBCDriver
from exaop.model.keystore import KeyStore
from exaop.model.network import VLAN, PublicNetwork, Route
from exaop.model.remote_volumes import RemoteVolume
from exaop.model.schema import Schema
from exaop.model.srvmgmt import SrvMgmtGroup
from tests.integration.test_wire_cluster_kinds import jar
from tests.integration.wirekit import BOOT, DB_START, NODES, advance, all_up, boot, fault, storage_call
from tests.serverproc import ServerProcess

TOOL = coverage.load()
#: the reference files where they are beside the checkout, else docs/API_COVERAGE.md, their
#: picture in the repository (kept in step with them by tests/unit/test_api_coverage.py)
DOCUMENTED: dict[str, set[str]] = (
    TOOL.documented(TOOL.REFERENCE)  # type: ignore[attr-defined]
    if TOOL.REFERENCE.exists()  # type: ignore[attr-defined]
    else TOOL.listed(TOOL.OUT.read_text())  # type: ignore[attr-defined]
)
GENERIC = DOCUMENTED.pop(TOOL.GENERIC)  # type: ignore[attr-defined]
PAIRS = [(kind, name) for kind in sorted(DOCUMENTED) for name in sorted(DOCUMENTED[kind] | GENERIC)]

SPARE = "n0015"  # a node of no database and no volume: the Node methods act on it
INSTALL = BOOT + 600  # a first boot installs the node
BACKUP = 601  # above database_backup 600
ARCHIVE = "v0001"  # the default profile's archive volume
OS_DEVICE = ["/dev/sda"]  # the device of a node's OS, swap and data disks, with room left
#: one instance of every kind: the default profile's objects, and those the fixture adds
PATHS = {
    "NodeCluster": "/cluster1", "BucketFS": "/cluster1/bfsdefault", "BucketFSBucket": "/cluster1/bfsdefault/default",
    "Database": "/cluster1/db_exa_db1", "JDBCDriver": "/cluster1/jdbc1", "LogService": "/cluster1/logservice1",
    "Node": f"/cluster1/{SPARE}", "NodeDisk": f"/cluster1/{SPARE}/d02_data", "NodeClusterAfterAdd": "/cluster1/setup",
    "NodeClusterKeyStore": "/cluster1/keystore1", "NodeClusterPublicNetwork": "/cluster1/pubnet1",
    "NodeClusterRoute": "/cluster1/route1", "NodeClusterSrvMgmtGroup": "/cluster1/srvmgmt1",
    "NodeClusterVLAN": "/cluster1/vlan1", "RemoteVolume": "/cluster1/r0000",
    "SetupCommand": "/cluster1/setup/install_command", "SetupNodeNumber": "/cluster1/setup/node_number",
    "SetupValue": "/cluster1/setup/cluster_name", "Storage": "/cluster1/storage",
    "StorageNode": "/cluster1/storage/n0011", "StorageNodeHDD": "/cluster1/storage/n0011/d03_storage",
    "StorageVolume": "/cluster1/storage/{vol}", "StorageVolumeAddSchema": "/cluster1/storage/volume_schema",
    "StorageVolumeNode": "/cluster1/storage/{vol}/n0011",
    "StorageVolumeNodeSegment": "/cluster1/storage/{vol}/n0011/s0000",
    "SupportDebugInfo": "/cluster1/support", "UserFolder": "/cluster1/users",
}  # fmt: skip

# -- values from the schemas ---------------------------------------------------------------------------

#: the schema behind each addX that takes one
ADD_SCHEMAS: dict[str, Schema] = {
    "addBucketFS": BucketFS.SCHEMA, "addBucket": Bucket.SCHEMA, "addJDBCDriver": JDBCDriver.SCHEMA,
    "addKeyStore": KeyStore.SCHEMA, "addVLAN": VLAN.SCHEMA, "addPublicNetwork": PublicNetwork.SCHEMA,
    "addRoute": Route.SCHEMA, "addRemoteVolume": RemoteVolume.SCHEMA, "addSrvMgmtGroup": SrvMgmtGroup.SCHEMA,
    "addNode": node_config.SCHEMA, "addNodeDisk": NodeDisk.SCHEMA, "addStorageVolume": volumes.ADD_SCHEMA,
    "addDatabase": database.SCHEMA,
}  # fmt: skip
#: the schema behind each editX, and the field a valid edit changes (a text of the test's own)
EDIT_SCHEMAS: dict[str, tuple[Schema, str]] = {
    "editBucketFS": (BucketFS.SCHEMA, "description"), "editBucketFSBucket": (Bucket.SCHEMA, "description"),
    "editJDBCDriver": (JDBCDriver.SCHEMA, "comment"), "editNodeClusterKeyStore": (KeyStore.SCHEMA, "keylabel"),
    "editNodeClusterVLAN": (VLAN.SCHEMA, "vlan_description"),
    "editNodeClusterPublicNetwork": (PublicNetwork.SCHEMA, "public_network_description"),
    "editNodeClusterSrvMgmtGroup": (SrvMgmtGroup.SCHEMA, "ipmi_description"),
    "editRemoteVolume": (RemoteVolume.SCHEMA, "user"), "editNodeDisk": (NodeDisk.SCHEMA, "disklabel"),
    "editNode": (node_config.SCHEMA, "idstring"), "editStorageVolume": (volumes.EDIT_SCHEMA, "labels"),
    "editDatabase": (database.SCHEMA, "database_comment"), "editNodeClusterRoute": (Route.SCHEMA, "route_gateway"),
}  # fmt: skip
#: the list (getListValues) a field's allowed values come from, where they depend on the cluster
#: (by field name, or method.field where one method differs)
LISTS = {"addStorageVolume.nodes_list": "StorageVolumeNodes", "disk": "DataDisks", "spool_disk": "DataDisks",
         "hdd_type": "StorageDisks", "data_disk": "DataDisks", "nodes_list": "Nodes",
         "key_store_type": "KeyStoreTypes", "ipmi_type": "SrvMgmtTypes"}  # fmt: skip
#: values of fields whose text has a form to keep (checked beyond their type), per field name
FORMED: dict[str, Callable[[int], Any]] = {
    "jdbc_main": lambda n: f"org.parity{n}.Driver", "jdbc_prefix": lambda n: f"jdbc:parity{n}:",
    "key_store_attributes": lambda n: f"LIB=/p11-{n}.so;SLOT=1", "route_destination": lambda n: f"10.{n % 250}.0.0/16",
    "route_gateway": lambda n: f"10.0.0.{n % 250 + 1}", "url": lambda n: f"ftp://10.9.0.1/parity{n}",
    "mac_addr_eth0": lambda n: f"00:25:90:10:{n // 256 % 256:02x}:{n % 256:02x}",
    "mac_addr_eth1": lambda n: f"00:25:90:11:{n // 256 % 256:02x}:{n % 256:02x}",
    "allowed_users": lambda n: ["admin"], "readonly_users": lambda n: [], "clients_port_number": lambda n: 8600 + n,
    "http_port": lambda n: 2600 + n, "memory_usage": lambda n: 10,
}  # fmt: skip


@dataclass
class World:
    """The module's server, its instance of every kind, and a counter for unique names."""

    srv: ServerProcess
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    methods: dict[str, set[str]] = field(default_factory=dict)

    vol: str = "v0002"  # the archive volume the fixture adds (the StorageVolume instance)

    def path(self, kind: str) -> str:
        return PATHS[kind].format(vol=self.vol)

    def at(self, kind_or_path: str) -> ServerProxy:
        return self.srv.proxy(self.path(kind_or_path) if kind_or_path in PATHS else kind_or_path)

    @property
    def c(self) -> ServerProxy:
        return self.srv.proxy()

    @property
    def db(self) -> ServerProxy:
        return self.at("Database")

    def text(self, what: str = "parity") -> str:
        return f"{what}-{next(self.counter)}"

    def from_schema(self, method: str, owner: ServerProxy, **given: Any) -> dict[str, Any]:
        """The required fields of ``method``'s schema with valid values: choices from the owner's
        getListValues (or the schema's own), texts of the test's own, ``given`` over all."""
        n = next(self.counter)
        out: dict[str, Any] = {}
        for f in ADD_SCHEMAS[method]:
            if not f.required or f.name in given:
                continue
            if f.name in FORMED:
                out[f.name] = FORMED[f.name](n)
            elif (listed := LISTS.get(f"{method}.{f.name}", LISTS.get(f.name))) is not None:
                allowed = owner.getListValues(listed)
                out[f.name] = allowed if f.type == "List" else allowed[0]
            elif f.type == "Choice":
                out[f.name] = f.allowed(None)[0]  # type: ignore[index]
            elif f.type in ("TextLine", "Text", "Password"):
                out[f.name] = f"{f.name}-{n}"
            elif f.type in ("Int", "Float"):
                out[f.name] = max(1, int(f.minimum or 0))
            else:
                out[f.name] = f.empty()
        return {**out, **given}

    def edit(self, method: str) -> dict[str, Any]:
        schema, name = EDIT_SCHEMAS[method]
        f = schema.fields[name]
        n = next(self.counter)
        return {name: FORMED[name](n) if name in FORMED else [f"label-{n}"] if f.type == "List" else f"{name}-{n}"}


# -- states: each makes its state from whatever the server is in (idempotent) ---------------------------


def settle(w: World) -> None:
    """No database operation under way (a backup, a shrink, a restore runs to its end)."""
    for _ in range(10):
        if all(w.srv.proxy(f"/cluster1/db_{d}").getDatabaseOperation() == "None" for d in w.c.getDatabaseList()):
            return
        advance(w.srv, BACKUP)
    raise AssertionError("a database operation does not end")


def offline_nodes(w: World) -> list[str]:
    return [n for n in w.c.getNodeList() if w.c.getNodeState(n)["status"] != "Running"]


def storage_online(w: World) -> None:
    """EXAStorage online (the nodes the test added and left off ignored at its start)."""
    if not w.at("Storage").serviceIsOnline():
        assert storage_call(w.srv, "startEXAStorage", offline_nodes(w)) == "OK"


def storage_settled(w: World) -> None:
    """EXAStorage online on every storage node, no recovery under way."""
    storage_node_in(w)
    advance(w.srv, 3600)


def no_added_nodes(w: World) -> None:
    """The nodes the test added besides the spare one are gone again."""
    for n in w.c.getNodeList():
        if n not in [*NODES, SPARE]:
            if w.c.getNodeState(n)["status"] != "Powered off":
                spare_off(w, n)
            assert w.c.deleteSubObject(n) == "OK"


def db_running(w: World) -> None:
    settle(w)
    storage_online(w)
    if w.db.maintenanceDatabase():
        db_stopped(w)
    if w.db.getDatabaseState() in ("setup", "none"):
        assert w.db.startDatabase() == "OK"
    for _ in range(5):
        if w.db.getDatabaseConnectionState() == "Yes":
            return
        advance(w.srv, DB_START)
    raise AssertionError(f"exa_db1 does not accept connections: {w.db.getDatabaseInfo()}")


def db_stopped(w: World) -> None:
    settle(w)
    for name in w.c.getDatabaseList():
        db = w.srv.proxy(f"/cluster1/db_{name}")
        if db.getDatabaseState() not in ("setup", "none"):
            assert db.shutdownDatabase() == "OK"
            advance(w.srv, 50)
    assert w.db.getDatabaseState() == "setup"


def storage_stopped(w: World) -> None:
    db_stopped(w)
    no_added_nodes(w)
    if w.at("Storage").serviceIsOnline():
        assert storage_call(w.srv, "stopEXAStorage") == "OK"


def a_backup(w: World) -> dict[str, Any]:
    """The newest usable backup of the database (made now when there is none)."""
    if not [b for b in w.db.getBackups(False, False) if b["usable"]]:
        new_backup(w)
    return [b for b in w.db.getBackups(False, False) if b["usable"]][-1]


def new_backup(w: World) -> None:
    db_running(w)
    assert w.db.backupDatabase(ARCHIVE, 0, "") == "OK"
    advance(w.srv, BACKUP)


def restorable(w: World) -> None:
    """A backup of the database as it is now (its nodes), and the database stopped."""
    new_backup(w)
    db_stopped(w)


def backup_running(w: World) -> None:
    db_running(w)
    assert w.db.backupDatabase(ARCHIVE, 0, "1d") == "OK"


def shrink_running(w: World) -> None:
    db_running(w)
    assert w.db.shrinkDatabase(w.db.getCurrentDatabaseSize() - 1) == "OK"


def spare_running(w: World) -> None:
    for _ in range(5):
        status = w.c.getNodeState(SPARE)["status"]
        if status == "Running":
            return
        if status == "Suspended":
            assert w.at("Node").startClusterServices() == "OK"
            continue
        if status in ("Powered off", "Crashed"):
            assert w.c.startupNode(SPARE) == "OK"
        advance(w.srv, INSTALL)  # booting (and installing), or on its way down first
    raise AssertionError(f"{SPARE} does not come up: {w.c.getNodeState(SPARE)}")


def spare_off(w: World, node: str = SPARE) -> None:
    for _ in range(5):
        status = w.c.getNodeState(node)["status"]
        if status == "Powered off":
            return
        if status in ("Running", "Suspended"):
            storage_stopped(w)
            assert w.c.shutdownNode(node) == "OK"
        advance(w.srv, INSTALL)  # shutting down, or booting first
    raise AssertionError(f"{node} does not go off: {w.c.getNodeState(node)}")


def spare_may_stop(w: World) -> None:
    """The spare node runs, and nothing needs it (EXAStorage, which runs on every node, is stopped)."""
    storage_stopped(w)
    spare_running(w)


def spare_suspended(w: World) -> None:
    spare_running(w)
    assert w.at("Node").stopClusterServices() == "OK"


def storage_node_suspended(w: World) -> None:
    storage_online(w)
    if not w.at("StorageNode").nodeIsSuspended():
        db_stopped(w)
        assert w.at("StorageNode").suspendNode() == "OK"


def storage_node_in(w: World) -> None:
    storage_online(w)
    if w.at("StorageNode").nodeIsSuspended():
        assert w.at("StorageNode").resumeNode() == "OK"
        advance(w.srv, 3600)


def extra_device(w: World) -> str:
    """A device of the StorageNode instance in EXAStorage that holds no volume (added now when there is none)."""
    sn = w.at("StorageNode")
    storage_online(w)
    free = [d["name"] for d in sn.getAllDevices() if not d["used"]]
    if free:
        return str(free[0])
    if not sn.getUnusedDevices():
        w.at("/cluster1/n0011").addStorageDisk([next(d["name"] for d in w.at("/cluster1/n0011").getDeviceInfo()
                                                    if not d["disks"])])  # fmt: skip
    name = sn.getUnusedDevices()[0]["name"]
    sn.addUnusedDevices([name])
    return str(name)


def disabled_device(w: World) -> None:
    name = extra_device(w)
    if next(d for d in w.at("StorageNode").getAllDevices() if d["name"] == name)["state"] != "disabled":
        assert w.at("StorageNode").disableDevices([name]) == "OK"


def volume_nodes(w: World) -> list[str]:
    return list(w.at("Storage").getVolumeInfo(w.vol)["nodes"])


def free_storage_node(w: World) -> str:
    """A storage node the StorageVolume instance is not on."""
    return next(n for n in w.at("Storage").getListValues("StorageVolumeNodes") if n not in volume_nodes(w))


def unused_device(w: World) -> str:
    """A device of the spare node no disk uses."""
    devices = w.at("Node").getDeviceInfo()
    free = [d["name"] for d in devices if not d["disks"]]
    assert free, f"every device of {SPARE} is used: {devices}"
    return str(free[0])


def recovering(w: World) -> None:
    storage_settled(w)
    assert w.at("StorageVolumeNode").recoverNode() == "OK"


def a_small_disk(w: World) -> str:
    """A new disk of the spare node, on the device its other disks share (the others stay unused)."""
    return str(w.at("Node").addNodeDisk({"disktype": "Data", "disksize": 1, "devices": OS_DEVICE}))


def storage_node_unused(w: World) -> None:
    """The StorageNode instance takes part in EXAStorage, and no database needs it (their temporary
    volumes have no redundancy)."""
    db_stopped(w)
    storage_node_in(w)


def keytab(w: World) -> None:
    if not w.db.existsKeyTab():
        assert w.db.uploadKeyTab(Binary(b"\x05\x02" + b"\x00" * 30)) == "OK"


def a_file(w: World) -> str:
    """The id of a file on the StorageVolume instance (debug information stored there)."""
    if not w.at("StorageVolume").getFilesList():
        w.at("SupportDebugInfo").storeDebugInfo(w.vol)
    return str(w.at("StorageVolume").getFilesList()[0]["id"])


def a_user(w: World) -> dict[str, Any]:
    login = w.text("user")
    uid = w.c.addUser({"user_login": login, "password": "parity-pw-1"})
    return {"login": login, "id": uid}


def a_version(w: World) -> str:
    """A database version installed besides the cluster's own (uploaded now when there is none)."""
    versions = w.c.getEXASolutionVersions()
    if len(versions) < 2:
        advance(w.srv, 600)  # a download under way ends
        w.c.uploadSoftware("EXASolution-6.2.18_LINUX_x86_64.tar.gz", package())
        advance(w.srv, 100)
        versions = w.c.getEXASolutionVersions()
    return str(versions[-1])


def package() -> Binary:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("VERSION")
        tar.addfile(info, io.BytesIO(b""))
    return Binary(buf.getvalue())


def a_spare_volume(w: World) -> str:
    """A new data volume no database uses."""
    storage_online(w)
    return str(w.at("Storage").addStorageVolume(w.from_schema("addStorageVolume", w.at("Storage"), size=1,
                                                                masternodes=1)))  # fmt: skip


def clock_text(w: World, ahead: float) -> str:
    now = w.srv.proxy("/cluster1/simulation").getClock()["now"]
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now + ahead))


def pem(w: World, name: str) -> str:
    return (w.srv.state_dir / "tls" / name).read_text()


LICENSE = ("<license><companyname>Parity Ltd</companyname><serial_number>P-7</serial_number>"
           "<validation_key>parity-key</validation_key><expiration>2099-12-31</expiration>"
           "<maxdbmemory>0</maxdbmemory><maxnodes>0</maxnodes></license>")  # fmt: skip

# -- valid arguments, per method name (or Kind.method where kinds differ) -------------------------------

Args = Callable[[World], tuple[Any, ...]]
EXAMPLES: dict[str, Args] = {
    # every object
    "getListValues": lambda w: ("Nodes",),
    "methodHelp": lambda w: ("getPath",),
    "methodSignature": lambda w: ("getPath",),
    # BucketFS and buckets
    "addBucket": lambda w: (w.from_schema("addBucket", w.at("BucketFS")),),
    "BucketFS.deleteSubObject": lambda w: (w.at("BucketFS").addBucket(w.from_schema("addBucket", w.at("BucketFS"))),),
    "editBucketFS": lambda w: (w.edit("editBucketFS"),),
    "editBucketFSBucket": lambda w: (w.edit("editBucketFSBucket"),),
    # Database
    "backupDatabase": lambda w: (ARCHIVE, 0, "1w"),
    "startStorageBackup": lambda w: (ARCHIVE, 0, "1w"),
    "backupInfo": lambda w: (a_backup(w)["bid"],),
    "getBackupInfo": lambda w: ([a_backup(w)["bid"], ARCHIVE],),
    "changeBackupExpiration": lambda w: (ARCHIVE, a_backup(w)["expire_alterable"].split()[1], 0),
    "deleteBackups": lambda w: ([a_backup(w)["id"]],),
    "editDatabase": lambda w: (w.edit("editDatabase"),),
    "enlargeDatabase": lambda w: (1,),
    "getDatabaseStatistics": lambda w: ("sys", "exasol"),
    "restoreDatabase": lambda w: (a_backup(w)["id"], "blocking"),
    "setBackupSchedule": lambda w: ([{"volume": ARCHIVE, "level": 0, "expire": "1w", "hour": "3"}],),
    "shrinkDatabase": lambda w: (w.db.getCurrentDatabaseSize() - 1,),
    "uploadKeyTab": lambda w: (Binary(b"\x05\x02" + b"\x00" * 30),),
    # JDBC drivers
    "editJDBCDriver": lambda w: (w.edit("editJDBCDriver"),),
    "uploadFile": lambda w: ("parity.jar", jar()),
    # log services
    "editLogService": lambda w: ({"description": w.text()},),
    "logEntriesTagged": lambda w: ("parity",),
    # nodes and their disks
    "addNodeDisk": lambda w: (w.from_schema("addNodeDisk", w.at("Node"), disktype="Data", disksize=1,
                                            devices=OS_DEVICE),),
    "addStorageDisk": lambda w: ([unused_device(w)],),
    "copyNode": lambda w: (max(int(n[1:]) for n in w.c.getNodeList()) + 1,),
    "deleteDisks": lambda w: ([a_small_disk(w)],),
    "Node.deleteSubObject": lambda w: (a_small_disk(w),),
    "editNode": lambda w: (w.edit("editNode"),),
    "getDiskInfo": lambda w: ("d02_data",),
    "addDevice": lambda w: (unused_device(w),),
    "editNodeDisk": lambda w: (w.edit("editNodeDisk"),),
    # the cluster
    "activateNodes": lambda w: ([SPARE],),
    "addBucketFS": lambda w: (w.from_schema("addBucketFS", w.c, http_port=2600 + next(w.counter)),),
    "addDatabase": lambda w: (w.from_schema("addDatabase", w.c, nodes_list=NODES[:1], nodes_number=1,
                                            data_volume=a_spare_volume(w)),),
    "addJDBCDriver": lambda w: (w.from_schema("addJDBCDriver", w.c),),
    "addKeyStore": lambda w: (w.from_schema("addKeyStore", w.c),),
    "addLogService": lambda w: ({"priority": "Warning", "exaclusteros_services": [], "exasolution_systems": []},),
    "addNode": lambda w: (w.from_schema("addNode", w.c, number=max(int(n[1:]) for n in w.c.getNodeList()) + 1),),
    "addNodesFromXML": lambda w: (w.c.getClusterNodesAsXMLBase64(), True),
    "addPublicNetwork": lambda w: (w.from_schema("addPublicNetwork", w.c),),
    "addRemoteVolume": lambda w: (w.from_schema("addRemoteVolume", w.c),),
    "addRoute": lambda w: (w.from_schema("addRoute", w.c),),
    "addSrvMgmtGroup": lambda w: (w.from_schema("addSrvMgmtGroup", w.c),),
    "addUser": lambda w: ({"user_login": w.text("user"), "password": "parity-pw-1"},),
    "addVLAN": lambda w: (w.from_schema("addVLAN", w.c),),
    "callPlugin": lambda w: ("Administration.vmware-tools", "n0011", "STATUS"),
    "deleteLogs": lambda w: (False, [], "2000-01-01", "2000-01-02"),
    "NodeCluster.deleteSubObject": lambda w: (w.c.addVLAN(w.from_schema("addVLAN", w.c)),),
    "deleteUserById": lambda w: (a_user(w)["id"],),
    "deleteUserByLogin": lambda w: (a_user(w)["login"],),
    "editMonitorThresholds": lambda w: ({"load_warning": w.c.getMonitoringThresholdValues()["load_warning"]},),
    "editNodeClusterDefaults": lambda w: ({"default_data_size": 250},),
    "editNodeClusterNetwork": lambda w: ({"cluster_desc": w.text()},),
    "editRemoteSyslogSettings": lambda w: ({"remote_syslog_encrypted": False},),
    "editUser": lambda w: (a_user(w)["login"], {"user_title": "parity"}),
    "getFirewallConfiguration": lambda w: ("n0011",),
    "getHardwareInformation": lambda w: ("n0011",),
    "getKeyStoreByName": lambda w: (w.at("NodeClusterKeyStore").getProperties()["key_store_name"],),
    "getKeyStoreByObjName": lambda w: ("keystore1",),
    "getNodeState": lambda w: ("n0011",),
    "getPublicNetwork": lambda w: (w.at("NodeClusterPublicNetwork").getProperties()["public_network_description"],),
    "getPublicNetworkDescription": lambda w: ("pubnet1",),
    "getRolesForObject": lambda w: ("bfsdefault",),
    "getSrvMgmtGroup": lambda w: (w.at("NodeClusterSrvMgmtGroup").getProperties()["ipmi_description"],),
    "getSrvMgmtGroupDescription": lambda w: ("srvmgmt1",),
    "getUserById": lambda w: (w.c.getUserByName("admin")["id"],),
    "getUserByName": lambda w: ("admin",),
    "getVLAN": lambda w: (w.at("NodeClusterVLAN").getProperties()["vlan_description"],),
    "getVLANDescription": lambda w: ("vlan1",),
    "grantRole": lambda w: ("bfsdefault", a_user(w)["id"], "Supervisor"),
    "licenseUpdate": lambda w: (LICENSE,),
    "removeDatabase": lambda w: (a_version(w),),
    "removePlugin": lambda w: ("Administration.vmware-tools",),
    "setClusterTime": lambda w: (clock_text(w, 3600),),
    "setDefaultRole": lambda w: ("bfsdefault", a_user(w)["id"]),
    "setDiskPassword": lambda w: ("parity-disk-pw",),
    "setKeyStore": lambda w: ("keystore1",),
    "setPriorities": lambda w: ({n: 10 - i for i, n in enumerate(w.c.getEXAoperationNodes())},),
    "showPluginFunctions": lambda w: ("Administration.vmware-tools",),
    "shutdownNode": lambda w: (SPARE,),
    "startupNode": lambda w: (SPARE,),
    "submitFirewallConfiguration": lambda w: ("ACCEPT tcp 22\nDROP all\n",),
    "uploadSoftware": lambda w: (f"EXASolution-6.2.{40 + next(w.counter)}_LINUX_x86_64.tar.gz", package()),
    "uploadTlsFiles": lambda w: (pem(w, "cert.pem"), pem(w, "key.pem")),
    # the cluster's kinds
    "editNodeClusterKeyStore": lambda w: (w.edit("editNodeClusterKeyStore"),),
    "editNodeClusterPublicNetwork": lambda w: (w.edit("editNodeClusterPublicNetwork"),),
    "editNodeClusterRoute": lambda w: (w.edit("editNodeClusterRoute"),),
    "editNodeClusterSrvMgmtGroup": lambda w: (w.edit("editNodeClusterSrvMgmtGroup"),),
    "editNodeClusterVLAN": lambda w: (w.edit("editNodeClusterVLAN"),),
    "editRemoteVolume": lambda w: (w.edit("editRemoteVolume"),),
    # storage
    "addStorageVolume": lambda w: (w.from_schema("addStorageVolume", w.at("Storage"), size=1, masternodes=1),),
    "editStorage": lambda w: ({"vlan_list": []},),
    "startEXAStorage": lambda w: (offline_nodes(w),),
    "getVolumeInfo": lambda w: (ARCHIVE,),
    "volumeRemove": lambda w: (a_spare_volume(w),),
    "addUnusedDevices": lambda w: ([],),
    "disableDevices": lambda w: ([extra_device(w)],),
    "enableDevices": lambda w: ([extra_device(w)],),
    "enlargeDevices": lambda w: ([extra_device(w)],),
    "removeDevices": lambda w: ([extra_device(w)],),
    "setBgRecoveryLimit": lambda w: (500,),
    "setSpaceWarnThreshold": lambda w: (90,),  # what it is: setting it again is no error
    "editStorageVolume": lambda w: (w.edit("editStorageVolume"),),
    "moveNodes": lambda w: ({volume_nodes(w)[-1]: free_storage_node(w)},),
    "removeFile": lambda w: (a_file(w),),
    "resizeVolume": lambda w: (1,),
    "setFileExpiration": lambda w: (a_file(w), 0),
    "setIoState": lambda w: (True, True),
    "moveNode": lambda w: (free_storage_node(w),),
    "storeDebugInfo": lambda w: (ARCHIVE,),
}  # fmt: skip

#: the state a call needs, made before it
GIVEN: dict[str, Callable[[World], Any]] = {
    "Database.abortBackup": backup_running, "Database.abortShrink": shrink_running,
    "Database.backupDatabase": db_running, "Database.startStorageBackup": db_running,
    "Database.editDatabase": db_stopped, "Database.enlargeDatabase": db_stopped,
    "Database.forceShutdownDatabase": db_running, "Database.getDatabaseStatistics": db_running,
    "Database.removeKeyTab": keytab, "Database.restartDatabase": db_running, "Database.restoreDatabase": restorable,
    "Database.shrinkDatabase": db_running, "Database.shutdownDatabase": db_running, "Database.stopDatabase": db_running,
    "Database.startDatabase": db_stopped, "Database.startDatabaseMaintenance": db_stopped,
    "Node.poweroffNode": spare_may_stop, "Node.rebootNode": spare_may_stop, "Node.resetNode": spare_may_stop,
    "Node.shutdownNode": spare_may_stop, "Node.startupNode": spare_off, "Node.stopClusterServices": spare_running,
    "Node.startClusterServices": spare_suspended, "Node.addStorageDisk": spare_running,
    "NodeCluster.shutdownNode": spare_may_stop, "NodeCluster.startupNode": spare_off,
    "NodeCluster.getSoftware": lambda w: w.c.editNodeClusterNetwork({"software_update_url": "https://127.0.0.1/sw"}),
    "NodeCluster.synchronizeNTP": lambda w: w.c.editNodeClusterNetwork({"ntp_server1": "127.0.0.1"}),
    "NodeCluster.setClusterTime": lambda w: (advance(w.srv, 60), w.c.editNodeClusterNetwork({"ntp_server1": ""})),
    "NodeCluster.uploadSoftware": lambda w: advance(w.srv, 600),
    "NodeCluster.restartLicenseServer": lambda w: advance(w.srv, 60),
    "NodeDisk.addDevice": spare_running,
    "Storage.startEXAStorage": storage_stopped, "Storage.stopEXAStorage": db_stopped,
    "Storage.editStorage": storage_stopped,
    "Storage.addStorageVolume": storage_online, "StorageNode.resumeNode": storage_node_suspended,
    "StorageNode.suspendNode": storage_node_unused, "StorageNode.restartNode": storage_node_unused,
    "StorageNode.addUnusedDevices": storage_online, "StorageNode.enableDevices": disabled_device,
    "StorageVolume.resizeVolume": storage_online, "StorageVolume.moveNodes": storage_settled,
    "StorageVolume.formatFilesystem": storage_online, "StorageVolumeNode.moveNode": storage_settled,
    "StorageVolumeNode.recoverNode": storage_settled, "StorageVolumeNode.stopRecoverNode": recovering,
}  # fmt: skip


def a_new_database(w: World) -> str:
    """The path of a database that is defined and not yet created."""
    name = w.c.addDatabase(EXAMPLES["addDatabase"](w)[0])
    return f"/cluster1/{name}"


#: calls that go to another object than their kind's instance
ON: dict[str, Callable[[World], str]] = {
    "Database.createDatabase": a_new_database,
    "StorageVolumeNode.moveNode": lambda w: f"/cluster1/storage/{w.vol}/{volume_nodes(w)[-1]}",
}
#: calls refused in every state the test can make, and the refusal (it says which state and why)
REFUSED = {"StorageNode.enlargeDevices": "already use their whole disk"}
#: calls that answer once EXAStorage has settled (the clock moves while they wait)
SETTLING = {"Storage.startEXAStorage", "Storage.stopEXAStorage"}

#: calls that run last, in this order (they change what others rely on)
LAST = ["Database.restoreDatabase", "Storage.deleteMetadata", "NodeCluster.removePlugin",
        "NodeCluster.setDiskPassword", "NodeCluster.licenseUpdate", "NodeCluster.restartEXAoperation",
        "NodeCluster.restartLicenseServer", "NodeCluster.setClusterTime",
        "NodeCluster.haltLicenseServer"]  # fmt: skip


def no_database(w: World) -> None:
    """Every node running, no database, EXAStorage stopped: all that deleteMetadata takes."""
    boot(w.srv)
    assert w.c.deleteSubObject("db_exa_db1") == "OK"


#: calls that end the server they are sent to, or everything on it: each runs on a server of its
#: own, after the state it needs
OWN_SERVER: dict[str, Callable[[World], Any]] = {
    "NodeCluster.haltLicenseServer": lambda w: None,
    "Storage.deleteMetadata": no_database,
}
#: and of those, the calls that end the server
ENDS_SERVER = {"NodeCluster.haltLicenseServer"}
ORDERED = [p for p in PAIRS if f"{p[0]}.{p[1]}" not in LAST] + [tuple(k.split(".")) for k in LAST]


def xmlrpc_type(value: Any) -> str:
    """The XML-RPC type a value came as (what a typed client, such as Java's, reads it as)."""
    for t, name in ((bool, "boolean"), (int, "int"), (float, "double"), (str, "string"), (list, "array"),
                    (dict, "struct")):  # fmt: skip
        if isinstance(value, t):
            return name
    return type(value).__name__


def key(kind: str, name: str) -> str:
    return f"{kind}.{name}"


def method(kind: str, name: str) -> Method:
    return ALL_TYPES[kind].methods[name]


def example(w: World, kind: str, name: str) -> tuple[Any, ...]:
    """Valid arguments (none for a method that takes none, or whose arguments are all optional
    and have no example)."""
    fn = EXAMPLES.get(key(kind, name)) or EXAMPLES.get(name)
    return fn(w) if fn is not None and method(kind, name).params else ()


def typed(types: tuple[type, ...]) -> Any:
    """A value of one of ``types`` (the arguments before the one a test gets wrong)."""
    return {str: "x", int: 1, float: 1.0, bool: True, list: [], dict: {}}[types[0]] if types else "x"


def wrong(types: tuple[type, ...]) -> Any:
    """A value of none of ``types``."""
    return next(v for v in ({"wrong": 1}, ["wrong"], "wrong", 1.5) if not isinstance(v, types))


def snapshot(w: World, kind: str) -> dict[str, Any]:
    """What a refused call must leave as it was: the object and what is added beside it."""
    obj = w.at(kind)
    return {"props": obj.getProperties(), "objects": obj.listObjects() if "listObjects" in w.methods[kind] else [],
            "cluster": w.c.listObjects(), "users": w.c.getAllUserLogins(), "volumes": w.at("Storage").getVolumeList(),
            "disks": w.at("Node").getAllDisks(), "databases": w.c.getDatabaseList()}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    srv = ServerProcess(tmp_path_factory.mktemp("parity") / "state").start()
    try:
        w = World(srv)
        all_up(srv)
        c = w.c
        for name in ("addSrvMgmtGroup", "addKeyStore", "addJDBCDriver", "addVLAN", "addPublicNetwork", "addRoute",
                     "addRemoteVolume"):  # fmt: skip
            getattr(c, name)(w.from_schema(name, c))
        assert c.addNode(w.from_schema("addNode", c, number=int(SPARE[1:]))) == SPARE
        w.at("Node").applyDefaultDiskLayout()
        w.at("Node").deleteDisks(["d03_storage"])  # its devices stay free for the disk methods
        spare_running(w)
        w.vol = w.at("Storage").addStorageVolume(w.from_schema(
            "addStorageVolume", w.at("Storage"), size=4, volume_type="Archive", nodes_list=NODES[:3], redundancy=2,
            masternodes=3))  # fmt: skip
        w.methods = {kind: set(w.at(kind).listMethods()) for kind in DOCUMENTED}
        yield w
    finally:
        srv.stop()
    crashes = [line for line in srv.output if "unexpected error in" in line]
    assert crashes == [], "a call failed unexpectedly (InternalError): see the server's traceback"


def test_every_documented_kind_has_an_instance_and_every_method_with_arguments_an_example() -> None:
    assert set(DOCUMENTED) == set(PATHS)
    missing = [key(k, n) for k, n in PAIRS if method(k, n).required and key(k, n) not in EXAMPLES
               and n not in EXAMPLES]  # fmt: skip
    assert missing == [], "methods with required arguments need an example in EXAMPLES"
    for name, (schema, changed) in EDIT_SCHEMAS.items():
        assert changed in schema.names(writable=True), f"{name} cannot change {changed}"
    known = {n for _, n in PAIRS} | {key(*p) for p in PAIRS}
    assert set(ADD_SCHEMAS) | set(EDIT_SCHEMAS) <= known
    unused = [k for k in [*EXAMPLES, *GIVEN, *ON, *REFUSED, *SETTLING, *OWN_SERVER] if k not in known]
    assert unused == []


@pytest.mark.parametrize(("kind", "name"), PAIRS, ids=[key(*p) for p in PAIRS])
def test_our_object_of_the_kind_lists_the_method(world: World, kind: str, name: str) -> None:
    assert name in world.methods[kind]
    assert world.at(kind).methodHelp(name).strip()


@pytest.mark.parametrize(("kind", "name"), PAIRS, ids=[key(*p) for p in PAIRS])
def test_one_argument_too_many_is_refused_naming_what_the_method_takes(world: World, kind: str, name: str) -> None:
    m = method(kind, name)
    args = [typed(p.types) for p in m.params] + ["one too many"]
    text = fault(getattr(world.at(kind), name), *args).faultString
    assert text.startswith(f"UsageError: {name} takes (")
    assert all(p.name in text for p in m.params) and f"{len(args)} argument(s) given" in text


WRONG_TYPES = [(kind, name, i) for kind, name in PAIRS for i, p in enumerate(method(kind, name).params) if p.types]


@pytest.mark.parametrize(("kind", "name", "i"), WRONG_TYPES,
                         ids=[f"{key(k, n)}.{method(k, n).params[i].name}" for k, n, i in WRONG_TYPES])  # fmt: skip
def test_a_wrong_type_is_refused_naming_the_parameter(world: World, kind: str, name: str, i: int) -> None:
    params = method(kind, name).params
    args = [wrong(p.types) if j == i else typed(p.types) for j, p in enumerate(params) if j <= i or not p.optional]
    text = fault(getattr(world.at(kind), name), *args).faultString
    assert text.startswith(f"UsageError: {name}: argument {params[i].name} must be "), text


LISTS_OF = [(kind, name, i) for kind, name, i in WRONG_TYPES if method(kind, name).params[i].types == (list,)]


@pytest.mark.parametrize(("kind", "name", "i"), LISTS_OF,
                         ids=[f"{key(k, n)}.{method(k, n).params[i].name}" for k, n, i in LISTS_OF])  # fmt: skip
def test_a_list_of_the_wrong_items_is_refused_and_crashes_nothing(world: World, kind: str, name: str, i: int) -> None:
    params = method(kind, name).params
    others = [p for j, p in enumerate(params) if j != i and not p.optional]
    args = list(example(world, kind, name)) if others else [typed(p.types) for p in params if not p.optional]
    args += [typed(p.types) for p in params[len(args) : i + 1]]
    args[i] = [[]]  # the other arguments valid: the list is what is looked at
    text = fault(getattr(world.at(kind), name), *args).faultString
    assert text.startswith(("UsageError: ", "Unexpected Zope exception: NotFound: ")), text


DICTS = [(kind, name) for kind, name in PAIRS if any(dict in p.types for p in method(kind, name).params)]


@pytest.mark.parametrize(("kind", "name"), DICTS, ids=[key(*p) for p in DICTS])
def test_an_unknown_field_is_refused_by_name_and_changes_nothing(world: World, kind: str, name: str) -> None:
    args = list(example(world, kind, name))
    at = next(i for i, p in enumerate(method(kind, name).params) if dict in p.types)
    if not isinstance(args[at], dict):
        args[at] = {}
    args[at] = {**args[at], "no_such_field": next(iter(args[at].values()), "x")}
    before = snapshot(world, kind)
    text = fault(getattr(world.at(kind), name), *args).faultString
    assert text.startswith("UsageError: ") and "no_such_field" in text, text
    assert snapshot(world, kind) == before


@pytest.mark.parametrize(("kind", "name"), ORDERED, ids=[key(*p) for p in ORDERED])
def test_valid_arguments_are_answered_without_a_fault(world: World, tmp_path: Path, kind: str, name: str) -> None:
    if key(kind, name) in OWN_SERVER:
        own = World(ServerProcess(tmp_path / "state").start())
        try:
            OWN_SERVER[key(kind, name)](own)
            getattr(own.at(kind), name)(*example(own, kind, name))
            if key(kind, name) in ENDS_SERVER:
                assert own.srv.wait_exit() == 0
        finally:
            own.srv.stop()
        return
    given = GIVEN.get(key(kind, name))
    if given is not None:
        given(world)
    args = example(world, kind, name)
    where = ON[key(kind, name)](world) if key(kind, name) in ON else world.path(kind)
    try:
        if key(kind, name) in SETTLING:
            storage_call(world.srv, name, *args)
        else:
            returns = world.srv.proxy(where).methodSignature(name)[0][0]  # (asked first: a restart answers 503)
            answer = getattr(world.srv.proxy(where), name)(*args)
            assert returns == "any" or xmlrpc_type(answer) == returns, f"answers {answer!r}, its signature: {returns}"
    except Fault as f:
        if key(kind, name) in REFUSED and f.faultString.startswith("UsageError: "):
            assert REFUSED[key(kind, name)] in f.faultString
            return
        pytest.fail(f"{key(kind, name)}{args!r}: {f.faultString}")
    assert key(kind, name) not in REFUSED, "refused no more: take it out of REFUSED"
