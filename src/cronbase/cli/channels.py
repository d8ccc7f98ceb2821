"""`cronbase channels add|list|delete|test|rotate-secret`: where alerts go. A webhook's signing
secret is printed once, when the channel is made (or its secret rotated)."""

from __future__ import annotations

import argparse
import sys

from cronbase.cli.common import Commands, int_between, manager, print_json, uuid_arg
from cronbase.manager import SYSTEM
from cronbase.notify.events import SUBSCRIBABLE
from cronbase.notify.manager import NewSecret
from cronbase.notify.model import ChannelKind


def register(commands: Commands) -> None:
    channels = commands.group("channels", "notification channels: where alerts go")
    adding = commands.add(
        "add", cmd_channels_add, "create a channel; prints its secret once", channels
    )
    adding.add_argument("--name", required=True)
    adding.add_argument("--kind", default="webhook", choices=[kind.value for kind in ChannelKind])
    adding.add_argument("--url", required=True, help="the endpoint's URL, or the email address")
    adding.add_argument(
        "--events",
        type=_events_arg,
        help=f"comma-separated, of {', '.join(SUBSCRIBABLE)} (default: all but run.succeeded)",
    )
    adding.add_argument(
        "--job-id",
        dest="job_ids",
        metavar="JOB_ID",
        action="append",
        type=uuid_arg,
        help="only this job's events (repeat for more; default: every job)",
    )
    adding.add_argument("--tenant-id", type=uuid_arg, help="default: a global channel")

    listing = commands.add("list", cmd_channels_list, "list channels", channels)
    listing.add_argument("--tenant-id", type=uuid_arg)
    listing.add_argument("--limit", type=int_between(1, 500), default=100)
    listing.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    listing.add_argument("--json", action="store_true")

    for name, handler, help_ in (
        ("delete", cmd_channels_delete, "delete a channel and its notifications"),
        ("test", cmd_channels_test, "send a channel a test message now"),
        ("rotate-secret", cmd_channels_rotate, "replace a webhook's secret (old one valid 24 h)"),
    ):
        commands.add(name, handler, help_, channels).add_argument("channel_id", type=uuid_arg)


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
    for channel in channels:
        jobs = "every job" if channel.job_ids is None else f"{len(channel.job_ids)} job(s)"
        print(
            f"{channel.id}  {channel.kind.value:8}  {channel.tenant_id or 'global'!s:36}  "
            f"{channel.name}  {channel.url}  [{', '.join(channel.events)}; {jobs}]"
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
