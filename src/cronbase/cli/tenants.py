"""`cronbase tenant add|list`."""

from __future__ import annotations

import argparse

from cronbase.cli.common import Commands, manager
from cronbase.manager import SYSTEM


def register(commands: Commands) -> None:
    tenant = commands.group("tenant", "tenants")
    add = commands.add("add", cmd_tenant_add, "create a tenant and print its id", tenant)
    add.add_argument("name")
    commands.add("list", cmd_tenant_list, "list tenants", tenant)


def cmd_tenant_add(args: argparse.Namespace) -> None:
    print(manager().create_tenant(args.name))


def cmd_tenant_list(_args: argparse.Namespace) -> None:
    for tenant_id, name in manager().list_tenants(SYSTEM):
        print(f"{tenant_id}  {name}")
