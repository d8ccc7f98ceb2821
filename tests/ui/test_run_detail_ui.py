"""A run's log and traceback on the job page: a button per run opens them in a dialog, shown
as text (markup a job logs is not rendered)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import UI


def test_a_failed_runs_traceback_and_log_open_from_the_history_as_text(
    ui: UI,
) -> None:
    tenants = ui.tenants
    job_id = ui.make_job(
        "Nightly import", tenant_id=tenants.a, function_name="logThenFail", due=True
    )
    _, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job_id}", worker=True)
    page = seen.page
    row = page.locator("#runs-body tr")
    expect(row.locator('[data-label="Status"]')).to_have_text("failed")  # the worker ran it

    row.get_by_role("button", name="Log of the run of").click()
    dialog = page.get_by_role("dialog", name="Run of")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("KeyError: 'missing'")
    texts = dialog.locator("pre.run-text")
    expect(texts).to_have_count(2)
    traceback, log = texts.nth(0), texts.nth(1)
    expect(traceback).to_contain_text("Traceback (most recent call last):")
    expect(traceback).to_contain_text("in _lookup")
    expect(log).to_contain_text('INFO reading <b>settings</b> <img src=x onerror="window.pwned=1">')
    expect(log).to_contain_text(f"WARNING no settings for tenant {tenants.a}")
    # Shown as written, not rendered: no element came out of the job's text, nothing ran.
    assert dialog.locator("img, b").count() == 0
    assert page.evaluate("window.pwned") is None

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
