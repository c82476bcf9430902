"""Encryption at rest: which database is encrypted, where its passphrase comes from, and
moving a database between plain and encrypted without ever losing it.

The database is encrypted by SQLCipher (through companion/cipher_db.py, imported only
when needed). The passphrase comes from, in this order:
1. the file named by COMPANION_PASSPHRASE_FILE (for scripts; it must be private, 0600),
2. the system keyring, when `[security] use_keyring = true` (what lets the daemon open
   the database without anyone typing),
3. a hidden prompt on the terminal (three tries).
There is deliberately no variable holding the passphrase itself: the environment is
inherited by every child process and readable in /proc while the program runs.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .errors import InputError, StoreError
from .paths import create_private_file, make_private
from .store import Store, WrongPassphraseError, connect_file, load_cipher, sqlite_errors

HEADER = b"SQLite format 3\x00"
PASSPHRASE_FILE_ENV = "COMPANION_PASSPHRASE_FILE"
KEYRING_SERVICE = "companion"
MIN_LENGTH = 8
TRIES = 3
T = TypeVar("T")
Notice = Callable[[str], None]


class Asker(Protocol):
    """Asks the person for a passphrase; None when nobody can be asked (no terminal)."""

    def __call__(self, prompt: str, *, confirm: bool) -> str | None: ...


# ---------------------------------------------------------------- what the file is
def is_encrypted(path: Path) -> bool:
    """True when the file holds an encrypted (SQLCipher) database.

    A plain SQLite file starts with "SQLite format 3\\0"; an encrypted one starts with
    its random salt and is a whole number of pages. A file of another size is damaged,
    not encrypted, and is left to SQLite to refuse.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(len(HEADER))
    except (FileNotFoundError, IsADirectoryError):
        return False
    except NotADirectoryError as exc:
        raise StoreError(f"{path.parent} is not a folder, so the database {path} cannot be "
                         "kept there (COMPANION_HOME names a folder).") from exc
    except OSError as exc:  # a link that loops, a file we may not read
        raise StoreError(f"cannot open the database {path}: {exc.strerror or exc}. "
                         "Nothing was changed.") from exc
    return size >= 1024 and size % 512 == 0 and head != HEADER


def is_new(path: Path) -> bool:
    """Nothing stored yet: no file (or an empty one) and no write-ahead log."""
    def size(p: Path) -> int:
        return p.stat().st_size if p.exists() else 0

    return size(path) == 0 and size(Path(f"{path}-wal")) == 0


# ---------------------------------------------------------------- where passphrases come from
def passphrase_from_file() -> str | None:
    """The passphrase in the file named by COMPANION_PASSPHRASE_FILE, if that is set."""
    name = os.environ.get(PASSPHRASE_FILE_ENV)
    if not name:
        return None
    path = Path(name)
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the passphrase file {path} ({PASSPHRASE_FILE_ENV}): "
                         f"{getattr(exc, 'strerror', None) or exc}.") from exc
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise InputError(f"the passphrase file {path} can be read by others; make it "
                         f"private first: chmod 600 {path}")
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise InputError(f"the passphrase file {path} is empty.")
    return text


def _terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def ask_on_terminal(prompt: str, *, confirm: bool) -> str | None:
    """A hidden prompt on the controlling terminal (never on stdin, which may hold text)."""
    if not _terminal():
        return None
    import click

    answer: str = click.prompt(prompt, hide_input=True, err=True,
                               confirmation_prompt="Once more, to be sure" if confirm else False)
    return answer


class Keyring:
    """The system keyring through `keyring`; any failure means "not available", never a crash.

    keyring's backends are plugins (Secret Service over D-Bus, KWallet, ...) that raise
    their own errors besides keyring.errors.KeyringError (locked, no backend, D-Bus gone),
    so every call is guarded and the person is told once why it was not used.
    """

    def __init__(self, path: Path, notice: Notice):
        self.account = f"database {path.resolve()}"
        self.notice = notice
        self._told = False

    def _call(self, what: str, action: Callable[[Any], T]) -> T | None:
        try:
            import keyring

            return action(keyring)
        except Exception as exc:  # plugin errors of any class: see the class docstring
            if not self._told:
                self._told = True
                self.notice(f"note: the system keyring could not {what} "
                            f"({type(exc).__name__}).")
            return None

    def get(self) -> str | None:
        return self._call("be read", lambda k: k.get_password(KEYRING_SERVICE, self.account))

    def put(self, passphrase: str) -> bool:
        done = self._call("save the passphrase",
                          lambda k: k.set_password(KEYRING_SERVICE, self.account, passphrase)
                          or True)
        return bool(done)

    def delete(self) -> None:
        self._call("forget the passphrase",
                   lambda k: k.delete_password(KEYRING_SERVICE, self.account))


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------- unlocking
def unlock(path: Path, security: Any, attempt: Callable[[str], T], *,
           ask: Asker = ask_on_terminal, notice: Notice = _quiet) -> T:
    """Find the passphrase of an encrypted database and return attempt(passphrase).

    `attempt` opens the database and raises WrongPassphraseError for a wrong key. A
    keyring that is locked, missing or holds an old passphrase leads to the prompt.
    """
    from_file = passphrase_from_file()
    if from_file is not None:
        return attempt(from_file)
    keyring = Keyring(path, notice) if security.use_keyring else None
    stored = keyring.get() if keyring else None
    if stored:
        try:
            return attempt(stored)
        except WrongPassphraseError:
            notice("note: the passphrase saved in the keyring no longer opens the database.")
    for left in range(TRIES, 0, -1):
        typed = ask(f"Passphrase for {path.name}", confirm=False)
        if typed is None:
            raise InputError(_no_passphrase(path))
        try:
            result = attempt(typed)
        except WrongPassphraseError:
            if left == 1:
                raise
            notice("That passphrase does not open it. Please try again.")
            continue
        if keyring and typed != stored:
            keyring.put(typed)
        return result
    raise AssertionError("unreachable")


def proven_key(path: Path, key: str) -> str:
    """`key`, once it has opened the database (WrongPassphraseError when it does not)."""
    with sqlite_errors(path):
        connect_file(path, key).close()
    return key


def _no_passphrase(path: Path) -> str:
    return (f"{path} is encrypted and no passphrase is available here. Run the command in "
            "a terminal to type it, or let the system keyring keep it ([security] "
            f"use_keyring = true), or name a private file holding it in {PASSPHRASE_FILE_ENV}.")


def new_passphrase(path: Path, *, ask: Asker = ask_on_terminal) -> str:
    """A passphrase for a database being encrypted now (from the file, or typed twice)."""
    from_file = passphrase_from_file()
    if from_file is not None:
        return from_file
    while True:
        typed = ask(f"Choose a passphrase for {path.name}", confirm=True)
        if typed is None:
            raise InputError(f"encrypting {path} needs a passphrase: run the command in a "
                             f"terminal, or name a private file holding it in "
                             f"{PASSPHRASE_FILE_ENV}.")
        if len(typed) >= MIN_LENGTH:
            return typed
        if _terminal():
            import click

            click.echo(f"Please use at least {MIN_LENGTH} characters.", err=True)
            continue
        raise InputError(f"the passphrase needs at least {MIN_LENGTH} characters.")


def open_store(path: Path, security: Any, *, ask: Asker = ask_on_terminal,
               notice: Notice = _quiet, **options: Any) -> Store:
    """Open the database, encrypted or plain, as the file and `[security]` say.

    An encrypted file is always opened as one, whatever the settings. A new database is
    created encrypted when `[security] encrypt = true`. A plain one with encrypt on stays
    usable (nothing the person says is ever refused) and they are told how to encrypt it.
    """
    if is_encrypted(path):
        load_cipher()  # a missing SQLCipher is said before anyone is asked for a passphrase
        return unlock(path, security, lambda key: Store.open(path, key=key, **options),
                      ask=ask, notice=notice)
    if security.encrypt and is_new(path):
        key = _new_key(path, security, ask=ask, notice=notice)
        return Store.open(path, key=key, **options)
    if security.encrypt:
        notice("note: [security] encrypt is on but the database is not encrypted yet; "
               "`companion encrypt` encrypts it.")
    return Store.open(path, **options)


def _new_key(path: Path, security: Any, *, ask: Asker, notice: Notice) -> str:
    keyring = Keyring(path, notice) if security.use_keyring else None
    if passphrase_from_file() is None and keyring and (stored := keyring.get()):
        return stored
    key = new_passphrase(path, ask=ask)
    if keyring:
        keyring.put(key)
    return key


# ---------------------------------------------------------------- plain <-> encrypted
def _partial(path: Path, what: str) -> Path:
    return path.with_name(f".{path.name}.{what}")


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(path: Path, key: str | None) -> Any:
    """A SQLCipher connection holding the database for itself, in rollback-journal mode.

    The exclusive lock keeps every other program out until we are done; leaving WAL mode
    merges the log into the file and removes it, so no -wal file can outlive the swap.
    """
    import sqlite3

    conn = load_cipher().connect(path, key, timeout=5.0)
    busy = StoreError(f"another program (the companion daemon?) is using {path}. Stop it "
                      "(systemctl --user stop companion), then try again; nothing was changed.")
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise busy from exc
        raise
    except BaseException:
        conn.close()
        raise
    if str(mode).lower() != "delete":
        conn.close()
        raise busy
    return conn


def _table_counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0]
            for n in names}


def _export(conn: Any, dest: Path, dest_key: str) -> None:
    """Copy the whole database into `dest`, encrypted with dest_key ('' means plain)."""
    _remove(dest)
    create_private_file(dest)
    version = conn.execute("PRAGMA main.user_version").fetchone()[0]
    conn.execute("ATTACH DATABASE ? AS export KEY ?", [str(dest), dest_key])
    try:
        conn.execute("SELECT sqlcipher_export('export')")
        conn.execute(f"PRAGMA export.user_version = {int(version)}")
        if conn.in_transaction:
            conn.commit()
    finally:
        conn.execute("DETACH DATABASE export")
    _verify(dest, dest_key, _table_counts(conn))
    _fsync(dest)


def _verify(dest: Path, key: str, counts: dict[str, int]) -> None:
    check = load_cipher().connect(dest, key or None)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
        copied = _table_counts(check)
    finally:
        check.close()
    if result != "ok" or copied != counts:
        raise StoreError(f"the new copy did not match the database ({result}); "
                         "nothing was changed.")


@contextlib.contextmanager
def _wiping(path: Path) -> Iterator[None]:
    """Overwrite the old file with zeros once it has been replaced (best effort).

    The old inode stays reachable through this descriptor after the rename, so the plain
    text is not left in the blocks it occupied (on disks that overwrite in place).
    """
    fd = os.open(path, os.O_RDWR)
    try:
        yield
        size = os.fstat(fd).st_size
        zeros = bytes(1 << 20)
        for offset in range(0, size, len(zeros)):
            os.pwrite(fd, zeros[: size - offset], offset)
        os.fsync(fd)
    finally:
        os.close(fd)


def convert_in_place(path: Path, *, old_key: str | None, new_key: str | None) -> None:
    """Turn the database at `path` from plain to encrypted or back, atomically.

    Steps: lock it, copy everything into a file beside it, verify the copy (integrity
    check and row counts of every table), fsync it, rename it over the original, fsync the
    folder. A kill at any moment leaves either the old file or the new one, whole.
    """
    tmp = _partial(path, "converting")
    _remove(tmp)
    with sqlite_errors(path):
        conn = _lock(path, old_key)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise StoreError(f"{path} did not pass its integrity check ({result}); "
                                 "nothing was changed. Restore a backup first.")
            _export(conn, tmp, new_key or "")
            with _wiping(path):
                os.replace(tmp, path)
                _fsync(path.parent)
        finally:
            conn.close()
            _remove(tmp)
    make_private(path)


def export_plain(store: Store, dest: Path) -> Path:
    """A plain (unencrypted) copy of an open encrypted database, 0600, verified."""
    tmp = _partial(dest, "partial")
    try:
        with sqlite_errors(store.path):
            _export(store.db.conn, tmp, "")
        os.replace(tmp, dest)
    finally:
        _remove(tmp)
    make_private(dest)
    return dest


# ---------------------------------------------------------------- doctor
def check_encryption(app: Any) -> list[dict[str, Any]]:
    """`companion doctor`: is the database encrypted as asked, and can the daemon open it?"""
    from .doctor import result as _result

    path, security = app.paths.db_file, app.settings.security
    encrypted = is_encrypted(path)
    if not encrypted and not security.encrypt:
        return [_result("encryption", None, "the database is not encrypted (optional)",
                        "`companion encrypt` encrypts it with a passphrase")]
    if not encrypted and not is_new(path):
        return [_result("encryption", False, "[security] encrypt is on, but the database "
                        "is still plain", "run `companion encrypt`")]
    try:
        version = load_cipher().cipher_version()
    except Exception as exc:  # MissingPartError, or a broken native library
        return [_result("encryption", False, f"SQLCipher cannot be loaded ({exc})",
                        "pip install 'companion[encrypt]'")]
    state = "encrypted" if encrypted else "a new database will be encrypted"
    return [_result("encryption", True, f"{state} (SQLCipher {version})"),
            _keyring_result(path, security)]


def _keyring_result(path: Path, security: Any) -> dict[str, Any]:
    from .doctor import result as _result

    if not security.use_keyring:
        return _result("keyring", None, "not used: the passphrase is typed each time, so the "
                       "daemon cannot open the database", "set [security] use_keyring = true")
    told: list[str] = []
    stored = Keyring(path, told.append).get()
    if stored:
        return _result("keyring", True, "keeps the passphrase for the daemon")
    why = told[0].removeprefix("note: ") if told else "holds no passphrase yet"
    return _result("keyring", False, why, "run any command in a terminal once and type the "
                   "passphrase (it is then saved); or unlock the keyring")
