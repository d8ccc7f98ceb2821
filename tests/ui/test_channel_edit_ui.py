"""Editing a channel in the browser: its fields and jobs (found by name, the caller's tenant's
only), a mute for a while and its end, a new secret shown once, and the server's refusals shown
at their fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import UI


def open_with_a_channel(ui: UI) -> tuple[dict[str, Any], Page]:
    """Tenant A's admin on the channels page, with a webhook channel "Ops" (as created)."""
    url = ui.serve()
    body = {"name": "Ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    headers = {"Authorization": f"Bearer {ui.tokens.admin_a}"}
    made = httpx.post(f"{url}/api/cron/channels", json=body, headers=headers)
    assert made.status_code == 201, made.text
    seen = ui.browse()
    seen.sign_in(f"{url}/channels", ui.tokens.admin_a)
    return dict(made.json()["data"]["channel"]), seen.page


def test_edit_a_channels_fields_and_jobs(ui: UI) -> None:
    nightly = ui.make_job("Nightly report", tenant_id=ui.tenants.a)
    ui.make_job("Hourly sync", tenant_id=ui.tenants.a)
    ui.make_job("Tenant B's report", tenant_id=ui.tenants.b)
    channel, page = open_with_a_channel(ui)
    row = page.locator("#channels-body tr")
    form = page.locator("#channel-form")
    expect(row).to_contain_text("every job")

    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#channel-form-title")).to_have_text("Edit “Ops”")
    expect(page.get_by_label("Kind")).to_be_disabled()  # a new kind is a new channel
    expect(page.get_by_label("Name")).to_have_value("Ops")
    page.get_by_label("Name").fill("Ops pager")
    form.get_by_label("Only the jobs chosen below").check()
    results = page.locator("#job_ids .job-results li")
    expect(results).to_have_count(2)  # tenant A's jobs only, by name
    expect(results).to_have_text(["Hourly sync Add", "Nightly report Add"])
    form.get_by_label("Search jobs").fill("report")
    expect(results).to_have_count(1)  # not tenant B's report
    form.get_by_role("button", name="Add Nightly report").click()
    expect(page.locator("#job_ids .chosen-jobs")).to_contain_text("Nightly report")
    page.get_by_label("Job recovered").uncheck()
    page.get_by_role("button", name="Save channel").click()
    expect(page.locator("#flash")).to_have_text("Saved “Ops pager”.")
    expect(row).to_contain_text("Ops pager")
    expect(row).to_contain_text("job.overdue · Nightly report")
    expect(page.locator("#channel-form-title")).to_have_text("New channel")
    stored = ui.store.get_channel(UUID(channel["id"]))
    assert stored is not None
    assert stored.job_ids == [nightly]
    assert "job.recovered" not in stored.events

    # The server's refusal is shown at its field; what was typed stays.
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#job_ids .chosen-jobs")).to_contain_text("Nightly report")
    for box in page.locator('input[name="events"]').all():
        box.uncheck()
    page.get_by_role("button", name="Save channel").click()
    expect(page.locator("#events-error")).to_contain_text("must be a non-empty list of: run.failed")
    expect(page.locator("#form-errors")).to_contain_text("The channel was not saved")
    expect(page.get_by_label("Name")).to_have_value("Ops pager")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#channel-form-title")).to_have_text("New channel")
    expect(page.get_by_label("Kind")).to_be_enabled()
    assert ui.store.get_channel(UUID(channel["id"])) == stored


def test_mute_unmute_and_rotate_a_channel(ui: UI) -> None:
    channel, page = open_with_a_channel(ui)
    row = page.locator("#channels-body tr")
    expect(row.locator('[data-label="Alerts"]')).to_have_text("on")

    row.get_by_role("button", name="Mute…").click()
    dialog = page.get_by_role("dialog", name="Mute “Ops”")
    dialog.get_by_label("Or until (your time zone)").fill("2020-01-01T08:00")
    dialog.get_by_label("Or until (your time zone)").press("Enter")  # not "For 1 hour"
    expect(dialog.locator("#mute-error")).to_have_text(
        "That time has passed: choose one in the future."
    )
    dialog.get_by_role("button", name="For 8 hours").click()
    expect(page.locator("#flash")).to_have_text("Muted “Ops”.")
    expect(row.locator('[data-label="Alerts"]')).to_contain_text("muted until ")
    stored = ui.store.get_channel(UUID(channel["id"]))
    assert stored is not None
    assert stored.muted_until is not None
    left = stored.muted_until - datetime.now(UTC)
    assert timedelta(hours=7, minutes=58) < left <= timedelta(hours=8)

    row.get_by_role("button", name="Unmute").click()
    expect(page.locator("#flash")).to_have_text("Unmuted “Ops”: alerts go to it again.")
    expect(row.locator('[data-label="Alerts"]')).to_have_text("on")
    unmuted = ui.store.get_channel(UUID(channel["id"]))
    assert unmuted is not None
    assert unmuted.muted_until is None

    row.get_by_role("button", name="Rotate secret…").click()
    page.get_by_role("button", name="Rotate secret", exact=True).click()
    expect(page.locator("#secret-box")).to_contain_text("New signing secret of “Ops”")
    secret = page.locator("#secret-value")
    expect(secret).to_contain_text("whsec_")
    assert secret.inner_text() != channel["secret"]
    page.get_by_role("button", name="I have stored it").click()
    expect(page.locator("#secret-box")).to_be_hidden()


def test_a_channel_following_a_deleted_job_says_so_and_can_be_muted(ui: UI) -> None:
    gone = ui.make_job("Gone soon", tenant_id=ui.tenants.a)
    url = ui.serve()
    headers = {"Authorization": f"Bearer {ui.tokens.admin_a}"}
    body = {"name": "Ops", "kind": "webhook", "url": "http://127.0.0.1:9/h", "job_ids": [str(gone)]}
    made = httpx.post(f"{url}/api/cron/channels", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert httpx.delete(f"{url}/api/cron/jobs/{gone}", headers=headers).status_code == 200
    seen = ui.browse()
    seen.sign_in(f"{url}/channels", ui.tokens.admin_a)
    page = seen.page
    row = page.locator("#channels-body tr")
    expect(row).to_contain_text(f"job {gone} (deleted, or not visible to you)")

    row.get_by_role("button", name="Mute…").click()
    page.get_by_role("dialog", name="Mute “Ops”").get_by_role("button", name="For 1 hour").click()
    expect(page.locator("#flash")).to_have_text("Muted “Ops”.")
    expect(row.locator('[data-label="Alerts"]')).to_contain_text("muted until ")
