"""The channels page in the browser: make a webhook channel (its secret shown once), test it
against a real receiver that checks the signature, read its deliveries, delete it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.receivers import WebhookReceiver
from tests.ui.conftest import BrowserPage, Tokens


def test_make_test_and_delete_a_webhook_channel(
    serve: Callable[..., str],
    browse: Callable[..., BrowserPage],
    tokens: Tokens,
    receiver: WebhookReceiver,
) -> None:
    seen = browse()
    page = seen.page
    seen.sign_in(serve(), tokens.admin_a)
    page.get_by_role("link", name="Channels").click()
    expect(page.get_by_role("heading", name="Notification channels")).to_be_visible()
    expect(page).to_have_title("Channels · cronbase")  # the tab's name, no markup in it
    expect(page.locator("#channel-count")).to_contain_text("No channel yet")
    expect(page.locator("#tenant-field")).to_be_hidden()  # an admin's are their tenant's

    page.get_by_label("Name").fill("Ops pager")
    page.get_by_label("Address").fill("ftp://example.com/hook")
    page.get_by_label("Run succeeded").check()
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator("#url-error")).to_contain_text("http:// or https://")
    expect(page.locator("#form-errors")).to_contain_text("The channel was not created")
    expect(page.get_by_label("Name")).to_have_value("Ops pager")  # nothing lost

    page.get_by_label("Address").fill(receiver.url)
    page.get_by_role("button", name="Create channel").click()
    secret = page.locator("#secret-value")
    expect(secret).to_contain_text("whsec_")
    receiver.secrets = [secret.inner_text()]
    row = page.locator("#channels-body tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ops pager")
    expect(row).to_contain_text("Tenant A")
    expect(row).to_contain_text(
        "run.abandoned, run.missed, job.overdue, job.recovered, run.succeeded"
    )
    page.get_by_role("button", name="I have stored it").click()
    expect(page.locator("#secret-box")).to_be_hidden()

    row.get_by_role("button", name="Test").click()
    expect(page.locator("#flash")).to_contain_text("Test delivered to “Ops pager”: HTTP 204")
    [request] = receiver.received
    assert request.verified_with == receiver.secrets
    deliveries = page.locator("#deliveries-body tr")
    expect(deliveries).to_have_count(1)
    expect(deliveries).to_contain_text("channel.test")
    expect(deliveries).to_contain_text("HTTP 204")
    expect(deliveries).to_contain_text("delivered")

    page.reload()  # the secret is never shown again
    expect(page.locator("#channels-body tr")).to_have_count(1)
    expect(page.locator("#secret-box")).to_be_hidden()
    assert receiver.secrets[0] not in page.content()

    page.locator("#channels-body tr").get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name="Delete channel").click()
    expect(page.locator("#flash")).to_have_text("Deleted “Ops pager”.")
    expect(page.locator("#channels-body tr")).to_have_count(0)
