"""SqlStore's methods for tenants, jobs, their dependency graph, backfills, manual runs and the
audit log (see Store in protocol.py): each opens one transaction and calls jobs.py, graph.py,
backfills.py or audit.py. A change the domain layer audits writes its entry (audit.py) in that
same transaction, and wakes the workers (wakeups.py) when it may make work due."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.audit import AuditEntry, AuditQuery
from cronbase.backfill import Backfill
from cronbase.dependency_rules import Linked
from cronbase.jobs import Job, Run
from cronbase.listing import JobQuery
from cronbase.store import audit, backfills, graph, jobs, wakeups


class JobMethods:
    """Mixed into SqlStore, which provides the transactions and the dialect."""

    dialect: str

    def transaction(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    # --- tenants and jobs --------------------------------------------------------------------

    def insert_tenant(self, name: str) -> UUID:
        with self.transaction() as conn:
            return jobs.insert_tenant(conn, name)

    def list_tenants(self) -> list[tuple[UUID, str]]:
        with self.reading() as conn:
            return jobs.list_tenants(conn)

    def tenant_name(self, tenant_id: UUID) -> str | None:
        with self.reading() as conn:
            return jobs.tenant_name(conn, tenant_id)

    def insert_job(
        self,
        values: dict[str, Any],
        *,
        max_per_tenant: int | None = None,
        audit_of: Callable[[Job], AuditEntry] | None = None,
    ) -> Job:
        with self.transaction() as conn:
            job = jobs.insert_job(conn, self.dialect, values, max_per_tenant)
            wakeups.notify(conn, self.dialect)
            audit.record(conn, audit_of(job) if audit_of else None)
            return job

    def insert_jobs_unless_named(
        self, values: list[dict[str, Any]], *, audit_of: Callable[[Job], AuditEntry] | None = None
    ) -> list[Job]:
        with self.transaction() as conn:
            inserted = jobs.insert_jobs_unless_named(conn, self.dialect, values)
            if inserted:
                wakeups.notify(conn, self.dialect)
            for job in inserted if audit_of else ():
                audit.record(conn, audit_of(job))
            return inserted

    def update_job(
        self,
        job_id: UUID,
        values: dict[str, Any],
        *,
        tenant_id: UUID | None = None,
        max_per_tenant: int | None = None,
        audit_of: Callable[[Job, Job], AuditEntry | None] | None = None,
    ) -> Job | None:
        with self.transaction() as conn:
            job = jobs.update_job(
                conn, self.dialect, job_id, values, tenant_id, max_per_tenant, audit_of
            )
            if job is not None:
                wakeups.notify(conn, self.dialect)
            return job

    def delete_job(
        self,
        job_id: UUID,
        *,
        tenant_id: UUID | None = None,
        detach: bool = False,
        entry: AuditEntry | None = None,
        detached_audit: Callable[[Job, Job], AuditEntry | None] | None = None,
    ) -> bool:
        with self.transaction() as conn:
            deleted = jobs.delete_job(conn, self.dialect, job_id, tenant_id, detach, detached_audit)
            audit.record(conn, entry if deleted else None)
            return deleted

    def get_job(self, job_id: UUID) -> Job | None:
        with self.reading() as conn:
            return jobs.get_job(conn, job_id)

    def list_jobs(self, query: JobQuery | None = None) -> list[Job]:
        with self.reading() as conn:
            return jobs.list_jobs(conn, query or JobQuery())

    def linked_jobs(self, job_id: UUID) -> tuple[list[Linked], list[Linked], dict[UUID, Job]]:
        with self.reading() as conn:
            return graph.linked(conn, job_id)

    def create_backfill(
        self,
        job_id: UUID,
        slots_of: Callable[[Job], list[datetime]],
        values: dict[str, Any],
        now: datetime,
        *,
        tenant_id: UUID | None = None,
        audit_of: Callable[[Backfill], AuditEntry] | None = None,
    ) -> tuple[Backfill | None, list[datetime]] | None:
        with self.transaction() as conn:
            created = backfills.create(conn, self.dialect, job_id, tenant_id, slots_of, values, now)
            if created is not None and created[0] is not None:
                wakeups.notify(conn, self.dialect)
                audit.record(conn, audit_of(created[0]) if audit_of else None)
            return created

    def get_backfill(self, job_id: UUID, backfill_id: UUID) -> Backfill | None:
        with self.reading() as conn:
            return backfills.read(conn, job_id, backfill_id)

    def cancel_backfill(
        self,
        job_id: UUID,
        backfill_id: UUID,
        now: datetime,
        *,
        audit_of: Callable[[Backfill], AuditEntry | None] | None = None,
    ) -> Backfill | None:
        with self.transaction() as conn:
            found = backfills.cancel(conn, job_id, backfill_id, now)
            if found is not None and audit_of is not None:
                audit.record(conn, audit_of(found))
            return found

    def job_audit(self, job_id: UUID, query: AuditQuery) -> list[AuditEntry]:
        with self.reading() as conn:
            return audit.list_entries(conn, job_id, query)

    def runs_jobs(
        self, run_ids: list[UUID], *, tenant_id: UUID | None = None
    ) -> dict[UUID, tuple[UUID, str]]:
        with self.reading() as conn:
            return graph.runs_jobs(conn, run_ids, tenant_id)

    def enqueue_run(
        self,
        job_id: UUID,
        now: datetime,
        *,
        tenant_id: UUID | None = None,
        audit_of: Callable[[Run], AuditEntry] | None = None,
    ) -> Run | None:
        with self.transaction() as conn:
            run = jobs.enqueue_run(conn, job_id, now, tenant_id, audit_of)
            if run is not None:
                wakeups.notify(conn, self.dialect)
            return run
