"""Journaling commands: reflect, checkin, skill, moment, win, pattern, phrase.

The save path (companion.journal) and the store are imported inside the commands: they
load sqlite-utils, which `companion --help` must not pay for.
"""
# Lazy imports: the save path and the store load sqlite-utils; --help must not pay for it.

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import App
from ..vocab import AREAS, PHRASE_CONTEXTS, EntryKind, Source

if TYPE_CHECKING:
    from ..store import EntryDraft
from .common import P, R, emit, json_option, pass_app, read_text_arg, saved, table, words_argument

area_option = click.option("--area", type=click.Choice(AREAS), help="The area this belongs to.")


def _check_tags(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    from ..tags import clean_tag

    tags = tuple(clean_tag(v) for v in values)
    bad = [v for v, t in zip(values, tags, strict=True) if t is None]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not a tag; a tag is one word, like work.")
    return tuple(t for t in tags if t)


tag_option = click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="WORD",
    callback=_check_tags,
    help="Tag it (repeat for more); #words in the text are tags too.",
)
MOOD_QUESTION = "Your mood, 1 (very low) to 5 (very good)? Enter skips"
voice_options = [
    click.option("--voice", is_flag=True, help="Speak it at the microphone (transcribed here)."),
    click.option(
        "--audio",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Transcribe a recording (WAV, FLAC or OGG).",
    ),
    click.option("--yes", "-y", is_flag=True, help="Keep the transcript without asking."),
]


def with_voice(func: Callable[P, R]) -> Callable[P, R]:
    """--voice, --audio and --yes: say it instead of typing it."""
    for option in reversed(voice_options):
        func = option(func)
    return func


def _draft(
    app: App,
    kind: str,
    text: str | None,
    *,
    voice: bool,
    audio: Path | None,
    yes: bool,
    prompt: str | None = None,
) -> EntryDraft | None:
    """An EntryDraft from typed text, the microphone or a recording (None if discarded)."""
    from ..store import EntryDraft

    if not voice and audio is None:
        return EntryDraft(kind, read_text_arg(text, what="text"), prompt=prompt)
    if text is not None:
        raise click.UsageError("give either text or --voice/--audio, not both.")
    from ..voice import dictate

    result = dictate(app, audio_file=audio, yes=yes, prompt=prompt)
    if result is None:
        return None
    return EntryDraft(
        kind,
        result.text,
        prompt=prompt,
        raw_text=result.raw_text,
        source=Source.AUDIO_FILE if audio else Source.VOICE,
        confidence=result.confidence,
        model=result.model,
        words=result.words,
        audio_path=result.audio_path,
    )


def _save(
    app: App,
    draft: EntryDraft,
    *,
    what: str,
    as_json: bool,
    answer: bool = False,
) -> None:
    """Save through the one save path; "Saved ..." is printed before the aftercare."""
    from .. import journal

    journal.save(
        app,
        draft,
        answer=answer,
        what=what,
        confirm=lambda done: saved(f"your {what}", done.entry, as_json),
    )


@click.command()
@words_argument()
@area_option
@click.option("--bring", is_flag=True, help="Flag it to bring to your next session.")
@tag_option
@with_voice
@json_option
@pass_app
def reflect(
    app: App,
    text: str | None,
    area: str | None,
    bring: bool,
    tags: tuple[str, ...],
    voice: bool,
    audio: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Save a reflection: TEXT, '-' to read standard input, --voice or --audio FILE."""
    draft = _draft(app, "reflection", text, voice=voice, audio=audio, yes=yes)
    if draft is None:
        click.echo("Nothing was saved.")
        return
    draft.area, draft.bring, draft.tags = area, bring, tags
    _save(app, draft, what="reflection", as_json=as_json)


@click.command()
@words_argument("words")
@click.option(
    "--text",
    "-t",
    help="Your answer (otherwise you are asked); the rest of the line "
    "counts too: checkin --text I slept badly.",
)
@click.option("--mood", type=click.IntRange(1, 5), help="1 (very low) to 5 (very good).")
@area_option
@click.option("--snooze", is_flag=True, help="Put the waiting check-in off for a while.")
@click.option("--skip", is_flag=True, help="Let the waiting check-in go (that's fine).")
@tag_option
@with_voice
@json_option
@pass_app
def checkin(
    app: App,
    words: str | None,
    text: str | None,
    mood: int | None,
    area: str | None,
    snooze: bool,
    skip: bool,
    tags: tuple[str, ...],
    voice: bool,
    audio: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Answer a check-in now (the waiting one, if a check-in was sent).

    Typed at the prompt (or on a terminal), a mood from 1 to 5 is asked after the text;
    Enter skips it.
    """
    if words is not None:
        text = words if text is None else f"{text} {words}"
    if snooze or skip:
        _snooze_or_skip(app, snooze=snooze, as_json=as_json)
        return
    from .. import content, journal

    choice = journal.checkin_prompt(app.store, area=area, folder=app.paths.config_dir)
    prompt = choice.text
    typed_here = text is None and not voice and audio is None
    if typed_here:
        text = click.prompt(prompt, prompt_suffix="\n> ", err=True)
    draft = _draft(app, "checkin", text, voice=voice, audio=audio, yes=yes, prompt=prompt)
    if draft is None:
        click.echo("Nothing was saved.")
        return
    if mood is None and (typed_here or _on_terminal()):
        mood = ask_mood()
    draft.mood, draft.area, draft.tags = mood, area, tags
    _save(app, draft, what="check-in", as_json=as_json, answer=True)
    content.record(app.store, choice)  # only now: a check-in that failed leaves no trace


def _on_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def ask_mood(*, tries: int = 3) -> int | None:
    """A mood from 1 to 5 asked on the terminal; Enter (or no answer at all) skips it."""
    for _ in range(tries):
        try:
            answer = str(
                click.prompt(
                    MOOD_QUESTION, default="", show_default=False, err=True, prompt_suffix="\n> "
                )
            ).strip()
        except click.Abort:  # no more input: the answer is saved without a mood
            return None
        if not answer:
            return None
        if answer in ("1", "2", "3", "4", "5"):
            return int(answer)
        click.echo("A number from 1 to 5, please, or Enter to skip.", err=True)
    return None


def _snooze_or_skip(app: App, *, snooze: bool, as_json: bool) -> None:
    from .. import checkins

    if app.store.pending_delivery() is None:  # nothing to put off: that's fine too
        emit(
            {"waiting": False},
            as_json,
            lambda: click.echo(
                "No check-in is waiting right now, so there is nothing to "
                f"{'snooze' if snooze else 'skip'}. That's fine."
            ),
        )
        return
    if snooze:
        row = checkins.snooze_pending(app.store, app.settings, app.clock.now())
        message = f"Snoozed. It will come back at {row['snoozed_until'][11:16]}."
    else:
        row = checkins.skip_pending(app.store, app.clock.now())
        message = "Skipped. That's fine; see you at the next one."
    emit(row, as_json, lambda: click.echo(message))


note_option = click.option("--note", help="A few words about it ('-' reads standard input).")


def _note(note: str | None) -> str | None:
    """--note TEXT, or '-' for standard input."""
    return read_text_arg(note, what="note") if note == "-" else note


@click.command()
@words_argument("name", required=True)
@click.option("--helped", type=click.IntRange(0, 10), help="How much it helped, 0 to 10.")
@note_option
@tag_option
@json_option
@pass_app
def skill(
    app: App, name: str, helped: int | None, note: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Log one use of a coping skill (box breathing, a walk, grounding...)."""
    from .. import journal

    use = journal.add_skill_use(app, name, helped=helped, note=_note(note), tags=tags)
    saved(f"a use of {name!r}", use, as_json, ref=f"skill:{use['id']}")


@click.group(invoke_without_command=True)
@click.option("--intensity", type=click.IntRange(0, 10), help="How strong it was, 0 to 10.")
@click.option("--steady-after", help="How long until you felt steady: 20m, 1h30m, 90.")
@click.option("--skill", "skill_name", help="A skill you used.")
@note_option
@tag_option
@json_option
@click.pass_context
def moment(
    ctx: click.Context,
    intensity: int | None,
    steady_after: str | None,
    skill_name: str | None,
    note: str | None,
    tags: tuple[str, ...],
    as_json: bool,
) -> None:
    """Log a tough moment; `moment steady` marks when it eased."""
    if ctx.invoked_subcommand is not None:
        return
    if intensity is None:
        raise click.UsageError("give --intensity 0-10 (or use `companion moment steady`).")
    from ..dates import parse_duration

    minutes = parse_duration(steady_after) if steady_after is not None else None
    app: App = ctx.obj
    from .. import journal

    row = journal.add_moment(
        app, intensity, note=_note(note), skill=skill_name, steady_minutes=minutes, tags=tags
    )
    saved("the tough moment", row, as_json, ref=f"moment:{row['id']}")
    if minutes is None:
        click.echo("When it eases, run `companion moment steady`.", err=not as_json)


@moment.command("steady")
@click.argument("moment_id", required=False, type=int)
@json_option
@pass_app
def moment_steady(app: App, moment_id: int | None, as_json: bool) -> None:
    """Mark a tough moment as eased (the latest one by default)."""
    from ..wording import duration

    row = app.store.moment_steady(moment_id)
    emit(
        row,
        as_json,
        lambda: click.echo(
            f"Steady again after {duration(row['steady_minutes'])}. Well done riding it out."
        ),
    )


@click.command()
@words_argument(required=True)
@area_option
@tag_option
@json_option
@pass_app
def win(app: App, text: str, area: str | None, tags: tuple[str, ...], as_json: bool) -> None:
    """Save a small win (said no once, paused before replying...)."""
    from ..store import EntryDraft

    draft = EntryDraft(EntryKind.WIN, read_text_arg(text, what="win"), area=area, tags=tags)
    _save(app, draft, what="win", as_json=as_json)


@click.group()
def pattern() -> None:
    """Named patterns, and each time you caught one."""


@pattern.command("add")
@words_argument("name", required=True)
@json_option
@pass_app
def pattern_add(app: App, name: str, as_json: bool) -> None:
    """Name a pattern you want to notice (for example "people pleasing")."""
    row = app.store.add_pattern(name)
    saved(f"the pattern {row['name']!r}", row, as_json, ref=f"pattern:{row['id']}")


@pattern.command("noticed")
@words_argument("name", required=True)
@click.option("--responded", is_flag=True, help="You responded instead of reacting.")
@note_option
@tag_option
@json_option
@pass_app
def pattern_noticed(
    app: App, name: str, responded: bool, note: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Record that you caught a pattern (noticing it is the skill)."""
    from .. import journal

    row = journal.notice_pattern(app, name, responded=responded, note=_note(note), tags=tags)
    emit(
        row,
        as_json,
        lambda: click.echo(
            f"Noted: you caught {name!r}" + (" and responded your way." if responded else ".")
        ),
    )


@pattern.command("list")
@json_option
@pass_app
def pattern_list(app: App, as_json: bool) -> None:
    """The patterns you named, how often you caught each, and how often you responded."""
    from ..dates import format_when

    rows = app.store.patterns_with_counts()
    zone = app.clock.now().tzinfo
    shown = [{**r, "last": format_when(r.get("last_noticed"), zone)} for r in rows]
    emit(
        rows,
        as_json,
        lambda: (
            table(
                shown,
                [
                    ("id", "ID"),
                    ("name", "PATTERN"),
                    ("noticed", "NOTICED"),
                    ("responded", "RESPONDED"),
                    ("last", "LAST CAUGHT"),
                ],
            )
            if rows
            else click.echo("No patterns yet. Add one with `companion pattern add NAME`.")
        ),
    )


@click.group()
def phrase() -> None:
    """Your own self-compassion phrases."""


@phrase.command("add")
@words_argument(required=True)
@click.option(
    "--context", type=click.Choice(PHRASE_CONTEXTS), help="When it helps most (otherwise any time)."
)
@json_option
@pass_app
def phrase_add(app: App, text: str, context: str | None, as_json: bool) -> None:
    """Add a phrase in your own words; yours are chosen before the shipped ones."""
    from .. import journal

    row = journal.add_phrase(app, read_text_arg(text, what="phrase"), context=context)
    saved("your phrase", row, as_json, ref=f"phrase:{row['id']}")


@phrase.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include the shipped phrases too.")
@json_option
@pass_app
def phrase_list(app: App, show_all: bool, as_json: bool) -> None:
    """List your phrases (and with --all the shipped ones)."""
    from ..content import load_pack

    rows = app.store.rows("phrases")
    if show_all:
        rows += [
            {"id": None, "text": t, "context": c, "source": "shipped", "favourite": 0}
            for c, texts in load_pack("phrases").items()
            for t in texts
        ]
    emit(
        rows,
        as_json,
        lambda: (
            table(
                rows,
                [("id", "ID"), ("context", "CONTEXT"), ("favourite", "FAV"), ("text", "PHRASE")],
            )
            if rows
            else click.echo('No phrases of your own yet: `companion phrase add "..."`.')
        ),
    )


def _phrase_id(value: str) -> int:
    m = re.match(r"^(?:phrase:)?(\d+)$", value.strip())
    if not m:
        raise click.BadParameter(f"{value!r} is not a phrase id such as 3 or phrase:3.")
    return int(m.group(1))


@phrase.command("remove")
@click.argument("phrase_id")
@json_option
@pass_app
def phrase_remove(app: App, phrase_id: str, as_json: bool) -> None:
    """Delete one of your phrases for good (ID from `phrase list`)."""
    number = _phrase_id(phrase_id)
    row = app.store.get("phrase", number)
    app.store.forget("phrase", number)
    emit(row, as_json, lambda: click.echo(f"Removed phrase:{number}."))


@phrase.command("favourite")
@click.argument("phrase_id")
@click.option("--off", is_flag=True, help="No longer a favourite.")
@json_option
@pass_app
def phrase_favourite(app: App, phrase_id: str, off: bool, as_json: bool) -> None:
    """Mark one of your phrases as a favourite: favourites are chosen first."""
    number = _phrase_id(phrase_id)
    row = app.store.update_record("phrase", number, {"favourite": 0 if off else 1})
    message = (
        f"phrase:{number} is no longer a favourite."
        if off
        else f"phrase:{number} is a favourite now; it will come up first."
    )
    emit(row, as_json, lambda: click.echo(message))


def register(group: click.Group) -> None:
    for command in (reflect, checkin, skill, moment, win, pattern, phrase):
        group.add_command(command)
