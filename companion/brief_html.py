"""The session brief as one self-contained HTML page: inline CSS and SVG, no scripts.

Nothing is fetched: no fonts, images or styles from elsewhere, so the page opens the
same offline and prints on A4 or Letter (content is kept within 180 mm).
"""

from __future__ import annotations

from html import escape

from .brief_sections import Section
from .records import Row
from .wording import plural

WIDTH, HEIGHT, PAD = 640, 170, 28

CSS = """
@page { size: auto; margin: 14mm; }
* { box-sizing: border-box; }
body { font: 11pt/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #23303a;
       background: #fff; margin: 0 auto; padding: 8mm; max-width: 180mm; }
h1 { font-size: 17pt; margin: 0 0 2pt; color: #1f4e5f; }
h2 { font-size: 12.5pt; margin: 12pt 0 3pt; color: #1f4e5f; border-bottom: 1px solid #cfe0e6; }
.meta { color: #5b6b75; margin: 0; font-size: 10pt; }
.opening { background: #eef6f3; border-left: 4px solid #a9cfc0; padding: 6pt 9pt;
           margin: 9pt 0; }
ul { margin: 2pt 0 4pt; padding-left: 15pt; }
li { margin: 1.5pt 0; }
.empty { color: #5b6b75; font-style: italic; margin: 2pt 0; }
section, figure { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 6pt 0; }
figcaption { font-size: 9.5pt; color: #5b6b75; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 10px "DejaVu Sans", Arial, sans-serif; fill: #45545e; }
.bar { fill: #6aa88f; } .point { fill: #3f7fa0; } .trace { stroke: #3f7fa0; fill: none;
  stroke-width: 2.5; } .harder { fill: #f3e3cf; } .axis { stroke: #b9c7cd; stroke-width: 1; }
.mood { fill: #9a86c4; } .grid { stroke: #e3ebee; stroke-width: 1; }
.intensity { stroke: #c28a4a; fill: none; stroke-width: 2.5; } .ipoint { fill: #c28a4a; }
.marked { border: 1.5px solid #d9b98f; background: #fdf7ef; border-radius: 4pt;
          padding: 4pt 9pt 6pt; margin-top: 10pt; }
.marked h2 { border-bottom: none; color: #7a4f1d; }
.lead { margin: 2pt 0 4pt; }
footer { margin-top: 12pt; font-size: 9pt; color: #5b6b75; }
@media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }
"""


def _x(i: int, count: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (i + 0.5) / max(count, 1)


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top else 0)


def _grid(scale: tuple[float, float]) -> list[str]:
    """Light lines and labels at each whole step of a fixed scale (mood: 1 to 5)."""
    low, top = scale
    parts = []
    for value in range(int(low), int(top) + 1):
        y = _y(value, top)
        parts.append(
            f'<line class="grid" x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" '
            f'y2="{y:.1f}"/><text x="{PAD - 14}" y="{y + 3:.1f}">{value}</text>'
        )
    return parts


def _frame(title: str, weeks: list[Row], top: float, unit: str) -> list[str]:
    n = len(weeks)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, week in enumerate(weeks):
        if week.get("harder"):
            w = (WIDTH - 2 * PAD) / n
            parts.append(
                f'<rect class="harder" x="{_x(i, n) - w / 2:.1f}" y="{PAD - 12}" '
                f'width="{w:.1f}" height="{HEIGHT - 2 * PAD + 12}"/>'
            )
    parts.append(
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" '
        f'y2="{HEIGHT - PAD}"/>'
    )
    parts.append(f'<text x="2" y="{PAD - 2}">{top:g} {escape(unit)}</text>')
    every = max(1, n // 8)
    for i in range(0, n, every):
        parts.append(
            f'<text x="{_x(i, n):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{weeks[i]['week'][5:]}</text>"
        )
    return parts


def bar_chart(
    weeks: list[Row],
    key: str,
    *,
    title: str,
    unit: str,
    css: str = "bar",
    scale: tuple[float, float] | None = None,
) -> str:
    """Bars per week; weeks with nothing logged show no bar (a gap, not a zero). A fixed
    `scale` (low, top) draws its steps, so the same value is always the same height."""
    values = [w[key] for w in weeks]
    top = scale[1] if scale else max([v for v in values if v is not None] + [1])
    n = len(weeks)
    parts = _frame(title, weeks, top, unit) + (_grid(scale) if scale else [])
    width = max(2.0, (WIDTH - 2 * PAD) / n * 0.7)
    for i, value in enumerate(values):
        if value:
            y = _y(value, top)
            parts.append(
                f'<rect class="{css}" x="{_x(i, n) - width / 2:.1f}" y="{y:.1f}" '
                f'width="{width:.1f}" height="{HEIGHT - PAD - y:.1f}"/>'
            )
    return "".join(parts) + "</svg>"


def line_chart(
    weeks: list[Row],
    key: str,
    *,
    title: str,
    unit: str,
    css: str = "trace",
    point: str = "point",
    top: float | None = None,
) -> str:
    """A line per week, broken where a week has no value (`top` fixes the scale)."""
    values = [w[key] for w in weeks]
    top = top or max([v for v in values if v is not None] + [1])
    n = len(weeks)
    parts = _frame(title, weeks, top, unit)
    run: list[str] = []
    for i, value in enumerate(values + [None]):
        if value is not None:
            run.append(f"{_x(i, n):.1f},{_y(value, top):.1f}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline class="{css}" points="{" ".join(run)}"/>')
        run = []
    for i, value in enumerate(values):
        if value is not None:
            parts.append(
                f'<circle class="{point}" cx="{_x(i, n):.1f}" cy="{_y(value, top):.1f}" r="3.5"/>'
            )
    return "".join(parts) + "</svg>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def charts(data: Row) -> dict[str, str]:
    """The SVG figures, keyed by the section they follow."""
    weeks = data["measures"]["weeks"]
    if not any(w["logged"] for w in weeks):
        return {}
    out = {
        "skills": _figure(
            bar_chart(weeks, "skill_uses", title="Skill uses per week", unit="uses"),
            "Skill uses per week.",
        )
    }
    moments = []
    if any(w["intensity"] is not None for w in weeks):
        moments.append(
            _figure(
                line_chart(
                    weeks,
                    "intensity",
                    title="Intensity of tough moments, per week",
                    unit="of 10",
                    css="intensity",
                    point="ipoint",
                    top=10,
                ),
                "Average intensity of tough moments (0-10); lower is gentler.",
            )
        )
    if any(w["steady_median"] is not None for w in weeks):
        moments.append(
            _figure(
                line_chart(
                    weeks, "steady_median", title="Minutes until steady, per week", unit="min"
                ),
                "Median minutes until steady after a tough moment; lower is sooner. "
                "Shaded weeks were harder ones: part of the line, not a failure.",
            )
        )
    if moments:
        out["moments"] = "".join(moments)
    if any(w["mood"] is not None for w in weeks):
        out["checkins"] = _figure(
            bar_chart(
                weeks, "mood", title="Mood by week (1-5)", unit="mood", css="mood", scale=(1, 5)
            ),
            "Average mood by week, on a fixed scale from 1 to 5.",
        )
    return out


def _section(section: Section, figure: str) -> str:
    if not section.items and not section.empty and not figure:
        return ""
    body = (
        "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in section.items) + "</ul>"
        if section.items
        else (f'<p class="empty">{escape(section.empty)}</p>' if section.empty else "")
    )
    lead = f'<p class="lead">{escape(section.lead)}</p>' if section.lead else ""
    marked = ' class="marked"' if section.marked else ""
    return (
        f'<section id="{section.key}"{marked}><h2>{escape(section.title)}</h2>'
        f"{lead}{body}{figure}</section>"
    )


def render_html(data: Row, parts: list[Section]) -> str:
    """The whole page, from the brief's data and its sections in page order."""
    span = data["span"]
    meta = f"{span['start'][:10]} to {span['end'][:10]} ({plural(span['days'], 'day')})"
    upcoming = data.get("next_session")
    if upcoming:
        meta += f" · next session {upcoming['starts'].replace('T', ' ')[:16]}"
    figures = charts(data)
    body = "".join(_section(s, figures.get(s.key, "")) for s in parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Session brief: {escape(span['label'])}</title><style>{CSS}</style></head>"
        f'<body><h1>Session brief</h1><p class="meta">{escape(span["label"])}</p>'
        f'<p class="meta">{escape(meta)}</p><p class="opening">{escape(data["opening"])}</p>'
        f"{body}<footer>Made by companion on this computer, from your own notes. "
        "It is yours to share or keep.</footer></body></html>\n"
    )
