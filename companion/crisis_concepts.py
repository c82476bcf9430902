"""A second look for crisis language: concepts that come together in one sentence.

The patterns (companion/crisis_match.py) find the ways people usually say it. People in
crisis also say it in plain words no pattern lists: "took like 15 of my sertraline",
"the razor is right there", "gave my sis my hoodies, everything's sorted now". This stage
finds small CONCEPTS in each sentence (a means, an act on the body, a plan, a time, a
goodbye, a wish not to wake up) from short word lists, and a RULE fires when the concepts
it names meet in one sentence (or two short neighbouring ones), a few words apart, and
none of its blockers is there (cooking, sport, someone else doing it, a told past, a joke).

The word lists and rules live in config/crisis_concepts.toml, which explains the notation.
Text goes through crisis_match.normalise, so case, accents, apostrophes and doubled letters
do not matter. Pure: no settings, no output. Compiled on first use.
"""

from __future__ import annotations

import bisect
import heapq
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from .crisis_match import Hit, normalise, normalise_word
from .records import Row
from .resources import pack_file

KIND = "concept"  # the kind of a Hit from this stage; its pattern is the rule's name
END = "$"  # in a word list: the end of a clause
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_GROUP = re.compile(r"\(([^()]*)\)")
_NUMBER = re.compile(r"#(\d+)")
_MOST_FORMS = 400  # the forms one word-list line may stand for
# A text longer than this is first searched for the words rules start from, and only the
# sentences around them are normalised and read (normalising 100 KB takes ~20 ms).
LONG_TEXT = 4000
_REACH = 600  # characters read on each side of such a word, at most
_SENTENCE_MARKS = re.compile(r"[.!?;:\n\r\u2026\u3002\uff01\uff1f]+")


class ConceptError(ValueError):
    """A word list or rule that cannot be read; the message names it."""


def concept_file() -> Path:
    return pack_file("config", "crisis_concepts.toml")


def load(path: Path | None = None) -> Concepts:
    """The concepts and rules in `path` (the shipped file unless given); not yet compiled."""
    raw = (path or concept_file()).read_bytes()
    return Concepts(tomllib.loads(raw.decode("utf-8")))


# ---------------------------------------------------------------- word lists
def expand(line: str) -> list[str]:
    """Every form a word-list line stands for: "(a|b|) c" is "a c", "b c" and "c";
    "(a )?b" is "a b" and "b"."""
    group = _GROUP.search(line)
    if group is None:
        return [" ".join(line.split())]
    options = group.group(1).split("|")
    end = group.end()
    if line[end : end + 1] == "?":
        options, end = [*options, ""], end + 1
    forms: list[str] = []
    for option in options:
        forms += expand(line[: group.start()] + option + line[end:])
        if len(forms) > _MOST_FORMS:
            raise ConceptError(f"{line!r} stands for more than {_MOST_FORMS} forms")
    return forms


def _words(form: str) -> tuple[str, ...]:
    """A form as the words of normalised text; "$", "#5" (a number of 5 or more) kept."""
    words: list[str] = []
    for raw in form.split():
        if raw == END or _NUMBER.fullmatch(raw):
            words.append(raw)
            continue
        star = "*" if raw.endswith("*") and len(raw) > 1 else ""
        words += [w + star for w in normalise_word(raw.rstrip("*")).split()] if raw else []
    return tuple(words)


@dataclass(frozen=True)
class _Entry:
    """One form of a word list: its words after the first, and the concept it stands for."""

    rest: tuple[str, ...]
    concept: int


@dataclass
class _Lexicon:
    """The forms of one language, filed by first word (a number, or a word's start)."""

    by_word: dict[str, list[_Entry]] = field(default_factory=dict)
    by_start: dict[str, list[_Entry]] = field(default_factory=dict)  # "swallow*"
    numbers: list[tuple[int, _Entry]] = field(default_factory=list)

    def add(self, words: tuple[str, ...], concept: int) -> None:
        first, entry = words[0], _Entry(words[1:], concept)
        number = _NUMBER.fullmatch(first)
        if number:
            self.numbers.append((int(number.group(1)), entry))
        elif first.endswith("*"):
            self.by_start.setdefault(first[:-1], []).append(entry)
        else:
            self.by_word.setdefault(first, []).append(entry)

    @cached_property
    def start_sizes(self) -> tuple[int, ...]:
        return tuple(sorted({len(s) for s in self.by_start}))

    def found(self, tokens: list[str]) -> Iterator[tuple[int, int]]:
        """(concept, position) for every form found in a sentence's words."""
        for at, token in enumerate(tokens):
            for entry in self._entries(token):
                if _follows(tokens, at + 1, entry.rest):
                    yield entry.concept, at

    def _entries(self, token: str) -> Iterator[_Entry]:
        yield from self.by_word.get(token, ())
        if _HANGUL.match(token):
            yield from self.by_word.get(_without_particle(token), ())
        for size in self.start_sizes:
            if size > len(token):
                break
            yield from self.by_start.get(token[:size], ())
        if self.numbers and token.isdigit():
            yield from (entry for least, entry in self.numbers if int(token) >= least)


# Korean attaches these to a noun ("약을": the pills, object): a listed noun is found with them.
_PARTICLES = sorted(
    "을 를 이 가 은 는 도 만 들 들을 들이 이랑 랑 까지 에 에서 으로 로 와 과 의 한테 처럼".split(),
    key=len,
    reverse=True,
)


def _without_particle(token: str) -> str:
    for particle in _PARTICLES:
        if token.endswith(particle) and len(token) > len(particle):
            return token[: -len(particle)]
    return token


def _same(token: str, word: str) -> bool:
    """Whether a word of text is a word of a form (a start with "*", a number with "#5",
    a Korean noun with its particle)."""
    if token == word:
        return True
    if word.endswith("*"):
        return token.startswith(word[:-1])
    number = _NUMBER.fullmatch(word)
    if number:
        return token.isdigit() and int(token) >= int(number.group(1))
    return bool(_HANGUL.match(token)) and _without_particle(token) == word


def _follows(tokens: list[str], at: int, words: tuple[str, ...]) -> bool:
    """Whether `words` come next in `tokens` from `at` ("$": a clause ends there)."""
    for offset, word in enumerate(words):
        here = at + offset
        if word == END:
            return here >= len(tokens) or tokens[here] in _SOFT_ENDS
        if here >= len(tokens) or not _same(tokens[here], word):
            return False
    return True


# Words after which another person can start a clause as its subject.
_CLAUSE_STARTS = frozenset(
    ". , and but so then because cause cuz bc since that when while after before if until till"
    " cos coz n said says".split()
)

# A clause also ends at a comma and at words that close a text message.
_SOFT_ENDS = frozenset(
    ", tho though lol lmao tbh ngl honestly fr i think idk rn now anymore".split()
)


# ---------------------------------------------------------------- rules
@dataclass(frozen=True)
class Rule:
    """A rule: every group of `need` has one of its concepts in the window, within `span`
    words of each other; none of `block` is near; no `block_before` concept comes before
    the first concept needed without a `self` word between ("my friend ... cut")."""

    name: str
    need: tuple[frozenset[int], ...]
    block: frozenset[int]
    block_before: frozenset[int]


def _rule(name: str, source: str, ids: Mapping[str, int]) -> Rule:
    need: list[frozenset[int]] = []
    block: set[int] = set()
    before: set[int] = set()
    for part in source.split():
        names = part.lstrip("!").rstrip("<").split("|")
        unknown = [n for n in names if n not in ids]
        if unknown:
            raise ConceptError(f"rule {name!r} uses {', '.join(unknown)}, which no list has")
        found = {ids[n] for n in names}
        if not part.startswith("!"):
            need.append(frozenset(found))
        else:
            (before if part.endswith("<") else block).update(found)
    if not need:
        raise ConceptError(f"rule {name!r} needs at least one concept")
    return Rule(name, tuple(need), frozenset(block), frozenset(before))


# ---------------------------------------------------------------- the compiled form
@dataclass
class _Compiled:
    names: list[str]
    lexicons: dict[str, _Lexicon]
    markers: dict[str, frozenset[str]]
    unless: dict[int, frozenset[int]]
    rules: list[Rule]
    by_key: dict[int, list[Rule]]
    self_ids: frozenset[int]
    span: int
    pair_words: int
    starts: re.Pattern[str]


def _compile(data: Row) -> _Compiled:
    concepts: Mapping[str, Row] = data["concepts"]
    names = sorted(concepts)
    ids = {name: i for i, name in enumerate(names)}
    lexicons: dict[str, _Lexicon] = {}
    signs: dict[int, set[str]] = {}  # the rarest-looking word of each form, by concept
    for name in names:
        for language, lines in _lines_of(name, concepts, ()).items():
            lexicon = lexicons.setdefault(language, _Lexicon())
            for line in lines:
                for form in expand(line):
                    words = _words(form)
                    if not words or words[0] == END:
                        raise ConceptError(f"{name}: {line!r} has no words to start from")
                    lexicon.add(words, ids[name])
                    signs.setdefault(ids[name], set()).add(_sign(words))
    rules = [_rule(n, str(s), ids) for n, s in data["rules"].items()]
    by_key: dict[int, list[Rule]] = {}
    for rule in rules:
        for key in rule.need[0]:
            by_key.setdefault(key, []).append(rule)
    settings = data.get("settings", {})
    return _Compiled(
        names=names,
        lexicons=lexicons,
        markers={k: frozenset(_words(" ".join(v))) for k, v in data["languages"].items()},
        unless={
            ids[n]: frozenset(ids[u] for u in concepts[n].get("unless", ()))
            for n in names
            if concepts[n].get("unless")
        },
        rules=rules,
        by_key=by_key,
        self_ids=frozenset({ids["self"]}),
        span=int(settings.get("span", 14)),
        pair_words=int(settings.get("pair_words", 30)),
        starts=_starts_regex(set().union(*(signs.get(k, set()) for k in by_key))),
    )


def _sign(words: tuple[str, ...]) -> str:
    """The word of a form to look for in a long text: its longest (the first five
    letters), "#" for a number."""
    kept = [w.rstrip("*") for w in words if w != END]
    longest = max(kept, key=len)
    return "#" if _NUMBER.fullmatch(longest) else longest[:5]


def _lines_of(name: str, concepts: Mapping[str, Row], seen: tuple[str, ...]) -> dict[str, list]:
    """A concept's word-list lines by language, with those of the concepts it includes."""
    if name not in concepts:
        raise ConceptError(f"{seen[-1]!r} includes {name!r}, which no list has")
    if name in seen:
        raise ConceptError(f"{name!r} includes itself")
    table = concepts[name]
    lines = {k: [str(x) for x in v] for k, v in table.items() if k not in ("include", "unless")}
    for other in table.get("include", ()):
        for language, more in _lines_of(other, concepts, (*seen, name)).items():
            lines.setdefault(language, []).extend(more)
    return lines


def _starts_regex(signs: set[str]) -> re.Pattern[str]:
    """Where a rule could fire in raw (lower-cased, unaccented) text: a word starting with
    the sign of one of its first concepts, each letter perhaps doubled ("goodbye")."""
    words = {s for s in signs if s != "#"}
    parts = [r"\b(?:" + _trie(words) + ")"] if words else []
    parts += [r"\d"] if "#" in signs else []
    return re.compile("|".join(parts) or r"(?!)")


def _trie(words: Iterable[str]) -> str:
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_node(tree)


def _trie_node(node: dict) -> str:
    options = [re.escape(ch) + "+" + _trie_node(sub) for ch, sub in sorted(node.items()) if ch]
    if not options:
        return ""
    body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
    return f"(?:{body})?" if "" in node else body


# ---------------------------------------------------------------- reading a text
@dataclass
class _Sentence:
    tokens: list[str]
    language: str
    found: dict[int, list[int]]  # concept: positions


class Concepts:
    """Finds crisis language by concepts meeting in a sentence. Compiles on first use."""

    def __init__(self, data: Row) -> None:
        self.data = data

    @cached_property
    def _c(self) -> _Compiled:
        try:
            return _compile(self.data)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, ConceptError):
                raise
            raise ConceptError(f"crisis_concepts.toml lacks or misreads {exc}") from exc

    def check(self) -> None:
        """Compile now; ConceptError names the first problem."""
        _ = self._c

    def find(self, text: str | None) -> Hit | None:
        """The first rule whose concepts meet in `text`, as a Hit, or None."""
        if not text or not text.strip():
            return None
        stretches = [text] if len(text) <= LONG_TEXT else self._stretches(text)
        for stretch in stretches:
            name = self._rule_in(normalise(stretch))
            if name is not None:
                return Hit(KIND, name)
        return None

    def rule_in(self, text: str) -> str | None:
        """The name of the rule that fires in `text` (any length), or None."""
        hit = self.find(text)
        return hit.pattern if hit else None

    def _stretches(self, text: str) -> list[str]:
        """The parts of a long text where a rule could fire: around each word a rule
        starts from, a sentence or two on each side; overlapping parts joined."""
        folded = _fold(text)  # sliced too: its places are not always the text's
        marks = [m.start() for m in _SENTENCE_MARKS.finditer(folded)]
        spans: list[tuple[int, int]] = []
        for m in self._c.starts.finditer(folded):
            at = bisect.bisect_left(marks, m.start())
            left = marks[at - 3] if at >= 3 else 0
            right = marks[at + 2] if at + 2 < len(marks) else len(folded)
            left, right = max(left, m.start() - _REACH), min(right, m.end() + _REACH)
            if spans and left <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(right, spans[-1][1]))
            else:
                spans.append((left, right))
        return [folded[a:b] for a, b in spans]

    def _rule_in(self, norm: str) -> str | None:
        c = self._c
        sentences = [self._read(part.split()) for part in norm.split(".")]
        sentences = [s for s in sentences if s.tokens]
        for at, sentence in enumerate(sentences):
            windows = [[sentence]]
            if at + 1 < len(sentences):
                after = sentences[at + 1]
                if (
                    after.language == sentence.language
                    and len(sentence.tokens) + len(after.tokens) <= c.pair_words
                ):
                    windows.append([sentence, after])
            near = sentences[max(0, at - 1) : at + 3]
            for window in windows:
                name = self._fires(window, near)
                if name is not None:
                    return name
        return None

    def _read(self, tokens: list[str]) -> _Sentence:
        c = self._c
        language = _language(tokens, c.markers)
        found: dict[int, list[int]] = {}
        lexicon = c.lexicons.get(language)
        if lexicon is not None:
            for concept, at in lexicon.found(tokens):
                found.setdefault(concept, []).append(at)
        return _Sentence(tokens, language, found)

    def _fires(self, window: list[_Sentence], near: list[_Sentence]) -> str | None:
        c = self._c
        found = _joined(window)
        tokens = [t for s in window for t in (*s.tokens, ".")]
        here = _present(found.keys(), c.unless)
        rules = {id(r): r for k in here for r in c.by_key.get(k, ())}
        if not rules:
            return None
        around = _present({k for s in near for k in s.found}, c.unless)
        for rule in sorted(rules.values(), key=c.rules.index):
            if (
                all(group & here for group in rule.need)
                and not rule.block & around
                and _within(rule, found, here, c.span)
                and not _someone_else_first(rule, found, tokens, c.self_ids)
            ):
                return rule.name
        return None


def _language(tokens: list[str], markers: Mapping[str, frozenset[str]]) -> str:
    """The language of a sentence: Korean if it has Hangul, else the one whose common
    words it has most of, two at least (English otherwise)."""
    if any(_HANGUL.match(t) for t in tokens):
        return "ko"
    best, most = "en", 1
    for language, words in markers.items():
        count = len(words.intersection(tokens))
        if count > most:
            best, most = language, count
    return best


def _joined(window: list[_Sentence]) -> dict[int, list[int]]:
    """The concepts of a window of sentences, with positions counted across them."""
    if len(window) == 1:
        return window[0].found
    found: dict[int, list[int]] = {}
    offset = 0
    for sentence in window:
        for concept, places in sentence.found.items():
            found.setdefault(concept, []).extend(p + offset for p in places)
        offset += len(sentence.tokens) + 1
    return found


def _present(concepts: Iterable[int], unless: Mapping[int, frozenset[int]]) -> set[int]:
    """The concepts found, less those another found concept cancels (a joke said seriously)."""
    found = set(concepts)
    return {k for k in found if not unless.get(k, frozenset()) & found}


def _within(rule: Rule, found: Mapping[int, list[int]], here: set[int], span: int) -> bool:
    """Whether one place of each needed group lies within `span` words of the others."""
    lists = [sorted(p for k in group & here for p in found[k]) for group in rule.need]
    heap = [(places[0], i, 0) for i, places in enumerate(lists)]
    heapq.heapify(heap)
    high = max(places[0] for places in lists)
    while True:
        low, i, j = heapq.heappop(heap)
        if high - low <= span:
            return True
        if j + 1 == len(lists[i]):
            return False
        following = lists[i][j + 1]
        high = max(high, following)
        heapq.heappush(heap, (following, i, j + 1))


def _someone_else_first(
    rule: Rule, found: Mapping[int, list[int]], tokens: list[str], self_ids: frozenset[int]
) -> bool:
    """Whether a `block_before` concept (another person) starts a clause before the rule's
    first concept, with no word of the person's own between them ("my friend relapsed and
    cut again"; not "sent my friend a message")."""
    if not rule.block_before:
        return False
    first = min(p for k in rule.need[0] for p in found.get(k, ()))
    others = [
        p
        for k in rule.block_before
        for p in found.get(k, ())
        if p < first and (p == 0 or tokens[p - 1] in _CLAUSE_STARTS)
    ]
    if not others:
        return False
    own = [p for k in self_ids for p in found.get(k, ())]
    return not any(max(others) < p < first for p in own)


def _fold(text: str) -> str:
    """Lower case without accents, as normalise does (for finding where to look)."""
    text = text.casefold()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


# ---------------------------------------------------------------- the shipped concepts
@lru_cache(maxsize=1)
def shipped() -> Concepts | None:
    """The shipped concepts, or None when the file cannot be read (the patterns still
    work without them)."""
    try:
        return load()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def find_concept(text: str | None) -> Hit | None:
    """The shipped concept rule that fires in `text`, or None. Never raises for a text."""
    concepts = shipped()
    if concepts is None or not text:
        return None
    try:
        return concepts.find(text)
    except ConceptError:
        return None
