"""What a reader sees at a laptop's width: the run history fits the screen, every instant on a
page is written one way with its zone, and a wrong address shows a page rather than JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from cronbase.store.tables import cron_job_run
from tests.ui.conftest import BrowserPage, Tenants, Tokens

LAPTOP = 1366  # the width the UI must fit without scrolling sideways
# "Nov 30, 2026, 3:07:00 PM EST": the one format, in the browser's zone (New York here).
ONE_FORMAT = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}\s[AP]M E[SD]T$")
RELATIVE = re.compile(r"^(in \d+ \w+|\d+ \w+ ago|now|yesterday|tomorrow|last \w+|next \w+)$")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _run(job_id: uuid.UUID, tenant_id: uuid.UUID, slot: datetime, **values: Any) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "tenant_id": tenant_id,
        "scheduled_for": slot,
        "started_at": slot,
        "finished_at": slot + timedelta(seconds=2),
        "trigger": "schedule",
        "worker_id": None,
        "result": None,
        "error": None,
        **values,
    }


@pytest.fixture
def job_with_history(
    make_job: Callable[..., uuid.UUID], tenants: Tenants, insert_rows: Callable[..., None]
) -> uuid.UUID:
    """A job whose history has what widens a table: an unbroken long result, an unbroken long
    error, a long worker name, and a missed run whose error names two instants."""
    job_id = make_job("Nightly export", tenant_id=tenants.a)
    slot = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    worker = "cronbase-worker-7d9f8b6c5d.eu-west-1.compute.internal:4242:a1b2c3"
    unbroken = "".join(f"key{i}:value{i}," for i in range(40))
    insert_rows(
        cron_job_run,
        [
            _run(
                job_id,
                tenants.a,
                slot,
                status="succeeded",
                worker_id=worker,
                result={"exported": unbroken},
            ),
            _run(
                job_id,
                tenants.a,
                slot + timedelta(hours=1),
                status="failed",
                worker_id=worker,
                error=f"ValueError: {unbroken}",
            ),
            _run(
                job_id,
                tenants.a,
                slot + timedelta(hours=2),
                status="missed",
                started_at=None,
                error=f"3 slot(s) from {slot.isoformat()} to {(slot + timedelta(hours=2)).isoformat()}"
                " passed without a run (misfire policy coalesce)",
                result={"missed_slots": 3},
            ),
        ],
    )
    return job_id


@pytest.fixture
def job_page(
    serve: Callable[..., str],
    browse: Callable[..., BrowserPage],
    tokens: Tokens,
    job_with_history: uuid.UUID,
) -> Page:
    """The job's page at a laptop's width, signed in, its three runs shown."""
    url = serve()
    seen = browse(width=LAPTOP, height=900)
    seen.sign_in(f"{url}/jobs/{job_with_history}", tokens.admin_a)
    expect(seen.page.locator("#runs-body tr")).to_have_count(3)
    return seen.page


def test_the_run_history_fits_a_laptop_screen_with_long_results_expanded(
    job_page: Page,
) -> None:
    page = job_page
    for summary in page.locator("#runs-body summary").all():
        summary.click()  # the whole result and error, unfolded
    expect(page.locator("#runs-body details[open]")).to_have_count(3)
    for wrap in page.locator(".table-wrap").all():  # the run history's, the audit log's
        widths = wrap.evaluate("node => [node.scrollWidth, node.clientWidth]")
        assert widths[0] <= widths[1], f"a table scrolls sideways: {widths}"
    trigger = page.get_by_role("columnheader", name="Trigger").bounding_box()
    assert trigger is not None
    assert trigger["x"] + trigger["width"] <= LAPTOP, f"the Trigger column is cut: {trigger}"


def test_every_instant_on_the_job_page_is_written_one_way_with_its_zone(
    job_page: Page,
) -> None:
    page = job_page
    texts = page.locator("main time").all_inner_texts()
    titles = [t for t in page.locator("main time").evaluate_all("ns => ns.map(n => n.title)") if t]
    assert len(texts) >= 6, texts  # next run, last run, and each run's slot and start
    for text in texts:
        assert ONE_FORMAT.match(text) or RELATIVE.match(text), f"another format: {text!r}"
    assert any(ONE_FORMAT.match(text) for text in texts)
    for title in titles:
        assert ONE_FORMAT.match(title), f"another format on hover: {title!r}"
    missed = page.locator('#runs-body tr[data-status="missed"] [data-label="Result or error"]')
    expect(missed).to_contain_text("passed without a run")
    assert not ISO.search(missed.inner_text()), missed.inner_text()
    expect(missed).to_contain_text(re.compile(r"from [A-Z][a-z]{2} \d{1,2}, \d{4}, .* E[SD]T to "))


def test_a_wrong_address_shows_a_page_in_the_browser_and_json_to_clients(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    url = serve()
    seen = browse(width=LAPTOP, height=900)
    page = seen.page
    seen.sign_in(url, tokens.admin_a)
    response = page.goto(f"{url}/no/such/page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="No such page")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the jobs")).to_be_visible()
    # API paths and clients that do not ask for HTML keep the error envelope.
    for path, accept in (("/no/such/page", "application/json"), ("/api/cron/nope", "text/html")):
        answer = httpx.get(f"{url}{path}", headers={"Accept": accept})
        assert answer.status_code == 404
        assert answer.json() == {"status": "error", "message": "Not Found", "errors": []}
