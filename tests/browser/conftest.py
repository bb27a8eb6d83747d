"""Browser tests: Playwright (sync API) driving Debian's Chromium against a live server.

One Chromium for the whole session; a fresh browser context (cookies, storage) for every test.
The app serves from a background thread (werkzeug's ``make_server``) on a free port of 127.0.0.1,
with real CSRF protection, so the browser submits forms exactly as a visitor does. Data arranged
in a test is committed, so the server's own sessions see it.

Two kinds of server:

* ``live_server`` wraps the shared ``app`` fixture, so the tests that change data (the keyboard
  tests) run once per database backend, each with its own database.
* ``site`` is one server per module over one SQLite database, for the page checks: looking at a
  page changes nothing, and the pages' markup does not depend on the backend (the web tests cover
  both), so the ~50 checks share their accounts and records and each role signs in once. That
  halves their cost, and keeps the browser suite within its time budget on CI.

Without ``/usr/bin/chromium`` the tests are skipped with a visible reason, unless
``PB_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail. No browser is ever downloaded, and
axe-core comes from the axe-playwright-python package, never from the network.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.conftest import TEST_SETTINGS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Short waits for what a page does: one that does not do what a test expects fails in seconds, not
# after Playwright's 30 s. Loading a page gets longer: on CI the other test worker can load both
# cores (gunicorn, the elections), and a sign-in page once took more than 5 s to load there.
TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 30_000
PASSWORD = "correct horse battery"
LANGUAGES = {"en": "en-CA", "fr": "fr-CA"}  # short code -> the <html lang> the page must declare
LOCALE_CODES = {"en": "en_CA", "fr": "fr_CA"}  # short code -> the value of the pb_locale cookie
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str) -> None:
    if os.environ.get("PB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"PB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (install Debian's chromium package)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        _unavailable("the playwright package is not installed")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def app_settings(database_url: str) -> dict:
    """The real CSRF protection: the browser submits the forms exactly as a visitor would."""
    return {**TEST_SETTINGS, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class LiveServer:
    app: Any
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The path of an endpoint, so that tests name pages, not URLs."""
        from flask import url_for

        with self.app.test_request_context():
            return url_for(endpoint, **values)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    with serving(server):
        yield LiveServer(app, server)


@contextmanager
def serving(server: BaseWSGIServer) -> Iterator[None]:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="pb-live-server", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def set_timeouts(context: Any) -> None:
    """The waits of every browser context the tests open."""
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)


@pytest.fixture
def context(browser, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser profile; closed before the server stops."""
    browser_context = browser.new_context(base_url=live_server.url, locale="en-CA")
    set_timeouts(browser_context)
    try:
        yield browser_context
    finally:
        browser_context.close()


@pytest.fixture
def page(context) -> Any:
    return context.new_page()


# --- accessibility checks --------------------------------------------------------------------------


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    return results.response["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.append(f"      {node.get('failureSummary', '').replace(chr(10), ' ')[:300]}")
    return "\n".join(lines)


def assert_accessible(page, language: str) -> None:
    """The page declares its language, has a title and one h1, no WCAG 2.1 A/AA violation, a working
    skip link, and reflows at 320 pixels wide."""
    facts = page.evaluate(
        """() => ({lang: document.documentElement.lang, title: document.title.trim(),
                   h1: document.querySelectorAll('h1').length})"""
    )
    assert facts["lang"] == LANGUAGES[language], f"<html lang> is {facts['lang']!r}"
    assert facts["title"], "the page has a title"
    assert facts["h1"] == 1, f"a page has exactly one h1, not {facts['h1']}"
    violations = axe_violations(page)
    assert not violations, (
        f"axe found WCAG 2.1 A/AA violations on {page.url}:\n{describe_violations(violations)}"
    )
    assert_skip_link_works(page)
    assert_reflows(page)


def assert_reflows(page) -> None:
    """At 320 CSS pixels wide (a 1280-pixel window zoomed to 400 %) nothing but a data table makes the
    page scroll sideways (WCAG 1.4.10; two-dimensional tables are the criterion's exception)."""
    page.set_viewport_size({"width": 320, "height": 640})
    too_wide = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return [];
            return [...document.querySelectorAll('body *')]
                .filter(e => !e.closest('table, .skip-link'))
                .filter(e => { const box = e.getBoundingClientRect(); return box.width && box.right > width + 1; })
                .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + e.className : ''}`
                          + ` (right edge at ${Math.round(e.getBoundingClientRect().right)}px)`)
                .slice(0, 8);
        }"""
    )
    assert not too_wide, f"at 320 px wide these elements overflow the page: {too_wide}"


def focused(page) -> dict:
    """What has the keyboard focus: tag, id, name, type, href, value, text, whether it is in <main>,
    whether it shows its focus (an outline or a ring, WCAG 2.4.7) and whether it is on screen."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return {tag: 'body'};
            const style = getComputedStyle(e);
            const box = e.getBoundingClientRect();
            return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
                    type: e.getAttribute('type') || '', href: e.getAttribute('href') || '',
                    value: e.getAttribute('value') || '', text: (e.innerText || '').trim(),
                    in_main: !!e.closest('main'),
                    visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                             || (style.boxShadow !== '' && style.boxShadow !== 'none'),
                    on_screen: box.width > 0 && box.left >= 0 && box.top >= 0};
        }"""
    )


def assert_skip_link_works(page) -> None:
    """The skip link is the first Tab stop, shows when focused, and moves the focus to <main>."""
    if focused(page)["tag"] == "body":
        page.keyboard.press("Tab")
    else:  # something already has the focus (e.g. autofocus): the skip link must still come first in order
        first_tabbable = page.evaluate(
            """() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
                .find(e => e.tabIndex >= 0 && !e.disabled && e.type !== 'hidden')?.getAttribute('href')"""
        )
        assert first_tabbable == "#main", "the skip link is the first Tab stop"
        page.locator("a.skip-link").focus()
    first = focused(page)
    assert first["href"] == "#main", f"the first Tab stop is the skip link, not {first}"
    assert first["on_screen"] and first["visible"], "the focused skip link is on screen, with a focus ring"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main", "the skip link moves the focus to <main>"


def tab_to(page, matches: Callable[[dict], bool], what: str, limit: int = 60) -> dict:
    """Press Tab until the focused element matches; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = focused(page)
        if current["tag"] != "body":
            assert current["visible"], f"no visible focus on {current}"
        if matches(current):
            return current
    raise AssertionError(f"{what} was not reached in {limit} presses of Tab")


# --- one site for the page checks ------------------------------------------------------------------


@dataclass
class Site:
    """The live server of a module of page checks, and the data its pages need.

    Each account and record is created on first use and then shared; each role signs in once and
    its cookies are given to every new browser context.
    """

    server: LiveServer
    session: Any
    browser: Any
    accounts: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    signed_in: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def url_for(self, endpoint: str, **values: Any) -> str:
        return self.server.url_for(endpoint, **values)

    def account(self, role: str) -> Any:
        """An account holding ``role`` (``resident``: no extra role; ``unconfirmed``: a resident
        whose e-mail address is not confirmed yet), committed."""
        if role not in self.accounts:
            from tests.factories import create_account

            roles = [] if role in ("resident", "unconfirmed") else [role]
            self.accounts[role] = create_account(
                self.session,
                email=f"{role}@example.org",
                roles=roles,
                password=PASSWORD,
                confirmed=role != "unconfirmed",
            )
        return self.accounts[role]

    def once(self, key: str, build: Callable[[Any], Any]) -> Any:
        """``build(session)``, the first time ``key`` is asked for; commit inside ``build``."""
        if key not in self.cache:
            self.cache[key] = build(self.session)
        return self.cache[key]

    def cycle(self) -> Any:
        """A cycle in its proposals phase, made by the staff account."""

        def build(session):
            from tests.factories import make_cycle

            return make_cycle(session, self.account("staff"), slug="lakeview")

        return self.once("cycle", build)

    def proposal(self) -> Any:
        """A submitted proposal by the resident in the cycle, with a French translation by staff."""

        def build(session):
            from pb.db import utcnow
            from pb.services.proposals import add_translation
            from tests.factories import make_proposal

            cycle = self.cycle()
            proposal = make_proposal(
                session,
                self.account("resident"),
                cycle,
                district_id=cycle.districts[0].id,
                category_id=cycle.categories[0].id,
                location="River path, between the bridge and the community centre",
                beneficiaries="People walking home after dark",
                estimated_cost_cents=25_000_00,
            )
            add_translation(
                session,
                self.account("staff"),
                proposal,
                "Éclairage du sentier riverain",
                "Des lumières plus chaudes entre le pont et le centre communautaire.",
                "Le sentier est sombre après 17 h en hiver.",
                utcnow(),
            )
            session.commit()
            return proposal

        return self.once("proposal", build)

    def reset_token(self) -> str:
        def build(session):
            from pb.passwords import make_reset_token

            return make_reset_token(self.server.app.config["SECRET_KEY"], self.account("resident"))

        return self.once("reset-token", build)

    def confirmation_token(self) -> str:
        """A working link's token, for a new unconfirmed account each time (following it uses it)."""
        from pb.db import utcnow
        from pb.passwords import make_confirmation_token
        from tests.factories import create_account

        number = self.cache["confirmations"] = self.cache.get("confirmations", 0) + 1
        user = create_account(
            self.session, email=f"new{number}@example.org", password=PASSWORD, confirmed=False
        )
        return make_confirmation_token(self.server.app.config["SECRET_KEY"], user, utcnow())

    def new_context(self, language: str | None = None, role: str | None = None, locale: str = "en-CA") -> Any:
        """A fresh context: in ``language`` if given (the ``pb_locale`` cookie of a returning visitor),
        else as the browser's ``locale`` asks; signed in as the account holding ``role`` if given."""
        state = None
        if role is not None:
            if role not in self.signed_in:
                context = self._plain_context()
                sign_in(context.new_page(), self.account(role).email)
                self.signed_in[role] = context.storage_state()
                context.close()
            state = self.signed_in[role]
        context = self._plain_context(storage_state=state, locale=locale)
        if language is not None:
            context.add_cookies([{"name": "pb_locale", "value": LOCALE_CODES[language], "url": self.url}])
        return context

    def _plain_context(self, locale: str = "en-CA", **options: Any) -> Any:
        context = self.browser.new_context(base_url=self.url, locale=locale, **options)
        set_timeouts(context)
        return context


def _failing_view():
    raise RuntimeError("a deliberate failure, to show the 500 page")


@pytest.fixture(scope="module")
def site(browser, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from pb import create_app
    from pb.extensions import limiter

    path = tmp_path_factory.mktemp("browser-site") / "pb.sqlite3"
    shutil.copyfile(sqlite_template, path)
    settings = {
        **TEST_SETTINGS,
        "DATABASE_URL": f"sqlite:///{path}",
        "WTF_CSRF_ENABLED": True,
        # The module's checks share one address; sign-in throttling is tested elsewhere.
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
    }
    app = create_app(settings)
    app.add_url_rule("/_test/failure", "test_failure", _failing_view)
    with app.app_context():
        limiter.reset()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    with serving(server), app.extensions["pb.db"].session_factory() as session:
        yield Site(LiveServer(app, server), session, browser)
    app.extensions["pb.db"].engine.dispose()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form (the browser keeps the session cookie)."""
    page.goto("/account/sign-in")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/account/sign-in" not in url)
