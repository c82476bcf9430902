"""Compiled regular expressions that outlive the process that compiled them.

Nearly all the time `re.compile` takes is pure Python: reading the pattern and writing
the code its C matcher runs. `code_of` keeps that code; `restore` hands it straight to
the C matcher in a later process, which takes microseconds instead of milliseconds.

This reaches into CPython's own machinery (`_sre.compile`, `re._parser`, `re._compiler`),
so nothing is trusted: code is kept only when the pattern rebuilt from it equals the one
`re.compile` makes, whatever keeps it is keyed by `TAG` (the Python and its matcher's
version), and when anything is unusual `restore` simply calls `re.compile`.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

try:
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # another Python: every pattern is compiled as usual
    _sre = _compiler = _parser = None

# Code kept under one TAG is only ever given back to the same Python and matcher.
TAG = "-".join(
    str(part)
    for part in (
        sys.implementation.name,
        *sys.version_info[:3],
        getattr(_sre, "MAGIC", 0),
        getattr(_sre, "CODESIZE", 0),
    )
)
_WORD = "I"  # the C matcher's code words, 4 bytes each (CODESIZE)


def code_of(source: str) -> bytes | None:
    """The compiled code of the regular expression `source`, packed in bytes; None when
    this Python cannot give it (or gives code that does not rebuild the same pattern)."""
    try:
        parsed = _parser.parse(source, 0)
        if parsed.state.groupdict:  # named groups are not kept
            return None
        code = _compiler._code(parsed, 0)
        packed = array(
            _WORD, [int(parsed.state.flags), parsed.state.groups, *map(int, code)]
        ).tobytes()
        return packed if _rebuild(source, packed) == re.compile(source) else None
    except Exception:  # a Python whose internals differ: compile as usual instead
        return None


def restore(source: str, packed: bytes | None) -> re.Pattern[str]:
    """The compiled `source`, from its kept code when there is usable code."""
    if packed is not None:
        try:
            return _rebuild(source, packed)
        except Exception:  # code this Python cannot use after all: compile it afresh
            pass
    return re.compile(source)


def _rebuild(source: str, packed: bytes) -> re.Pattern[str]:
    words = array(_WORD)
    words.frombytes(packed)
    flags, groups, *code = words.tolist()
    pattern: re.Pattern[str] = _sre.compile(source, flags, code, groups - 1, {}, (None,) * groups)
    return pattern


# ---------------------------------------------------------------- module-level patterns
class Lazy:
    """A module-level regular expression compiled when first used: from code `adopt`
    was given (the crisis cache keeps the code of every Lazy), else with re.compile.
    Compiling the matchers' two dozen of them costs a process ~6 ms, more than the rest
    of a first check."""

    made: ClassVar[dict[str, Lazy]] = {}  # every Lazy by source
    kept: ClassVar[dict[str, bytes | None]] = {}  # code adopted for them

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None
        Lazy.made[source] = self

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = restore(self.source, Lazy.kept.get(self.source))
        return self._compiled

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[str]:
        """(For patterns without groups: each match's text.)"""
        found: list[str] = self.compiled.findall(string, pos, endpos)
        return found


def lazy(source: str) -> Lazy:
    return Lazy.made.get(source) or Lazy(source)


def lazy_codes() -> dict[str, bytes | None]:
    """The compiled code of every Lazy made so far, for a cache to keep (slow)."""
    return {source: code_of(source) for source in Lazy.made}


def adopt(codes: Mapping[str, bytes | None]) -> None:
    """Code kept by an earlier process for Lazy patterns not compiled yet."""
    Lazy.kept.update(codes)
