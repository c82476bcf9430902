"""The crisis rules, read and compiled once, kept for the next process.

Reading config/crisis.toml and compiling its patterns takes a process a few hundred
milliseconds; reading this file back takes a few. It lives in the state folder
(`crisis-rules.cache`), holds only the shipped rules (never anything the person wrote),
is written 0600 and atomically, and is keyed by the rules file's bytes, companion's
version and the Python that compiled it: any change, or a damaged file, and it is simply
made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import mmap
import os
import zlib
from pathlib import Path

from . import __version__
from .crisis_match import DATA_FORMAT
from .paths import FILE_MODE, ensure_dir, resolve_paths
from .records import Row
from .regex_code import TAG

log = logging.getLogger("companion.crisis_cache")

NAME = "crisis-rules.cache"
FORMAT = 1
_MAGIC = b"companion crisis rules\n"
_CHECK = 4  # bytes of CRC-32 after the magic line


def cache_file() -> Path | None:
    """Where the kept rules live (the state folder); None if it cannot be told."""
    try:
        return resolve_paths().state_dir / NAME
    except Exception:  # no usable home folder: the rules are simply compiled each time
        return None


def key_of(raw: bytes) -> str:
    """What kept rules must have been made from: these rules, this companion and its
    matcher, this Python."""
    digest = hashlib.blake2b(raw, digest_size=20).hexdigest()
    return f"{FORMAT}.{DATA_FORMAT}:{__version__}:{TAG}:{digest}"


def read(path: Path | None, key: str) -> Row | None:
    """The data kept under `key`, or None if there is none, or it is old or damaged."""
    if path is None:
        return None
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as blob:
            return _unpack(blob, key)
    except (OSError, ValueError):  # missing, unreadable or empty
        return None


def _unpack(blob: mmap.mmap, key: str) -> Row | None:
    # Read in place (mapped, never copied): the body is megabytes, and copying it was a
    # good part of the first check in a new process.
    head, body = blob[: len(_MAGIC) + _CHECK], memoryview(blob)[len(_MAGIC) + _CHECK :]
    try:
        if head[: len(_MAGIC)] != _MAGIC or int.from_bytes(
            head[len(_MAGIC) :], "big"
        ) != zlib.crc32(body):
            return None
        try:
            kept_key, data = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            return None
    finally:
        body.release()
    return data if kept_key == key and isinstance(data, dict) else None


def write(path: Path | None, key: str, data: Row) -> None:
    """Keep `data` under `key`: 0600 from the first byte, swapped in whole. Never raises:
    rules that cannot be kept are compiled again next time."""
    if path is None:
        return
    try:
        body = marshal.dumps((key, data))
        ensure_dir(path.parent)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + zlib.crc32(body).to_bytes(_CHECK, "big") + body)
            os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    except Exception as exc:  # a full disk, a read-only home: the check works regardless
        log.warning("the compiled crisis rules could not be kept: %s", exc)
