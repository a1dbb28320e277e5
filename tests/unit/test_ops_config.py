"""ops/config.py: durations, flags over environment over file, the public scripts' startstop.cfg."""

from __future__ import annotations

from pathlib import Path

import pytest

from exaop.client import ExaClient
from exaop.ops.config import DEFAULT_TIMEOUTS, build_options, load_file, node_name, parse_duration, resolve_password
from exaop.ops.errors import ConfigError

URL = "https://ls.example/cluster1"


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("90", 90), (90, 90), (1.5, 1.5), ("30m", 1800), ("1h30m", 5400), ("2h", 7200),
     ("1m30s", 90), (" 20M ", 1200), ("0.5m", 30)],
)  # fmt: skip
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10 minutes", "-5", "0", "0s", "1d", "m", True])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ConfigError) as e:
        parse_duration(text, "--timeout")
    assert "--timeout" in str(e.value)


def test_node_names() -> None:
    assert node_name("10") == node_name(10) == node_name("n0010") == "n0010"
    with pytest.raises(ConfigError):
        node_name("ls1")


# -- precedence -------------------------------------------------------------------------------------


def test_flags_over_environment_over_file() -> None:
    file = {"url": "https://from-file/cluster1", "user": "file-user", "password": "file-pw", "timeout": "5m"}
    env = {"EXAOP_URL": "https://from-env/cluster1", "EXAOP_USER": "env-user", "EXAOP_PASSWORD": "env-pw"}
    flags = {"url": "https://from-flag/cluster1", "user": "flag-user", "timeout": "20m"}

    o = build_options(file, {}, env={})
    assert (o.url, o.user, o.password) == ("https://from-file/cluster1", "file-user", "file-pw")
    assert o.timeout("nodes") == 300

    o = build_options(file, {}, env=env)
    assert (o.url, o.user, o.password) == ("https://from-env/cluster1", "env-user", "env-pw")

    o = build_options(file, flags, env=env)
    assert (o.url, o.user, o.password) == ("https://from-flag/cluster1", "flag-user", "env-pw")
    assert {o.timeout(p) for p in DEFAULT_TIMEOUTS} == {1200}


def test_unset_flags_do_not_override() -> None:
    file = {"url": URL, "force": True, "ignore_nodes": ["n0012"], "parallel": 4}
    o = build_options(file, {"url": None, "force": None, "ignore_nodes": [], "parallel": None}, env={})
    assert o.url == URL and o.ignore_nodes == ["n0012"] and o.parallel == 4


def test_per_phase_timeouts_from_file_and_defaults() -> None:
    o = build_options({"url": URL, "timeouts": {"nodes": "30m"}}, {}, env={})
    assert o.timeout("nodes") == 1800
    assert o.timeout("storage") == DEFAULT_TIMEOUTS["storage"]
    with pytest.raises(ConfigError, match="unknown timeout 'boot'"):
        build_options({"url": URL, "timeouts": {"boot": "30m"}}, {}, env={})


@pytest.mark.parametrize(
    "settings, message",
    [({}, "no EXAoperation URL"), ({"url": "ls.example/cluster1"}, "https://license-server/cluster1"),
     ({"url": URL, "parallel": 0}, "parallel"), ({"url": URL, "ca_file": "/nonexistent/ca.pem"}, "CA file"),
     ({"url": URL, "plugins": [{"restart_on": ["n0010"]}]}, "needs a name")],
)  # fmt: skip
def test_bad_settings_are_config_errors(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_options(settings, {}, env={})


def test_credentials_in_the_url_are_used_but_never_kept_in_it() -> None:
    o = build_options({"url": "https://admin:s3cret@ls.example:8443/cluster1"}, {}, env={})
    assert (o.user, o.password) == ("admin", "s3cret")
    assert "s3cret" not in repr(o)
    c = ExaClient(o.url, o.user, o.password)
    assert c.base == "https://ls.example:8443/cluster1"


def test_no_password_and_no_terminal_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    o = build_options({"url": URL, "user": "admin"}, {}, env={})
    with pytest.raises(ConfigError, match="EXAOP_PASSWORD"):
        resolve_password(o, interactive=False)


def test_password_from_netrc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine ls.example login admin password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    o = build_options({"url": URL}, {}, env={})
    resolve_password(o, interactive=False)
    assert (o.user, o.password) == ("admin", "from-netrc")


# -- files -------------------------------------------------------------------------------------------


def test_startstop_cfg_maps_to_options(tmp_path: Path) -> None:
    cfg = tmp_path / "startstop.cfg"
    cfg.write_text(  # as the public Exasol scripts' README shows it
        "[startstop]\nusername = admin\npassword = admin\nhostname = 10.0.0.10\n"
        "licenseServerNode = n0010\nexaOperationTimeout = 150\n"
    )
    settings = load_file(cfg)
    o = build_options(settings, {}, env={})
    assert o.url == "https://10.0.0.10/cluster1"
    assert (o.user, o.password) == ("admin", "admin")
    assert o.license_servers == ["n0010"]
    assert o.timeout("reachable") == 150 and o.timeout("master") == 150  # EXAoperation coming back
    assert o.timeout("nodes") == DEFAULT_TIMEOUTS["nodes"]
    # the environment and flags still win over it
    o = build_options(settings, {"url": "https://other/cluster1"}, env={"EXAOP_PASSWORD": "env-pw"})
    assert (o.url, o.password) == ("https://other/cluster1", "env-pw")


def test_startstop_cfg_under_another_name_and_its_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "site.cfg"
    cfg.write_text("[startstop]\nhostname = ls\nlicenseServerNode = 10\n")
    assert load_file(cfg) == {"url": "https://ls/cluster1", "license_servers": ["10"]}
    assert build_options(load_file(cfg), {}, env={}).license_servers == ["n0010"]
    wrong = tmp_path / "wrong.cfg"
    wrong.write_text("[other]\nhostname = ls\n")
    with pytest.raises(ConfigError, match="no \\[startstop\\] section"):
        load_file(wrong)
    with pytest.raises(ConfigError, match="does not exist"):
        load_file(tmp_path / "missing.cfg")


def test_toml_file(tmp_path: Path) -> None:
    toml = tmp_path / "exaop.toml"
    toml.write_text(
        'url = "https://ls.example/cluster1"\nuser = "admin"\nignore_nodes = ["n0012"]\n'
        '[timeouts]\nnodes = "30m"\n[[plugins]]\nname = "Administration.vmware-tools"\nrestart_on = ["n0010"]\n'
    )
    o = build_options(load_file(toml), {}, env={})
    assert o.ignore_nodes == ["n0012"] and o.timeout("nodes") == 1800
    assert [(p.plugin, p.restart_on) for p in o.plugins] == [("Administration.vmware-tools", ["n0010"])]
    toml.write_text('url = "https://ls.example/cluster1"\nspeed = 3\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_file(toml)
    toml.write_text("url = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_file(toml)


# -- which interface: --api, api = ..., a startstop.cfg for ConfD -----------------------------------


def test_api_is_found_out_unless_given(tmp_path: Path) -> None:
    assert build_options({"url": URL}, {}, env={}).api is None  # found out when the run reaches the server
    assert build_options({"url": URL, "api": "ConfD"}, {}, env={}).api == "confd"
    assert build_options({"url": URL, "api": "confd"}, {"api": "exaoperation"}, env={}).api == "exaoperation"
    with pytest.raises(ConfigError) as e:
        build_options({"url": URL, "api": "xmlrpc"}, {}, env={})
    assert "api must be one of exaoperation, confd" in str(e.value)
    toml = tmp_path / "exaop.toml"
    toml.write_text('url = "https://node11:20003"\napi = "confd"\n')
    assert build_options(load_file(toml), {}, env={}).api == "confd"
    cfg = tmp_path / "startstop.cfg"
    cfg.write_text("[startstop]\nusername = admin\nhostname = node11:20003\napi = confd\n")
    o = build_options(load_file(cfg), {}, env={})
    assert (o.url, o.api) == ("https://node11:20003", "confd")  # ConfD's URL has no path


def test_a_url_without_a_path_is_confd_s_way() -> None:
    from exaop.client.detect import looks_like_confd

    assert looks_like_confd("https://node11:20003") and looks_like_confd("https://node11/rpc2/")
    assert not looks_like_confd("https://ls/cluster1")
