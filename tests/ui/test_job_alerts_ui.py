"""A job's page shows its alert settings and state: the overdue grace, a mute, an alert
episode going on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.ui.conftest import UI


def test_a_jobs_page_shows_its_mute_and_alert_episode(
    ui: UI,
) -> None:
    muted_until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    quiet = ui.make_job("Quiet job", tenant_id=ui.tenants.a, muted_until=muted_until)
    plain = ui.make_job("Plain job", tenant_id=ui.tenants.a, overdue_after_seconds=900)
    ui.store.update_job(plain, {"alerting_since": datetime(2026, 11, 30, 12, 0, tzinfo=UTC)})
    url, seen = ui.open(ui.tokens.admin_a, f"/jobs/{quiet}")
    page = seen.page
    details = page.locator("#job-details")
    expect(details).to_contain_text("Alertsoverdue after 600 s; muted until ")
    muted = details.locator(f'time[datetime="{muted_until.isoformat().replace("+00:00", "Z")}"]')
    expect(muted).to_have_count(1)
    page.goto(f"{url}/jobs/{plain}")
    expect(details).to_contain_text("Alertsoverdue after 900 s; alerting since ")
    expect(details.locator('time[datetime="2026-11-30T12:00:00Z"]')).to_have_count(1)
    assert seen.errors == []
