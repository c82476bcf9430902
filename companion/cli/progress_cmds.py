"""Commands for sessions, the session brief, the week and the measures (stats)."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import App
from ..paths import check_output, ensure_dir, write_private_text
from ..records import Row
from .common import P, R, emit, json_option, pass_app, read_text_arg, saved
from .journal import tag_option

if TYPE_CHECKING:
    from ..brief import Options
    from ..journal import Saved
    from ..sessions import Occurrence


def register(group: click.Group) -> None:
    """Add `session`, `brief`, `week` and `stats` to the main group."""
    for command in (session, brief, week, stats):
        group.add_command(command)


# ------------------------------------------------------------------ sessions
@click.group()
def session() -> None:
    """Therapy sessions: add, list, remove, import from a calendar file."""


@session.command("add")
@click.argument("when", nargs=-1, required=True)
@click.option("--every", metavar="week|2 weeks", help="Repeat: 'week', '2 weeks', '10 days'.")
@click.option("--title", metavar="T", help="A name for it, such as your therapist's.")
@json_option
@pass_app
def session_add(
    app: App, when: tuple[str, ...], every: str | None, title: str | None, as_json: bool
) -> None:
    """Add a session at WHEN ('2026-12-01 15:00', 'tomorrow 15:00', 'friday 10:00')."""
    from .. import sessions

    starts = sessions.parse_when(" ".join(when), app.clock.now())
    every_days = sessions.parse_every(every) if every else None
    record = sessions.add_session(app.store, starts, every_days=every_days, title=title)
    repeat = f", {sessions.describe_every(every_days)}" if every_days else ""
    emit(
        record,
        as_json,
        lambda: click.echo(f"Saved session {record['id']}: {starts:%a %d %b %Y, %H:%M}{repeat}."),
    )


@session.command("list")
@click.option("--upcoming", is_flag=True, help="Only the sessions ahead.")
@click.option(
    "--past-days",
    default=90,
    show_default=True,
    type=click.IntRange(0, 3660),
    help="How far back to show past sessions.",
)
@click.option(
    "--all",
    "every_date",
    is_flag=True,
    help="Every date of a repeating series (up to a year ahead), one per line.",
)
@json_option
@pass_app
def session_list(app: App, upcoming: bool, past_days: int, every_date: bool, as_json: bool) -> None:
    """Your sessions: each series once, with its next dates (--all: every date)."""
    from .. import sessions

    now = app.clock.now()
    start = now if upcoming else now - timedelta(days=past_days)
    found = sessions.occurrences(app.store, start, now + sessions.YEAR)
    if every_date:
        emit([o.as_dict() for o in found], as_json, lambda: _print_sessions(found, now))
        return
    rows = sessions.series(found, now)
    emit(rows, as_json, lambda: _print_series(rows))


def _when(text: str, all_day: bool) -> str:
    moment = datetime.fromisoformat(text)
    return f"{moment:%a %d %b %Y}, all day" if all_day else f"{moment:%a %d %b %Y, %H:%M}"


def _print_series(rows: list[Row]) -> None:
    if not rows:
        _print_sessions([], None)
        return
    for row in rows:
        repeat = " (repeats)" if row["recurring"] else ""
        if row["next"]:
            dates = " · ".join(_when(d, row["all_day"]) for d in row["next"])
            more = f" (+{row['more_ahead']} more)" if row["more_ahead"] else ""
            click.echo(f"  {row['session_id']:>4}  {row['title']}{repeat}  next: {dates}{more}")
        else:
            click.echo(
                f"✓ {row['session_id']:>4}  {row['title']}{repeat}  last: "
                f"{_when(row['last'], row['all_day'])}"
            )


def _print_sessions(found: list[Occurrence], now: datetime | None) -> None:
    if not found:
        click.echo(
            "No sessions yet. Add one with `companion session add 'tomorrow 15:00'` "
            "or `companion session import calendar.ics`."
        )
        return
    for occ in found:
        when = (
            f"{occ.starts:%a %d %b %Y}, all day"
            if occ.all_day
            else f"{occ.starts:%a %d %b %Y, %H:%M}"
        )
        mark = "  " if now is None or occ.starts >= now else "✓ "
        repeat = " (repeats)" if occ.recurring else ""
        click.echo(f"{mark}{occ.session_id:>4}  {when}  {occ.title}{repeat}")


@session.command("note")
@click.argument("words", nargs=-1, required=True, metavar="[ID] TEXT")
@tag_option
@json_option
@pass_app
def session_note(app: App, words: tuple[str, ...], tags: tuple[str, ...], as_json: bool) -> None:
    """Write down what your therapist noticed or suggested ('-' reads standard input).

    It belongs to session ID, or to your latest session; it is in your next brief, and a
    check-in during the week asks how it went.
    """
    from .. import journal
    from ..session_notes import note_draft

    session_id = int(words[0]) if len(words) > 1 and words[0].isdigit() else None
    text = read_text_arg(" ".join(words[1:] if session_id is not None else words), what="note")
    draft = note_draft(app.store, text, now=app.clock.now(), session_id=session_id, tags=tags)

    def confirm(done: Saved) -> None:
        linked = (
            f", with session {done.entry['session_id']}"
            if done.entry.get("session_id")
            else "; no session is on record yet, so it stands on its own"
        )
        saved(f"your therapist's note{linked}", done.entry, as_json)

    journal.save(app, draft, what="note", confirm=confirm)


@session.command("remove")
@click.argument("session_id", type=int)
@json_option
@pass_app
def session_remove(app: App, session_id: int, as_json: bool) -> None:
    """Remove session ID (a repeating series goes as a whole)."""
    from .. import sessions

    sessions.find_occurrence(app.store, session_id)
    record = sessions.remove_session(app.store, session_id)
    emit(
        record,
        as_json,
        lambda: click.echo(f"Removed session {session_id} ({record.get('title') or 'Session'})."),
    )


@session.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--match", metavar="TEXT", help="Only events whose title, place or people mention TEXT."
)
@json_option
@pass_app
def session_import(app: App, file: Path, match: str | None, as_json: bool) -> None:
    """Import sessions from a calendar file (.ics); importing again updates them."""
    from .. import sessions

    rows = sessions.import_calendar(app.store, file, now=app.clock.now(), match=match)
    if not rows:
        hint = f" mention {match!r}" if match else " are sessions"
        emit(
            rows,
            as_json,
            lambda: click.echo(f"No events in {file.name}{hint}; nothing was imported."),
        )
        return
    from ..wording import plural

    emit(
        rows,
        as_json,
        lambda: click.echo(
            f"Imported {plural(len(rows), 'session')} from {file.name} "
            "(events seen before were updated, not doubled)."
        ),
    )


# ------------------------------------------------------------------ brief, week, stats
def _brief_options(func: Callable[P, R]) -> Callable[P, R]:
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["md", "html", "json"]),
        help="Markdown (the default; shown formatted on a terminal when no "
        "format is given), HTML or JSON.",
    )(func)
    func = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        help="Write to this file ('-': standard output).",
    )(func)
    func = click.option(
        "--open", "open_it", is_flag=True, help="Open the written file (HTML opens in the browser)."
    )(func)
    func = click.option(
        "--speak", is_flag=True, help="Read the headline and what you want to talk about aloud."
    )(func)
    return click.option(
        "--tag", metavar="WORD", help="Only what carries this tag (#WORD or --tag WORD)."
    )(func)


def _options(app: App, tag: str | None) -> Options:
    """The brief's tag, and its crisis check unless [brief] show_crisis_note is off."""
    from .. import brief as briefs
    from ..tags import clean_tag

    word = clean_tag(tag) if tag is not None else None
    if tag is not None and word is None:
        raise click.BadParameter(f"{tag!r} is not a tag; a tag is one word.", param_hint="--tag")
    if not app.settings.brief.show_crisis_note:
        return briefs.Options(tag=word)
    settings, check = app.settings, app.check_words  # the App's crisis check
    return briefs.Options(tag=word, crisis=lambda text: check(text, settings))


@click.command()
@click.option(
    "--since",
    default="last-session",
    show_default=True,
    metavar="last-session|7d|DATE",
    help="Where the brief starts.",
)
@_brief_options
@pass_app
def brief(
    app: App,
    since: str,
    fmt: str | None,
    output: Path | None,
    open_it: bool,
    speak: bool,
    tag: str | None,
) -> None:
    """One page to bring to your next session: what changed since the last one."""
    from .. import brief as briefs

    options = _options(app, tag)
    now = app.clock.now()  # after everything saved before this command: all of it is in
    span = briefs.resolve_span(app.store, since, now)
    data = briefs.build(app.store, span, now=now, options=options)
    _deliver(app, data, fmt, output, open_it=open_it, speak=speak)


@click.command()
@click.option(
    "--note",
    metavar="TEXT",
    help="Write this week's note, what felt different ('-' reads standard input), "
    "instead of showing the week.",
)
@_brief_options
@pass_app
def week(
    app: App,
    note: str | None,
    fmt: str | None,
    output: Path | None,
    open_it: bool,
    speak: bool,
    tag: str | None,
) -> None:
    """The brief for the last 7 days: a look back at your week (or --note to add to it)."""
    from .. import brief as briefs

    if note is not None:
        _weekly_note(app, note, tag)
        return
    options = _options(app, tag)
    now = app.clock.now()
    span = briefs.resolve_span(app.store, "7d", now)
    data = briefs.build(app.store, span, now=now, options=options)
    _deliver(app, data, fmt, output, open_it=open_it, speak=speak)


def _weekly_note(app: App, note: str, tag: str | None) -> None:
    from .. import journal
    from ..store import EntryDraft
    from ..vocab import EntryKind

    tags = _options(app, tag).tag
    draft = EntryDraft(
        EntryKind.WEEKLY,
        read_text_arg(note, what="note"),
        prompt=WEEKLY_QUESTION,
        tags=(tags,) if tags else (),
    )
    journal.save(
        app,
        draft,
        what="weekly note",
        confirm=lambda done: saved("your note for the week", done.entry, False),
    )


WEEKLY_QUESTION = "What felt different this week?"


def _deliver(
    app: App, data: Row, fmt: str | None, output: Path | None, *, open_it: bool, speak: bool
) -> None:
    from ..brief_text import print_markdown, render

    chosen = fmt or "md"
    text = render(data, chosen)
    if output is not None and str(output) == "-":  # standard output, as --format gives it
        output = None
        fmt = chosen
    if output is not None:
        check_output(output, app.paths)
    elif chosen == "html" or open_it:
        ensure_dir(app.paths.exports_dir)
        output = app.paths.exports_dir / f"brief-{data['span']['end'][:10]}.{chosen}"
    if output is None:
        if fmt is None and sys.stdout.isatty():
            print_markdown(text)
        else:
            click.echo(text, nl=not text.endswith("\n"))
    else:
        write_private_text(output, text)
        click.echo(f"Wrote the brief to {output}.")
    if speak:
        _speak(app, data)
    if open_it and output is not None:
        from ..adapters.opener import open_path

        open_path(output)


def _speak(app: App, data: Row) -> None:
    from ..brief_text import spoken_text
    from ..speech import read_aloud

    if not read_aloud(app, spoken_text(data)):
        click.echo("(Reading aloud is off: [speech] enabled = false.)", err=True)


@click.command()
@click.option(
    "--weeks",
    default=12,
    show_default=True,
    type=click.IntRange(1, 520),
    help="How many weeks to look back.",
)
@json_option
@pass_app
def stats(app: App, weeks: int, as_json: bool) -> None:
    """Your measures over recent weeks, with small charts."""
    from .. import brief as briefs
    from ..brief_text import print_stats
    from ..wording import plural

    now = app.clock.now()
    span = briefs.Span(
        start=now - timedelta(weeks=weeks), end=now, label=f"the last {plural(weeks, 'week')}"
    )
    data = briefs.build(app.store, span, now=now)
    emit(data["measures"], as_json, lambda: print_stats(data))
