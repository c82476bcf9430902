"""The session brief: one page to bring to the next session.

`build()` gathers the span's rows from the store and returns plain data (the JSON
form, see tests/brief_schema.json); `render()` turns that into Markdown, a
self-contained HTML page (inline CSS and SVG, no scripts, no network) or JSON.

Every record in the span has one place in the brief (`SECTION_OF_KIND`), except where
a rule comes first: crisis language puts it in a gently marked note (unless turned
off), a --bring flag or a question in a reflection or check-in puts it under what to
talk about, and a win or skill use that matches what the person said they would
practise goes under how that went.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import progress
from .dates import span_of, within_reach
from .errors import InputError
from .records import Row
from .sessions import last_session, next_session
from .store import Store
from .vocab import EntryKind
from .wording import about_duration, duration, plural

if TYPE_CHECKING:
    from .safety import Resources

BRIEF_VERSION = 2
THIN = 3  # fewer records than this in the span makes a "quiet stretch" page
SCORE_LOOKBACK = timedelta(weeks=26)
PLAN_LOOKBACK = timedelta(weeks=8)  # how far back the last practice plan is looked for
QUOTE_CHARS = 220
WORDS_SHOWN = 6  # own words shown in full; the rest are counted

CrisisCheck = Callable[[str], "Resources | None"]  # text -> what to show, or None

# The brief's sections in page order, with their headings.
SECTION_TITLES = {
    "crisis": "A heavy moment, worth mentioning",
    "talk": "What I want to talk about",
    "practice": "What I said I'd practise, and how it went",
    "therapist": "From my therapist",
    "others": "What others noticed",
    "different": "What felt different",
    "skills": "Skills I used",
    "moments": "Tough moments",
    "patterns": "Patterns I caught",
    "wins": "Small wins",
    "words": "In my own words",
}
# Where each kind of record goes when no rule above comes first (vocab.ENTRY_KINDS and
# vocab.RECORD_KINDS: a new kind needs a place here, and a test says so).
SECTION_OF_KIND = {
    "session-prep": "talk",
    "follow-up": "practice",
    "therapist": "therapist",
    "friend": "others",
    "weekly": "different",
    "win": "wins",
    "reflection": "words",
    "checkin": "words",
    "skill": "skills",
    "moment": "moments",
    "notice": "patterns",
}
# Kinds whose questions ("...?") are questions for the session.
ASKING_KINDS = ("reflection", "checkin")


@dataclass(frozen=True)
class Span:
    """The stretch of time a brief covers: [start, end], the end being "now"."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Options:
    """What narrows or marks the brief: a tag, and the crisis check (None: no crisis note)."""

    tag: str | None = None
    crisis: CrisisCheck | None = None


def resolve_span(store: Store, since: str, now: datetime) -> Span:
    """'last-session', '7d' / '2w', or a date ('2026-03-01') -> the brief's span ending now."""
    text = since.strip().lower()
    if text in ("last-session", "last", "session"):
        last = last_session(store, now)
        if last is None:
            return Span(
                now - timedelta(days=14), now, "the last 14 days (no past session on record yet)"
            )
        return Span(last.starts, now, f"since your session on {last.starts:%a %d %b}")
    match = re.fullmatch(r"(\d+)\s*(d|w|days?|weeks?)", text)
    if match:
        days = int(match[1]) * (7 if match[2].startswith("w") else 1)
        if days == 0:
            raise InputError("--since needs at least one day, like 7d.")
        return Span(
            now - span_of(days, since),
            now,
            "the last day" if days == 1 else f"the last {plural(days, 'day')}",
        )
    return _span_from_date(since, now)


def _span_from_date(since: str, now: datetime) -> Span:
    try:
        day = datetime.fromisoformat(since.strip())
    except ValueError:
        raise InputError(
            f"--since {since!r} is not something companion can read; use "
            "last-session, 7d, or a date like 2026-03-01."
        ) from None
    start = within_reach(day if day.tzinfo else day.replace(tzinfo=now.tzinfo), now, since)
    if start >= now:
        raise InputError(f"--since {since} is in the future; the brief looks back from today.")
    return Span(start, now, f"since {start:%a %d %b %Y}")


# ------------------------------------------------------------------ gathering
def gather(store: Store, span: Span) -> progress.History:
    """The rows the brief reads: the span, the period before it, and 26 weeks for scores."""
    since = min(span.start - (span.end - span.start), span.end - SCORE_LOOKBACK)
    return progress.History(
        entries=store.rows("entries", since=span.start, through=span.end),
        skill_uses=store.rows("skill_uses", since=since, through=span.end),
        moments=store.rows("moments", since=since, through=span.end),
        patterns=store.rows("patterns"),
        notices=store.rows("pattern_notices", since=span.start, through=span.end),
        deliveries=store.rows("deliveries", since=span.start, through=span.end),
    )


def earlier_plan(store: Store, span: Span) -> Row | None:
    """The last practice plan (a follow-up answer) written in the weeks before the span."""
    plans = store.entries(
        since=span.start - PLAN_LOOKBACK, until=span.start, kind=EntryKind.FOLLOW_UP
    )
    return plans[-1] if plans else None


def build(store: Store, span: Span, *, now: datetime, options: Options | None = None) -> Row:
    """The brief as plain data (what JSON prints and every format renders)."""
    upcoming = next_session(store, now)
    return compose(
        gather(store, span),
        span,
        now=now,
        options=options,
        next_session=upcoming.as_dict() if upcoming else None,
        plan_before=earlier_plan(store, span),
    )


def _tagged(rows: list[Row], tag: str) -> list[Row]:
    return [r for r in rows if tag in (r.get("tags") or ())]


def narrow(history: progress.History, tag: str | None) -> progress.History:
    """Only the records that carry `tag` (all of them when tag is None)."""
    if tag is None:
        return history
    return progress.History(
        entries=_tagged(history.entries, tag),
        skill_uses=_tagged(history.skill_uses, tag),
        moments=_tagged(history.moments, tag),
        patterns=history.patterns,
        notices=_tagged(history.notices, tag),
        deliveries=history.deliveries,
    )


def compose(
    history: progress.History,
    span: Span,
    *,
    now: datetime,
    options: Options | None = None,
    next_session: Row | None = None,
    plan_before: Row | None = None,
) -> Row:
    """The brief from rows already gathered (pure: no store, no clock). `plan_before` is
    the last practice plan written before the span, shown when the span has none."""
    options = options or Options()
    history = narrow(history, options.tag)
    if plan_before is not None and options.tag is not None:
        plan_before = plan_before if options.tag in (plan_before.get("tags") or ()) else None
    current = progress.inside(history, span.start, span.end)
    measures = progress.measure(history, span.start, span.end, current=current)
    records = len(current.entries) + len(current.skill_uses) + len(current.moments)
    sections = place(current, measures, earlier_plan=plan_before, crisis=options.crisis)
    label = span.label + (f", tagged #{options.tag}" if options.tag else "")
    return {
        "version": BRIEF_VERSION,
        "generated_at": now.isoformat(timespec="seconds"),
        "span": {
            "start": span.start.isoformat(timespec="minutes"),
            "end": span.end.isoformat(timespec="minutes"),
            "label": label,
            "days": max(1, round((span.end - span.start).total_seconds() / 86400)),
        },
        "tag": options.tag,
        "next_session": next_session,
        "thin": records < THIN,
        "opening": _opening(records, measures),
        **sections,
        "suggestions": [] if sections["talk"] else list(SUGGESTED_QUESTIONS),
        "steady_sentence": steady_sentence(measures["steady"]),
        "intensity_sentence": intensity_sentence(measures["intensity"]),
        "measures": measures,
    }


# ------------------------------------------------------------------ one record, one place
def _words(text: str | None) -> str:
    return " ".join(str(text or "").split())


def entry_item(entry: Row, text: str | None = None, **extra: object) -> Row:
    """An entry as the brief shows it: its reference ("entry:12"), day, words and tags."""
    return {
        "ref": f"entry:{entry['id']}",
        "kind": entry["kind"],
        "date": entry["created_at"][:10],
        "area": entry.get("area"),
        "text": _words(entry["text"] if text is None else text),
        "tags": list(entry.get("tags") or []),
        **extra,
    }


def skill_item(use: Row) -> Row:
    note = f": {use['note']}" if use.get("note") else ""
    return {
        "ref": f"skill:{use['id']}",
        "kind": "skill",
        "date": use["created_at"][:10],
        "area": None,
        "text": _words(f"{use['skill']}{note}"),
        "tags": list(use.get("tags") or []),
        "helped": use.get("helped"),
    }


def moment_item(moment: Row) -> Row:
    return {
        "ref": f"moment:{moment['id']}",
        "kind": "moment",
        "date": moment["created_at"][:10],
        "area": None,
        "text": _words(moment.get("note")),
        "tags": list(moment.get("tags") or []),
        "intensity": moment["intensity"],
        "steady_minutes": moment.get("steady_minutes"),
    }


def questions_in(text: str) -> list[str]:
    """The sentences of `text` that end in a question mark."""
    if "?" not in text:
        return []
    found = (s.strip() for s in re.findall(r"[^.!?\n]*\?+", text))
    return [s for s in found if len(s.rstrip("?").strip()) >= 3]


def _entry_place(entry: Row) -> tuple[str, Row]:
    """The section of an entry that holds no crisis language, and how it is shown there."""
    kind = entry["kind"]
    if entry.get("bring") or kind == "session-prep":
        return "talk", entry_item(entry, why="bring" if entry.get("bring") else "prep")
    asked = questions_in(entry["text"]) if kind in ASKING_KINDS else []
    if asked:  # the whole entry when it is short, so the question keeps its setting
        short = len(" ".join(entry["text"].split())) <= QUOTE_CHARS
        return "talk", entry_item(entry, None if short else " ".join(asked), why="question")
    if SECTION_OF_KIND[kind] == "words":
        return "words", entry_item(entry, first_sentences(entry["text"]), mood=entry.get("mood"))
    return SECTION_OF_KIND[kind], entry_item(entry)


@dataclass
class _Crisis:
    """Records whose words call for the crisis note, and the resources to show with it."""

    check: CrisisCheck | None
    items: list[Row]
    resources: Resources | None = None

    def look_over(self, texts: list[str | None]) -> None:
        """Check all the span's words at once first: when none of them calls for the note
        (nearly always), no record needs a check of its own."""
        if self.check is not None and self.check("\n".join(t for t in texts if t)) is None:
            self.check = None

    def takes(self, text: str | None, shown: Row) -> bool:
        found = self.check(text) if self.check is not None and text else None
        if found is None:
            return False
        self.resources = self.resources or found
        self.items.append(shown)
        return True

    def section(self) -> Row | None:
        if not self.items or self.resources is None:
            return None
        return {"items": self.items, "resources": self.resources.as_dict()}


def place(
    current: progress.History,
    measures: Row,
    *,
    earlier_plan: Row | None = None,
    crisis: CrisisCheck | None = None,
) -> Row:
    """Every record of the span in its one section (see the module's docstring)."""
    heavy = _Crisis(crisis, [])
    heavy.look_over(
        [e["text"] for e in current.entries]
        + [r.get("note") for r in (*current.skill_uses, *current.moments, *current.notices)]
    )
    out: Row = {key: [] for key in SECTION_TITLES}
    for entry in current.entries:
        if not heavy.takes(entry["text"], entry_item(entry, first_sentences(entry["text"]))):
            section, shown = _entry_place(entry)
            out[section].append(shown)
    uses = [u for u in current.skill_uses if not heavy.takes(u.get("note"), skill_item(u))]
    moments = [m for m in current.moments if not heavy.takes(m.get("note"), moment_item(m))]
    notices = [n for n in current.notices if not heavy.takes(n.get("note"), _notice_item(n))]
    out["practice"], uses = practice(out["practice"], earlier_plan, out, uses)
    out["skills"] = _skills(measures, uses)
    out["moments"] = [moment_item(m) for m in moments]
    out["patterns"] = _patterns(measures, notices, current.patterns)
    words = out["words"]
    out["words"] = list(reversed(words[-WORDS_SHOWN:]))
    out["words_more"] = max(0, len(words) - WORDS_SHOWN)
    out["crisis"] = heavy.section()
    return out


def _notice_item(notice: Row) -> Row:
    return {
        "ref": f"notice:{notice['id']}",
        "kind": "notice",
        "date": notice["created_at"][:10],
        "area": None,
        "text": _words(notice.get("note")),
        "tags": list(notice.get("tags") or []),
    }


def _skills(measures: Row, uses: list[Row]) -> list[Row]:
    """Each skill of the span with its count, rating, practice score and its uses' refs
    (those not already shown under the practice plan)."""
    scores = {s["skill"].lower(): s["score"] for s in measures["practice"]}
    refs: dict[str, list[str]] = {}
    for use in uses:
        refs.setdefault(str(use["skill"]).strip().lower(), []).append(f"skill:{use['id']}")
    return [
        {**s, "score": scores.get(s["skill"].lower()), "refs": refs.get(s["skill"].lower(), [])}
        for s in measures["skills"]
    ]


def _patterns(measures: Row, notices: list[Row], patterns: list[Row]) -> list[Row]:
    """Each pattern caught in the span, its counts, and its notices' refs and notes."""
    names = {p["id"]: p["name"] for p in patterns}
    mine: dict[str, list[Row]] = {}
    for notice in notices:
        mine.setdefault(names.get(notice["pattern_id"], ""), []).append(notice)
    return [
        {
            **p,
            "refs": [f"notice:{n['id']}" for n in mine.get(p["pattern"], [])],
            "notes": [_words(n["note"]) for n in mine.get(p["pattern"], []) if n.get("note")],
        }
        for p in measures["patterns"]
    ]


# ------------------------------------------------------------------ the practice plan
# Words that say nothing about *what* is practised.
_PLAN_STOPWORDS = frozenset(
    {
        "about",
        "after",
        "again",
        "also",
        "before",
        "could",
        "each",
        "every",
        "from",
        "going",
        "have",
        "into",
        "just",
        "less",
        "like",
        "little",
        "make",
        "maybe",
        "might",
        "more",
        "next",
        "once",
        "really",
        "session",
        "should",
        "some",
        "something",
        "that",
        "their",
        "them",
        "then",
        "there",
        "they",
        "thing",
        "things",
        "this",
        "time",
        "today",
        "tomorrow",
        "trying",
        "want",
        "week",
        "weeks",
        "what",
        "when",
        "will",
        "with",
        "would",
        "practise",
        "practice",
        "practising",
        "practicing",
    }
)


def plan_words(text: str) -> set[str]:
    """The words of a plan that say what it is about, cut to a short stem so "breathe"
    finds "breathing" (Latin script: 5 letters; Hangul and others: 2 characters)."""
    out: set[str] = set()
    for word in re.findall(r"\w+", text.casefold()):
        if word.isascii():
            if len(word) >= 4 and word not in _PLAN_STOPWORDS and not word.isdigit():
                out.add(word[:5])
        elif len(word) >= 2:
            out.add(word[:2])
    return out


def practice(
    plans: list[Row], earlier_plan: Row | None, out: Row, uses: list[Row]
) -> tuple[Row, list[Row]]:
    """What the person said they would practise (the follow-up answers of the span, or
    the last one before it) and the wins and skill uses since then that match its words.

    Matching wins move here from "wins"; returns the section and the skill uses left.
    """
    if not plans and earlier_plan is not None:
        plans = [entry_item(earlier_plan, earlier=True)]
    if not plans:
        return {"plans": [], "since": []}, uses
    stems = set().union(*(plan_words(p["text"]) for p in plans))
    first = min(p["date"] for p in plans)

    def matches(shown: Row) -> bool:
        return shown["date"] >= first and bool(stems & plan_words(shown["text"]))

    wins = [w for w in out["wins"] if matches(w)]
    out["wins"] = [w for w in out["wins"] if w not in wins]
    used = [u for u in uses if matches(skill_item(u))]
    since = sorted(wins + [skill_item(u) for u in used], key=lambda i: i["date"])
    return {"plans": plans, "since": since}, [u for u in uses if u not in used]


# ------------------------------------------------------------------ sentences
def first_sentences(text: str) -> str:
    """The first sentences of `text`, at most about QUOTE_CHARS characters."""
    text = " ".join(text.split())
    if len(text) <= QUOTE_CHARS:
        return text
    cut = text[:QUOTE_CHARS]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > 40 else cut.rsplit(" ", 1)[0] + " …"


SUGGESTED_QUESTIONS = (
    "What is one moment from this stretch I'd like to understand better?",
    "Which skill would be worth practising before we meet again?",
    "Is there something I keep noticing that we could look at together?",
)


def _opening(records: int, measures: Row) -> str:
    if records == 0:
        return (
            "Nothing was logged in this stretch, and that's all right: the days between "
            "sessions are for living, not for keeping records. You can still bring "
            "whatever is on your mind. Even one thing is enough."
        )
    if records < THIN:
        return (
            "A quiet stretch in here, with just a little written down. That still counts: "
            "a few honest notes can open a good conversation."
        )
    if measures["harder_weeks"]:
        return (
            "There were harder weeks in this stretch, and you kept going. Harder weeks "
            "are part of the work; they show up in the line below next to everything else."
        )
    return "Here is what this stretch held. Small steps are easy to miss, so they are listed."


def steady_sentence(trend: Row) -> str:
    if trend["median"] is None:
        return "No tough moments were marked steady in this stretch."
    text = f"After a tough moment it took {about_duration(trend['median'])} to feel steady"
    before = duration(trend["previous_median"]) if trend["previous_median"] is not None else ""
    if trend["direction"] == "sooner":
        return text + f" (before: {before}). That is sooner than before."
    if trend["direction"] == "later":
        return text + (
            f" (before: {before}). It took longer this time; "
            "harder stretches happen and are worth talking about."
        )
    if trend["direction"] == "same":
        return text + ", about the same as before."
    return text + "."


def intensity_sentence(trend: Row) -> str:
    if trend["average"] is None:
        return "No tough moments were logged in this stretch."
    text = f"Tough moments came at about {trend['average']:g} out of 10"
    if trend["direction"] == "unknown":
        return text + "."
    before = f" (before: {trend['previous_average']:g})"
    if trend["direction"] == "lower":
        return text + before + ": a little less intense than before. That counts."
    if trend["direction"] == "higher":
        return (
            text
            + before
            + (": more intense than before. Harder stretches happen and are worth talking about.")
        )
    return text + ", about as intense as before."
