"""A job's page: run now, the run history, pause and resume, delete; and the keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.conftest import UI


def test_run_now_shows_the_run_and_its_result_then_pause_resume_and_delete(
    ui: UI,
) -> None:
    store = ui.store
    job_id = ui.make_job("Send digest", tenant_id=ui.tenants.a, metadata={"to": "ops"})
    url, seen = ui.open(ui.tokens.admin_a, f"/jobs/{job_id}", worker=True)
    page = seen.page
    expect(page.get_by_role("heading", name="Send digest")).to_be_visible()
    expect(page.locator("#history-status")).to_have_text("No runs yet.")

    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#flash")).to_have_text("Queued a run of “Send digest”.")
    run = page.locator("#runs-body tr")
    expect(run).to_have_count(1)
    expect(run.locator('[data-label="Status"]')).to_have_text("succeeded")  # the worker ran it
    expect(run.locator('[data-label="Result or error"]')).to_have_text('{"metadata":{"to":"ops"}}')
    expect(run.locator('[data-label="Trigger"]')).to_have_text("manual")
    expect(run.locator('[data-label="Attempt"]')).to_have_text("1")
    expect(run.locator('[data-label="Duration"]')).to_have_text(re.compile(r"^\d+ ms$"))
    expect(run.locator('[data-label="Worker"]')).not_to_have_text("—")
    expect(page.locator("#job-details")).to_contain_text("1 / 0")  # runs / errors

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#job-state")).to_have_text("Paused")
    expect(page.locator("#job-details")).to_contain_text("Next runpaused")
    assert store.get_job(job_id).is_active is False  # type: ignore[union-attr]
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#job-state")).to_have_text("Active")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert store.get_job(job_id).is_active is True  # type: ignore[union-attr]

    page.get_by_role("button", name="Delete…").click()
    dialog = page.get_by_role("dialog", name="Delete this job?")
    expect(dialog).to_contain_text("“Send digest” and its whole run history will be deleted")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert store.get_job(job_id) is not None
    page.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete job").click()
    expect(page).to_have_url(f"{url}/")
    expect(page.locator("#flash")).to_have_text("Deleted “Send digest”.")
    expect(page.locator("#job-count")).to_have_text("0 jobs")
    assert store.get_job(job_id) is None


def test_the_keyboard_alone_reaches_a_job_and_pauses_it(
    ui: UI,
) -> None:
    store = ui.store
    job_id = ui.make_job("Keyboard job", tenant_id=ui.tenants.a)
    _, seen = ui.open(ui.tokens.admin_a)
    page = seen.page
    switch = page.get_by_role("switch", name="Active: Keyboard job")
    expect(switch).to_be_checked()

    def tab_to(locator_name: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == locator_name:
                return
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == locator_name:
                return
        raise AssertionError(f"Tab never reached {locator_name!r}")

    tab_to("Active: Keyboard job")
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()
    expect(page.locator("#flash")).to_have_text("“Keyboard job” is paused.")
    expect(switch).to_be_focused()  # the table was redrawn; focus stayed put
    assert store.get_job(job_id).is_active is False  # type: ignore[union-attr]

    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Keyboard job")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard job")).to_be_visible()
    tab_to("Resume")
    page.keyboard.press("Enter")
    expect(page.locator("#job-state")).to_have_text("Active")
    assert store.get_job(job_id).is_active is True  # type: ignore[union-attr]
