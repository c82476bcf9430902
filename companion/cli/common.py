"""What every command shares: the application context, --json, printing records."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from ..clock import Clock, SystemClock
from ..paths import Paths, resolve_paths

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    """Paths, settings, store and clock, each made on first use."""

    debug: bool = False
    clock: Clock = field(default_factory=SystemClock)
    _paths: Paths | None = None
    _settings: Any = None
    _store: Any = None

    @property
    def paths(self) -> Paths:
        if self._paths is None:
            self._paths = resolve_paths()
        return self._paths

    @property
    def settings(self) -> Any:
        if self._settings is None:
            from ..config import BROKEN_CONFIG_WARNING, load_settings_lenient

            # A mistake in config.toml never stops a save: one warning, defaults for it.
            self._settings, problems = load_settings_lenient(self.paths.config_file)
            if problems:
                click.echo(BROKEN_CONFIG_WARNING, err=True)
        return self._settings

    @property
    def store(self) -> Any:
        if self._store is None:
            from ..crypto import open_store

            storage = self.settings.storage
            # Plain, or encrypted with the passphrase from a file, the keyring or a prompt.
            self._store = open_store(self.paths.db_file, self.settings.security,
                                     notice=lambda text: click.echo(text, err=True),
                                     clock=self.clock,
                                     busy_timeout=storage.busy_timeout_seconds,
                                     max_text_chars=storage.max_text_chars)
            click.get_current_context().call_on_close(self._store.close)
        return self._store


pass_app = click.make_pass_decorator(AppContext)


def json_option(func: F) -> F:
    """--json: machine-readable output (each record with its id)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON instead of text.")(func)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Print `data` as JSON with --json, otherwise call `human()` to print it for people."""
    if as_json:
        print_json(data)
    else:
        human()


def saved(what: str, record: dict[str, Any], as_json: bool, *, ref: str | None = None) -> None:
    """The one line that confirms a save."""
    emit(record, as_json, lambda: click.echo(f"Saved {what} ({ref or record['id']})."))


def read_text_arg(text: str | None, *, what: str) -> str:
    """TEXT, or '-' for standard input."""
    if text == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        return text.rstrip("\r\n")
    if text is None:
        raise click.UsageError(f"give the {what} as an argument, or '-' to read it from stdin.")
    return text


def table(rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """A plain aligned table for people (JSON is for programs)."""
    rows = list(rows)
    if not rows:
        return
    last = len(columns) - 1
    cells = [[_cell(r.get(key), whole=i == last) for i, (key, _) in enumerate(columns)]
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]
    widths[-1] = len(columns[-1][1])
    click.echo("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)).rstrip())
    for c in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


def _cell(value: Any, *, whole: bool = False) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text if whole or len(text) <= 70 else text[:67] + "..."
