"""Small steps the browser tests share: log in, read the CSRF token, start the cluster."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.serverproc import ADMIN_PASSWORD, ServerProcess


def origin(srv: ServerProcess) -> str:
    return f"{'http' if srv.http else 'https'}://127.0.0.1:{srv.port}"


def log_in(page: Page, srv: ServerProcess, user: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto(origin(srv) + "/")
    expect(page).to_have_url(origin(srv) + "/ui/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Cluster cluster1")).to_be_visible()


def csrf(page: Page) -> str:
    return page.locator("form.logout input[name=csrf]").get_attribute("value") or ""


def add_user(srv: ServerProcess, login: str, password: str, role: str = "") -> None:
    c = srv.proxy()
    c.addUser({"user_login": login, "password": password, "user_title": f"<b>{login}</b><script>alert(1)</script>"})
    if role:
        c.grantRole("cluster1", login, role)


def cold_start(page: Page, srv: ServerProcess) -> None:
    """Press 'Cold start' on the overview and wait on the run's page until it is done."""
    page.goto(origin(srv) + "/ui/")
    page.get_by_role("button", name="Cold start the cluster").click()
    expect(page).to_have_url(f"{origin(srv)}/ui/runs/1")
    expect(page.locator("#run-status")).to_contain_text("Done", timeout=60_000)
