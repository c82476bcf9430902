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

# Lazy imports: keyring (optional: companion[encrypt]; its plugins reach D-Bus), only when
# the keyring is used.

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, TypedDict, TypeVar, Unpack

from .errors import InputError, StoreError
from .paths import (
    create_private_file,
    make_private,
    overwrite_with_zeros,
    own_file_exists,
    wipe_file,
)
from .store import Store, WrongPassphraseError, connect_file, load_cipher, sqlite_errors

if TYPE_CHECKING:
    from .clock import Clock
    from .config import SecuritySettings

HEADER = b"SQLite format 3\x00"
PASSPHRASE_FILE_ENV = "COMPANION_PASSPHRASE_FILE"
KEYRING_SERVICE = "companion"
MIN_LENGTH = 8
SAMPLE = 1024  # bytes of the first page looked at to tell encrypted from damaged
TRIES = 3
T = TypeVar("T")
Notice = Callable[[str], None]


class Asker(Protocol):
    """Asks the person for a passphrase; None when nobody can be asked (no terminal)."""

    def __call__(self, prompt: str, *, confirm: bool) -> str | None: ...


class StoreOptions(TypedDict, total=False):
    """How the database is opened, passed on to Store.open."""

    clock: Clock | None
    busy_timeout: float
    max_text_chars: int


# ---------------------------------------------------------------- what the file is
def is_encrypted(path: Path) -> bool:
    """True when the file holds an encrypted (SQLCipher) database.

    A plain SQLite file starts with "SQLite format 3\\0"; an encrypted one starts with
    its random salt, is a whole number of pages, and every byte of it looks random. A file
    of another size, or with zeros or text in its first page, is damaged, not encrypted,
    and is left to SQLite to refuse (as damaged).
    """
    size = _size(path)
    if size < SAMPLE or size % 512:
        return False
    head = _head(path, SAMPLE)
    return not head.startswith(HEADER) and _looks_random(head)


def _size(path: Path) -> int:
    """The file's size, 0 when there is none; StoreError when its place cannot be read."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _head(path: Path, size: int) -> bytes:
    """The first bytes of a file (nothing for a FIFO or a folder: never waits)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, IsADirectoryError):
        return b""
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    try:
        return os.read(fd, size) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    finally:
        os.close(fd)


def _unreadable(path: Path, exc: OSError) -> StoreError:
    if isinstance(exc, NotADirectoryError):
        return StoreError(
            f"{path.parent} is not a folder, so the database {path} cannot be "
            "kept there (COMPANION_HOME names a folder)."
        )
    # a link that loops, a file we may not read
    return StoreError(
        f"cannot open the database {path}: {exc.strerror or exc}. Nothing was changed."
    )


def _looks_random(data: bytes) -> bool:
    """SQLCipher's pages cannot be told from random bytes: about 1 in 256 is zero and half
    are 0x80 or more. Zeros, text or SQLite's own structures are far from that."""
    zeros = data.count(0)
    high = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    return zeros < len(data) // 32 and len(data) // 4 < high < 3 * len(data) // 4


def is_damaged(path: Path) -> bool:
    """Something is stored, yet it is neither a plain SQLite database nor an encrypted one."""
    return (
        _size(path) > 0
        and not _head(path, len(HEADER)).startswith(HEADER)
        and not is_encrypted(path)
    )


def is_new(path: Path) -> bool:
    """Nothing stored yet: no file (or an empty one) and no write-ahead log."""
    return _size(path) == 0 and _size(Path(f"{path}-wal")) == 0


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
        raise InputError(
            f"cannot read the passphrase file {path} ({PASSPHRASE_FILE_ENV}): "
            f"{getattr(exc, 'strerror', None) or exc}."
        ) from exc
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise InputError(
            f"the passphrase file {path} can be read by others; make it "
            f"private first: chmod 600 {path}"
        )
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise InputError(f"the passphrase file {path} is empty.")
    return text


def has_terminal() -> bool:
    """Whether this process has a controlling terminal someone could type into."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def nobody_to_ask(prompt: str, *, confirm: bool) -> str | None:
    """The asker where nobody can type (the daemon, a script): there is no answer.
    The App passes its own (App.ask_passphrase), which asks through its Ui."""
    return None


class Keyring:
    """The system keyring through `keyring`; any failure means "not available", never a crash.

    keyring's backends are plugins (Secret Service over D-Bus, KWallet, ...) that raise
    their own errors besides keyring.errors.KeyringError (locked, no backend, D-Bus gone),
    so every call is guarded and the person is told once why it was not used.
    """

    def __init__(self, path: Path, notice: Notice):
        self.account = f"database {path.resolve()}"
        self.notice = notice
        self.problem: str | None = None  # why it could not be used, once it failed

    def _call(self, what: str, action: Callable[[ModuleType], T]) -> T | None:
        try:
            import keyring

            return action(keyring)
        except Exception as exc:  # plugin errors of any class: see the class docstring
            if self.problem is None:
                self.problem = type(exc).__name__
                self.notice(f"note: the system keyring could not {what} ({self.problem}).")
            return None

    def get(self) -> str | None:
        return self._call("be read", lambda k: k.get_password(KEYRING_SERVICE, self.account))

    def put(self, passphrase: str) -> bool:
        done = self._call(
            "save the passphrase",
            lambda k: k.set_password(KEYRING_SERVICE, self.account, passphrase) or True,
        )
        return bool(done)

    def delete(self) -> None:
        self._call(
            "forget the passphrase", lambda k: k.delete_password(KEYRING_SERVICE, self.account)
        )


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------- unlocking
def unlock(
    path: Path,
    security: SecuritySettings,
    attempt: Callable[[str], T],
    *,
    ask: Asker = nobody_to_ask,
    notice: Notice = _quiet,
) -> T:
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
            raise NoPassphraseError(path, keyring, stale=bool(stored))
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


class NoPassphraseError(InputError):
    """An encrypted database, and nobody and nothing here to give its passphrase."""

    def __init__(self, path: Path, keyring: Keyring | None, *, stale: bool = False):
        self.fix = _passphrase_fix(keyring, stale=stale)
        fix = self.fix[0].upper() + self.fix[1:]
        if keyring is None:
            why = (
                "no passphrase is available here. Run the command in a terminal to type "
                "it, or let the system keyring keep it ([security] use_keyring = true)"
            )
        elif keyring.problem:
            why = (
                f"the system keyring that keeps its passphrase cannot be reached here "
                f"({keyring.problem}). {fix}"
            )
        elif stale:
            why = f"the passphrase in the system keyring no longer opens it. {fix}"
        else:
            why = f"the system keyring holds no passphrase for it yet. {fix}"
        super().__init__(
            f"{path} is encrypted and {why}; or name a private file holding "
            f"it in {PASSPHRASE_FILE_ENV}."
        )


def _passphrase_fix(keyring: Keyring | None, *, stale: bool) -> str:
    if keyring is None:
        return (
            "run companion in a terminal to type the passphrase, or set [security] "
            "use_keyring = true"
        )
    if keyring.problem:
        return (
            "unlock the keyring (log in to your desktop session), or run companion once "
            "in a terminal to type the passphrase"
        )
    return (
        "run any companion command once in a terminal and type the "
        + ("current " if stale else "")
        + "passphrase: the keyring then keeps it for the "
        "daemon"
    )


def new_passphrase(path: Path, *, ask: Asker = nobody_to_ask, notice: Notice = _quiet) -> str:
    """A passphrase for a database being encrypted now (from the file, or typed twice).

    At least MIN_LENGTH characters, wherever it comes from. (An existing database opened
    with a shorter passphrase chosen before keeps opening: see unlock.)
    """
    from_file = passphrase_from_file()
    if from_file is not None:
        if len(from_file) < MIN_LENGTH:
            raise InputError(
                f"the passphrase in {os.environ[PASSPHRASE_FILE_ENV]} "
                f"({PASSPHRASE_FILE_ENV}) is shorter than {MIN_LENGTH} "
                "characters; a new passphrase needs at least that many. "
                "Nothing was changed."
            )
        return from_file
    while True:
        typed = ask(f"Choose a passphrase for {path.name}", confirm=True)
        if typed is None:
            raise InputError(
                f"encrypting {path} needs a passphrase: run the command in a "
                f"terminal, or name a private file holding it in "
                f"{PASSPHRASE_FILE_ENV}."
            )
        if len(typed) >= MIN_LENGTH:
            return typed
        if has_terminal():
            notice(f"Please use at least {MIN_LENGTH} characters.")
            continue
        raise InputError(f"the passphrase needs at least {MIN_LENGTH} characters.")


def open_store(
    path: Path,
    security: SecuritySettings,
    *,
    ask: Asker = nobody_to_ask,
    notice: Notice = _quiet,
    **options: Unpack[StoreOptions],
) -> Store:
    """Open the database, encrypted or plain, as the file and `[security]` say.

    An encrypted file is always opened as one, whatever the settings. A new database is
    created encrypted when `[security] encrypt = true`. A plain one with encrypt on stays
    usable (nothing the person says is ever refused) and they are told how to encrypt it.
    """
    store = _open(path, security, ask=ask, notice=notice, **options)
    if not store.read_only:
        remove_leftovers(path)
    return store


def _open(
    path: Path,
    security: SecuritySettings,
    *,
    ask: Asker,
    notice: Notice,
    **options: Unpack[StoreOptions],
) -> Store:
    if is_encrypted(path):
        load_cipher()  # a missing SQLCipher is said before anyone is asked for a passphrase
        return unlock(
            path, security, lambda key: Store.open(path, key=key, **options), ask=ask, notice=notice
        )
    if security.encrypt and is_new(path):
        key = _new_key(path, security, ask=ask, notice=notice)
        return Store.open(path, key=key, **options)
    if security.encrypt:
        notice(
            "note: [security] encrypt is on but the database is not encrypted yet; "
            "`companion encrypt` encrypts it."
        )
    return Store.open(path, **options)


def _new_key(path: Path, security: SecuritySettings, *, ask: Asker, notice: Notice) -> str:
    keyring = Keyring(path, notice) if security.use_keyring else None
    if passphrase_from_file() is None and keyring and (stored := keyring.get()):
        return stored
    key = new_passphrase(path, ask=ask, notice=notice)
    if keyring:
        keyring.put(key)
    return key


# ---------------------------------------------------------------- plain <-> encrypted
def _partial(path: Path, what: str) -> Path:
    return path.with_name(f".{path.name}.{what}")


def _remove(path: Path) -> None:
    """Remove a copy of the database and its journals, zeros first (it may be plain)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        wipe_file(Path(f"{path}{suffix}"))


def remove_leftovers(path: Path) -> None:
    """Securely remove the copy an interrupted conversion (a kill during `encrypt` or
    `decrypt --in-place`) left beside the database: it may hold everything in plain text.

    Only with the database open here: then no conversion is running, for a conversion
    holds the database for itself from before its copy exists until it is gone (_lock).
    """
    _remove(_partial(path, "converting"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(path: Path, key: str | None) -> sqlite3.Connection:
    """A SQLCipher connection holding the database for itself, in rollback-journal mode.

    The exclusive lock keeps every other program out until we are done; leaving WAL mode
    merges the log into the file and removes it, so no -wal file can outlive the swap.
    """
    conn = load_cipher().connect(path, key, timeout=5.0)
    busy = StoreError(
        f"another program (the companion daemon?) is using {path}. Stop it "
        "(systemctl --user stop companion), then try again; nothing was changed."
    )
    try:
        mode = load_cipher().hold_exclusively(conn)
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


def _export(conn: sqlite3.Connection, dest: Path, dest_key: str) -> None:
    """Copy the whole database into `dest`, encrypted with dest_key ('' means plain)."""
    _remove(dest)
    create_private_file(dest)
    cipher = load_cipher()
    cipher.export_into(conn, dest, dest_key)
    _verify(dest, dest_key, cipher.table_counts(conn))
    _fsync(dest)


def _verify(dest: Path, key: str, counts: dict[str, int]) -> None:
    cipher = load_cipher()
    check = cipher.connect(dest, key or None)
    try:
        result = cipher.integrity(check)
        copied = cipher.table_counts(check)
    finally:
        check.close()
    if result != "ok" or copied != counts:
        raise StoreError(
            f"the new copy did not match the database ({result}); nothing was changed."
        )


@contextlib.contextmanager
def _wiping(path: Path) -> Iterator[None]:
    """Overwrite the old file with zeros once it has been replaced (best effort).

    The old inode stays reachable through this descriptor after the rename, so the plain
    text is not left in the blocks it occupied (on disks that overwrite in place).
    """
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    try:
        yield
        overwrite_with_zeros(fd)
    finally:
        os.close(fd)


def convert_in_place(path: Path, *, old_key: str | None, new_key: str | None) -> None:
    """Turn the database at `path` from plain to encrypted or back, atomically.

    Steps: lock it, copy everything into a file beside it, verify the copy (integrity
    check and row counts of every table), fsync it, rename it over the original, fsync the
    folder. A kill at any moment leaves either the old file or the new one, whole; a copy
    a kill leaves beside it is private (0600) and wiped at the next open (remove_leftovers).
    """
    own_file_exists(path)  # never through a link, never a FIFO
    tmp = _partial(path, "converting")
    swapped = False
    with sqlite_errors(path):
        conn = _lock(path, old_key)
        try:
            remove_leftovers(path)
            result = load_cipher().integrity(conn)
            if result != "ok":
                raise StoreError(
                    f"{path} did not pass its integrity check ({result}); "
                    "nothing was changed. Restore a backup first."
                )
            _export(conn, tmp, new_key or "")
            with _wiping(path):
                os.replace(tmp, path)
                swapped = True
                _fsync(path.parent)
        finally:
            if not swapped:  # after the swap, that name may already be another's copy
                _remove(tmp)
            conn.close()
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


# ---------------------------------------------------------------- facts for doctor
def cipher_version() -> str:
    """The SQLCipher version; raises when it cannot be loaded (MissingPartError, or a
    broken native library)."""
    return str(load_cipher().cipher_version())


def keyring_holds(path: Path) -> tuple[bool, str]:
    """Whether the system keyring holds this database's passphrase, and if it could not
    be asked, why ("" when it was asked and simply holds none)."""
    told: list[str] = []
    stored = Keyring(path, told.append).get()
    return bool(stored), told[0].removeprefix("note: ") if told else ""
