"""Server management groups, key stores, JDBC drivers, BucketFS and buckets: their rules,
what refusals say, and what they do to the rest of the cluster."""

from __future__ import annotations

import io
import zipfile

import pytest

from exaop.model.bucketfs import Bucket, BucketFS, save_changes
from exaop.model.cluster import Cluster
from exaop.model.errors import NotFound
from exaop.model.jdbc import JDBCDriver
from exaop.model.keystore import KeyStore, key_store
from exaop.model.schema import MASK
from exaop.model.srvmgmt import SrvMgmtGroup, bmc_of
from tests.unit.modelkit import Sim, keeping_passwords, refusal

GROUP = {"ipmi_description": "rack 1", "ipmi_type": "IPMI", "ipmi_username": "root", "ipmi_password": "calvin"}
KEYSTORE = {"key_store_name": "hsm", "key_store_type": "PKCS#11", "key_store_attributes": "LIB=/usr/lib/p11.so;SLOT=1",
            "keylabel": "exaop"}  # fmt: skip
DRIVER = {"jdbc_name": "MySQL", "jdbc_main": "com.mysql.jdbc.Driver", "jdbc_prefix": "jdbc:mysql:"}


def cluster() -> Cluster:
    return keeping_passwords(Sim()).c


def jar(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names or ("META-INF/MANIFEST.MF",):
            z.writestr(n, "Manifest-Version: 1.0\n")
    return buf.getvalue()


# -- server management groups -----------------------------------------------------------------------


def test_a_node_names_its_group_and_a_driver_reads_its_card_and_credentials() -> None:
    c = cluster()
    g = c.add_object(SrvMgmtGroup, GROUP)
    assert g.name == "srvmgmt1" and g.properties()["ipmi_password"] == MASK
    node = c.nodes["n0011"]
    assert bmc_of(node) is None
    node.values["ipmi_group"] = "srvmgmt1"
    card = bmc_of(node)
    assert card is not None and (card.type, card.username, card.password, card.public) == ("IPMI", "root", "calvin",
                                                                                         False)  # fmt: skip
    assert card.mac == "0a:00:00:00:00:0b"
    assert "calvin" not in str(g.record())
    assert refusal(c.delete_child, "srvmgmt1") == "server management group srvmgmt1 is still used by node n0011"


def test_group_rules_name_the_field() -> None:
    c = cluster()
    c.add_object(SrvMgmtGroup, GROUP)
    assert refusal(c.add_object, SrvMgmtGroup, GROUP) == "ipmi_description 'rack 1' is already used by srvmgmt1"
    assert refusal(c.add_object, SrvMgmtGroup, {**GROUP, "ipmi_description": "x", "ipmi_type": "Telnet"}).startswith(
        "ipmi_type must be one of: IPMI, Redfish"
    )
    assert refusal(c.add_object, SrvMgmtGroup, {**GROUP, "ipmi_description": "x",
                                                "ipmi_password_multiline": "a\nb"}).startswith(
        "set ipmi_password or ipmi_password_multiline, not both")  # fmt: skip
    c.nodes["n0012"].values["ipmi_group"] = "srvmgmt1"
    g = c.object_at("srvmgmt1")
    assert refusal(g.edit, {"public_ip_addresses": True}).startswith(
        "public_ip_addresses: node(s) n0012 of group srvmgmt1 have no ip_addr_ipmi"
    )
    assert g.values["public_ip_addresses"] is False


# -- key stores ---------------------------------------------------------------------------------------


def test_key_store_lock_choose_and_delete_rules() -> None:
    c = cluster()
    ks = c.add_object(KeyStore, KEYSTORE)
    assert isinstance(ks, KeyStore) and ks.status == "unlocked"
    assert key_store(c, "hsm").name == "keystore1" and key_store(c, "keystore1", by="object") is ks
    with pytest.raises(NotFound):
        key_store(c, "nope")
    assert refusal(c.add_object, KeyStore, {**KEYSTORE, "key_store_name": "b", "key_store_attributes": "LIB"}) \
        .startswith("key_store_attributes: 'LIB' is not KEY=VALUE")  # fmt: skip
    ks.lock()
    assert refusal(ks.lock) == "key store keystore1 is already locked"
    assert refusal(c.settings.set_key_store, "hsm") == "key store keystore1 is locked; unlock it first"
    assert refusal(ks.edit, {"keylabel": "other"}) == "key store keystore1 is locked; unlock it before changing it"
    ks.unlock()
    assert c.settings.set_key_store("hsm") == "keystore1"
    assert c.settings.properties()["password_keystore"] == "keystore1" and ks.describe()["in_use"] is True
    assert refusal(c.delete_child, "keystore1") == "key store keystore1 is still used by the cluster's passwords"
    assert c.settings.set_key_store("") == ""
    c.delete_child("keystore1")


# -- JDBC drivers and the default bucket ------------------------------------------------------------------


def test_jdbc_jars_live_in_the_default_bucket_and_count_in_its_size() -> None:
    c = cluster()
    d = c.add_object(JDBCDriver, DRIVER)
    assert isinstance(d, JDBCDriver) and d.properties()["jdbc_jars"] == []
    content = jar("com/mysql/jdbc/Driver.class")
    assert d.upload("mysql.jar", content) == "bfsdefault/default/drivers/jdbc/jdbc1/mysql.jar"
    d.upload("extra.jar", jar())
    assert d.properties()["jdbc_jars"] == ["bfsdefault/default/drivers/jdbc/jdbc1/extra.jar",
                                           "bfsdefault/default/drivers/jdbc/jdbc1/mysql.jar"]  # fmt: skip
    bucket, fs = c.object_at("default", "bfsdefault"), c.object_at("bfsdefault")
    assert isinstance(bucket, Bucket) and isinstance(fs, BucketFS)
    assert bucket.size() == len(content) + len(jar()) == fs.size()
    assert refusal(c.delete_child, "bfsdefault") == ("bucket bfsdefault/default is still used by the JAR files of "
                                                     "JDBC driver jdbc1")  # fmt: skip
    assert c.object_at("default", "bfsdefault") is bucket  # nothing half deleted
    assert d.remove_jars() == ["extra.jar", "mysql.jar"] and bucket.size() == 0
    c.delete_child("bfsdefault")
    assert refusal(d.upload, "mysql.jar", content) == ("JDBC drivers are kept in BucketFS bucket bfsdefault/default, "
                                                       "which does not exist")  # fmt: skip


def test_jdbc_refusals_name_the_field() -> None:
    c = cluster()
    c.add_object(JDBCDriver, DRIVER)
    assert refusal(c.add_object, JDBCDriver, {**DRIVER, "jdbc_name": "b"}) == \
        "jdbc_prefix 'jdbc:mysql:' is already served by jdbc1"  # fmt: skip
    assert refusal(c.add_object, JDBCDriver, {**DRIVER, "jdbc_name": "b", "jdbc_prefix": "mysql:"}).startswith(
        "jdbc_prefix 'mysql:' must begin with 'jdbc:'"
    )
    assert refusal(c.add_object, JDBCDriver, {**DRIVER, "jdbc_main": "not a class"}).startswith("jdbc_main")
    d = c.object_at("jdbc1")
    assert refusal(d.upload, "../x.jar", jar()).startswith("file name '../x.jar' must be a plain file name")
    assert refusal(d.upload, "x.jar", b"PK\x03\x04 not really") == "x.jar is not a JAR file (a JAR is a ZIP archive)"
    assert d.files == {}


# -- BucketFS -------------------------------------------------------------------------------------------


def test_a_new_cluster_has_bfsdefault_with_a_public_default_bucket_saved() -> None:
    c = cluster()
    fs = c.object_at("bfsdefault")
    assert fs is not None and fs.properties() == {"description": "the default BucketFS", "disk": "d02_data",
                                                  "http_port": 2580, "https_port": 0}  # fmt: skip
    bucket = c.object_at("default", "bfsdefault")
    assert bucket is not None and bucket.properties()["public_bucket"] is True
    assert save_changes(c) == []


def test_bucketfs_ports_are_unique_and_changes_take_effect_when_saved() -> None:
    c = cluster()
    assert refusal(c.add_object, BucketFS, {"disk": "d02_data"}) == "a BucketFS needs http_port or https_port (or both)"
    assert refusal(c.add_object, BucketFS, {"disk": "d02_data", "http_port": 2580}) == \
        "port 2580 is already used by BucketFS bfsdefault"  # fmt: skip
    assert refusal(c.add_object, BucketFS, {"disk": "d02_data", "https_port": 8563}) == \
        "port 8563 is the client port of database exa_db1"  # fmt: skip
    assert refusal(c.add_object, BucketFS, {"disk": "d02_data", "https_port": 80}).startswith("port 80 is not allowed")
    fs = c.add_object(BucketFS, {"disk": "d02_data", "http_port": 2590, "https_port": 2591})
    assert fs.name == "bucketfs1"
    b = c.add_object(Bucket, {"bucket_name": "udfs", "public_bucket": False, "read_password": "r",
                              "write_password": "w"}, "bucketfs1")  # fmt: skip
    assert (b.key, b.properties()["write_password"]) == ("bucketfs1/udfs", MASK)
    assert refusal(b.edit, {"bucket_name": "other"}).startswith("bucket_name: a bucket keeps its name (udfs)")
    again = {"bucket_name": "udfs", "public_bucket": True, "read_password": "", "write_password": ""}
    assert refusal(c.add_object, Bucket, again, "bucketfs1") == "BucketFS bucketfs1 already has a bucket udfs"
    assert "2590" not in c.settings.firewall_configuration("n0011")  # not saved yet: not in effect
    assert save_changes(c) == ["bucketfs1", "bucketfs1/udfs"]
    assert "ACCEPT tcp 2590" in c.settings.firewall_configuration("n0011")
    fs.edit({"http_port": 2592})
    assert save_changes(c) == ["bucketfs1"] and save_changes(c) == []
    c.delete_child("bucketfs1")
    assert c.object_at("udfs", "bucketfs1") is None
