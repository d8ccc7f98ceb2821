"""API tokens: stored as hashes, looked up per request, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from cronbase.auth import Principal, Role
from cronbase.store import wakeups
from cronbase.store.tables import cron_api_token


@dataclass(frozen=True)
class TokenInfo:
    id: UUID
    email: str
    role: Role
    tenant_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """live, revoked or expired, as `token list` shows it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "live"


class TokenStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(
        self,
        email: str,
        role: Role,
        tenant_id: UUID | None,
        token_hash: str,
        expires_at: datetime | None = None,
    ) -> TokenInfo:
        values = {
            "email": email,
            "role": role.value,
            "tenant_id": tenant_id,
            "token_hash": token_hash,
            "expires_at": expires_at,
        }
        with self.engine.begin() as conn:
            row = conn.execute(cron_api_token.insert().values(values).returning(*_columns())).one()
        return _info(row)

    def principal(self, token_hash: str, now: datetime) -> tuple[Principal, datetime | None] | None:
        """The caller a live token (neither revoked nor expired at `now`) speaks for, and when
        the token expires (None: never); None for an unknown, revoked or expired token."""
        query = sa.select(cron_api_token).where(
            cron_api_token.c.token_hash == token_hash,
            cron_api_token.c.revoked_at.is_(None),
            sa.or_(cron_api_token.c.expires_at.is_(None), cron_api_token.c.expires_at > now),
        )
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Principal(row.email, Role(row.role), row.tenant_id), row.expires_at

    def revoke(self, token_id: UUID, now: datetime) -> bool:
        """Revoke a token; return False if there is no live token with that id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                cron_api_token.update()
                .where(cron_api_token.c.id == token_id, cron_api_token.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if result.rowcount == 1:  # API servers forget the token at once (token_cache)
                wakeups.notify(conn, self.engine.dialect.name, wakeups.TOKENS_CHANNEL)
        return result.rowcount == 1

    def list(self) -> list[TokenInfo]:
        query = sa.select(*_columns()).order_by(cron_api_token.c.created_at)
        with self.engine.begin() as conn:
            return [_info(row) for row in conn.execute(query)]

    def add_first(self, email: str, role: Role, token_hash: str) -> TokenInfo | None:
        """Add this token only if no token was ever issued (revoked ones count); else None."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # two instances starting at once
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7245033)"))
            if conn.execute(sa.select(cron_api_token.c.id).limit(1)).first() is not None:
                return None
            values = {"email": email, "role": role.value, "token_hash": token_hash}
            row = conn.execute(cron_api_token.insert().values(values).returning(*_columns())).one()
        return _info(row)


def _columns() -> list[sa.Column[object]]:
    return [c for c in cron_api_token.c if c.name != "token_hash"]


def _info(row: sa.Row[object]) -> TokenInfo:
    values = dict(row._mapping)
    values["role"] = Role(values["role"])
    return TokenInfo(**values)
