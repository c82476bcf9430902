"""Questions asked on the terminal. Core modules never ask anything themselves: they
take an asker (a callable), and the command line passes these."""

from __future__ import annotations

import click

from ..crypto import has_terminal


def ask_on_terminal(prompt: str, *, confirm: bool) -> str | None:
    """A hidden prompt on the controlling terminal (never on stdin, which may hold text);
    None when there is no terminal to ask on."""
    if not has_terminal():
        return None
    answer: str = click.prompt(prompt, hide_input=True, err=True,
                               confirmation_prompt="Once more, to be sure" if confirm else False)
    return answer
