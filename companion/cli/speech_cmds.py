"""Speech and safety commands: encourage, friend-test, help-now, phrase remove/favourite."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..app import App
from ..vocab import PHRASE_CONTEXTS
from .common import emit, json_option, pass_app

REGIONS = ("US", "CA", "UK", "IE", "AU", "other")

context_option = click.option(
    "--context",
    type=click.Choice(PHRASE_CONTEXTS),
    help="What kind of moment it is (otherwise any).",
)
print_option = click.option(
    "--print", "print_only", is_flag=True, help="Only print the phrase; don't read it aloud."
)


def _show(text: str) -> None:
    click.echo(text)


@click.command()
@context_option
@print_option
@click.option(
    "--to-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the spoken phrase to this WAV file instead of playing it.",
)
@json_option
@pass_app
def encourage(
    app: App, context: str | None, print_only: bool, to_file: Path | None, as_json: bool
) -> None:
    """Read a kind, self-compassion phrase aloud (yours and your favourites first)."""
    from .. import speech
    from ..paths import check_output

    if to_file is not None:
        check_output(to_file, app.paths)
    result = speech.encourage(
        app,
        context=context,
        print_only=print_only,
        to_file=to_file,
        show=None if as_json else _show,
    )
    if as_json:
        emit(result.as_dict(), True, lambda: None)
    elif result.not_played:
        _not_played(result.not_played)
    elif result.path is not None:
        click.echo(f"Saved the spoken phrase to {result.path}.", err=True)
    elif not print_only and not app.settings.speech.enabled:
        click.echo("(Reading aloud is off: [speech] enabled = false.)", err=True)


@click.command("friend-test")
@context_option
@click.option(
    "--kinder",
    metavar="TEXT",
    help="What you would say to that friend; kept as one of your phrases.",
)
@print_option
@pass_app
def friend_test(app: App, context: str | None, kinder: str | None, print_only: bool) -> None:
    """Would you talk to a friend doing this work the way you talk to yourself?"""
    from .. import speech

    click.echo(speech.FRIEND_QUESTION)
    if kinder is None and sys.stdin.isatty():
        kinder = click.prompt(
            "What would you say to them? (Enter to skip)", default="", show_default=False, err=True
        )
    if kinder and kinder.strip():
        click.echo("Those are kind words. They are yours now too:")
    else:
        click.echo("Here is something kinder you could say to yourself:")
    result = speech.friend_test(
        app,
        kinder=kinder,
        context=context or "mistake",
        print_only=print_only,
        show=lambda t: click.echo(f"  {t}"),
    )
    if result.not_played:
        _not_played(result.not_played)
    if kinder and kinder.strip():
        ref = result.key.replace("user:", "phrase:")
        click.echo(f"(Kept with your phrases as {ref}.)", err=True)
        from ..aftercare import after_words

        after_words(app, kinder)  # the same crisis check as every saved word


def _not_played(reason: str) -> None:
    """The phrase was shown (and kept); only its sound is missing: a note, not an error."""
    click.echo(
        f"(It could not be read aloud: {reason.rstrip('.')}. The words are above.)", err=True
    )


@click.command("help-now")
@click.option(
    "--region",
    type=click.Choice(REGIONS),
    help="Which resources to show (default: [safety] region).",
)
@json_option
@pass_app
def help_now(app: App, region: str | None, as_json: bool) -> None:
    """Crisis resources, right now. Nothing is sent anywhere."""
    from ..safety import resources_for

    resources = resources_for(region or _region(app))
    emit(resources.as_dict(), as_json, lambda: click.echo(resources.as_text()))


def _region(app: App) -> str:
    """[safety] region; a mistake that could touch it shows every region's lines instead."""
    region = str(app.settings.safety.region)
    if any(not p.key or p.key.startswith("safety") for p in app.problems):
        click.echo("(Your configuration has a problem, so showing every region.)", err=True)
        return "other"
    return region


def register(group: click.Group) -> None:
    for command in (encourage, friend_test, help_now):
        group.add_command(command)
