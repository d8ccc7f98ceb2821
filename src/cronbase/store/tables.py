"""Table definitions (SQLAlchemy Core) of the scheduler, and the column helpers they share.

The Alembic migrations create exactly the tables of `metadata`: these, and the host CRM tables
that `cronbase.builtin.tables` adds to it.
"""

from __future__ import annotations

import sqlalchemy as sa

from cronbase.store.types import JSONDocument, UTCDateTime, new_uuid, timestamp_key

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)


def id_column() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), primary_key=True, server_default=new_uuid())


def tenant_id_column(
    *, nullable: bool = False, ondelete: str | None = "CASCADE"
) -> sa.Column[object]:
    return sa.Column(
        "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete=ondelete), nullable=nullable
    )


def created_at_column() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now())


def json_column(name: str) -> sa.Column[object]:
    return sa.Column(name, JSONDocument, nullable=False, server_default=sa.text("'{}'"))


# --- tenants: the host application's, which jobs and tokens may belong to -------------------

tenants = sa.Table(
    "tenants",
    metadata,
    id_column(),
    sa.Column("name", sa.Text(), nullable=False),
    created_at_column(),
)

# --- cronbase's own tables --------------------------------------------------------------------

cron_job = sa.Table(
    "cron_job",
    metadata,
    id_column(),
    # NULL for global jobs; no cascade, as in the seed: a tenant with jobs cannot vanish silently.
    tenant_id_column(nullable=True, ondelete=None),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("schedule", sa.Text(), nullable=False),
    sa.Column("function_name", sa.Text()),
    sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("last_run", UTCDateTime()),
    sa.Column("next_run", UTCDateTime()),
    json_column("metadata"),
    sa.Column("timezone", sa.Text(), nullable=False, server_default="UTC"),
    created_at_column(),
    sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
    # When more jobs are due than a worker has free slots, higher priority goes first.
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    # A run still going after this many seconds is recorded timed_out; NULL means no limit.
    sa.Column("timeout_seconds", sa.Integer()),
    # What happens to slots that passed while nothing ran (coalesce, catch_up, skip), and to a
    # slot that comes due while the previous run is still going (skip, allow, queue).
    sa.Column("misfire_policy", sa.Text(), nullable=False, server_default="coalesce"),
    sa.Column("catchup_window_seconds", sa.Integer()),
    sa.Column("overlap_policy", sa.Text(), nullable=False, server_default="skip"),
    # A failed run is tried again, up to max_attempts in all, after retry_delay_seconds doubled
    # at each attempt (with jitter).
    sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("retry_delay_seconds", sa.Integer(), nullable=False, server_default="30"),
    # thread (the default) or process: a child process that is killed at the deadline.
    sa.Column("isolation", sa.Text(), nullable=False, server_default="thread"),
    # How late a run may start before the job counts as overdue (cronbase.overdue).
    sa.Column("overdue_after_seconds", sa.Integer(), nullable=False, server_default="600"),
    # The last run that ran (running, succeeded, failed, timed_out or abandoned; last_run is
    # its start), and the slots missed since: kept where runs start and end (last_outcome.py).
    sa.Column("last_status", sa.Text()),
    sa.Column("missed_since_last_run", sa.Integer(), nullable=False, server_default="0"),
    # With several upstreams (cron_job_dependency): run after each (any) or once per scheduled
    # time when all of them ran for it (all).
    sa.Column("wait_for", sa.Text(), nullable=False, server_default="any"),
    # The newest this many rows of the job's history outlive the retention; NULL: age alone.
    sa.Column("keep_runs", sa.Integer()),
    # Alerts about this job are not sent before this instant (NULL: not muted).
    sa.Column("muted_until", UTCDateTime()),
    # When the job's current alert episode began (a final run failed, timed out or was
    # abandoned, slots were missed, the job was overdue); the next successful final run
    # clears it and raises job.recovered. NULL: all is well.
    sa.Column("alerting_since", UTCDateTime()),
    # Each slot runs a fixed offset below this after its fire time (schedule/jitter.py).
    sa.Column("jitter_seconds", sa.Integer(), nullable=False, server_default="0"),
    # Listing pages in a stable order, over all jobs or one tenant's, without sorting the table.
    sa.Index("ix_cron_job_listing", "created_at", "id"),
    sa.Index("ix_cron_job_tenant_listing", "tenant_id", "created_at", "id"),
    # The list's sorts by name and next_run, read in index order from the start or from a
    # cursor (store/keyset.py). Each index of cron_job costs every claim (which rewrites the
    # row, not HOT) an entry; none may hold a column the recording of a run changes (last_run,
    # last_status), or that update would stop being HOT: those are sorted and filtered, and the
    # name searched, through cron_job_search and cron_job_last_run below.
    sa.Index("ix_cron_job_name_order", "name", "id"),
    sa.Index("ix_cron_job_next_run_order", "next_run", "id"),
    postgresql_with={"fillfactor": 70},  # room for each run's HOT update (migration 0021)
)

# The jobs list's copy of what it searches, filters and sorts on that cron_job cannot index
# (store/search.py; bench/README.md, "Lists at scale"): a claim rewrites the job's row and every
# index of cron_job gets an entry, and an index holding last_run or last_status would make the
# recording's update of them stop being HOT. Claims never touch these two tables. Each job has
# a row in both, written with the job (a trigger on INSERT, the store on UPDATE, the foreign key
# on DELETE). cron_job_search holds what changes only when the job is edited: on PostgreSQL
# its name has a trigram index for `q` when pg_trgm can be had (migration 0023; not in this
# metadata, as it is optional). cron_job_last_run holds the last run and status, copied from
# cron_job by the workers' refresher every few seconds: a table of its own, so that a refresh
# (each copied row a new row version, every index an entry) writes three btree entries per
# job, not the trigram index's dozen (migration 0024; 3.7x less time a pass).
cron_job_search = sa.Table(
    "cron_job_search",
    metadata,
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("tenant_id", sa.Uuid()),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("function_name", sa.Text()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_cron_job_search_function_name", "function_name", "job_id"),
    # A search's or a function filter's page in the default order, over all jobs or one
    # tenant's, read from this table's index alone (not one probe of it per job walked).
    sa.Index("ix_cron_job_search_order", "created_at", "job_id"),
    sa.Index("ix_cron_job_search_tenant_order", "tenant_id", "created_at", "job_id"),
)
# The optional trigram index of the name search (PostgreSQL, pg_trgm), and the index of each
# name's one- and two-letter pieces for a search too short for trigrams (PostgreSQL; migration
# 0025): indexes on expressions of PostgreSQL's own, not in this metadata.
SEARCH_TRIGRAM_INDEX = "ix_cron_job_search_name_trgm"
SEARCH_PIECES_INDEX = "ix_cron_job_search_name_pieces"
cron_job_last_run = sa.Table(
    "cron_job_last_run",
    metadata,
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("tenant_id", sa.Uuid()),
    sa.Column("last_run", UTCDateTime()),
    sa.Column("last_status", sa.Text()),
    sa.Index("ix_cron_job_last_run_order", "last_run", "job_id"),
    sa.Index("ix_cron_job_last_run_tenant_order", "tenant_id", "last_run", "job_id"),
    sa.Index("ix_cron_job_last_run_status", "last_status", "job_id"),
)

# The due-job query reads only this index, whatever the size of the table. Each predicate
# is spelled the way SQLAlchemy renders `is_active` in WHERE, or the planner ignores it.
# next_run is indexed as the due query compares it (timestamp_key: the column on PostgreSQL,
# its text normalized on SQLite, so that next_run written by plain SQL falls due too).
sa.Index(
    "ix_cron_job_due",
    timestamp_key(cron_job.c.next_run),
    sqlite_where=sa.text("is_active = 1"),
    postgresql_where=sa.text("is_active"),
)

# The claim walks due jobs in the order they are taken (priority first, then next_run) without
# sorting every due row: a burst of 100,000 claims 500 in about 1 ms instead of 240 ms. The
# idle due-job query keeps using ix_cron_job_due.
sa.Index(
    "ix_cron_job_claim",
    cron_job.c.priority.desc(),
    timestamp_key(cron_job.c.next_run),
    sqlite_where=sa.text("is_active = 1"),
    postgresql_where=sa.text("is_active"),
)

# The statuses of runs that ended without succeeding, and the predicate of the partial index
# of their runs (a literal, which a query repeats to use that index: see status.list_runs).
UNSUCCESSFUL_STATUSES = ("failed", "timed_out", "abandoned", "missed", "skipped")
UNSUCCESSFUL = f"status IN ({', '.join(repr(s) for s in UNSUCCESSFUL_STATUSES)})"

cron_job_run = sa.Table(
    "cron_job_run",
    metadata,
    id_column(),
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("tenant_id", sa.Uuid()),  # copied from the job, so history stays tenant-scoped
    sa.Column("scheduled_for", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("finished_at", UTCDateTime()),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("result", JSONDocument),
    sa.Column("error", sa.Text()),
    sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("worker_id", sa.Text()),
    sa.Column("trigger", sa.Text(), nullable=False, server_default="schedule"),
    # The claiming worker renews this while the run goes on; once it lapses, the worker is
    # presumed dead and the run is recorded abandoned.
    sa.Column("lease_until", UTCDateTime()),
    # A pending run (a retry, or a manual "run now") waits in the table until this instant.
    sa.Column("run_after", UTCDateTime()),
    # What makes a run not on the schedule exactly once: the upstream run's id (a dependency,
    # wait_for any), `all:<S>` (a join), `backfill:<S>`; NULL for schedule runs, whose slot is
    # their key (uq_cron_job_run_slot).
    sa.Column("trigger_key", sa.Text()),
    # The upstream run ids that started a dependency run.
    sa.Column("triggered_by", JSONDocument),
    # What the run logged through ctx.logger, and the traceback of its failure: each capped at
    # limits.MAX_RUN_TEXT_BYTES. Listings leave them out (rows.RUN_LISTED).
    sa.Column("log", sa.Text()),
    sa.Column("traceback", sa.Text()),
    # One run per scheduled fire time and attempt, whichever instance gets there first.
    sa.Index(
        "uq_cron_job_run_slot",
        "job_id",
        "scheduled_for",
        "attempt",
        unique=True,
        sqlite_where=sa.text("\"trigger\" = 'schedule'"),
        postgresql_where=sa.text("\"trigger\" = 'schedule'"),
    ),
    # One run per trigger key and attempt, however many workers record the upstream at once.
    sa.Index(
        "uq_cron_job_run_trigger_key",
        "job_id",
        "trigger_key",
        "attempt",
        unique=True,
        sqlite_where=sa.text("trigger_key IS NOT NULL"),
        postgresql_where=sa.text("trigger_key IS NOT NULL"),
    ),
    # A job's history, newest slot first.
    sa.Index("ix_cron_job_run_slots", "job_id", "scheduled_for", "attempt"),
    sa.Index(
        "ix_cron_job_run_running",
        "job_id",
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    ),
    sa.Index(
        "ix_cron_job_run_pending",
        "run_after",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    # The runs of the last hour, per minute (the Web UI's overview), without reading the
    # whole history.
    sa.Index("ix_cron_job_run_started", "started_at"),
    sa.Index(
        "ix_cron_job_run_leases",
        "lease_until",
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    ),
    # The pruner walks the history oldest slot first, a batch at a time, from where it left
    # off (store/retention.py). scheduled_for never changes once a row is written, so the
    # index costs an entry per insert and nothing when a run is recorded.
    sa.Index("ix_cron_job_run_age", "scheduled_for", "id"),
    # A job's history of one status (`?status=`) where that status is rare: without it, a
    # page of a job's timed-out runs walked its whole history (170 ms for 500,000 runs). Only
    # runs that ended without succeeding have an entry, so the runner's common writes (a
    # running run inserted, then recorded succeeded) cost it nothing.
    sa.Index(
        "ix_cron_job_run_unsuccessful",
        "job_id",
        "status",
        "scheduled_for",
        "attempt",
        sqlite_where=sa.text(UNSUCCESSFUL),
        postgresql_where=sa.text(UNSUCCESSFUL),
    ),
)

# Settings kept in the database, by name: what every process of an installation must agree
# on and that was decided when the installation was made (the run-history retention of a new
# installation, written by the migration run_retention), and where the jobs list's refresher
# got to (store/search.py).
cron_setting = sa.Table(
    "cron_setting",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

# Named locks with an expiry, for work one process of the fleet does at a time. PostgreSQL
# uses advisory locks instead; on SQLite (one host) a row here is the lock: taken by an UPDATE
# that succeeds only when the lock is free or lapsed, so a holder that dies frees it anyway.
cron_lock = sa.Table(
    "cron_lock",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("holder", sa.Text(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

# The dependency graph: job_id runs after final runs of upstream_id that meet `on`. A job's
# own edges go with it (CASCADE); a job others depend on cannot be deleted before its edges
# (the manager refuses, or removes them with ?detach=true).
cron_job_dependency = sa.Table(
    "cron_job_dependency",
    metadata,
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("upstream_id", sa.Uuid(), sa.ForeignKey("cron_job.id"), primary_key=True),
    sa.Column("on", sa.Text(), nullable=False, server_default="success"),
    # Recording an upstream's final run looks up its dependents.
    sa.Index("ix_cron_job_dependency_upstream", "upstream_id"),
)

# A backfill: the past slots of a job in [start, end) queued as `backfill` runs, keyed
# `backfill:<id>:<slot>` so that its progress can be read and a later backfill can run a slot
# again. Its runs go with the job; cancelling deletes those still pending.
cron_backfill = sa.Table(
    "cron_backfill",
    metadata,
    id_column(),
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("tenant_id", sa.Uuid()),  # copied from the job, as runs do
    sa.Column("start", UTCDateTime(), nullable=False),
    sa.Column("end", UTCDateTime(), nullable=False),
    sa.Column("include_dependents", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("slots", sa.Integer(), nullable=False),  # how many runs it queued
    created_at_column(),
    sa.Column("cancelled_at", UTCDateTime()),
    sa.Index("ix_cron_backfill_job", "job_id", "created_at"),
)

# Runs recorded by ended status, kept by triggers (migration 0019 says why); readers sum shards.
cron_run_tally = sa.Table(
    "cron_run_tally",
    metadata,
    sa.Column("status", sa.Text(), primary_key=True),
    sa.Column("shard", sa.BigInteger(), primary_key=True),
    sa.Column("runs", sa.BigInteger(), nullable=False),
)

# Every worker process registers here and heartbeats while it lives.
cron_worker = sa.Table(
    "cron_worker",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("host", sa.Text(), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_heartbeat", UTCDateTime(), nullable=False),
    sa.Column("stopped_at", UTCDateTime()),
    # How many runs it may run at once (CRONBASE_WORKER_CONCURRENCY); NULL: not reported.
    sa.Column("threads", sa.Integer()),
)

# --- API credentials ------------------------------------------------------------------------

# A bearer token and who it speaks for. Only a SHA-256 of the token is kept: tokens are
# 256-bit random strings, so a fast hash is enough, and a leaked table reveals none of them.
cron_api_token = sa.Table(
    "cron_api_token",
    metadata,
    id_column(),
    sa.Column("email", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),  # user, admin or superadmin
    tenant_id_column(nullable=True),  # NULL for superadmins
    sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
    created_at_column(),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("expires_at", UTCDateTime()),  # NULL: until revoked
)
