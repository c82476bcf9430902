"""Which crisis rule found a text, or set it aside (a set-aside also quiets the learnt model).

    python -m tests.tools.crisis_why "some text" ["another text" ...]  (or a text a line on stdin)

For each text: every pattern that matched and what cancelled it (a `before` word, an [ignore]
idiom over its end, the past told as past, another person), every [ignore] idiom found
anywhere (any one makes `sets_aside` true), and the sentences told as history. For working
on config/crisis.toml only: it prints the texts it is given.
"""

from __future__ import annotations

import sys

from companion.crisis_match import Matcher, normalise
from companion.safety import find_by_rules, load_crisis


def _cancelled(matcher: Matcher, norm: str, start: int, end: int) -> list[str]:
    why = []
    if matcher._cancelled_before(norm, start):
        why.append("a [ignore] before word")
    for index, idiom in matcher._ignore.matches(norm):
        if idiom.start() <= end and start < idiom.end() and end <= idiom.end() + 1:
            why.append(f"[ignore] {matcher.rules.ignore[index]!r}")
    if matcher._told_as_history(norm, start):
        why.append("history")
    if matcher._about_someone_else(norm, start, end):
        why.append("another person")
    if matcher._taken_back_after(norm, end):
        why.append("a jest in the next sentence ([ignore] after)")
    return why


def explain(text: str, matcher: Matcher) -> list[str]:
    """The lines that say what the rules made of `text`."""
    norm = normalise(text, spelling=matcher._spelling)
    lines = [f"found by: {find_by_rules(text)}", f"sets aside: {matcher.sets_aside(text)}"]
    for index, hit in matcher._patterns.matches(norm):
        kind, source = matcher._sources[index]
        why = _cancelled(matcher, norm, hit.start(), hit.end())
        lines.append(f"  pattern {kind}: {source!r} on {hit.group(0)!r}; set aside by {why}")
    for index, idiom in matcher._ignore.matches(norm):
        lines.append(f"  [ignore] {matcher.rules.ignore[index]!r} on {idiom.group(0)!r}")
    starts = [0] + [i + 1 for i, ch in enumerate(norm) if ch == "."]
    lines += [f"  history: sentence at {s}" for s in starts if matcher._told_as_history(norm, s)]
    return lines


def main(texts: list[str]) -> None:
    matcher = Matcher(load_crisis().rules)
    for text in texts:
        print(text, *explain(text, matcher), sep="\n")


if __name__ == "__main__":
    main(sys.argv[1:] or sys.stdin.read().splitlines())
