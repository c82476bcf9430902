"""Measures of progress: pure functions over stored rows (plain dicts), no SQL, no clock.

Everything is counted per local calendar week (weeks start on Monday). Weeks with
nothing logged stay in the line as gaps, not zeros, and a harder week is marked as
part of the line rather than as a failure. Practice scores forgive gaps: a missed
week lowers a score a little and never takes it to zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from statistics import mean, median

from .records import Row
from .store import utc_text
from .vocab import Status

PRACTICE_GAIN = 0.4  # how far one week of practice moves a score toward its target
PRACTICE_DECAY = 0.9  # a missed week keeps 90% of the score
PRACTICE_FLOOR = 5.0  # once practised, a score never drops below this
PRACTICE_FULL_WEEK = 3  # uses in a week that count as a full week of practice


@dataclass
class History:
    """The stored rows the measures read (any span; functions pick the weeks they need)."""

    entries: list[Row] = field(default_factory=list)
    skill_uses: list[Row] = field(default_factory=list)
    moments: list[Row] = field(default_factory=list)
    patterns: list[Row] = field(default_factory=list)
    notices: list[Row] = field(default_factory=list)
    deliveries: list[Row] = field(default_factory=list)


def week_of(when: datetime | date) -> date:
    """The Monday that starts the week of `when`."""
    day = when.date() if isinstance(when, datetime) else when
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=8192)
def _week_of_day(day: str) -> date:
    return week_of(date.fromisoformat(day))


def row_week(row: Row, column: str = "created_at") -> date:
    """The Monday of the local week a row happened in (read from its local date, which
    repeats across rows: a brief groups tens of thousands of them)."""
    return _week_of_day(row[column][:10])


def weeks_between(start: datetime, end: datetime) -> list[date]:
    """Mondays of every week that overlaps [start, end]."""
    first, last = week_of(start), week_of(end)
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


# The UTC column stored next to each local time: whole seconds, compared as text the same
# way the store selects rows.
_UTC_OF = {"created_at": "created_utc", "due_at": "due_utc"}


def within(
    rows: Iterable[Row],
    start: datetime,
    end: datetime,
    column: str = "created_at",
    *,
    closed: bool = False,
) -> list[Row]:
    """Rows that happened in [start, end), or in [start, end] when `closed`.

    A span that ends "now" is closed: stored times are whole seconds, so a row saved a
    moment before now can carry the same second as now.
    """
    key, low, high = _UTC_OF[column], utc_text(start), utc_text(end)
    if closed:
        return [r for r in rows if low <= r[key] <= high]
    return [r for r in rows if low <= r[key] < high]


def _by_week(rows: Iterable[Row], column: str = "created_at") -> dict[date, list[Row]]:
    grouped: dict[date, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row_week(row, column)].append(row)
    return grouped


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------ regulation
def steady_minutes(moments: Iterable[Row]) -> list[float]:
    """Minutes until steady of the moments that were marked steady."""
    return [float(m["steady_minutes"]) for m in moments if m.get("steady_minutes") is not None]


def steady_by_week(moments: Iterable[Row], weeks: list[date]) -> list[Row]:
    """Median minutes until steady per week (None where no moment eased that week)."""
    grouped = _by_week(moments)
    out: list[Row] = []
    for week in weeks:
        minutes = steady_minutes(grouped.get(week, []))
        out.append(
            {
                "week": week.isoformat(),
                "moments": len(grouped.get(week, [])),
                "median": _round(median(minutes)) if minutes else None,
            }
        )
    return out


def steady_trend(current: Iterable[Row], previous: Iterable[Row]) -> Row:
    """The median of this period against the previous one: 'sooner', 'later', 'same'."""
    now_m, before_m = steady_minutes(current), steady_minutes(previous)
    now_med = median(now_m) if now_m else None
    before_med = median(before_m) if before_m else None
    direction, change = "unknown", None
    if now_med is not None and before_med is not None:
        change = now_med - before_med
        tolerance = max(1.0, 0.1 * before_med)
        direction = "same" if abs(change) < tolerance else ("sooner" if change < 0 else "later")
    return {
        "median": _round(now_med),
        "previous_median": _round(before_med),
        "change": _round(change),
        "direction": direction,
        "count": len(now_m),
    }


def intensity_by_week(moments: Iterable[Row], weeks: list[date]) -> list[float | None]:
    """Average intensity (0-10) of the tough moments of each week (None: no moment)."""
    grouped = _by_week(moments)
    return [
        _round(mean(int(m["intensity"]) for m in grouped[w])) if grouped.get(w) else None
        for w in weeks
    ]


def intensity_trend(current: Iterable[Row], previous: Iterable[Row]) -> Row:
    """Average intensity of this period's tough moments against the previous one's:
    'lower', 'higher' or 'same' (within half a point), 'unknown' without both."""
    now_i = [int(m["intensity"]) for m in current]
    before_i = [int(m["intensity"]) for m in previous]
    now_avg = mean(now_i) if now_i else None
    before_avg = mean(before_i) if before_i else None
    direction, change = "unknown", None
    if now_avg is not None and before_avg is not None:
        change = now_avg - before_avg
        direction = "same" if abs(change) < 0.5 else ("lower" if change < 0 else "higher")
    return {
        "average": _round(now_avg),
        "previous_average": _round(before_avg),
        "change": _round(change),
        "direction": direction,
        "count": len(now_i),
    }


# ------------------------------------------------------------------ skills
def skill_uses_by_week(uses: Iterable[Row], weeks: list[date]) -> list[Row]:
    """How many skill uses were logged each week."""
    grouped = _by_week(uses)
    return [{"week": w.isoformat(), "uses": len(grouped.get(w, []))} for w in weeks]


def skills_helped(uses: Iterable[Row]) -> list[Row]:
    """Each skill with its uses and how much it helped (0-10, where rated), best first."""
    uses_of: dict[str, list[Row]] = defaultdict(list)
    for use in uses:
        uses_of[str(use["skill"]).strip().lower()].append(use)
    out: list[Row] = []
    for rows in uses_of.values():
        ratings = [int(r["helped"]) for r in rows if r.get("helped") is not None]
        out.append(
            {
                "skill": str(rows[-1]["skill"]).strip(),
                "uses": len(rows),
                "helped": _round(mean(ratings)) if ratings else None,
                "rated": len(ratings),
            }
        )
    out.sort(key=lambda s: (s["helped"] is None, -(s["helped"] or 0), -s["uses"], s["skill"]))
    return out


def practice_score_line(weekly_uses: list[int]) -> list[float]:
    """A forgiving score (0-100) after each week, from that week's number of uses.

    Practising moves the score toward a target (three or more uses is a full week) and
    never lowers it; a missed week keeps 90% of it, and once a skill has been practised
    its score stays at or above a small floor: a gap is never a reset.
    """
    score, line = 0.0, []
    for count in weekly_uses:
        if count > 0:
            target = 100.0 * min(count, PRACTICE_FULL_WEEK) / PRACTICE_FULL_WEEK
            score = max(score, score + PRACTICE_GAIN * (target - score))
        elif score > 0:
            score = max(score * PRACTICE_DECAY, PRACTICE_FLOOR)
        line.append(round(score, 1))
    return line


def practice_scores(uses: Iterable[Row], weeks: list[date]) -> list[Row]:
    """Each skill's forgiving practice score over `weeks`, with its line for a chart."""
    counts: dict[str, Counter[date]] = defaultdict(Counter)
    names: dict[str, str] = {}
    for use in uses:
        key = str(use["skill"]).strip().lower()
        names[key] = str(use["skill"]).strip()
        counts[key][row_week(use)] += 1
    out: list[Row] = []
    for key, per_week in counts.items():
        line = practice_score_line([per_week.get(w, 0) for w in weeks])
        if line and line[-1] > 0:
            out.append({"skill": names[key], "score": line[-1], "line": line})
    out.sort(key=lambda s: (-s["score"], s["skill"]))
    return out


# ------------------------------------------------------------------ awareness, choices, tracking
def patterns_caught(patterns: Iterable[Row], notices: Iterable[Row]) -> list[Row]:
    """Each pattern noticed in the span: how often, and how often the user responded."""
    names = {p["id"]: p["name"] for p in patterns}
    seen: dict[object, list[Row]] = defaultdict(list)
    for notice in notices:
        seen[notice["pattern_id"]].append(notice)
    out: list[Row] = []
    for pattern_id, rows in seen.items():
        responded = sum(1 for r in rows if r.get("responded"))
        out.append(
            {
                "pattern": names.get(pattern_id, f"pattern {pattern_id}"),
                "noticed": len(rows),
                "responded": responded,
                "reacted": len(rows) - responded,
            }
        )
    out.sort(key=lambda p: (-p["noticed"], p["pattern"]))
    return out


def wins_by_area(entries: Iterable[Row]) -> dict[str, int]:
    """Small wins counted by area ('other' when none was given)."""
    counts = Counter(e.get("area") or "other" for e in entries if e["kind"] == "win")
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def checkins_answered(deliveries: Iterable[Row]) -> Row:
    """Check-ins that reached the user, and how many of them were answered."""
    sent = [d for d in deliveries if d.get("status") != Status.DUE]
    answered = sum(1 for d in sent if d.get("status") == Status.ANSWERED)
    return {"sent": len(sent), "answered": answered}


def mood_by_week(entries: Iterable[Row], weeks: list[date]) -> list[Row]:
    """Average mood (1-5) per week, from entries that carry one."""
    grouped = _by_week(e for e in entries if e.get("mood") is not None)
    return [
        {
            "week": w.isoformat(),
            "mood": _round(mean(int(e["mood"]) for e in grouped[w])) if grouped.get(w) else None,
        }
        for w in weeks
    ]


# ------------------------------------------------------------------ the whole line
def _harder(week: Row, before: Row | None) -> bool:
    """A week that was harder than the one before it: slower to steady, or lower mood."""
    if before is None:
        return False
    slower = (
        week["steady_median"] is not None
        and before["steady_median"] is not None
        and week["steady_median"] > before["steady_median"] * 1.25 + 1
    )
    lower = (
        week["mood"] is not None
        and before["mood"] is not None
        and week["mood"] <= before["mood"] - 1
    )
    return slower or lower


def weekly_line(history: History, weeks: list[date]) -> list[Row]:
    """One row per week: steady median, moments, skill uses, mood, wins, and harder weeks.

    A harder week stays in the line, marked, next to the weeks around it.
    """
    steady = steady_by_week(history.moments, weeks)
    intensity = intensity_by_week(history.moments, weeks)
    skills = skill_uses_by_week(history.skill_uses, weeks)
    moods = mood_by_week(history.entries, weeks)
    wins = _by_week(e for e in history.entries if e["kind"] == "win")
    entries = _by_week(history.entries)
    line: list[Row] = []
    previous: Row | None = None
    for i, week in enumerate(weeks):
        row = {
            "week": week.isoformat(),
            "steady_median": steady[i]["median"],
            "moments": steady[i]["moments"],
            "intensity": intensity[i],
            "skill_uses": skills[i]["uses"],
            "mood": moods[i]["mood"],
            "wins": len(wins.get(week, [])),
            "entries": len(entries.get(week, [])),
        }
        row["logged"] = bool(row["moments"] or row["skill_uses"] or row["entries"])
        row["harder"] = _harder(row, previous)
        line.append(row)
        if row["logged"]:
            previous = row
    return line


def inside(history: History, start: datetime, end: datetime) -> History:
    """The rows of `history` that happened in [start, end] (the end is "now": closed)."""
    return History(
        entries=within(history.entries, start, end, closed=True),
        skill_uses=within(history.skill_uses, start, end, closed=True),
        moments=within(history.moments, start, end, closed=True),
        patterns=history.patterns,
        notices=within(history.notices, start, end, closed=True),
        deliveries=within(history.deliveries, start, end, "due_at", closed=True),
    )


def measure(
    history: History, start: datetime, end: datetime, *, current: History | None = None
) -> Row:
    """Every measure for [start, end]; the period of the same length before it is the baseline.

    `history` may hold more than the span (earlier rows feed the practice scores and
    the trend); rows after `end` are ignored. `current`: the span's rows, when the caller
    has already picked them with `inside()`.
    """
    length = end - start
    span = current if current is not None else inside(history, start, end)
    before = within(history.moments, start - length, start)
    weeks = weeks_between(start, end)
    score_start = min(start, end - timedelta(weeks=26))
    line = weekly_line(span, weeks)
    return {
        "weeks": line,
        "steady": steady_trend(span.moments, before),
        "intensity": intensity_trend(span.moments, before),
        "skills": skills_helped(span.skill_uses),
        "practice": practice_scores(
            within(history.skill_uses, score_start, end, closed=True),
            weeks_between(score_start, end),
        ),
        "patterns": patterns_caught(history.patterns, span.notices),
        "wins_by_area": wins_by_area(span.entries),
        "checkins": checkins_answered(span.deliveries),
        "harder_weeks": sum(1 for w in line if w["harder"]),
    }
