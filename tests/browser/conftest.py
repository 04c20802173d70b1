"""Browser tests: Playwright for Python driving the system Chromium against the live server.

Playwright never downloads a browser here: the tests use Debian's `chromium` from PATH and
skip without it (fail under REQUIRE_SERVICES=1). Each test gets a fresh Chromium profile.
Every console error and page error on every page is collected - a Content-Security-Policy
violation shows up as a console error - and `tab.assert_clean()` ends each test. Screenshots
of key screens go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.services import require_chromium
from tests.support.environment import ARTIFACTS, artifacts_dir, ensure_staff_groups

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
# Chromium reports a page answered with an error status as a console error; a test that
# expects such a page (a refusal, a used link) says so with `tab.expect_status()`.
_FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def _plain_http_live_server():
    """Serve the live server over plain HTTP.

    pytest-django's `live_server` is session-scoped, so it starts before the function-scoped
    `_plain_http` fixture of tests/conftest.py, and Django's SecurityMiddleware reads
    SECURE_SSL_REDIRECT once, when the server builds its middleware: without this the live
    server would redirect every request to https://.
    """
    from django.test import override_settings

    plain = override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    )
    plain.enable()
    yield
    plain.disable()


@pytest.fixture(scope="session")
def live_server(_plain_http_live_server, live_server):
    """pytest-django's live server, started with plain-HTTP settings."""
    return live_server


@dataclass
class Tab:
    """One browser page on the live server, with what went wrong on any page so far."""

    page: object
    base_url: str
    name: str
    problems: list[str] = field(default_factory=list)
    expected_statuses: set[tuple[str, int]] = field(default_factory=set)
    tour: object = None  # the data of a page tour (tests/browser/pages.py), if any

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def goto(self, path: str, status: int = 200):
        """Open a page and check the HTTP status of the document."""
        if status >= 400:
            self.expect_status(path, status)
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == status, (
            f"GET {path}: {response and response.status}, wanted {status}"
        )
        return response

    def expect_status(self, path: str, status: int) -> None:
        """Allow the console error Chromium logs when `path` answers with `status`."""
        self.expected_statuses.add((self.url(path).split("?")[0], status))

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot as test-artifacts/<name>.png."""
        path = ARTIFACTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "") or (message.page and message.page.url)
        failed = _FAILED_LOAD.search(message.text)
        status = int(failed.group(1)) if failed else None
        if failed and (str(where).split("?")[0], status) in self.expected_statuses:
            return
        if failed and ("*", status) in self.expected_statuses:
            return  # a form posted elsewhere on the way to a page that expects this status
        if failed and str(where).endswith("/favicon.ico"):
            # Pages without our base template (the admin, Django's plain 403 page) make
            # Chromium ask for /favicon.ico, which the app does not serve. Browser noise,
            # not a page error; our own pages declare an inline icon.
            return
        self.problems.append(f"console error at {where}: {message.text}")

    def _page_error(self, error) -> None:
        page = getattr(error, "page", None)
        self.problems.append(f"page error at {page and page.url}: {error.error}")

    def assert_clean(self) -> None:
        """Fail when any page logged a console error (CSP violations included) or threw."""
        assert not self.problems, "errors in the browser:\n" + "\n".join(self.problems)


def _launch(playwright, profile: Path, viewport: dict, mobile: bool):
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=require_chromium(),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=3 if mobile else 1,
        locale="en-GB",
        timezone_id="UTC",
    )


@pytest.fixture(autouse=True)
def _staff_groups(transactional_db):
    """Browser tests are transactional: make sure the staff groups exist after a flush."""
    ensure_staff_groups()


def _wait_for_requests_in_flight(timeout: float = 10) -> None:
    """Wait until the live server has finished the requests a closed browser left behind.

    Each request runs in a thread of its own (socketserver's process_request_thread). One
    still running when the test ends would write its session while the teardown empties the
    tables: SQLite's shared in-memory database refuses that at once ("table is locked").
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any("process_request_thread" in t.name for t in threading.enumerate()):
            return
        time.sleep(0.02)


@pytest.fixture
def browser_factory(request, live_server, tmp_path, monkeypatch) -> Iterator:
    """Open a fresh Chromium profile on the live server: `browser_factory(phone=False)`."""
    require_chromium()
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    contexts = []

    def open_tab(*, phone: bool = False) -> Tab:
        profile = tmp_path / f"chromium-profile-{len(contexts)}"
        context = _launch(playwright, profile, PHONE if phone else DESKTOP, phone)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        tab = Tab(page=page, base_url=live_server.url, name=request.node.name)
        context.on("console", tab._console)
        context.on("weberror", tab._page_error)
        return tab

    try:
        yield open_tab
    finally:
        failed = any(
            getattr(request.node, f"rep_{when}", None) is not None
            and getattr(request.node, f"rep_{when}").failed
            for when in ("setup", "call")
        )
        for number, context in enumerate(contexts):
            if failed:
                for page in context.pages:
                    try:
                        path = artifacts_dir("browser-failures")
                        page.screenshot(path=str(path / f"{request.node.name}-{number}.png"))
                    except Exception:  # a crashed page has nothing to show
                        pass
            context.close()
        _wait_for_requests_in_flight()
        # While Playwright runs, asgiref sees a running event loop and gives this thread's
        # ORM calls their own (context-local) database connections; close them now, or they
        # outlive the test and block dropping the test database.
        from django.db import connections

        connections.close_all()
        playwright.stop()


@pytest.fixture
def tab(browser_factory) -> Tab:
    """A desktop-sized browser tab on the live server."""
    return browser_factory()


def log_in(tab: Tab, username: str) -> None:
    """Log in through the staff login page (with the factories' password)."""
    tab.goto("/accounts/login/")
    tab.page.fill("#id_username", username)
    tab.page.fill("#id_password", PASSWORD)
    with tab.page.expect_navigation():
        tab.page.click("button[type=submit]")
    assert "/accounts/login/" not in tab.page.url, "the login was refused"


# ---- the page tour: one shared Chromium, a fresh context per page ------------------------


@pytest.fixture(scope="module")
def chromium(live_server):
    """One system Chromium for a module of page checks (each test gets its own context)."""
    path = require_chromium()
    # Playwright's sync API keeps an event loop running in this thread for the whole module;
    # the tests' own ORM calls are still plain synchronous code.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        from django.db import connections

        connections.close_all()
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


def _session_cookie(user, base_url: str) -> dict:
    """Log `user` in without the login form: a session cookie from Django's test client."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


@pytest.fixture
def open_page(request, chromium, live_server, settings, monkeypatch):
    """Open a page of tests/browser/pages.py as its role: `open_page(page, phone=False)`.

    The tab's `tour` holds the data the page was built from.

    Returns the Tab on the page under test (after its `reach` step, if any); a test ends
    with `tab.assert_clean()` (no console error, CSP violations included).
    """
    from tests.browser.pages import CLIENT, Tour

    contexts = []

    def open_(page, *, phone: bool = False, javascript: bool = True) -> Tab:
        if page.debug:
            settings.DEBUG = True
        if page.prepare:
            page.prepare(monkeypatch)
        tour = Tour()
        path = page.path(tour)
        context = chromium.new_context(
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
            locale="en-GB",
            timezone_id="UTC",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        if page.role != CLIENT:
            context.add_cookies([_session_cookie(tour.users[page.role], live_server.url)])
        tab = Tab(page=context.new_page(), base_url=live_server.url, name=request.node.name)
        tab.tour = tour
        context.on("console", tab._console)
        context.on("weberror", tab._page_error)
        if page.reach:
            if page.status >= 400:
                tab.expect_status(path, page.status)
                tab.expected_statuses.add(("*", page.status))
            tab.goto(path)
            page.reach(tab.page)
        else:
            tab.goto(path, status=page.status)
        return tab

    try:
        yield open_
    finally:
        failed = getattr(request.node, "rep_call", None)
        for number, context in enumerate(contexts):
            if failed is not None and failed.failed:
                for tab_page in context.pages:
                    try:
                        path = artifacts_dir("browser-failures")
                        tab_page.screenshot(path=str(path / f"{request.node.name}-{number}.png"))
                    except Exception:  # a crashed page has nothing to show
                        pass
            context.close()
        _wait_for_requests_in_flight()
        from django.db import connections

        connections.close_all()
