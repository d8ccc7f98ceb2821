"""Signing in with a token or a JWT, who the page says is signed in, and signing out."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.ui.conftest import BrowserPage, Tokens


def test_a_bad_token_is_refused_and_a_good_one_signs_in_until_sign_out(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    url = serve()
    seen = browse()
    page = seen.page
    page.goto(url)

    dialog = page.get_by_role("dialog", name="Sign in to cronbase")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("API token or JWT")).to_be_focused()  # type straight away
    page.keyboard.type("cb_not-a-real-token")
    page.keyboard.press("Enter")
    expect(page.locator("#token-error")).to_contain_text("unknown, revoked or expired")
    expect(page.locator("#page")).to_be_hidden()

    page.get_by_label("API token or JWT").fill(tokens.admin_a)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#who")).to_contain_text("Signed in as admin@a.test · admin · Tenant A")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    page.reload()  # the tab keeps its sign-in
    expect(page.locator("#who")).to_contain_text("admin@a.test")
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Sign out").click()
    expect(dialog).to_be_visible()
    page.reload()  # and sign out forgot the token
    expect(dialog).to_be_visible()
    stored = page.evaluate("[sessionStorage.length, localStorage.getItem('cronbase.token')]")
    assert stored == [0, None]


def test_a_jwt_signs_in_with_its_role_and_tenant_and_a_user_cannot_manage_jobs(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    url = serve()
    admin = browse()
    admin.sign_in(url, tokens.jwt_admin_b)
    expect(admin.page.locator("#who")).to_contain_text("jwt@b.test · admin · Tenant B")
    expect(admin.page.locator("#job-count")).to_have_text("0 jobs")

    user = browse()
    user.sign_in(url, tokens.user)
    expect(user.page.locator("#page-notice")).to_contain_text(
        "Only admins and superadmins manage jobs"
    )
    expect(user.page.locator("#page")).to_be_hidden()
    assert user.calls("/api/cron/jobs") == 0
