"""Support's debug information: real content, no secret, stored where it takes room."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from exaop.model import support
from exaop.model.errors import UsageError
from exaop.model.srvmgmt import SrvMgmtGroup
from exaop.model.users import User
from tests.unit.modelkit import Sim, keeping_passwords


def test_the_archive_holds_log_settings_state_without_secrets() -> None:
    s = keeping_passwords(Sim())
    c = s.c
    c.add_object(SrvMgmtGroup, {"ipmi_description": "r", "ipmi_type": "IPMI", "ipmi_username": "root",
                                "ipmi_password": "calvin-secret"})  # fmt: skip
    admin = User(c, 1, "admin")
    admin.set_password("admin-password")
    c.users.load(admin)
    s.boot("n0011")
    data = support.archive(c)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert sorted(files) == ["debuginfo/log.txt", "debuginfo/settings.json", "debuginfo/state.json",
                             "debuginfo/support.json"]  # fmt: skip
    assert "Boot process finished after" in files["debuginfo/log.txt"]
    state = json.loads(files["debuginfo/state.json"])
    assert state["node"]["n0011"]["state"] == "running"
    assert state["srvmgmt_group"]["srvmgmt1"]["values"]["ipmi_password"] == "********"
    assert state["user"]["1"]["password_hash"] == "********"
    everything = "".join(files.values())
    assert "argon2" not in everything and c.object_at("srvmgmt1").values["ipmi_password"] not in everything
    assert json.loads(files["debuginfo/support.json"])["nodes"]["n0011"] == "Running"


def test_stored_debug_info_uses_room_on_an_archive_volume() -> None:
    c = Sim().c
    with pytest.raises(UsageError, match="volume v0000 is a Data volume"):
        support.store(c, "v0000")
    with pytest.raises(UsageError, match="volume 'v9' does not exist; archive volumes: v0001"):
        support.store(c, "v9")
    name = support.store(c, "v0001")
    assert name.startswith("debuginfo_cluster1_") and f"support/{name}" in c.volumes["v0001"].usage
