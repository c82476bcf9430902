"""The session brief as text: its sections in page order, Markdown, JSON, the terminal,
and the few sentences `brief --speak` reads aloud.

brief.py gathers and places; this module and brief_html.py only show.
"""
# Lazy imports: rich (heavy), only when the brief is shown in a terminal.

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .brief import SECTION_TITLES
from .brief_html import render_html
from .brief_sections import Section
from .errors import InputError
from .records import Row
from .wording import duration, plural

if TYPE_CHECKING:  # rich loads only when the brief is shown in a terminal
    from rich.table import Table

MOMENTS_SHOWN = 6


def render(data: Row, fmt: str) -> str:
    """The brief as 'md', 'html' or 'json' text."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if fmt == "html":
        return render_html(data, sections(data))
    if fmt == "md":
        return render_markdown(data)
    raise InputError(f"unknown brief format {fmt!r}; use md, html or json.")


# ------------------------------------------------------------------ lines of each section
def _dated(i: Row) -> str:
    tags = "".join(f" #{t}" for t in i.get("tags") or [] if f"#{t}" not in i["text"].lower())
    return f"{i['date']}: {i['text']}{tags}"


def _skill_line(skill: Row) -> str:
    helped = f", helped {skill['helped']:g}/10" if skill["helped"] is not None else ""
    practice = f", practice score {skill['score']:.0f}" if skill.get("score") is not None else ""
    return f"{skill['skill']}: used {skill['uses']}×{helped}{practice}"


def pattern_line(p: Row) -> str:
    notes = "".join(f" ({n})" for n in p.get("notes", [])[:2])
    return (
        f"{p['pattern']}: noticed {p['noticed']}×, responded rather than reacted "
        f"{p['responded']}×{notes}"
    )


def _moment_line(m: Row) -> str:
    steady = (
        f", steady after {duration(m['steady_minutes'])}"
        if m.get("steady_minutes") is not None
        else ""
    )
    note = f": {m['text']}" if m["text"] else ""
    return f"{m['date']}: intensity {m['intensity']}/10{steady}{note}"


def _talk_lines(data: Row) -> list[str]:
    mark = {"bring": "", "prep": " (for the session)", "question": ""}
    lines = [_dated(i) + mark.get(i.get("why", ""), "") for i in data["talk"]]
    return lines or [f"{q} (a suggestion)" for q in data["suggestions"]]


def _practice_lines(data: Row) -> list[str]:
    section = data["practice"]
    lines = [
        f"I said ({p['date']}{', before this stretch' if p.get('earlier') else ''}): {p['text']}"
        for p in section["plans"]
    ]
    lines += [f"Since then, {i['date']}: {i['text']}" for i in section["since"]]
    if section["plans"] and not section["since"]:
        lines.append("Nothing logged yet that matches it; how it went is worth talking about.")
    return lines


def _moment_lines(data: Row) -> list[str]:
    moments = sorted(data["moments"], key=lambda m: -m["intensity"])
    lines = [data["intensity_sentence"], data["steady_sentence"]]
    harder = data["measures"]["harder_weeks"]
    if harder:
        lines.append(f"{plural(harder, 'harder week')}, marked in the line: part of the work.")
    lines += [_moment_line(m) for m in moments[:MOMENTS_SHOWN]]
    if len(moments) > MOMENTS_SHOWN:
        lines.append(f"… and {len(moments) - MOMENTS_SHOWN} more.")
    return lines


def _crisis_section(data: Row) -> list[Section]:
    crisis = data.get("crisis")
    if not crisis:
        return []
    res = crisis["resources"]
    lines = [_dated(i) for i in crisis["items"]]
    lines.append("If it feels that heavy again: " + "; ".join(res["lines"]))
    return [
        Section(
            "crisis",
            SECTION_TITLES["crisis"],
            lines,
            marked=True,
            lead="Some of what you wrote in this stretch sounded very heavy. It may "
            "help to bring it up; this is what sessions are for, and you don't "
            "have to carry it alone.",
        )
    ]


def sections(data: Row) -> list[Section]:
    """The brief's parts in page order (shared by the Markdown and HTML forms)."""
    m = data["measures"]
    areas = ", ".join(f"{a} {n}" for a, n in m["wins_by_area"].items())
    checkins = m["checkins"]
    more = data["words_more"]
    return [
        *_crisis_section(data),
        Section("talk", SECTION_TITLES["talk"], _talk_lines(data)),
        Section(
            "practice",
            SECTION_TITLES["practice"],
            _practice_lines(data),
            "No practice plan written down yet; the follow-up after a session asks.",
        ),
        Section(
            "therapist", SECTION_TITLES["therapist"], [_dated(i) for i in data["therapist"]], ""
        ),
        Section("others", SECTION_TITLES["others"], [_dated(i) for i in data["others"]], ""),
        Section(
            "different",
            SECTION_TITLES["different"],
            [_dated(i) for i in data["different"]],
            "No weekly notes in this stretch.",
        ),
        Section(
            "skills",
            SECTION_TITLES["skills"],
            [_skill_line(s) for s in data["skills"]],
            "No skills logged in this stretch; that's fine, they are still yours.",
        ),
        Section("moments", SECTION_TITLES["moments"], _moment_lines(data)),
        Section(
            "patterns",
            SECTION_TITLES["patterns"],
            [pattern_line(p) for p in data["patterns"]],
            "No patterns noticed in this stretch.",
        ),
        Section(
            "wins",
            SECTION_TITLES["wins"],
            ([f"By area: {areas}"] if areas else []) + [_dated(i) for i in data["wins"]],
            "No wins written down; small ones count too, if one comes to mind.",
        ),
        Section(
            "words",
            SECTION_TITLES["words"],
            [f"“{q['text']}” ({q['date']})" for q in data["words"]]
            + ([f"… and {more} more in your journal."] if more else []),
        ),
        Section(
            "checkins",
            "Check-ins",
            [f"{checkins['answered']} of {plural(checkins['sent'], 'check-in')} answered."]
            if checkins["sent"]
            else [],
        ),
    ]


# ------------------------------------------------------------------ Markdown
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(
    values: list[float | None], *, low: float | None = None, high: float | None = None
) -> str:
    """A one-line chart; a gap (None) is a space, never a zero. `low`/`high` fix the scale
    (mood is always 1 to 5), otherwise it spans the values."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low = min(present) if low is None else low
    high = max(present) if high is None else high
    step = (high - low) / (len(SPARKS) - 1) or 1
    top = len(SPARKS) - 1
    return "".join(
        " " if v is None else SPARKS[max(0, min(top, int((v - low) / step)))] for v in values
    )


def _title(data: Row) -> list[str]:
    span = data["span"]
    lines = [
        f"# Session brief: {span['label']}",
        "",
        f"*{span['start'][:10]} to {span['end'][:10]} ({plural(span['days'], 'day')})*",
    ]
    upcoming = data.get("next_session")
    if upcoming:
        lines.append(
            f"*Next session: {upcoming['starts'].replace('T', ' ')[:16]} ({upcoming['title']})*"
        )
    return lines + ["", data["opening"], ""]


def render_markdown(data: Row) -> str:
    """The brief as Markdown (also what the terminal shows, through rich)."""
    lines = _title(data)
    for section in sections(data):
        if not section.items and not section.empty:
            continue
        lines += [f"## {section.title}", ""]
        if section.lead:
            lines += [f"> {section.lead}", ""]
        lines += [f"- {item}" for item in section.items] or [f"_{section.empty}_"]
        lines.append("")
    weeks = data["measures"]["weeks"]
    if any(w["logged"] for w in weeks):
        lines += [
            "## The line, week by week",
            "",
            "```",
            f"skill uses        {sparkline([float(w['skill_uses']) for w in weeks])}",
            f"moment intensity  {sparkline([w['intensity'] for w in weeks], low=0, high=10)}",
            f"minutes to steady {sparkline([w['steady_median'] for w in weeks])}",
            f"mood (1-5)        {sparkline([w['mood'] for w in weeks], low=1, high=5)}",
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def print_markdown(text: str) -> None:
    """Show Markdown in the terminal, rendered with rich."""
    from rich.console import Console
    from rich.markdown import Markdown

    Console().print(Markdown(text))


# ------------------------------------------------------------------ read aloud
def spoken_text(data: Row) -> str:
    """What `brief --speak` reads: the headline, then what to talk about."""
    lines = [f"Your session brief, {data['span']['label']}."]
    upcoming = data.get("next_session")
    if upcoming:
        lines.append(
            f"Your next session is on {upcoming['starts'][:10]} at {upcoming['starts'][11:16]}."
        )
    if data["talk"]:
        lines.append("What you want to talk about:")
        lines += [_sentence(i["text"]) for i in data["talk"]]
    else:
        lines.append("Nothing is flagged to talk about yet. One question you might bring:")
        lines.append(data["suggestions"][0])
    return " ".join(lines)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


# ------------------------------------------------------------------ stats in the terminal
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
        skills.add_row(
            s["skill"],
            str(s["uses"]),
            _num(s["helped"]),
            f"{p['score']:.0f}",
            sparkline(p["line"][-shown:]),
        )
    console.print(skills if m["skills"] else "No skills logged in these weeks yet.")
    console.print(data["intensity_sentence"])
    console.print(data["steady_sentence"])
    for p in m["patterns"]:
        console.print(pattern_line(p))


def _week_table(weeks: list[Row]) -> Table:
    """Week by week; a harder week is marked in its own column, shown only when one was."""
    from rich.table import Table

    harder = any(w["harder"] for w in weeks)
    table = Table(title="Week by week", show_edge=False)
    for column in (
        "week",
        "skill uses",
        "intensity",
        "min. to steady",
        "mood",
        "wins",
        *(("note",) if harder else ()),
    ):
        table.add_column(column)
    for w in weeks:
        cells = [
            w["week"],
            str(w["skill_uses"]),
            _num(w["intensity"]),
            _num(w["steady_median"]),
            _num(w["mood"]),
            str(w["wins"]),
        ]
        table.add_row(*cells, *(("harder week" if w["harder"] else "",) if harder else ()))
    return table


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
