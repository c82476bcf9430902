"""What every command shares: the App, the terminal Ui, --json, printing records."""

# Lazy imports: crypto (it loads the store), only when a secret is asked for; json
# (~1.3 ms), only for --json output.

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import ParamSpec, TypeVar

import click

from ..app import App
from ..records import Row

P = ParamSpec("P")  # a command function's parameters, kept by its decorators
R = TypeVar("R")


class ClickUi:
    """The terminal: results on stdout, notes on stderr, questions on the terminal."""

    def say(self, text: str) -> None:
        click.echo(text)

    def warn(self, text: str) -> None:
        click.echo(text, err=True)

    def ask(self, question: str, *, default: str | None = None, hidden: bool = False) -> str:
        from ..crypto import has_terminal

        if hidden and not has_terminal():  # a secret is never read from stdin (it may hold text)
            raise EOFError("no terminal to type on")
        try:
            return str(
                click.prompt(
                    question,
                    default=default,
                    hide_input=hidden,
                    show_default=default not in (None, ""),
                    err=True,
                )
            )
        except click.exceptions.Abort as exc:
            raise EOFError("no answer") from exc


pass_app = click.make_pass_decorator(App)


def json_option(func: Callable[P, R]) -> Callable[P, R]:
    """--json: machine-readable output (each record with its id)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def print_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def emit(data: object, as_json: bool, human: Callable[[], None]) -> None:
    """Print `data` as JSON with --json, otherwise call `human()` to print it for people."""
    if as_json:
        print_json(data)
    else:
        human()


def saved(what: str, record: Row, as_json: bool, *, ref: str | None = None) -> None:
    """The one line that confirms a save."""
    emit(record, as_json, lambda: click.echo(f"Saved {what} ({ref or record['id']})."))


def words_argument(
    name: str = "text", *, required: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """TEXT as the rest of the line, as people type it: `reflect I feel low` needs no
    quotes (the words are joined by spaces)."""
    return click.argument(name, nargs=-1, required=required, callback=_joined)


def _joined(ctx: click.Context, param: click.Parameter, words: tuple[str, ...]) -> str | None:
    return " ".join(words) if words else None


def read_text_arg(text: str | None, *, what: str) -> str:
    """TEXT, or '-' for standard input (which must be UTF-8: nothing is guessed or replaced)."""
    if text == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            from ..errors import InputError

            raise InputError(
                f"the {what} on standard input is not UTF-8 text, and companion "
                "will not guess at your words. Nothing was saved."
            ) from None
        return text.rstrip("\r\n")
    if text is None:
        raise click.UsageError(f"give the {what} as an argument, or '-' to read it from stdin.")
    return text


def table(rows: Iterable[Mapping[str, object]], columns: list[tuple[str, str]]) -> None:
    """A plain aligned table for people (JSON is for programs)."""
    rows = list(rows)
    if not rows:
        return
    last = len(columns) - 1
    cells = [
        [_cell(r.get(key), whole=i == last) for i, (key, _) in enumerate(columns)] for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    widths[-1] = len(columns[-1][1])
    click.echo("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)).rstrip())
    for c in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


def _cell(value: object, *, whole: bool = False) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text if whole or len(text) <= 70 else text[:67] + "..."
