"""The jobs list with thousands of jobs: the server searches, filters, sorts and pages it, the
browser asks for one page of 50 at a time, and the view lives in the address. A job's run
history filters by status and pages by cursor the same way."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from tests.ui.conftest import UI, BrowserPage, Tokens

JOBS = 3000
NEEDLE = "Needle in the haystack"


@pytest.fixture
def many_jobs(store: SqlStore) -> None:
    """JOBS jobs "Job 0000".. in one insert, and NEEDLE (as job JOBS + 4), created last and
    named after them.

    Job i: paused when i % 3 == 0; function boom when i % 10 == 0 (else echo); its last run
    failed when i % 5 == 0, succeeded when i % 5 == 1, never ran otherwise; no next run when
    i % 4 == 0, else i + 1 hours from now."""
    now = datetime.now(UTC)

    def job(i: int, name: str) -> dict[str, object]:
        status = {0: "failed", 1: "succeeded"}.get(i % 5)
        return {
            "name": name,
            "schedule": "daily",
            "function_name": "boom" if i % 10 == 0 else "echo",
            "is_active": i % 3 != 0,
            "last_status": status,
            "last_run": now - timedelta(minutes=i + 1) if status else None,
            "next_run": None if i % 4 == 0 else now + timedelta(hours=i + 1),
            "metadata": {},
            "timezone": "UTC",
            "created_at": now + timedelta(microseconds=i),
            "updated_at": now,
        }

    rows = [job(i, f"Job {i:04d}") for i in range(JOBS)]
    with store.transaction() as conn:
        conn.execute(cron_job.insert(), [*rows, job(JOBS + 4, NEEDLE)])


def list_requests(seen: BrowserPage) -> list[dict[str, list[str]]]:
    """The query of each request the page made for the jobs list (not for one job)."""
    return [
        parse_qs(urlsplit(url).query)
        for url in seen.requests
        if urlsplit(url).path == "/api/cron/jobs"
    ]


def names(page: Page) -> list[str]:
    return page.locator("#jobs-body tr th a").all_inner_texts()


@pytest.mark.usefixtures("many_jobs")
def test_pages_go_forward_and_back_by_cursor_and_survive_reload(
    ui: UI,
) -> None:
    url, seen = ui.open(ui.tokens.superadmin)
    page = seen.page
    rows = page.locator("#jobs-body tr")
    count = page.locator("#job-count")
    expect(rows).to_have_count(50)
    expect(count).to_have_text("Jobs 1\N{EN DASH}50, more on the next page")
    expect(page.locator("#page-info")).to_have_text("Page 1, jobs 1\N{EN DASH}50")
    expect(rows.first).to_contain_text("Job 0000")  # sorted by name
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()

    next_page = page.get_by_role("button", name="Next page")
    next_page.click()
    expect(page.locator("#page-info")).to_have_text("Page 2, jobs 51\N{EN DASH}100")
    expect(rows.first).to_contain_text("Job 0050")
    next_page.click()
    expect(page.locator("#page-info")).to_have_text("Page 3, jobs 101\N{EN DASH}150")
    expect(rows.first).to_contain_text("Job 0100")
    assert "cursor=" in page.url
    page.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_contain_text("Job 0050")
    page.go_back()  # Back undoes the step to page 2: page 3 again
    expect(rows.first).to_contain_text("Job 0100")
    expect(page.locator("#page-info")).to_have_text("Page 3, jobs 101\N{EN DASH}150")

    page.reload()  # the page and the way back to the first stay
    expect(rows.first).to_contain_text("Job 0100")
    expect(page.locator("#page-info")).to_have_text("Page 3, jobs 101\N{EN DASH}150")
    page.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_contain_text("Job 0050")
    page.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_contain_text("Job 0000")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()

    # Never the whole list: each request asked for one page of 50, one request a view.
    asked = list_requests(seen)
    assert all(query["limit"] == ["50"] for query in asked), asked
    assert len(asked) <= 9, f"{len(asked)} requests for 8 views of the list"
    assert seen.calls("/api/cron/runs/recent") <= len(asked)  # strips for the shown page only

    page.goto(f"{url}/?cursor=not-a-cursor")  # a bookmark mangled: the first page
    expect(page.locator("#flash")).to_contain_text("malformed cursor")
    expect(rows.first).to_contain_text("Job 0000")
    expect(page.locator("#page-info")).to_have_text("Page 1, jobs 1\N{EN DASH}50")
    next_page.dblclick()  # a second click while the page loads does not skip one
    expect(page.locator("#page-info")).to_have_text("Page 2, jobs 51\N{EN DASH}100")
    expect(rows.first).to_contain_text("Job 0050")


@pytest.mark.usefixtures("many_jobs")
def test_search_finds_a_job_on_a_later_page_and_filters_combine(
    ui: UI,
) -> None:
    url, seen = ui.open(ui.tokens.superadmin)
    page = seen.page
    rows = page.locator("#jobs-body tr")
    count = page.locator("#job-count")
    expect(rows).to_have_count(50)
    before = len(list_requests(seen))

    search = page.get_by_label("Search by name")
    search.press_sequentially("needle", delay=20)  # the 3,001st by name, found on the server
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(NEEDLE)
    expect(count).to_have_text("1 job matches “needle”")
    searched = [q for q in list_requests(seen)[before:] if "q" in q]
    assert 1 <= len(searched) < len("needle"), "the search waits for a pause in the typing"
    assert searched[-1]["q"] == ["needle"]

    search.fill("Job 1")
    expect(count).to_have_text("Jobs matching “Job 1” 1\N{EN DASH}50, more on the next page")
    page.get_by_label("Active", exact=True).select_option("false")
    page.get_by_label("Last run").select_option("failed")
    page.get_by_label("Function").select_option("boom")
    # Job 1020, 1050, ..., 1980: paused (i % 3), failed (i % 5), boom (i % 10).
    expect(count).to_have_text("33 jobs match “Job 1”")
    expect(rows).to_have_count(33)
    expect(rows.first).to_contain_text("Job 1020")
    expect(rows.last).to_contain_text("Job 1980")
    for cell in rows.locator('[data-label="Next run"]').all():
        expect(cell).to_have_text("paused")
    for cell in rows.locator('[data-label="Last run"]').all():
        expect(cell).to_contain_text("failed")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {
        "q": ["Job 1"],
        "is_active": ["false"],
        "last_status": ["failed"],
        "function_name": ["boom"],
    }

    page.reload()  # the filtered view is in the address
    expect(count).to_have_text("33 jobs match “Job 1”")
    expect(page.get_by_label("Search by name")).to_have_value("Job 1")
    expect(page.get_by_label("Function")).to_have_value("boom")
    page.go_back()  # Back takes the last filter off
    expect(page.get_by_label("Function")).to_have_value("")
    expect(count).to_have_text("Jobs matching “Job 1” 1\N{EN DASH}50, more on the next page")
    page.go_forward()
    expect(count).to_have_text("33 jobs match “Job 1”")

    search.fill("zzz")
    empty = page.locator("#jobs-empty")
    expect(empty).to_contain_text("No jobs match “zzz” with these filters.")
    expect(rows).to_have_count(0)
    empty.get_by_role("button", name="Clear the search and filters").click()
    expect(rows).to_have_count(50)
    expect(search).to_have_value("")
    expect(page.get_by_label("Last run")).to_have_value("")
    assert urlsplit(page.url).query == ""

    # A bookmark of a filtered view opens it in another window; what the server refuses in
    # it (a sort edited by hand) is left out, and the page says so.
    other = ui.browse()
    other.sign_in(f"{url}/?q=needle&sort=size", ui.tokens.superadmin)
    expect(other.page.locator("#jobs-body tr")).to_have_count(1)
    expect(other.page.locator("#jobs-body")).to_contain_text(NEEDLE)
    expect(other.page.locator("#flash")).to_contain_text("Part of the address was left out")
    expect(other.page.locator("#flash")).to_contain_text("unknown sort 'size'")
    assert parse_qs(urlsplit(other.page.url).query) == {"q": ["needle"]}
    assert all(query["limit"] == ["50"] for query in list_requests(seen) + list_requests(other))


@pytest.mark.usefixtures("many_jobs")
def test_sorting_by_next_run_both_ways_puts_jobs_without_one_last(
    ui: UI,
) -> None:
    _, seen = ui.open(ui.tokens.superadmin)
    page = seen.page
    rows = page.locator("#jobs-body tr")
    expect(rows).to_have_count(50)
    page.get_by_label("Search by name").fill("Job 000")  # Job 0000-0009; 0, 4 and 8: no next run
    expect(rows).to_have_count(10)
    header = page.locator("th[data-sort='next_run']")

    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(rows.first).to_contain_text("Job 0001")
    shown = names(page)
    assert shown[:7] == [f"Job 000{i}" for i in (1, 2, 3, 5, 6, 7, 9)]
    assert sorted(shown[7:]) == ["Job 0000", "Job 0004", "Job 0008"]

    header.get_by_role("button").click()  # again: the other way, nulls still last
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text("Job 0009")
    shown = names(page)
    assert shown[:7] == [f"Job 000{i}" for i in (9, 7, 6, 5, 3, 2, 1)]
    assert sorted(shown[7:]) == ["Job 0000", "Job 0004", "Job 0008"]
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["-next_run"]

    # Over the whole list, by pages: the latest next runs first, on to the second page.
    page.get_by_label("Search by name").fill("")
    expect(rows.first).to_contain_text("Job 2999")
    page.get_by_role("button", name="Next page").click()
    expect(rows.first).to_contain_text(re.compile(r"Job 29\d\d"))
    page.reload()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#page-info")).to_have_text("Page 2, jobs 51\N{EN DASH}100")


def test_the_run_history_filters_by_status_and_pages_by_cursor(
    serve: Callable[..., str],
    browse: Callable[..., BrowserPage],
    tokens: Tokens,
    make_job: Callable[..., uuid.UUID],
    insert_rows: Callable[[sa.Table, list[dict[str, Any]]], None],
) -> None:
    """90 runs a minute apart, newest first: every third failed, the others succeeded."""
    job_id = make_job("Busy", schedule="every_1_minutes")
    newest = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    runs = []
    for n in range(90):
        slot = newest - timedelta(minutes=n)
        runs.append(
            {
                "job_id": job_id,
                "tenant_id": None,
                "scheduled_for": slot,
                "started_at": slot,
                "finished_at": slot + timedelta(seconds=1),
                "status": "failed" if n % 3 == 0 else "succeeded",
                "error": f"failure {n}" if n % 3 == 0 else None,
            }
        )
    insert_rows(cron_job_run, runs)
    seen = browse()
    page = seen.page
    seen.sign_in(f"{serve()}/jobs/{job_id}", tokens.superadmin)
    history = page.locator("#runs-body tr")
    statuses = history.locator('[data-label="Status"]')
    expect(history).to_have_count(20)
    expect(page.locator("#runs-page-info")).to_have_text("Runs 1\N{EN DASH}20")

    page.get_by_label("Status", exact=True).select_option("failed")
    expect(statuses).to_have_text(["failed"] * 20)
    expect(history.first).to_contain_text("failure 0")
    older = page.get_by_role("button", name="Older runs")
    older.click()  # failures 20 to 39 of 30: the second page holds the last 10
    expect(history).to_have_count(10)
    expect(history.first).to_contain_text("failure 60")
    expect(page.locator("#runs-page-info")).to_have_text("Runs 21\N{EN DASH}30")
    expect(older).to_be_disabled()
    page.get_by_role("button", name="Newer runs").click()
    expect(history.first).to_contain_text("failure 0")
    expect(page.get_by_role("button", name="Newer runs")).to_be_disabled()

    page.get_by_label("Status", exact=True).select_option("timed_out")
    expect(history).to_have_count(0)
    expect(page.locator("#history-status")).to_have_text("No timed out runs.")
    asked = [
        parse_qs(urlsplit(url).query)
        for url in seen.requests
        if urlsplit(url).path == f"/api/cron/jobs/{job_id}/runs"
    ]
    assert {"status": ["failed"], "limit": ["20"]}.items() <= asked[1].items()
    assert "cursor" in asked[2]
    assert "offset" not in asked[2]


@pytest.mark.usefixtures("many_jobs")
def test_the_form_finds_a_job_to_run_after_among_thousands(ui: UI) -> None:
    _, seen = ui.open(ui.tokens.superadmin, "/jobs/new")
    page = seen.page
    page.get_by_label("Name", exact=True).fill("After the needle")
    page.get_by_label("Function").select_option("echo")
    page.get_by_label("Schedule", exact=True).fill("on_demand")
    page.get_by_role("button", name="Add a job to run after").click()
    choice = page.get_by_label("Job 1 to run after")
    expect(choice).to_have_value(re.compile(".+"))  # the first jobs by name are offered
    assert NEEDLE not in choice.inner_text()  # the 3,001st is not among them
    page.get_by_label("Find job 1").fill("needle")
    expect(choice.locator("option:checked")).to_have_text(NEEDLE)
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", name="After the needle")).to_be_visible()
    expect(page.locator("#job-details")).to_contain_text(f"Runs after{NEEDLE} (on success)")

    page.get_by_role("link", name="Edit").click()  # the saved upstream shows by its name
    expect(page.get_by_label("Job 1 to run after").locator("option:checked")).to_have_text(NEEDLE)
    listed = [query for query in list_requests(seen) if query]  # not the POST that created it
    assert listed
    assert all(int(query["limit"][0]) <= 101 for query in listed), listed
