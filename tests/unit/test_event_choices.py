"""The channels page's event choices come from the one list of events a channel may want."""

from __future__ import annotations

from cronbase.api.routes.ui import _event_choices
from cronbase.notify.events import DEFAULT_EVENTS, LABELS, SUBSCRIBABLE


def test_every_subscribable_event_is_offered_with_a_label_and_its_default() -> None:
    assert set(LABELS) == set(SUBSCRIBABLE)
    choices = _event_choices()
    assert [c["name"] for c in choices] == [str(e) for e in SUBSCRIBABLE]
    assert [c["name"] for c in choices if c["default"]] == [str(e) for e in DEFAULT_EVENTS]
    assert all(c["label"] for c in choices)
