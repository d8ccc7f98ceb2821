"""The jobs page as an operator sees it: last runs, failures, filters; and on a phone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from cronbase.builtin import DEFAULT_JOBS
from cronbase.clock import SystemClock
from cronbase.manager import JobManager
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job_run
from tests.api.conftest import api_registry
from tests.helpers import wait_until
from tests.ui.conftest import SCREENSHOTS, UI, BrowserPage, Tenants, Tokens


def _operator_jobs(
    store: SqlStore, tenants: Tenants, make_job: Callable[..., uuid.UUID]
) -> tuple[uuid.UUID, uuid.UUID]:
    JobManager(store, api_registry(), SystemClock()).seed_default_jobs(DEFAULT_JOBS)
    digest = make_job(
        "Send daily digest",
        tenant_id=tenants.a,
        schedule="cron:30 7 * * 1-5",
        timezone="Europe/Berlin",
        metadata={"to": "ops"},
        due=True,
    )
    billing = make_job(
        "Sync billing", tenant_id=tenants.b, function_name="boom", schedule="hourly", due=True
    )
    return digest, billing


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide: it scrolls sideways at 375 px"


def test_the_jobs_page_shows_last_runs_and_failures_and_filters_them(
    ui: UI,
) -> None:
    _operator_jobs(ui.store, ui.tenants, ui.make_job)
    url = ui.serve(worker=True)
    headers = {"Authorization": f"Bearer {ui.tokens.superadmin}"}
    with httpx.Client(base_url=url, headers=headers) as api:
        jobs = {j["name"]: j["id"] for j in api.get("/api/cron/jobs").json()["data"]["jobs"]}
        assert api.post(f"/api/cron/jobs/{jobs['Send daily digest']}/run").status_code == 202

        def last_statuses() -> dict[str, str | None]:
            listed = api.get("/api/cron/jobs").json()["data"]["jobs"]
            return {j["name"]: j["last_status"] for j in listed}

        # The page shows what was recorded when it loaded (it reads again each minute).
        wait_until(
            lambda: (
                last_statuses()["Sync billing"] == "failed"
                and last_statuses()["Send daily digest"] == "succeeded"
            ),
            what="the worker to record the failed and the succeeded run",
            state=last_statuses,
        )

        def listed_failed() -> list[str]:
            params = {"last_status": "failed"}
            return [
                j["name"] for j in api.get("/api/cron/jobs", params=params).json()["data"]["jobs"]
            ]

        # The filter by last status reads the list's copy, which the workers refresh every few
        # seconds (README, "Searching many jobs"): wait for it as for the runs.
        wait_until(lambda: listed_failed() == ["Sync billing"], what="the list's copy refreshed")
    seen = ui.browse()
    page = seen.page
    seen.sign_in(url, ui.tokens.superadmin)

    rows = page.locator("#jobs-body tr")
    expect(rows).to_have_count(5)
    billing = rows.filter(has_text="Sync billing")
    expect(billing.locator('[data-label="Last run"]')).to_contain_text("failed")
    expect(billing.locator('[data-label="Errors"]')).to_have_text("1")
    expect(billing.locator('[data-label="Tenant"]')).to_have_text("Tenant B")
    digest = rows.filter(has_text="Send daily digest")
    expect(digest.locator('[data-label="Last run"]')).to_contain_text("succeeded")
    expect(digest.locator('[data-label="Schedule"]')).to_contain_text(
        "At 07:30 on Monday through Friday"
    )
    cleaner = rows.filter(has_text="Clean Old Activities")
    expect(cleaner.locator('[data-label="Next run"]')).to_have_text("paused")
    expect(cleaner.locator('[data-label="Last run"]')).to_have_text("never run")
    page.screenshot(path=SCREENSHOTS / "jobs.png", full_page=True)

    page.get_by_label("Last run").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Sync billing")
    page.get_by_label("Last run").select_option("")
    page.get_by_label("Tenant").select_option("global")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Next run").click()
    expect(rows.first).to_contain_text("Mark Users Offline")  # the only active global job

    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="Send daily digest").click()
    history = page.locator("#runs-body tr")
    expect(history).to_have_count(2)  # its scheduled run and the one run by hand
    expect(history.locator('[data-label="Status"]')).to_have_text(["succeeded", "succeeded"])
    expect(history.locator('[data-label="Trigger"]')).to_have_text(["manual", "schedule"])
    expect(page.locator("#job-details")).to_contain_text("Runs / errors2 / 0")
    page.screenshot(path=SCREENSHOTS / "job.png", full_page=True)


def test_a_375_px_wide_screen_shows_every_page_without_sideways_scrolling(
    ui: UI,
) -> None:
    digest, _ = _operator_jobs(ui.store, ui.tenants, ui.make_job)
    url = ui.serve(worker=True)
    seen = ui.browse(width=375, height=812)
    page = seen.page
    seen.sign_in(url, ui.tokens.admin_a)

    card = page.locator("#jobs-body tr").first
    expect(card).to_contain_text("Send daily digest")
    next_run = card.locator('[data-label="Next run"]')
    expect(next_run).to_be_visible()
    # The column headings are hidden on a phone; each line of a card names its column.
    label = next_run.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Next run"'
    assert next_run.bounding_box()["width"] <= 375  # type: ignore[index]
    _no_sideways_scroll(page)

    page.get_by_role("link", name="Send daily digest").click()
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#runs-body tr").first.locator('[data-label="Status"]')).to_have_text(
        "succeeded"
    )
    _no_sideways_scroll(page)

    page.goto(f"{url}/jobs/{digest}/edit")
    expect(page.get_by_label("Name")).to_have_value("Send daily digest")
    expect(page.locator("#schedule-preview li")).to_have_count(5)
    _no_sideways_scroll(page)
    assert page.get_by_role("button", name="Save changes").bounding_box()["x"] >= 0  # type: ignore[index]

    page.goto(f"{url}/channels")
    expect(page.locator("#window-count")).to_contain_text("No maintenance window")
    _no_sideways_scroll(page)


def test_the_last_run_is_the_last_that_ran_with_the_slots_missed_since(
    serve: Callable[..., str],
    browse: Callable[..., BrowserPage],
    tokens: Tokens,
    make_job: Callable[..., uuid.UUID],
    store: SqlStore,
    insert_rows: Callable[..., None],
) -> None:
    """The newest row of the history is a `missed` one: the list and the job's page still
    show the run that ran, and how many slots were missed since."""
    job_id = make_job("Skipping", schedule="every_1_minutes", misfire_policy="skip")
    ran = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    common = {"job_id": job_id, "tenant_id": None}
    insert_rows(
        cron_job_run,
        [
            {
                **common,
                "scheduled_for": ran,
                "started_at": ran,
                "finished_at": ran,
                "status": "succeeded",
                "result": None,
            },
            {
                **common,
                "scheduled_for": ran + timedelta(minutes=1),
                "started_at": None,
                "finished_at": ran,
                "status": "missed",
                "result": {"missed_slots": 2},
            },
        ],
    )
    store.update_job(
        job_id, {"last_run": ran, "last_status": "succeeded", "missed_since_last_run": 2}
    )
    seen = browse()
    seen.sign_in(serve(), tokens.superadmin)
    cell = seen.page.locator("#jobs-body tr", has_text="Skipping").locator(
        '[data-label="Last run"]'
    )
    expect(cell).to_contain_text("succeeded")
    expect(cell).to_contain_text("5 minutes ago")
    expect(cell).to_contain_text("2 missed since")
    seen.page.get_by_role("link", name="Skipping").click()
    expect(seen.page.locator("#job-details")).to_contain_text("succeeded")
    expect(seen.page.locator("#job-details")).to_contain_text("2 slot(s) missed since")
