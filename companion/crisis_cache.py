"""The crisis rules, read and compiled once, kept for the next process.

Reading config/crisis.toml and compiling its patterns takes a process a few hundred
milliseconds; reading this file back takes a few. It lives in the state folder
(`crisis-rules.cache`), holds only the shipped rules (never anything the person wrote),
is written 0600 and atomically, and is keyed by the rules file's bytes, companion's
version and the Python that compiled it: any change, or a damaged file, and it is simply
made again.

The file is a checked header (the rules and their index, as marshal data) and after it
the compiled code of every pattern, each piece checked on its own and read only when a
text first reaches its pattern (`Pieces`): a check reads a few kilobytes of the 3 MB.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from . import __version__
from .crisis_match import DATA_FORMAT
from .logs import get_log
from .paths import FILE_MODE, ensure_dir, resolve_paths
from .records import Row
from .regex_code import TAG

log = get_log("companion.crisis_cache")

NAME = "crisis-rules.cache"
FORMAT = 2
_MAGIC = b"companion crisis rules 2\n"
_WORD = 4  # bytes of each number after the magic line: header length, header CRC-32
_HEAD = len(_MAGIC) + 2 * _WORD
_PIECES = "\x00pieces"  # marks, in the header, a list kept after it (a tuple of spans)
_SMALL = 4096  # lists of bytes smaller than this stay in the header
_Span = tuple[int, int, int] | None  # where a piece lies among the pieces, its CRC-32


def cache_file() -> Path | None:
    """Where the kept rules live (the state folder); None if it cannot be told."""
    try:
        return resolve_paths().state_dir / NAME
    except Exception:  # no usable home folder: the rules are simply compiled each time
        return None


def key_of(raw: bytes) -> str:
    """What kept rules must have been made from: these rules, this companion and its
    matcher, this Python. (CRC-32 and length tell an edited rules file; nothing here
    needs to resist a forger, who could as well edit the rules.)"""
    return f"{FORMAT}.{DATA_FORMAT}:{__version__}:{TAG}:{zlib.crc32(raw):08x}.{len(raw)}"


class _File:
    """An open cache file, shared by its Pieces, closed when the last is gone."""

    def __init__(self, fd: int, base: int) -> None:
        self.fd, self.base = fd, base  # base: where the pieces start

    def piece(self, span: _Span) -> bytes | None:
        if span is None:
            return None
        offset, size, crc = span
        try:
            piece = os.pread(self.fd, size, self.base + offset)
        except OSError:
            return None
        return piece if len(piece) == size and zlib.crc32(piece) == crc else None

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class Pieces:
    """A list of bytes (or None) kept after the header: each read from the file and
    checked the first time it is asked for; a piece that is damaged, or gone because
    the file was cut short, reads as None (its pattern is then compiled afresh)."""

    def __init__(self, file: _File, spans: list[_Span]) -> None:
        self._file, self._spans = file, spans
        self._read: dict[int, bytes | None] = {}

    def __len__(self) -> int:
        return len(self._spans)

    def __getitem__(self, index: int) -> bytes | None:
        if index not in self._read:
            self._read[index] = self._file.piece(self._spans[index])
        return self._read[index]

    def __iter__(self) -> Iterator[bytes | None]:
        return (self[index] for index in range(len(self)))


def read(path: Path | None, key: str) -> Row | None:
    """The data kept under `key`, or None if there is none, or it is old or damaged."""
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    file = _File(fd, 0)  # closes fd when no longer needed
    try:
        data = _read_header(file, key)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return None if data is None else _restore(data, file)  # type: ignore[return-value]


def _read_header(file: _File, key: str) -> Row | None:
    head = os.pread(file.fd, _HEAD, 0)
    if len(head) != _HEAD or head[: len(_MAGIC)] != _MAGIC:
        return None
    size = int.from_bytes(head[len(_MAGIC) : len(_MAGIC) + _WORD], "big")
    crc = int.from_bytes(head[len(_MAGIC) + _WORD :], "big")
    body = os.pread(file.fd, size, _HEAD)
    if len(body) != size or zlib.crc32(body) != crc:
        return None
    file.base = _HEAD + size
    kept_key, data = marshal.loads(body)
    return data if kept_key == key and isinstance(data, dict) else None


def _restore(value: object, file: _File) -> object:
    """`value` with every marked list turned into Pieces read from `file`."""
    if isinstance(value, dict):
        return {k: _restore(v, file) for k, v in value.items()}
    if isinstance(value, tuple) and len(value) == 2 and value[0] == _PIECES:
        return Pieces(file, list(value[1]))
    return value


def _set_apart(value: object, pieces: bytearray) -> object:
    """`value` with every long list of bytes moved into `pieces` (a marked tuple of
    spans stays in its place)."""
    if isinstance(value, dict):
        return {k: _set_apart(v, pieces) for k, v in value.items()}
    if (
        isinstance(value, list)
        and value
        and all(item is None or isinstance(item, bytes) for item in value)
        and sum(len(item or b"") for item in value) >= _SMALL
    ):
        spans: list[_Span] = []
        for item in value:
            spans.append(None if item is None else (len(pieces), len(item), zlib.crc32(item)))
            pieces += item or b""
        return (_PIECES, spans)
    return value


def _file_bytes(key: str, data: Row) -> bytes:
    pieces = bytearray()
    header: Row = {name: _set_apart(value, pieces) for name, value in data.items()}
    body = marshal.dumps((key, header))
    head = _MAGIC + len(body).to_bytes(_WORD, "big") + zlib.crc32(body).to_bytes(_WORD, "big")
    return head + body + bytes(pieces)


def write(path: Path | None, key: str, data: Row) -> None:
    """Keep `data` under `key`: 0600 from the first byte, swapped in whole. Never raises:
    rules that cannot be kept are compiled again next time."""
    if path is None:
        return
    try:
        content = _file_bytes(key, data)
        ensure_dir(path.parent)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    except Exception as exc:  # a full disk, a read-only home: the check works regardless
        log.warning("the compiled crisis rules could not be kept: %s", exc)
