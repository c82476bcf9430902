"""Repeat rules (RFC 5545 RRULE) expanded within a window, bounded whatever the rule says.

A calendar file may say FREQ=SECONDLY with no end, or start a daily series decades ago.
Here a series is never walked from its first date: a rule that repeats by a fixed step
jumps forward by whole steps to just before the window; no series gives more than
MAX_PER_SERIES dates in one window, nor walks more than MAX_STEPS dates to find them.
"""

# Lazy imports: dateutil (~5 ms), only when a series is expanded.

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TypedDict

MAX_PER_SERIES = 1000  # dates one series gives in one window
MAX_STEPS = 5000  # dates one series may walk through to find them
FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_FIXED_STEP = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
}
_MONTHS = {"MONTHLY": 1, "YEARLY": 12}


Rule = Iterable[datetime]  # a dateutil rrule: its dates, in order, perhaps without end


class Limits(TypedDict, total=False):
    """Where a series ends: UNTIL as a time, COUNT as a number of dates."""

    until: datetime
    count: int


class RuleError(ValueError):
    """A repeat rule that cannot be read."""


def parse_rule(text: str) -> dict[str, str]:
    """The parts of an RRULE value ("FREQ=WEEKLY;BYDAY=TU") by upper-case name."""
    parts: dict[str, str] = {}
    for item in text.strip().removeprefix("RRULE:").split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise RuleError(f"{item!r} is not a NAME=VALUE part")
        parts[key.strip().upper()] = value.strip()
    if parts.get("FREQ", "").upper() not in FREQUENCIES:
        raise RuleError("FREQ is missing or unknown")
    parts["FREQ"] = parts["FREQ"].upper()
    return parts


def rule_for(start: datetime, text: str | None, *, near: datetime | None = None) -> Rule | None:
    """The rule of a series from `start` (None when it does not repeat); with `near`, one
    that starts by whole repeats just before `near`. RuleError when it cannot be read."""
    return _rule(start, parse_rule(text), near=near) if text else None


def dates(
    start: datetime,
    rule: Rule | None,
    lo: datetime,
    hi: datetime,
    *,
    exdates: Iterable[datetime] = (),
) -> Iterator[datetime]:
    """The dates of a series from `start` (always one of them, as RFC 5545 says) with
    `rule` (from rule_for) that fall in [lo, hi), in order, at most MAX_PER_SERIES.
    `start`, `lo`, `hi` and `exdates` are all naive or all aware."""
    skip = set(exdates)
    given = 0
    if lo <= start < hi and start not in skip:
        given += 1
        yield start
    if rule is None:
        return
    try:
        for step, when in enumerate(rule):
            if step >= MAX_STEPS or given >= MAX_PER_SERIES or when >= hi:
                return
            if when < lo or when == start or when in skip:
                continue
            given += 1
            yield when
    except (ValueError, OverflowError):  # a step past the year 9999: the series ends there
        return


def _rule(start: datetime, parts: dict[str, str], *, near: datetime | None) -> Rule:
    """A dateutil rule; with `near`, started by whole steps just before it."""
    from dateutil.rrule import rrulestr

    parts = dict(parts)
    until, count = parts.pop("UNTIL", None), parts.pop("COUNT", None)
    try:
        interval = int(parts.get("INTERVAL", "1"))
        limits: Limits = {}
        if until:
            limits["until"] = _until(until, start)
        if count and int(count) > 0:  # a negative COUNT is read as none, like other calendars
            limits["count"] = int(count)
        first = _jumped(start, parts, limits, interval=interval, near=near)
        rule = rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=first)
        return rule.replace(**limits) if limits else rule
    except RuleError:
        raise
    except (ValueError, TypeError, OverflowError, LookupError) as exc:
        raise RuleError(str(exc) or type(exc).__name__) from None


def _until(text: str, start: datetime) -> datetime:
    """UNTIL as a time comparable with `start` (calendars mix dates, UTC and local times)."""
    from icalendar import vDDDTypes

    value = vDDDTypes.from_ical(text.strip())
    if not isinstance(value, datetime):  # a date: the whole of that day
        value = datetime.combine(value, datetime.max.time())
    if start.tzinfo is None:
        return value.replace(tzinfo=None)
    return value if value.tzinfo is not None else value.replace(tzinfo=start.tzinfo)


def _jumped(
    start: datetime, parts: dict[str, str], limits: Limits, *, interval: int, near: datetime | None
) -> datetime:
    """`start` moved forward by whole repeats of the rule to just before `near`.

    The rule's phase (weekday, time of day, day of month) stays the same. A COUNT is
    turned into the UNTIL it amounts to when the rule has no BY parts; with them, the
    series is walked from its start (MAX_STEPS bounds that walk).
    """
    if near is None or near <= start or interval < 1:
        return start
    freq = parts["FREQ"]
    plain = not any(key.startswith("BY") for key in parts)
    try:
        if freq in _FIXED_STEP:
            period = _FIXED_STEP[freq] * interval
            if "count" in limits and plain:
                end = start + period * (limits.pop("count") - 1)
                limits["until"] = min(limits.get("until", end), end)
            if "count" in limits:
                return start
            return start + period * max(0, (near - start) // period - 2)
        if "count" in limits or not _keeps_its_day(start, freq):
            return start
        from dateutil.relativedelta import relativedelta

        months = (near.year - start.year) * 12 + near.month - start.month
        step = interval * _MONTHS[freq]
        return start + relativedelta(months=step * max(0, months // step - 1))
    except OverflowError:  # steps so long that the second date is past the year 9999
        return start


def _keeps_its_day(start: datetime, freq: str) -> bool:
    """Whether whole months (or years) from `start` land on its day of the month."""
    return start.day <= 28 if freq == "MONTHLY" else not (start.month == 2 and start.day == 29)
