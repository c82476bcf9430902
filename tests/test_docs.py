"""The docs are tested: every command and option of `companion --help` is in the README,
and every command of the README's tour runs (exit 0) against a temporary COMPANION_HOME."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from conftest import Cli
from tools.readme_commands import commands

from companion.cli import main
from companion.clock import FixedClock

README = Path(__file__).parent.parent / "README.md"


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        " ".join(path)
        for path, _ in commands(main)
        if not re.search(rf"companion {re.escape(' '.join(path))}\b", text)
    ]
    assert missing == [], f"commands missing from the README: {missing}"


def test_every_option_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = sorted(
        {
            f"{' '.join(path)} {opt}"
            for path, command in commands(main)
            for param in command.params
            if isinstance(param, click.Option)
            for opt in param.opts
            if opt.startswith("--") and not re.search(rf"{re.escape(opt)}\b", text)
        }
    )
    assert missing == [], f"options missing from the README: {missing}"


def test_the_readme_command_table_is_made_from_the_help() -> None:
    from tools.readme_commands import readme_table, table

    assert readme_table(README.read_text(encoding="utf-8")) == table(), (
        "run: python tests/tools/readme_commands.py --write"
    )


def test_every_command_has_help_text() -> None:
    bare = [" ".join(path) for path, command in commands(main) if not command.help]
    assert bare == []


def tour() -> list[str]:
    """The command lines of the README's tour, in order."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## A tour\n\n```sh\n(.*?)```", text, re.S)
    assert block, "the README has no tour"
    return [line for line in block.group(1).splitlines() if line.strip()]


def as_call(line: str) -> tuple[list[str], str | None]:
    """`companion ARGS` (or `echo TEXT | companion ARGS`) as arguments and standard input."""
    stdin = None
    if "|" in line:
        feed, line = line.split("|", 1)
        words = shlex.split(feed, comments=True)
        assert words[0] == "echo", f"the tour pipes only echo: {feed}"
        stdin = " ".join(words[1:]) + "\n"
    words = shlex.split(line, comments=True)
    assert words[0] == "companion", f"a tour line that is not a companion command: {line}"
    return words[1:], stdin


@pytest.mark.slow
def test_the_tour_runs(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(home.parent)
    clock = FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Europe/London")))
    cli = Cli(clock)
    (home.parent / "config.toml").write_text("")  # nothing from the user's own folders
    (home).mkdir(exist_ok=True)
    (home / "config.toml").write_text("[speech]\nenabled = false\n")
    for line in tour():
        args, stdin = as_call(line)
        result = cli(*args, input=stdin, ok=False)
        assert result.exit_code == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        clock.advance(60)
