"""Answers serialized once. A handler that returns a model makes FastAPI validate it again
against the route's response model (a second pass over every field of every item, in a
thread of its own) before serializing it; for a list of 100 jobs that was most of a
request's time after the query. A route that declares `response_model=Envelope[...]` (for its
documentation) and returns `answer(...)` skips that pass: its data was validated when it was
built from the domain objects. The jobs list goes further: the store gives each job as JSON
(store/job_json.py), which answer_jobs joins."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from cronbase.api.schemas import Page

_HEAD, _TAIL = b'{"status":"success","data":', b"}"


def answer(data: BaseModel, status_code: int = 200) -> Response:
    """The seed's envelope {"status": "success", "data": ...} around `data`, as JSON."""
    body = _HEAD + data.model_dump_json().encode() + _TAIL
    return Response(body, status_code=status_code, media_type="application/json")


def answer_jobs(jobs: list[str], pagination: Page) -> Response:
    """The envelope around a JobList of jobs given as JSON, each a JobPublic."""
    body = f'{{"jobs":[{",".join(jobs)}],"pagination":{pagination.model_dump_json()}}}'
    return Response(_HEAD + body.encode() + _TAIL, media_type="application/json")
