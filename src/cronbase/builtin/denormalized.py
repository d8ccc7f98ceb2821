"""syncDenormalizedFields' SQL: refresh the cached copies of names and counts.

`tenant_id=None` means every tenant (a global job). One set-based UPDATE per table and field,
writing only rows whose value differs, so a second run changes nothing.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from cronbase.builtin.tables import accounts, activities, contacts, of_tenant


def sync_contact_account_names(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set contacts.account_name to its account's name (NULL without an account); return the
    number of contacts changed."""
    in_tenant = of_tenant(contacts, tenant_id)
    from_account = (
        sa.update(contacts)
        .where(
            in_tenant,
            contacts.c.account_id == accounts.c.id,
            contacts.c.account_name.is_distinct_from(accounts.c.name),
        )
        .values(account_name=accounts.c.name)
    )
    without_account = (
        sa.update(contacts)
        .where(in_tenant, contacts.c.account_id.is_(None), contacts.c.account_name.is_not(None))
        .values(account_name=None)
    )
    return conn.execute(from_account).rowcount + conn.execute(without_account).rowcount


def sync_account_contact_counts(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set accounts.contact_count to the number of contacts with that account_id; return the
    number of accounts changed."""
    owner = accounts.alias("owner")  # the join only scopes the count to the tenant's accounts
    counts = (
        sa.select(contacts.c.account_id, sa.func.count().label("n"))
        .join(owner, owner.c.id == contacts.c.account_id)
        .where(of_tenant(owner, tenant_id))
        .group_by(contacts.c.account_id)
        .subquery("counts")
    )
    with_contacts = (
        sa.update(accounts)
        .where(accounts.c.id == counts.c.account_id, accounts.c.contact_count != counts.c.n)
        .values(contact_count=counts.c.n)
    )
    without_contacts = (
        sa.update(accounts)
        .where(
            of_tenant(accounts, tenant_id),
            accounts.c.contact_count != 0,
            ~sa.exists().where(contacts.c.account_id == accounts.c.id),
        )
        .values(contact_count=0)
    )
    return conn.execute(with_contacts).rowcount + conn.execute(without_contacts).rowcount


def sync_activity_related_names(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set activities.related_name from the account or contact it relates to; return the number
    of activities changed. Activities whose record no longer exists keep the name they have."""
    contact_name = sa.func.trim(contacts.c.first_name + " " + contacts.c.last_name)
    sources = [("account", accounts, accounts.c.name), ("contact", contacts, contact_name)]
    changed = 0
    for related_to, source, name in sources:
        update = (
            sa.update(activities)
            .where(
                of_tenant(activities, tenant_id),
                activities.c.related_to == related_to,
                activities.c.related_id == source.c.id,
                activities.c.related_name.is_distinct_from(name),
            )
            .values(related_name=name)
        )
        changed += conn.execute(update).rowcount
    return changed
