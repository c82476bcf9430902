"""The brief's parts in page order: one list of sections that the Markdown form
(companion/brief.py) and the HTML page (companion/brief_html.py) both lay out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .wording import plural

Row = dict[str, Any]


@dataclass(frozen=True)
class Section:
    """One part of the brief: a heading, its lines, and what to say when it has none."""

    key: str
    title: str
    items: list[str]
    empty: str


def _skill_line(skill: Row, scores: dict[str, float]) -> str:
    helped = f", helped {skill['helped']:g}/10" if skill["helped"] is not None else ""
    score = scores.get(skill["skill"].lower())
    practice = f", practice score {score:.0f}" if score is not None else ""
    return f"{skill['skill']}: used {skill['uses']}×{helped}{practice}"


def pattern_line(p: Row) -> str:
    """A pattern's line: how often it was noticed, and how often met with a response."""
    return (f"{p['pattern']}: noticed {p['noticed']}×, responded rather than reacted "
            f"{p['responded']}×")


def sections(data: Row) -> list[Section]:
    """The brief's parts in page order (shared by the Markdown and HTML forms)."""
    m = data["measures"]
    scores = {s["skill"].lower(): s["score"] for s in m["practice"]}
    dated = [f"{i['date']}: {i['text']}" for i in data["bring"]]
    areas = ", ".join(f"{a} {n}" for a, n in m["wins_by_area"].items())
    checkins = m["checkins"]
    return [
        Section("bring", "To bring", dated, "Nothing flagged with --bring this time."),
        Section("different", "What felt different",
                [f"{i['date']}: {i['text']}" for i in data["different"]],
                "No weekly notes in this stretch."),
        Section("skills", "Skills used", [_skill_line(s, scores) for s in m["skills"]],
                "No skills logged in this stretch; that's fine, they are still yours."),
        Section("moments", "Tough moments", [data["steady_sentence"]] + (
            [f"{plural(m['harder_weeks'], 'harder week')}, marked in the line: "
             "part of the work."]
            if m["harder_weeks"] else []), ""),
        Section("patterns", "Patterns caught", [pattern_line(p) for p in m["patterns"]],
                "No patterns noticed in this stretch."),
        Section("wins", "Small wins",
                ([f"By area: {areas}"] if areas else [])
                + [f"{i['date']}: {i['text']}" for i in data["wins"]],
                "No wins written down; small ones count too, if one comes to mind."),
        Section("quotes", "In your own words", [f"“{q['text']}” ({q['date']})"
                                                for q in data["quotes"]], ""),
        Section("questions", "Questions for the session",
                [q["text"] + ("" if q["yours"] else " (a suggestion)")
                 for q in data["questions"]], ""),
        Section("checkins", "Check-ins",
                [f"{checkins['answered']} of {plural(checkins['sent'], 'check-in')} "
                 "answered."]
                if checkins["sent"] else [], ""),
    ]
