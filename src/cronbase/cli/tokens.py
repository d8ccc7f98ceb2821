"""`cronbase token create|revoke|list`: API tokens, kept as hashes (a token is shown once)."""

from __future__ import annotations

import argparse
import sys

from cronbase.auth import Role
from cronbase.cli.common import Commands, manager, uuid_arg
from cronbase.errors import ConfigurationError
from cronbase.jobs import isoformat


def register(commands: Commands) -> None:
    tokens = commands.group("token", "API tokens")
    create = commands.add(
        "create", cmd_token_create, "create an API token and print it (once)", tokens
    )
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--tenant-id", type=uuid_arg, help="required for user and admin")
    revoke = commands.add("revoke", cmd_token_revoke, "revoke an API token", tokens)
    revoke.add_argument("token_id", type=uuid_arg)
    commands.add("list", cmd_token_list, "list API tokens (never the tokens themselves)", tokens)


def cmd_token_create(args: argparse.Namespace) -> None:
    role = Role(args.role)
    try:
        token, info = manager().create_token(args.email, role, args.tenant_id)
    except ValueError as exc:  # the tenant does not fit the role, or does not exist
        raise ConfigurationError(f"--tenant-id: {exc}") from exc
    print(token)
    print(
        f"token {info.id} for {info.email} ({role.value}); it is shown only once", file=sys.stderr
    )


def cmd_token_revoke(args: argparse.Namespace) -> None:
    if not manager().revoke_token(args.token_id):
        raise ConfigurationError(
            f"no live token with id {args.token_id} (see `cronbase token list`)"
        )
    print(f"revoked token {args.token_id}")


def cmd_token_list(_args: argparse.Namespace) -> None:
    for info in manager().list_tokens():
        state = f"revoked {isoformat(info.revoked_at)}" if info.revoked_at else "live"
        print(
            f"{info.id}  {info.role.value:10}  {info.tenant_id or '-'!s:36}  {state:8}  {info.email}"
        )
