"""The session brief: one page to bring to the next session.

`build()` gathers the span's rows from the store and returns plain data (the JSON
form, see tests/brief_schema.json); `render()` turns that into Markdown, a
self-contained HTML page (inline CSS and SVG, no scripts, no network) or JSON.
"""

# Lazy imports: rich (heavy), only when the brief is shown in a terminal.

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import progress
from .brief_html import render_html
from .brief_sections import pattern_line, sections
from .dates import span_of, within_reach
from .errors import InputError
from .sessions import last_session, next_session
from .store import Store
from .wording import about_duration, duration, plural

BRIEF_VERSION = 1
THIN = 3               # fewer records than this in the span makes a "quiet stretch" page
SCORE_LOOKBACK = timedelta(weeks=26)
QUOTE_CHARS = 220

Row = dict[str, Any]


@dataclass(frozen=True)
class Span:
    """The stretch of time a brief covers: [start, end)."""

    start: datetime
    end: datetime
    label: str


def resolve_span(store: Store, since: str, now: datetime) -> Span:
    """'last-session', '7d' / '2w', or a date ('2026-03-01') -> the brief's span ending now."""
    text = since.strip().lower()
    if text in ("last-session", "last", "session"):
        last = last_session(store, now)
        if last is None:
            return Span(now - timedelta(days=14), now,
                        "the last 14 days (no past session on record yet)")
        return Span(last.starts, now, f"since your session on {last.starts:%a %d %b}")
    match = re.fullmatch(r"(\d+)\s*(d|w|days?|weeks?)", text)
    if match:
        days = int(match[1]) * (7 if match[2].startswith("w") else 1)
        if days == 0:
            raise InputError("--since needs at least one day, like 7d.")
        return Span(now - span_of(days, since), now,
                    "the last day" if days == 1 else f"the last {plural(days, 'day')}")
    return _span_from_date(since, now)


def _span_from_date(since: str, now: datetime) -> Span:
    try:
        day = datetime.fromisoformat(since.strip())
    except ValueError:
        raise InputError(f"--since {since!r} is not something companion can read; use "
                         "last-session, 7d, or a date like 2026-03-01.") from None
    start = within_reach(day if day.tzinfo else day.replace(tzinfo=now.tzinfo), now, since)
    if start >= now:
        raise InputError(f"--since {since} is in the future; the brief looks back from today.")
    return Span(start, now, f"since {start:%a %d %b %Y}")


# ------------------------------------------------------------------ gathering
def gather(store: Store, span: Span) -> progress.History:
    """The rows the brief reads: the span, the period before it, and 26 weeks for scores."""
    since = min(span.start - (span.end - span.start), span.end - SCORE_LOOKBACK)
    return progress.History(
        entries=store.rows("entries", since=span.start, until=span.end),
        skill_uses=store.rows("skill_uses", since=since, until=span.end),
        moments=store.rows("moments", since=since, until=span.end),
        patterns=store.rows("patterns"),
        notices=store.rows("pattern_notices", since=span.start, until=span.end),
        deliveries=store.rows("deliveries", since=span.start, until=span.end),
    )


def build(store: Store, span: Span, *, now: datetime) -> Row:
    """The brief as plain data (what JSON prints and every format renders)."""
    upcoming = next_session(store, now)
    return compose(gather(store, span), span, now=now,
                   next_session=upcoming.as_dict() if upcoming else None)


def compose(history: progress.History, span: Span, *, now: datetime,
            next_session: Row | None = None) -> Row:
    """The brief from rows already gathered (pure: no store, no clock)."""
    entries = history.entries
    measures = progress.measure(history, span.start, span.end)
    records = (len(entries) + len(progress.within(history.skill_uses, span.start, span.end))
               + len(progress.within(history.moments, span.start, span.end)))
    return {
        "version": BRIEF_VERSION,
        "generated_at": now.isoformat(timespec="seconds"),
        "span": {"start": span.start.isoformat(timespec="minutes"),
                 "end": span.end.isoformat(timespec="minutes"), "label": span.label,
                 "days": max(1, round((span.end - span.start).total_seconds() / 86400))},
        "next_session": next_session,
        "thin": records < THIN,
        "opening": _opening(records, measures),
        "different": [_item(e) for e in entries if e["kind"] == "weekly"],
        "bring": [_item(e) for e in entries if e.get("bring")],
        "wins": [_item(e) for e in entries if e["kind"] == "win"],
        "quotes": _quotes(entries),
        "questions": _questions(entries),
        "steady_sentence": _steady_sentence(measures["steady"]),
        "measures": measures,
    }


def _item(entry: Row) -> Row:
    return {"id": entry["id"], "kind": entry["kind"], "date": entry["created_at"][:10],
            "area": entry.get("area"), "text": entry["text"].strip()}


def _first_sentences(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUOTE_CHARS:
        return text
    cut = text[:QUOTE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > 40 else cut.rsplit(" ", 1)[0] + " …"


def _quotes(entries: list[Row], limit: int = 4) -> list[Row]:
    """A few of the user's own words from reflections and check-ins, most recent first."""
    spoken = [e for e in entries if e["kind"] in ("reflection", "checkin", "friend")
              and not e.get("bring") and len(e["text"].strip()) >= 12]
    return [{"date": e["created_at"][:10], "kind": e["kind"],
             "text": _first_sentences(e["text"])} for e in reversed(spoken[-limit:])]


def _questions(entries: list[Row], limit: int = 6) -> list[Row]:
    """Questions the user wrote down (sentences ending in '?'), or a few gentle suggestions."""
    found: list[Row] = []
    for entry in entries:
        if entry.get("bring") or entry["kind"] in ("session-prep", "reflection", "weekly"):
            for sentence in re.findall(r"[^.!?\n]*\?", entry["text"]):
                if len(sentence.strip()) > 8:
                    found.append({"text": sentence.strip(), "yours": True})
    if found:
        return found[-limit:]
    return [{"text": t, "yours": False} for t in SUGGESTED_QUESTIONS]


SUGGESTED_QUESTIONS = (
    "What is one moment from this stretch I'd like to understand better?",
    "Which skill would be worth practising before we meet again?",
    "Is there something I keep noticing that we could look at together?",
)


def _opening(records: int, measures: Row) -> str:
    if records == 0:
        return ("Nothing was logged in this stretch, and that's all right: the days between "
                "sessions are for living, not for keeping records. You can still bring "
                "whatever is on your mind. Even one thing is enough.")
    if records < THIN:
        return ("A quiet stretch in here, with just a little written down. That still counts: "
                "a few honest notes can open a good conversation.")
    if measures["harder_weeks"]:
        return ("There were harder weeks in this stretch, and you kept going. Harder weeks "
                "are part of the work; they show up in the line below next to everything else.")
    return "Here is what this stretch held. Small steps are easy to miss, so they are listed."


def _steady_sentence(trend: Row) -> str:
    if trend["median"] is None:
        return "No tough moments were marked steady in this stretch."
    text = f"After a tough moment it took {about_duration(trend['median'])} to feel steady"
    before = duration(trend["previous_median"]) if trend["previous_median"] is not None else ""
    if trend["direction"] == "sooner":
        return text + f" (before: {before}). That is sooner than before."
    if trend["direction"] == "later":
        return text + (f" (before: {before}). It took longer this time; "
                       "harder stretches happen and are worth talking about.")
    if trend["direction"] == "same":
        return text + ", about the same as before."
    return text + "."


# ------------------------------------------------------------------ rendering
def render(data: Row, fmt: str) -> str:
    """The brief as 'md', 'html' or 'json' text."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if fmt == "html":
        return render_html(data)
    if fmt == "md":
        return render_markdown(data)
    raise InputError(f"unknown brief format {fmt!r}; use md, html or json.")


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """A one-line chart; a gap (None) is a space, never a zero."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    step = (high - low) / (len(SPARKS) - 1) or 1
    return "".join(" " if v is None else SPARKS[int((v - low) / step)] for v in values)


def _title(data: Row) -> list[str]:
    span = data["span"]
    lines = [f"# Session brief: {span['label']}", "",
             f"*{span['start'][:10]} to {span['end'][:10]} ({plural(span['days'], 'day')})*"]
    upcoming = data.get("next_session")
    if upcoming:
        lines.append(f"*Next session: {upcoming['starts'].replace('T', ' ')[:16]} "
                     f"({upcoming['title']})*")
    return lines + ["", data["opening"], ""]


def render_markdown(data: Row) -> str:
    """The brief as Markdown (also what the terminal shows, through rich)."""
    lines = _title(data)
    for section in sections(data):
        if not section.items and not section.empty:
            continue
        lines += [f"## {section.title}", ""]
        lines += [f"- {item}" for item in section.items] or [f"_{section.empty}_"]
        lines.append("")
    weeks = data["measures"]["weeks"]
    if any(w["logged"] for w in weeks):
        lines += ["## The line, week by week", "", "```",
                  f"skill uses        {sparkline([float(w['skill_uses']) for w in weeks])}",
                  f"minutes to steady {sparkline([w['steady_median'] for w in weeks])}",
                  f"mood              {sparkline([w['mood'] for w in weeks])}", "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def print_markdown(text: str) -> None:
    """Show Markdown in the terminal, rendered with rich."""
    from rich.console import Console
    from rich.markdown import Markdown

    Console().print(Markdown(text))


def print_stats(data: Row) -> None:
    """The measures as small tables and charts in the terminal."""
    from rich.console import Console
    from rich.table import Table

    console, m = Console(), data["measures"]
    console.print(f"[bold]Your measures[/bold]: {data['span']['label']}")
    console.print(_week_table(m["weeks"]))
    shown = len(m["weeks"])  # the charts cover the weeks asked for (scores look further back)
    skills = Table(title="Skills (practice score forgives gaps)", show_edge=False)
    for column in ("skill", "uses", "helped", "score", f"last {plural(shown, 'week')}"):
        skills.add_column(column)
    lines = {p["skill"].lower(): p for p in m["practice"]}
    for s in m["skills"]:
        p = lines.get(s["skill"].lower(), {"score": 0, "line": []})
        skills.add_row(s["skill"], str(s["uses"]), _num(s["helped"]), f"{p['score']:.0f}",
                       sparkline(p["line"][-shown:]))
    console.print(skills if m["skills"] else "No skills logged in these weeks yet.")
    console.print(data["steady_sentence"])
    for p in m["patterns"]:
        console.print(pattern_line(p))


def _week_table(weeks: list[Row]) -> Any:
    """Week by week; a harder week is marked in its own column, shown only when one was."""
    from rich.table import Table

    harder = any(w["harder"] for w in weeks)
    table = Table(title="Week by week", show_edge=False)
    for column in ("week", "skill uses", "min. to steady", "mood", "wins",
                   *(("note",) if harder else ())):
        table.add_column(column)
    for w in weeks:
        cells = [w["week"], str(w["skill_uses"]), _num(w["steady_median"]), _num(w["mood"]),
                 str(w["wins"])]
        table.add_row(*cells, *(("harder week" if w["harder"] else "",) if harder else ()))
    return table


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
