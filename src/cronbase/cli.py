"""The `cronbase` command. The only place that reads settings and configures logging."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import pydantic

from cronbase.auth import Role, check_identity, hash_token, new_token
from cronbase.builtin import DEFAULT_JOBS
from cronbase.clock import SystemClock
from cronbase.config import Settings
from cronbase.errors import ConfigurationError, CronbaseError, InvalidJob
from cronbase.job_modules import load_job_modules
from cronbase.jobs import Isolation, MisfirePolicy, OverlapPolicy, isoformat
from cronbase.manager import SYSTEM, JobManager, JobSpec
from cronbase.registry import JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.schedule import describe, preview
from cronbase.store import SqlStore
from cronbase.store.engine import database_location
from cronbase.store.migrate import check_schema, upgrade
from cronbase.store.tokens import TokenStore
from cronbase.store.workers import WorkerStore

logger = logging.getLogger("cronbase")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except InvalidJob as exc:
        for field, message in exc.errors:
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    except CronbaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _settings() -> Settings:
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"CRONBASE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(problems) from exc


def _open_store(settings: Settings, *, check: bool = True) -> SqlStore:
    store = SqlStore.from_url(
        settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds
    )
    if check:
        check_schema(store.engine)
    return store


def _registry(settings: Settings) -> JobRegistry:
    return load_job_modules(settings.job_module_list)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# --- commands ----------------------------------------------------------------------------------


def cmd_migrate(_args: argparse.Namespace) -> None:
    store = _open_store(_settings(), check=False)
    print(f"database: {database_location(store.engine.url)}")
    before, after = upgrade(store.engine)
    print(f"schema is at {after}" if before == after else f"migrated schema {before} -> {after}")


def cmd_seed(_args: argparse.Namespace) -> None:
    settings = _settings()
    manager = JobManager(_open_store(settings), _registry(settings), SystemClock())
    created = manager.seed_default_jobs(DEFAULT_JOBS)
    for job in created:
        print(f"created {job.name!r} ({job.schedule}, {'active' if job.is_active else 'inactive'})")
    if not created:
        print("the default jobs exist already; nothing changed")


def _runner(settings: Settings) -> Runner:
    return Runner(
        _open_store(settings),
        _registry(settings),
        SystemClock(),
        concurrency=settings.worker_concurrency,
        lease=timedelta(seconds=settings.worker_lease_seconds),
    )


def cmd_run_due(_args: argparse.Namespace) -> None:
    _print_json(_runner(_settings()).run_due().to_dict())


def cmd_worker(_args: argparse.Namespace) -> None:
    settings = _settings()
    worker = Worker(
        _runner(settings),
        SystemClock(),
        max_sleep=settings.worker_max_sleep_seconds,
        grace=settings.shutdown_grace_seconds,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info(
            "%s received: finishing the run in progress, then stopping", signal.Signals(signum).name
        )
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from cronbase.api import create_app
    from cronbase.api.server import server_config

    settings = _settings()
    store = _open_store(settings)
    app = create_app(settings, store=store, run_worker=not args.no_worker)
    url = f"http://{args.host}:{args.port}"
    _first_start(TokenStore(store.engine), url)
    logger.info(
        "serving the web UI at %s/ and the API (docs at %s/docs)%s",
        url,
        url,
        "" if args.no_worker else " with an embedded worker",
    )
    log_level = "info" if args.verbose else "warning"
    uvicorn.Server(
        server_config(app, settings, host=args.host, port=args.port, log_level=log_level)
    ).run()


def _first_start(tokens: TokenStore, url: str) -> None:
    """On the very first start, create a superadmin and show its token once."""
    token = new_token()
    if tokens.add_first("admin@localhost", Role.SUPERADMIN, hash_token(token)) is None:
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


def cmd_token_create(args: argparse.Namespace) -> None:
    settings = _settings()
    store = _open_store(settings)
    role = Role(args.role)
    try:
        check_identity(role, args.tenant_id)
    except ValueError as exc:
        raise ConfigurationError(f"--tenant-id: {exc}") from exc
    if args.tenant_id is not None and not store.tenant_exists(args.tenant_id):
        raise ConfigurationError(f"--tenant-id: no tenant with id {args.tenant_id}")
    token = new_token()
    info = TokenStore(store.engine).add(args.email, role, args.tenant_id, hash_token(token))
    print(token)
    print(
        f"token {info.id} for {info.email} ({role.value}); it is shown only once", file=sys.stderr
    )


def cmd_token_revoke(args: argparse.Namespace) -> None:
    store = _open_store(_settings())
    if not TokenStore(store.engine).revoke(args.token_id, datetime.now(UTC)):
        raise ConfigurationError(
            f"no live token with id {args.token_id} (see `cronbase token list`)"
        )
    print(f"revoked token {args.token_id}")


def cmd_token_list(_args: argparse.Namespace) -> None:
    store = _open_store(_settings())
    for info in TokenStore(store.engine).list():
        state = f"revoked {isoformat(info.revoked_at)}" if info.revoked_at else "live"
        print(
            f"{info.id}  {info.role.value:10}  {info.tenant_id or '-'!s:36}  {state:8}  {info.email}"
        )


def cmd_tenant_add(args: argparse.Namespace) -> None:
    store = _open_store(_settings())
    print(store.insert_tenant(args.name))


def cmd_tenant_list(_args: argparse.Namespace) -> None:
    store = _open_store(_settings())
    for tenant_id, name in store.list_tenants():
        print(f"{tenant_id}  {name}")


def cmd_status(_args: argparse.Namespace) -> None:
    settings = _settings()
    store, now = _open_store(settings), datetime.now(UTC)
    print(f"database: {database_location(store.engine.url)}")
    workers = WorkerStore(store.engine).live(now, stale_after=timedelta(minutes=2))
    print(f"workers alive: {len(workers)}")
    for worker in workers:
        age = (now - worker.last_heartbeat).total_seconds()
        print(
            f"  {worker.id}  pid {worker.pid}  since {isoformat(worker.started_at)}  "
            f"heartbeat {age:.0f}s ago"
        )
    running = store.runs_in_progress()
    print(f"runs in progress: {len(running)}")
    for run, name in running:
        age = (now - run.started_at).total_seconds() if run.started_at else 0
        print(f"  {name}  on {run.worker_id}  for {age:.0f}s")
    due, overdue = store.due_counts(now, overdue_after=timedelta(minutes=1))
    print(f"jobs due: {due} (overdue by more than a minute: {overdue})")
    failing = store.failing_jobs()
    print(f"jobs failing: {len(failing)}")
    for job in failing:
        print(f"  {job.name} ({job.id}): {job.metadata.get('last_error')}")


def cmd_jobs_list(args: argparse.Namespace) -> None:
    store = _open_store(_settings())
    jobs = store.list_jobs(
        tenant_id=args.tenant_id, is_active=args.is_active, limit=args.limit, offset=args.offset
    )
    if args.json:
        _print_json({"jobs": [job.to_dict() for job in jobs]})
        return
    print(
        f"{'ID':36}  {'ACTIVE':6}  {'NEXT RUN':20}  {'SCHEDULE':20}  {'PRIO':>5}  "
        f"{'TIMEOUT':>7}  {'TRIES':>5}  {'ISOLATION':9}  NAME"
    )
    for job in jobs:
        timeout = f"{job.timeout_seconds}s" if job.timeout_seconds else "-"
        print(
            f"{job.id!s:36}  {'yes' if job.is_active else 'no':6}  "
            f"{isoformat(job.next_run) or '-':20}  {job.schedule:20}  {job.priority:>5}  "
            f"{timeout:>7}  {job.max_attempts:>5}  {job.isolation:9}  {job.name}"
        )


def cmd_jobs_add(args: argparse.Namespace) -> None:
    settings = _settings()
    manager = JobManager(_open_store(settings), _registry(settings), SystemClock())
    try:
        metadata = json.loads(args.metadata)
    except json.JSONDecodeError as exc:
        raise InvalidJob([("metadata", f"is not valid JSON: {exc}")]) from exc
    job = manager.create_job(
        JobSpec(
            name=args.name,
            schedule=args.schedule,
            function_name=args.function,
            tenant_id=args.tenant_id,
            is_active=not args.inactive,
            metadata=metadata,
            timezone=args.timezone,
            priority=args.priority,
            timeout_seconds=args.timeout_seconds,
            misfire_policy=args.misfire_policy,
            catchup_window_seconds=args.catchup_window_seconds,
            overlap_policy=args.overlap_policy,
            max_attempts=args.max_attempts,
            retry_delay_seconds=args.retry_delay_seconds,
            isolation=args.isolation,
        ),
        SYSTEM,
    )
    _print_json(job.to_dict())


def cmd_functions(_args: argparse.Namespace) -> None:
    for function in _registry(_settings()).functions():
        print(f"{function.name:28} {function.description}")


def cmd_schedule_preview(args: argparse.Namespace) -> None:
    after = datetime.now(UTC)
    print(describe(args.schedule, args.timezone))
    for instant in preview(args.schedule, after, args.count, args.timezone):
        print(isoformat(instant))


# --- argument parsing ----------------------------------------------------------------------------


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a UUID") from exc


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cronbase",
        description="A database-backed cron system. The database is CRONBASE_DATABASE_URL "
        "(default sqlite:///cronbase.db); job modules come from CRONBASE_JOB_MODULES.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], Any], help_: str, parent: Any = commands
    ) -> argparse.ArgumentParser:
        sub = parent.add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        return sub

    add("migrate", cmd_migrate, "bring the database to the newest schema (safe to repeat)")
    add("seed", cmd_seed, "create the default jobs that do not exist yet")
    add("run-due", cmd_run_due, "run every due job once and print the summary as JSON")
    add("worker", cmd_worker, "run jobs as they fall due until SIGINT or SIGTERM")
    add("functions", cmd_functions, "list the registered job functions")
    add("status", cmd_status, "show live workers, runs in progress, due and failing jobs")

    jobs = commands.add_parser("jobs", help="list and add jobs").add_subparsers(
        required=True, metavar="ACTION"
    )
    listing = add("list", cmd_jobs_list, "list jobs", jobs)
    listing.add_argument("--tenant-id", type=_uuid)
    active = listing.add_mutually_exclusive_group()
    active.add_argument("--active", dest="is_active", action="store_const", const=True)
    active.add_argument("--inactive", dest="is_active", action="store_const", const=False)
    listing.add_argument("--limit", type=_int_between(1, 500), default=100)
    listing.add_argument("--offset", type=_int_between(0, 2**31 - 1), default=0)
    listing.add_argument("--json", action="store_true", help="print the seed's job objects")

    adding = add("add", cmd_jobs_add, "create a job", jobs)
    adding.add_argument("--name", required=True)
    adding.add_argument(
        "--schedule", required=True, help="e.g. hourly, every_5_minutes, 'cron:0 2 * * *'"
    )
    adding.add_argument("--function", required=True, help="a registered function name")
    adding.add_argument("--tenant-id", type=_uuid, help="omit for a global job")
    adding.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Berlin")
    adding.add_argument("--metadata", default="{}", help="a JSON object")
    adding.add_argument("--inactive", action="store_true", help="create it paused")
    adding.add_argument("--priority", type=int, default=0, help="higher runs first (-1000..1000)")
    adding.add_argument("--timeout-seconds", type=int, help="record a longer run as timed_out")
    adding.add_argument(
        "--misfire-policy", default="coalesce", choices=[p.value for p in MisfirePolicy]
    )
    adding.add_argument("--catchup-window-seconds", type=int)
    adding.add_argument(
        "--overlap-policy", default="skip", choices=[p.value for p in OverlapPolicy]
    )
    adding.add_argument(
        "--max-attempts", type=int, default=1, help="retry a failed run until this many (1..20)"
    )
    adding.add_argument(
        "--retry-delay-seconds", type=int, default=30, help="before the first retry; then doubled"
    )
    adding.add_argument(
        "--isolation",
        default="thread",
        choices=[i.value for i in Isolation],
        help="process: a child process, killed at the deadline",
    )

    serve = add("serve", cmd_serve, "serve the HTTP API (with an embedded worker by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_int_between(1, 65535), default=8000)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="API only: separate `cronbase worker` processes run the jobs",
    )

    tokens = commands.add_parser("token", help="API tokens").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = add("create", cmd_token_create, "create an API token and print it (once)", tokens)
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--tenant-id", type=_uuid, help="required for user and admin")
    revoke = add("revoke", cmd_token_revoke, "revoke an API token", tokens)
    revoke.add_argument("token_id", type=_uuid)
    add("list", cmd_token_list, "list API tokens (never the tokens themselves)", tokens)

    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(
        required=True, metavar="ACTION"
    )
    add("add", cmd_tenant_add, "create a tenant and print its id", tenant).add_argument("name")
    add("list", cmd_tenant_list, "list tenants", tenant)

    schedule = commands.add_parser(
        "schedule", help="work with schedule expressions"
    ).add_subparsers(required=True, metavar="ACTION")
    show = add(
        "preview",
        cmd_schedule_preview,
        "describe a schedule and list its next fire times",
        schedule,
    )
    show.add_argument("schedule")
    show.add_argument("--timezone", default="UTC")
    show.add_argument("--count", type=_int_between(1, 1000), default=5)
    return parser


if __name__ == "__main__":
    sys.exit(main())
