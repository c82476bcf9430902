"""Commands (filled in by the foundation)."""

import click


def register(group: click.Group) -> None:
    pass
