"""The run pictures in the browser: each job's strip of recent outcomes on the jobs page, the
last hour minute by minute above it, and a job's chart of its last 100 runs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Locator, expect

from cronbase.store.tables import cron_job_run
from tests.ui.conftest import SCREENSHOTS, UI

# Minutes ago of the runs the tests make: the last 50 minutes and 70 to 139 minutes ago.
# The gap keeps the last hour's counts the same should a minute pass while a test runs.
RECENT = range(1, 51)
OLDER = range(70, 140)


def _status(minutes_ago: int) -> str:
    if minutes_ago == 3:
        return "timed_out"
    return "failed" if minutes_ago % 7 == 0 else "succeeded"


def _history(
    job_id: uuid.UUID, tenant_id: uuid.UUID | None, minutes_ago: list[int]
) -> list[dict[str, Any]]:
    """A run per minute ago, one a minute, with durations and start lags that vary."""
    this_minute = datetime.now(UTC).replace(second=0, microsecond=0)
    rows = []
    for ago in minutes_ago:
        slot = this_minute - timedelta(minutes=ago)
        started = slot + timedelta(milliseconds=100 + ago * 131 % 2500)
        took = timedelta(milliseconds=800 + ago * 379 % 5000 + (9000 if ago % 23 == 0 else 0))
        rows.append(
            {
                "job_id": job_id,
                "tenant_id": tenant_id,
                "scheduled_for": slot,
                "started_at": started,
                "finished_at": started + took,
                "status": _status(ago),
                "error": "RuntimeError: upstream refused" if _status(ago) != "succeeded" else None,
            }
        )
    return rows


def _marks(cell: Locator) -> Locator:
    return cell.locator("svg.strip rect.mark")


def test_the_jobs_page_shows_each_jobs_last_20_outcomes_and_the_last_hour(
    ui: UI,
    insert_rows: Callable[..., None],
) -> None:
    tenants = ui.tenants
    flaky = ui.make_job("Flaky export", tenant_id=tenants.a)
    ui.make_job("Never ran", tenant_id=tenants.a)
    theirs = ui.make_job("B's report", tenant_id=tenants.b)
    insert_rows(cron_job_run, _history(flaky, tenants.a, [*RECENT, *OLDER]))
    insert_rows(cron_job_run, _history(theirs, tenants.b, [2, 3, 4]))
    url, seen = ui.open(ui.tokens.superadmin)
    page = seen.page

    rows = page.locator("#jobs-body tr")
    strip = rows.filter(has_text="Flaky export").locator('[data-label="Recent runs"]')
    expect(_marks(strip)).to_have_count(20)
    # Oldest left: 20 minutes ago first, a minute ago last.
    failures = [ago for ago in range(20, 0, -1) if _status(ago) != "succeeded"]
    assert failures == [14, 7, 3]
    statuses = [_marks(strip).nth(i).get_attribute("data-status") for i in range(20)]
    assert statuses == [_status(ago) for ago in range(20, 0, -1)]
    assert strip.locator("rect.failure").count() == len(failures)
    # Each mark says what its run did, to a screen reader and on hover.
    expect(strip.get_by_role("img", name=re.compile(r"^timed out, "))).to_have_count(1)
    expect(strip.get_by_role("img", name=re.compile(r"^failed, .* took "))).to_have_count(2)
    expect(strip.locator("svg.strip")).to_have_attribute(
        "aria-label", "Last 20 runs, oldest first: 3 failed"
    )
    expect(_marks(rows.filter(has_text="B's report").locator("td"))).to_have_count(3)
    expect(rows.filter(has_text="Never ran").locator('[data-label="Recent runs"]')).to_have_text(
        "none"
    )
    assert seen.calls("/api/cron/runs/recent") == 1  # one request for the shown page

    # The last hour: a column per minute, the runs of each, failures marked.
    minutes = page.locator("#activity-charts svg.chart-runs g.column")
    expect(minutes).to_have_count(60)
    counted = [int(m.get_attribute("data-runs") or 0) for m in minutes.all()]
    assert sum(counted) == len(RECENT) + 3
    failed_minutes = [ago for ago in RECENT if _status(ago) != "succeeded"]
    marked = page.locator("#activity-charts svg.chart-runs .failure-mark")
    expect(marked).to_have_count(len(failed_minutes))
    expect(page.locator("#activity-charts svg.chart-lag g.column")).to_have_count(60)
    # B's run of 3 minutes ago timed out too.
    expect(page.locator("#activity-charts")).to_contain_text(
        f"{len(RECENT) + 3} runs in the last hour, {len(failed_minutes) + 1} failed."
    )

    # An admin of tenant A counts their own tenant's runs only, and sees only their strips.
    admin = ui.browse()
    admin.sign_in(url, ui.tokens.admin_a)
    expect(admin.page.locator("#activity-charts")).to_contain_text(
        f"{len(RECENT)} runs in the last hour, {len(failed_minutes)} failed."
    )
    expect(admin.page.locator("#jobs-body tr")).to_have_count(2)


def test_a_jobs_page_charts_its_last_100_runs_with_failures_marked(
    ui: UI,
    insert_rows: Callable[..., None],
) -> None:
    job = ui.make_job("Nightly export", tenant_id=ui.tenants.a, schedule="every_1_minutes")
    history = [*RECENT, *OLDER]  # 120 runs
    insert_rows(cron_job_run, _history(job, ui.tenants.a, history))
    url, seen = ui.open(ui.tokens.admin_a)
    page = seen.page
    page.goto(f"{url}/jobs/{job}")

    charted = sorted(history)[:100]  # the newest 100: 1 to 50 and 70 to 119 minutes ago
    failures = [ago for ago in charted if _status(ago) != "succeeded"]
    for kind in ("duration", "lag"):
        chart = page.locator(f"#run-charts svg.chart-{kind}")
        expect(chart.locator("g.column")).to_have_count(100)
        expect(chart.locator(".failure-mark")).to_have_count(len(failures))
        statuses = chart.locator("g.column").evaluate_all(
            "columns => columns.map(c => c.dataset.status)"
        )
        assert statuses == [_status(ago) for ago in sorted(charted, reverse=True)]
        # Readable axes: a labelled top tick and the first and last runs' times.
        ticks = chart.locator("text.tick").all_text_contents()
        assert ticks[0] == "0 ms", ticks
        assert all(re.search(r"\d", tick) for tick in ticks), ticks
    longest = max(row["finished_at"] - row["started_at"] for row in _history(job, None, charted))
    expect(page.locator("#run-charts")).to_contain_text(
        f"100 runs, {len(failures)} failed; median "
    )
    expect(page.locator("#run-charts")).to_contain_text(
        f"greatest {longest.total_seconds():.1f} s."
    )
    page.locator("#run-charts").scroll_into_view_if_needed()
    page.locator("section:has(#run-charts)").screenshot(path=SCREENSHOTS / "job-chart.png")

    # Another tenant's admin learns nothing of it.
    other = ui.browse()
    other.sign_in(url, ui.tokens.admin_b)
    other.page.goto(f"{url}/jobs/{job}")
    expect(other.page.locator("#page-notice")).to_contain_text("does not exist")
    expect(other.page.locator("#run-charts svg")).to_have_count(0)
