"""Data commands: search, export, import, forget, backup."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import re
from pathlib import Path

import click

from ..app import App
from ..paths import check_output, write_private_text
from ..records import Forgotten, Row
from ..vocab import PENDING
from ..wording import plural
from .common import emit, json_option, pass_app, print_json, read_text_arg, table

_ID_RE = re.compile(r"^(?:(entry|skill|moment|pattern|notice|phrase|session):)?(\d+)$")
_PENDING_RE = re.compile(rf"^{PENDING}:(\S+)$")


@click.command()
@click.argument("query", nargs=-1)
@click.option("--limit", type=click.IntRange(1), help="Show at most this many (newest first).")
@click.option("--tag", metavar="WORD", help="Only what carries this tag (alone: all of it).")
@json_option
@pass_app
def search(
    app: App, query: tuple[str, ...], limit: int | None, tag: str | None, as_json: bool
) -> None:
    """Find every entry, note or name that holds all the words of QUERY (and --tag)."""
    from ..tags import clean_tag

    word = clean_tag(tag) if tag is not None else None
    if tag is not None and word is None:
        raise click.BadParameter(f"{tag!r} is not a tag; a tag is one word.", param_hint="--tag")
    if not query and word is None:
        raise click.UsageError("give words to look for, or --tag WORD.")
    hits = app.store.search(" ".join(query), limit=limit, tag=word)
    emit(hits, as_json, lambda: _print_hits(hits))


def _print_hits(hits: list[Row]) -> None:
    if not hits:
        click.echo("Nothing found.")
        return
    click.echo("\n".join(_hit_line(hit) for hit in hits))  # one write: thousands of hits


def _hit_line(hit: Row) -> str:
    ref = hit["id"] if hit["record"] == "entry" else f"{hit['record']}:{hit['id']}"
    text = hit.get("text") or hit.get("note") or hit.get("name") or hit.get("skill") or ""
    when = (hit.get("created_at") or "")[:16].replace("T", " ")
    tags = "".join(f" #{t}" for t in hit.get("tags") or [] if f"#{t}" not in str(text))
    return f"{ref:>10}  {when}  {' '.join(str(text).split())[:200]}{tags}"


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("json", "csv", "md")),
    default="json",
    show_default=True,
    help="JSON (complete, re-importable), CSV or Markdown.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to this file (private, 0600) instead of the terminal ('-': stdout).",
)
@pass_app
def export_cmd(app: App, fmt: str, output: Path | None) -> None:
    """Everything you saved, out of companion."""
    from ..transfer import export_text

    if output is not None and str(output) == "-":  # '-': standard output
        output = None
    if output is not None:
        check_output(output, app.paths)
    text = export_text(app.store, fmt, now=app.clock.now())
    if output is None:
        click.echo(text, nl=False)
        return
    write_private_text(output, text)
    click.echo(f"Exported to {output}.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def import_cmd(app: App, file: Path, as_json: bool) -> None:
    """Bring in a companion JSON export, or jrnl's JSON export (`jrnl --export json`)."""
    from ..safety import import_summary, safety_options
    from ..transfer import import_file

    region, extra = safety_options(app.settings)
    result = import_file(
        app.store, file, now=app.clock.now(), audio_dir=app.paths.audio_dir, extra_phrases=extra
    )
    total = sum(result.counts.values())
    emit(
        result.counts,
        as_json,
        lambda: click.echo(
            f"Imported {plural(total, 'record')}."
            if total
            else "Nothing new to import: all of it is here."
        ),
    )
    summary = import_summary(result.crisis_entries, region=region)
    if summary is not None:  # once for the whole import, never a notice per old entry
        click.echo(summary.as_line(), err=True)


@click.command()
@click.argument("record_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Delete everything you saved.")
@click.option("--yes", is_flag=True, help="Needed with --all: yes, really delete everything.")
@json_option
@pass_app
def forget(app: App, record_id: str | None, everything: bool, yes: bool, as_json: bool) -> None:
    """Delete for real: ID (an entry) or KIND:ID (moment:3, skill:7...), or --all --yes.

    The text is removed from every file companion keeps (database, its journal files and
    the search index). Backups and copies you made earlier are listed so you can remove
    them too, and so are words still waiting to be saved (`forget pending:NAME` deletes one).
    """
    from ..privacy import forget_everything, forget_pending, forget_record

    pending = _PENDING_RE.match((record_id or "").strip())
    if everything:
        if not yes:
            raise click.UsageError("`forget --all` deletes everything; add --yes to confirm.")
        report = forget_everything(app.store, app.paths)
    elif pending:
        report = forget_pending(app.paths, pending.group(1))
    else:
        kind, number = _parse_ref(record_id)
        report = forget_record(app.store, app.paths, kind, number)
    emit(report, as_json, lambda: _print_forgotten(report))


def _parse_ref(text: str | None) -> tuple[str, int]:
    m = _ID_RE.match((text or "").strip())
    if not m:
        raise click.UsageError("give an ID such as 12, moment:3 or pending:NAME (or --all --yes).")
    return m.group(1) or "entry", int(m.group(2))


def _print_forgotten(report: Forgotten) -> None:
    click.echo(f"Deleted {report['deleted']}. It is gone from companion's files.")
    for found, intro in (
        (
            report["backups"],
            "Backups made before still hold it; remove them if you want it gone there too:",
        ),
        (
            report["copies"],
            "Copies taken out before (in the exports folder) may hold it "
            "too; remove them if you want it gone there as well:",
        ),
        (
            report["pending"],
            "Words set aside while the database was busy are still "
            "waiting to be saved; `companion forget pending:NAME` deletes "
            "one:",
        ),
    ):
        if found:
            click.echo(intro)
            for item in found:
                click.echo(f"  {item}")


@click.command()
@click.argument("record_id")
@click.option(
    "--text",
    "-t",
    help="The new words ('-' reads standard input); "
    "without it, your editor ($VISUAL or $EDITOR) opens.",
)
@json_option
@pass_app
def edit(app: App, record_id: str, text: str | None, as_json: bool) -> None:
    """Change the words of entry ID; its date stays, and the old words are gone for real."""
    from ..editing import edit_entry, edit_in_editor

    kind, number = _parse_ref(record_id)
    if kind != "entry":
        raise click.UsageError(
            "only entries (reflections, check-ins, notes, wins) can be "
            "edited; give the entry's ID, like 12."
        )
    entry = app.store.get("entry", number)
    new = (
        read_text_arg(text, what="text")
        if text is not None
        else edit_in_editor(app.paths, entry["text"])
    )
    row = edit_entry(app.store, number, new)
    if row is None:
        emit(entry, as_json, lambda: click.echo("Nothing changed."))
        return
    emit(
        row,
        as_json,
        lambda: click.echo(
            f"Saved your changes to entry {number}; the old words are gone from companion's files."
        ),
    )
    _crisis_check(app, row["text"])


def _crisis_check(app: App, text: str) -> None:
    """New words that use crisis language bring up the resources, as a save does."""
    from ..aftercare import crisis_check
    from ..safety import show_resources

    found = crisis_check(app, text)
    if found is not None:
        show_resources(found, echo=app.ui.warn)


@click.command()
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@json_option
@pass_app
def backup(app: App, dest: Path | None, as_json: bool) -> None:
    """A verified copy of the database (to DEST, a file or folder; default the backups folder)."""
    from ..privacy import make_backup

    path = make_backup(app.store, app.paths, dest, now=app.clock.now())
    emit(
        {"path": str(path), "bytes": path.stat().st_size},
        as_json,
        lambda: click.echo(f"Backed up and verified: {path}"),
    )


@click.command()
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 3 when a part of this computer is missing (speech model, microphone...).",
)
@json_option
@pass_app
def doctor(app: App, strict: bool, as_json: bool) -> None:
    """Check every part (config, database, model, microphone, speech, notifications, service)."""
    from ..doctor import run_checks

    results = run_checks(app)
    if as_json:
        print_json(results)
    else:
        table(
            results,
            [("status", "STATUS"), ("name", "PART"), ("detail", "DETAIL"), ("fix", "HOW TO FIX")],
        )
    missing = [r for r in results if r["status"] == "missing"]
    if not as_json and missing:
        click.echo(
            f"\n{plural(len(missing), 'part')} of this computer "
            f"{'is' if len(missing) == 1 else 'are'} missing (see HOW TO FIX); "
            "companion still saves everything you write."
        )
    if any(r["status"] == "problem" for r in results):
        raise click.exceptions.Exit(1)  # companion itself cannot work as it should
    if strict and missing:
        raise click.exceptions.Exit(3)


def register(group: click.Group) -> None:
    for command in (search, export_cmd, import_cmd, forget, edit, backup, doctor):
        group.add_command(command)
