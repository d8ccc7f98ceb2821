"""job_options: one declaration checks, reads and describes a function's options."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import Field

from cronbase.builtin.options import CleanOldActivitiesOptions, MarkUsersOfflineOptions
from cronbase.job_options import Integer, JobOptions, Number, describe_options, option_errors
from cronbase.registry import JobContext, JobGroup


class Report(JobOptions):
    ratio: Number = Field(0.5, gt=0, lt=1, description="a share")
    copies: Integer = Field(1, ge=1, description="how many")
    format: Literal["pdf", "csv"] = "pdf"
    title: str = "Report"


def test_options_are_described_in_their_declared_order() -> None:
    ratio, copies, format_, title = describe_options(Report)
    assert (ratio.name, ratio.type, ratio.default, ratio.description) == ("ratio", "number", 0.5, "a share")  # fmt: skip
    assert (ratio.exclusive_minimum, ratio.exclusive_maximum, ratio.minimum) == (0, 1, None)
    assert (copies.type, copies.minimum, copies.maximum) == ("integer", 1, None)
    assert (format_.type, format_.choices, format_.default) == ("string", ["pdf", "csv"], "pdf")
    assert (title.type, title.choices) == ("string", None)
    assert describe_options(None) == []


@pytest.mark.parametrize(
    ("metadata", "errors"),
    [
        ({"ratio": 1}, [("ratio", "must be a number > 0 and < 1 (default 0.5); got 1")]),
        ({"ratio": "0.5"}, [("ratio", "must be a number > 0 and < 1 (default 0.5); got '0.5'")]),
        ({"copies": 0}, [("copies", "must be an integer >= 1 (default 1); got 0")]),
        ({"copies": False}, [("copies", "must be an integer >= 1 (default 1); got False")]),
        ({"format": "doc"}, [("format", "must be one of 'pdf', 'csv' (default 'pdf'); got 'doc'")]),
        ({"title": 5}, [("title", "must be a string (default 'Report'); got 5")]),
        ({"ratio": float("nan"), "copies": 1.5}, [
            ("ratio", "must be a number > 0 and < 1 (default 0.5); got nan"),
            ("copies", "must be an integer >= 1 (default 1); got 1.5"),
        ]),
    ],
)  # fmt: skip
def test_a_bad_value_names_what_is_allowed_and_the_default(
    metadata: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    assert option_errors(Report, metadata) == errors
    with pytest.raises(ValueError, match=f"^{errors[0][0]} must be "):
        Report.read(metadata)


def test_undeclared_keys_and_nulls_pass_and_nulls_read_as_the_default() -> None:
    metadata = {"ratio": None, "copies": 3.0, "colour": object(), "error_count": "x"}
    assert option_errors(Report, metadata) == []
    assert Report.read(metadata) == Report(ratio=0.5, copies=3, format="pdf", title="Report")
    assert type(Report.read({"ratio": 0.25}).ratio) is float
    assert option_errors(None, {"anything": "goes"}) == []
    assert option_errors(Report, ["not", "a", "dict"]) == []  # the metadata check says so


def test_the_builtin_jobs_declare_the_documented_options() -> None:
    assert MarkUsersOfflineOptions.read({}).timeout_minutes == 5
    read = CleanOldActivitiesOptions.read({"retention_days": 90})
    assert (read.retention_days, read.mode, read.batch_size) == (90, "archive", 1000)
    assert type(read.retention_days) is int  # a result reports 90, not 90.0
    described = {o.name: o for o in describe_options(CleanOldActivitiesOptions)}
    assert (described["batch_size"].minimum, described["batch_size"].maximum) == (1, 10_000)


def test_a_group_registers_a_functions_options() -> None:
    group = JobGroup()

    @group.job("report", options=Report)
    def report(ctx: JobContext) -> dict[str, Any]:
        """Write the report."""
        return {"copies": Report.read(ctx.metadata).copies}

    @group.job("plain")
    def plain(_ctx: JobContext) -> dict[str, Any]:
        return {}

    assert group.get("report").options is Report
    assert group.get("plain").options is None
