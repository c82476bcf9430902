"""`companion config check|path|show`."""

from __future__ import annotations

import click

from .common import AppContext, pass_app


@click.group("config")
def config_group() -> None:
    """Validate and show the configuration."""


@config_group.command("check")
@pass_app
def config_check(app: AppContext) -> None:
    """Check the configuration file; name the file, line and key of every problem."""
    from ..config import load_settings_lenient
    from ..wording import plural

    settings, problems = load_settings_lenient(app.paths.config_file)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    if app.paths.config_file.exists():
        click.echo(f"{app.paths.config_file}: ok")
    else:
        click.echo(f"No configuration file at {app.paths.config_file}; the defaults are in use.")
    click.echo(f"{plural(len(settings.checkins.schedule), 'check-in')} scheduled.")


@config_group.command("path")
@pass_app
def config_path(app: AppContext) -> None:
    """Print where the configuration file is (or would be)."""
    click.echo(str(app.paths.config_file))


@config_group.command("show")
@pass_app
def config_show(app: AppContext) -> None:
    """Print the effective configuration: the defaults with your changes."""
    from ..config import dump_settings

    click.echo(dump_settings(app.settings), nl=False)


def register(group: click.Group) -> None:
    group.add_command(config_group)
