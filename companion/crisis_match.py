"""A small matcher for crisis language: phrase patterns, not a flat word list.

A pattern is written the way a person would describe it (the rules live in
config/crisis.toml, which explains the notation):

    (want|going|ready) to (die|end (it|my life))     alternatives, nested
    [just] die            optional words             die?      one optional word
    suicid*               any ending                 *ing      any beginning
    ...                   up to four other words     $         the end of a clause
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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

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


@lru_cache(maxsize=4096)
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
               r"|tonight|today|now|rn|tn|fr|ngl|lol|lmao|tbh|tho|smh|x|xx|honestly|i|im|ive|id|il)"
               r"(?![a-z0-9]))")
_START = r"(?<![a-z0-9])"
_END = r"(?![a-z0-9])"
# The one word allowed between an [ignore] before word and a match ("would never hurt"),
# but not one that makes the negation about something else ("not sure how long I can...").
_FILLER = r"(?!(?:sure|certain|know|think|if|whether|how|why|what|when|but|because)\b)[^ .,]+"


@dataclass(frozen=True)
class _Node:
    """One piece of a parsed pattern: its regex, whether it can match nothing, and the
    words a match of it can start with (None: any word)."""

    regex: str
    nullable: bool = False
    first: frozenset[str] | None = frozenset()


def _seq(items: list[_Node]) -> _Node:
    first: set[str] | None = set()
    for item in items:
        if first is not None:
            first = None if item.first is None else first | item.first
        if not item.nullable:
            break
    nullable = all(i.nullable for i in items)
    return _Node("".join(i.regex for i in items), nullable,
                 None if first is None or nullable else frozenset(first))


def _alt(options: list[_Node]) -> _Node:
    if len(options) == 1:
        return options[0]
    first: frozenset[str] | None = frozenset()
    for option in options:
        first = None if first is None or option.first is None else first | option.first
    return _Node("(?:" + "|".join(o.regex for o in options) + ")",
                 any(o.nullable for o in options), first)


def _optional(node: _Node) -> _Node:
    return _Node(f"(?:{node.regex})?", True, node.first)


_ANY = _Node(_ANY_WORDS, True, None)
_CLAUSE = _Node(_CLAUSE_END, True, frozenset())
_NUMBER = _Node(r"\d+" + _GAP, False, frozenset("0123456789"))
_ONE_WORD = _Node(r"[^ .,]+" + _GAP, False, None)


@dataclass
class _Parser:
    source: str
    define: Mapping[str, str]
    seen: tuple[str, ...] = ()
    named: dict[str, _Node] = field(default_factory=dict)  # pieces of [define], read once
    tokens: list[str] = field(default_factory=list)
    at: int = 0

    def parse(self) -> _Node:
        self.tokens = _TOKEN.findall(self.source)
        if not self.tokens:
            raise PatternError(f"{self.source!r} is empty")
        node = self._alternatives()
        if self.at != len(self.tokens):
            raise PatternError(f"{self.source!r}: unexpected {self.tokens[self.at]!r}")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _alternatives(self) -> _Node:
        options = [self._sequence()]
        while self._peek() == "|":
            self.at += 1
            options.append(self._sequence())
        return _alt(options)

    def _sequence(self) -> _Node:
        items: list[_Node] = []
        while self._peek() not in (None, "|", ")", "]"):
            if self._peek() == "?":  # "a? ?b": a second "?" adds nothing
                self.at += 1
                continue
            item = self._item()
            if self._peek() == "?":
                self.at += 1
                item = _optional(item)
            items.append(item)
        if not items:
            raise PatternError(f"{self.source!r} has an empty choice")
        return _seq(items)

    def _item(self) -> _Node:
        token = self.tokens[self.at]
        self.at += 1
        if token in ("(", "["):
            inner = self._alternatives()
            close = ")" if token == "(" else "]"
            if self._peek() != close:
                raise PatternError(f"{self.source!r}: {token!r} is never closed")
            self.at += 1
            group = _Node(f"(?:{inner.regex})", inner.nullable, inner.first)
            return group if token == "(" else _optional(group)
        fixed = {"...": _ANY, "$": _CLAUSE, "#": _NUMBER, "*": _ONE_WORD}
        if token in fixed:
            return fixed[token]
        if token.startswith("{"):
            return self._named(token[1:-1])
        if token in (")", "]", "|", "?"):
            raise PatternError(f"{self.source!r}: unexpected {token!r}")
        return _word(token, self.source)

    def _named(self, name: str) -> _Node:
        if name not in self.define:
            raise PatternError(f"{self.source!r} uses {{{name}}}, which [define] lacks")
        if name in self.seen:
            raise PatternError(f"{{{name}}} is defined through itself")
        if name not in self.named:
            inner = _Parser(self.define[name], self.define, (*self.seen, name), self.named).parse()
            self.named[name] = _Node(f"(?:{inner.regex})", inner.nullable, inner.first)
        return self.named[name]


def _word(token: str, source: str) -> _Node:
    words = normalise_word(token.strip("*")).split()
    if not words:
        raise PatternError(f"{source!r}: {token!r} has no letters")
    any_start = token.startswith("*")
    regex = ((r"\w+" if any_start else "") + _GAP.join(re.escape(w) for w in words)
             + (r"\w*" if token.endswith("*") else "") + _GAP)
    return _Node(regex, False, None if any_start else frozenset([words[0]]))


def _parse(source: str, define: Mapping[str, str] | None,
           named: dict[str, _Node] | None = None) -> _Node:
    node = _Parser(source, define or {}, named=named if named is not None else {}).parse()
    if node.nullable:
        raise PatternError(f"{source!r} can match nothing at all")
    return node


def pattern_regex(source: str, define: Mapping[str, str] | None = None) -> str:
    """The regular expression (over normalised text) for one pattern; PatternError if bad."""
    return _START + "(?:" + _parse(source, define).regex + ")" + _END


# ---------------------------------------------------------------- an index of patterns
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_TEXT_WORD = re.compile(r"[^ .,]+")
_MIN_PREFIX = 3


class _Index:
    """Patterns filed by the words a match can start with, so a text is only tried where
    one of those words begins: fast for long texts. Each pattern compiles on first use."""

    def __init__(self, sources: list[str], define: Mapping[str, str]) -> None:
        named: dict[str, _Node] = {}
        self.nodes = [_parse(s, define, named) for s in sources]
        self._compiled: dict[int, re.Pattern[str]] = {}
        self.by_word: dict[str, list[int]] = {}
        self.anywhere: list[int] = []  # any first word, or Korean (matched inside words)
        for index, node in enumerate(self.nodes):
            if node.first is None or any(_HANGUL.match(w) for w in node.first):
                self.anywhere.append(index)
                continue
            for word in node.first:
                self.by_word.setdefault(word, []).append(index)
        self.longest = max((len(w) for w in self.by_word), default=0)
        self.not_korean = [i for i in self.anywhere if not _korean(self.nodes[i])]

    def regex(self, index: int) -> re.Pattern[str]:
        if index not in self._compiled:
            self._compiled[index] = re.compile(_START + "(?:" + self.nodes[index].regex + ")"
                                               + _END)
        return self._compiled[index]

    def compile_all(self) -> None:
        for index in range(len(self.nodes)):
            self.regex(index)

    def matches(self, norm: str, start: int = 0, end: int | None = None
                ) -> Iterator[tuple[int, re.Match[str]]]:
        """(pattern index, match) for every pattern matching at a word in norm[start:end],
        in order of position."""
        end = len(norm) if end is None else end
        found: list[tuple[int, int, re.Match[str]]] = []
        for index in self.anywhere if _HANGUL.search(norm, start, end) else self.not_korean:
            found += [(m.start(), index, m) for m in self.regex(index).finditer(norm, start)
                      if m.start() < end]
        if found:
            found.sort(key=lambda f: (f[0], f[1]))
        yield from _merge(found, self._at_words(norm, start, end))

    def _at_words(self, norm: str, start: int, end: int
                  ) -> Iterator[tuple[int, int, re.Match[str]]]:
        for word in _TEXT_WORD.finditer(norm, start, end):
            token, at = word.group(), word.start()
            # The whole word, or a start of at least three letters ("kill" in "killmyself",
            # "suicid" in "suicidal"): short words like "i" only ever as themselves.
            candidates = set(self.by_word.get(token, ()))
            for size in range(_MIN_PREFIX, min(len(token) - 1, self.longest) + 1):
                candidates.update(self.by_word.get(token[:size], ()))
            for index in sorted(candidates):
                m = self.regex(index).match(norm, at)
                if m is not None:
                    yield at, index, m


def _korean(node: _Node) -> bool:
    return node.first is not None and all(_HANGUL.match(w) for w in node.first)


def _merge(first: list[tuple[int, int, re.Match[str]]],
           second: Iterator[tuple[int, int, re.Match[str]]]
           ) -> Iterator[tuple[int, re.Match[str]]]:
    """Two position-ordered streams of matches as one (the first one is short)."""
    pending = iter(first)
    head = next(pending, None)
    for item in second:
        while head is not None and head[:2] <= item[:2]:
            yield head[1], head[2]
            head = next(pending, None)
        yield item[1], item[2]
    while head is not None:
        yield head[1], head[2]
        head = next(pending, None)


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
    """Finds crisis language in text. Reads its rules on first use, once; each pattern
    is compiled the first time a text could match it."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._sources = [(kind, p) for kind, ps in rules.patterns.items() for p in ps]

    def check(self) -> None:
        """Read and compile every rule now; PatternError names the first bad one."""
        self._patterns.compile_all()
        self._ignore.compile_all()
        _ = self._before, self._spelling

    @cached_property
    def _spelling(self) -> dict[str, str]:
        return near_spellings(self.rules.spelling)

    @cached_property
    def _patterns(self) -> _Index:
        return _Index([p for _, p in self._sources], self.rules.define)

    @cached_property
    def _ignore(self) -> _Index:
        return _Index(list(self.rules.ignore), self.rules.define)

    @cached_property
    def _before(self) -> re.Pattern[str] | None:
        if not self.rules.before:
            return None
        words = "|".join(f"(?:{pattern_regex(b, self.rules.define)})" for b in self.rules.before)
        return re.compile(rf"(?:{words}) ?(?:{_FILLER} )?$")

    def find(self, text: str | None) -> Hit | None:
        """The first pattern that finds crisis language in `text`, or None."""
        if not text or not text.strip() or not self._sources:
            return None
        norm = normalise(text, spelling=self._spelling)
        for index, m in self._patterns.matches(norm):
            if not self._cancelled_before(norm, m.start()) \
                    and not self._covered(norm, m.start(), m.end()):
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
        end = _trim(norm, end)
        for _, m in self._ignore.matches(norm, max(0, start - 160), end):
            if _trim(norm, m.end()) >= end:
                return True
        return False


def _trim(norm: str, end: int) -> int:
    """A match's end without the space a pattern may take after its last word."""
    return end - 1 if end and norm[end - 1] == " " else end
