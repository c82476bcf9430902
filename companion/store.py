"""The only code that touches SQL: one SQLite file through sqlite-utils.

WAL, synchronous=FULL, secure_delete=ON, FTS5 (trigram, so every script and emoji
is searchable) over every free-text column. Schema versions through sqlite-utils'
Migrations.

sqlite-utils stays the store's library for the schema (its Migrations), bulk work
(import, export, forget, updates) and everything else off the hot path. It is imported when
first needed (`Store.db`), not to open the file: importing it costs about 100 ms (about 45 ms
with numpy and pandas kept out, see `_import_sqlite_utils`), more than the whole time goal of
`reflect` or `encourage`. So the hot path — opening and checking the schema version, saving
one entry, reading rows, search — runs directly on the sqlite3 connection sqlite-utils wraps,
here in this module and nowhere else.
"""

# Lazy imports: sqlite_utils (~100 ms: only for schema steps, bulk work, updates and
# deletes, see above); cipher_db (sqlcipher3, optional), only for an encrypted database;
# shutil (it pulls in bz2 and lzma, ~2 ms on every save), only to tell a full disk from an
# I/O error.

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from .clock import Clock, SystemClock
from .errors import InputError, MissingPartError, NotFoundError, StoreError
from .paths import create_private_file, ensure_dir, make_private, own_file_exists
from .records import CycleState, Row, Tables, Word
from .tags import merge_tags, tags_in
from .vocab import OPEN_STATUSES, CheckinKind, EntryKind, Record, Source, Status

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations


def _import_sqlite_utils() -> None:
    """Import sqlite-utils without numpy and pandas.

    sqlite-utils imports them whenever they are installed, only to accept their value
    types, which we never pass; numpy alone would cost the idle daemon ~35 ms and ~15 MB.
    They stay importable for code that needs them later.
    """
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' record of the steps applied
Step = Callable[["Database"], None]


class LazyMigrations:
    """The schema steps, registered at import as with sqlite-utils' Migrations
    (`@migrations(name=...)`); sqlite-utils' own Migrations is built only when a step is
    checked or applied through it. Whether any step is pending is read with one query."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[str, Step, bool]] = []

    def __call__(self, *, name: str, transactional: bool = True) -> Callable[[Step], Step]:
        def register(step: Step) -> Step:
            self.steps.append((name, step, transactional))
            return step

        return register

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.steps]

    def real(self) -> Migrations:
        _import_sqlite_utils()
        from sqlite_utils.migrations import Migrations

        real = Migrations(self.name)
        for name, step, transactional in self.steps:
            real(name=name, transactional=transactional)(step)
        return real

    def apply(self, db: Database, *, stop_before: str | None = None) -> None:
        self.real().apply(db, stop_before=stop_before)

    def applied_names(self, conn: sqlite3.Connection) -> list[str]:
        """The steps applied to the database of `conn`, in order (plain SQL)."""
        if (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
            ).fetchone()
            is None
        ):
            return []
        return [
            r[0]
            for r in conn.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
                [self.name],
            )
        ]


migrations = LazyMigrations("companion")

# Free-text columns of each table: these are indexed for search and wiped by forget.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "entries": ("text", "prompt"),
    "skill_uses": ("skill", "note"),
    "moments": ("note",),
    "patterns": ("name",),
    "pattern_notices": ("note",),
    "phrases": ("text",),
}
# Tables whose rows carry tags (a JSON list in `tags`).
TAGGED_TABLES = ("entries", "skill_uses", "moments", "pattern_notices")
# Record kinds that `forget KIND:ID` accepts, mapped to their tables.
RECORD_TABLES: dict[str, str] = {
    Record.ENTRY: "entries",
    Record.SKILL: "skill_uses",
    Record.MOMENT: "moments",
    Record.PATTERN: "patterns",
    Record.NOTICE: "pattern_notices",
    Record.PHRASE: "phrases",
    Record.SESSION: "sessions",
}
ENTRY_KINDS = tuple(EntryKind)
DELIVERY_STATUSES = tuple(Status)
MAX_ID = 2**63 - 1  # SQLite's largest integer: no record can have an id beyond it
# A UTC time stamp as `stamp` writes it; rows holding anything else are passed over
# where a time is computed from them (they can still be listed, exported and forgotten).
UTC_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"


@migrations(name="0001_initial")
def _m0001(db: Database) -> None:
    db.table("entries").create(
        {
            "id": int,
            "kind": str,
            "area": str,
            "text": str,
            "raw_text": str,
            "source": str,
            "prompt": str,
            "mood": int,
            "bring": int,
            "tags": str,
            "created_at": str,
            "created_utc": str,
            "confidence": float,
            "model": str,
            "words": str,
            "audio_path": str,
            "delivery_id": int,
        },
        pk="id",
        not_null={"kind", "text", "source", "created_at", "created_utc"},
        defaults={"bring": 0, "tags": "[]", "source": "typed"},
    )
    db.table("entries").create_index(["created_utc"])
    db.table("skill_uses").create(
        {
            "id": int,
            "skill": str,
            "helped": int,
            "note": str,
            "moment_id": int,
            "created_at": str,
            "created_utc": str,
        },
        pk="id",
        not_null={"skill", "created_at", "created_utc"},
    )
    db.table("skill_uses").create_index(["created_utc"])
    db.table("moments").create(
        {
            "id": int,
            "intensity": int,
            "note": str,
            "skill": str,
            "created_at": str,
            "created_utc": str,
            "steady_at": str,
            "steady_minutes": float,
        },
        pk="id",
        not_null={"intensity", "created_at", "created_utc"},
    )
    db.table("moments").create_index(["created_utc"])
    db.table("patterns").create(
        {"id": int, "name": str, "created_at": str, "created_utc": str},
        pk="id",
        not_null={"name", "created_at"},
    )
    db.execute("CREATE UNIQUE INDEX idx_patterns_name ON patterns(name COLLATE NOCASE)")
    db.table("pattern_notices").create(
        {
            "id": int,
            "pattern_id": int,
            "responded": int,
            "note": str,
            "created_at": str,
            "created_utc": str,
        },
        pk="id",
        not_null={"pattern_id", "created_at", "created_utc"},
        foreign_keys=[("pattern_id", "patterns", "id")],
    )
    _create_rest(db)


def _create_rest(db: Database) -> None:
    db.table("sessions").create(
        {
            "id": int,
            "uid": str,
            "title": str,
            "starts_at": str,
            "starts_utc": str,
            "ends_at": str,
            "every_days": int,
            "rrule": str,
            "exdates": str,
            "tzid": str,
            "source": str,
            "created_at": str,
        },
        pk="id",
        not_null={"starts_at", "starts_utc", "source"},
    )
    db.table("sessions").create_index(["uid"], unique=True)
    db.table("deliveries").create(
        {
            "id": int,
            "schedule": str,
            "due_at": str,
            "due_utc": str,
            "kind": str,
            "status": str,
            "prompt": str,
            "notified_at": str,
            "answered_at": str,
            "snoozed_until": str,
            "entry_id": int,
            "updated_at": str,
        },
        pk="id",
        not_null={"schedule", "due_at", "due_utc", "status"},
    )
    db.table("deliveries").create_index(["schedule", "due_utc"], unique=True)
    db.table("deliveries").create_index(["status"])
    db.table("phrases").create(
        {
            "id": int,
            "text": str,
            "context": str,
            "source": str,
            "favourite": int,
            "created_at": str,
        },
        pk="id",
        not_null={"text", "source"},
        defaults={"favourite": 0},
    )
    db.table("content_uses").create(
        {"id": int, "kind": str, "key": str, "used_at": str, "used_utc": str},
        pk="id",
        not_null={"kind", "key", "used_utc"},
    )
    db.table("content_uses").create_index(["kind", "used_utc"])
    for table, columns in TEXT_COLUMNS.items():
        db.table(table).enable_fts(list(columns), create_triggers=True, tokenize="trigram")
        # FTS5 tokenizers stop at a NUL character; this small partial index finds the
        # rare rows that hold one, so search can check them directly.
        db.execute(f"CREATE INDEX idx_{table}_nul ON {table}(id) WHERE {_has_nul(columns)}")


def _haystack(columns: tuple[str, ...], alias: str = "") -> str:
    return " || ' ' || ".join(f"coalesce({alias}{c}, '')" for c in columns)


def _has_nul(columns: tuple[str, ...]) -> str:
    return f"instr(CAST({_haystack(columns)} AS BLOB), x'00') > 0"


@migrations(name="0002_sessions")
def _m0002_sessions(db: Database) -> None:
    # An all-day calendar event has a date and no time of day.
    db.table("sessions").add_column("all_day", int, not_null_default=0)


@migrations(name="0003_content_cycles")
def _m0003_content_cycles(db: Database) -> None:
    # Which pool a prompt or phrase came from, and where that pool's shuffled cycle stood:
    # the pool is worked through before anything in it comes back.
    table = db.table("content_uses")
    table.add_column("pool", str)
    table.add_column("cycle", int)
    table.add_column("seed", int)
    table.create_index(["pool", "cycle"])


@migrations(name="0004_notes_and_tags")
def _m0004_notes_and_tags(db: Database) -> None:
    # A therapist's note belongs to the session it came from; every record can carry tags.
    db.table("entries").add_column("session_id", int)
    for table in TAGGED_TABLES[1:]:
        db.table(table).add_column("tags", str, not_null_default="[]")


KNOWN_MIGRATIONS = {"0001_initial", "0002_sessions", "0003_content_cycles", "0004_notes_and_tags"}


def stamp(when: datetime) -> tuple[str, str]:
    """(local ISO time with its UTC offset, UTC ISO time) for an aware datetime."""
    if when.tzinfo is None:
        raise ValueError("time stamps must be timezone-aware")
    local = when.isoformat(timespec="seconds")
    utc = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return local, utc


def utc_text(when: datetime) -> str:
    return stamp(when)[1]


def damaged_message(path: Path) -> str:
    """What to say about a database file that cannot be read as one."""
    return (
        f"{path} is not a readable companion database (it may be damaged). "
        "Nothing was changed. `companion backup` copies are in the backups folder."
    )


def _explain(exc: Exception, path: Path) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (
            f"the database {path} is busy: another program is holding it. "
            "Nothing was changed; try again in a moment."
        )
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return damaged_message(path)
    if "full" in text:
        return "the disk is full, so nothing could be saved. Free some space and try again."
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"cannot write to {path}: check that the folder exists and is yours."
    return f"the database {path} could not be used ({exc})."


def is_sqlite_error(exc: BaseException) -> bool:
    """True for an exception of the standard library's sqlite3 or of sqlcipher3.

    Encrypted connections (companion/cipher_db.py) already raise sqlite3's classes;
    sqlcipher3's own can still come from connect() itself. sqlcipher3 is looked up, never
    imported, so plain databases never load it.
    """
    if isinstance(exc, sqlite3.Error):
        return True
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    return cipher is not None and isinstance(exc, cipher.Error)


@contextlib.contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's (or SQLCipher's) exceptions into a StoreError a person understands."""
    try:
        yield
    except Exception as exc:
        if not is_sqlite_error(exc):
            raise
        raise StoreError(_explain(exc, path), reason=error_reason(exc, path)) from exc


# SQLite's primary result codes, and what each means for a caller.
_REASONS = {
    5: "busy",
    6: "busy",
    10: "io",
    13: "full",
    11: "corrupt",
    26: "corrupt",
    8: "readonly",
    14: "readonly",
}


def error_reason(exc: BaseException, path: Path) -> str:
    """Why SQLite failed, as one of StoreError's reasons."""
    import shutil

    code = getattr(exc, "sqlite_errorcode", None)
    reason = _REASONS.get(code & 0xFF, "") if isinstance(code, int) else ""
    if reason == "io":  # a full disk met while growing an index is reported as an I/O error
        with contextlib.suppress(OSError):
            if shutil.disk_usage(path.parent).free < 1 << 20:
                return "full"
    return reason


class WrongPassphraseError(InputError):
    """The passphrase does not open the encrypted database (or the file is damaged)."""


class Cipher(Protocol):
    """companion.cipher_db as the store and crypto use it (the module imports sqlcipher3)."""

    def connect(
        self, path: Path | str, key: str | None, *, timeout: float = 10.0, uri: bool = False
    ) -> sqlite3.Connection: ...
    def cipher_version(self) -> str: ...
    def hold_exclusively(self, conn: sqlite3.Connection) -> str: ...
    def integrity(self, conn: sqlite3.Connection) -> str: ...
    def table_counts(self, conn: sqlite3.Connection, schema: str = "main") -> dict[str, int]: ...
    def export_into(self, conn: sqlite3.Connection, dest: Path, dest_key: str) -> None: ...


def load_cipher() -> Cipher:
    """companion.cipher_db (SQLCipher), or MissingPartError saying how to install it."""
    try:
        from . import cipher_db
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("sqlcipher3"):
            raise
        raise MissingPartError(
            "the database is encrypted, and SQLCipher is not installed. Install it with: "
            "pip install 'companion[encrypt]' (or: pip install sqlcipher3)"
        ) from exc
    return cipher_db


def connect_file(
    path: Path, key: str | None, timeout: float = 10.0, *, read_only: bool = False
) -> sqlite3.Connection:
    """A connection to a database file; with `key`, through SQLCipher, the key proven.

    `read_only` opens it for reading only (a folder nobody can write: see _read_only).
    """
    target = _read_only_uri(path) if read_only else str(path)
    if key is None:
        return sqlite3.connect(target, timeout=timeout, uri=read_only)
    try:
        return load_cipher().connect(target, key, timeout=timeout, uri=read_only)
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_NOTADB":
            raise
        raise WrongPassphraseError(
            f"that passphrase does not open {path} (or the file is damaged). Nothing was changed."
        ) from exc


def _read_only(path: Path) -> bool:
    """Whether the database must be opened read-only: its folder (or the file) cannot be
    written, as on a read-only disk. Then no WAL switch, no migration, no chmod."""
    folder = path.parent
    if not folder.is_dir():
        return False
    return not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


def _read_only_uri(path: Path) -> str:
    """SQLite's URI for reading a database nobody can write.

    A WAL database needs its -shm index to be read; on a read-only disk nobody can create
    it. With no write-ahead log left there is nothing but the file to read, so it is opened
    as immutable (no locks, no index); a log left behind is read through its index.
    """
    wal = Path(f"{path}-wal")
    whole = not wal.exists() or wal.stat().st_size == 0
    return f"file:{urllib.parse.quote(str(path))}?mode=ro" + ("&immutable=1" if whole else "")


def _check_files(path: Path, *, create: bool) -> None:
    """The database and its -wal, -shm and -journal are companion's regular files: a link or
    a FIFO there is refused before SQLite opens (and follows, or hangs on) it."""
    for suffix in ("-wal", "-shm", "-journal"):
        own_file_exists(Path(f"{path}{suffix}"))
    if not create:
        if not own_file_exists(path):
            raise StoreError(
                f"there is no database at {path} yet, and its folder cannot be "
                "written. Nothing was changed."
            )
        return
    ensure_dir(path.parent)
    if not own_file_exists(path):
        # Only a new file is opened here: closing any handle on a file this process
        # has open in SQLite would drop that connection's POSIX locks.
        create_private_file(path)
    make_private(path)


def _pk(value: object) -> int:
    if not isinstance(value, int):
        raise StoreError("the database did not return an id for the new record.")
    return value


def _row(row: Row | None) -> Row | None:
    if row is None:
        return None
    out = dict(row)
    # Written out, not looped: briefs read tens of thousands of rows, most without tags.
    tags, words = out.get("tags"), out.get("words")
    if tags.__class__ is str:
        out["tags"] = [] if tags == "[]" else json_or_text(tags)
    if words.__class__ is str:
        out["words"] = json_or_text(words)
    return out


def json_or_text(text: str) -> object:
    """The JSON value `text` holds, or `text` itself when it holds none (a row edited by
    hand or by another program is still shown, exported and forgotten, never an error)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


class Store:
    """The database. Open with `Store.open(path)`; close with `close()` or `with`."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, clock: Clock, *, key: str | None = None
    ):
        self.conn = conn
        self.path = path
        self.clock = clock
        self._key = key
        self.read_only = False
        self._depth = 0  # savepoints open inside the outer transaction

    @functools.cached_property
    def db(self) -> Database:
        """sqlite-utils' Database over this store's connection (imported on first use)."""
        _import_sqlite_utils()
        from sqlite_utils import Database

        return Database(self.conn, execute_plugins=False)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Rows of a SELECT as dicts (as sqlite-utils' rows_where gives them)."""
        cursor = self.conn.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    def _insert(self, table: str, record: Row) -> int:
        """INSERT one row (inside `writing()`); its id."""
        columns = ", ".join(f"[{c}]" for c in record)
        marks = ", ".join("?" for _ in record)
        cursor = self.conn.execute(
            f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(record.values())
        )
        return _pk(cursor.lastrowid)

    @property
    def encrypted(self) -> bool:
        """Whether this database is encrypted with SQLCipher."""
        return self._key is not None

    # ------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Clock | None = None,
        busy_timeout: float = 10.0,
        max_text_chars: int = 5_000_000,
        key: str | None = None,
    ) -> Store:
        """Open (or create) the database; with `key`, an encrypted one (SQLCipher).

        A wrong key fails here, as WrongPassphraseError, not on the first query. When the
        folder (or the file) cannot be written, the database is opened read-only: reading
        commands work, writing ones say why they cannot.
        """
        read_only = _read_only(path)
        try:
            _check_files(path, create=not read_only)
        except OSError as exc:  # a folder in its place, a file we may not open...
            raise StoreError(
                f"cannot open the database {path}: {exc.strerror or exc}. Nothing was changed."
            ) from exc
        with sqlite_errors(path):
            conn = connect_file(path, key, busy_timeout, read_only=read_only)
            try:
                store = cls(conn, path, clock or SystemClock(), key=key)
                store.max_text_chars = max_text_chars
                store.read_only = read_only
                store._prepare()
            except BaseException:
                conn.close()
                raise
        return store

    max_text_chars = 5_000_000

    def connect_like(self, path: Path) -> sqlite3.Connection:
        """A connection to another file, encrypted with this database's key if it has one."""
        return connect_file(path, self._key)

    def _prepare(self) -> None:
        conn = self.conn
        conn.execute("PRAGMA recursive_triggers=ON")  # as sqlite-utils' Database sets it
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA foreign_keys=ON")
        self._refuse_foreign()
        pending = set(migrations.names) - self._refuse_newer_schema()
        if self.read_only:
            if pending:
                raise StoreError(
                    f"{self.path} needs an update by this version of companion, "
                    "and its folder is read-only. Nothing was changed; make the "
                    "folder writable and try again."
                )
            return
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"the database {self.path} could not switch to WAL mode.")
        conn.execute("PRAGMA synchronous=FULL")
        if pending:
            migrations.apply(self.db)
        for suffix in ("", "-wal", "-shm"):
            make_private(Path(f"{self.path}{suffix}"))

    def _refuse_foreign(self) -> None:
        """A database of another program (tables, but none of companion's schema steps) is
        refused before anything is written to it: no WAL switch, no tables of ours."""
        tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if tables and MIGRATIONS_TABLE not in tables:
            raise StoreError(
                f"{self.path} is not a companion database (another program's "
                "file is in its place). Nothing was changed; move that file, or "
                "set COMPANION_HOME to another folder."
            )

    def _refuse_newer_schema(self) -> set[str]:
        """The schema steps applied; StoreError when one is from a newer companion."""
        applied = set(migrations.applied_names(self.conn))
        unknown = applied - KNOWN_MIGRATIONS
        if unknown:
            raise StoreError(
                f"{self.path} was written by a newer version of companion "
                f"(schema {max(unknown)}). Nothing was changed; update companion to open it."
            )
        return applied

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # encrypted connections raise sqlite3's too
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Database]:
        """One write transaction (nested ones become savepoints); errors come out as StoreError.

        BEGIN IMMEDIATE takes the write lock first, so a busy database is waited for
        (busy_timeout) instead of failing when a read would later upgrade to a write.
        """
        db = cast("Database", _DatabaseOnUse(self))
        with sqlite_errors(self.path):
            if self.conn.in_transaction:
                with self._savepoint():
                    yield db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.rollback()
                raise

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        name = f"companion_{id(self)}_{self._depth}"
        self._depth += 1
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        else:
            self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def _now(self, when: datetime | None) -> tuple[str, str]:
        return stamp(when or self.clock.now())

    def _check_text(self, text: str, what: str) -> str:
        if not text or not text.strip():
            raise InputError(f"the {what} is empty, so there is nothing to save.")
        if len(text) > self.max_text_chars:
            raise InputError(
                f"the {what} is {len(text):,} characters long; the limit is "
                f"{self.max_text_chars:,} ([storage] max_text_chars). Nothing was saved."
            )
        return text

    # ------------------------------------------------------------ entries
    def add_entry(self, draft: EntryDraft) -> Row:
        """Save one entry (reflection, check-in answer, weekly note, win...)."""
        if draft.kind not in ENTRY_KINDS:
            raise InputError(f"unknown entry kind {draft.kind!r}")
        self._check_text(draft.text, draft.kind)
        local, utc = self._now(draft.when)
        record = {
            "kind": draft.kind,
            "area": draft.area,
            "text": draft.text,
            "raw_text": draft.raw_text,
            "source": draft.source,
            "prompt": draft.prompt,
            "mood": draft.mood,
            "bring": int(draft.bring),
            "session_id": draft.session_id,
            "tags": _tags_json(draft.tags, draft.text),
            "created_at": local,
            "created_utc": utc,
            "confidence": draft.confidence,
            "model": draft.model,
            "words": json.dumps(draft.words) if draft.words is not None else None,
            "audio_path": draft.audio_path,
            "delivery_id": draft.delivery_id,
        }
        with self.writing():
            pk = self._insert("entries", record)
        return self.get("entry", pk)

    def has_entry(self, *, created_utc: str, text: str) -> bool:
        """Whether an entry with this exact time and text is stored already."""
        with sqlite_errors(self.path):
            return (
                self.conn.execute(
                    "SELECT 1 FROM entries WHERE created_utc = ? AND text = ? LIMIT 1",
                    [created_utc, text],
                ).fetchone()
                is not None
            )

    def get(self, kind: str, record_id: int) -> Row:
        """One record by kind ("entry", "moment", ...) and id; NotFoundError if absent."""
        table = RECORD_TABLES[kind]
        with sqlite_errors(self.path):
            rows = (
                self._query(f"SELECT * FROM [{table}] WHERE id = ?", [record_id])
                if abs(record_id) <= MAX_ID
                else []
            )
        if not rows:
            raise NotFoundError(f"there is no {kind} with id {record_id}.")
        return _row(rows[0]) or {}

    def rows(
        self,
        table: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        through: datetime | None = None,
    ) -> list[Row]:
        """Rows of a table in time order, optionally within [since, until) or [since, through].

        Times are stored to the second, so `through` (an instant such as "now") takes in
        everything stamped in its second: whatever was saved before it is in.
        """
        return self._rows(table, since=since, until=until, through=through)

    def _rows(
        self,
        table: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        through: datetime | None = None,
        where: str = "",
        params: tuple[object, ...] = (),
    ) -> list[Row]:
        """`rows()`, narrowed by a WHERE clause written here in the store (never by callers).

        Times are stored to the second, so `through` (an instant such as "now") takes in
        everything stamped in its second: whatever was saved before it is in.
        """
        column = {
            "sessions": "starts_utc",
            "deliveries": "due_utc",
            "content_uses": "used_utc",
        }.get(table, "created_utc")
        clauses, args = ([where] if where else []), list(params)
        for operator, bound in ((">=", since), ("<", until), ("<=", through)):
            if bound is not None:
                clauses.append(f"{column} {operator} ?")
                args.append(utc_text(bound))
        order = "id" if table in ("patterns", "phrases") else f"{column}, id"
        where_sql = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with sqlite_errors(self.path):
            found = self._query(f"SELECT * FROM [{table}]{where_sql} ORDER BY {order}", args)
            return [r for r in (_row(x) for x in found) if r is not None]

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        through: datetime | None = None,
        kind: str | None = None,
    ) -> list[Row]:
        """Entries in time order (of one kind when `kind`), within the bounds as rows()."""
        where, params = ("kind = ?", (kind,)) if kind else ("", ())
        return self._rows(
            "entries", since=since, until=until, through=through, where=where, params=params
        )

    def uses(self, kind: str) -> list[Row]:
        """What was shown of one kind of content ("prompt", "phrase"), in time order."""
        return self._rows("content_uses", where="kind = ?", params=(kind,))

    def latest_entry_utc(self) -> str | None:
        """When the newest entry was written (rows with a damaged time are passed over)."""
        sql = "SELECT max(created_utc) FROM entries WHERE created_utc GLOB ?"
        with sqlite_errors(self.path):
            row = self.conn.execute(sql, [UTC_GLOB]).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------ skills and moments
    def add_skill_use(
        self,
        skill: str,
        *,
        helped: int | None = None,
        note: str | None = None,
        moment_id: int | None = None,
        when: datetime | None = None,
        tags: tuple[str, ...] = (),
    ) -> Row:
        self._check_text(skill, "skill name")
        local, utc = self._now(when)
        with self.writing() as db:
            pk = (
                db.table("skill_uses")
                .insert(
                    {
                        "skill": skill.strip(),
                        "helped": helped,
                        "note": note,
                        "moment_id": moment_id,
                        "created_at": local,
                        "created_utc": utc,
                        "tags": _tags_json(tags, note),
                    }
                )
                .last_pk
            )
        return self.get("skill", _pk(pk))

    def add_moment(
        self,
        intensity: int,
        *,
        note: str | None = None,
        skill: str | None = None,
        steady_minutes: float | None = None,
        when: datetime | None = None,
        tags: tuple[str, ...] = (),
    ) -> Row:
        started = when or self.clock.now()
        local, utc = stamp(started)
        steady_at = None
        if steady_minutes is not None:
            steady_at = stamp(started + timedelta(minutes=steady_minutes))[0]
        with self.writing() as db:
            pk = (
                db.table("moments")
                .insert(
                    {
                        "intensity": intensity,
                        "note": note,
                        "skill": skill,
                        "created_at": local,
                        "created_utc": utc,
                        "steady_at": steady_at,
                        "steady_minutes": steady_minutes,
                        "tags": _tags_json(tags, note),
                    }
                )
                .last_pk
            )
            if skill:
                db.table("skill_uses").insert(
                    {
                        "skill": skill,
                        "moment_id": pk,
                        "created_at": local,
                        "created_utc": utc,
                        "tags": _tags_json(tags),
                    }
                )
        return self.get("moment", _pk(pk))

    def moment_steady(self, moment_id: int | None = None, when: datetime | None = None) -> Row:
        """Mark a tough moment as eased (the latest open one when no id is given)."""
        if moment_id is None:
            open_ones = self._rows("moments", where="steady_at IS NULL")
            if not open_ones:
                raise NotFoundError("there is no tough moment waiting to be marked steady.")
            moment_id = int(open_ones[-1]["id"])
        moment = self.get("moment", moment_id)
        now = when or self.clock.now()
        started = datetime.fromisoformat(moment["created_at"])
        minutes = round(max(0.0, (now - started).total_seconds() / 60), 1)
        with self.writing() as db:
            db.table("moments").update(
                moment_id, {"steady_at": stamp(now)[0], "steady_minutes": minutes}
            )
        return self.get("moment", moment_id)

    # ------------------------------------------------------------ patterns
    def add_pattern(self, name: str) -> Row:
        self._check_text(name, "pattern name")
        local, utc = self._now(None)
        if self.find_pattern(name) is not None:  # the name stays out of the message: it is theirs
            raise InputError(
                "there is already a pattern with that name; `companion pattern list` shows yours."
            )
        with self.writing() as db:
            pk = (
                db.table("patterns")
                .insert({"name": name.strip(), "created_at": local, "created_utc": utc})
                .last_pk
            )
        return self.get("pattern", _pk(pk))

    def find_pattern(self, name: str) -> Row | None:
        with sqlite_errors(self.path):
            rows = self._query(
                "SELECT * FROM patterns WHERE name = ? COLLATE NOCASE", [name.strip()]
            )
        return rows[0] if rows else None

    def notice_pattern(
        self,
        name: str,
        *,
        responded: bool = False,
        note: str | None = None,
        when: datetime | None = None,
        tags: tuple[str, ...] = (),
    ) -> Row:
        pattern = self.find_pattern(name)
        if pattern is None:
            raise NotFoundError(
                "there is no pattern with that name yet; `companion pattern list` shows yours, "
                "and `companion pattern add` names a new one. Nothing was saved."
            )
        local, utc = self._now(when)
        with self.writing() as db:
            pk = (
                db.table("pattern_notices")
                .insert(
                    {
                        "pattern_id": pattern["id"],
                        "responded": int(responded),
                        "note": note,
                        "created_at": local,
                        "created_utc": utc,
                        "tags": _tags_json(tags, note),
                    }
                )
                .last_pk
            )
        return self.get("notice", _pk(pk))

    def patterns_with_counts(self) -> list[Row]:
        sql = """SELECT p.id, p.name, p.created_at, count(n.id) AS noticed,
                   coalesce(sum(n.responded), 0) AS responded, max(n.created_at) AS last_noticed
                 FROM patterns p LEFT JOIN pattern_notices n ON n.pattern_id = p.id
                 GROUP BY p.id ORDER BY p.name COLLATE NOCASE"""
        with sqlite_errors(self.path):
            return self._query(sql)

    # ------------------------------------------------------------ phrases and content use
    def add_phrase(
        self,
        text: str,
        *,
        context: str | None = None,
        source: str = "user",
        favourite: bool = False,
    ) -> Row:
        self._check_text(text, "phrase")
        with self.writing() as db:
            pk = (
                db.table("phrases")
                .insert(
                    {
                        "text": text.strip(),
                        "context": context,
                        "source": source,
                        "favourite": int(favourite),
                        "created_at": self._now(None)[0],
                    }
                )
                .last_pk
            )
        return self.get("phrase", _pk(pk))

    def update_record(self, kind: str, record_id: int, values: Row) -> Row:
        self.get(kind, record_id)
        with self.writing() as db:
            db.table(RECORD_TABLES[kind]).update(record_id, values)
        return self.get(kind, record_id)

    def record_use(
        self,
        kind: str,
        key: str,
        when: datetime | None = None,
        *,
        pool: str | None = None,
        cycle: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Remember that a prompt or phrase was shown, and where its pool's cycle stood."""
        local, utc = self._now(when)
        with self.writing():
            self._insert(
                "content_uses",
                {
                    "kind": kind,
                    "key": key,
                    "used_at": local,
                    "used_utc": utc,
                    "pool": pool,
                    "cycle": cycle,
                    "seed": seed,
                },
            )

    def cycle_state(self, pool: str) -> CycleState:
        """Where a pool's cycle stands: its number and seed (0 and None before the first
        use), the keys shown in it, the last key shown, and how many were ever shown."""
        last_sql = (
            "SELECT key, cycle, seed FROM content_uses WHERE pool = ? ORDER BY id DESC LIMIT 1"
        )
        with sqlite_errors(self.path):
            last = self.conn.execute(last_sql, [pool]).fetchone()
            # an imported row may hold anything: what is not a number starts afresh
            cycle = last[1] if last and isinstance(last[1], int) else 0
            seen = [
                r[0]
                for r in self.conn.execute(
                    "SELECT key FROM content_uses WHERE pool = ? AND cycle = ?", [pool, cycle]
                )
            ]
            count = self.conn.execute(
                "SELECT count(*) FROM content_uses WHERE pool = ?", [pool]
            ).fetchone()[0]
        seed = last[2] if last and isinstance(last[2], int) else None
        return {
            "cycle": cycle,
            "seed": seed,
            "seen": seen,
            "last": last[0] if last else None,
            "count": int(count),
        }

    # ------------------------------------------------------------ check-in deliveries
    def claim_delivery(
        self,
        schedule: str,
        due: datetime,
        *,
        kind: str = CheckinKind.CHECKIN,
        prompt: str | None = None,
        status: str = Status.DUE,
    ) -> Row | None:
        """Record a due check-in once; None if (schedule, due time) was claimed before.

        The unique (schedule, due_utc) index is what makes delivery exactly-once across
        restarts: whoever inserts the row owns the delivery.
        """
        local, utc = stamp(due)
        with self.writing() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO deliveries (schedule, due_at, due_utc, kind, status, prompt,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [schedule, local, utc, kind, status, prompt, self._now(None)[0]],
            )
            if cursor.rowcount == 0:
                return None
            pk = cursor.lastrowid
        return self.delivery(_pk(pk))

    def delivery(self, delivery_id: int) -> Row:
        with sqlite_errors(self.path):
            rows = (
                self._query("SELECT * FROM deliveries WHERE id = ?", [delivery_id])
                if abs(delivery_id) <= MAX_ID
                else []
            )
        if not rows:
            raise NotFoundError(f"there is no check-in with id {delivery_id}.")
        return rows[0]

    def set_delivery(self, delivery_id: int, status: str, **values: object) -> Row:
        """Move a delivery to a new status; extra column values (notified_at, ...) may go along."""
        if status not in DELIVERY_STATUSES:
            raise ValueError(f"unknown delivery status {status!r}")
        allowed = {"notified_at", "answered_at", "snoozed_until", "entry_id", "prompt"}
        if set(values) - allowed:
            raise ValueError(f"unknown delivery fields {set(values) - allowed}")
        with self.writing() as db:
            db.table("deliveries").update(
                delivery_id, {"status": status, "updated_at": self._now(None)[0], **values}
            )
        return self.delivery(delivery_id)

    def deliveries(
        self, *, statuses: tuple[str, ...] = (), since: datetime | None = None
    ) -> list[Row]:
        where = f"status IN ({', '.join('?' for _ in statuses)})" if statuses else ""
        return self._rows("deliveries", since=since, where=where, params=statuses)

    def pending_delivery(self) -> Row | None:
        """The latest check-in that was sent (or snoozed) and not yet answered or skipped."""
        waiting = self.deliveries(statuses=OPEN_STATUSES)
        return waiting[-1] if waiting else None

    # ------------------------------------------------------------ sessions
    def upsert_session(self, session: Row) -> Row:
        """Add a session, or update the one with the same uid (a calendar re-import)."""
        record = dict(session)
        starts = record.pop("starts")
        record["starts_at"], record["starts_utc"] = stamp(starts)
        if isinstance(record.get("ends"), datetime):
            record["ends_at"] = stamp(record.pop("ends"))[0]
        record.pop("ends", None)
        record.setdefault("created_at", self._now(None)[0])
        with self.writing() as db:
            existing = list(db.table("sessions").rows_where("uid = ?", [record.get("uid")]))
            if record.get("uid") and existing:
                record.pop("created_at")
                db.table("sessions").update(existing[0]["id"], record)
                pk = existing[0]["id"]
            else:
                pk = db.table("sessions").insert(record).last_pk
        return self.get("session", _pk(pk))

    def upsert_sessions(self, sessions: list[Row]) -> list[Row]:
        """Several sessions in one transaction: all are saved, or none."""
        with self.writing():
            return [self.upsert_session(s) for s in sessions]

    # ------------------------------------------------------------ search
    def search(self, query: str, *, limit: int | None = None, tag: str | None = None) -> list[Row]:
        """Every record whose free text holds all the words of `query` (any script, emoji too),
        and, with `tag`, that carries that tag (a tag alone finds every record with it).

        Words of three or more characters use the trigram index; shorter ones are checked
        on the rows it finds (or on all rows when the query has only short words).
        """
        terms = [t for t in query.split() if t]
        if not terms and not tag:
            raise InputError("the search is empty; give a word or phrase to look for.")
        tables = [t for t in TEXT_COLUMNS if tag is None or t in TAGGED_TABLES]
        hits: list[Row] = []
        with sqlite_errors(self.path):
            for table in tables:
                hits += self._search_table(table, TEXT_COLUMNS[table], terms, tag)
        hits.sort(key=lambda h: (h.get("created_utc") or "", h["id"]), reverse=True)
        return hits[:limit] if limit is not None else hits

    def _search_table(
        self, table: str, columns: tuple[str, ...], terms: list[str], tag: str | None
    ) -> list[Row]:
        long_terms = [t for t in terms if len(t) >= 3]
        checks = [f"instr(lower({_haystack(columns)}), lower(?)) > 0" for _ in terms]
        params: list[object] = list(terms)
        if tag is not None:
            checks.append(f"EXISTS (SELECT 1 FROM json_each({table}.tags) WHERE value = ?)")
            params.append(tag.casefold())
        words = " AND ".join(checks)
        if long_terms:
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
            sql = (
                f"SELECT * FROM {table} WHERE rowid IN (SELECT rowid FROM {table}_fts "
                f"WHERE {table}_fts MATCH ? UNION SELECT id FROM {table} "
                f"WHERE {_has_nul(columns)}) AND {words}"
            )
            params = [match, *params]
        else:
            sql = f"SELECT * FROM {table} WHERE {words}"
        kind = next(k for k, v in RECORD_TABLES.items() if v == table)
        return [{"record": kind, **(_row(r) or {})} for r in self._query(sql, params)]

    # ------------------------------------------------------------ editing
    def edit_entry(self, entry_id: int, text: str, *, tags: list[str]) -> Row:
        """Replace an entry's words (its time stays), and leave no trace of the old ones.

        The raw transcript and the per-word data of a spoken entry held the old words too,
        so they go; the search index follows through its triggers, then `scrub()`.
        """
        self.get("entry", entry_id)
        self._check_text(text, "entry")
        with self.writing() as db:
            db.table("entries").update(
                entry_id,
                {
                    "text": text,
                    "raw_text": None,
                    "words": None,
                    "tags": json.dumps(merge_tags(tags), ensure_ascii=False),
                },
            )
        self.scrub()
        return self.get("entry", entry_id)

    # ------------------------------------------------------------ forgetting
    def forget(self, kind: str, record_id: int) -> list[str]:
        """Delete one record for real; returns files it pointed at (the caller deletes them)."""
        record = self.get(kind, record_id)
        files = [record["audio_path"]] if kind == "entry" and record.get("audio_path") else []
        with self.writing() as db:
            self._forget_links(db, kind, record)
            db.table(RECORD_TABLES[kind]).delete(record_id)
        self.scrub()
        return files

    @staticmethod
    def _forget_links(db: Database, kind: str, record: Row) -> None:
        """What holds a copy of a record's words, or points at it, goes with it."""
        if kind == "pattern":
            db.table("pattern_notices").delete_where("pattern_id = ?", [record["id"]])
        if kind == "entry":
            db.execute("UPDATE deliveries SET entry_id = NULL WHERE entry_id = ?", [record["id"]])
        if kind == "moment":  # `moment --skill X` logged X as a skill use of its own
            db.table("skill_uses").delete_where("moment_id = ?", [record["id"]])
        if kind == "skill" and record.get("moment_id") is not None:
            db.execute(
                "UPDATE moments SET skill = NULL WHERE id = ? AND skill = ?",
                [record["moment_id"], record["skill"]],
            )

    def forget_all(self) -> list[str]:
        """Delete every record; returns the audio files the entries pointed at."""
        sql = "SELECT audio_path FROM entries WHERE audio_path IS NOT NULL"
        with sqlite_errors(self.path):
            files = [str(r[0]) for r in self.db.execute(sql).fetchall()]
        with self.writing() as db:
            for table in reversed(USER_TABLES):
                db.table(table).delete_where()
        self.scrub()
        return files

    def scrub(self) -> None:
        """Leave no trace of deleted text in any file: merge the search index, then rewrite.

        secure_delete zeroes freed pages; FTS5 keeps deleted tokens until its segments are
        merged ('optimize'); the WAL keeps old pages until it is checkpointed and truncated;
        VACUUM rewrites the file without free pages.
        """
        with sqlite_errors(self.path):
            for table in TEXT_COLUMNS:
                self.conn.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES('optimize')")
            self.conn.commit()
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.execute("VACUUM")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------ backup
    def backup(self, dest: Path) -> Path:
        """An online copy of the database, verified with integrity_check before it is kept."""
        tmp = dest.with_name(f".{dest.name}.partial")
        try:
            create_private_file(tmp)
        except OSError as exc:
            raise StoreError(
                f"cannot write a backup to {dest}: {exc.strerror or exc}. Choose another place."
            ) from exc
        try:
            with sqlite_errors(self.path):
                target = self.connect_like(tmp)
                try:
                    self.conn.backup(target)
                    target.execute("PRAGMA journal_mode=DELETE")
                    result = target.execute("PRAGMA integrity_check").fetchone()[0]
                finally:
                    target.close()
            if result != "ok":
                raise StoreError(f"the backup copy failed its integrity check ({result}).")
            tmp.replace(dest)
        except OSError as exc:
            raise StoreError(
                f"cannot write a backup to {dest}: {exc.strerror or exc}. Choose another place."
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        make_private(dest)
        return dest

    # ------------------------------------------------------------ sealed files
    def seal(self, path: Path, text: str) -> None:
        """Keep `text` in a new small database file of its own, encrypted with this
        database's key (an entry set aside while the database is encrypted)."""
        if self._key is None:
            raise ValueError("only an encrypted database seals files")
        create_private_file(path)
        with sqlite_errors(path):
            conn = self.connect_like(path)
            try:
                conn.execute("PRAGMA journal_mode = MEMORY")  # no -journal file beside it
                conn.execute("CREATE TABLE sealed (text TEXT NOT NULL)")
                conn.execute("INSERT INTO sealed (text) VALUES (?)", [text])
                conn.commit()
            finally:
                conn.close()

    def unseal(self, path: Path) -> str:
        """The text a file sealed with this database's key holds (StoreError if none)."""
        with sqlite_errors(path):
            conn = self.connect_like(path)
            try:
                row = conn.execute("SELECT text FROM sealed").fetchone()
            finally:
                conn.close()
        if row is None:
            raise StoreError(f"{path} holds nothing.")
        return str(row[0])

    def integrity(self) -> str:
        with sqlite_errors(self.path):
            return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # ------------------------------------------------------------ export and import
    def dump(self) -> Tables:
        """Every user table, rows in id order, as plain values."""
        with sqlite_errors(self.path):
            return {t: [dict(r) for r in self.db[t].rows_where(order_by="id")] for t in USER_TABLES}

    def load(
        self, tables: Tables, *, on_added: Callable[[str, Row], object] | None = None
    ) -> dict[str, int]:
        """Insert rows from an export in one transaction; rows already here are skipped.

        Ids are kept where free; a clash with a different row gets a new id and the
        references to it follow. `on_added(table, row)` hears of every row added.
        """
        counts: dict[str, int] = {}
        remap: dict[str, dict[int, int]] = {}
        with self.writing() as db:
            for table in USER_TABLES:
                remap[table], counts[table] = self._load_table(
                    db, table, tables.get(table, []), remap, on_added
                )
            for old, new in remap["entries"].items():
                db.execute("UPDATE deliveries SET entry_id = ? WHERE entry_id = ?", [new, old])
        return counts

    def _load_table(
        self,
        db: Database,
        table: str,
        rows: list[Row],
        remap: dict[str, dict[int, int]],
        on_added: Callable[[str, Row], object] | None = None,
    ) -> tuple[dict[int, int], int]:
        moved: dict[int, int] = {}
        added = 0
        for row in rows:
            row = _follow_references(table, dict(row), remap)
            if table == "patterns":  # names are unique: one already here is the same pattern
                same = self.find_pattern(str(row["name"]))
                if same is not None:
                    if same["id"] != row["id"]:
                        moved[row["id"]] = same["id"]
                    continue
            if table == "sessions" and row.get("uid"):
                clash = list(db.table("sessions").rows_where("uid = ?", [row["uid"]]))
                if clash:
                    continue
            existing = list(db.table(table).rows_where("id = ?", [row["id"]]))
            if existing and existing[0] == row:
                continue
            if existing:
                old = row.pop("id")
                moved[old] = _pk(db.table(table).insert(row).last_pk)
            else:
                db.table(table).insert(row)
            added += 1
            if on_added is not None:
                on_added(table, row)
        return moved, added

    # ---- progress, sessions and the brief
    def bulk_insert(self, table: str, rows: list[Row], *, batch_size: int = 1000) -> int:
        """Insert many prepared rows in one transaction (imports and generated histories)."""
        if table not in USER_TABLES:
            raise ValueError(f"unknown table {table!r}")
        with self.writing() as db:
            db.table(table).insert_all(rows, batch_size=batch_size)
        return len(rows)

    def remove_session(self, session_id: int) -> Row:
        """Delete one session (a whole series when it repeats); returns what was removed."""
        record = self.get("session", session_id)
        with self.writing() as db:
            db.table("sessions").delete(session_id)
        return record

    # ---- voice check-ins
    def reopen(self, *, busy_timeout: float = 10.0) -> Store:
        """Another connection to this database (with its key, if encrypted) for another
        thread: SQLite connections stay in the thread that made them.

        Not through `open()`: its create_private_file opens and closes the database file,
        and closing any descriptor of a file drops every POSIX lock this process holds on
        it, this connection's too. Another process could then take the database for
        unused, checkpoint it and delete the WAL under us, and our next writes would be lost.
        """
        with sqlite_errors(self.path):
            conn = connect_file(self.path, self._key, busy_timeout, read_only=self.read_only)
            try:
                twin = Store(conn, self.path, self.clock, key=self._key)
                twin.max_text_chars = self.max_text_chars
                twin.read_only = self.read_only
                twin._prepare()
            except BaseException:
                conn.close()
                raise
        return twin


USER_TABLES = (
    "patterns",
    "moments",
    "deliveries",
    "entries",
    "pattern_notices",
    "skill_uses",
    "sessions",
    "phrases",
    "content_uses",
)
_REFERENCES = {
    "entries": {"delivery_id": "deliveries"},
    "pattern_notices": {"pattern_id": "patterns"},
    "skill_uses": {"moment_id": "moments"},
}


def _follow_references(table: str, row: Row, remap: dict[str, dict[int, int]]) -> Row:
    for column, target in _REFERENCES.get(table, {}).items():
        if row.get(column) in remap.get(target, {}):
            row[column] = remap[target][row[column]]
    return row


class _DatabaseOnUse:
    """What `Store.writing()` yields: the store's sqlite-utils Database, made (and
    sqlite-utils imported) only when the block asks something of it."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store.db, name)

    def __getitem__(self, name: str) -> object:
        return self._store.db[name]


def table_columns(db: Database, table: str) -> set[str]:
    return {c.name for c in db.table(table).columns}


@dataclass
class EntryDraft:
    """What a new entry holds before it is saved."""

    kind: str
    text: str
    _: KW_ONLY
    area: str | None = None
    source: str = Source.TYPED
    prompt: str | None = None
    mood: int | None = None
    bring: bool = False
    tags: tuple[str, ...] = ()
    when: datetime | None = None
    raw_text: str | None = None
    confidence: float | None = None
    model: str | None = None
    words: list[Word] | None = None
    audio_path: str | None = None
    delivery_id: int | None = None
    session_id: int | None = None


def _tags_json(given: tuple[str, ...] | list[str], text: str | None = None) -> str:
    """The tags column: the tags given, then the #tags written in the text."""
    return json.dumps(merge_tags(given, tags_in(text)), ensure_ascii=False)
