"""`cronbase tenant add|list`."""

from __future__ import annotations

import argparse

from cronbase.cli.common import Commands, add_json_flag, manager, print_json
from cronbase.manager import SYSTEM


def register(commands: Commands) -> None:
    tenant = commands.group("tenant", "tenants")
    add = commands.add("add", cmd_tenant_add, "create a tenant and print its id", tenant)
    add.add_argument("name")
    add_json_flag(commands.add("list", cmd_tenant_list, "list tenants", tenant))


def cmd_tenant_add(args: argparse.Namespace) -> None:
    print(manager().create_tenant(args.name))


def cmd_tenant_list(args: argparse.Namespace) -> None:
    tenants = manager().list_tenants(SYSTEM)
    if args.json:
        print_json({"tenants": [{"id": tenant_id, "name": name} for tenant_id, name in tenants]})
        return
    for tenant_id, name in tenants:
        print(f"{tenant_id}  {name}")
