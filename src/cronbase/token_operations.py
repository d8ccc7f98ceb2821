"""The domain layer's operations on API tokens (the operator's, through the CLI) and the
lookup of who a token speaks for, remembered a few seconds (cronbase.token_cache). A part of
JobManager (manager.py), like run_operations."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from cronbase.auth import Principal, Role, check_holder, hash_token, new_token
from cronbase.store.tokens import TokenInfo  # what the CLI shows (it may not import the store)

if TYPE_CHECKING:
    from cronbase.clock import Clock
    from cronbase.store import SqlStore
    from cronbase.store.tokens import TokenStore
    from cronbase.token_cache import TokenCache


class TokenOperations:
    """API tokens; mixed into JobManager, whose store, clock, tokens and token_cache these use."""

    store: SqlStore
    clock: Clock
    tokens: TokenStore
    token_cache: TokenCache

    def create_token(
        self,
        email: str,
        role: Role,
        tenant_id: UUID | None,
        expires_in: timedelta | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token (shown once; only its hash is kept) and what it was stored as; with
        `expires_in`, it stops working that long from now. ValueError when the tenant does not
        fit the role or does not exist; InvalidFields for an email that cannot name anyone."""
        check_holder(email, role, tenant_id)
        if tenant_id is not None and self.store.tenant_name(tenant_id) is None:
            raise ValueError(f"no tenant with id {tenant_id}")
        token = new_token()
        expires_at = self.clock.now() + expires_in if expires_in is not None else None
        return token, self.tokens.add(email, role, tenant_id, hash_token(token), expires_at)

    def create_first_token(self, email: str) -> str | None:
        """A superadmin's token if no token was ever issued (the very first start), else None."""
        token = new_token()
        if self.tokens.add_first(email, Role.SUPERADMIN, hash_token(token)) is None:
            return None
        return token

    def list_tokens(self) -> list[TokenInfo]:
        """Every token ever issued, oldest first (their hashes, never the tokens)."""
        return self.tokens.list()

    def revoke_token(self, token_id: UUID) -> bool:
        """Revoke a token; False if there is no live token with that id."""
        revoked = self.tokens.revoke(token_id, self.clock.now())
        self.token_cache.clear()  # refused here at once; other servers hear the NOTIFY
        return revoked

    def remembered_principal(self, token: str) -> Principal | None:
        """principal_for_token's answer if the cache has it (no I/O), else None."""
        return self.token_cache.get(hash_token(token), self.clock.now())

    def principal_for_token(self, token: str) -> Principal | None:
        """The caller a live API token speaks for, or None if it is unknown, revoked or
        expired; remembered for a few seconds (cronbase.token_cache: how stale it may be)."""
        token_hash, now = hash_token(token), self.clock.now()
        known = self.token_cache.get(token_hash, now)
        if known is not None:
            return known
        generation = self.token_cache.generation
        found = self.tokens.principal(token_hash, now)
        if found is None:
            return None
        principal, expires_at = found
        self.token_cache.put(token_hash, principal, expires_at, now, generation)
        return principal
