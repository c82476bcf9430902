"""What every stored value may be: the check a companion export passes before import.

Each row of each table is checked field by field (type, range, dates, JSON held in text,
paths, references) before anything is written, so a crafted or damaged file is refused
with the record and field named, and nothing of it is imported. Messages never repeat a
value that could be the person's words.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .paths import inside
from .records import Row, Tables
from .sessions import rule_problem
from .store import DELIVERY_STATUSES, ENTRY_KINDS, MAX_ID, USER_TABLES, Store
from .vocab import AREAS

if TYPE_CHECKING:  # store.py imports sqlite-utils first, to say how to install it
    from sqlite_utils.db import Column

Check = Callable[[object], str | None]  # a problem with a value read from a file, or None
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _whole(lo: int, hi: int) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, int):
            return "should be a whole number"
        return None if lo <= value <= hi else f"should be from {lo} to {hi}"

    return check


def _number(lo: float, hi: float) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "should be a number"
        if not math.isfinite(value) or not lo <= value <= hi:
            return f"should be a number from {lo:g} to {hi:g}"
        return None

    return check


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: object) -> str | None:
        return None if value in choices else f"should be one of: {', '.join(choices)}"

    return check


def _text(value: object) -> str | None:
    return None if isinstance(value, str) else "should be text"


def _time(value: object) -> str | None:
    """A local time with its UTC offset, as companion writes them."""
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return "should be a date and time with its UTC offset, like 2026-03-01T10:00:00+01:00"
    return _year(when)


def _utc(value: object) -> str | None:
    if not isinstance(value, str) or not _UTC.match(value) or _time(value[:-1] + "+00:00"):
        return "should be a UTC time like 2026-03-01T09:00:00Z"
    return None


def _year(when: datetime) -> str | None:
    if EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        return None
    return f"should be a date from {EARLIEST_YEAR} to {LATEST_YEAR}"


def _json_list(item: Check) -> Check:
    """Text holding a JSON list whose items pass `item`."""

    def check(value: object) -> str | None:
        if not isinstance(value, str):
            return "should be text holding a JSON list"
        try:
            found = json.loads(value)
        except (ValueError, RecursionError):
            return "should be text holding a JSON list (it is not JSON, or nested too deeply)"
        if not isinstance(found, list) or any(item(x) for x in found):
            return "should be text holding a JSON list of the right kind of items"
        return None

    return check


def _day_or_time(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return _year(datetime.fromisoformat(value))
        except ValueError:
            pass
    return _time(value)


def _object(value: object) -> str | None:
    return None if isinstance(value, dict) else "should be an object"


ID = _whole(1, MAX_ID)
FLAG = _whole(0, 1)
# Checks beyond the column's SQLite type, by (table, column).
RULES: dict[tuple[str, str], Check] = {
    ("entries", "kind"): _one_of(ENTRY_KINDS),
    ("entries", "area"): _one_of(AREAS),
    ("entries", "mood"): _whole(1, 5),
    ("entries", "bring"): FLAG,
    ("entries", "tags"): _json_list(_text),
    ("entries", "words"): _json_list(_object),
    ("entries", "confidence"): _number(0, 1),
    ("entries", "delivery_id"): ID,
    ("skill_uses", "helped"): _whole(0, 10),
    ("skill_uses", "moment_id"): ID,
    ("moments", "intensity"): _whole(0, 10),
    ("moments", "steady_minutes"): _number(0, 1e9),
    ("pattern_notices", "responded"): FLAG,
    ("pattern_notices", "pattern_id"): ID,
    ("phrases", "favourite"): FLAG,
    ("sessions", "all_day"): FLAG,
    ("sessions", "every_days"): _whole(1, 366),
    ("sessions", "exdates"): _json_list(_day_or_time),
    ("deliveries", "status"): _one_of(DELIVERY_STATUSES),
    ("deliveries", "entry_id"): ID,
    ("deliveries", "snoozed_until"): _time,
}
_BY_TYPE: dict[str, Check] = {
    "INTEGER": _whole(-MAX_ID - 1, MAX_ID),
    "REAL": _number(-1e300, 1e300),
    "FLOAT": _number(-1e300, 1e300),
    "TEXT": _text,
}


@dataclass
class Where:
    """The file, table and record a problem is in, for the message."""

    path: Path
    table: str
    index: int
    row: Row

    def fail(self, field: str, problem: str) -> InputError:
        rid = self.row.get("id") if isinstance(self.row, dict) else None
        ident = f" (id {rid})" if ID(rid) is None else ""
        return InputError(
            f"{self.path}: {self.table} record {self.index + 1}{ident}, field "
            f"{field}: {problem}. Nothing was imported."
        )


def check_export(store: Store, tables: object, path: Path, *, audio_dir: Path) -> Tables:
    """Every table and row of a companion export, checked before anything is written."""
    if not isinstance(tables, dict):
        raise InputError(f"{path} has no tables. Nothing was imported.")
    for name, rows in tables.items():
        if name not in USER_TABLES or not isinstance(rows, list):
            raise InputError(f"{path}: unknown table {name!r}. Nothing was imported.")
        columns = {c.name: c for c in store.db.table(name).columns}
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise InputError(
                    f"{path}: record {index + 1} of {name} is not in the expected "
                    "shape. Nothing was imported."
                )
            _check_row(store, Where(path, name, index, row), columns, audio_dir=audio_dir)
    _check_references(store, tables, path)
    return tables


def _check_row(store: Store, where: Where, columns: dict[str, Column], *, audio_dir: Path) -> None:
    row = where.row
    extra = sorted(str(field) for field in row.keys() - columns.keys())
    if extra:
        raise where.fail(extra[0], "is not a field companion keeps")
    for name, column in columns.items():
        value = row.get(name)
        if value is None:
            if name == "id" or (column.notnull and column.default_value is None):
                raise where.fail(name, "is missing")
            continue
        problem = _problem(where.table, name, column.type, value, store.max_text_chars)
        if problem is None and name == "audio_path" and inside(audio_dir, value) is None:
            problem = f"should name a recording inside the audio folder ({audio_dir})"
        if problem:
            raise where.fail(name, problem)
    if where.table == "sessions":
        problem = rule_problem(row)
        if problem:
            field, _, why = problem.partition(": ")
            raise where.fail(field, why)


def _problem(table: str, name: str, kind: str, value: object, max_chars: int) -> str | None:
    base = ID if name == "id" else _BY_TYPE.get(kind.upper(), _text)
    problem = base(value) or (RULES.get((table, name)) or (lambda v: None))(value)
    if problem is None and name.endswith("_utc"):
        problem = _utc(value)
    elif problem is None and name.endswith("_at"):
        problem = _time(value)
    if problem is None and isinstance(value, str) and len(value) > max_chars:
        problem = f"is longer than the limit of {max_chars:,} characters"
    return problem


def _check_references(store: Store, tables: Tables, path: Path) -> None:
    """A caught pattern names a pattern in the file or already here (the database insists)."""
    known = {p["id"] for p in store.rows("patterns")} | {
        p.get("id") for p in tables.get("patterns", [])
    }
    for index, row in enumerate(tables.get("pattern_notices", [])):
        if row["pattern_id"] not in known:
            raise Where(path, "pattern_notices", index, row).fail(
                "pattern_id", "names a pattern that is neither in the file nor here"
            )
