"""A period's first and last day, however the service writes them.

LG Inform's own answers give plain dates (``2016-04-01``); .NET services and other
implementations of the same shape write ISO date-times (``2016-04-01T00:00:00``, with or
without seconds, fractions, ``Z`` or an offset), and close a period either at the end of its
last day (``2017-03-31T23:59:59``) or at midnight of the day after (``2017-04-01T00:00:00``).
All of these mean the same last day. The day is read as written: an offset says in which zone
the wall-clock time is, not that the period moves to another day.

Strict where a guess would change the meaning: a start that is not at the start of a day, or
an end at any time other than midnight or the last minute of a day, is refused with the field
and the value named.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_BOUND = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?$",
    re.IGNORECASE,  # RFC 3339 allows 't' and 'z'
)


class PeriodBoundError(ValueError):
    """A startDate or endDate that does not say one day unambiguously."""


def _parse(field: str, value: object) -> tuple[date, str]:
    """(the date written, how the time of day reads: 'date' | 'midnight' | 'end_of_day' | 'other')."""
    if isinstance(value, date):
        return value, "date"
    if not isinstance(value, str):
        raise PeriodBoundError(f"{field} {value!r} is not a date")
    match = _BOUND.match(value.strip())
    if not match:
        raise PeriodBoundError(f"{field} {value!r} is neither a date (YYYY-MM-DD) nor an ISO date-time")
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        raise PeriodBoundError(f"{field} {value!r} is not a calendar date") from None
    if match["hour"] is None:
        return day, "date"
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    fraction = (match["fraction"] or "").rstrip("0")
    if hour > 23 or minute > 59 or second > 59:
        raise PeriodBoundError(f"{field} {value!r} is not a time of day")
    if (hour, minute, second) == (0, 0, 0) and not fraction:
        return day, "midnight"
    if (hour, minute) == (23, 59):
        return day, "end_of_day"
    return day, "other"


def period_start(value: object) -> date:
    """The first day of a period from its ``startDate``."""
    day, time_of_day = _parse("startDate", value)
    if time_of_day not in ("date", "midnight"):
        raise PeriodBoundError(
            f"startDate {value!r} is not at the start of a day: which day the period starts on is unclear"
        )
    return day


def period_end(value: object, start: date) -> date:
    """The last day of a period from its ``endDate`` (``start`` decides the midnight case).

    A midnight end is the day after the last day when that reading ends the period on a
    month's last day (``2017-04-01T00:00:00`` -> 31 March) and the day itself when the day is
    a month's last day or the period's first (``2017-03-31T00:00:00`` -> 31 March, as .NET
    writes a plain date). Periods in this API are months, quarters, years and census days;
    a midnight end that is neither is read as the day written.
    """
    day, time_of_day = _parse("endDate", value)
    if time_of_day in ("date", "end_of_day"):
        last = day
    elif time_of_day == "midnight":
        exclusive = day.day == 1 and day > start
        last = day - timedelta(days=1) if exclusive else day
    else:
        raise PeriodBoundError(
            f"endDate {value!r} is neither at midnight nor in the last minute of a day: which day the period ends on "
            "is unclear"
        )
    if last < start:
        raise PeriodBoundError(f"endDate {value!r} is before startDate {start.isoformat()}")
    return last
