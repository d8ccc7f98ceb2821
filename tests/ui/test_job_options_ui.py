"""The form shows the chosen function's options as fields, and the server's verdict on them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import expect

from cronbase.store import SqlStore
from tests.ui.conftest import BrowserPage, Tokens


def test_a_functions_options_are_fields_checked_by_the_server(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens, store: SqlStore
) -> None:
    seen = browse()
    page = seen.page
    url = serve()
    seen.sign_in(url, tokens.admin_a)
    page.get_by_role("link", name="New job").first.click()
    options = page.locator("#function-options")
    page.get_by_label("Name").fill("Cleanup")
    page.get_by_label("Schedule", exact=True).fill("daily")
    expect(options).to_be_hidden()

    page.get_by_label("Function").select_option("cleanOldActivities")
    expect(options).to_be_visible()
    retention = page.get_by_label("Retention days")
    expect(retention).to_have_value("90")  # the default
    expect(page.get_by_label("Mode")).to_have_value("archive")
    expect(page.get_by_label("Batch size")).to_have_value("1000")
    expect(page.locator("[id='metadata.retention_days-help']")).to_contain_text(
        "a number from 0 to 36,525, default 90"
    )
    expect(page.locator("[id='metadata.mode-help']")).to_contain_text("one of archive, delete")

    retention.fill("-1")
    page.get_by_label("Mode").select_option("delete")
    page.get_by_label("Metadata (JSON object)").fill('{"team": "ops"}')
    page.get_by_role("button", name="Create job").click()
    error = page.locator("[id='metadata.retention_days-error']")
    expect(error).to_have_text("must be a number from 0 to 36525 (default 90); got -1")
    expect(retention).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_contain_text("The job was not saved")
    assert store.list_jobs() == []

    retention.fill("30")
    page.get_by_role("button", name="Create job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    [job] = store.list_jobs()
    assert job.metadata == {
        "retention_days": 30,
        "mode": "delete",
        "batch_size": 1000,
        "team": "ops",
    }

    # Editing: the options are in their fields, the other keys in the JSON editor.
    page.goto(f"{url}/jobs/{job.id}/edit")
    expect(page.get_by_label("Retention days")).to_have_value("30")
    expect(page.get_by_label("Mode")).to_have_value("delete")
    metadata = page.get_by_label("Metadata (JSON object)")
    expect(metadata).not_to_have_value("")
    assert json.loads(metadata.input_value()) == {"team": "ops"}
    page.get_by_label("Batch size").fill("")  # empty: the default applies, the key is left out
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/jobs/{job.id}")
    saved = store.get_job(job.id)
    assert saved is not None
    assert {k: saved.metadata.get(k) for k in ("retention_days", "mode", "batch_size", "team")} == {
        "retention_days": 30,
        "mode": "delete",
        "batch_size": None,
        "team": "ops",
    }

    # A value stored before options were checked is shown, and refused until it is changed.
    store.update_job(job.id, {"metadata": {"mode": "bogus"}})
    page.goto(f"{url}/jobs/{job.id}/edit")
    expect(page.get_by_label("Mode")).to_have_value("bogus")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[id='metadata.mode-error']")).to_contain_text("got 'bogus'")


def test_runs_to_keep_is_set_checked_by_the_server_shown_and_cleared(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens, store: SqlStore
) -> None:
    seen = browse()
    page = seen.page
    url = serve()
    seen.sign_in(f"{url}/jobs/new", tokens.admin_a)
    page.get_by_label("Name").fill("Chatty")
    page.get_by_label("Function").select_option("echo")
    page.get_by_label("Schedule", exact=True).fill("every_1_minutes")
    page.get_by_text("Advanced:").click()
    keep = page.get_by_label("Runs to keep")
    expect(keep).to_have_value("")  # none: the age limit alone decides

    keep.fill("0")
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#keep_runs-error")).to_contain_text("from 1 to 100000")
    expect(keep).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_contain_text("keep runs")
    assert store.list_jobs() == []

    keep.fill("500")
    page.get_by_role("button", name="Create job").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    [job] = store.list_jobs()
    assert job.keep_runs == 500
    expect(page.locator("#job-details")).to_contain_text("the newest 500 runs whatever their age")

    page.goto(f"{url}/jobs/{job.id}/edit")
    page.get_by_text("Advanced:").click()
    expect(page.get_by_label("Runs to keep")).to_have_value("500")
    page.get_by_label("Runs to keep").fill("")  # empty: back to the age limit alone
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/jobs/{job.id}")
    assert store.get_job(job.id).keep_runs is None  # type: ignore[union-attr]
    expect(page.locator("#job-details")).to_contain_text("by the retention's age limit")
