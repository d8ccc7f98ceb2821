"""Every CLI option that takes an instant reads it the same way and says how to write one,
instead of argparse's "invalid fromisoformat value" (a Python function's name)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cronbase.cli.parser import build_parser

ID = "84874fdb-d1a4-4d93-a453-7d5bd1055842"
OPTIONS = [
    ["jobs", "edit", ID, "--muted-until"],
    ["channels", "update", ID, "--mute-until"],
    ["maintenance", "add", "--for", "2h", "--starts-at"],
    ["maintenance", "add", "--ends-at"],
    ["jobs", "backfill", ID, "--end", "2026-12-01T00:00:00Z", "--start"],
]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option[-1])
def test_an_instant_that_is_not_one_is_refused_with_how_to_write_it(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*option, "in 1h"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "fromisoformat" not in error
    assert "'in 1h' is not an ISO 8601 date and time" in error
    assert "2026-11-30T07:00:00Z" in error


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option[-1])
def test_an_instant_without_an_offset_is_refused_before_anything_is_read(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*option, "2026-12-01T08:00:00"])
    assert "needs a zone or offset, e.g. 2026-12-01T08:00:00+01:00" in capsys.readouterr().err


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option[-1])
def test_an_instant_with_its_offset_is_taken(option: list[str]) -> None:
    args = build_parser().parse_args([*option, "2026-12-01T09:00:00+01:00"])
    assert datetime(2026, 12, 1, 8, tzinfo=UTC) in vars(args).values()
