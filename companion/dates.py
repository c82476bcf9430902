"""Durations ("20m", "1h30m", "90") and times ("2026-12-01 15:00", "tomorrow 15:00", "7d")."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo

from .errors import InputError
from .zones import localize

_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?:in)?)?$")
_RELATIVE_RE = re.compile(r"^(\d+)\s*(d|w|h)$")
# Further than any date companion keeps: spans and dates beyond it are refused, which also
# keeps every sum of dates inside what Python's datetime can hold.
MAX_REACH = timedelta(days=36_525)  # a hundred years
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_duration(text: str) -> float:
    """Minutes from "20m", "1h30m", "2h", "90" (plain numbers are minutes)."""
    raw = str(text).strip().lower().replace(" ", "")
    if raw.startswith("-"):
        raise InputError(f'"{text}" is a negative duration; durations count up from zero.')
    try:
        return _check_minutes(float(raw), text)
    except ValueError:
        pass
    m = _DURATION_RE.match(raw)
    if not raw or not m or not (m.group(1) or m.group(2)):
        raise InputError(f'"{text}" is not a duration; use minutes such as 20m, 1h30m or 90.')
    minutes = float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    return _check_minutes(minutes, text)


def _check_minutes(minutes: float, text: str) -> float:
    if not math.isfinite(minutes):
        raise InputError(f'"{text}" is not a duration; use minutes such as 20m, 1h30m or 90.')
    if minutes < 0:
        raise InputError(f'"{text}" is a negative duration; durations count up from zero.')
    if minutes > 7 * 24 * 60:
        raise InputError(f'"{text}" is longer than a week; give the minutes until you felt steady.')
    return minutes


def parse_clock(text: str) -> time:
    m = re.match(r"^(\d{1,2})(?::(\d{2}))?$", text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59:
        raise InputError(f'"{text}" is not a time of day; use 24-hour HH:MM such as 15:00.')
    return time(int(m.group(1)), int(m.group(2) or 0))


def parse_when(text: str, now: datetime, *, future: bool = False) -> datetime:
    """An aware datetime from a date, a date and time, today/tomorrow/yesterday, a weekday,
    or a span such as "7d" / "2w" / "12h" (ago, or ahead when `future`)."""
    raw = " ".join(str(text).strip().lower().split())
    if not raw:
        raise InputError("the date is empty; use for example 2026-12-01 15:00 or tomorrow 15:00.")
    rel = _RELATIVE_RE.match(raw)
    if rel:
        hours = int(rel.group(1)) * {"d": 24, "w": 24 * 7, "h": 1}[rel.group(2)]
        delta = span_of(hours / 24, text)
        return now + delta if future else now - delta
    day_word, _, clock = raw.partition(" ")
    day = _day_from_word(day_word, now.date(), future=future)
    if day is not None:
        at = parse_clock(clock) if clock else time(0, 0)
        return localize(datetime.combine(day, at), now)
    return within_reach(_parse_iso(text, now), now, text)


def span_of(days: float, text: str) -> timedelta:
    """A span of `days`; InputError past a hundred years."""
    if days > MAX_REACH.days:
        raise InputError(
            f'"{text}" reaches further than companion looks; give a span within a hundred years.'
        )
    return timedelta(days=days)


def within_reach(when: datetime, now: datetime, text: str) -> datetime:
    """`when`, or InputError if it lies more than a hundred years from `now`."""
    if abs(when - now) > MAX_REACH:
        raise InputError(
            f'"{text}" is further than companion looks; '
            "give a date within a hundred years of today."
        )
    return when


def _day_from_word(word: str, today: date, *, future: bool) -> date | None:
    offsets = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if word in offsets:
        return today + timedelta(days=offsets[word])
    short = [w[:3] for w in _WEEKDAYS]
    if word in _WEEKDAYS or word in short:
        target = short.index(word[:3])
        step = (target - today.weekday()) % 7
        if not future:
            return today - timedelta(days=(today.weekday() - target) % 7)
        return today + timedelta(days=step or 7)
    return None


def _parse_iso(text: str, now: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(
            f'"{text}" is not a date I understand; use for example 2026-12-01 15:00, '
            "tomorrow 15:00, friday 10:00 or 7d."
        ) from None
    return parsed if parsed.tzinfo else localize(parsed, now)


def format_when(value: str | datetime | None, zone: tzinfo | None = None) -> str:
    """A stored time for people, in local time: "Sun 29 Nov 2026, 11:45" ("" for none)."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is not None:
        when = when.astimezone(zone)
    return f"{when:%a %d %b %Y, %H:%M}"
