"""`cronbase run-due` (one round) and `cronbase worker` (until stopped)."""

from __future__ import annotations

import argparse
import errno
import logging

from cronbase.cli.common import Commands, int_between, print_json, services
from cronbase.cli.stopping import TwoStepStop
from cronbase.errors import CannotListen
from cronbase.metrics import ProcessMetrics

logger = logging.getLogger("cronbase")


def register(commands: Commands) -> None:
    commands.add(
        "run-due",
        cmd_run_due,
        "run every due job once, print the summary as JSON; exit status 1 if a job failed",
    )
    worker = commands.add("worker", cmd_worker, "run jobs as they fall due until SIGINT or SIGTERM")
    worker.add_argument(
        "--metrics-port",
        type=int_between(0, 65535),
        metavar="N",
        help="serve this worker's Prometheus metrics at http://HOST:N/metrics (0: any free port)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="the address the metrics are served on (default 127.0.0.1; 0.0.0.0 for every one)",
    )


def cmd_run_due(_args: argparse.Namespace) -> int:
    """Exit status 1 when a job failed, so a system crontab's MAILTO or a monitor sees it.

    Before exiting, deliver the notifications the round created (its failures' alerts):
    under a system crontab no other cronbase process may be running to deliver them."""
    built = services()
    runner = built.new_runner()
    summary = runner.run_due()
    # The jobs list's filter and sort by last run see this round's runs at once, though no
    # worker may be running to refresh them.
    built.new_search_refresher(runner.worker_id).refresh(before_exit=True)
    print_json(summary.to_dict())
    try:
        built.deliverer.deliver_before_exit()
    except Exception:  # the runs are recorded; the outbox keeps the alerts for a later try
        logger.exception("delivering notifications failed; they stay queued for a later try")
    finally:
        built.deliverer.close()
    return 1 if summary.failed else 0


def cmd_worker(args: argparse.Namespace) -> int:
    built = services()
    if args.metrics_port is not None:
        # Before the worker starts: a busy port is one clear error, not a worker without metrics.
        _serve_metrics(built.metrics, args.metrics_host, args.metrics_port)
    worker = built.new_worker()
    stopping = TwoStepStop(worker)
    stopping.install()
    worker.run()
    return stopping.exit_status


def _serve_metrics(metrics: ProcessMetrics, host: str, port: int) -> None:
    try:
        server = metrics.serve(host, port)
    except OSError as exc:
        why = (
            "the address is already in use; pick another --metrics-port"
            if exc.errno == errno.EADDRINUSE
            else f"{exc.strerror or exc}; pick another --metrics-host or --metrics-port"
        )
        raise CannotListen(f"cannot serve metrics on {host}:{port}: {why}") from exc
    shown = f"[{host}]" if ":" in host else host
    logger.info("serving metrics at http://%s:%d/metrics", shown, server.server_port)
