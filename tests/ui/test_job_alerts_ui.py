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


def test_a_jobs_page_mutes_and_unmutes_it_and_shows_its_maintenance(ui: UI) -> None:
    job = ui.make_job("Nightly report", tenant_id=ui.tenants.a)
    other = ui.make_job("Hourly sync", tenant_id=ui.tenants.a)
    now = datetime.now(UTC)
    for starts, ends, job_ids, reason in (
        (now - timedelta(minutes=5), now + timedelta(hours=2), [job], "database upgrade"),
        (now + timedelta(days=1), now + timedelta(days=1, hours=1), None, ""),
        (now - timedelta(minutes=5), now + timedelta(hours=3), [other], "not this job's"),
    ):
        window = {"starts_at": starts, "ends_at": ends, "job_ids": job_ids, "reason": reason}
        ui.store.insert_window({**window, "tenant_id": ui.tenants.a, "created_at": now})
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job}")
    page = seen.page
    details = page.locator("#job-details")
    windows = details.locator(".maintenance-windows li")
    expect(windows).to_have_count(2)
    expect(windows.first).to_contain_text("in a maintenance window until ")
    expect(windows.first).to_contain_text("(database upgrade): no alert is sent")
    expect(windows.nth(1)).to_contain_text("maintenance planned from ")
    expect(details).not_to_contain_text("not this job's")

    details.get_by_role("button", name="Mute…").click()
    page.get_by_role("dialog", name="Mute “Nightly report”").get_by_role(
        "button", name="For 1 hour"
    ).click()
    expect(page.locator("#flash")).to_have_text("Muted “Nightly report”.")
    expect(details).to_contain_text("Alertsoverdue after 600 s; muted until ")
    muted = ui.store.get_job(job)
    assert muted is not None
    assert muted.muted_until is not None
    assert timedelta(minutes=58) < muted.muted_until - datetime.now(UTC) <= timedelta(hours=1)

    details.get_by_role("button", name="Unmute").click()
    expect(page.locator("#flash")).to_have_text(
        "Unmuted “Nightly report”: its alerts are sent again."
    )
    expect(details).not_to_contain_text("muted until")
    unmuted = ui.store.get_job(job)
    assert unmuted is not None
    assert unmuted.muted_until is None
