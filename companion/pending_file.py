"""How an entry waiting to be saved is kept on disk (journal.set_aside writes it,
journal.replay_pending reads it back).

With a plain database: a private JSON file, NAME.json. With an encrypted database: a small
SQLCipher file of its own, NAME.sealed, encrypted with the same passphrase, so nothing a
person said is ever readable on disk while their database is encrypted. When the database
is encrypted and its key is not at hand (it could not even be opened), nothing is written:
the caller gives the words back to the person instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .crypto import is_encrypted
from .errors import StoreError
from .paths import ensure_dir, wipe_file, write_private_text
from .records import Row
from .store import Store

PLAIN, SEALED = ".json", ".sealed"


def write(folder: Path, stem: str, record: Row, *, store: Store | None, db_file: Path) -> Path:
    """Keep `record` as folder/stem.json, or folder/stem.sealed when the database is
    encrypted; returns the file. Raises StoreError (or OSError) when it cannot be kept."""
    ensure_dir(folder)
    text = json.dumps(record, ensure_ascii=False)
    if store is not None and store.encrypted:
        return _seal(store, folder / f"{stem}{SEALED}", text)
    if is_encrypted(db_file):
        raise StoreError(
            "the database is encrypted and its key is not at hand, so the words "
            "cannot be kept sealed."
        )
    path = folder / f"{stem}{PLAIN}"
    write_private_text(path, text)
    return path


def _seal(store: Store, path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    wipe_file(tmp)  # a part left by a kill
    try:
        store.seal(tmp, text)
        fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        wipe_file(tmp)  # only when it was not moved into place
    return path


def files(folder: Path) -> list[Path]:
    """The kept entries in `folder`, oldest first (names start with their UTC time)."""
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix in (PLAIN, SEALED) and p.is_file()),
        key=lambda p: p.name,
    )


def read(path: Path, *, store: Store) -> Row:
    """The record kept in `path` (ValueError, OSError or a CompanionError if unreadable)."""
    text = store.unseal(path) if path.suffix == SEALED else path.read_text(encoding="utf-8")
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("not a record")
    return record
