"""One part of the session brief, as both the Markdown form (companion/brief_text.py) and
the HTML page (companion/brief_html.py) lay it out; brief_text.sections() makes the list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One part of the brief: a heading, a lead sentence, its lines, and what to say when it
    has none (nothing: the section is left out). `marked` sections stand out gently."""

    key: str
    title: str
    items: list[str]
    empty: str = ""
    lead: str = ""
    marked: bool = False
