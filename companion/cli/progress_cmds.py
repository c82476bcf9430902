"""Commands for sessions, the session brief, the week and the measures (stats)."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from ..app import App
from ..paths import check_output, ensure_dir, write_private_text
from .common import emit, json_option, pass_app


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
def session_add(app: App, when: tuple[str, ...], every: str | None, title: str | None,
                as_json: bool) -> None:
    """Add a session at WHEN ('2026-12-01 15:00', 'tomorrow 15:00', 'friday 10:00')."""
    from .. import sessions

    starts = sessions.parse_when(" ".join(when), app.clock.now())
    every_days = sessions.parse_every(every) if every else None
    record = sessions.add_session(app.store, starts, every_days=every_days, title=title)
    repeat = f", {sessions.describe_every(every_days)}" if every_days else ""
    emit(record, as_json, lambda: click.echo(
        f"Saved session {record['id']}: {starts:%a %d %b %Y, %H:%M}{repeat}."))


@session.command("list")
@click.option("--upcoming", is_flag=True, help="Only the sessions ahead.")
@click.option("--past-days", default=90, show_default=True, type=click.IntRange(0, 3660),
              help="How far back to show past sessions.")
@json_option
@pass_app
def session_list(app: App, upcoming: bool, past_days: int, as_json: bool) -> None:
    """Past and upcoming sessions; repeating ones are shown up to a year ahead."""
    from .. import sessions

    now = app.clock.now()
    start = now if upcoming else now - timedelta(days=past_days)
    found = sessions.occurrences(app.store, start, now + sessions.YEAR)
    emit([o.as_dict() for o in found], as_json, lambda: _print_sessions(found, now))


def _print_sessions(found: list[Any], now: Any) -> None:
    if not found:
        click.echo("No sessions yet. Add one with `companion session add 'tomorrow 15:00'` "
                   "or `companion session import calendar.ics`.")
        return
    for occ in found:
        when = (f"{occ.starts:%a %d %b %Y}, all day" if occ.all_day
                else f"{occ.starts:%a %d %b %Y, %H:%M}")
        mark = "  " if occ.starts >= now else "✓ "
        repeat = " (repeats)" if occ.recurring else ""
        click.echo(f"{mark}{occ.session_id:>4}  {when}  {occ.title}{repeat}")


@session.command("remove")
@click.argument("session_id", type=int)
@json_option
@pass_app
def session_remove(app: App, session_id: int, as_json: bool) -> None:
    """Remove session ID (a repeating series goes as a whole)."""
    from .. import sessions

    sessions.find_occurrence(app.store, session_id)
    record = sessions.remove_session(app.store, session_id)
    emit(record, as_json, lambda: click.echo(
        f"Removed session {session_id} ({record.get('title') or 'Session'})."))


@session.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--match", metavar="TEXT",
              help="Only events whose title, place or people mention TEXT.")
@json_option
@pass_app
def session_import(app: App, file: Path, match: str | None, as_json: bool) -> None:
    """Import sessions from a calendar file (.ics); importing again updates them."""
    from .. import sessions

    rows = sessions.import_calendar(app.store, file, now=app.clock.now(), match=match)
    if not rows:
        hint = f" mention {match!r}" if match else " are sessions"
        emit(rows, as_json, lambda: click.echo(f"No events in {file.name}{hint}; "
                                               "nothing was imported."))
        return
    from ..wording import plural

    emit(rows, as_json, lambda: click.echo(
        f"Imported {plural(len(rows), 'session')} from {file.name} "
        "(events seen before were updated, not doubled)."))


# ------------------------------------------------------------------ brief, week, stats
def _brief_options(func: Any) -> Any:
    func = click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]),
                        default="md", show_default=True, help="Markdown, HTML or JSON.")(func)
    func = click.option("-o", "--output",
                        type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
                        help="Write to this file ('-': standard output).")(func)
    return click.option("--open", "open_it", is_flag=True,
                        help="Open the written file (HTML opens in the browser).")(func)


@click.command()
@click.option("--since", default="last-session", show_default=True,
              metavar="last-session|7d|DATE", help="Where the brief starts.")
@_brief_options
@pass_app
def brief(app: App, since: str, fmt: str, output: Path | None, open_it: bool) -> None:
    """One page to bring to your next session: what changed since the last one."""
    from .. import brief as briefs

    now = app.clock.now()
    span = briefs.resolve_span(app.store, since, now)
    _deliver(app, briefs.build(app.store, span, now=now), fmt, output, open_it)


@click.command()
@_brief_options
@pass_app
def week(app: App, fmt: str, output: Path | None, open_it: bool) -> None:
    """The brief for the last 7 days: a look back at your week."""
    from .. import brief as briefs

    now = app.clock.now()
    span = briefs.resolve_span(app.store, "7d", now)
    _deliver(app, briefs.build(app.store, span, now=now), fmt, output, open_it)


def _deliver(app: App, data: dict[str, Any], fmt: str, output: Path | None,
             open_it: bool) -> None:
    from .. import brief as briefs

    text = briefs.render(data, fmt)
    if output is not None and str(output) == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    if output is not None:
        check_output(output, app.paths)
    elif fmt == "html" or open_it:
        ensure_dir(app.paths.exports_dir)
        output = app.paths.exports_dir / f"brief-{data['span']['end'][:10]}.{fmt}"
    if output is None:
        if fmt == "md":
            briefs.print_markdown(text)
        else:
            click.echo(text)
        return
    write_private_text(output, text)
    click.echo(f"Wrote the brief to {output}.")
    if open_it:
        click.launch(str(output))


@click.command()
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520),
              help="How many weeks to look back.")
@json_option
@pass_app
def stats(app: App, weeks: int, as_json: bool) -> None:
    """Your measures over recent weeks, with small charts."""
    from .. import brief as briefs
    from ..wording import plural

    now = app.clock.now()
    span = briefs.Span(start=now - timedelta(weeks=weeks), end=now,
                       label=f"the last {plural(weeks, 'week')}")
    data = briefs.build(app.store, span, now=now)
    emit(data["measures"], as_json, lambda: briefs.print_stats(data))
