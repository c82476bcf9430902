"""Commands for speech: `transcribe FILE` and `model list|install|add|use|remove`."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import App
from .common import emit, json_option, pass_app, table

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from ..adapters.models import ModelInfo


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@json_option
@pass_app
def transcribe(app: App, file: Path, as_json: bool) -> None:
    """Print the transcript of a recording (WAV; FLAC/OGG with sox). Stores nothing."""
    from ..voice import transcribe_file

    result = transcribe_file(app, file)
    low = app.settings.voice.low_confidence
    emit(result.as_dict(low_confidence=low), as_json, lambda: click.echo(result.text))


@click.group()
def model() -> None:
    """Speech models: list, install, add, use, remove. Speech never leaves this computer."""


@model.command("list")
@json_option
@pass_app
def model_list(app: App, as_json: bool) -> None:
    """Installed models and the ones the catalog can download."""
    from ..adapters import models

    active = app.settings.voice.model
    rows = [{**m.as_dict(), "active": m.name == active} for m in models.all_models(app.paths)]

    def human() -> None:
        shown = [
            {
                **r,
                "mark": "*" if r["active"] else "",
                "status": r["source"] if r["installed"] else "not installed",
                "size": f"{r['size_mb']:g} MB" if r["size_mb"] else "",
            }
            for r in rows
        ]
        table(
            shown,
            [
                ("mark", ""),
                ("name", "name"),
                ("language", "language"),
                ("status", "status"),
                ("size", "size"),
                ("description", "about"),
            ],
        )
        if not any(r["active"] and r["installed"] for r in rows):
            click.echo(f"\nThe configured model ({active}) is not installed yet.", err=True)

    emit(
        {"models": rows, "active": active, "models_dir": str(app.paths.models_dir)}, as_json, human
    )


@model.command("install")
@click.argument("name")
@click.option(
    "--sha256", help="The expected SHA-256 of the zip (needed when the catalog has none)."
)
@click.option("--url", help="Download from this address instead of the catalog's.")
@json_option
@pass_app
def model_install(app: App, name: str, sha256: str | None, url: str | None, as_json: bool) -> None:
    """Download a model from the catalog, check it, unpack it and register it."""
    from ..adapters import models

    with _Progress(f"Downloading {name}") as bar:
        info = models.install(app.paths, name, sha256=sha256, url=url, progress=bar.update)
    _done(f"Installed {info.name} in {info.path}.", info, as_json, app=app)


@model.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="The name to use (default: the folder or zip name).")
@click.option("--language", help="The language code, such as en-us (default: guessed).")
@json_option
@pass_app
def model_add(app: App, path: Path, name: str | None, language: str | None, as_json: bool) -> None:
    """Register a model folder where it is, or unpack a model zip into the models folder."""
    from ..adapters import models

    info = models.add(app.paths, path, name=name, language=language)
    _done(f"Added {info.name} ({info.path}).", info, as_json, app=app)


@model.command("use")
@click.argument("name")
@json_option
@pass_app
def model_use(app: App, name: str, as_json: bool) -> None:
    """Use this model from now on (sets [voice] model in your config file)."""
    from ..adapters import models
    from ..config import set_value

    info = models.resolve(app.paths, name)
    set_value(app.paths.config_file, "voice", "model", name)
    emit(
        info.as_dict(),
        as_json,
        lambda: click.echo(f"Now using {info.name} ({info.language}) for spoken entries."),
    )


@model.command("remove")
@click.argument("name")
@json_option
@pass_app
def model_remove(app: App, name: str, as_json: bool) -> None:
    """Forget a model (its files go only if they are in the models folder)."""
    from ..adapters import models

    info = models.remove(app.paths, name)
    emit(info.as_dict(), as_json, lambda: click.echo(f"Removed {info.name}."))
    if name == app.settings.voice.model:
        click.echo(
            "It was the model in use: choose another with `companion model use NAME`.", err=True
        )


def _done(message: str, info: ModelInfo, as_json: bool, *, app: App) -> None:
    emit(info.as_dict(), as_json, lambda: click.echo(message))
    if info.name != app.settings.voice.model:
        click.echo(f"To use it: companion model use {info.name}", err=True)


class _Progress:
    """A download progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: ProgressBar[int] | None = None
        self.done = 0

    def __enter__(self) -> _Progress:
        return self

    def update(self, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=total or 0,
                label=self.label,
                file=sys.stderr,
                show_pos=False,
                show_percent=total is not None,
            )
            self.bar.update(done)
        else:
            self.bar.update(done - self.done)
        self.done = done

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.render_finish()


def register(group: click.Group) -> None:
    group.add_command(transcribe)
    group.add_command(model)
