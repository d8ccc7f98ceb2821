"""Instants a request may carry: aware (with an offset) and storable. An offset can carry the
first or last day of the calendar across its end in UTC, which no database column holds: such
a value is a 422 at its field, not a failure when it is written."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from cronbase.jobs import utc_instant

Instant = Annotated[AwareDatetime, AfterValidator(utc_instant)]
