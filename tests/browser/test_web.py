"""The web interface in a real Chromium: login, roles, CSRF, a cold start watched live, a
backup, the log's live tail (issue 11's "done when"). Simulated clocks run fast (speed) or
are moved by the test: nothing sleeps real seconds waiting for a state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.webkit import add_user, cold_start, csrf, log_in, origin


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: the README's docs/screenshots/ with EXAOP_SCREENSHOTS=docs
    (`make screenshots`), else a temporary folder, so a test run leaves the checkout as it was."""
    if os.environ.get("EXAOP_SCREENSHOTS") == "docs":
        folder = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def test_login_wrong_password_logout(server_factory, new_page) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=0)
    page: Page = new_page()
    page.goto(origin(srv) + "/ui/nodes/n0011")
    expect(page).to_have_url(origin(srv) + "/ui/login")  # nothing without a session
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("wrong user or password")
    log_in(page, srv)
    cookie = next(c for c in page.context.cookies() if c["name"] == "exaop_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    expect(page.locator("#happening")).to_contain_text("quiet")
    page.get_by_role("link", name="n0011").click()
    expect(page.locator("#node-state")).to_have_text("Powered off")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(origin(srv) + "/ui/login")
    page.goto(origin(srv) + "/ui/")
    expect(page).to_have_url(origin(srv) + "/ui/login")  # the session is gone


def test_user_sees_no_actions_and_a_forged_post_is_refused(server_factory, new_page) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=0)
    add_user(srv, "viewer", "viewer-secret")
    page: Page = new_page()
    log_in(page, srv, "viewer", "viewer-secret")
    expect(page.locator(".who")).to_have_text("viewer (User)")
    expect(page.locator("#databases")).to_contain_text("exa_db1")
    assert page.locator("main button").count() == 0  # no cluster actions
    page.get_by_role("link", name="exa_db1").click()
    expect(page.locator("#db-state")).to_have_text("setup")
    assert page.locator("main button").count() == 0  # no database actions
    assert page.get_by_role("link", name="Users & roles").count() == 0
    token = csrf(page)  # a valid token of the session: only the role is missing
    for path in ("/ui/databases/exa_db1/start", "/ui/cluster/start", "/ui/simulation/advance"):
        answer = page.request.post(origin(srv) + path, form={"csrf": token, "seconds": "60"}, max_redirects=0)
        assert answer.status == 403, (path, answer.status)
        assert "role User" in answer.text()
    assert srv.proxy("/cluster1/db_exa_db1").getDatabaseState() == "setup"


def test_a_post_without_the_csrf_token_is_refused(server_factory, new_page) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=0)
    page: Page = new_page()
    log_in(page, srv)
    for form in ({}, {"csrf": "forged"}):
        answer = page.request.post(origin(srv) + "/ui/cluster/start", form=form, max_redirects=0)
        assert answer.status == 403 and "CSRF" in answer.text()
    answer = page.request.post(origin(srv) + "/ui/login", form={"login": "admin", "password": "x"}, max_redirects=0)
    assert answer.status == 403  # the login form has its own signed token
    assert srv.proxy().getNodeState("n0011")["status"] == "Powered off"


def test_administrator_cold_starts_the_cluster_and_watches_it_live(server_factory, new_page, shots) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=60)
    add_user(srv, "operator", "operator-secret", "Administrator")
    watcher: Page = new_page(viewport={"width": 1200, "height": 1400})
    log_in(watcher, srv, "operator", "operator-secret")  # the overview, never reloaded from here on
    db_state = watcher.locator("tr[data-db=exa_db1] .db-state")
    expect(db_state).to_have_text("setup")

    page: Page = new_page()
    log_in(page, srv, "operator", "operator-secret")
    page.get_by_role("button", name="Cold start the cluster").click()
    expect(page).to_have_url(origin(srv) + "/ui/runs/1")
    expect(page.locator("[data-phase=reachable]")).to_contain_text("done")

    expect(watcher.locator("#happening")).to_contain_text("booting", timeout=30_000)
    watcher.screenshot(path=str(shots / "overview-starting.png"), full_page=True)
    expect(db_state).to_have_text("running", timeout=60_000)
    expect(watcher.locator("tr[data-node=n0014] .node-state")).to_have_text("Running")
    expect(page.locator("#run-status")).to_contain_text("Done: start finished: the cluster is up", timeout=30_000)
    for phase in ("nodes", "storage", "databases"):
        expect(page.locator(f"[data-phase={phase}]")).to_contain_text("done")
    expect(watcher.locator("#h-timeline")).to_contain_text("The last start")
    watcher.screenshot(path=str(shots / "overview-running.png"), full_page=True)
    phone: Page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, srv, "operator", "operator-secret")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling of the page
    phone.screenshot(path=str(shots / "overview-phone.png"))
    assert srv.proxy("/cluster1/db_exa_db1").getDatabaseConnectionState() == "Yes"


def test_a_backup_from_the_database_page_appears_in_its_list(server_factory, new_page, shots) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=300)
    page: Page = new_page()
    log_in(page, srv)
    cold_start(page, srv)
    page.goto(origin(srv) + "/ui/databases/exa_db1")
    expect(page.locator("#db-state")).to_have_text("running")
    expect(page.locator("#backups")).to_contain_text("no backups")
    page.get_by_label("Archive volume").select_option("v0001")
    page.get_by_label("Expires after").fill("2d")
    page.get_by_role("button", name="Back up").click()
    expect(page.locator(".flash.ok")).to_contain_text("backupDatabase: OK")
    rows = page.locator("#backups tr.backup-row")
    expect(rows).to_have_count(1, timeout=30_000)  # it appears when done, without a reload
    expect(rows.first).to_contain_text("v0001")
    page.set_viewport_size({"width": 1100, "height": 900})
    page.screenshot(path=str(shots / "database.png"), full_page=True)
    assert len(srv.proxy("/cluster1/db_exa_db1").getBackupList()) == 1


def test_the_log_viewer_shows_a_boot_message_as_it_happens(server_factory, new_page) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=0)
    page: Page = new_page()
    log_in(page, srv)
    page.goto(origin(srv) + "/ui/logs?priority=Notice&node=n0012")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    log = page.locator("#log")
    expect(log).not_to_contain_text("is booting")
    c = srv.proxy()
    c.startupNode("n0012")
    expect(log).to_contain_text("Node n0012 is booting")
    c.simulation.advanceClock(400)
    expect(log).to_contain_text("Boot process finished after")
    expect(log).not_to_contain_text("n0011")  # the node filter holds for the live rows too


def test_pages_escape_what_users_typed_and_master_runs_the_simulation(server_factory, new_page) -> None:  # type: ignore[no-untyped-def]
    srv = server_factory(speed=0)
    add_user(srv, "mallory", "mallory-secret")
    page: Page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, srv)
    page.get_by_role("link", name="Users & roles").click()
    expect(page.locator("#users")).to_contain_text("<b>mallory</b><script>alert(1)</script>")
    page.get_by_role("link", name="Simulation").click()
    page.get_by_label("Seconds", exact=True).fill("30")
    page.get_by_role("button", name="Advance").click()
    expect(page.locator(".flash.ok")).to_contain_text("advanceClock")
    page.get_by_label("Simulated seconds per real second").fill("-3")
    page.get_by_role("button", name="Set speed").click()
    expect(page.locator(".flash.error")).to_contain_text("speed must be a number from 0")
    page.get_by_label("Simulated seconds per real second").fill("5")
    page.get_by_role("button", name="Set speed").click()
    expect(page.locator("#speed")).to_have_text("5.0")
    assert srv.proxy("/cluster1/simulation").getClock()["speed"] == 5.0
    assert dialogs == []
