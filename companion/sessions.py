"""Therapy appointments: typed in, or imported from a calendar file (.ics).

A session row is one appointment or one repeating series (an RRULE, or `every_days`).
Series are expanded by companion.recurrence (bounded in time and count whatever a rule
says), the same way for typed and imported
sessions, so time zones, EXDATEs, moved occurrences and all-day events behave alike.
The next and last session drive the prep and follow-up reminders and the brief's span.
"""

# Lazy imports: icalendar and recurring_ical_events (heavy), only when a calendar is read
# or a series expanded.

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from . import recurrence
from .dates import parse_when as read_when
from .errors import InputError, NotFoundError
from .logs import get_log
from .paths import read_given
from .records import Row
from .store import Store, json_or_text
from .zones import local_zone_name, localize, zone_named

log = get_log("companion.sessions")
YEAR = timedelta(days=366)
MAX_EVERY_DAYS = 366  # `--every`, and a stored series's every_days
# An icalendar VEVENT, read here only: its typed properties are a union of some thirty
# classes, so each value is checked where it is read instead.
Event = Any  # type: ignore[explicit-any]


@dataclass(frozen=True)
class Occurrence:
    """One appointment on the calendar (a single session or one date of a series)."""

    session_id: int
    uid: str
    title: str
    starts: datetime
    ends: datetime | None
    all_day: bool
    recurring: bool
    source: str

    def as_dict(self) -> Row:
        """Plain values for JSON."""
        return {
            "session_id": self.session_id,
            "uid": self.uid,
            "title": self.title,
            "starts": self.starts.isoformat(timespec="minutes"),
            "ends": self.ends.isoformat(timespec="minutes") if self.ends else None,
            "all_day": self.all_day,
            "recurring": self.recurring,
            "source": self.source,
        }


# ------------------------------------------------------------------ time zones and parsing
def zone_for(when: datetime) -> str | None:
    """A named zone for `when` if the local zone agrees with its UTC offset (DST-proof series)."""
    name = local_zone_name()
    zone = zone_named(name)
    if zone is None or when.utcoffset() != when.astimezone(zone).utcoffset():
        return None
    return name


def parse_when(text: str, now: datetime) -> datetime:
    """When a session starts: '2026-12-01 15:00', 'tomorrow 15:00', 'friday 10:00', '7d'.

    companion.dates reads it, looking ahead; a session needs a time of day, not just a date.
    """
    words = " ".join(text.strip().lower().split())
    if not re.search(r"\d:\d{2}", words) and not re.fullmatch(r"\d+\s*[dwh]", words):
        raise InputError(f"{text!r} needs a time of day too, like 'tomorrow 15:00'.")
    return read_when(words, now, future=True)


def parse_every(text: str) -> int:
    """'week', 'weekly', '2 weeks', 'fortnight', '10 days' -> days between sessions."""
    words = text.strip().lower()
    named = {"week": 7, "weekly": 7, "fortnight": 14, "fortnightly": 14, "biweekly": 14}
    if words in named:
        return named[words]
    match = re.fullmatch(r"(\d+)\s*(weeks?|w|days?|d)", words)
    if not match or int(match[1]) == 0:
        raise InputError(
            f"--every {text!r} is not a repeat companion knows; try 'week' or '2 weeks'."
        )
    days = int(match[1]) * (7 if match[2].startswith("w") else 1)
    if days > MAX_EVERY_DAYS:
        raise InputError(
            f"--every {text!r} is longer than a year; repeating sessions can be "
            "at most a year apart (try 'week' or '2 weeks'). Nothing was saved."
        )
    return days


def describe_every(days: int) -> str:
    """7 -> "every week", 14 -> "every 2 weeks", 10 -> "every 10 days" (as it was typed)."""
    from .wording import plural

    if days % 7 == 0:
        return "every week" if days == 7 else f"every {plural(days // 7, 'week')}"
    return "every day" if days == 1 else f"every {plural(days, 'day')}"


# ------------------------------------------------------------------ typed sessions
def add_session(
    store: Store, when: datetime, *, every_days: int | None = None, title: str | None = None
) -> Row:
    """Save one typed appointment (a series when `every_days` is given)."""
    return store.upsert_session(
        {
            "uid": f"companion-{uuid.uuid4()}",
            "title": title or "Session",
            "starts": when,
            "every_days": every_days,
            "tzid": zone_for(when),
            "source": "typed",
            "exdates": "[]",
            "all_day": 0,
        }
    )


def remove_session(store: Store, session_id: int) -> Row:
    """Delete one session row (a repeating series goes as a whole)."""
    return store.remove_session(session_id)


# ------------------------------------------------------------------ expansion
MAX_OCCURRENCES = 2000  # appointments one listing gives, all series together
_LAST_LOOK = timedelta(days=2)  # last_session looks this far back first, then further


def _row_start(row: Row) -> datetime:
    """A series' first date: aware in its zone, or naive midnight for an all-day one."""
    if row.get("all_day"):
        return datetime.combine(date.fromisoformat(row["starts_at"][:10]), time())
    starts = datetime.fromisoformat(row["starts_at"])
    if starts.tzinfo is None:
        raise ValueError("a start without its UTC offset")
    zone = zone_named(row.get("tzid"))
    return starts.astimezone(zone) if zone else starts


def _exdates(row: Row, first: datetime) -> list[datetime]:
    """The dates a series skips, in the terms of its first date (unreadable ones ignored)."""
    found = json_or_text(row.get("exdates") or "[]")
    out: list[datetime] = []
    for text in found if isinstance(found, list) else []:
        try:
            moment = (
                datetime.combine(date.fromisoformat(text), time())
                if len(text) <= 10
                else datetime.fromisoformat(text)
            )
        except (TypeError, ValueError):
            continue
        if first.tzinfo is None:
            out.append(moment.replace(tzinfo=None))
        else:
            out.append(
                moment.astimezone(first.tzinfo)
                if moment.tzinfo
                else moment.replace(tzinfo=first.tzinfo)
            )
    return out


def _rule_text(row: Row) -> str | None:
    every = row.get("every_days")
    return row.get("rrule") or (
        f"FREQ=DAILY;INTERVAL={every}" if isinstance(every, int) and every > 0 else None
    )


def _length(row: Row) -> timedelta | None:
    if not row.get("ends_at") or row.get("all_day"):
        return None
    try:
        return datetime.fromisoformat(row["ends_at"]) - datetime.fromisoformat(row["starts_at"])
    except (TypeError, ValueError):
        return None


def _series(row: Row, start: datetime, end: datetime) -> Iterator[Occurrence]:
    """The appointments of one stored row in [start, end), in order (bounded in number).

    A row that cannot be read (edited by hand, say) is passed over with a line in the log;
    a repeat rule that cannot be read leaves the first appointment only.
    """
    local = start.tzinfo
    try:
        first = _row_start(row)
    except (KeyError, TypeError, ValueError):
        log.warning("session %s has a start that cannot be read; it is left out", row.get("id"))
        return
    lo, hi = start, end
    if first.tzinfo is None:  # all-day: compare local calendar days
        lo, hi = (t.astimezone(local).replace(tzinfo=None) for t in (start, end))
    text = _rule_text(row)
    try:
        rule = recurrence.rule_for(first, text, near=lo)
    except recurrence.RuleError:
        log.warning(
            "session %s has a repeat rule that cannot be read; only its first date is shown",
            row.get("id"),
        )
        rule = None
    length = _length(row)
    for when in recurrence.dates(first, rule, lo, hi, exdates=_exdates(row, first)):
        yield _occurrence(row, when, length, local, recurring=bool(text))


def _occurrence(
    row: Row, when: datetime, length: timedelta | None, local: tzinfo | None, *, recurring: bool
) -> Occurrence:
    all_day = when.tzinfo is None
    starts = when.replace(tzinfo=local) if all_day else when.astimezone(local)
    ends = (when + length).astimezone(local) if length is not None and not all_day else None
    return Occurrence(
        session_id=int(row["id"]),
        uid=row.get("uid") or "",
        title=row.get("title") or "Session",
        starts=starts,
        ends=ends,
        all_day=all_day,
        recurring=recurring,
        source=row.get("source") or "",
    )


def expand(
    rows: list[Row], start: datetime, end: datetime, *, limit: int = MAX_OCCURRENCES
) -> list[Occurrence]:
    """The first `limit` appointments of `rows` that start in [start, end), in time order."""
    merged = heapq.merge(
        *(_series(r, start, end) for r in rows), key=lambda o: (o.starts, o.session_id)
    )
    return list(itertools.islice(merged, max(0, limit)))


def occurrences(
    store: Store, start: datetime, end: datetime, *, limit: int = MAX_OCCURRENCES
) -> list[Occurrence]:
    """Appointments stored in `store` that start in [start, end) (the first `limit`)."""
    return expand(store.rows("sessions", until=end), start, end, limit=limit)


def upcoming_sessions(store: Store, now: datetime, horizon: timedelta = YEAR) -> list[Occurrence]:
    """Appointments from now until now + horizon (a year by default)."""
    return occurrences(store, now, now + horizon)


def next_session(store: Store, now: datetime) -> Occurrence | None:
    """The next appointment within a year, or None."""
    ahead = occurrences(store, now, now + YEAR, limit=1)
    return ahead[0] if ahead else None


def last_session(store: Store, now: datetime, *, lookback: timedelta = YEAR) -> Occurrence | None:
    """The latest appointment that has started before now (within a year back), or None.

    Each series is looked at over the last days first, and further back only when it had
    nothing there, so a calendar of many daily series is not walked for a whole year.
    """
    rows = store.rows("sessions", until=now)
    latest = [o for o in (_last_of(row, now - lookback, now) for row in rows) if o is not None]
    return max(latest, key=lambda o: (o.starts, o.session_id)) if latest else None


def _last_of(row: Row, start: datetime, end: datetime) -> Occurrence | None:
    """The last appointment of one row in [start, end): a short look back first, longer
    when it held none, shorter when it held more than one series gives (FREQ=SECONDLY)."""
    look, found = _LAST_LOOK, []
    for _ in range(12):
        lo = max(start, end - look)
        found = list(_series(row, lo, end))
        if len(found) >= recurrence.MAX_PER_SERIES:
            look /= 64
        elif found or lo <= start:
            break
        else:
            look *= 8
    return found[-1] if found else None


def series(found: list[Occurrence], now: datetime, *, shown: int = 3) -> list[Row]:
    """Each session once (a repeating series as one), with its next `shown` dates, how
    many more are ahead, and its latest date before `now`: upcoming ones first."""
    groups: dict[int, list[Occurrence]] = {}
    for occ in found:
        groups.setdefault(occ.session_id, []).append(occ)
    out: list[Row] = []
    for occs in groups.values():
        ahead = [o.as_dict()["starts"] for o in occs if o.starts >= now]
        past = [o.as_dict()["starts"] for o in occs if o.starts < now]
        first = occs[0].as_dict()
        out.append(
            {
                key: first[key]
                for key in ("session_id", "uid", "title", "all_day", "recurring", "source")
            }
            | {
                "next": ahead[:shown],
                "more_ahead": max(0, len(ahead) - shown),
                "last": past[-1] if past else None,
            }
        )
    upcoming = sorted(
        (s for s in out if s["next"]), key=lambda s: datetime.fromisoformat(s["next"][0])
    )
    done = sorted(
        (s for s in out if not s["next"]),
        key=lambda s: datetime.fromisoformat(s["last"]),
        reverse=True,
    )
    return upcoming + done


def find_occurrence(store: Store, session_id: int) -> Row:
    """A stored session row by id (NotFoundError when there is none)."""
    try:
        return store.get("session", session_id)
    except NotFoundError:
        raise NotFoundError(
            f"there is no session with id {session_id}; `companion session list` shows them."
        ) from None


# ------------------------------------------------------------------ calendar import
_SEARCHED = ("SUMMARY", "DESCRIPTION", "LOCATION", "ORGANIZER", "ATTENDEE", "CATEGORIES")


def _text_of(event: Event) -> str:
    parts: list[str] = []
    for name in _SEARCHED:
        value = event.get(name)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None:
                continue
            parts.append(str(item))
            params = getattr(item, "params", {})
            parts.append(str(params.get("CN", "")))
    return " ".join(parts).lower()


def _stamp_value(value: date | datetime) -> str:
    return value.isoformat() if isinstance(value, datetime) else value.isoformat()[:10]


def _tzid_of(start: date | datetime) -> str | None:
    if not isinstance(start, datetime) or start.tzinfo is None:
        return None
    key = getattr(start.tzinfo, "key", None) or getattr(start.tzinfo, "zone", None)
    return key if zone_named(key) is not None else None


def _uid(event: Event) -> str:
    if event.get("UID"):
        return str(event["UID"])
    seed = f"{event.get('SUMMARY', '')}|{event['DTSTART'].to_ical().decode()}"
    return "ics-" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def _exdates_of(event: Event) -> list[str]:
    found = event.get("EXDATE")
    lists = found if isinstance(found, list) else ([found] if found is not None else [])
    return [_stamp_value(d.dt) for group in lists for d in group.dts]


def _session_from_event(event: Event, *, now: datetime, source: str) -> Row:
    if "DTSTART" not in event:
        raise InputError(
            f"the event {_uid_or_title(event)} has no start time (DTSTART). Nothing was imported."
        )
    raw = event["DTSTART"].dt
    all_day = not isinstance(raw, datetime)
    start = (
        datetime.combine(raw, time(), tzinfo=now.tzinfo)
        if all_day
        else raw
        if raw.tzinfo
        else localize(raw, now)
    )
    ends = None
    if not all_day and "DTEND" in event and isinstance(event["DTEND"].dt, datetime):
        ends = event["DTEND"].dt if event["DTEND"].dt.tzinfo else localize(event["DTEND"].dt, now)
    elif not all_day and "DURATION" in event:
        ends = start + event["DURATION"].dt
    uid = _uid(event)
    if "RECURRENCE-ID" in event:
        uid = f"{uid}#{_stamp_value(event['RECURRENCE-ID'].dt)}"
    rule = event.get("RRULE")
    rule = rule[0] if isinstance(rule, list) else rule
    return {
        "uid": uid,
        "title": str(event.get("SUMMARY") or "Session"),
        "starts": start,
        "ends": ends,
        "rrule": rule.to_ical().decode() if rule is not None else None,
        "exdates": _exdates_of(event),
        "tzid": _tzid_of(raw) or (None if all_day or raw.tzinfo else zone_for(start)),
        "every_days": None,
        "source": source,
        "all_day": int(all_day),
    }


def _uid_or_title(event: Event) -> str:
    return repr(str(event.get("UID") or event.get("SUMMARY") or "without a name"))


def read_calendar(
    data: bytes, *, now: datetime, match: str | None = None, source: str = "ics"
) -> list[Row]:
    """Session rows from .ics bytes; InputError (and nothing returned) if the file is broken."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(
            f"this is not a calendar file companion can read "
            f"({_calendar_reason(exc)}). Nothing was imported."
        ) from None
    events = [c for c in calendar.walk("VEVENT")]
    broken = [e for e in events if getattr(e, "errors", None)]
    if broken:
        name, problem = broken[0].errors[0]
        raise InputError(
            f"the event {_uid_or_title(broken[0])} has a broken {name} "
            f"({problem}). Nothing was imported."
        )
    chosen = [
        e
        for e in events
        if str(e.get("STATUS", "")).upper() != "CANCELLED"
        and (not match or match.lower() in _text_of(e))
    ]
    rows = [_session_from_event(e, now=now, source=source) for e in chosen]
    _check_rules(rows)
    return _apply_moved(rows)


def _calendar_reason(exc: Exception) -> str:
    """Why the parser refused the file, in words; never its own message, which quotes
    the file's bytes (and what a calendar holds is private)."""
    said = str(exc).lower()
    if "no components" in said:
        return "it holds no complete calendar, from BEGIN:VCALENDAR to END:VCALENDAR"
    if "content line" in said:
        return "a line in it is not in the iCalendar form NAME:VALUE"
    return "it is not in the iCalendar form"


def _check_rules(rows: list[Row]) -> None:
    """Every repeat rule can be read (expanding it is bounded whatever it says)."""
    for row in rows:
        if not row.get("rrule"):
            continue
        first = row["starts"].replace(tzinfo=None) if row["all_day"] else row["starts"]
        try:
            recurrence.rule_for(first, row["rrule"])
        except recurrence.RuleError as exc:
            raise InputError(
                f"the calendar's repeat rules cannot be read ({exc}). Nothing was imported."
            ) from None


def rule_problem(row: Row) -> str | None:
    """Why a stored session row's start or repeat rule cannot be used, or None."""
    try:
        first = _row_start(row)
    except (KeyError, TypeError, ValueError):
        return "starts_at: not a time companion can read"
    try:
        recurrence.rule_for(first, _rule_text(row))
    except recurrence.RuleError as exc:
        return f"rrule: a repeat rule companion cannot read ({exc})"
    return None


def _apply_moved(rows: list[Row]) -> list[Row]:
    """A moved or changed occurrence replaces its date in the series (as an EXDATE)."""
    series = {r["uid"]: r for r in rows if "#" not in r["uid"]}
    for row in rows:
        master_uid, _, original = row["uid"].partition("#")
        if original and master_uid in series and original not in series[master_uid]["exdates"]:
            series[master_uid]["exdates"].append(original)
    for row in rows:
        row["exdates"] = json.dumps(row["exdates"])
    return rows


def import_calendar(
    store: Store, path: Path, *, now: datetime, match: str | None = None
) -> list[Row]:
    """Import (or update, by UID) the sessions of an .ics file in one transaction."""
    data = read_given(path)
    rows = read_calendar(data, now=now, match=match, source=f"ics:{path.name}")
    return store.upsert_sessions(rows) if rows else []
