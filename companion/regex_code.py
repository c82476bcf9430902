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
