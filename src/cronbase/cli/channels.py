"""`cronbase channels add|list|update|delete|test|rotate-secret|deliveries`: where alerts go.
A webhook's signing secret is printed once, when the channel is made (or its secret rotated)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from cronbase.cli.common import (
    Commands,
    add_json_flag,
    duration_arg,
    instant_arg,
    int_between,
    manager,
    print_json,
    uuid_arg,
)
from cronbase.jobs import isoformat
from cronbase.manager import SYSTEM
from cronbase.notify.events import SUBSCRIBABLE
from cronbase.notify.manager import NewSecret
from cronbase.notify.model import Channel, ChannelKind


def register(commands: Commands) -> None:
    channels = commands.group("channels", "notification channels: where alerts go")
    adding = commands.add(
        "add", cmd_channels_add, "create a channel; prints its secret once", channels
    )
    adding.add_argument("--name", required=True)
    adding.add_argument("--kind", default="webhook", choices=[kind.value for kind in ChannelKind])
    adding.add_argument("--url", required=True, help="the endpoint's URL, or the email address")
    _add_events(adding, "default: all but run.succeeded")
    _add_job_ids(adding, "default: every job")
    adding.add_argument("--tenant-id", type=uuid_arg, help="default: a global channel")
    _register_update(commands, channels)

    listing = commands.add("list", cmd_channels_list, "list channels", channels)
    listing.add_argument("--tenant-id", type=uuid_arg)
    listing.add_argument("--limit", type=int_between(1, 500), default=100)
    listing.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    add_json_flag(listing)

    deliveries = commands.add(
        "deliveries",
        cmd_channels_deliveries,
        "a channel's delivery attempts, newest first",
        channels,
    )
    deliveries.add_argument("channel_id", type=uuid_arg)
    deliveries.add_argument("--limit", type=int_between(1, 500), default=50)
    deliveries.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    add_json_flag(deliveries)

    for name, handler, help_ in (
        ("delete", cmd_channels_delete, "delete a channel and its notifications"),
        ("test", cmd_channels_test, "send a channel a test message now"),
        ("rotate-secret", cmd_channels_rotate, "replace a webhook's secret (old one valid 24 h)"),
    ):
        commands.add(name, handler, help_, channels).add_argument("channel_id", type=uuid_arg)


def _register_update(commands: Commands, channels: object) -> None:
    updating = commands.add(
        "update", cmd_channels_update, "change a channel's given fields; prints it", channels
    )
    updating.add_argument("channel_id", type=uuid_arg)
    updating.add_argument("--name")
    updating.add_argument("--url", help="the endpoint's URL, or the email address")
    _add_events(updating, "replaces the list")
    jobs = updating.add_mutually_exclusive_group()
    _add_job_ids(jobs, "replaces the list")
    jobs.add_argument(
        "--all-jobs", action="store_true", help="every job's events again (no job list)"
    )
    mute = updating.add_mutually_exclusive_group()
    mute.add_argument(
        "--mute-until",
        type=instant_arg,
        metavar="T",
        help="send it nothing before this instant, e.g. 2026-12-01T08:00:00Z",
    )
    mute.add_argument(
        "--mute-for", type=duration_arg, metavar="DURATION", help="send it nothing for 8h, 2d, ..."
    )
    mute.add_argument("--unmute", action="store_true", help="end its mute now")


def _add_events(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--events",
        type=_events_arg,
        help=f"comma-separated, of {', '.join(SUBSCRIBABLE)} ({default})",
    )


def _add_job_ids(
    parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup, what: str
) -> None:
    parser.add_argument(
        "--job-id",
        dest="job_ids",
        metavar="JOB_ID",
        action="append",
        type=uuid_arg,
        help=f"only this job's events (repeat for more; {what})",
    )


def _events_arg(value: str) -> list[str]:
    return [event.strip() for event in value.split(",") if event.strip()]


def cmd_channels_add(args: argparse.Namespace) -> None:
    fields = {"name": args.name, "kind": args.kind, "url": args.url, "tenant_id": args.tenant_id}
    if args.events is not None:
        fields["events"] = args.events
    if args.job_ids:
        fields["job_ids"] = args.job_ids
    _print_secret(manager().channels.create(fields, SYSTEM), "made")


def cmd_channels_rotate(args: argparse.Namespace) -> None:
    _print_secret(manager().channels.rotate_secret(args.channel_id, SYSTEM), "rotated")


def _print_secret(made: NewSecret, what: str) -> None:
    channel = made.channel
    if made.secret is None:
        print(channel.id)
        return
    print(made.secret)
    print(
        f"channel {channel.id} {what}; its signing secret, above, is shown only once",
        file=sys.stderr,
    )


def cmd_channels_list(args: argparse.Namespace) -> None:
    channels = manager().channels.list(
        SYSTEM, tenant_id=args.tenant_id, limit=args.limit, offset=args.offset
    )
    if args.json:
        print_json([channel.to_dict() for channel in channels])
        return
    print(f"{'ID':36}  {'KIND':8}  {'TENANT':36}  NAME  URL  [EVENTS; JOBS]")
    for channel in channels:
        print(_line(channel))


def _line(channel: Channel) -> str:
    """One channel on a line: id, kind, tenant, name, address, events, jobs, and its mute."""
    jobs = "every job" if channel.job_ids is None else f"{len(channel.job_ids)} job(s)"
    mute = channel.muted_until
    muted = f"; muted until {isoformat(mute)}" if mute and mute > datetime.now(UTC) else ""
    return (
        f"{channel.id}  {channel.kind.value:8}  {channel.tenant_id or 'global'!s:36}  "
        f"{channel.name}  {channel.url}  [{', '.join(channel.events)}; {jobs}{muted}]"
    )


def cmd_channels_update(args: argparse.Namespace) -> None:
    changes = {
        name: getattr(args, name)
        for name in ("name", "url", "events", "job_ids")
        if getattr(args, name) is not None
    }
    if args.all_jobs:
        changes["job_ids"] = None
    if args.unmute:
        changes["muted_until"] = None
    elif args.mute_until is not None:
        changes["muted_until"] = args.mute_until
    domain = manager()
    if args.mute_for is not None:
        changes["muted_until"] = domain.clock.now() + args.mute_for
    print(_line(domain.channels.update(args.channel_id, changes, SYSTEM)))


def cmd_channels_deliveries(args: argparse.Namespace) -> None:
    deliveries = manager().channels.deliveries(
        args.channel_id, SYSTEM, limit=args.limit, offset=args.offset
    )
    if args.json:
        print_json(deliveries)
        return
    print(
        f"{'ATTEMPTED AT':27}  {'EVENT':14}  {'ATTEMPT':9}  {'TOOK':>9}  {'STATUS':9}  "
        f"{'NOTIFICATION':36}  ANSWER"
    )
    for delivery in deliveries:
        answer = delivery.error or f"HTTP {delivery.status_code}"
        print(
            f"{isoformat(delivery.attempted_at):27}  {delivery.event:14}  "
            f"attempt {delivery.attempt:<2}  {delivery.duration_ms:>6} ms  "
            f"{delivery.notification_status.value:9}  {delivery.notification_id}  {answer}"
        )


def cmd_channels_delete(args: argparse.Namespace) -> None:
    manager().channels.delete(args.channel_id, SYSTEM)
    print(f"deleted channel {args.channel_id}")


def cmd_channels_test(args: argparse.Namespace) -> int:
    attempt = manager().channels.test(args.channel_id, SYSTEM)
    if attempt.delivered:
        print(f"delivered: HTTP {attempt.status_code} in {attempt.duration_ms} ms")
        return 0
    print(f"not delivered: {attempt.error}", file=sys.stderr)
    return 1
