"""`cronbase serve`: the HTTP API and the Web UI, with an embedded worker by default."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from cronbase.cli.common import Commands, int_between, settings

if TYPE_CHECKING:  # the web stack is imported when serving, not for every command
    from fastapi import FastAPI

    from cronbase.config import Settings
    from cronbase.manager import JobManager

logger = logging.getLogger("cronbase")


def register(commands: Commands) -> None:
    serve = commands.add(
        "serve", cmd_serve, "serve the HTTP API (with an embedded worker by default)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int_between(1, 65535), default=8000)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="API only: separate `cronbase worker` processes run the jobs",
    )


def cmd_serve(args: argparse.Namespace) -> None:
    from cronbase.api import create_app
    from cronbase.bootstrap import open_store

    config = settings()
    app = create_app(config, store=open_store(config), run_worker=not args.no_worker)
    url = f"http://{args.host}:{args.port}"
    _first_start(app.state.services.manager, url)
    logger.info(
        "serving the web UI at %s/ and the API (docs at %s/docs)%s",
        url,
        url,
        "" if args.no_worker else " with an embedded worker",
    )
    run_server(app, config, args)


def run_server(app: FastAPI, config: Settings, args: argparse.Namespace) -> None:
    """Serve `app` until interrupted, with the HTTP limits of `config`."""
    import uvicorn

    from cronbase.api.server import server_config

    log_level = "info" if args.verbose else "warning"
    uvicorn.Server(
        server_config(app, config, host=args.host, port=args.port, log_level=log_level)
    ).run()


def _first_start(manager: JobManager, url: str) -> None:
    """On the very first start, create a superadmin and show its token once."""
    token = manager.create_first_token("admin@localhost")
    if token is None:
        return
    print(
        f"\nFirst start: created a superadmin. Its API token, shown only this once:\n\n"
        f"    {token}\n\n"
        f"Web UI: {url}/  (sign in with the token above)\n\n"
        f"Or try the API:\n\n"
        f"    curl -H 'Authorization: Bearer {token}' {url}/api/cron/jobs\n\n"
        f"API docs: {url}/docs\n",
        flush=True,
    )
