"""SQLCipher connections that raise the standard library's sqlite3 exceptions.

sqlcipher3 has its own exception classes (sqlcipher3.dbapi2.OperationalError is not a
subclass of sqlite3.OperationalError). sqlite-utils catches the standard library's
classes in places (Database.query releasing its savepoint, supports_strict,
create_function, Table.drop, insert/update with alter=True, cached_counts), and so does
our own store. So every call that can raise goes through `_translated()`, which raises
the sqlite3 class of the same name, with the same message and error code, chained to the
original. Then code written for sqlite3 behaves the same on an encrypted database.

Imported only when a database is encrypted: it imports sqlcipher3.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlcipher3 import dbapi2

_NAMES = (
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)
_TO_STDLIB: dict[type[BaseException], type[Exception]] = {
    getattr(dbapi2, name): getattr(sqlite3, name) for name in _NAMES
}


def translate(exc: BaseException) -> Exception:
    """The standard library's exception for a sqlcipher3 one (same class name and message)."""
    target = next(_TO_STDLIB[c] for c in type(exc).__mro__ if c in _TO_STDLIB)
    new = target(*exc.args)
    for attr in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(exc, attr):
            setattr(new, attr, getattr(exc, attr))
    return new


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (dbapi2.Error, dbapi2.Warning) as exc:
        raise translate(exc) from exc


class CipherCursor(dbapi2.Cursor):
    """A cursor whose errors are the standard library's."""

    def execute(self, sql: str, *args: object) -> CipherCursor:
        with _translated():
            super().execute(sql, *args)
        return self

    def executemany(self, sql: str, *args: object) -> CipherCursor:
        with _translated():
            super().executemany(sql, *args)
        return self

    def executescript(self, sql: str) -> CipherCursor:
        with _translated():
            super().executescript(sql)
        return self

    def fetchone(self) -> object:
        with _translated():
            return super().fetchone()

    def fetchmany(self, *args: object) -> list[object]:
        with _translated():
            return super().fetchmany(*args)

    def fetchall(self) -> list[object]:
        with _translated():
            return super().fetchall()

    def __next__(self) -> object:
        with _translated():
            return super().__next__()


class CipherConnection(dbapi2.Connection):
    """A sqlcipher3 connection whose errors are the standard library's."""

    def cursor(
        self, factory: Callable[[CipherConnection], CipherCursor] = CipherCursor
    ) -> CipherCursor:
        with _translated():
            return super().cursor(factory)

    def execute(self, sql: str, *args: object) -> CipherCursor:
        return self.cursor().execute(sql, *args)

    def executemany(self, sql: str, *args: object) -> CipherCursor:
        return self.cursor().executemany(sql, *args)

    def executescript(self, sql: str) -> CipherCursor:
        return self.cursor().executescript(sql)

    def commit(self) -> None:
        with _translated():
            super().commit()

    def rollback(self) -> None:
        with _translated():
            super().rollback()

    def close(self) -> None:
        with _translated():
            super().close()

    def create_function(self, *args: object, **kwargs: object) -> None:
        with _translated():
            super().create_function(*args, **kwargs)

    def backup(self, target: object, *args: object, **kwargs: object) -> None:
        with _translated():
            super().backup(target, *args, **kwargs)


def connect(
    path: Path | str, key: str | None, *, timeout: float = 10.0, uri: bool = False
) -> CipherConnection:
    """Open (or create) an encrypted database and prove the key right away.

    SQLCipher only reads page 1 on the first statement, so without the check a wrong
    passphrase would surface as "file is not a database" on some later query. Raises
    sqlite3.DatabaseError (SQLITE_NOTADB) for a wrong key or a damaged file. With key
    None the file is a plain database (used to export between plain and encrypted). With
    `uri`, `path` is an SQLite URI ("file:...?mode=ro" for a read-only folder).
    """
    if key == "":
        raise ValueError("an encrypted database needs a non-empty key")
    with _translated():
        conn = dbapi2.connect(str(path), timeout=timeout, factory=CipherConnection, uri=uri)
    try:
        # SQLCipher logs decryption failures to stderr by default; we say it ourselves.
        conn.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            with _translated():
                conn.set_key(key)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        # Temporary tables and sorts stay in memory, never in a plain temp file.
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def cipher_version() -> str:
    """The SQLCipher version of the bundled library ("4.19.0 community")."""
    conn = dbapi2.connect(":memory:")
    try:
        return str(conn.execute("PRAGMA cipher_version").fetchone()[0])
    finally:
        conn.close()


# ------------------------------------------------------ moving between plain and encrypted
def hold_exclusively(conn: sqlite3.Connection) -> str:
    """Keep every other program out of the database until `conn` closes, and leave WAL
    mode (which merges the log into the file). Returns the journal mode now in use:
    anything but "delete" means another connection kept it in WAL."""
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("COMMIT")
    return str(mode)


def integrity(conn: sqlite3.Connection) -> str:
    """SQLite's integrity check: "ok", or the first problem it found."""
    return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def table_counts(conn: sqlite3.Connection, schema: str = "main") -> dict[str, int]:
    """The number of rows in every (not virtual) table: how a copy is proven whole."""
    names = [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}


def export_into(conn: sqlite3.Connection, dest: Path, dest_key: str) -> None:
    """Copy the whole database of `conn`, schema version included, into the empty file
    `dest`, encrypted with dest_key ('' means plain)."""
    version = conn.execute("PRAGMA main.user_version").fetchone()[0]
    conn.execute("ATTACH DATABASE ? AS export KEY ?", [str(dest), dest_key])
    try:
        conn.execute("SELECT sqlcipher_export('export')")
        conn.execute(f"PRAGMA export.user_version = {int(version)}")
        if conn.in_transaction:
            conn.commit()
    finally:
        conn.execute("DETACH DATABASE export")
