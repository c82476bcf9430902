"""A small matcher for crisis language: phrase patterns, not a flat word list.

A pattern is written the way a person would describe it (the rules live in
config/crisis.toml, which explains the notation):

    (want|going|ready) to (die|end (it|my life))     alternatives, nested
    [just] die            optional words             die?      one optional word
    suicid*               any ending                 *ing      any beginning
    ...                   up to four other words     $         the end of a clause
    {me}                  a named piece from [define] #        a number, ## ten or more

Text and patterns go through the same normalisation, so case, accents, apostrophes,
hyphens, doubled letters ("killl", "dieee"), spaced letters ("d i e"), look-alike
characters ("k1ll") and words run together ("killmyself") all match. A hit is set aside
when an [ignore] pattern covers it ("cut myself some slack") or when a negation or
another person comes right before it ("I would never...", "he wanted to...").

Pure: no settings, no output. Compiled once, on first use.
"""

from __future__ import annotations

import marshal
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Generic, NamedTuple, Protocol, TypeVar

from .records import Row
from .regex_code import adopt, code_of, lazy, lazy_codes, restore

# ---------------------------------------------------------------- normalising
_APOSTROPHES = lazy(r"['\u2018\u2019\u02bc`\u00b4]")
_CLAUSE_MARKS = lazy(r"[.!?;:\n\r()\[\]{}\u2026\u3002\uff01\uff1f\u00a1\u00bf]+")
# A comma is a soft end: "$" and the words before a match stop there; "..." crosses it.
_COMMAS = lazy(r"[,\u060c\u3001\uff0c]+")
# Not a word, a clause mark or a single space (a space needs no replacing).
_NOT_WORD = lazy(r"[^\w., ][^\w.,]*|_+")
_SPACES = lazy(r" {2,}")
# A letter repeated: the repeats go ("killl" is "kil"). A look-behind is quicker than a group.
_DOUBLED = lazy(r"(?<=([a-z]))\1+")
# "d i e", "k i l l m y s e l f": three or more single letters in a row are one word.
_SPACED_LETTERS = lazy(r"(?<![a-z0-9])(?:[a-z] ){2,}[a-z](?![a-z0-9])")
# Look-alike characters inside a word ("k1ll", "su1c1de", "t0", "k!ll").
_LOOK_ALIKE = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "!": "i",
        "|": "i",
        "@": "a",
        "$": "s",
    }
)
# The character first, its neighbours after: far faster than a look-behind first.
# "d.i.e", "k-m-s", "d*i*e": three or more single letters joined by marks are one word.
_DOTTED_LETTERS = lazy(r"(?<![\w.*-])(?:[a-z][.*_-]){2,}[a-z](?![\w*-])")
_LETTER_MARK = lazy(r"[.*_-]")
_LEET = lazy(r"[013457!|@$](?<=[a-z].)(?=[a-z])|[0134](?<=[a-z].)(?![a-z0-9])")
_FUZZY_TOKEN = lazy(r"(?<![a-z0-9])[a-z]{5,14}(?![a-z0-9])")


_NOT_ASCII = lazy(r"[^\x00-\x7f]+")
# What a speech recogniser writes down between the words: "um", "uh" (after doubled letters
# went), a word said twice ("i i want to to die"), "like" after a word that leads into
# something ("about like jumping", "to like end it"), in their doubled-letter-free form.
_FILLERS = lazy(r"(?<![a-z0-9])(?:um|uh|uhm|erm|hm)(?![a-z0-9]) ?")
_LIKE = lazy(
    r"(?<![a-z0-9])(to|about|of|just|gona|wana|and|so|realy|kinda|tok|take|taking|had|did)"
    r" like(?= [a-z])"
)
_REPEATED_WORD = lazy(r"(?<![a-z0-9])([a-z]+)(?: \1)+(?![a-z0-9])")
# Texts longer than this are tidied of speech only when they read as spoken: fewer than one
# mark (. , ! ? or a new line) per _SPOKEN_MARKS characters, as a transcript has.
_SPOKEN_LENGTH = 2000
_SPOKEN_MARKS = 200
# Cheap first looks that spare most texts the slower searches ("k.m.s", "d i e").
_DOTTED_HINT = lazy(r"[.*_-][a-z][.*_-]")
_SPACED_HINT = lazy(r" [a-z] [a-z](?![a-z0-9])")


def fold(text: str) -> str:
    """Lower case without accents; Hangul and other scripts are kept whole."""
    text = text.casefold()
    return text if text.isascii() else _NOT_ASCII.sub(lambda m: _fold_letters(m.group()), text)


def _fold_letters(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def normalise_word(word: str) -> str:
    """A word of a pattern, normalised as text is (no clause marks, no spelling repair)."""
    text = _APOSTROPHES.sub("", fold(word))
    text = _NOT_WORD.sub(" ", text.replace(".", " ").replace(",", " "))
    return _DOUBLED.sub("", _SPACES.sub(" ", text).strip())


def normalise(text: str, *, spelling: Mapping[str, str] | None = None) -> str:
    """Text as the patterns see it: folded, punctuation gone, clause ends kept as " . "."""
    spoken = _spoken(text)
    text = fold(text)
    text = _LEET.sub(lambda m: m.group().translate(_LOOK_ALIKE), text)
    if _DOTTED_HINT.search(text):
        text = _DOTTED_LETTERS.sub(lambda m: _LETTER_MARK.sub("", m.group()), text)
    text = _APOSTROPHES.sub("", text)
    text = _CLAUSE_MARKS.sub(" . ", text)
    text = _COMMAS.sub(" , ", text)
    text = _NOT_WORD.sub(" ", text)
    if _SPACED_HINT.search(f" {text}"):
        text = _SPACED_LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    text = _DOUBLED.sub("", text)
    if spoken:
        text = _REPEATED_WORD.sub(r"\1", _LIKE.sub(r"\1", _FILLERS.sub("", text)))
    if spelling:
        fixes = {
            word: spelling[word]
            for word in spelling.keys() & set(_FUZZY_TOKEN.findall(text))
            if spelling[word] != word
        }
        if fixes:
            text = _FUZZY_TOKEN.sub(lambda m: fixes.get(m.group(), m.group()), text)
    return _SPACES.sub(" ", text).strip()


def _spoken(text: str) -> bool:
    """Whether fillers and repeated words may be in `text`: any short text, and a long one
    with few marks (a transcript); typed prose is spared the work."""
    if len(text) < _SPOKEN_LENGTH:
        return True
    return sum(map(text.count, ".,!?\n")) * _SPOKEN_MARKS < len(text)


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
            found.setdefault(_DOUBLED.sub("", variant), word)
    for raw in words:  # a listed word always stays itself
        found[normalise_word(raw)] = normalise_word(raw)
    return found


# ---------------------------------------------------------------- the pattern notation
class PatternError(ValueError):
    """A pattern that cannot be read; the message quotes it and says why."""


_TOKEN = lazy(r"\{\w+\}|\.\.\.|##|[()\[\]|?$#~]|[^\s()\[\]|?{}$#~]+")
_GAP = " ?"  # between words: a space or none ("kill myself", "killmyself")
_ANY_WORDS = r"(?:[^ .]+ ){0,4}"
# "~": the rest of the sentence, up to twelve words (two things said together).
_SENTENCE_WORDS = r"(?:[^ .]+ ){0,12}"
# A "~" that ends a pattern: the same words, the last one as far as the sentence goes.
_SENTENCE_TAIL = r"(?:[^ .]+ ?){0,12}"
# The end of a clause: a clause mark, the end, or a word that starts something new.
_CLAUSE_END = (
    r"(?= ?(?:[.,]|$)| (?:and|but|so|or|because|cause|cos|coz|then|anymore|any more"
    r"|tonight|today|now|rn|tn|fr|ngl|lol|lmao|tbh|tho|smh|x|xx|honestly|i|im|ive|id|il)"
    r"(?![a-z0-9]))"
)
_START = r"(?<![a-z0-9])"
_END = r"(?![a-z0-9])"
# The one word allowed between an [ignore] before word and a match ("would never hurt"),
# but not one that makes the negation about something else ("not sure how long I can...",
# "not good, want to die"), nor one that starts the person's own words ("I told my friend
# I cut myself").
_FILLER = (  # words as normalised: "good" is "god", "well" is "wel"
    r"(?!(?:sure|certain|know|think|if|whether|how|why|what|when|but|because|and|that"
    r"|god|great|wel|ok|okay|fine|doing|coping|i|im|ive|id|il|me|my)\b)[^ .,]+"
)


class _Node(NamedTuple):
    """One piece of a parsed pattern: its regex, whether it can match nothing, and the
    words a match of it can start with (None: any word). `second` holds the words a match
    can have second when its first word is one whole word of the text (None: any), and
    `single` whether a match can be that one word alone (the next word is then whatever
    follows the piece): they let most patterns be passed over without running them."""

    regex: str
    nullable: bool = False
    first: frozenset[str] | None = frozenset()
    second: frozenset[str] | None = frozenset()
    single: bool = False


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


def _seq(items: list[_Node]) -> _Node:
    first: frozenset[str] | None = frozenset()
    for item in items:
        first = _union(first, item.first)
        if not item.nullable:
            break
    nullable = all(i.nullable for i in items)
    second, single = _second_of(items)
    return _Node(
        "".join(i.regex for i in items),
        nullable,
        None if first is None or nullable else first,
        second,
        single,
    )


def _second_of(items: list[_Node]) -> tuple[frozenset[str] | None, bool]:
    """A sequence's `second` and `single`: the first word comes from one of its items
    (those before it matching nothing); the second from the same item, or, when that item
    can be one word, from the items after it."""
    second: frozenset[str] | None = frozenset()
    single = False
    for at, item in enumerate(items):
        if item.first is None:
            return None, True
        if item.first:
            second = _union(second, item.second)
            if item.single:
                after, open_end = _first_after(items[at + 1 :])
                second, single = _union(second, after), single or open_end
        if not item.nullable:
            break
    return second, single


def _first_after(items: list[_Node]) -> tuple[frozenset[str] | None, bool]:
    """The words the rest of a sequence can start with, and whether it can match nothing."""
    words: frozenset[str] | None = frozenset()
    for item in items:
        words = _union(words, item.first)
        if not item.nullable:
            return words, False
    return words, True


def _alt(options: list[_Node]) -> _Node:
    if len(options) == 1:
        return options[0]
    first: frozenset[str] | None = frozenset()
    second: frozenset[str] | None = frozenset()
    for option in options:
        first, second = _union(first, option.first), _union(second, option.second)
    return _Node(
        "(?:" + "|".join(o.regex for o in options) + ")",
        any(o.nullable for o in options),
        first,
        second,
        any(o.single for o in options),
    )


def _optional(node: _Node) -> _Node:
    return _Node(f"(?:{node.regex})?", True, node.first, node.second, node.single)


def _group(node: _Node) -> _Node:
    return _Node(f"(?:{node.regex})", node.nullable, node.first, node.second, node.single)


_ANY = _Node(_ANY_WORDS, True, None, None, True)
_SENTENCE = _Node(_SENTENCE_WORDS, True, None, None, True)
_SENTENCE_END = _Node(_SENTENCE_TAIL, True, None, None, True)
_CLAUSE = _Node(_CLAUSE_END, True, frozenset())
_NUMBER = _Node(r"\d+" + _GAP, False, frozenset("0123456789"), frozenset(), True)
_TENS = _Node(r"\d{2,}" + _GAP, False, frozenset("123456789"), frozenset(), True)
_ONE_WORD = _Node(r"[^ .,]+" + _GAP, False, None, None, True)


class _Parser:
    def __init__(
        self,
        source: str,
        define: Mapping[str, str],
        seen: tuple[str, ...] = (),
        named: dict[str, _Node] | None = None,
    ) -> None:
        self.source, self.define, self.seen = source, define, seen
        self.named = {} if named is None else named  # pieces of [define], read once
        self.tokens: list[str] = []
        self.at = 0

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
            group = _group(inner)
            return group if token == "(" else _optional(group)
        fixed = {
            "...": _ANY,
            "~": _SENTENCE,
            "$": _CLAUSE,
            "#": _NUMBER,
            "##": _TENS,
            "*": _ONE_WORD,
        }
        if token == "~" and self.at == len(self.tokens):
            return _SENTENCE_END  # the pattern's last piece: to the end of the sentence
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
            self.named[name] = _group(inner)
        return self.named[name]


def _word(token: str, source: str) -> _Node:
    words = normalise_word(token.strip("*")).split()
    if not words:
        raise PatternError(f"{source!r}: {token!r} has no letters")
    any_start = token.startswith("*")
    regex = (
        (r"\w+" if any_start else "")
        + _GAP.join(re.escape(w) for w in words)
        + (r"\w*" if token.endswith("*") else "")
        + _GAP
    )
    if any_start:
        return _Node(regex, False, None, None, True)
    return _Node(regex, False, frozenset(words[:1]), frozenset(words[1:2]), len(words) == 1)


def _parse(
    source: str, define: Mapping[str, str] | None, named: dict[str, _Node] | None = None
) -> _Node:
    node = _Parser(source, define or {}, named=named if named is not None else {}).parse()
    if node.nullable:
        raise PatternError(f"{source!r} can match nothing at all")
    return node


def pattern_regex(source: str, define: Mapping[str, str] | None = None) -> str:
    """The regular expression (over normalised text) for one pattern; PatternError if bad."""
    return _START + "(?:" + _parse(source, define).regex + ")" + _END


# ---------------------------------------------------------------- an index of patterns
HANGUL = lazy(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_TEXT_WORD = lazy(r"[^ .,]+")
# A word of normalised text and (group 1) the word or mark after it, which may lie past
# the stretch searched.
_WORD_AND_NEXT = lazy(r"[^ .,]+(?= ([^ ]*)|$)")
_MIN_PREFIX = 3
_MEMO_LIMIT = 20_000  # words (and pairs of words) whose candidate patterns an index remembers
# A pattern that can start at a word: its number and the words that can follow (None: any).
_Candidate = tuple[int, frozenset[str] | None]
_Match = Callable[[str, int], "re.Match[str] | None"]


_T_co = TypeVar("_T_co", covariant=True)


class DamagedKept(ValueError):
    """Part of the kept (cached) form of the rules could not be read back."""


class Items(Protocol[_T_co]):
    """What an index reads of its lists: a list, or one kept packed (see `_Unpacked`)."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> _T_co: ...
    def __iter__(self) -> Iterator[_T_co]: ...


Codes = Items[bytes | None]  # each pattern's kept code (crisis_cache.Pieces: read on demand)
_Words = frozenset[str] | None


class _Unpacked(Generic[_T_co]):
    """A list kept as bytes per item (perhaps read from the cache file only when asked
    for), each item unpacked the first time it is used: a check reaches few patterns, so
    most of the index is never read back at all."""

    def __init__(self, packed: Items[bytes | None], unpack: Callable[[bytes], _T_co]) -> None:
        self._packed, self._unpack = packed, unpack
        self._done: dict[int, _T_co] = {}

    def __len__(self) -> int:
        return len(self._packed)

    def __getitem__(self, index: int) -> _T_co:
        if index not in self._done:
            packed = self._packed[index]
            if packed is None:
                raise DamagedKept(f"item {index} of a kept index is damaged")
            self._done[index] = self._unpack(packed)
        return self._done[index]

    def __iter__(self) -> Iterator[_T_co]:
        return (self[index] for index in range(len(self)))


def _words_of(packed: bytes) -> _Words:
    words = marshal.loads(packed)
    if words is not None and not isinstance(words, frozenset):
        raise DamagedKept("a kept index holds something else")
    return words


class _Index:
    """Patterns filed by the words a match can start with, so a text is only tried where
    one of those words begins: fast for long texts. Korean patterns (which match inside
    words) are tried only in the clauses that hold Hangul. A pattern is compiled only when
    a text gets as far as its second word, from kept code when the index was rebuilt from
    `data()`."""

    def __init__(
        self,
        regexes: Items[str],
        firsts: Items[_Words],
        seconds: Items[_Words],
        codes: Codes | None = None,
        filed: tuple[dict[str, list[int]], list[int], list[int]] | None = None,
    ) -> None:
        self.regexes, self.firsts, self.seconds = regexes, firsts, seconds
        self.codes: Codes = [None] * len(regexes) if codes is None else codes
        self._compiled: dict[int, re.Pattern[str]] = {}
        self._memo: dict[str, tuple[_Candidate, ...]] = {}
        self._pairs: dict[tuple[str, str], tuple[tuple[int, _Match], ...]] = {}
        # by first word; any first word (tried everywhere); only Korean first words
        self.by_word, self.anywhere, self.korean = filed or _file(list(firsts))
        self.longest = max((len(w) for w in self.by_word), default=0)

    @classmethod
    def parse(
        cls,
        sources: Iterable[str],
        define: Mapping[str, str],
        named: dict[str, _Node] | None = None,
    ) -> _Index:
        nodes = [_parse(s, define, {} if named is None else named) for s in sources]
        return cls(
            [_START + "(?:" + n.regex + ")" + _END for n in nodes],
            [n.first for n in nodes],
            [None if n.single or n.first is None else n.second for n in nodes],
        )

    def __add__(self, other: _Index) -> _Index:
        return _Index(
            [*self.regexes, *other.regexes],
            [*self.firsts, *other.firsts],
            [*self.seconds, *other.seconds],
            [*self.codes, *other.codes],
        )

    def data(self) -> Row:
        """The index as plain data, each pattern with its compiled code (slow: it compiles
        every pattern); `from_data` rebuilds it. Each pattern's parts are bytes, which
        crisis_cache keeps after its header and reads back only when used."""
        return {
            "regexes": [r.encode() for r in self.regexes],
            "firsts": [marshal.dumps(w) for w in self.firsts],
            "seconds": [marshal.dumps(w) for w in self.seconds],
            "codes": [code_of(r) for r in self.regexes],
            "filed": (self.by_word, self.anywhere, self.korean),
        }

    @classmethod
    def from_data(cls, data: Row) -> _Index:
        regexes = _Unpacked(data["regexes"], bytes.decode)  # each read when first used
        firsts = _Unpacked(data["firsts"], _words_of)
        seconds = _Unpacked(data["seconds"], _words_of)
        codes = data["codes"]
        if not len(regexes) == len(firsts) == len(seconds) == len(codes):
            raise ValueError("an index whose parts do not line up")
        by_word, anywhere, korean = data["filed"]
        return cls(
            regexes, firsts, seconds, codes, filed=(dict(by_word), list(anywhere), list(korean))
        )

    def regex(self, index: int) -> re.Pattern[str]:
        compiled = self._compiled.get(index)
        if compiled is None:
            compiled = self._compiled[index] = restore(self.regexes[index], self.codes[index])
        return compiled

    def compile_all(self) -> None:
        for index in range(len(self.regexes)):
            self.regex(index)

    def matches(
        self, norm: str, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, re.Match[str]]]:
        """(pattern index, match) for every pattern matching at a word in norm[start:end],
        in order of position."""
        end = len(norm) if end is None else end
        found: list[tuple[int, int, re.Match[str]]] = []
        for index in self.anywhere:
            found += [
                (m.start(), index, m)
                for m in self.regex(index).finditer(norm, start)
                if m.start() < end
            ]
        for left, right in _hangul_clauses(norm, start, end) if self.korean else ():
            for index in self.korean:
                found += [
                    (m.start(), index, m)
                    for m in self.regex(index).finditer(norm, left, right)
                    if m.start() < end
                ]
        if found:
            found.sort(key=lambda f: (f[0], f[1]))
        yield from _merge(found, self._at_words(norm, start, end))

    def _at_words(
        self, norm: str, start: int, end: int
    ) -> Iterator[tuple[int, int, re.Match[str]]]:
        memo, pairs = self._memo, self._pairs
        for word in _WORD_AND_NEXT.finditer(norm, start):
            at = word.start()
            if at >= end:
                break
            token = word.group()
            candidates = memo.get(token)
            if candidates is None:
                candidates = self._candidates(token)
            if not candidates:
                continue
            pair = (token, word.group(1) or "")
            kept = pairs.get(pair)
            if kept is None:
                kept = self._keep(pair, candidates)
            for index, match in kept:
                m = match(norm, at)
                if m is not None:
                    yield at, index, m

    def _keep(
        self, pair: tuple[str, str], candidates: tuple[_Candidate, ...]
    ) -> tuple[tuple[int, _Match], ...]:
        """The candidates at a word that the word after it allows (every start of that
        word counts: a pattern's second word may be run together with what follows),
        each with its compiled `match`."""
        following = pair[1]
        starts = {following[:size] for size in range(1, len(following) + 1)}
        if len(self._pairs) >= _MEMO_LIMIT:
            self._pairs.clear()
        kept = self._pairs[pair] = tuple(
            (index, self.regex(index).match)
            for index, second in candidates
            if second is None or not second.isdisjoint(starts)
        )
        return kept

    def _candidates(self, token: str) -> tuple[_Candidate, ...]:
        """The patterns that can start at `token`: those filed under the whole word, or
        under a start of it at least three letters long ("kill" in "killmyself", "suicid"
        in "suicidal"); short words like "i" as themselves or run together with the
        pattern's second word ("im", "iwant"). A pattern that can start inside the word
        is not passed over by the word after it."""
        whole = set(self.by_word.get(token, ()))
        started: set[int] = set()
        for size in range(_MIN_PREFIX, min(len(token) - 1, self.longest) + 1):
            started.update(self.by_word.get(token[:size], ()))
        for size in range(1, min(_MIN_PREFIX, len(token))):
            started.update(self._run_together(token[:size], token[size:]))
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        found = self._memo[token] = tuple(
            (i, None if i in started else self.seconds[i]) for i in sorted(whole | started)
        )
        return found

    def _run_together(self, head: str, rest: str) -> Iterator[int]:
        """The patterns filed under `head`, a word too short to be looked for as the start
        of a longer one ("i"), whose second word starts `rest` ("m" of "im", "want" of
        "iwant"), or may be any word: written as one word with it."""
        starts = {rest[:cut] for cut in range(1, len(rest) + 1)}
        for index in self.by_word.get(head, ()):
            second = self.seconds[index]
            if second is None or not second.isdisjoint(starts):
                yield index


def _file(firsts: list[frozenset[str] | None]) -> tuple[dict[str, list[int]], list[int], list[int]]:
    """Patterns by first word, those with any first word, and those with Korean ones."""
    by_word: dict[str, list[int]] = {}
    anywhere: list[int] = []
    korean: list[int] = []
    for index, first in enumerate(firsts):
        hangul = first is not None and sum(bool(HANGUL.match(w)) for w in first)
        if first is None or (hangul and hangul < len(first)):
            anywhere.append(index)
        elif hangul:
            korean.append(index)
        else:
            for word in first:
                by_word.setdefault(word, []).append(index)
    return by_word, anywhere, korean


def _hangul_clauses(norm: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The (start, end) of every clause with Hangul that begins before `end` (it may
    reach past it: a match may start before `end` and end after it)."""
    at = start
    while at < end and (hangul := HANGUL.search(norm, at, end)) is not None:
        left = max(start, norm.rfind(".", start, hangul.start()) + 1)
        right = norm.find(".", hangul.end())
        right = len(norm) if right < 0 else right
        yield left, right
        at = right + 1


def _merge(
    first: list[tuple[int, int, re.Match[str]]], second: Iterator[tuple[int, int, re.Match[str]]]
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
class Rules(NamedTuple):
    """What a matcher knows: crisis patterns by kind, and what sets a hit aside."""

    patterns: Mapping[str, tuple[str, ...]]
    ignore: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    define: Mapping[str, str] = MappingProxyType({})
    spelling: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    present: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


class Hit(NamedTuple):
    """Which pattern matched (never the person's words)."""

    kind: str
    pattern: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.pattern}"


_WALKED_BACK = "sort of|kind of|kinda|not really|maybe|or am i|half|partly|but"
_MARKS = lazy(r"[ .]*")  # the clause marks between two sentences ("die . . kiding")
_BEFORE_REACH = 80  # characters before a hit that can hold a [ignore] before word and its filler
# The lists of Rules searched as one regex each, and what follows their words: a `before`
# word must end the stretch before a hit (one other word may come between).
_LISTS = {
    "before": rf" ?(?:{_FILLER} )?$",
    "history": "",
    "present": "",
    "others": "",
    "speaker": "",
    # a jest or a correction that is all the next sentence says ("I want to die. (Kidding.)"),
    # not walked back in turn ("jk. sort of.")
    "after": r" ?(?:\.|$)(?![ .]*(?:" + _WALKED_BACK + r")\b)",
}
_KEPT_AS_IS = (
    "ignore", "before", "spelling", "history", "present", "others", "speaker", "after",
)  # fmt: skip
# The shape of `Matcher.data()`: raise it whenever that shape changes.
DATA_FORMAT = 6
_INDEX_PARTS = ("regexes", "firsts", "seconds", "codes", "filed")


class Matcher:
    """Finds crisis language in text. Reads its rules on first use, once; each pattern
    is compiled the first time a text could match it.

    `compiled` is what `data()` gave for the same rules (perhaps in another process): it
    saves reading the rules and compiling the patterns. It is only a shortcut: when it was
    made from other rules it is not used, and patterns the rules add after the ones it
    covers ([safety] extra_phrases) are read as usual.
    """

    def __init__(self, rules: Rules, *, compiled: Row | None = None) -> None:
        self.rules = rules
        self._sources = [(kind, p) for kind, ps in rules.patterns.items() for p in ps]
        self._kept = compiled if compiled is not None and self._covers(compiled) else None
        if self._kept is not None:
            adopt(self._kept.get("module", {}))
        self._lists: dict[str, re.Pattern[str] | None] = {}

    def _covers(self, compiled: Row) -> bool:
        try:
            sources = [tuple(s) for s in compiled["sources"]]
            return (
                compiled["format"] == DATA_FORMAT
                and all(
                    set(_INDEX_PARTS) <= compiled[name].keys()
                    for name in ("patterns_index", "ignore_index")
                )
                and sources == self._sources[: len(sources)]
                and all(tuple(compiled[name]) == getattr(self.rules, name) for name in _KEPT_AS_IS)
                and dict(compiled["define"]) == dict(self.rules.define)
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return False

    def data(self) -> Row:
        """Everything this matcher reads and compiles, as plain data (lists, dicts,
        strings, bytes) for `Matcher(rules, compiled=...)`. Slow: it compiles every rule."""
        lists = {name: self._list_source(name) for name in _LISTS}
        return {
            "format": DATA_FORMAT,
            "sources": self._sources,
            "define": dict(self.rules.define),
            **{name: getattr(self.rules, name) for name in _KEPT_AS_IS},
            "near": self._spelling,
            "module": lazy_codes(),  # the matchers' own regexes (normalising, words)
            "patterns_index": self._patterns.data(),
            "ignore_index": self._ignore.data(),
            "lists": {
                name: None if source is None else (source, code_of(source))
                for name, source in lists.items()
            },
        }

    def check(self) -> None:
        """Read and compile every rule now; PatternError names the first bad one."""
        self._patterns.compile_all()
        self._ignore.compile_all()
        _ = self._spelling, [self._list(name) for name in _LISTS]

    @cached_property
    def _spelling(self) -> dict[str, str]:
        if self._kept is not None:
            return dict(self._kept["near"])
        return near_spellings(self.rules.spelling)

    @cached_property
    def _patterns(self) -> _Index:
        if self._kept is None:
            return _Index.parse((p for _, p in self._sources), self.rules.define)
        index = _Index.from_data(self._kept["patterns_index"])
        rest = self._sources[len(self._kept["sources"]) :]
        return index + _Index.parse((p for _, p in rest), self.rules.define) if rest else index

    @cached_property
    def _ignore(self) -> _Index:
        if self._kept is not None:
            return _Index.from_data(self._kept["ignore_index"])
        return _Index.parse(self.rules.ignore, self.rules.define)

    def _list(self, name: str) -> re.Pattern[str] | None:
        """One of `_LISTS` as one compiled regex (None when the list is empty)."""
        if name not in self._lists:
            if self._kept is not None:
                kept = self._kept["lists"][name]
                self._lists[name] = None if kept is None else restore(kept[0], kept[1])
            else:
                source = self._list_source(name)
                self._lists[name] = None if source is None else re.compile(source)
        return self._lists[name]

    def _list_source(self, name: str) -> str | None:
        patterns: tuple[str, ...] = getattr(self.rules, name)
        if not patterns:
            return None
        named: dict[str, _Node] = {}
        words = "|".join(
            f"(?:{_START}(?:{_parse(p, self.rules.define, named).regex}){_END})" for p in patterns
        )
        return f"(?:{words}){_LISTS[name]}"

    def find(self, text: str | None) -> Hit | None:
        """The first pattern that finds crisis language in `text`, or None."""
        if not text or not text.strip() or not self._sources:
            return None
        try:
            return self._find(text)
        except DamagedKept:  # the kept form went bad under us: read the rules afresh
            self._forget_kept()
            return self._find(text)

    def _forget_kept(self) -> None:
        self._kept = None
        self._lists.clear()
        for name in ("_spelling", "_patterns", "_ignore"):
            self.__dict__.pop(name, None)  # the cached_property values

    def _find(self, text: str) -> Hit | None:
        norm = normalise(text, spelling=self._spelling)
        covering = _Covering(self._ignore, norm)
        for index, m in self._patterns.matches(norm):
            if (
                not self._cancelled_before(norm, m.start())
                and not covering.covers(m.start(), m.end())
                and not self._told_as_history(norm, m.start())
                and not self._about_someone_else(norm, m.start(), m.end())
                and not self._taken_back_after(norm, m.end())
            ):
                return Hit(*self._sources[index])
        return None

    def sets_aside(self, text: str | None) -> bool:
        """For a text `find` left alone: whether a rule chose that, not a missing pattern.
        True when a pattern matched and was set aside (a negation, another person), an
        [ignore] idiom matches anywhere, or a sentence tells of the past as past. Used by
        tests/tools/crisis_why.py, which tells a rules author why a text was left alone."""
        if not text or not text.strip():
            return False
        try:
            return self._sets_aside(text)
        except DamagedKept:
            self._forget_kept()
            return self._sets_aside(text)

    def _sets_aside(self, text: str) -> bool:
        norm = normalise(text, spelling=self._spelling)
        for index in (self._patterns, self._ignore):
            if next(iter(index.matches(norm)), None) is not None:
                return True
        starts = [0] + [i + 1 for i, ch in enumerate(norm) if ch == "."]
        return any(self._told_as_history(norm, start) for start in starts)

    def _cancelled_before(self, norm: str, start: int) -> bool:
        before = self._list("before")
        if before is None:
            return False
        # Only the last words before the hit matter: a long clause is cut at a word start.
        left = max(norm.rfind(".", 0, start), norm.rfind(",", 0, start)) + 1
        if start - left > _BEFORE_REACH:
            left = norm.find(" ", start - _BEFORE_REACH) + 1
        return before.search(norm, left, start) is not None

    def _taken_back_after(self, norm: str, end: int) -> bool:
        """Whether the sentence right after a hit's own is only a jest or a correction
        ("i want to die . kiding ."): an [ignore] after word, and nothing else."""
        after = self._list("after")
        mark = norm.find(".", end) if after is not None else -1
        if after is None or mark < 0:
            return False
        marks = _MARKS.match(norm, mark)
        return after.match(norm, marks.end() if marks else mark) is not None

    def _about_someone_else(self, norm: str, start: int, end: int) -> bool:
        """Whether the clause of a hit is about another person: the last person named
        before it is someone else ("my friend told me she wanted to end it all") and
        neither the hit nor the words after that person speak of the writer."""
        others, speaker = self._list("others"), self._list("speaker")
        if others is None or speaker is None:
            return False
        left = max(norm.rfind(".", 0, start), norm.rfind(",", 0, start)) + 1
        named = list(others.finditer(norm, left, start))
        return bool(named) and speaker.search(norm, named[-1].end(), end) is None

    def _told_as_history(self, norm: str, start: int) -> bool:
        """Whether the sentence of a hit tells of the past as past ("years ago I used to
        think about dying") and says nothing of it being here now ("again", "lately")."""
        history = self._list("history")
        if history is None:
            return False
        end = norm.find(".", start)
        sentence = norm[norm.rfind(".", 0, start) + 1 : len(norm) if end < 0 else end]
        if history.search(sentence) is None:
            return False
        present = self._list("present")
        return present is None or present.search(sentence) is None


class _Covering:
    """The [ignore] matches in one text, found as far as the hits so far needed: whether
    one reaches over the end of a hit ("i cut myself" is covered by "cut myself some
    slack"). Each stretch of text is searched once, however many hits it holds."""

    REACH = 160  # how far before a hit an [ignore] match may start

    def __init__(self, ignore: _Index, norm: str) -> None:
        self.ignore, self.norm = ignore, norm
        self.searched = 0  # [ignore] matches starting before this are all in `spans`
        self.spans: list[tuple[int, int]] = []

    def covers(self, start: int, end: int) -> bool:
        end = _trim(self.norm, end)
        low = max(0, start - self.REACH)
        if self.searched < end:
            self.spans += [
                (m.start(), _trim(self.norm, m.end()))
                for _, m in self.ignore.matches(self.norm, max(low, self.searched), end)
            ]
            self.searched = end
        # hits come in order of their start, so a span too far back never counts again
        self.spans = [span for span in self.spans if span[0] >= low]
        return any(left < end <= right for left, right in self.spans)


def _trim(norm: str, end: int) -> int:
    """A match's end without the space a pattern may take after its last word."""
    return end - 1 if end and norm[end - 1] == " " else end
