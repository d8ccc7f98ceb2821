"""A job page's audit log, in a real browser: who did what and when, the fields that changed,
paging by cursor, and an action on the page showing up at once."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from cronbase.auth import Principal, Role
from cronbase.manager import JobManager
from tests.ui.conftest import UI

ROOT = Principal("root@x.test", Role.SUPERADMIN, None)


def test_the_audit_log_shows_who_changed_what_pages_and_follows_a_pause(
    ui: UI, manager: JobManager
) -> None:
    job = ui.make_job("Nightly export", tenant_id=ui.tenants.a)  # made by the system caller
    manager.update_job(job, {"schedule": "cron:0 6 * * *", "metadata": {"to": "ops"}}, ROOT)
    for priority in range(1, 21):
        manager.update_job(job, {"priority": priority}, ROOT)
    # 22 entries: the 20 newest on the first page
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job}")
    page = seen.page
    rows = page.locator("#audit-body tr")
    expect(rows).to_have_count(20)
    expect(page.locator("#audit-page-info")).to_have_text("Entries 1\N{EN DASH}20")
    newest = rows.first
    expect(newest.locator('[data-label="Action"]')).to_have_text("edited")
    expect(newest.locator('[data-label="Who"]')).to_have_text("root@x.test (superadmin)")
    expect(newest.locator('[data-label="What"]')).to_have_text("priority: 19 → 20")
    expect(page.locator("#audit-newer")).to_be_disabled()

    page.get_by_role("button", name="Older entries").click()
    expect(page.locator("#audit-page-info")).to_have_text("Entries 21\N{EN DASH}22")
    expect(rows).to_have_count(2)
    edited, created = rows.nth(0), rows.nth(1)
    what = edited.locator('[data-label="What"]')
    expect(what).to_contain_text("schedule: cron:0 0 1 1 * → cron:0 6 * * *")
    expect(what).to_contain_text('metadata: {} → {"to":"ops"}')
    expect(created.locator('[data-label="Action"]')).to_have_text("created")
    expect(created.locator('[data-label="Who"]')).to_have_text("system (superadmin)")
    expect(created.locator('[data-label="What"]')).to_contain_text("name: Nightly export")
    # the instant in the browser's zone (New York), not "5 minutes ago"
    expect(created.locator('[data-label="When"]')).to_have_text(re.compile(r", \d{4}, .* E[SD]T$"))
    expect(page.locator("#audit-older")).to_be_disabled()
    page.get_by_role("button", name="Newer entries").click()
    expect(page.locator("#audit-page-info")).to_have_text("Entries 1\N{EN DASH}20")

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#job-state")).to_have_text("Paused")
    expect(newest.locator('[data-label="Action"]')).to_have_text("paused")
    expect(newest.locator('[data-label="Who"]')).to_have_text("admin@a.test (admin)")
    expect(newest.locator('[data-label="What"]')).to_have_text("is_active: true → false")
    assert seen.errors == []


def test_a_dependent_shows_that_its_upstream_was_deleted(ui: UI, manager: JobManager) -> None:
    upstream = ui.make_job("Extract", tenant_id=ui.tenants.a)
    dependent = ui.make_job(
        "Load",
        tenant_id=ui.tenants.a,
        schedule="on_demand",
        depends_on=[{"job_id": str(upstream), "on": "success"}],
    )
    manager.delete_job(upstream, ROOT, detach=True)
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{dependent}")
    newest = seen.page.locator("#audit-body tr").first
    expect(newest.locator('[data-label="Action"]')).to_have_text("edited")
    what = newest.locator('[data-label="What"]')
    expect(what).to_contain_text("depends_on: [{")  # PostgreSQL's jsonb orders the keys its way
    expect(what).to_contain_text(f'"job_id":"{upstream}"')
    expect(what).to_contain_text("}] → []")
    expect(what).to_contain_text("“Extract”, which it ran after, was deleted")
