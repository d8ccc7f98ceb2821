"""The jobs table and the job form, in the browser, as an operator uses them."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

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


def test_a_form_refused_in_the_browser_still_says_what_is_wrong_with_the_schedule(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    # No function chosen: the browser refuses the form itself, and the schedule's error, shown
    # as it was typed, went away with the others: only "choose a function" was left to fix.
    seen = browse()
    page = seen.page
    seen.sign_in(serve(), tokens.admin_a)
    page.get_by_role("link", name="New job").first.click()
    page.get_by_label("Name").fill("Nightly report")
    page.get_by_label("Schedule", exact=True).fill("every_7_minutes")
    expect(page.locator("#schedule-error")).to_contain_text("N = 7 is not allowed")

    page.get_by_role("button", name="Create job").click()
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("choose a function")
    expect(summary).to_contain_text("N = 7 is not allowed")
    expect(page.locator("#schedule-error")).to_contain_text("N = 7 is not allowed")
    expect(page.locator("#function_name-error")).to_have_text("choose a function")


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
