"""Counts and durations in plain words: the one place for plurals and "about 20 minutes".

Every user-facing count goes through `plural` ("1 check-in", "3 check-ins"; never
"check-in(s)"), and every duration through `duration` ("less than a minute", "1 hour
5 minutes"), so the same thing is said the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

_IRREGULAR = {"this": "these", "was": "were", "is": "are"}


def plural_of(word: str) -> str:
    """The plural of a (last) word: "check-in" -> "check-ins", "entry" -> "entries"."""
    head, _, last = word.rpartition(" ")
    if last in _IRREGULAR:
        many = _IRREGULAR[last]
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        many = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        many = last + "es"
    else:
        many = last + "s"
    return f"{head} {many}" if head else many


def plural(count: int | float, word: str, many: str | None = None) -> str:
    """ "1 check-in", "2 check-ins", "0 entries"; `many` when the plural is irregular."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {word if count == 1 else (many or plural_of(word))}"


def duration(minutes: float | None) -> str:
    """Minutes in words: "less than a minute", "1 minute", "1 hour 5 minutes", "2 hours"."""
    if minutes is None:
        return "-"
    whole = int(round(minutes))
    if whole < 1:
        return "less than a minute"
    hours, mins = divmod(whole, 60)
    parts = ([plural(hours, "hour")] if hours else []) + ([plural(mins, "minute")] if mins else [])
    return " ".join(parts)


def about_duration(minutes: float) -> str:
    """ "about 20 minutes", but "less than a minute" (never "about 0 minutes")."""
    said = duration(minutes)
    return said if said.startswith("less") else f"about {said}"


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
