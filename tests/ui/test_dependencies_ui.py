"""Dependencies in the browser: the form sets what a job runs after, the jobs list says "on
demand" and "after ...", the job page links the jobs before and after it and shows which
upstream run started each run, and deleting names the jobs that will no longer follow."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import UI


def test_a_chain_is_made_in_the_form_and_shown_on_the_pages(
    ui: UI,
) -> None:
    store = ui.store
    importer = ui.make_job("Nightly import", tenant_id=ui.tenants.a)
    url, seen = ui.open(ui.tokens.admin_a, "/jobs/new", worker=True)
    page = seen.page

    page.get_by_label("Name", exact=True).fill("Sync fields")
    page.get_by_label("Function").select_option("echo")
    page.get_by_label("Schedule", exact=True).fill("on_demand")
    expect(page.locator("#schedule-preview")).to_contain_text("On demand")
    page.get_by_role("button", name="Add a job to run after").click()
    page.get_by_label("Job 1 to run after").select_option(label="Nightly import")
    page.get_by_label("Run when job 1").select_option("completion")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", name="Sync fields")).to_be_visible()
    [sync] = [job for job in store.list_jobs() if job.name == "Sync fields"]
    assert [(d.job_id, d.on) for d in sync.depends_on] == [(importer, "completion")]
    assert sync.next_run is None

    details = page.locator("#job-details")
    expect(details).to_contain_text("Runs afterNightly import (on completion)")
    page.get_by_role("link", name="Nightly import").click()
    expect(page.get_by_role("heading", name="Nightly import")).to_be_visible()
    expect(details).to_contain_text("Runs beforeSync fields (on completion)")

    # Run the upstream: its dependent runs after it, and its history says which run started it.
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#runs-body tr [data-label='Status']")).to_have_text("succeeded")
    page.get_by_role("link", name="Sync fields").click()
    run = page.locator("#runs-body tr")
    expect(run.locator("[data-label='Status']")).to_have_text("succeeded", timeout=30_000)
    expect(run.locator("[data-label='Trigger']")).to_have_text("dependencyafter Nightly import")

    page.goto(f"{url}/")
    row = page.locator(f"tr[data-job-id='{sync.id}']")
    expect(row.locator("[data-label='Next run']")).to_have_text("on demand")
    expect(row.locator("[data-label='Schedule']")).to_contain_text("after Nightly import")

    # Deleting the upstream says the dependent will no longer run after it, and detaches it.
    page.goto(f"{url}/jobs/{importer}")
    expect(details).to_contain_text("Runs beforeSync fields")
    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog", name="Delete this job?")
    expect(dialog).to_contain_text("“Sync fields” will no longer run after it")
    dialog.get_by_role("button", name="Delete job").click()
    expect(page).to_have_url(f"{url}/")
    assert store.get_job(sync.id).depends_on == []  # type: ignore[union-attr]


def test_the_backfill_form_previews_the_slots_before_queueing_them(
    ui: UI,
) -> None:
    store = ui.store
    job_id = ui.make_job("Hourly report", tenant_id=ui.tenants.a, schedule="hourly")
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job_id}")
    page = seen.page
    expect(page.get_by_role("heading", name="Hourly report")).to_be_visible()
    expect(page.locator("#backfill-zone")).to_have_text("America/New_York")
    page.get_by_label("From").fill("2024-11-12T00:00")
    page.get_by_label("Until (not included)").fill("2024-11-12T06:00")
    queue = page.get_by_role("button", name="Queue the runs")
    expect(queue).to_be_disabled()  # not before a preview
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#backfill-status")).to_have_text("6 slot(s) to run:")
    expect(page.locator("#backfill-slots li")).to_have_count(6)
    assert store.list_runs(job_id) == []  # a preview queues nothing
    queue.click()
    expect(page.locator("#backfill-status")).to_contain_text("Queued 6 run(s)")
    runs = store.list_runs(job_id)
    assert [(run.status, run.trigger) for run in runs] == [("pending", "backfill")] * 6
    expect(page.locator("#runs-body tr")).to_have_count(6)
    expect(queue).to_be_disabled()  # queued once
