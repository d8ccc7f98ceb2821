"""Maintenance windows on the channels page: plan one (now, for some jobs; or later), see those
going on and planned with their jobs, end one early; a refusal is shown at its field. The page,
populated, is the README's screenshot of the channels page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from tests.ui.conftest import SCREENSHOTS, UI

BROWSER_ZONE = ZoneInfo("America/New_York")  # the test browser's (conftest.browse)


def local(when: datetime) -> str:
    """`when` as a datetime-local field takes it: the browser's wall clock, to the minute."""
    return when.astimezone(BROWSER_ZONE).strftime("%Y-%m-%dT%H:%M")


def test_plan_see_and_end_maintenance_windows(ui: UI) -> None:
    nightly = ui.make_job("Nightly report", tenant_id=ui.tenants.a)
    ui.make_job("Hourly sync", tenant_id=ui.tenants.a)
    now = datetime.now(UTC)
    ui.store.insert_window(  # a superadmin's, for every tenant: an admin sees it, cannot end it
        {
            "tenant_id": None,
            "starts_at": now + timedelta(days=2),
            "ends_at": now + timedelta(days=2, hours=1),
            "job_ids": None,
            "reason": "network change",
            "created_at": now,
        }
    )
    url = ui.serve()
    headers = {"Authorization": f"Bearer {ui.tokens.admin_a}"}
    channel = {"name": "Ops pager", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    muted = {**channel, "name": "Team chat", "kind": "slack", "url": "http://127.0.0.1:9/chat"}
    muted["muted_until"] = (now + timedelta(hours=8)).isoformat()
    for body in (channel, muted):
        assert httpx.post(f"{url}/api/cron/channels", json=body, headers=headers).is_success
    seen = ui.browse(height=1400)
    page = seen.page
    seen.sign_in(f"{url}/channels", ui.tokens.admin_a)
    rows = page.locator("#windows-body tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("planned")
    expect(rows).to_contain_text("Global")
    expect(rows).to_contain_text("network change")
    expect(rows.get_by_role("button")).to_have_count(0)  # only a superadmin ends a global one

    form = page.locator("#window-form")
    form.get_by_role("button", name="Plan window").click()
    expect(page.locator("#window-ends_at-error")).to_have_text("choose when the window ends")
    form.get_by_label("Until").fill(local(now - timedelta(hours=1)))
    form.get_by_role("button", name="Plan window").click()
    expect(page.locator("#window-ends_at-error")).to_have_text(
        "must be after starts_at and in the future"
    )
    expect(page.locator("#window-form-errors")).to_contain_text("The window was not planned")

    form.get_by_label("Until").fill(local(now + timedelta(hours=2)))
    form.get_by_label("Only the jobs chosen below").check()
    form.get_by_label("Search jobs").fill("night")
    form.get_by_role("button", name="Add Nightly report").click()
    form.get_by_label("Reason").fill("database upgrade")
    form.get_by_role("button", name="Plan window").click()
    expect(page.locator("#flash")).to_have_text("Planned the maintenance window.")
    expect(rows).to_have_count(2)  # by start: this one first
    expect(rows.first).to_contain_text("going on")
    expect(rows.first).to_contain_text("Nightly report")
    expect(rows.first).to_contain_text("database upgrade")
    expect(page.locator("#window-count")).to_have_text("2 window(s): 1 going on, 1 planned.")
    [window] = [w for w in ui.store.list_windows(ended_after=now) if w.tenant_id is not None]
    assert (window.tenant_id, window.job_ids) == (ui.tenants.a, [nightly])
    assert window.ends_at - now > timedelta(hours=1, minutes=58)
    expect(page.locator("#channels-body tr").nth(1)).to_contain_text("muted until ")
    page.screenshot(path=SCREENSHOTS / "channels.png", full_page=True)

    rows.first.get_by_role("button", name="End now").click()
    expect(page.locator("#flash")).to_have_text(
        "Ended the maintenance window: alerts are sent again."
    )
    expect(rows).to_have_count(1)
    assert [w.tenant_id for w in ui.store.list_windows(ended_after=now)] == [None]


def test_a_superadmin_plans_a_tenants_window_among_that_tenants_jobs(ui: UI) -> None:
    ui.make_job("A's report", tenant_id=ui.tenants.a)
    theirs = ui.make_job("B's report", tenant_id=ui.tenants.b)
    _, seen = ui.open(ui.tokens.superadmin, "/channels")
    page = seen.page
    form = page.locator("#window-form")
    expect(form.get_by_label("Tenant")).to_be_visible()
    form.get_by_label("Only the jobs chosen below").check()
    results = form.locator(".job-results li")
    expect(results).to_have_count(2)  # a global window may name any job
    form.get_by_label("Tenant").select_option(label="Tenant B")
    expect(results).to_have_text(["B's report Add"])
    form.get_by_role("button", name="Add B's report").click()
    form.get_by_label("Until").fill(local(datetime.now(UTC) + timedelta(hours=1)))
    form.get_by_role("button", name="Plan window").click()
    row = page.locator("#windows-body tr")
    expect(row).to_contain_text("Tenant B")
    expect(row).to_contain_text("B's report")
    [window] = ui.store.list_windows(ended_after=datetime.now(UTC))
    assert (window.tenant_id, window.job_ids) == (ui.tenants.b, [theirs])
