"""The cluster's own settings: edit forms and their rules, NTP and time, firewall, priorities,
what waits for EXAoperation's restart, TLS files, the disk password; software and license."""

from __future__ import annotations

import datetime as dt
import io
import tarfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exaop.model import software, support
from exaop.model.schema import MASK
from tests.unit.modelkit import Sim, keeping_passwords, refusal, without_jitter


def sim() -> Sim:
    return keeping_passwords(without_jitter(Sim()))


def test_each_form_changes_only_its_fields_checked_together() -> None:
    st = sim().c.settings
    assert st.edit("editNodeClusterNetwork", {"cluster_desc": "prod", "dns_server1": "10.0.0.53"}) == \
        ["cluster_desc", "dns_server1"]  # fmt: skip
    assert st.properties()["cluster_desc"] == "prod"
    assert refusal(st.edit, "editNodeClusterNetwork", {"disk_usage_error": 90}).startswith(
        "unknown field(s) disk_usage_error; cluster (editNodeClusterNetwork) has: cluster_desc"
    )
    assert refusal(st.edit, "editMonitorThresholds", {"disk_usage_warning": 96}) == \
        "disk_usage_warning (96) must be below disk_usage_error (95)"  # fmt: skip
    assert refusal(st.edit, "editNodeClusterNetwork", {"default_gateway": "192.0.2.1"}) == \
        "default_gateway 192.0.2.1 is not in external_network 10.60.1.0/24"  # fmt: skip
    assert refusal(st.edit, "editNodeClusterNetwork", {"time_zone": "Mars/Olympus"}).startswith("time_zone must be")
    assert refusal(st.edit, "editNodeClusterNetwork", {"ntp_key": "abc"}).startswith("ntp_key is the key's number")
    assert refusal(st.edit, "editNodeClusterDefaults", {"default_devices": ["sda; rm"]}).startswith("default_devices")
    assert st.edit("editMonitorThresholds", {"disk_usage_warning": 80, "disk_usage_error": 90}) == \
        ["disk_usage_error", "disk_usage_warning"]  # fmt: skip
    assert st.edit("editNodeClusterNetwork", {"software_update_url": "https://updates.example/exa",
                                              "software_update_user": "u", "software_update_password": "p"}) \
        == ["software_update_password", "software_update_url", "software_update_user"]  # fmt: skip
    assert st.properties()["software_update_password"] == MASK and "'p'" not in str(st.record())
    assert software.update_url(st.cluster) == "https://u:********@updates.example/exa"


def test_restart_fields_and_tls_wait_for_exaoperation() -> None:
    s = sim()
    st = s.c.settings
    st.edit("editNodeClusterNetwork", {"no_allow_http": True})
    assert st.need_restart() and "ACCEPT tcp 80 " not in st.default_firewall()
    s.c.restart_exaoperation("")
    s.settle("exaoperation_restart")
    assert not st.need_restart() and "now in effect: no_allow_http" in s.messages()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "exaop.example")])
    now = dt.datetime.fromtimestamp(s.now, dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())  # fmt: skip
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()  # fmt: skip
    other = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    assert refusal(st.upload_tls, cert, other) == "private_key does not belong to the certificate"
    assert refusal(st.upload_tls, "junk", pem).startswith("cert is not a PEM certificate")
    assert st.upload_tls(cert, pem)["subject"] == "CN=exaop.example" and st.need_restart()
    assert pem not in str(st.record()) and pem not in str(support.state(s.c))


def test_ntp_and_the_cluster_time() -> None:
    s = sim()
    st = s.c.settings
    assert refusal(st.synchronize_ntp) == "no NTP server is configured: set ntp_server1 with editNodeClusterNetwork"
    assert st.cluster_time_step("2030-01-01 00:00:00") > 0
    assert refusal(st.cluster_time_step, "2001-01-01 00:00:00").endswith("its clock only moves forward")
    assert refusal(st.cluster_time_step, "tomorrow") == "'tomorrow' is not a time 'YYYY-MM-DD HH:MM:SS' (UTC)"
    st.edit("editNodeClusterNetwork", {"ntp_server1": "pool.ntp.org", "ntp_server2": "10.0.0.123"})
    assert [x["state"] for x in st.ntp_state()] == ["not synchronized", "not synchronized"]
    assert st.synchronize_ntp() == ["pool.ntp.org", "10.0.0.123"]
    assert st.ntp_state()[0]["state"] == "synchronized" and st.ntp_state()[0]["last_sync"]
    assert refusal(st.cluster_time_step, "2030-01-01 00:00:00").startswith("the cluster's time comes from NTP")
    st.edit("editNodeClusterNetwork", {"ntp_server2": ""})
    assert st.ntp_state() == [{"server": "pool.ntp.org", "state": "not synchronized", "last_sync": "", "key": "no"}]


def test_firewall_rules_are_checked_line_by_line() -> None:
    st = sim().c.settings
    default = st.firewall_configuration("n0011")
    assert "ACCEPT tcp 8563       # database exa_db1" in default
    bad_line = "line 2: 'ALLOW everything' is not 'ACCEPT|DROP|REJECT tcp|udp|icmp|all [PORT[:PORT]] [from NETWORK]'"
    assert refusal(st.submit_firewall, "ACCEPT tcp 22\nALLOW everything\n") == bad_line
    assert refusal(st.submit_firewall, "ACCEPT tcp 70000") == "line 1: port(s) 70000 out of 1-65535"
    assert refusal(st.submit_firewall, "ACCEPT tcp 22 from 10.0.0.300/8").startswith("line 1: '10.0.0.300/8'")
    assert st.firewall_configuration("n0011") == default  # refused: nothing changed
    assert st.submit_firewall("# mine\nACCEPT tcp 22 from 10.0.0.0/8\nDROP all\n") == 2
    assert st.firewall_configuration("n0012").startswith("# mine")
    assert st.submit_firewall("") == 0 and st.firewall_configuration("n0011") == default


def test_priorities_order_the_exaoperation_nodes() -> None:
    c = sim().c
    assert c.exaoperation_nodes() == ["n0010", "n0011", "n0012"]
    assert c.settings.set_priorities({"n0010": 1, "n0011": 3, "n0012": 2}) == ["n0011", "n0012", "n0010"]
    assert c.exaoperation_nodes() == ["n0011", "n0012", "n0010"]
    assert refusal(c.settings.set_priorities, ["n0011"]) == "name each EXAoperation node once: n0010, n0011, n0012"
    assert refusal(c.settings.set_priorities, ["n0013", "n0011", "n0012"]).startswith("n0013: not an EXAoperation")
    assert c.settings.reinit_priorities() == ["n0010", "n0011", "n0012"]


def test_disk_password_is_sealed_and_reinstalls_the_nodes() -> None:
    s = sim()
    assert refusal(s.c.settings.set_disk_password, "short") == \
        "the disk password must be a string of at least 8 characters"  # fmt: skip
    assert s.c.settings.set_disk_password("correct horse") == ["n0011", "n0012", "n0013", "n0014"]
    assert s.c.settings.properties()["node_disk_password"] == MASK
    assert s.c.settings.secret("node_disk_password") == "correct horse"
    assert s.node("n0011").mode == "To install"


def package(name: str = "EXASolution-6.2.18_LINUX_x86_64.tar.gz") -> tuple[str, bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"6.2.18\n"
        info = tarfile.TarInfo("VERSION")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name, buf.getvalue()


def test_uploads_and_updates_install_versions_on_the_clock() -> None:
    s = sim()
    c = s.c
    assert refusal(software.upload, c, "setup.exe", b"").startswith("'setup.exe' is not a database package name")
    assert refusal(software.upload, c, "EXASolution-6.2.18.tar.gz", b"not gzip") == \
        "EXASolution-6.2.18.tar.gz is not a gzip'ed tar archive"  # fmt: skip
    state = software.upload(c, *package())
    assert (state["state"], state["version"], state["progress"]) == ("unpacking", "6.2.18", 0)
    assert refusal(software.upload, c, *package()).endswith("is still unpacking; wait for it (getUploadPackageState)")
    s.advance(45)
    assert software.upload_state(c)["progress"] == 50
    s.advance(46)
    assert software.upload_state(c)["state"] == "installed"
    assert software.installed_versions(c) == ["6.2.17", "6.2.18"]
    assert software.history(c)[-1]["details"] == "EXASolution 6.2.18 from EXASolution-6.2.18_LINUX_x86_64.tar.gz"
    assert software.available_updates(c) == [] and refusal(software.download, c).startswith("no software_update_url")
    c.settings.edit("editNodeClusterNetwork", {"software_update_url": "https://updates.example/"})
    assert software.available_updates(c) == ["6.2.19", "6.2.20"]
    assert software.download(c)["version"] == "6.2.20"
    s.advance(91)
    assert software.obsolete_versions(c) == ["6.2.18"]  # 6.2.17 is exa_db1's, 6.2.20 the newest
    assert software.remove_obsolete(c) == ["6.2.18"] and software.installed_versions(c) == ["6.2.17", "6.2.20"]
    assert refusal(software.remove_version, c, "6.2.17") == (
        "EXASolution 6.2.17 is used by database(s) exa_db1; change their database_version first"
    )


LICENSE = """<license><companyname>ACME</companyname><serial_number>S-1</serial_number>
<validation_key>K</validation_key><expiration>2099-12-31</expiration><maxdbmemory>{mem}</maxdbmemory>
<maxnodes>{nodes}</maxnodes><features><feature>Backup</feature></features></license>"""


def test_a_license_is_checked_against_what_the_cluster_uses() -> None:
    s = sim()
    c = s.c
    assert software.available_nodes(c) == software.UNLIMITED_NODES
    assert refusal(software.update_license, c, LICENSE.format(mem=100, nodes=8)) == \
        "license_data: maxdbmemory 100 GiB is below the 200 GiB the databases are configured with"  # fmt: skip
    assert refusal(software.update_license, c, LICENSE.format(mem=0, nodes=3)) == \
        "license_data: maxnodes 3 is below the cluster's 4 nodes"  # fmt: skip
    assert refusal(software.update_license, c, "<license><x/></license>").startswith(
        "license_data: unknown element(s) x"
    )
    assert refusal(software.update_license, c, LICENSE.replace("2099", "2001").format(mem=0, nodes=0)) == \
        "license_data: the license expired on 2001-12-31"  # fmt: skip
    props = software.update_license(c, LICENSE.format(mem=210, nodes=6))
    assert props["license_companyname"] == "ACME" and props["license_maxdbmemory"] == 210
    assert "the databases' memory (200 GiB) is 95 % of what the license allows (210 GiB); warning from 90 %" \
        in s.messages()  # fmt: skip
    assert software.available_nodes(c) == 2
    assert software.license_limits(c)[0] == {"name": "maxdbmemory", "unit": "GiB", "limit": 210, "used": 200}
    assert software.license_features(c) == [{"feature": "Backup", "expiration": "2099-12-31"}]
    assert c.settings.properties()["license_serial_number"] == "S-1"
