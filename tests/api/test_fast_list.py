"""GET /api/cron/jobs is mostly answered by api/fast_list.py, past FastAPI's dependencies and
parameter validation. Whatever the request, its answer must be the route's: the same status,
body and headers with the fast path on and off, for every caller (each role, a tenant's
admin, a JWT, a bad or no token) and for query strings it takes and those it leaves to the
route (values spelled otherwise, empty, repeated, unknown, out of range, a bad cursor)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cronbase.api.fast_list import FastJobList
from cronbase.store import SqlStore
from tests.api.conftest import Callers, Tenants
from tests.api.test_job_list_json import listed  # noqa: F401 - the jobs of every kind

# Answered by the fast path (for an admin or a superadmin with an API token).
TAKEN = [
    "",
    "limit=4",
    "limit=500",
    "offset=0",
    "sort=name&limit=5",
    "sort=-next_run&limit=3",
    "sort=last_run&limit=4",
    "sort=-last_run&offset=2&limit=6",
    "has_tenant=true&q=JOB%201",
    "has_tenant=false&sort=-name&limit=2",
    "is_active=false",
    "last_status=failed",
    "function_name=echo&sort=-last_run&limit=4",
    "q=%C3%A9t%25_",
    "tenant_id={a}",  # for an admin of tenant B, left to the route (403)
]
# Left to the route (each answered as it answers it: a 422, or a 200 read there).
LEFT = [
    "limit=0",
    "limit=501",
    "limit=+5",
    "limit=05",
    "limit=abc",
    "limit=",
    "offset=-1",
    "offset=2147483648",
    "limit=2&limit=3",
    "is_active=yes",
    "is_active=True",
    "is_active=1",
    "has_tenant=false&tenant_id={a}",
    "tenant_id={a_hex}",
    "tenant_id=not-a-uuid",
    "last_status=nope",
    "sort=bogus",
    "sort=name&offset=2&cursor=x",
    "cursor=not-a-cursor",
    "q=" + "x" * 201,
    "q=a%00b",
    "function_name=",
    "tenant=x",
    "sort=name&unknown=1",
]


def _answers(callers: Callers, tenants: Tenants) -> list[tuple[Any, ...]]:
    answers = []
    for query in TAKEN + LEFT:
        query = query.format(a=tenants.a, a_hex=tenants.a.hex)
        for name in ("superadmin", "admin_a", "admin_b", "user", "anonymous", "bad_token"):
            client: httpx.Client = getattr(callers, name)
            got = client.get(f"/api/cron/jobs?{query}")
            headers = {k: v for k, v in got.headers.items() if k != "date"}
            answers.append((name, query, got.status_code, got.content, headers))
        jwt = callers.jwt_admin_a.get(f"/api/cron/jobs?{query}")
        answers.append(("jwt", query, jwt.status_code, jwt.content))
    return answers


@pytest.mark.usefixtures("listed")
def test_the_fast_path_answers_as_the_route(
    callers: Callers, tenants: Tenants, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[str] = []
    answer = FastJobList._answer

    async def counted(self: FastJobList, scope: dict[str, Any]) -> Any:
        response = await answer(self, scope)
        if response is not None:
            answered.append(scope["query_string"].decode())
        return response

    monkeypatch.setattr(FastJobList, "_answer", counted)
    for client in (callers.superadmin, callers.admin_a, callers.admin_b):
        client.get("/api/cron/jobs?limit=1")  # the token remembered (read by the route)
    answered.clear()
    fast = _answers(callers, tenants)
    monkeypatch.setattr(FastJobList, "enabled", False)
    assert _answers(callers, tenants) == fast
    if store.dialect == "postgresql":
        assert set(answered) == {q.format(a=tenants.a) for q in TAKEN}
    else:  # no token is remembered without LISTEN (token_cache.py): the route reads its row
        assert answered == []
    statuses = {(name, query): status for name, query, status, *_ in fast}
    assert statuses[("superadmin", "")] == 200
    assert statuses[("admin_a", "limit=4")] == 200
    assert statuses[("superadmin", "limit=0")] == 422
    assert statuses[("anonymous", "")] == 401
    assert statuses[("user", "")] == 403
