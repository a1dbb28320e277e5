"""Browser tests: Playwright (Python) driving Debian's Chromium at /usr/bin/chromium.

Playwright's own browser download is not available on these machines; `make test` installs
the `chromium` package when /usr/bin/chromium is missing (tools/system-packages). Each test
starts its own `exaop serve` (HTTPS, its own CA: the browser context ignores its issuer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("EXAOP_CHROMIUM", "/usr/bin/chromium")

if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs it (tools/system-packages)
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's sync API runs an event loop
    in this thread while it is started, and later tests call asyncio.run."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    contexts = []

    def make(**kwargs: Any) -> Page:
        ctx = browser.new_context(ignore_https_errors=True, **kwargs)
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
