"""A job's page says why the job runs or does not: the status box (GET .../explain), in a
real browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from cronbase.store.workers import WorkerStore
from tests.ui.conftest import UI


def test_the_status_box_says_an_overdue_job_has_no_worker_and_follows_a_pause(
    ui: UI,
) -> None:
    job = ui.make_job("Nightly export", tenant_id=ui.tenants.a, timezone="Europe/Berlin")
    # Due an hour ago, and no worker alive: overdue past its 10-minute grace.
    ui.store.update_job(job, {"next_run": datetime.now(UTC) - timedelta(hours=1)})
    # delay=300: no UI heartbeat runs it while the test looks
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job}", delay=300)
    page = seen.page
    box = page.locator("#why")
    expect(page.locator("#why-state")).to_have_text("overdue_no_worker")
    expect(page.locator("#why-summary")).to_contain_text("no worker is alive")
    expect(box).to_contain_text("It has never run.")
    expect(box).to_contain_text("0 live workers.")
    expect(page.locator("#why-next li")).to_have_count(5)
    expect(box).to_contain_text("Next runs (Europe/Berlin, and UTC)")
    # the yearly slot at midnight on the job's wall clock (Berlin, winter), then in UTC
    expect(page.locator("#why-next li").nth(1)).to_contain_text("-01-01T00:00:00+01:00 — ")
    expect(page.locator("#why-next li").nth(1)).to_contain_text("-12-31T23:00:00Z")

    page.locator("#toggle-active").click()  # Pause
    expect(page.locator("#why-state")).to_have_text("paused")
    expect(page.locator("#why-summary")).to_have_text(
        "It does not run because it is paused; resume it to run it again."
    )
    assert seen.errors == []


def test_the_status_box_counts_the_live_workers_free_slots(ui: UI) -> None:
    job = ui.make_job("Nightly export", tenant_id=ui.tenants.a)
    ui.store.update_job(job, {"next_run": datetime.now(UTC) - timedelta(hours=1)})
    WorkerStore(ui.store.engine).register("w-1", "host-a", 7, datetime.now(UTC), threads=4)
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job}", delay=300)
    page = seen.page
    expect(page.locator("#why-state")).to_have_text("overdue_workers_busy")
    expect(page.locator("#why-summary")).to_contain_text("has 4 free slots: none claimed it")
    expect(page.locator("#why-workers")).to_have_text("1 live worker, 4 of 4 slots free.")
    # a UTC job: its times once in UTC, not "UTC, and UTC" with +00:00 beside Z
    expect(page.locator("#why")).to_contain_text("Next runs (UTC):")
    expect(page.locator("#why-next li").nth(1)).to_contain_text("-01-01T00:00:00Z")
    expect(page.locator("#why-next")).not_to_contain_text("+00:00")
    assert seen.errors == []
