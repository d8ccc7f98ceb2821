"""Who is calling: bearer tokens issued by cronbase, or JWTs signed by the host application."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import jwt

from cronbase.errors import CronbaseError, InvalidFields

TOKEN_PREFIX = "cb_"


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


class NotAuthenticated(CronbaseError):
    """No credentials, or credentials that are unknown, revoked, expired or badly signed."""


class PermissionDenied(CronbaseError):
    """The caller is known but their role may not do this."""


@dataclass(frozen=True)
class Principal:
    """The caller: an email for the logs, a role, and a tenant (None only for superadmins)."""

    email: str
    role: Role
    tenant_id: UUID | None

    @property
    def is_superadmin(self) -> bool:
        return self.role is Role.SUPERADMIN

    def can_see(self, tenant_id: UUID | None) -> bool:
        """Superadmins see every job; an admin only their own tenant's (never global ones)."""
        return self.is_superadmin or (tenant_id is not None and tenant_id == self.tenant_id)


def check_identity(role: Role, tenant_id: UUID | None) -> None:
    """Raise ValueError unless the role and tenant go together."""
    if role is Role.SUPERADMIN and tenant_id is not None:
        raise ValueError("a superadmin has no tenant: leave the tenant out")
    if role is not Role.SUPERADMIN and tenant_id is None:
        article = "an" if role is Role.ADMIN else "a"
        raise ValueError(f"{article} {role.value} belongs to a tenant: give its id")


MAX_EMAIL_LENGTH = 320  # the longest address mail allows (64 + @ + 255)


def email_problem(email: str) -> str | None:
    """What is wrong with the email a token is issued to (it names the caller in logs, the
    audit and token lists), or None: it must be printable text, not blank, and not too long."""
    if not email.strip():
        return "must not be blank: give the address of whoever uses the token"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"must be at most {MAX_EMAIL_LENGTH} characters, not {len(email)}"
    if not email.isprintable():  # control characters; bytes that were not UTF-8 (surrogates)
        return f"{email!r} holds characters that are not printable text"
    return None


def check_holder(email: str, role: Role, tenant_id: UUID | None) -> None:
    """Whom a new token is issued to: InvalidFields for an email that names nobody; ValueError
    unless the role and tenant go together."""
    problem = email_problem(email)
    if problem:
        raise InvalidFields([("email", problem)])
    check_identity(role, tenant_id)


def new_token() -> str:
    """A fresh random bearer token, shown once to whoever asked for it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_from_jwt(token: str, secret: str, max_ttl_seconds: float) -> Principal:
    """Verify an HS256 JWT and read its claims: `exp` (required: no token lives forever),
    `role`, `tenant_id`, and `sub` or `email`.

    Raise NotAuthenticated for a bad signature, an expired token, an `exp` more than
    `max_ttl_seconds` after now, or missing claims.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "role"]}
        )
        _check_lifetime(claims["exp"], max_ttl_seconds)
        role = Role(claims["role"])
        tenant = claims.get("tenant_id")
        tenant_id = UUID(str(tenant)) if tenant else None
        check_identity(role, tenant_id)
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("the token has expired; sign in again") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise NotAuthenticated(f"the token is not valid: {exc}") from exc
    return Principal(str(claims.get("email") or claims.get("sub") or ""), role, tenant_id)


def _check_lifetime(exp: float, max_ttl_seconds: float) -> None:
    # Measured from now, not from `iat`: iat is optional, and this way every token accepted at
    # any moment expires within the cap, whatever its issuer wrote. PyJWT has checked that exp
    # is a number and not past; it uses the system clock, so this does too.
    remaining = exp - time.time()
    if remaining > max_ttl_seconds:
        raise NotAuthenticated(
            f"the token's exp is {remaining:.0f} s from now, more than the "
            f"{max_ttl_seconds:.0f} s a JWT may live here (CRONBASE_JWT_MAX_TTL_SECONDS): "
            "issue tokens that expire sooner"
        )
