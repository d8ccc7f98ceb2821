"""The limits on what a tenant stores: JSON depth and size, and the texts a run leaves."""

from __future__ import annotations

import json

import pytest

from cronbase.limits import (
    MAX_RUN_TEXT_BYTES,
    CappedText,
    cut_result,
    cut_text,
    document_problem,
    json_depth,
    json_size,
    last_lines,
)


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ({}, 1), ([], 1), ({"a": 1}, 1), ({"a": [1, {"b": None}]}, 3), (nested(40), 40)],
)
def test_depth_counts_levels_of_objects_and_arrays(value: object, depth: int) -> None:
    assert json_depth(value) == depth


def test_depth_of_a_document_deeper_than_the_recursion_limit_is_measured() -> None:
    assert json_depth(nested(5000)) == 5000


def test_size_is_compact_utf8_json() -> None:
    assert json_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_a_document_within_the_limits_passes() -> None:
    assert document_problem({"a": "x" * 100}, max_bytes=1000, max_depth=2) is None


def test_too_deep_names_the_depth_and_the_limit() -> None:
    problem = document_problem(nested(33), max_bytes=10**6, max_depth=32)
    assert problem == "nests 33 levels deep; at most 32 are allowed: flatten it"


def test_too_large_names_the_size_and_the_limit() -> None:
    problem = document_problem({"a": "x" * 2000}, max_bytes=1000, max_depth=32)
    assert problem is not None
    assert problem.startswith("is 2,008 bytes as JSON; at most 1,000 are allowed")


def test_a_short_text_is_kept_whole() -> None:
    assert cut_text("boom", 10) == "boom"


def test_a_long_text_keeps_its_start_and_end_and_says_what_was_cut() -> None:
    text = "first line\n" + "x" * 200_000 + "\nValueError: the cause"
    cut = cut_text(text)
    assert len(cut.encode()) <= MAX_RUN_TEXT_BYTES
    assert cut.startswith("first line")
    assert cut.endswith("ValueError: the cause")
    assert "bytes cut: the text was 200,033 bytes" in cut


def test_cutting_never_splits_a_character() -> None:
    cut = cut_text("é" * 1000, 101)
    assert len(cut.encode()) <= 101
    cut.encode()  # valid UTF-8: no half character at either end


def test_a_small_result_is_kept_as_it_is() -> None:
    assert cut_result({"rows": 3}) == {"rows": 3}
    assert cut_result(None) is None


def test_a_huge_result_is_replaced_by_a_note_and_a_preview() -> None:
    cut = cut_result({"blob": "x" * 100_000})
    assert cut is not None
    assert cut["result_cut"].startswith("the job's result is 100,011 bytes as JSON")
    assert cut["preview"].startswith('{"blob": "xxx')
    assert json_size(cut) < 2000


def test_a_too_deep_result_is_replaced_by_a_note_without_serializing_it() -> None:
    cut = cut_result(nested(2000))  # type: ignore[arg-type]
    assert cut == {
        "result_cut": "the job's result nests 2000 levels deep; at most 32 are allowed: flatten it",
        "preview": "",
    }
    json.dumps(cut)


@pytest.mark.parametrize("size", [0, 10, 100, 101, 250, 5_000])
def test_text_added_in_pieces_is_cut_as_the_whole_would_be(size: int) -> None:
    pieces = [f"line {n}: {'é' * (n % 7)}\n" for n in range(size)]
    capped = CappedText(max_bytes=1000)
    for piece in pieces:
        capped.add(piece)
    assert capped.text() == cut_text("".join(pieces), 1000)
    assert capped.total == len("".join(pieces).encode())


def test_capped_text_holds_about_twice_its_cap_however_much_is_added() -> None:
    capped = CappedText(max_bytes=1000)
    for n in range(100_000):
        capped.add(f"line {n}\n")
    held = sum(map(len, capped._head)) + sum(map(len, capped._tail))
    assert held <= 2 * 1000 + 20
    text = capped.text()
    assert text.startswith("line 0\nline 1\n")
    assert text.endswith("line 99999\n")
    assert "bytes cut: the text was 1,088,890 bytes" in text


def test_last_lines_are_the_end_of_a_log_or_traceback() -> None:
    traceback = "Traceback (most recent call last):\n  File 'a.py'\n    f()\nKeyError: 'x'\n"
    assert last_lines(traceback, 2) == "    f()\nKeyError: 'x'"
    assert last_lines(traceback, 50) == traceback.rstrip("\n")
    assert last_lines(None, 5) == ""
    assert last_lines("", 5) == ""


def test_last_lines_keep_the_end_of_an_overlong_line() -> None:
    quoted = last_lines("start " + "x" * 10_000 + " the end", 3, max_bytes=100)
    assert len(quoted.encode()) <= 100
    assert quoted.startswith("[...]")
    assert quoted.endswith("x the end")
