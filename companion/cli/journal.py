"""Journaling commands: reflect, checkin, skill, moment, win, pattern, phrase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..vocab import AREAS, PHRASE_CONTEXTS
from .common import AppContext, emit, json_option, pass_app, read_text_arg, saved, table

area_option = click.option("--area", type=click.Choice(AREAS),
                           help="The area this belongs to.")
voice_options = [
    click.option("--voice", is_flag=True, help="Speak it at the microphone (transcribed here)."),
    click.option("--audio", type=click.Path(dir_okay=False, path_type=Path),
                 help="Transcribe a recording (WAV, FLAC or OGG)."),
    click.option("--yes", "-y", is_flag=True, help="Keep the transcript without asking."),
]


def with_voice(func: Any) -> Any:
    for option in reversed(voice_options):
        func = option(func)
    return func


def _draft(app: AppContext, kind: str, text: str | None, *, voice: bool, audio: Path | None,
           yes: bool, prompt: str | None = None) -> Any:
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
    return EntryDraft(kind, result.text, prompt=prompt, raw_text=result.raw_text,
                      source="audio-file" if audio else "voice", confidence=result.confidence,
                      model=result.model, words=result.words, audio_path=result.audio_path)


def _save(app: AppContext, draft: Any, *, what: str, answer: bool = False) -> dict[str, Any]:
    """Save an entry (a check-in answer when `answer`); entries set aside earlier go first.

    When the database cannot take it now (disk full, held by another program), the
    entry is set aside in a private file and saved later; the person is told where.
    """
    from .. import journal
    from ..errors import StoreError

    try:
        journal.replay_pending(app.store, app.paths)
        if answer:
            return journal.answer_checkin(app.store, draft, clock=app.clock)[0]
        return dict(app.store.add_entry(draft))
    except StoreError as exc:
        if not journal.can_set_aside(exc):
            raise
        kept = journal.set_aside(app.paths, draft, answer=answer, now=app.clock.now())
        reason = journal.why_not_saved(exc, app.paths.data_dir)
        raise StoreError(_set_aside_message(reason, what, kept, draft.text)) from exc


def _set_aside_message(reason: str, what: str, kept: Path | None, text: str) -> str:
    if kept is not None:
        return (f"{reason} Your {what} is not lost: it is kept in {kept} and will be added "
                "by the next companion command that saves something, or by the daemon.")
    click.echo(text)  # nowhere on disk took it: give the words back to the person
    return (f"{reason} Your {what} could not be set aside either, so it is printed above; "
            "please copy it somewhere safe.")


def _after_save(app: AppContext, entry: dict[str, Any]) -> None:
    """What follows every save (crisis resources when the words call for them)."""
    from ..aftercare import after_entry

    def notify(title: str, body: str) -> None:
        from ..adapters.notify import Notice, send_once

        n = app.settings.notifications
        send_once(n.backend, Notice(title, body, urgency=2), timeout=n.timeout_seconds)

    after_entry(app, entry, notify=notify)


@click.command()
@click.argument("text", required=False)
@area_option
@click.option("--bring", is_flag=True, help="Flag it to bring to your next session.")
@with_voice
@json_option
@pass_app
def reflect(app: AppContext, text: str | None, area: str | None, bring: bool, voice: bool,
            audio: Path | None, yes: bool, as_json: bool) -> None:
    """Save a reflection: TEXT, '-' to read standard input, --voice or --audio FILE."""
    draft = _draft(app, "reflection", text, voice=voice, audio=audio, yes=yes)
    if draft is None:
        click.echo("Nothing was saved.")
        return
    draft.area, draft.bring = area, bring
    entry = _save(app, draft, what="reflection")
    saved("your reflection", entry, as_json)
    _after_save(app, entry)


@click.command()
@click.option("--text", "-t", help="Your answer (otherwise you are asked).")
@click.option("--mood", type=click.IntRange(1, 5), help="1 (very low) to 5 (very good).")
@area_option
@click.option("--snooze", is_flag=True, help="Put the waiting check-in off for a while.")
@click.option("--skip", is_flag=True, help="Let the waiting check-in go (that's fine).")
@with_voice
@json_option
@pass_app
def checkin(app: AppContext, text: str | None, mood: int | None, area: str | None,
            snooze: bool, skip: bool, voice: bool, audio: Path | None, yes: bool,
            as_json: bool) -> None:
    """Answer a check-in now (the waiting one, if a check-in was sent)."""
    from .. import journal

    if snooze or skip:
        _snooze_or_skip(app, snooze=snooze, as_json=as_json)
        return
    prompt = journal.checkin_prompt(app.store)
    if text is None and not voice and audio is None:
        text = click.prompt(prompt, prompt_suffix="\n> ", err=True)
    draft = _draft(app, "checkin", text, voice=voice, audio=audio, yes=yes, prompt=prompt)
    if draft is None:
        click.echo("Nothing was saved.")
        return
    draft.mood, draft.area = mood, area
    entry = _save(app, draft, what="check-in", answer=True)
    saved("your check-in", entry, as_json)
    _after_save(app, entry)


def _snooze_or_skip(app: AppContext, *, snooze: bool, as_json: bool) -> None:
    from .. import checkins

    if app.store.pending_delivery() is None:  # nothing to put off: that's fine too
        emit({"waiting": False}, as_json, lambda: click.echo(
            "No check-in is waiting right now, so there is nothing to "
            f"{'snooze' if snooze else 'skip'}. That's fine."))
        return
    if snooze:
        row = checkins.snooze_pending(app.store, app.settings, app.clock.now())
        message = f"Snoozed. It will come back at {row['snoozed_until'][11:16]}."
    else:
        row = checkins.skip_pending(app.store, app.clock.now())
        message = "Skipped. That's fine; see you at the next one."
    emit(row, as_json, lambda: click.echo(message))


@click.command()
@click.argument("name")
@click.option("--helped", type=click.IntRange(0, 10), help="How much it helped, 0 to 10.")
@click.option("--note", help="A few words about it.")
@json_option
@pass_app
def skill(app: AppContext, name: str, helped: int | None, note: str | None,
          as_json: bool) -> None:
    """Log one use of a coping skill (box breathing, a walk, grounding...)."""
    use = app.store.add_skill_use(name, helped=helped, note=note)
    saved(f"a use of {name!r}", use, as_json, ref=f"skill:{use['id']}")


@click.group(invoke_without_command=True)
@click.option("--intensity", type=click.IntRange(0, 10), help="How strong it was, 0 to 10.")
@click.option("--steady-after", help="How long until you felt steady: 20m, 1h30m, 90.")
@click.option("--skill", "skill_name", help="A skill you used.")
@click.option("--note", help="A few words about it.")
@json_option
@click.pass_context
def moment(ctx: click.Context, intensity: int | None, steady_after: str | None,
           skill_name: str | None, note: str | None, as_json: bool) -> None:
    """Log a tough moment; `moment steady` marks when it eased."""
    if ctx.invoked_subcommand is not None:
        return
    if intensity is None:
        raise click.UsageError("give --intensity 0-10 (or use `companion moment steady`).")
    from ..dates import parse_duration

    minutes = parse_duration(steady_after) if steady_after is not None else None
    app: AppContext = ctx.obj
    row = app.store.add_moment(intensity, note=note, skill=skill_name, steady_minutes=minutes)
    saved("the tough moment", row, as_json, ref=f"moment:{row['id']}")
    if minutes is None:
        click.echo("When it eases, run `companion moment steady`.", err=not as_json)
    _after_save(app, {"moment": row})


@moment.command("steady")
@click.argument("moment_id", required=False, type=int)
@json_option
@pass_app
def moment_steady(app: AppContext, moment_id: int | None, as_json: bool) -> None:
    """Mark a tough moment as eased (the latest one by default)."""
    from ..wording import duration

    row = app.store.moment_steady(moment_id)
    emit(row, as_json, lambda: click.echo(
        f"Steady again after {duration(row['steady_minutes'])}. Well done riding it out."))


@click.command()
@click.argument("text")
@area_option
@json_option
@pass_app
def win(app: AppContext, text: str, area: str | None, as_json: bool) -> None:
    """Save a small win (said no once, paused before replying...)."""
    from ..store import EntryDraft

    entry = _save(app, EntryDraft("win", read_text_arg(text, what="win"), area=area), what="win")
    saved("your win", entry, as_json)


@click.group()
def pattern() -> None:
    """Named patterns, and each time you caught one."""


@pattern.command("add")
@click.argument("name")
@json_option
@pass_app
def pattern_add(app: AppContext, name: str, as_json: bool) -> None:
    """Name a pattern you want to notice (for example "people pleasing")."""
    row = app.store.add_pattern(name)
    saved(f"the pattern {row['name']!r}", row, as_json, ref=f"pattern:{row['id']}")


@pattern.command("noticed")
@click.argument("name")
@click.option("--responded", is_flag=True, help="You responded instead of reacting.")
@click.option("--note", help="A few words about it.")
@json_option
@pass_app
def pattern_noticed(app: AppContext, name: str, responded: bool, note: str | None,
                    as_json: bool) -> None:
    """Record that you caught a pattern (noticing it is the skill)."""
    row = app.store.notice_pattern(name, responded=responded, note=note)
    emit(row, as_json, lambda: click.echo(
        f"Noted: you caught {name!r}" + (" and responded your way." if responded else ".")))


@pattern.command("list")
@json_option
@pass_app
def pattern_list(app: AppContext, as_json: bool) -> None:
    """The patterns you named, how often you caught each, and how often you responded."""
    from ..dates import format_when

    rows = app.store.patterns_with_counts()
    zone = app.clock.now().tzinfo
    shown = [{**r, "last": format_when(r.get("last_noticed"), zone)} for r in rows]
    emit(rows, as_json, lambda: table(shown, [("id", "ID"), ("name", "PATTERN"),
                                              ("noticed", "NOTICED"), ("responded", "RESPONDED"),
                                              ("last", "LAST CAUGHT")])
         if rows else click.echo("No patterns yet. Add one with `companion pattern add NAME`."))


@click.group()
def phrase() -> None:
    """Your own self-compassion phrases."""


@phrase.command("add")
@click.argument("text")
@click.option("--context", type=click.Choice(PHRASE_CONTEXTS),
    help="When it helps most (otherwise any time).")
@json_option
@pass_app
def phrase_add(app: AppContext, text: str, context: str | None, as_json: bool) -> None:
    """Add a phrase in your own words; yours are chosen before the shipped ones."""
    row = app.store.add_phrase(read_text_arg(text, what="phrase"), context=context)
    saved("your phrase", row, as_json, ref=f"phrase:{row['id']}")


@phrase.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include the shipped phrases too.")
@json_option
@pass_app
def phrase_list(app: AppContext, show_all: bool, as_json: bool) -> None:
    """List your phrases (and with --all the shipped ones)."""
    from ..content import load_pack

    rows = app.store.rows("phrases")
    if show_all:
        rows += [{"id": None, "text": t, "context": c, "source": "shipped", "favourite": 0}
                 for c, texts in load_pack("phrases").items() for t in texts]
    emit(rows, as_json, lambda: table(rows, [("id", "ID"), ("context", "CONTEXT"),
                                             ("favourite", "FAV"), ("text", "PHRASE")])
         if rows else click.echo("No phrases of your own yet: `companion phrase add \"...\"`."))


def register(group: click.Group) -> None:
    for command in (reflect, checkin, skill, moment, win, pattern, phrase):
        group.add_command(command)
