"""`cronbase serve`: the HTTP API and the Web UI, with an embedded worker by default."""

from __future__ import annotations

import argparse
import errno
import logging
import socket
from typing import TYPE_CHECKING

from cronbase.cli.common import Commands, int_between, settings
from cronbase.cli.stopping import TwoStepStop
from cronbase.errors import CannotListen

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


def cmd_serve(args: argparse.Namespace) -> int:
    from cronbase.api import create_app
    from cronbase.bootstrap import open_store

    config = settings()
    app = create_app(config, store=open_store(config), run_worker=not args.no_worker)
    # Listening before anything is announced (or a first token made): a busy port is an
    # error of its own, not a banner followed by a failure.
    sock = _listen(args.host, args.port)
    url = f"http://{args.host}:{args.port}"
    _first_start(app.state.services.manager, url)
    logger.info(
        "serving the web UI at %s/ and the API (docs at %s/docs)%s",
        url,
        url,
        "" if args.no_worker else " with an embedded worker",
    )
    return run_server(app, config, args, sock)


def _listen(host: str, port: int) -> socket.socket:
    from cronbase.api.server import listen

    try:
        return listen(host, port)
    except OSError as exc:
        raise CannotListen(_cannot_listen(host, port, exc)) from exc


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        other = _free_port_after(host, port)
        return (
            f"cannot serve on {host}:{port}: the address is already in use (another cronbase "
            f"serve?); pick another port with --port, e.g. --port {other} "
            f"(make run PORT={other})"
        )
    return (
        f"cannot serve on {host}:{port}: {exc.strerror or exc}; pick another address with "
        "--host and --port (make run HOST=... PORT=...)"
    )


def _free_port_after(host: str, port: int) -> int:
    """A port after `port` that nothing holds now, to suggest (the next one may be busy too: a
    second `make run` beside a first on 8000 and 8001)."""
    for candidate in [*range(port + 1, min(port + 100, 65535) + 1), 8000]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1 if port < 65535 else 8000


def run_server(
    app: FastAPI, config: Settings, args: argparse.Namespace, sock: socket.socket
) -> int:
    """Serve `app` on `sock` until stopped, with the HTTP limits of `config`; return the exit
    status (see cli/stopping.py for the two steps of a stop)."""
    from cronbase.api.server import Server, server_config

    log_level = "info" if args.verbose else "warning"
    stopping = TwoStepStop(app.state.worker)
    uvicorn_config = server_config(app, config, host=args.host, port=args.port, log_level=log_level)
    server = Server(uvicorn_config, stopping.handle)
    server.run(sockets=[sock])
    if app.state.worker is not None:
        # After a stop told to be quick, uvicorn skips the app's shutdown: wait here for the
        # worker to record its runs (the forced exit's timer bounds the wait).
        app.state.worker.join()
    return stopping.exit_status


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
