"""Browser tests: Playwright drives Debian's Chromium against a live cronbase on loopback.

One browser per session, a fresh browser context (no storage, no cookies) per test, and a
server per test on the test's database (SQLite and PostgreSQL, through the `store` fixture).
Chromium comes from `apt-get install -y chromium`; without it these tests are skipped, unless
CRONBASE_REQUIRE_BROWSER is set (as CI does), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cronbase.api import create_app
from cronbase.auth import Role, hash_token, new_token
from cronbase.clock import SystemClock
from cronbase.config import Settings
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from tests.api.conftest import JWT_SECRET, SECRET_KEY, LiveServer, api_registry, make_jwt
from tests.helpers import MakeJob

CHROMIUM = "/usr/bin/chromium"
# A page's assertions wait as long as its actions (page.set_default_timeout below), not
# Playwright's 5 s: ReDoc still showed "Loading ..." after 5 s on a loaded CI machine, where it
# renders the whole API reference in the browser. A deadline, not a timing: they return as
# soon as the page shows what they wait for.
expect.set_options(timeout=15_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"no browser at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CRONBASE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@dataclass
class Tenants:
    a: uuid.UUID
    b: uuid.UUID


@pytest.fixture
def tenants(store: SqlStore) -> Tenants:
    return Tenants(a=store.insert_tenant("Tenant A"), b=store.insert_tenant("Tenant B"))


@dataclass
class Tokens:
    superadmin: str
    admin_a: str
    admin_b: str
    user: str
    jwt_admin_b: str


@pytest.fixture
def tokens(store: SqlStore, tenants: Tenants) -> Tokens:
    def token(email: str, role: Role, tenant_id: uuid.UUID | None) -> str:
        value = new_token()
        TokenStore(store.engine).add(email, role, tenant_id, hash_token(value))
        return value

    claims = {"sub": "jwt@b.test", "role": "admin", "tenant_id": str(tenants.b)}
    return Tokens(
        superadmin=token("root@x.test", Role.SUPERADMIN, None),
        admin_a=token("admin@a.test", Role.ADMIN, tenants.a),
        admin_b=token("admin@b.test", Role.ADMIN, tenants.b),
        user=token("user@a.test", Role.USER, tenants.a),
        jwt_admin_b=make_jwt({**claims, "exp": datetime.now(UTC) + timedelta(hours=1)}),
    )


@pytest.fixture
def serve(store: SqlStore) -> Iterator[Callable[..., str]]:
    """serve(worker=..., interval=..., delay=...) starts cronbase on loopback; returns its URL.

    The clock is the real one: the browser compares next runs with its own clock.
    """
    with ExitStack() as running:

        def start(*, worker: bool = False, interval: float = 300, delay: float = 10) -> str:
            settings = Settings(
                database_url=str(store.engine.url),
                jwt_secret=JWT_SECRET,
                worker_max_sleep_seconds=0.2,
                shutdown_grace_seconds=5,
                ui_heartbeat_interval_seconds=interval,
                ui_heartbeat_delay_seconds=delay,
                secret_key=None if store.dialect == "sqlite" else SECRET_KEY,
                allow_private_webhooks=True,  # the tests' receivers are local
            )
            app = create_app(
                settings,
                store=store,
                clock=SystemClock(),
                registry=api_registry(),
                run_worker=worker,
            )
            return running.enter_context(LiveServer(app, settings))

        yield start


@pytest.fixture
def clock() -> SystemClock:
    """The real clock, for the jobs the shared `make_job` makes: the browser compares with it."""
    return SystemClock()


@pytest.fixture
def registry() -> JobRegistry:
    return api_registry()


@pytest.fixture
def make_job(make_job: MakeJob, store: SqlStore) -> Callable[..., uuid.UUID]:
    """make_job(name, tenant_id=..., due=True, **fields): the shared factory's job, by name; its id.

    An `echo` job, yearly by default, so nothing falls due by itself while a test runs.
    """

    def make(name: str, *, due: bool = False, **fields: Any) -> uuid.UUID:
        function = fields.pop("function_name", "echo")
        job = make_job(function, name=name, **{"schedule": "cron:0 0 1 1 *", **fields})
        if due:
            store.update_job(job.id, {"next_run": datetime.now(UTC) - timedelta(seconds=1)})
        return job.id

    return make


class BrowserPage:
    """A Playwright page and what the test saw: requests made and script errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def sign_in(self, url: str, token: str) -> None:
        self.page.goto(url)
        self.page.get_by_label("API token or JWT").fill(token)
        self.page.keyboard.press("Enter")
        self.page.locator("#who").wait_for()

    def calls(self, path: str) -> int:
        return sum(1 for url in self.requests if url.split("?")[0].endswith(path))


@pytest.fixture
def browse(browser: Browser) -> Iterator[Callable[..., BrowserPage]]:
    """browse(width=1280) opens a fresh browser window, in New York time, as a user's is."""
    with ExitStack() as opened:

        def open_page(width: int = 1280, height: int = 900) -> BrowserPage:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="en-US",
                timezone_id="America/New_York",
            )
            opened.callback(context.close)
            page = context.new_page()
            page.set_default_timeout(15_000)
            seen = BrowserPage(page)
            pages.append(seen)
            return seen

        pages: list[BrowserPage] = []
        yield open_page
    for seen in pages:
        assert not seen.errors, f"the page raised: {seen.errors}"
        # Everything the page loads is served by cronbase: no CDN, no other host.
        outside = [url for url in seen.requests if not url.startswith("http://127.0.0.1:")]
        assert not outside, f"requests outside the server: {outside}"


@dataclass
class UI:
    """What most browser tests use, as one fixture (`ui`): the server, a browser window, the
    tenants and their tokens, the job factory and the store."""

    serve: Callable[..., str]
    browse: Callable[..., BrowserPage]
    tokens: Tokens
    tenants: Tenants
    make_job: Callable[..., uuid.UUID]
    store: SqlStore

    def open(self, token: str, path: str = "", **serve_options: Any) -> tuple[str, BrowserPage]:
        """Start the server (serve's options), sign in with `token` at `path`; (URL, window)."""
        url = self.serve(**serve_options)
        seen = self.browse()
        seen.sign_in(f"{url}{path}", token)
        return url, seen


@pytest.fixture
def ui(
    serve: Callable[..., str],
    browse: Callable[..., BrowserPage],
    tokens: Tokens,
    tenants: Tenants,
    make_job: Callable[..., uuid.UUID],
    store: SqlStore,
) -> UI:
    return UI(serve, browse, tokens, tenants, make_job, store)
