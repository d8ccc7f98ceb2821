"""HTTP details an attacker or a strict client notices: 405's Allow, redirects that do not echo
the Host header, 413 for a streamed body, and authentication before the body is looked at."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx

from tests.api.conftest import Callers


def test_every_405_names_the_methods_the_path_takes(callers: Callers) -> None:
    api = callers.superadmin
    some_job = f"/api/cron/jobs/{uuid.uuid4()}"
    expected = {
        ("DELETE", "/api/cron/jobs"): "GET, POST",
        ("PATCH", some_job): "GET, PUT, DELETE",
        ("GET", "/api/cron/run"): "POST",
        ("POST", "/healthz"): "GET",
        ("PUT", "/"): "GET, HEAD",
        ("POST", "/static/app.css"): "GET, HEAD",
    }
    for (method, path), allow in expected.items():
        response = api.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow, (method, path)
        assert response.json()["status"] == "error"


def test_trailing_slash_redirect_is_relative_whatever_the_host_header(callers: Callers) -> None:
    api = callers.superadmin
    response = api.get(
        "/api/cron/jobs/?limit=5", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/api/cron/jobs?limit=5"
    followed = api.get("/api/cron/jobs/?limit=5", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["data"]["pagination"]["limit"] == 5


def _chunks(total: int, size: int = 64_000) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_a_streamed_body_over_the_limit_gets_413(callers: Callers) -> None:
    # A generator body goes out with Transfer-Encoding: chunked, so no Content-Length warns.
    response = callers.superadmin.post(
        "/api/cron/jobs",
        content=_chunks(2_000_000),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["status"] == "error"
    assert "1000000 bytes" in response.json()["message"]
    small = callers.superadmin.post(
        "/api/cron/jobs",
        content=iter([b'{"name": "streamed", "schedule": "hourly", ', b'"function_name": "echo"}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 201, small.text


def test_the_caller_is_authenticated_before_the_body_is_judged(callers: Callers) -> None:
    bad_json = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    invalid = {"json": {"name": "", "schedule": "every full moon"}}
    for client in (callers.anonymous, callers.bad_token, callers.expired_jwt):
        for body in (bad_json, invalid):
            response = client.post("/api/cron/jobs", **body)  # type: ignore[arg-type]
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == "Bearer"
    # With a valid token the body's faults are reported as before.
    assert callers.superadmin.post("/api/cron/jobs", **bad_json).status_code == 400  # type: ignore[arg-type]
    assert callers.superadmin.post("/api/cron/jobs", **invalid).status_code == 422  # type: ignore[arg-type]
    bad_query = callers.anonymous.get("/api/cron/jobs", params={"limit": "many"})
    assert bad_query.status_code == 401


def test_no_client_input_reaches_a_500_through_the_unauthenticated_path(
    callers: Callers,
) -> None:
    response = callers.anonymous.put(f"/api/cron/jobs/{uuid.uuid4()}", content=b"\xff\xfe")
    assert response.status_code == 401
    response = httpx.post(
        str(callers.anonymous.base_url) + "/api/cron/schedules/preview",
        headers={"Authorization": "Basic Zm9vOmJhcg==", "content-type": "application/json"},
        content=b"[",
    )
    assert response.status_code == 401


def test_a_body_that_is_not_a_json_object_says_how_to_send_one(callers: Callers) -> None:
    # `curl -d '{...}'` without -H sends the JSON as a form: it was "body: Input should be a
    # valid dictionary or object to extract fields from", which names neither cause nor fix.
    api = callers.superadmin
    job = '{"name": "Digest", "schedule": "hourly", "function_name": "echo"}'
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        response = api.post("/api/cron/jobs", content=job, headers={"content-type": content_type})
        assert response.status_code == 415, response.text
        message = response.json()["message"]
        assert "Content-Type: application/json" in message, message
        assert content_type in message, message
    for body, says in [
        ("[1, 2]", "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("", "needs a JSON object"),
    ]:
        response = api.post(
            "/api/cron/jobs", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (body, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "body"
        assert says in error["message"], (body, response.text)
    assert api.get("/api/cron/jobs").json()["data"]["jobs"] == []


def test_a_body_that_cannot_be_read_as_json_says_why(callers: Callers) -> None:
    # FastAPI's own words were "There was an error parsing the body", with no hint of the fix.
    api = callers.superadmin
    sent = {"content-type": "application/json"}
    for body in (
        b'{"name": "\xff\xfe", "schedule": "hourly", "function_name": "echo"}',  # not UTF-8
        b'{"metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # past the parser's recursion
    ):
        response = api.post("/api/cron/jobs", content=body, headers=sent)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert message.startswith("the request body could not be read as JSON"), message
        assert "UTF-8" in message, message
    assert api.get("/api/cron/jobs").json()["data"]["jobs"] == []
