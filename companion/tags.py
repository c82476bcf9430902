"""Tags: `#word` anywhere in what someone writes, and `--tag` on every save command.

A tag is one word (any script) of letters, digits, "-" or "_", starting with a letter;
tags are kept in lower case, each once, in the order they first appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# "#" at the start or after a space or bracket, then a letter: "#work", "#가족"; never
# "C#", "issue #12" or a "#" inside a link.
_HASHTAG = re.compile(r"(?<![^\s(\[{,;])#([^\W\d_][\w-]*)")
_TAG = re.compile(r"^[^\W\d_][\w-]*$")


def tags_in(text: str | None) -> list[str]:
    """The `#tags` written in `text`, lower case, each once."""
    return merge_tags(m.group(1).rstrip("-") for m in _HASHTAG.finditer(text or ""))


def clean_tag(tag: str) -> str | None:
    """A tag given on its own (`--tag work`, `--tag "#work"`) in its stored form, or None
    when it is not one word."""
    word = tag.strip().lstrip("#").casefold()
    return word if _TAG.match(word) else None


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """Every tag of `groups`, lower case, each once, in order."""
    out: list[str] = []
    for group in groups:
        for tag in group:
            word = str(tag).strip().lstrip("#").casefold()
            if word and word not in out:
                out.append(word)
    return out
