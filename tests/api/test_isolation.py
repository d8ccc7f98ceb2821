"""Tenant isolation: every kind of caller against every endpoint, over HTTP, on both backends.

The rules (issue 3): a superadmin sees and manages every job, global ones included. An admin
sees and manages their own tenant's jobs only: another tenant's job, or a global one, answers
404 exactly as an unknown id does, and a tenant_id in their request that is not their own
answers 403. `user` gets 403 everywhere; no token, an unknown, revoked or forged token, or an
expired JWT gets 401 with `WWW-Authenticate: Bearer`. Nothing changes on a refused request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from cronbase.auth import Role, hash_token, new_token
from cronbase.jobs import Job, Run
from cronbase.listing import JobQuery
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants, make_jwt, serving

OK = 200  # 201 for a create

# What each caller gets from the collection endpoints (list, create, run, functions, preview)
# and from each job endpoint (read, run history, update, audit log, delete) on three jobs: tenant A's,
# tenant B's and a global one.
# fmt: off
MATRIX: dict[str, tuple[int, int, int, int]] = {
    #                 collection  job of A  job of B  global job
    "superadmin":    (OK,         OK,       OK,       OK),
    "admin_a":       (OK,         OK,       404,      404),
    "jwt_admin_a":   (OK,         OK,       404,      404),
    "admin_b":       (OK,         404,      OK,       404),
    "user":          (403,        403,      403,      403),
    "anonymous":     (401,        401,      401,      401),
    "bad_token":     (401,        401,      401,      401),
    "expired_jwt":   (401,        401,      401,      401),
    "forged_jwt":    (401,        401,      401,      401),
    "revoked_token": (401,        401,      401,      401),
}
# fmt: on
TARGETS = ("a", "b", "global")

NEW_JOB = {"name": "Made in the matrix", "schedule": "hourly", "function_name": "echo"}
PREVIEW = {"schedule": "daily", "timezone": "UTC", "count": 2}
COLLECTION_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/cron/jobs", None),
    ("POST", "/api/cron/jobs", NEW_JOB),
    ("POST", "/api/cron/run", None),
    ("GET", "/api/cron/functions", None),
    ("POST", "/api/cron/schedules/preview", PREVIEW),
]
JOB_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/cron/jobs/{id}", None),
    ("GET", "/api/cron/jobs/{id}/runs", None),
    ("PUT", "/api/cron/jobs/{id}", {"name": "Renamed in the matrix"}),
    ("GET", "/api/cron/jobs/{id}/audit", None),
    ("DELETE", "/api/cron/jobs/{id}", None),  # last: it changes what the others would see
]
# Who each caller is in the audit log.
ACTORS = {
    "superadmin": "root@x.test",
    "admin_a": "admin@a.test",
    "jwt_admin_a": "jwt@a.test",
    "admin_b": "admin@b.test",
}


@pytest.fixture
def everyone(
    callers: Callers, base_url: str, store: SqlStore, tenants: Tenants
) -> Iterator[dict[str, httpx.Client]]:
    """The conftest's callers, plus a JWT with a bad signature and a revoked API token."""
    forged = make_jwt(
        {
            "sub": "mallory@a.test",
            "role": "superadmin",
            "exp": datetime.now(UTC) + timedelta(hours=1),
        },
        secret="not-the-secret-" + "y" * 32,
    )
    revoked = new_token()
    tokens = TokenStore(store.engine)
    info = tokens.add("gone@a.test", Role.ADMIN, tenants.a, hash_token(revoked))
    assert tokens.revoke(info.id, datetime.now(UTC))
    extra = {
        name: httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        for name, token in {"forged_jwt": forged, "revoked_token": revoked}.items()
    }
    yield {**callers.__dict__, **extra}
    for client in extra.values():
        client.close()


@pytest.fixture
def jobs(callers: Callers, clock: FakeClock, tenants: Tenants) -> dict[str, str]:
    """A job of tenant A, one of tenant B and a global one (all made by the superadmin), each
    run once, so each has a run history. Nothing is due afterwards."""
    ids = {}
    for target, tenant in {"a": tenants.a, "b": tenants.b, "global": None}.items():
        body = {
            "name": f"Job of {target}",
            "schedule": "every_5_minutes",
            "function_name": "echo",
            "tenant_id": str(tenant) if tenant else None,
        }
        response = callers.superadmin.post("/api/cron/jobs", json=body)
        assert response.status_code == 201, response.text
        ids[target] = response.json()["data"]["job"]["id"]
    clock.advance(timedelta(minutes=5))
    summary = callers.superadmin.post("/api/cron/run").json()["data"]["summary"]
    assert summary == {"total": 3, "executed": 3, "skipped": 0, "failed": 0}
    return ids


def _tenant_of(caller: str, tenants: Tenants) -> uuid.UUID | None:
    return {"admin_a": tenants.a, "jwt_admin_a": tenants.a, "admin_b": tenants.b}.get(caller)


def _snapshot(store: SqlStore) -> dict[uuid.UUID, tuple[Job, list[Run]]]:
    return {job.id: (job, store.list_runs(job.id)) for job in store.list_jobs(JobQuery(limit=500))}


def _envelope_problem(response: httpx.Response, expected: int) -> str | None:
    """What is wrong with the answer's status, envelope or headers, if anything."""
    body = response.json()
    if response.status_code != expected:
        return f"expected {expected}, got {response.status_code}: {body}"
    if expected < 400:
        return None if body.get("status") == "success" and "data" in body else f"{body}"
    if set(body) != {"status", "message", "errors"} or body["status"] != "error":
        return f"not the error envelope: {body}"
    if not body["message"] or not isinstance(body["errors"], list):
        return f"an empty message or no errors list: {body}"
    if expected == 401 and response.headers.get("www-authenticate") != "Bearer":
        return f"401 without WWW-Authenticate: Bearer ({dict(response.headers)})"
    return None


def _content_problem(
    response: httpx.Response,
    method: str,
    path: str,
    caller: str,
    visible: set[str],
    jobs: dict[str, str],
    tenants: Tenants,
) -> str | None:
    """For a success, whether it shows just what the caller may see."""
    data = response.json()["data"]
    if (method, path) == ("GET", "/api/cron/jobs"):
        listed = {job["id"] for job in data["jobs"]}
        if listed != {jobs[target] for target in visible}:
            return f"lists {listed}, may see {visible}"
    if (method, path) == ("POST", "/api/cron/jobs"):
        tenant = _tenant_of(caller, tenants)
        if data["job"]["tenant_id"] != (str(tenant) if tenant else None):
            return f"created for tenant {data['job']['tenant_id']}, the caller's is {tenant}"
    if (method, path) == ("POST", "/api/cron/run") and data["summary"]["total"] != 0:
        return f"nothing was due, yet: {data}"
    if path.endswith("/runs") and [run["job_id"] for run in data["runs"]] != [path.split("/")[4]]:
        return f"the history of another job: {data}"
    if path.endswith("/audit"):
        told = [(e["job_id"], e["action"], e["actor"]) for e in data["entries"]]
        job_id = path.split("/")[4]
        if told != [(job_id, "updated", ACTORS[caller]), (job_id, "created", "root@x.test")]:
            return f"not the job's rename and creation: {told}"
    return None


@pytest.mark.parametrize("caller", list(MATRIX))
def test_every_caller_against_every_endpoint(
    caller: str,
    everyone: dict[str, httpx.Client],
    jobs: dict[str, str],
    tenants: Tenants,
    store: SqlStore,
) -> None:
    client: httpx.Client = everyone[caller]
    collection, *per_target = MATRIX[caller]
    visible = {target for target, code in zip(TARGETS, per_target, strict=True) if code == OK}
    # What an unknown id looks like to this caller, to compare invisible jobs with.
    ghost_id = str(uuid.uuid4())
    ghost = client.get(f"/api/cron/jobs/{ghost_id}")
    before = _snapshot(store)

    calls = [(path, method, path, body, collection) for method, path, body in COLLECTION_ENDPOINTS]
    for target, code in zip(TARGETS, per_target, strict=True):
        calls += [
            (path.format(id=f"<job of {target}>"), method, path.format(id=jobs[target]), body, code)
            for method, path, body in JOB_ENDPOINTS
        ]
    problems = []
    for label, method, path, body, code in calls:
        expected = 201 if code == OK and (method, path) == ("POST", "/api/cron/jobs") else code
        response = client.request(method, path, json=body)
        problem = _envelope_problem(response, expected)
        if problem is None and expected < 400:
            problem = _content_problem(response, method, path, caller, visible, jobs, tenants)
        if problem is None and expected == 404:
            # Indistinguishable from a job that does not exist.
            job_id = path.split("/")[4]
            if response.json() != {
                **ghost.json(),
                "message": ghost.json()["message"].replace(ghost_id, job_id),
            }:
                problem = f"{response.json()} differs from the unknown id's {ghost.json()}"
        if problem:
            problems.append(f"{method} {label}: {problem}")
    assert problems == [], f"{caller}:\n" + "\n".join(problems)

    # Visible jobs were renamed, then deleted; every other job, and its history, is untouched.
    after = _snapshot(store)
    for target in TARGETS:
        job_id = uuid.UUID(jobs[target])
        if target in visible:
            assert job_id not in after, (caller, target)
        else:
            assert after[job_id] == before[job_id], (caller, target)
    # The deleted jobs' audit logs outlive them, for those who could see them; to the others,
    # a deleted job's log is as unknown as a job that never was.
    for target, code in zip(TARGETS, per_target, strict=True):
        response = client.get(f"/api/cron/jobs/{jobs[target]}/audit")
        if target in visible:
            assert response.status_code == 200, (caller, target, response.text)
            [deleted, *_] = response.json()["data"]["entries"]
            assert (deleted["action"], deleted["actor"]) == ("deleted", ACTORS[caller])
            assert deleted["detail"] == {"name": "Renamed in the matrix"}
        else:
            assert _envelope_problem(response, code) is None, (caller, target, response.text)
    created = [after[job_id][0] for job_id in after.keys() - before.keys()]
    if collection == OK:
        [job] = created
        assert (job.name, job.tenant_id) == (NEW_JOB["name"], _tenant_of(caller, tenants))
    else:
        assert created == []


def test_run_summary_shows_an_admin_only_their_tenants_jobs(
    callers: Callers, clock: FakeClock, tenants: Tenants
) -> None:
    root = callers.superadmin
    ids = {}
    for target, tenant, function in [
        ("a", tenants.a, "echo"),
        ("b", tenants.b, "boom"),
        ("global", None, "echo"),
    ]:
        body = {
            "name": f"Job of {target}",
            "schedule": "every_5_minutes",
            "function_name": function,
            "tenant_id": str(tenant) if tenant else None,
        }
        ids[target] = root.post("/api/cron/jobs", json=body).json()["data"]["job"]["id"]
    clock.advance(timedelta(minutes=5))

    ran = callers.admin_a.post("/api/cron/run")
    assert ran.status_code == 200, ran.text
    data = ran.json()["data"]
    assert data["summary"] == {"total": 1, "executed": 1, "skipped": 0, "failed": 0}
    assert [job["id"] for job in data["executed"]] == [ids["a"]]
    assert data["failed"] == []

    # All three ran all the same, as their histories show the superadmin.
    statuses = {
        target: [
            run["status"]
            for run in root.get(f"/api/cron/jobs/{job_id}/runs").json()["data"]["runs"]
        ]
        for target, job_id in ids.items()
    }
    assert statuses == {"a": ["succeeded"], "b": ["failed"], "global": ["succeeded"]}
    # ... so there is nothing left for admin B's call: B's failure was in nobody's summary.
    nothing = callers.admin_b.post("/api/cron/run").json()["data"]
    assert nothing == {
        "summary": {"total": 0, "executed": 0, "skipped": 0, "failed": 0},
        "executed": [],
        "failed": [],
    }

    # Next round, admin B's summary has B's failure and nothing else; the superadmin's call
    # the round after that counts everything.
    clock.advance(timedelta(minutes=5))
    data = callers.admin_b.post("/api/cron/run").json()["data"]
    assert data["summary"] == {"total": 1, "executed": 0, "skipped": 0, "failed": 1}
    assert [(job["id"], job["error"]) for job in data["failed"]] == [
        (ids["b"], "RuntimeError: boom")
    ]
    clock.advance(timedelta(minutes=5))
    data = root.post("/api/cron/run").json()["data"]
    assert data["summary"] == {"total": 3, "executed": 2, "skipped": 0, "failed": 1}
    assert {job["id"] for job in data["executed"]} == {ids["a"], ids["global"]}


def test_a_tenant_id_that_is_not_the_admins_own_is_403_and_changes_nothing(
    callers: Callers, jobs: dict[str, str], tenants: Tenants, store: SqlStore
) -> None:
    admin = callers.admin_a
    job_a = f"/api/cron/jobs/{jobs['a']}"
    before = _snapshot(store)
    nowhere = str(uuid.uuid4())  # no such tenant: 403 all the same, which reveals nothing
    refused = [
        admin.get("/api/cron/jobs", params={"tenant_id": str(tenants.b)}),
        admin.get("/api/cron/jobs", params={"tenant_id": nowhere}),
        admin.post("/api/cron/jobs", json={**NEW_JOB, "tenant_id": str(tenants.b)}),
        admin.post("/api/cron/jobs", json={**NEW_JOB, "tenant_id": nowhere}),
        admin.put(job_a, json={"tenant_id": str(tenants.b)}),
        admin.put(job_a, json={"tenant_id": None}),  # making it global
        admin.put(job_a, json={"tenant_id": str(tenants.b), "name": "Moved"}),
    ]
    for response in refused:
        assert _envelope_problem(response, 403) is None, (response.request.url, response.text)
    # Another tenant's job is invisible first: 404, not 403, even when moving it to A.
    stolen = admin.put(f"/api/cron/jobs/{jobs['b']}", json={"tenant_id": str(tenants.a)})
    assert _envelope_problem(stolen, 404) is None, stolen.text
    assert _snapshot(store) == before

    # Their own tenant, named or left out, is fine.
    own = admin.get("/api/cron/jobs", params={"tenant_id": str(tenants.a)}).json()["data"]
    assert [job["id"] for job in own["jobs"]] == [jobs["a"]]
    named = admin.post("/api/cron/jobs", json={**NEW_JOB, "tenant_id": str(tenants.a)})
    assert named.status_code == 201, named.text
    assert named.json()["data"]["job"]["tenant_id"] == str(tenants.a)
    kept = admin.put(job_a, json={"tenant_id": str(tenants.a), "name": "Still A's"})
    assert kept.status_code == 200, kept.text
    assert kept.json()["data"]["job"]["tenant_id"] == str(tenants.a)

    # The superadmin may move a job between tenants; then it changes hands.
    moved = callers.superadmin.put(job_a, json={"tenant_id": str(tenants.b)})
    assert moved.status_code == 200, moved.text
    assert callers.admin_a.get(job_a).status_code == 404
    assert callers.admin_b.get(job_a).status_code == 200


def test_admin_b_never_lists_tenant_a_jobs(
    callers: Callers, tenants: Tenants, store: SqlStore
) -> None:
    made: dict[str | None, set[str]] = {}
    for tenant, count in [(tenants.a, 7), (tenants.b, 3), (None, 2)]:
        key = str(tenant) if tenant else None
        for n in range(count):
            body = {**NEW_JOB, "name": f"job {n}", "tenant_id": key, "is_active": n % 2 == 0}
            response = callers.superadmin.post("/api/cron/jobs", json=body)
            made.setdefault(key, set()).add(response.json()["data"]["job"]["id"])

    def pages(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
        seen, offset = [], 0
        while offset is not None:
            response = client.get("/api/cron/jobs", params={**params, "limit": 2, "offset": offset})
            assert response.status_code == 200, response.text
            seen += response.json()["data"]["jobs"]
            offset = response.json()["data"]["pagination"]["next_offset"]
        return seen

    for client, tenant in [
        (callers.admin_b, tenants.b),
        (callers.admin_a, tenants.a),
        (callers.jwt_admin_a, tenants.a),
    ]:
        everything = pages(client)
        assert {job["id"] for job in everything} == made[str(tenant)]
        for is_active in ("true", "false"):
            some = pages(client, is_active=is_active)
            assert {job["tenant_id"] for job in some} == {str(tenant)}
            assert {job["is_active"] for job in some} == {is_active == "true"}
    for tenant in (tenants.a, tenants.b):
        listed = pages(callers.superadmin, tenant_id=str(tenant))
        assert {job["id"] for job in listed} == made[str(tenant)]
    assert {job["id"] for job in pages(callers.superadmin)} == set().union(*made.values())
    assert len(store.list_jobs(JobQuery(limit=500))) == 12


def test_a_token_revoked_mid_session_is_refused_from_the_next_request_without_the_cache(
    store: SqlStore, clock: FakeClock, registry: JobRegistry, tenants: Tenants
) -> None:
    # Revoked by another process (as `cronbase token revoke` is); with the cache on, the
    # refusal comes within CRONBASE_TOKEN_CACHE_SECONDS (test_token_cache.py).
    token = new_token()
    tokens = TokenStore(store.engine)
    info = tokens.add("leaving@a.test", Role.ADMIN, tenants.a, hash_token(token))
    with (
        serving(store, clock, registry, token_cache_seconds=0) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        assert client.get("/api/cron/jobs").status_code == 200
        tokens.revoke(info.id, datetime.now(UTC))
        refused = client.get("/api/cron/jobs")
    assert _envelope_problem(refused, 401) is None, refused.text


def _claims(**claims: Any) -> dict[str, Any]:
    return {"sub": "host@a.test", "exp": datetime.now(UTC) + timedelta(hours=1), **claims}


def test_every_malformed_or_unfit_credential_is_refused(base_url: str, tenants: Tenants) -> None:
    a = str(tenants.a)
    unsigned = make_jwt(_claims(role="superadmin")).rsplit(".", 1)[0] + "."
    alg_none = jwt.encode(_claims(role="superadmin"), None, algorithm="none")
    cases: list[tuple[str, str | None, int]] = [
        ("Basic credentials", "Basic dXNlcjpwYXNz", 401),
        ("a bearer without a token", "Bearer", 401),
        ("a bare token without the scheme", "cb_whatever", 401),
        ("a JWT without its signature", f"Bearer {unsigned}", 401),
        ("a JWT with alg none", f"Bearer {alg_none}", 401),
        ("a JWT without exp", f"Bearer {make_jwt({'role': 'admin', 'tenant_id': a})}", 401),
        ("a JWT without role", f"Bearer {make_jwt(_claims(tenant_id=a))}", 401),
        ("a JWT with an unknown role", f"Bearer {make_jwt(_claims(role='root'))}", 401),
        ("an admin JWT without tenant", f"Bearer {make_jwt(_claims(role='admin'))}", 401),
        (
            "a superadmin JWT with a tenant",
            f"Bearer {make_jwt(_claims(role='superadmin', tenant_id=a))}",
            401,
        ),
        (
            "a JWT with a malformed tenant",
            f"Bearer {make_jwt(_claims(role='admin', tenant_id='A'))}",
            401,
        ),
        ("a user JWT", f"Bearer {make_jwt(_claims(role='user', tenant_id=a))}", 403),
        ("a superadmin JWT", f"Bearer {make_jwt(_claims(role='superadmin'))}", 200),
    ]
    problems = []
    with httpx.Client(base_url=base_url) as client:
        for label, authorization, expected in cases:
            headers = {"Authorization": authorization} if authorization else {}
            response = client.get("/api/cron/jobs", headers=headers)
            problem = _envelope_problem(response, expected)
            if problem:
                problems.append(f"{label}: {problem}")
    assert problems == []


@pytest.mark.parametrize(
    ("label", "exp", "expected"),
    [
        ("exp 10^30, a token that would never expire", 10**30, 401),
        ("exp 25 hours away, past the default 24-hour cap", timedelta(hours=25), 401),
        ("exp 23 hours away, within the cap", timedelta(hours=23), 200),
    ],
)
def test_a_jwt_that_lives_longer_than_the_cap_is_refused_with_the_reason(
    base_url: str, label: str, exp: int | timedelta, expected: int
) -> None:
    when = datetime.now(UTC) + exp if isinstance(exp, timedelta) else exp
    token = make_jwt({"sub": "host@x.test", "role": "superadmin", "exp": when})
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.get("/api/cron/jobs")
    assert _envelope_problem(response, expected) is None, f"{label}: {response.text}"
    if expected == 401:
        assert "CRONBASE_JWT_MAX_TTL_SECONDS" in response.json()["message"]
