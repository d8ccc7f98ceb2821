"""The page's heartbeat (the seed's CronHeartbeat): with no worker running, an open page of an
admin runs the due jobs every interval; after 3 failures in a row it stops and says so."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from playwright.sync_api import Route, expect

from tests.ui.conftest import UI, BrowserPage, Tokens

# Seconds: the real settings are 300 and 10.
INTERVAL = 1.0
DELAY = 0.2


def test_with_no_worker_the_open_page_runs_due_jobs_every_interval(
    ui: UI,
) -> None:
    job_id = ui.make_job("Due job", tenant_id=ui.tenants.a, due=True)
    _, seen = ui.open(ui.tokens.admin_a, worker=False, interval=INTERVAL, delay=DELAY)

    status = seen.page.locator("#heartbeat-status")
    expect(status).to_contain_text("1 due: 1 executed, 0 skipped, 0 failed")
    expect(status).to_contain_text("Heartbeat (no worker is running): last ran at")
    [run] = ui.store.list_runs(job_id)
    assert run.status == "succeeded"
    row = seen.page.locator("#jobs-body tr", has_text="Due job")
    expect(row.locator('[data-label="Last run"]')).to_contain_text("succeeded")  # refreshed

    expect(status).to_contain_text("0 due: 0 executed")  # it goes on beating
    assert seen.calls("/api/cron/run") >= 2
    assert seen.page.locator("#heartbeat-banner").is_hidden()


def test_with_a_worker_running_the_page_leaves_the_jobs_to_it(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    seen = browse()
    seen.sign_in(serve(worker=True, interval=0.3, delay=0.1), tokens.admin_a)
    status = seen.page.locator("#heartbeat-status")
    expect(status).to_have_text("Jobs are run by 1 worker(s).")  # an admin sees no host or pid
    seen.page.wait_for_timeout(1200)  # (time.sleep would stop Playwright seeing requests)
    assert seen.calls("/api/cron/workers") >= 2  # it keeps looking
    assert seen.calls("/api/cron/run") == 0


def test_a_superadmin_sees_which_host_and_pid_run_the_jobs(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    seen = browse()
    seen.sign_in(serve(worker=True, interval=0.3, delay=0.1), tokens.superadmin)
    expect(seen.page.locator("#heartbeat-status")).to_have_text(
        f"Jobs are run by 1 worker(s): {socket.gethostname()} (pid {os.getpid()})."
    )


def test_three_failures_in_a_row_stop_the_heartbeat_until_resumed(
    serve: Callable[..., str], browse: Callable[..., BrowserPage], tokens: Tokens
) -> None:
    url = serve(worker=False, interval=0.4, delay=0.1)
    seen = browse()
    page = seen.page
    attempts: list[str] = []

    def failing(route: Route) -> None:
        # The server's /api/cron/run fails, as behind a proxy whose backend is down.
        attempts.append(route.request.method)
        route.fulfill(
            status=503,
            content_type="application/json",
            body='{"status": "error", "message": "service unavailable", "errors": []}',
        )

    page.route("**/api/cron/run", failing)
    seen.sign_in(url, tokens.superadmin)

    banner = page.get_by_role("alert").filter(has_text="heartbeat stopped")
    expect(banner).to_contain_text(
        "The heartbeat stopped after 3 failed attempts in a row (last error: service unavailable)"
    )
    page.wait_for_timeout(1500)  # more than three intervals: nothing more is tried
    assert attempts == ["POST", "POST", "POST"]

    page.unroute("**/api/cron/run")
    page.reload()  # a stopped heartbeat stays stopped from page to page
    expect(banner).to_be_visible()
    page.get_by_role("button", name="Resume heartbeat").click()
    expect(banner).to_be_hidden()
    expect(page.locator("#heartbeat-status")).to_contain_text("0 due: 0 executed")
