"""The API docs work without internet and under a policy that allows no other origin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from tests.ui.conftest import BrowserPage, Tokens

OPERATIONS = 15  # every operation of the REST API, health checks included


@dataclass
class Offline:
    """What a page tried that an offline machine would refuse."""

    left_the_machine: list[str] = field(default_factory=list)  # reached the network layer
    console_errors: list[str] = field(default_factory=list)


def offline(page: Page) -> Offline:
    """Abort every request that leaves the loopback, recording it and the console's errors."""
    seen = Offline()

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            seen.left_the_machine.append(route.request.url)
            route.abort()

    def complain(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    page.route("**/*", only_loopback)
    page.on("console", complain)
    return seen


def assert_own_origin_only(policy: str) -> None:
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-eval" not in policy
    assert "http" not in policy  # no other origin...
    assert "*" not in policy  # ...and no wildcard


def test_swagger_ui_lists_and_calls_the_operations_offline(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    url = serve()
    seen = browse()
    page = seen.page
    seen_offline = offline(page)
    response = page.goto(url + "/docs")
    assert response is not None
    assert response.ok
    assert_own_origin_only(response.headers["content-security-policy"])

    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= OPERATIONS
    expect(page.locator(".opblock-summary-path", has_text="/api/cron/jobs").first).to_be_visible()

    # Authorize with a token and try an operation: the docs call the API on this origin.
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").first.fill(tokens.superadmin)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".btn-done").click()
    me = page.locator(
        ".opblock", has=page.locator(".opblock-summary-path", has_text="/api/cron/me")
    )
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(me.locator(".live-responses-table")).to_contain_text("root@x.test")
    assert seen_offline == Offline()


def test_redoc_renders_the_reference_offline(serve: Callable[..., str], browser: Browser) -> None:
    url = serve()
    context = browser.new_context()
    try:
        page = context.new_page()
        seen_offline = offline(page)
        response = page.goto(url + "/redoc")
        assert response is not None
        assert response.ok
        assert_own_origin_only(response.headers["content-security-policy"])
        expect(page.get_by_role("heading", name="List jobs").first).to_be_visible()
        expect(page.locator("[role=menuitem]", has_text="Create a job").first).to_be_attached()
    finally:
        context.close()
    # ReDoc's bundle always shows Redocly's logo from its CDN; the policy stops that request
    # in the browser (it never reaches the network), and the bundle then hides the image.
    assert seen_offline.left_the_machine == []
    assert len(seen_offline.console_errors) == 1
    assert "cdn.redoc.ly/redoc/logo-mini.svg" in seen_offline.console_errors[0]
    assert "Content Security Policy" in seen_offline.console_errors[0]
