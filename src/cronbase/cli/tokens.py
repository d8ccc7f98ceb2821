"""`cronbase token create|revoke|list`: API tokens, kept as hashes (a token is shown once)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import UTC, datetime

from cronbase.auth import Role
from cronbase.cli.common import (
    Commands,
    add_json_flag,
    duration_arg,
    manager,
    print_json,
    uuid_arg,
)
from cronbase.errors import ConfigurationError, InvalidFields
from cronbase.jobs import isoformat
from cronbase.token_operations import TokenInfo


def register(commands: Commands) -> None:
    tokens = commands.group("token", "API tokens")
    create = commands.add(
        "create", cmd_token_create, "create an API token and print it (once)", tokens
    )
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--tenant-id", type=uuid_arg, help="required for user and admin")
    create.add_argument(
        "--expires-in",
        type=duration_arg,
        help="stop working this long from now, e.g. 90d, 12h, 30m or 2w (default: never)",
    )
    revoke = commands.add("revoke", cmd_token_revoke, "revoke an API token", tokens)
    revoke.add_argument("token_id", type=uuid_arg)
    add_json_flag(
        commands.add(
            "list", cmd_token_list, "list API tokens (never the tokens themselves)", tokens
        )
    )


def cmd_token_create(args: argparse.Namespace) -> None:
    role = Role(args.role)
    try:
        token, info = manager().create_token(args.email, role, args.tenant_id, args.expires_in)
    except InvalidFields as exc:
        raise ConfigurationError(f"--{exc.errors[0][0]}: {exc.errors[0][1]}") from exc
    except ValueError as exc:  # the tenant does not fit the role, or does not exist
        raise ConfigurationError(f"--tenant-id: {exc}") from exc
    print(token)
    until = f", expires {isoformat(info.expires_at)}" if info.expires_at else ""
    print(
        f"token {info.id} for {info.email} ({role.value}{until}); it is shown only once",
        file=sys.stderr,
    )


def cmd_token_revoke(args: argparse.Namespace) -> None:
    if not manager().revoke_token(args.token_id):
        raise ConfigurationError(
            f"no live token with id {args.token_id} (see `cronbase token list`)"
        )
    print(f"revoked token {args.token_id}")


def cmd_token_list(args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    tokens = manager().list_tokens()
    if args.json:
        print_json({"tokens": [{**asdict(info), "state": info.state(now)} for info in tokens]})
        return
    for info in tokens:
        print(
            f"{info.id}  {info.role.value:10}  {info.tenant_id or '-'!s:36}  "
            f"{_state(info, now):8}  {info.email}"
        )


def _state(info: TokenInfo, now: datetime) -> str:
    state = info.state(now)
    if state == "revoked":
        return f"revoked {isoformat(info.revoked_at)}"
    if state == "expired":
        return f"expired {isoformat(info.expires_at)}"
    return f"live until {isoformat(info.expires_at)}" if info.expires_at else "live"
