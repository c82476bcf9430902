"""The README's command reference, made from `companion --help` (the sqlite-utils way).

    python tests/tools/readme_commands.py          # print the table
    python tests/tools/readme_commands.py --write  # put it in README.md between the markers

tests/test_docs.py fails when README.md's table differs from what this prints.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from companion.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- commands: made by tests/tools/readme_commands.py -->", "<!-- /commands -->"


def commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and subcommand, with its path ("session", "import")."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # loads lazily registered commands too
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


def table() -> str:
    rows = ["| command | what it does | options |", "|---|---|---|"]
    for path, command in commands(main):
        options = [
            o
            for p in command.params
            if isinstance(p, click.Option)
            for o in p.opts
            if o.startswith("--") and o != "--help"
        ]
        what = command.get_short_help_str(200).rstrip(".")
        rows.append(
            f"| `companion {' '.join(path)}` | {what} | {', '.join(f'`{o}`' for o in options)} |"
        )
    return "\n".join(rows)


def readme_table(text: str) -> str | None:
    found = re.search(rf"{re.escape(START)}\n(.*?){re.escape(END)}", text, re.S)
    return found.group(1).strip() if found else None


def write() -> None:
    text = README.read_text(encoding="utf-8")
    new = f"{START}\n{table()}\n{END}"
    if readme_table(text) is None:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    README.write_text(
        re.sub(rf"{re.escape(START)}\n.*?{re.escape(END)}", lambda _: new, text, flags=re.S),
        encoding="utf-8",
    )


if __name__ == "__main__":
    write() if "--write" in sys.argv else print(table())
