"""`companion config check|path|show`."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import click

from ..app import App
from .common import pass_app


@click.group("config")
def config_group() -> None:
    """Validate and show the configuration."""


@config_group.command("check")
@pass_app
def config_check(app: App) -> None:
    """Check the configuration file; name the file, line and key of every problem."""
    from ..wording import plural

    settings, problems = app.load_settings(app.paths.config_file)
    if problems and app.debug:
        raise problems[0]  # --debug: the traceback of the first mistake
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    if app.paths.config_file.exists():
        click.echo(f"{app.paths.config_file}: ok")
    else:
        click.echo(f"No configuration file at {app.paths.config_file}; the defaults are in use.")
    click.echo(f"{plural(len(settings.checkins.schedule), 'check-in')} scheduled.")
    _check_packs(app)


def _check_packs(app: App) -> None:
    """The person's own prompts.toml and phrases.toml: ok, or every problem (exit 1)."""
    from ..content import PACK_GROUPS, check_user_pack, user_pack_path

    problems = []
    for name in PACK_GROUPS:
        path = user_pack_path(app.paths.config_dir, name)
        problem = check_user_pack(app.paths.config_dir, name)
        if problem is not None:
            problems.append(problem)
        elif path.exists():
            click.echo(f"{path}: ok")
    for problem in problems[:-1]:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise problems[-1]


@config_group.command("path")
@pass_app
def config_path(app: App) -> None:
    """Print where the configuration file is (or would be)."""
    click.echo(str(app.paths.config_file))


@config_group.command("show")
@pass_app
def config_show(app: App) -> None:
    """Print the effective configuration: the defaults with your changes."""
    from ..config import dump_settings

    click.echo(dump_settings(app.settings), nl=False)


def register(group: click.Group) -> None:
    group.add_command(config_group)
