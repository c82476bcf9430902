"""A small matcher for crisis language: phrase patterns, not a flat word list.

A pattern is written the way a person would describe it (the rules live in
config/crisis.toml, which explains the notation):

    (want|going|ready) to (die|end (it|my life))     alternatives, nested
    [just] die            optional words             die?      one optional word
    suicid*               any ending                 *ing      any beginning
    ...                   up to four other words    $         the end of a clause
    {me}                  a named piece from [define] #        a number

Text and patterns go through the same normalisation, so case, accents, apostrophes,
hyphens, doubled letters ("killl", "dieee"), spaced letters ("d i e"), look-alike
characters ("k1ll") and words run together ("killmyself") all match. A hit is set aside
when an [ignore] pattern covers it ("cut myself some slack") or when a negation or
another person comes right before it ("I would never...", "he wanted to...").

Pure: no settings, no output. Compiled once, on first use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

# ---------------------------------------------------------------- normalising
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")
_CLAUSE_MARKS = re.compile(r"[.!?;:\n\r()\[\]{}\u2026\u3002\uff01\uff1f\u00a1\u00bf]+")
# A comma is a soft end: "$" and the words before a match stop there; "..." crosses it.
_COMMAS = re.compile(r"[,\u060c\u3001\uff0c]+")
_NOT_WORD = re.compile(r"[^\w.,]+|_+")
_SPACES = re.compile(r" {2,}")
_DOUBLED = re.compile(r"([a-z])\1+")
# "d i e", "k i l l m y s e l f": three or more single letters in a row are one word.
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])(?:[a-z] ){2,}[a-z](?![a-z0-9])")
# Look-alike characters inside a word ("k1ll", "su1c1de", "t0", "k!ll").
_LOOK_ALIKE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                             "!": "i", "|": "i", "@": "a", "$": "s"})
_LEET = re.compile(r"(?<=[a-z])[013457!|@$](?=[a-z])|(?<=[a-z])[0134](?![a-z0-9])")
_FUZZY_TOKEN = re.compile(r"(?<![a-z0-9])[a-z]{5,14}(?![a-z0-9])")


def _fold(text: str) -> str:
    """Lower case without accents; Hangul and other scripts are kept whole."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text)


def normalise_word(word: str) -> str:
    """A word of a pattern, normalised as text is (no clause marks, no spelling repair)."""
    text = _APOSTROPHES.sub("", _fold(word))
    text = _NOT_WORD.sub(" ", text.replace(".", " ").replace(",", " "))
    return _DOUBLED.sub(r"\1", _SPACES.sub(" ", text).strip())


def normalise(text: str, *, spelling: Mapping[str, str] | None = None) -> str:
    """Text as the patterns see it: folded, punctuation gone, clause ends kept as " . "."""
    text = _fold(text)
    text = _LEET.sub(lambda m: m.group().translate(_LOOK_ALIKE), text)
    text = _APOSTROPHES.sub("", text)
    text = _CLAUSE_MARKS.sub(" . ", text)
    text = _COMMAS.sub(" , ", text)
    text = _NOT_WORD.sub(" ", text)
    text = _SPACED_LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    text = _DOUBLED.sub(r"\1", text)
    if spelling:
        text = _FUZZY_TOKEN.sub(lambda m: spelling.get(m.group(), m.group()), text)
    return _SPACES.sub(" ", text).strip()


def near_spellings(words: Iterable[str]) -> dict[str, str]:
    """Every spelling one slip away (a letter missing, added, changed, or two swapped)
    from one of `words`, mapped to that word. Only for long words whose near
    neighbours are not real words ("myself", "suicide")."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    found: dict[str, str] = {}
    for raw in words:
        word = normalise_word(raw)
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        variants = {a + b[1:] for a, b in splits if b}
        variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        variants |= {a + c + b[1:] for a, b in splits if b for c in letters}
        variants |= {a + c + b for a, b in splits if b for c in letters}  # not at the end
        for variant in variants:
            found.setdefault(_DOUBLED.sub(r"\1", variant), word)
    for raw in words:  # a listed word always stays itself
        found[normalise_word(raw)] = normalise_word(raw)
    return found


# ---------------------------------------------------------------- the pattern notation
class PatternError(ValueError):
    """A pattern that cannot be read; the message quotes it and says why."""


_TOKEN = re.compile(r"\{\w+\}|\.\.\.|[()\[\]|?$#]|[^\s()\[\]|?{}$#]+")
_GAP = " ?"  # between words: a space or none ("kill myself", "killmyself")
_ANY_WORDS = r"(?:[^ .]+ ){0,4}"
# The end of a clause: a clause mark, the end, or a word that starts something new.
_CLAUSE_END = (r"(?= ?(?:[.,]|$)| (?:and|but|so|or|because|cause|cos|coz|then|anymore|any more"
               r"|tonight|today|now|rn|lol|tbh|honestly|i|im|ive|id|il)(?![a-z0-9]))")
_START = r"(?<![a-z0-9])"
# The one word allowed between an [ignore] before word and a match ("would never hurt"),
# but not one that makes the negation about something else ("not sure how long I can...").
_FILLER = r"(?!(?:sure|certain|know|think|if|whether|how|why|what|when|but|because)\b)[^ .,]+"
_END = r"(?![a-z0-9])"


@dataclass
class _Parser:
    source: str
    define: Mapping[str, str]
    seen: tuple[str, ...] = ()
    tokens: list[str] = field(default_factory=list)
    at: int = 0

    def parse(self) -> str:
        self.tokens = _TOKEN.findall(self.source)
        if not self.tokens:
            raise PatternError(f"{self.source!r} is empty")
        body = self._alternatives()
        if self.at != len(self.tokens):
            raise PatternError(f"{self.source!r}: unexpected {self.tokens[self.at]!r}")
        return body

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _alternatives(self) -> str:
        options = [self._sequence()]
        while self._peek() == "|":
            self.at += 1
            options.append(self._sequence())
        return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"

    def _sequence(self) -> str:
        parts: list[str] = []
        while self._peek() not in (None, "|", ")", "]"):
            if self._peek() == "?":  # "a? ?b": a second "?" adds nothing
                self.at += 1
                continue
            item = self._item()
            if self._peek() == "?":
                self.at += 1
                item = f"(?:{item})?"
            parts.append(item)
        if not parts:
            raise PatternError(f"{self.source!r} has an empty choice")
        return "".join(parts)

    def _item(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        if token in ("(", "["):
            inner = self._alternatives()
            close = ")" if token == "(" else "]"
            if self._peek() != close:
                raise PatternError(f"{self.source!r}: {token!r} is never closed")
            self.at += 1
            return f"(?:{inner})" if token == "(" else f"(?:{inner})?"
        if token == "...":
            return _ANY_WORDS
        if token == "$":
            return _CLAUSE_END
        if token == "#":
            return r"\d+" + _GAP
        if token.startswith("{"):
            return self._named(token[1:-1])
        if token in (")", "]", "|", "?"):
            raise PatternError(f"{self.source!r}: unexpected {token!r}")
        return _word(token, self.source)

    def _named(self, name: str) -> str:
        if name not in self.define:
            raise PatternError(f"{self.source!r} uses {{{name}}}, which [define] lacks")
        if name in self.seen:
            raise PatternError(f"{{{name}}} is defined through itself")
        inner = _Parser(self.define[name], self.define, (*self.seen, name)).parse()
        return f"(?:{inner})"


def _word(token: str, source: str) -> str:
    if token == "*":
        return r"[^ .]+" + _GAP
    head = r"\w+" if token.startswith("*") and len(token) > 1 else ""
    tail = r"\w*" if token.endswith("*") else ""
    words = normalise_word(token.strip("*")).split()
    if not words:
        raise PatternError(f"{source!r}: {token!r} has no letters")
    return head + _GAP.join(re.escape(w) for w in words) + tail + _GAP


def pattern_regex(source: str, define: Mapping[str, str] | None = None) -> str:
    """The regular expression (over normalised text) for one pattern; PatternError if bad."""
    return _START + "(?:" + _Parser(source, define or {}).parse() + ")" + _END


# ---------------------------------------------------------------- matching
@dataclass(frozen=True)
class Rules:
    """What a matcher knows: crisis patterns by kind, and what sets a hit aside."""

    patterns: Mapping[str, tuple[str, ...]]
    ignore: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    define: Mapping[str, str] = field(default_factory=dict)
    spelling: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """Which pattern matched (never the person's words)."""

    kind: str
    pattern: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.pattern}"


class Matcher:
    """Finds crisis language in text. Compiles its rules on first use, once."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._sources = [(kind, p) for kind, ps in rules.patterns.items() for p in ps]
        self._one: dict[int, re.Pattern[str]] = {}

    def check(self) -> None:
        """Compile every rule now; PatternError names the first bad one."""
        _ = self._any, self._ignore, self._before, self._spelling

    @cached_property
    def _spelling(self) -> dict[str, str]:
        return near_spellings(self.rules.spelling)

    @cached_property
    def _regexes(self) -> list[str]:
        return [pattern_regex(p, self.rules.define) for _, p in self._sources]

    @cached_property
    def _any(self) -> re.Pattern[str] | None:
        # One group per pattern: the group that matched says which pattern it was.
        return re.compile("|".join(f"({r})" for r in self._regexes)) if self._regexes else None

    @cached_property
    def _ignore(self) -> re.Pattern[str] | None:
        return _union(self.rules.ignore, self.rules.define)

    @cached_property
    def _before(self) -> re.Pattern[str] | None:
        union = _union(self.rules.before, self.rules.define)
        if union is None:
            return None
        return re.compile(rf"(?:{union.pattern}) ?(?:{_FILLER} )?$")

    def _pattern(self, index: int) -> re.Pattern[str]:
        if index not in self._one:
            self._one[index] = re.compile(self._regexes[index])
        return self._one[index]

    def find(self, text: str | None) -> Hit | None:
        """The first pattern that finds crisis language in `text`, or None."""
        if not text or not text.strip() or self._any is None:
            return None
        norm = normalise(text, spelling=self._spelling)
        pos = 0
        while (m := self._any.search(norm, pos)) is not None:
            hit = self._kept_at(norm, m)
            if hit is not None:
                return hit
            pos = m.start() + 1
        return None

    def _kept_at(self, norm: str, m: re.Match[str]) -> Hit | None:
        """The first pattern matching where `m` starts that nothing sets aside."""
        start, first = m.start(), (m.lastindex or 1) - 1
        if self._cancelled_before(norm, start):
            return None
        if not self._covered(norm, start, m.end()):
            return Hit(*self._sources[first])
        for index in range(first + 1, len(self._sources)):  # rarely needed: compiled lazily
            other = self._pattern(index).match(norm, start)
            if other is not None and not self._covered(norm, start, other.end()):
                return Hit(*self._sources[index])
        return None

    def _cancelled_before(self, norm: str, start: int) -> bool:
        if self._before is None:
            return False
        clause = norm[max(norm.rfind(".", 0, start), norm.rfind(",", 0, start)) + 1:start]
        return self._before.search(clause) is not None

    def _covered(self, norm: str, start: int, end: int) -> bool:
        """Whether an [ignore] match reaches over the end of the hit at start..end
        ("i cut myself" is covered by "cut myself some slack")."""
        if self._ignore is None:
            return False
        end = _trim(norm, end)
        pos = max(0, start - 160)
        while (m := self._ignore.search(norm, pos)) is not None and m.start() < end:
            if _trim(norm, m.end()) >= end:
                return True
            pos = m.start() + 1
        return False


def _trim(norm: str, end: int) -> int:
    """A match's end without the space a pattern may take after its last word."""
    return end - 1 if end and norm[end - 1] == " " else end


def _union(sources: Iterable[str], define: Mapping[str, str]) -> re.Pattern[str] | None:
    parts = [pattern_regex(s, define) for s in sources]
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None
