"""The jobs table and the job form, in the browser, as an operator uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import expect

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job
from tests.ui.conftest import UI, BrowserPage, Tokens


def test_create_a_job_fixing_its_schedule_as_the_form_says_then_find_it(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    seen = browse()
    page = seen.page
    seen.sign_in(serve(), tokens.admin_a)
    page.get_by_role("link", name="New job").first.click()

    page.get_by_label("Name").fill("Nightly report")
    page.get_by_label("Function").select_option("echo")
    expect(page.locator("#function_name-help")).to_have_text("Return the job's metadata.")
    page.get_by_label("Metadata (JSON object)").fill('{"to": "ops"')
    expect(page.locator("#metadata-error")).to_contain_text("is not valid JSON")
    page.get_by_label("Metadata (JSON object)").fill('{"to": "ops"}')
    expect(page.locator("#metadata-error")).to_be_empty()
    schedule = page.get_by_label("Schedule", exact=True)
    schedule.fill("every_7_minutes")
    expect(page.locator("#schedule-error")).to_contain_text("N = 7 is not allowed")
    expect(schedule).to_have_attribute("aria-invalid", "true")

    page.get_by_role("button", name="Create job").click()  # the server refuses it too
    expect(page.locator("#form-errors")).to_contain_text("The job was not saved")
    expect(page.locator("#schedule-error")).to_contain_text("N = 7 is not allowed")
    expect(page.get_by_label("Name")).to_have_value("Nightly report")  # nothing lost
    expect(page.get_by_label("Metadata (JSON object)")).to_have_value('{"to": "ops"}')

    schedule.fill("cron:30 2 * * 1-5")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    preview = page.locator("#schedule-preview")
    expect(preview).to_contain_text("At 02:30 on Monday through Friday (Europe/Berlin)")
    expect(preview.locator("li")).to_have_count(5)
    # 02:30 in Berlin, shown on the browser's clock (New York): the evening before.
    for item in preview.locator("li").all_inner_texts():
        assert re.search(r"[89]:30:00 PM E[SD]T", item), item
    expect(page.locator("#schedule-error")).to_be_empty()

    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", name="Nightly report")).to_be_visible()
    expect(page.locator("#flash")).to_have_text("Created “Nightly report”.")

    page.get_by_role("link", name="Edit").click()
    metadata = page.get_by_label("Metadata (JSON object)")
    expect(metadata).to_have_value('{\n  "to": "ops"\n}')
    metadata.fill('{"to": "ops", "cc": "boss"}')
    page.get_by_text("Advanced:").click()
    attempts = page.get_by_label("Attempts")
    attempts.fill("50")
    page.get_by_role("button", name="Save changes").click()  # the server says what is wrong
    expect(page.locator("#max_attempts-error")).to_contain_text("20")
    expect(attempts).to_be_visible()
    attempts.fill("3")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#flash")).to_have_text("Saved “Nightly report”.")
    expect(page.locator("#job-details")).to_contain_text('"cc": "boss"')
    expect(page.locator("#job-details")).to_contain_text("3 (retry after 30 s), thread")

    page.get_by_role("link", name="All jobs").click()
    page.get_by_label("Search by name").fill("nightly")
    row = page.locator("#jobs-body tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Nightly report")
    expect(row).to_contain_text("Tenant A")
    expect(row).to_contain_text("cron:30 2 * * 1-5")
    expect(row).to_contain_text("At 02:30 on Monday through Friday")
    expect(row).to_contain_text("Europe/Berlin")
    expect(row).to_contain_text("echo")
    expect(row.get_by_role("switch")).to_be_checked()
    expect(row.locator('[data-label="Next run"] time')).to_have_attribute(
        "title", re.compile(r"[89]:30:00 PM E[SD]T")
    )


def test_an_admin_of_tenant_a_never_sees_tenant_b_jobs(
    ui: UI,
) -> None:
    ui.make_job("A's job", tenant_id=ui.tenants.a)
    b_job = ui.make_job("B's job", tenant_id=ui.tenants.b)
    ui.make_job("Global job")
    url, seen = ui.open(ui.tokens.admin_a)
    page = seen.page

    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(page.locator("#jobs-body")).to_contain_text("A's job")
    expect(page.locator("#filter-tenant-field")).to_be_hidden()
    for text in ("B's job", "Global job"):
        expect(page.locator("#jobs-body")).not_to_contain_text(text)

    page.goto(f"{url}/jobs/{b_job}")  # even by its address
    expect(page.locator("#page-notice")).to_contain_text("does not exist")
    expect(page.locator("body")).not_to_contain_text("B's job")
    page.goto(f"{url}/jobs/{b_job}/edit")
    expect(page.locator("#form-errors")).to_contain_text("Could not load the job")
    expect(page.get_by_label("Name")).to_have_value("")

    root = ui.browse()
    root.sign_in(url, ui.tokens.superadmin)
    expect(root.page.locator("#jobs-body tr")).to_have_count(3)
    root.page.get_by_label("Tenant").select_option(label="Tenant B")
    expect(root.page.locator("#jobs-body tr")).to_have_count(1)
    expect(root.page.locator("#jobs-body")).to_contain_text("B's job")


def test_thousands_of_jobs_load_in_pages_and_show_fifty_rows(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens, store: SqlStore
) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "name": f"Job {i:04d}",
            "schedule": "daily",
            "function_name": "echo",
            "is_active": i % 3 != 0,
            "metadata": {"error_count": i % 7},
            "timezone": "UTC",
            "next_run": now.replace(year=now.year + 1),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(2500)
    ]
    with store.transaction() as conn:
        conn.execute(cron_job.insert(), rows)
    seen = browse()
    page = seen.page
    seen.sign_in(serve(), tokens.superadmin)

    expect(page.locator("#job-count")).to_have_text("2,500 jobs")
    expect(page.locator("#jobs-body tr")).to_have_count(50)
    expect(page.locator("#page-info")).to_have_text("1\N{EN DASH}50 of 2,500, page 1 of 50")
    # 500 a request; the fifth, full, says no page follows (next_offset null), so no empty one
    assert seen.calls("/api/cron/jobs") == 5
    assert seen.calls("/api/cron/runs/latest") == 1  # one request for the shown page

    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#page-info")).to_have_text("51\N{EN DASH}100 of 2,500, page 2 of 50")
    expect(page.locator("#jobs-body tr").first).to_contain_text("Job 0050")
    page.get_by_role("button", name="Errors").click()
    page.get_by_role("button", name="Errors").click()  # again: most errors first
    expect(page.locator("#jobs-body tr").first.locator('[data-label="Errors"]')).to_have_text("6")
    page.get_by_label("Active", exact=True).select_option("false")
    page.get_by_label("Search by name").fill("Job 24")
    expect(page.locator("#job-count")).to_have_text("34 of 2,500 jobs match")
    expect(page.locator("#page-info")).to_have_text("1\N{EN DASH}34 of 34, page 1 of 1")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.reload()  # the view is in the address
    expect(page.get_by_label("Search by name")).to_have_value("Job 24")
    expect(page.locator("#job-count")).to_have_text("34 of 2,500 jobs match")
