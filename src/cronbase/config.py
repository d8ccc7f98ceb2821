"""Settings, read from CRONBASE_* environment variables once, at the edge (the CLI)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cronbase import retention
from cronbase.limits import (
    DEFAULT_MAX_JOBS_PER_TENANT,
    DEFAULT_MAX_METADATA_BYTES,
    DEFAULT_MAX_METADATA_DEPTH,
)
from cronbase.notify.sealing import parse_keys
from cronbase.token_cache import DEFAULT_TTL_SECONDS as DEFAULT_TOKEN_CACHE_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///cronbase.db"
MIN_JWT_SECRET_BYTES = 32


def normalize_database_url(url: str) -> str:
    """Map the URL schemes people write to the drivers cronbase uses (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Every setting, with its CRONBASE_ environment variable and default."""

    model_config = SettingsConfigDict(env_prefix="CRONBASE_", extra="ignore")

    # An empty variable (`CRONBASE_X=` in a compose file or an env file) means "not set": the
    # default, as an unset one, rather than a parse error for a number. Not the database's:
    # an empty CRONBASE_DATABASE_URL (`${DATABASE_URL}` unset) is refused, not a SQLite file
    # made in the working directory.
    @field_validator("*", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object, info: ValidationInfo) -> object:
        if value != "" or info.field_name in (None, "database_url"):
            return value
        return cls.model_fields[info.field_name].get_default(call_default_factory=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; postgresql://user@host/db for PostgreSQL",
    )
    job_modules: str = Field(
        "", description="comma-separated modules that register job functions, e.g. myapp.jobs"
    )
    worker_max_sleep_seconds: float = Field(
        5.0, gt=0, le=3600, description="longest a worker sleeps before looking for new jobs"
    )
    worker_concurrency: int = Field(
        4, ge=1, le=256, description="how many jobs one worker runs at the same time"
    )
    max_running_per_tenant: int | None = Field(
        None,
        ge=1,
        le=256,
        description="most runs of one tenant a worker runs at once (default: half its threads)",
    )
    worker_lease_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="how long a run stays claimed without its worker renewing the lease",
    )
    # PgBouncer in transaction mode hands each transaction to any server session: a LISTEN
    # would not stay, and statements prepared in one session are missing in the next.
    pgbouncer: bool = Field(
        False,
        description="PostgreSQL is reached through PgBouncer in transaction mode: no "
        "server-side prepared statements, and workers poll instead of LISTENing for wake-ups",
    )
    # One line per run (the default), or a summary per interval for fleets at rate
    # (cronbase.runner.tally); a run that did not succeed logs its own line either way.
    run_log: Literal["line", "summary"] = Field(
        "line", description="line: a log line per run; summary: a line per interval"
    )
    run_log_interval_seconds: float = Field(
        10.0, gt=0, le=86400, description="how often a worker logs its summary of runs"
    )
    sqlite_busy_timeout_seconds: float = Field(
        30.0, gt=0, description="how long SQLite waits for another process's write lock"
    )

    jwt_secret: str | None = Field(
        None, description="HS256 secret of the JWTs the API accepts besides its own tokens"
    )
    jwt_max_ttl_seconds: float = Field(
        86400.0,
        gt=0,
        description="a JWT whose exp is further than this from now is refused",
    )
    token_cache_seconds: float = Field(
        DEFAULT_TOKEN_CACHE_SECONDS,
        ge=0,
        le=60,
        description="an API token's row is read again after this long, while revocations are "
        "heard (PostgreSQL LISTEN; a revocation empties it at once); 0 reads it on every request",
    )
    max_jobs_per_tenant: int = Field(
        DEFAULT_MAX_JOBS_PER_TENANT, ge=1, description="most jobs one tenant may have"
    )
    max_metadata_bytes: int = Field(
        DEFAULT_MAX_METADATA_BYTES,
        ge=1024,
        description="largest metadata a client may store in a job, as JSON",
    )
    # Capped at 100: much deeper documents cannot be sent back in a response.
    max_metadata_depth: int = Field(
        DEFAULT_MAX_METADATA_DEPTH,
        ge=2,
        le=100,
        description="deepest nesting of objects and arrays in a job's metadata",
    )
    # None: the database's own setting decides (90 days on a new installation, none on an
    # upgraded one, which keeps every run); 0 keeps every run. See cronbase.retention.
    run_retention_days: float | None = Field(
        None,
        ge=0,
        le=36500,
        description="days a run is kept (by its slot), at least 7; 0 keeps every run",
    )
    shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="how long a stopping server waits for the run in progress"
    )

    # Failed authentications (cronbase.api.signin_limit): per client address, in this process.
    auth_max_failures: int = Field(
        10, ge=1, le=100000, description="failed authentications an address may make per window"
    )
    auth_failure_window_seconds: float = Field(
        60.0, gt=0, le=86400, description="the window over which failed authentications count"
    )

    # The HTTP server's limits (cronbase.api.server): a client that sends endless headers,
    # or opens connections and sends nothing, must not hold memory or file descriptors.
    http_max_header_bytes: int = Field(
        16384, ge=1024, le=1048576, description="largest request line and headers, in bytes"
    )
    http_header_timeout_seconds: float = Field(
        10.0, gt=0, le=600, description="how long a client has to send a request's headers"
    )
    http_body_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="how long a client has to send a request's body"
    )
    http_max_connections: int = Field(
        500,
        ge=1,
        le=100000,
        description="most connections open at once; keep it well under `ulimit -n`",
    )

    # The Web UI's heartbeat (the seed's CronHeartbeat): with no worker running, an open page
    # of an admin calls POST /api/cron/run this often, starting this long after it loads.
    ui_heartbeat_interval_seconds: float = Field(
        300.0, gt=0, le=86400, description="how often an open Web UI page runs the due jobs"
    )
    ui_heartbeat_delay_seconds: float = Field(
        10.0, ge=0, le=3600, description="how long after loading a page its first heartbeat runs"
    )

    # GET /metrics spans every tenant: a superadmin's token unless made public.
    metrics_public: bool = Field(
        False,
        description="serve GET /metrics without a token (for a Prometheus on a private network)",
    )

    # Alerts (cronbase.notify): where they may go, email, flood control, the overdue check.
    allow_private_webhooks: bool = Field(
        False,
        description="let webhook and slack channels send to loopback, link-local and private "
        "addresses (a receiver on your own network)",
    )
    smtp_url: str | None = Field(
        None,
        description="the SMTP server of email channels: smtp://user:pass@host:port, "
        "smtp+starttls://... or smtps://... (TLS)",
    )
    smtp_from: str = Field("cronbase@localhost", description="the From address of alert emails")
    notification_quiet_period_seconds: float = Field(
        3600.0,
        ge=0,
        le=7 * 86400,
        description="repeats of one alert about one job to one channel within this period "
        "are folded into the next one sent",
    )
    overdue_check_seconds: float = Field(
        15.0, gt=0, le=3600, description="how often workers and API servers look for overdue jobs"
    )
    search_refresh_seconds: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="how often the workers copy jobs' last run and status to the jobs list's "
        "search table (its filter and sort by them lag by up to this)",
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        from cronbase.notify.email import SmtpServer  # the one reader of the URL

        SmtpServer.from_url(value)
        return value.strip()

    # Notifications (cronbase.notify): channel secrets, links in alerts, delivery.
    secret_key: str | None = Field(
        None,
        description="Fernet key(s), comma-separated, that encrypt channel secrets at rest "
        "(default for SQLite: a key file beside the database)",
    )
    public_url: str | None = Field(
        None, description="the Web UI's address, for links to a job's page in alerts"
    )
    notification_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="how long one delivery attempt may take"
    )
    notification_retention_days: float = Field(
        7.0, gt=0, le=3650, description="how long delivered and failed notifications are kept"
    )

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        parse_keys(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError(
                f"CRONBASE_PUBLIC_URL must be an http:// or https:// address, got {value!r}"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        url = normalize_database_url(url.strip())
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "CRONBASE_DATABASE_URL must start with sqlite:/// or postgresql://, "
                f"got {url.split(':', 1)[0]!r}"
            )
        return url

    @field_validator("run_retention_days")
    @classmethod
    def _long_enough_retention(cls, days: float | None) -> float | None:
        if days is not None and 0 < days < retention.MIN_DAYS:
            raise ValueError(
                f"CRONBASE_RUN_RETENTION_DAYS is {days:g}; it must be 0 (keep every run) or at "
                f"least {retention.MIN_DAYS} (dependent jobs look a week back at their "
                "upstreams' runs)"
            )
        return days

    @field_validator("jwt_secret")
    @classmethod
    def _strong_jwt_secret(cls, secret: str | None) -> str | None:
        if not secret:
            return None  # unset, or set to nothing: no JWTs are accepted
        # RFC 7518 3.2: an HS256 key must be at least as long as the hash output. A short
        # secret can be brute-forced offline from any one token, and then forges superadmins.
        if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"CRONBASE_JWT_SECRET is {len(secret.encode())} bytes long; it must be at least "
                f"{MIN_JWT_SECRET_BYTES} random bytes (for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return secret

    @property
    def job_module_list(self) -> list[str]:
        return [name.strip() for name in self.job_modules.split(",") if name.strip()]
