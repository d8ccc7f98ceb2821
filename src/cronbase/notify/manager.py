"""The domain layer of notification channels: who may manage which, validation, secrets.

An admin manages their own tenant's channels, which receive that tenant's events only; a
superadmin also manages global channels (no tenant), which receive every tenant's. The user
role has no access, as for jobs. JobManager.channels is the way in for the API and the CLI.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from cronbase.auth import PermissionDenied, Principal
from cronbase.clock import Clock
from cronbase.errors import ChannelNotFound, InvalidChannel
from cronbase.job_validation import check_name
from cronbase.notify.deliverer import Deliverer
from cronbase.notify.destinations import RefusedDestination, check_destination
from cronbase.notify.events import DEFAULT_EVENTS
from cronbase.notify.model import Attempt, Channel, ChannelKind, Delivery
from cronbase.notify.sealing import SecretBox
from cronbase.notify.validation import (
    Errors,
    check_events,
    check_job_ids,
    check_kind,
    check_muted_until,
    check_url,
)
from cronbase.notify.webhook import new_secret
from cronbase.store import SqlStore

# After a rotation the previous secret still signs for this long, so receivers can switch.
ROTATION_GRACE = timedelta(hours=24)
CHANGEABLE = ("name", "url", "events", "job_ids", "muted_until")
FIXED = ("kind", "tenant_id")  # a different kind or tenant is a different channel
HTTP_KINDS = (ChannelKind.WEBHOOK, ChannelKind.SLACK)  # whose url the server connects to


@dataclass(frozen=True)
class NewSecret:
    """A channel with its signing secret in clear: shown once, when made or rotated."""

    channel: Channel
    secret: str | None  # None for kinds that sign nothing (slack, email)


class ChannelManager:
    def __init__(
        self,
        store: SqlStore,
        clock: Clock,
        box: SecretBox,
        deliverer: Deliverer,
        *,
        allow_private: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.box = box
        self.deliverer = deliverer
        # CRONBASE_ALLOW_PRIVATE_WEBHOOKS: HTTP channels may point into the local network.
        self.allow_private = allow_private

    @property
    def kinds(self) -> list[ChannelKind]:
        """The kinds of channel this cronbase can deliver to."""
        return list(self.deliverer.senders)

    def create(self, fields: dict[str, Any], caller: Principal) -> NewSecret:
        """Validate and store a channel (InvalidChannel, storing nothing); a webhook gets a new
        secret, returned here in clear and never again."""
        tenant_id = self._tenant_for(fields.get("tenant_id"), caller)
        unknown = sorted(set(fields) - {*CHANGEABLE, *FIXED})
        errors: Errors = [(name, "is not a channel field") for name in unknown]
        kind = check_kind(fields.get("kind"), self.kinds, errors)
        values = self._checked(fields, kind, tenant_id, errors)
        now = self.clock.now()
        secret = new_secret() if kind is ChannelKind.WEBHOOK else None
        values.update(
            kind=kind,
            tenant_id=tenant_id,
            secret=self.box.seal(secret) if secret else None,
            created_at=now,
            updated_at=now,
        )
        return NewSecret(self.store.insert_channel(values), secret)

    def get(self, channel_id: UUID, caller: Principal) -> Channel:
        channel = self.store.get_channel(channel_id)
        if channel is None or not caller.can_see(channel.tenant_id):
            raise ChannelNotFound(channel_id)
        return channel

    def list(
        self, caller: Principal, *, tenant_id: UUID | None = None, limit: int = 100, offset: int = 0
    ) -> list[Channel]:
        """A page of the channels the caller may see, oldest first."""
        if not caller.is_superadmin:
            if tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can list their own tenant's channels only")
            tenant_id = caller.tenant_id
        return self.store.list_channels(tenant_id=tenant_id, limit=limit, offset=offset)

    def update(self, channel_id: UUID, changes: dict[str, Any], caller: Principal) -> Channel:
        """Apply `changes` (name, url, events, job_ids), checked as a whole with the rest."""
        channel = self.get(channel_id, caller)
        errors: Errors = [
            (name, "is not a channel field")
            for name in sorted(set(changes) - {*CHANGEABLE, *FIXED})
        ]
        for name in FIXED:
            if name in changes and str(changes[name]) != str(_value(getattr(channel, name))):
                errors.append((name, "cannot change; create another channel instead"))
        current = {
            "name": channel.name,
            "url": channel.url,
            "events": channel.events,
            "job_ids": channel.job_ids,
            "muted_until": channel.muted_until,
        }
        merged = {**current, **{k: v for k, v in changes.items() if k in CHANGEABLE}}
        # Only what changes is checked against the world as it is now: a job it follows may
        # have been deleted since, or its host not resolve today, and the channel must still
        # be mutable (muting a broken channel is what one wants then).
        values = self._checked(merged, channel.kind, channel.tenant_id, errors, only=changes)
        values = {key: value for key, value in values.items() if key in changes}
        values["updated_at"] = self.clock.now()
        updated = self.store.update_channel(channel_id, values, tenant_id=_scope(caller))
        if updated is None:
            raise ChannelNotFound(channel_id)
        return updated

    def delete(self, channel_id: UUID, caller: Principal) -> None:
        """Delete the channel, with its notifications (pending ones are not sent)."""
        self.get(channel_id, caller)
        if not self.store.delete_channel(channel_id, tenant_id=_scope(caller)):
            raise ChannelNotFound(channel_id)

    def rotate_secret(self, channel_id: UUID, caller: Principal) -> NewSecret:
        """A new signing secret, returned once; the previous one keeps signing (both
        signatures are sent) for ROTATION_GRACE, so receivers can switch without a gap."""
        channel = self.get(channel_id, caller)
        if channel.kind is not ChannelKind.WEBHOOK:
            raise InvalidChannel([("kind", f"a {channel.kind.value} channel has no secret")])
        secret = new_secret()
        now = self.clock.now()
        values = {
            "secret": self.box.seal(secret),
            "previous_secret": channel.sealed_secret,
            "previous_secret_until": now + ROTATION_GRACE,
            "updated_at": now,
        }
        updated = self.store.update_channel(channel_id, values, tenant_id=_scope(caller))
        if updated is None:
            raise ChannelNotFound(channel_id)
        return NewSecret(updated, secret)

    def test(self, channel_id: UUID, caller: Principal) -> Attempt:
        """Send the channel a test message now and say how it went (kept in its deliveries)."""
        return self.deliverer.send_test(self.get(channel_id, caller))

    def deliveries(
        self, channel_id: UUID, caller: Principal, *, limit: int = 50, offset: int = 0
    ) -> list[Delivery]:
        """A page of the channel's delivery attempts, newest first."""
        self.get(channel_id, caller)
        return self.store.list_deliveries(channel_id, limit=limit, offset=offset)

    def _tenant_for(self, tenant_id: Any, caller: Principal) -> UUID | None:
        if caller.is_superadmin:
            return UUID(str(tenant_id)) if tenant_id is not None else None
        if tenant_id is not None and str(tenant_id) != str(caller.tenant_id):
            raise PermissionDenied("an admin can create channels for their own tenant only")
        return caller.tenant_id

    def _checked(
        self,
        fields: dict[str, Any],
        kind: ChannelKind | None,
        tenant_id: UUID | None,
        errors: Errors,
        only: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Column values of the fields, after every check; InvalidChannel lists what fails
        (with `only`, what fails in those fields: the others were checked when stored)."""
        if tenant_id is not None and self.store.tenant_name(tenant_id) is None:
            errors.append(("tenant_id", f"no tenant with id {tenant_id}"))
        values = {
            "name": check_name(fields.get("name"), errors),
            "url": check_url(fields.get("url"), kind, errors),
            "events": check_events(
                DEFAULT_EVENTS if fields.get("events") is None else fields["events"], errors
            ),
            "job_ids": check_job_ids(fields.get("job_ids"), errors),
            "muted_until": check_muted_until(fields.get("muted_until"), errors),
        }
        if only is not None:
            errors[:] = [(field, why) for field, why in errors if field.split(".")[0] in only]
        if (
            kind in HTTP_KINDS
            and (only is None or "url" in only)
            and not any(field == "url" for field, _ in errors)
        ):
            try:  # the same check as at every delivery, after resolving the name
                check_destination(values["url"], allow_private=self.allow_private)
            except RefusedDestination as exc:
                errors.append(("url", str(exc)))
        following = values["job_ids"] if only is None or "job_ids" in only else None
        for position, job_id in enumerate(following or []):
            job = self.store.get_job(job_id)
            if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
                where = "of this channel's tenant" if tenant_id else ""
                errors.append((f"job_ids.{position}", f"no job with id {job_id} {where}".strip()))
        if errors:
            raise InvalidChannel(errors)
        values["events"] = [str(event) for event in values["events"]]
        return values


def _scope(caller: Principal) -> UUID | None:
    return None if caller.is_superadmin else caller.tenant_id


def _value(value: Any) -> Any:
    return value.value if isinstance(value, ChannelKind) else value
