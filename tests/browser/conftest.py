"""Browser fixtures: the API tests' world served by uvicorn on 127.0.0.1 (a free port, in a
thread: what `fuel serve` runs), and headless Debian Chromium driven by Playwright for Python.

Chromium is /usr/bin/chromium (Debian's ``chromium`` package; Playwright's own browser download
is never used). Without it these tests are skipped, except when ``CI=true``: then they fail.
Screenshots go to ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.api.conftest import world_file  # noqa: F401  (the API tests' world, built once)

CHROMIUM = Path(os.environ.get("FUEL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving create_app on a copy of the world, in a background thread."""

    def __init__(self, engine, world) -> None:
        import uvicorn

        from ledger.shell.api.app import create_app
        from ledger.shell.api.settings import Settings

        self.engine, self.world, self.port = engine, world, _free_port()
        app = create_app(engine, Settings())
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(world_file, tmp_path):
    """A private copy of the world (tests write), with the open quarter's claim run made."""
    from models import pbr_store
    from models.db import make_engine
    from tests.api.world import OPEN, OWN_CONTRACT

    path, world = world_file
    target = tmp_path / "world.db"
    shutil.copyfile(path, target)
    engine = make_engine(f"sqlite:///{target}")
    with engine.begin() as conn:
        pbr_store.run_claims(conn, OWN_CONTRACT, OPEN, "test")
    with Server(engine, world) as running:
        yield running
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives every launch a fresh, empty --user-data-dir of its own.
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base: str, token: str) -> None:
    page.goto(f"{base}/ui/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    page.wait_for_load_state()
