"""A second look for crisis language: concepts that meet in one sentence.

The patterns (companion/crisis_match.py) find the ways people usually say it. People in
crisis also say it in plain words no pattern lists: "took like 15 of my sertraline",
"the razor is right there", "gave my sis my hoodies, everything's sorted now". This stage
finds small CONCEPTS in each sentence (a means, an act on the body, a plan, a time, a
goodbye, a wish not to wake up) from short word lists, and a RULE fires when the concepts
it names meet in one sentence (or two short neighbouring ones), a few words apart, and
none of its blockers is near (cooking, sport, someone else doing it, a told past, a joke).

The word lists and rules live in config/crisis_concepts.toml, which explains the notation.
Text goes through crisis_match.normalise, so case, accents, apostrophes and doubled letters
do not matter. A long text is first searched for the words rules start from, and only the
sentences around them are read. Pure: no settings, no output. Compiled on first use, and
the compiled form is kept for the next process (crisis_cache), as the patterns' is.
"""

from __future__ import annotations

import marshal
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property, lru_cache, partial
from pathlib import Path

from . import crisis_cache
from .crisis_match import HANGUL, Hit, fold, normalise, normalise_word
from .logs import get_log
from .records import Row
from .regex_code import lazy
from .resources import pack_file

log = get_log("companion.crisis_concepts")

KIND = "concept"  # the kind of a Hit from this stage; its pattern is the rule's name
FORMAT = 4  # of the compiled form: raise it whenever its shape changes
CACHE_NAME = "crisis-concepts.cache"
END = "$"  # in a word list: the end of a clause


_NUMBER = lazy(r"#(\d+)")
_GROUP = lazy(r"\(([^()]*)\)")
_MOST_FORMS = 400  # the forms one word-list line may stand for
# A text longer than this is searched for the words rules start from first (normalising
# 100 KB alone takes ~20 ms); shorter ones are read whole.
LONG_TEXT = 4000
# Where crisis_match.normalise ends a clause: a long text is cut into sentences there.
_MARK = r"[.!?;:\n\r()\[\]{}\u2026\u3002\uff01\uff1f\u00a1\u00bf]"
_SENTENCE_MARKS = lazy(rf"{_MARK}(?:\s*{_MARK})*")

# Words after which another person can start a clause as its subject.
_CLAUSE_STARTS = frozenset(
    [
        *(".", ",", "and", "but", "so", "then", "because", "cause", "cuz", "bc", "since", "that"),
        *("when", "while", "after", "before", "if", "until", "till", "cos", "coz", "n", "said"),
        *("says", "me"),
    ]
)
# A clause also ends at a comma and at words that close a text message ("$").
_SOFT_ENDS = frozenset(
    [",", "tho", "though", "lol", "lmao", "tbh", "ngl", "honestly", "fr", "think", "idk"]
    + ["rn", "now", "anymore"]
)
# "i" ends a clause only before these ("its time i think", not "its time i went to bed").
_SOFT_AFTER_I = frozenset(["think", "guess", "swear", "mean", "suppose", "dunno", "promise"])
# Korean attaches these to a noun ("약을": the pills, as object): a listed noun is found with them.
_PARTICLES = sorted(
    ["을", "를", "이", "가", "은", "는", "도", "만", "들", "들을", "들이", "이랑", "랑", "까지"]
    + ["에", "에서", "으로", "로", "와", "과", "의", "한테", "처럼"],
    key=len,
    reverse=True,
)

# A form after its first word: (the words after it, the concept, whether all are plain).
Entry = tuple[tuple[str, ...], int, bool]


class ConceptError(ValueError):
    """A word list or rule that cannot be read; the message names it."""


# ---------------------------------------------------------------- loading
def concept_file() -> Path:
    return pack_file("config", "crisis_concepts.toml")


def load(path: Path | None = None) -> Concepts:
    """The concepts and rules in `path` (the shipped file unless given), compiled now;
    ConceptError (or OSError) when they cannot be read."""
    return Concepts(compile_rules(_read_toml((path or concept_file()).read_bytes())))


def load_compiled(path: Path | None = None, *, cache: Path | None = None) -> Concepts:
    """`load` through the compiled form kept in `cache` (beside the patterns' kept rules
    unless given) when it was made from these very rules (the same file, by its size and
    time of change: reading its 100 KB to tell took a process ~0.2 ms); made and kept when
    it was not."""
    path = path or concept_file()
    cache = cache or _cache_file()
    stat = path.stat()
    key = crisis_cache.key_of(b"concepts %d %d %d\n" % (FORMAT, stat.st_size, stat.st_mtime_ns))
    kept = crisis_cache.read(cache, key)
    if kept is not None and kept.get("format") == FORMAT:
        return Concepts(kept, rebuild=partial(_compile_and_keep, path, cache, key))
    return Concepts(_compile_and_keep(path, cache, key))


def _compile_and_keep(path: Path, cache: Path | None, key: str) -> Row:
    data = compile_rules(_read_toml(path.read_bytes()))
    crisis_cache.write(cache, key, data)
    return data


def _cache_file() -> Path | None:
    path = crisis_cache.cache_file()
    return None if path is None else path.with_name(CACHE_NAME)


def _read_toml(raw: bytes) -> Row:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConceptError(f"crisis_concepts.toml cannot be read ({exc})") from exc


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


def words_of(form: str) -> tuple[str, ...]:
    """A form as words of normalised text; "$", "#5" and a final "*" kept as they are."""
    words: list[str] = []
    for raw in form.split():
        if raw == END or _NUMBER.fullmatch(raw):
            words.append(raw)
            continue
        star = "*" if raw.endswith("*") and len(raw) > 1 else ""
        words += [w + star for w in normalise_word(raw.rstrip("*")).split()]
    return tuple(words)


def _plain(word: str) -> bool:
    special = word == END or word.endswith("*") or _NUMBER.fullmatch(word)
    return not (special or HANGUL.match(word))


def _new_lexicon() -> Row:
    # pairs: forms filed by their two first words ("took all"), when plain; words: by the
    # first word; starts: by a first word ending in "*" (filed by its first two letters);
    # numbers: forms starting with "#5". Each form is (its words after those, concept, plain).
    return {"pairs": {}, "words": {}, "starts": {}, "numbers": {}}


def _file_form(lexicon: Row, words: tuple[str, ...], concept: int) -> None:
    first, rest = words[0], words[1:]
    number = _NUMBER.fullmatch(first)
    if rest and _plain(first) and _plain(rest[0]):
        key, rest = f"{first} {rest[0]}", rest[1:]
        table = lexicon["pairs"]
    elif number or first.endswith("*"):
        key, table = first, lexicon["numbers" if number else "starts"]
    else:
        key, table = first, lexicon["words"]
    table.setdefault(key, []).append((rest, concept, all(_plain(w) for w in rest)))


# ---------------------------------------------------------------- compiling
def compile_rules(toml: Row) -> Row:
    """crisis_concepts.toml as plain data (dicts, lists, tuples, strings, numbers) that
    `Concepts` reads and crisis_cache keeps; ConceptError when something cannot be read."""
    try:
        return _compile(toml)
    except ConceptError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ConceptError(f"crisis_concepts.toml lacks or misreads {exc}") from exc


def _compile(toml: Row) -> Row:
    concepts: Mapping[str, Row] = toml["concepts"]
    names = sorted(concepts)
    ids = {name: i for i, name in enumerate(names)}
    lexicons: dict[str, Row] = {}
    anchors: list[tuple[str, int]] = []  # every form and its concept, for the quick look
    for name in names:
        for language, lines in _lines_of(name, concepts, ()).items():
            lexicon = lexicons.setdefault(language, _new_lexicon())
            for line in lines:
                for form in expand(line):
                    words = words_of(form)
                    if not words or words[0] == END:
                        raise ConceptError(f"{name}: {line!r} has no words to start from")
                    _file_form(lexicon, words, ids[name])
                    anchors.append((form, ids[name]))
    rules = [_rule(n, str(s), ids) for n, s in toml["rules"].items()]
    stop = frozenset(w for v in toml["languages"].values() for w in v)
    settings = toml.get("settings", {})
    languages = sorted(lexicons)
    return {
        "format": FORMAT,
        "names": names,
        "languages": languages,
        # read back when first needed (kept apart in the file: crisis_cache.Pieces)
        "packed": [
            marshal.dumps(_details(toml, rules, ids)),
            marshal.dumps(_quick_data(anchors, stop)),
            *(marshal.dumps(_frozen(lexicons[k])) for k in languages),
        ],
        # read back at the first check (as bytes, the kept form's header reads quicker)
        "first_look": marshal.dumps(
            {**_first_look(anchors, stop | _common(toml), names), "rule_masks": _rule_masks(rules)}
        ),
        "self": ids["self"],
        "span": int(settings.get("span", 14)),
        "pair_words": int(settings.get("pair_words", 30)),
    }


def _details(toml: Row, rules: list[RuleData], ids: Mapping[str, int]) -> Row:
    """What a text the first look lets through is read with: the rules, the words that
    tell a language, and the concepts others cancel."""
    concepts = toml["concepts"]
    return {
        "rules": rules,
        "markers": {k: frozenset(words_of(" ".join(v))) for k, v in toml["languages"].items()},
        "unless": {
            ids[n]: frozenset(ids[u] for u in concepts[n]["unless"])
            for n in concepts
            if "unless" in concepts[n]
        },
    }


def _lines_of(
    name: str, concepts: Mapping[str, Row], seen: tuple[str, ...]
) -> dict[str, list[str]]:
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


# A rule: its name, the groups it needs (one concept of each), what blocks it anywhere
# near, and what blocks it when it starts a clause before the first concept needed.
RuleData = tuple[str, tuple[frozenset[int], ...], frozenset[int], frozenset[int]]


def _rule(name: str, source: str, ids: Mapping[str, int]) -> RuleData:
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
    return name, tuple(need), frozenset(block), frozenset(before)


def _frozen(lexicon: Row) -> Row:
    """A lexicon with tuples for lists (fewer, shared objects: quicker to read back)."""
    return {name: {k: tuple(v) for k, v in table.items()} for name, table in lexicon.items()}


# ---------------------------------------------------------------- the quick look
# Raw text as the quick look reads it: apostrophes gone, commas apart, other marks spaces.
_RAW_WORDS = str.maketrans(
    {
        **{ch: " " for ch in '"#$%&*+-/<=>@\\^_`|~\u201c\u201d\u2013\u2014'},
        **{ch: "" for ch in "'\u2018\u2019\u02bc\u00b4"},
        ",": " , ",
    }
)
_FORM_WORDS = {**_RAW_WORDS, ord("*"): "*", ord("#"): "#"}  # a form's "*" and "#" kept
# The endings a word ending in "*" is looked for with (en, es, fr, de, pt).
_ENDINGS = tuple(
    "- s d ed ing e es er ers y ies ied al ion ions ee ees ent ant ation o a os as ado ada"
    " ados adas ando ar ir en t te ten ung ungen ie iee iees".replace("-", "").split(" ")
)


def _quick_data(forms: list[tuple[str, int]], stop: frozenset[str]) -> Row:
    """What the quick look at a long text needs: for each raw word, the words that must
    come with it for a form to be there, and the concepts those forms stand for (as bits
    of a number)."""
    pairs: dict[str, dict[str, int]] = {}
    for form, concept in forms:
        for first, second in _anchors(form, stop):
            table = pairs.setdefault(first, {})
            table[second] = table.get(second, 0) | 1 << concept
    # each word: the concepts it alone may stand for, and those it may with another word
    bits = {w: (t.pop("", 0), t) for w, t in pairs.items()}
    return {"bits": bits}


def _width(concepts: int) -> int:
    """The bytes a mask of every concept takes."""
    return (concepts + 7) // 8


def _common(toml: Row) -> frozenset[str]:
    """[first_look] common: words too common for the first look to start from."""
    words = toml.get("first_look", {}).get("common", [])
    return frozenset(w for word in words for w in words_of(str(word)))


def _rule_masks(rules: list[RuleData]) -> dict[int, tuple[tuple[int, ...], ...]]:
    """For each rule, the bits of its groups' concepts, filed by each bit of its first."""
    by_key: dict[int, list[tuple[int, ...]]] = {}
    for _, need, _, _ in rules:
        masks = tuple(sum(1 << k for k in group) for group in need)
        for key in need[0]:
            by_key.setdefault(1 << key, []).append(masks)
    return {k: tuple(v) for k, v in by_key.items()}


def _first_look(forms: list[tuple[str, int]], stop: frozenset[str], names: list[str]) -> Row:
    """What the first look at a short text needs: for each form, one word of normalised
    text it cannot be there without (its longest that is not a common word; two words
    when all are common), as the bits of the concepts such words stand for; the starts
    of words ending in "*" (filed by their first two letters) and the least numbers of
    "#5", when a form has no plain word. A form all in Korean needs nothing: any Korean
    text is read whole."""
    words: dict[str, int] = {}
    starts: dict[str, dict[str, int]] = {}
    numbers: dict[int, int] = {}
    for form, concept in forms:
        bit = 1 << concept
        tokens = [w for w in words_of(form) if w != END and not HANGUL.match(w)]
        plain = sorted((w for w in tokens if _plain(w)), key=lambda w: (w in stop, -len(w)))
        stars = sorted((w[:-1] for w in tokens if w.endswith("*")), key=len, reverse=True)
        least = [int(w[1:]) for w in tokens if _NUMBER.fullmatch(w)]
        if plain:  # a common word, filed with the next one the form needs ("it all")
            key = " ".join(plain[:2]) if plain[0] in stop else plain[0]
            words[key] = words.get(key, 0) | bit
        elif stars:
            table = starts.setdefault(stars[0][:2], {})
            table[stars[0]] = table.get(stars[0], 0) | bit
        elif least:
            numbers[min(least)] = numbers.get(min(least), 0) | bit
    masks = sorted(set(words.values()))
    index = {mask: i for i, mask in enumerate(masks)}
    # the words as strings ("\nword\tmask number", "\nword word\tmask number", in order),
    # filed by their first two letters: little to unpack, little to search
    filed: dict[str, list[str]] = {}
    for key, mask in sorted(words.items()):
        filed.setdefault(key.split(" ")[0][:2], []).append(f"\n{key}\t{index[mask]}")
    return {
        "words": {k: "".join(v) + "\n" for k, v in filed.items()},
        "masks": b"".join(m.to_bytes(_width(len(names)), "little") for m in masks),
        "starts": {k: tuple(v.items()) for k, v in starts.items()},
        "numbers": tuple(numbers.items()),
    }


def _anchors(form: str, stop: frozenset[str]) -> list[tuple[str, str]]:
    """Two raw words a form cannot be there without (its two longest that are not common
    words, as written and as normalised; "" when it has one), or none when it has no
    plain word."""
    words = [w for w in fold(form).translate(_FORM_WORDS).split() if w not in (END, ",")]
    plain = [w for w in words if not w.startswith("#") and not HANGUL.search(w)]
    if not plain:
        least = min((int(w[1:]) for w in words if _NUMBER.fullmatch(w)), default=None)
        return [] if least is None else [(str(n), "") for n in range(least, 1000)]
    ranked = sorted(plain, key=lambda w: (w.rstrip("*") in stop, w.endswith("*"), -len(w)))
    first = _spellings(ranked[0])
    second = _spellings(ranked[1]) if len(ranked) > 1 else {""}
    return [(a, b) for a in first for b in second]


def _spellings(word: str) -> set[str]:
    """A word of a form as raw text may have it: as written, normalised, and with the
    usual endings when it ends in "*"."""
    stem = word[:-1]
    stems = [*(stem + e for e in _ENDINGS), stem + stem[-1:] + "ing", stem + stem[-1:] + "ed"]
    stems = stems if word.endswith("*") else [word]
    return {v for stem in stems for v in (stem, *normalise_word(stem).split()[:1])}


# ---------------------------------------------------------------- reading sentences
class _Sentence:
    """One sentence's words, the concepts found in it (concept: positions), and whether a
    rule's first concept is among them."""

    __slots__ = ("tokens", "found", "keys")

    def __init__(self, tokens: list[str], found: dict[int, list[int]], keys: bool) -> None:
        self.tokens, self.found, self.keys = tokens, found, keys


class _Lexicon:
    """The forms of one language, as compiled (see _new_lexicon)."""

    def __init__(self, data: Row) -> None:
        self.pairs: dict[str, tuple[Entry, ...]] = data["pairs"]
        self.words: dict[str, tuple[Entry, ...]] = data["words"]
        self.starts: dict[str, tuple[Entry, ...]] = data["starts"]
        self.numbers: dict[str, tuple[Entry, ...]] = data["numbers"]
        self.start_keys: dict[str, list[str]] = {}
        for start in self.starts:  # filed by their first two letters
            self.start_keys.setdefault(start[:2], []).append(start)

    def found(self, tokens: list[str]) -> Iterator[tuple[int, int]]:
        """(concept, position) for every form found in a sentence's words."""
        pairs, words, starts = self.pairs, self.words, self.start_keys
        following = (*tokens[1:], "")
        for at, token in enumerate(tokens):
            paired = pairs.get(f"{token} {following[at]}", ())
            for entries, after in ((paired, at + 2), (words.get(token, ()), at + 1)):
                for rest, concept, plain in entries:
                    if plain:
                        if tuple(tokens[after : after + len(rest)]) == rest:
                            yield concept, at
                    elif _follows(tokens, after, rest):
                        yield concept, at
            if token[:2] in starts or token[0] > "\u10ff" or token.isdigit():
                for rest, concept, _ in self._more(token):
                    if _follows(tokens, at + 1, rest):
                        yield concept, at

    def _more(self, token: str) -> list[Entry]:
        """The forms filed by a word's start, a number, or a Korean noun without its particle."""
        found = [
            entry
            for start in self.start_keys.get(token[:2], ())
            if token.startswith(start[:-1])
            for entry in self.starts[start]
        ]
        if _is_hangul(token):
            found += self.words.get(_without_particle(token), ())
        if self.numbers and token.isdigit():
            found += [
                entry
                for least, entries in self.numbers.items()
                if int(token) >= int(least[1:])
                for entry in entries
            ]
        return found


def _is_hangul(token: str) -> bool:
    """Whether a word starts in Korean script."""
    return token[:1] >= "\u1100" and bool(HANGUL.match(token))


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
    return _is_hangul(token) and _without_particle(token) == word


def _follows(tokens: list[str], at: int, words: tuple[str, ...]) -> bool:
    """Whether `words` come next in `tokens` from `at` ("$": a clause ends there)."""
    for offset, word in enumerate(words):
        here = at + offset
        if word == END:
            return _clause_ends(tokens, here)
        if here >= len(tokens) or not _same(tokens[here], word):
            return False
    return True


def _clause_ends(tokens: list[str], at: int) -> bool:
    """Whether a clause ends before tokens[at] (the end, a comma, "tho", "i think"...)."""
    if at >= len(tokens) or tokens[at] in _SOFT_ENDS:
        return True
    return tokens[at] == "i" and at + 1 < len(tokens) and tokens[at + 1] in _SOFT_AFTER_I


# ---------------------------------------------------------------- finding
class Concepts:
    """Finds crisis language by concepts meeting in a sentence, from compiled rules."""

    def __init__(self, data: Row, *, rebuild: Callable[[], Row] | None = None) -> None:
        """`rebuild` makes the data again when a part kept apart cannot be read back."""
        if data.get("format") != FORMAT:
            raise ConceptError("compiled concepts of another format")
        self.names: list[str] = data["names"]
        # the quick look's data, then each language's lexicon: read back when first needed
        self._packed: Sequence[bytes | None] = data["packed"]
        self._rebuild = rebuild
        self._languages: dict[str, int] = {k: i + 2 for i, k in enumerate(data["languages"])}
        self._lexicons: dict[str, _Lexicon] = {}
        self._first_look_packed: bytes = data["first_look"]
        self._self = frozenset({data["self"]})
        self._span: int = data["span"]
        self._pair_words: int = data["pair_words"]

    def find(self, text: str | None) -> Hit | None:
        """The first rule whose concepts meet in `text`, as a Hit, or None."""
        if not text or not text.strip():
            return None
        if len(text) <= LONG_TEXT:
            normalised = normalise(text)
            if not self._could_be_here(normalised):
                return None
            sentences = _Text(self, normalised.split("."))
            name = self._in(sentences, range(len(sentences)))
        else:
            name = self._in_long(text)
        return None if name is None else Hit(KIND, name)

    def _in_long(self, text: str) -> str | None:
        """A long text: a quick look at its raw words tells which sentences could hold a
        rule's concepts; only those (and what they need around them) are normalised."""
        folded = fold(text.translate(_RAW_WORDS))
        marks = [m.span() for m in _SENTENCE_MARKS.finditer(folded)]
        starts = [0, *(end for _, end in marks)]
        ends = [*(start for start, _ in marks), len(folded)]
        pieces = [folded[a:b] for a, b in zip(starts, ends, strict=True)]
        return self._in(_Text(self, pieces, raw=True), self._worth_reading(pieces))

    def _could_be_here(self, normalised: str) -> bool:
        """The first look at a short text: whether, by one word each of their forms, the
        concepts of every group of some rule could be in it (any Korean text could)."""
        if not normalised.isascii() and HANGUL.search(normalised):
            return True
        look = self._first_look
        starts, numbers = look["starts"], look["numbers"]
        mask, tokens = 0, set(normalised.split())
        for token in tokens:
            mask |= self._word_mask(token, tokens)
            for start, bits in (*starts.get(token[:1], ()), *starts.get(token[:2], ())):
                if token.startswith(start):
                    mask |= bits
            if numbers and token.isdigit():
                mask |= sum(bits for least, bits in numbers if int(token) >= least)
        return _could_fire(mask, self._rule_masks)

    def _word_mask(self, token: str, tokens: set[str]) -> int:
        """The concepts a word of normalised text may stand for, alone or with another of
        the text's words (by the first look)."""
        words: str = self._first_look["words"].get(token[:2], "")
        mask = 0
        at = words.find(f"\n{token}\t")
        if at >= 0:
            start = at + len(token) + 2
            mask = self._mask(int(words[start : words.index("\n", start)]))
        at = words.find(f"\n{token} ")
        while at >= 0:  # its pairs, one after another
            end = words.index("\n", at + 1)
            pair, number = words[at + 1 : end].split("\t")
            if pair[len(token) + 1 :] in tokens:
                mask |= self._mask(int(number))
            at = end if words.startswith(f"{token} ", end + 1) else -1
        return mask

    def _mask(self, number: int) -> int:
        """One of the first look's masks, kept as bytes (quicker to read back)."""
        width = _width(len(self.names))
        return int.from_bytes(
            self._first_look["masks"][number * width : (number + 1) * width], "little"
        )

    @cached_property
    def _first_look(self) -> Row:
        look: Row = marshal.loads(self._first_look_packed)
        return look

    @property
    def _rule_masks(self) -> dict[int, tuple[tuple[int, ...], ...]]:
        masks: dict[int, tuple[tuple[int, ...], ...]] = self._first_look["rule_masks"]
        return masks

    @cached_property
    def _details(self) -> Row:
        details: Row = marshal.loads(self._piece(0))
        by_key: dict[int, list[int]] = {}
        for number, (_, need, _, _) in enumerate(details["rules"]):
            for key in need[0]:
                by_key.setdefault(key, []).append(number)
        return {**details, "by_key": by_key}

    @property
    def _rules(self) -> list[RuleData]:
        rules: list[RuleData] = self._details["rules"]
        return rules

    @property
    def _by_key(self) -> dict[int, list[int]]:
        by_key: dict[int, list[int]] = self._details["by_key"]
        return by_key

    @property
    def _markers(self) -> dict[str, frozenset[str]]:
        markers: dict[str, frozenset[str]] = self._details["markers"]
        return markers

    @property
    def _unless(self) -> dict[int, frozenset[int]]:
        unless: dict[int, frozenset[int]] = self._details["unless"]
        return unless

    def _piece(self, index: int) -> bytes:
        """A part kept apart, read back (made again, whole, when it cannot be)."""
        piece = self._packed[index]
        if piece is None:
            if self._rebuild is None:
                raise ConceptError("a part of the compiled concepts cannot be read")
            log.warning("a part of the kept crisis concepts cannot be read; made again")
            self._packed = self._rebuild()["packed"]
            return self._piece(index)
        return piece

    @cached_property
    def _quick(self) -> Row:
        quick: Row = marshal.loads(self._piece(1))
        quick["bits"] = {w: (a, frozenset(s), s) for w, (a, s) in quick["bits"].items()}
        return quick

    def _worth_reading(self, pieces: list[str]) -> list[int]:
        """The sentences where, by their raw words, every group of some rule could be
        there (alone or with the next one); any with Korean, which the quick look skips."""
        bits, by_key = self._quick["bits"], self._rule_masks
        every = (1 << len(self.names)) - 1
        masks = []
        for piece in pieces:
            words = set(piece.split())
            mask = every if HANGUL.search(piece) else 0
            for word in [w for w in words if w in bits]:
                alone, others, seconds = bits[word]
                mask |= alone
                for other in words & others if others else ():
                    mask |= seconds[other]
            masks.append(mask)
        worth: set[int] = set()
        for at, mask in enumerate(masks):
            if _could_fire(mask, by_key):
                worth.add(at)
            if at + 1 < len(masks) and _could_fire(mask | masks[at + 1], by_key):
                worth.update((at, at + 1))
        return sorted(worth)

    def _in(self, text: _Text, places: Iterable[int]) -> str | None:
        for at in places:
            sentence = text[at]
            if sentence is None or not sentence.keys:
                continue
            for first, last in ((at, at), (at, at + 1), (at - 1, at)):
                window = text.window(first, last, self._pair_words)
                if window:
                    name = self._fires(window, partial(text.near, first, last))
                    if name is not None:
                        return name
        return None

    def read(self, tokens: list[str]) -> _Sentence:
        """The concepts in one sentence's words (in its language's word lists)."""
        found: dict[int, list[int]] = {}
        for language in _languages(tokens, self._markers):
            lexicon = self._lexicon(language)
            for concept, at in lexicon.found(tokens) if lexicon is not None else ():
                places = found.setdefault(concept, [])
                if at not in places:
                    places.append(at)
        return _Sentence(tokens, found, not self._by_key.keys().isdisjoint(found))

    def _lexicon(self, language: str) -> _Lexicon | None:
        if language not in self._lexicons and language in self._languages:
            data = marshal.loads(self._piece(self._languages[language]))
            self._lexicons[language] = _Lexicon(data)
        return self._lexicons.get(language)

    def _fires(self, window: list[_Sentence], near: Callable[[], list[_Sentence]]) -> str | None:
        found, tokens = _joined(window)
        here = _present(found, self._unless)
        around: set[int] | None = None
        for number in sorted({n for k in here for n in self._by_key.get(k, ())}):
            name, need, block, before = self._rules[number]
            if not all(group & here for group in need) or not _within(
                need, found, here, self._span
            ):
                continue
            if block:
                if around is None:
                    around = _present({k for s in near() for k in s.found}, self._unless)
                if block & around:
                    continue
            if not _someone_else_first(need[0], before, found, tokens, self._self):
                return name
        return None


def _could_fire(mask: int, by_key: Mapping[int, tuple[tuple[int, ...], ...]]) -> bool:
    """Whether some rule has a concept of each of its groups among `mask`'s bits."""
    keys = mask
    while keys:
        low = keys & -keys
        for groups in by_key.get(low, ()):
            if all(mask & group for group in groups):
                return True
        keys ^= low
    return False


class _Text:
    """The sentences of a text, read when first asked for."""

    def __init__(self, concepts: Concepts, pieces: list[str], *, raw: bool = False) -> None:
        self.concepts, self.pieces, self.raw = concepts, pieces, raw
        self.done: dict[int, _Sentence | None] = {}

    def __len__(self) -> int:
        return len(self.pieces)

    def __getitem__(self, at: int) -> _Sentence | None:
        if at < 0 or at >= len(self.pieces):
            return None
        if at not in self.done:
            tokens = (normalise(self.pieces[at]) if self.raw else self.pieces[at]).split()
            tokens = [t for t in tokens if t != "."]
            self.done[at] = self.concepts.read(tokens) if tokens else None
        return self.done[at]

    def window(self, first: int, last: int, most_words: int) -> list[_Sentence]:
        """Sentences first..last when they are all there and, if two, short enough."""
        sentences = [self[at] for at in range(first, last + 1)]
        kept = [s for s in sentences if s is not None]
        if len(kept) < len(sentences):
            return []
        if len(kept) > 1 and sum(len(s.tokens) for s in kept) > most_words:
            return []
        return kept

    def near(self, first: int, last: int) -> list[_Sentence]:
        """A window's sentences and one on each side: where blockers are looked for."""
        return [s for at in range(first - 1, last + 2) if (s := self[at]) is not None]


def _languages(tokens: list[str], markers: Mapping[str, frozenset[str]]) -> list[str]:
    """The language of a sentence: Korean if it has Hangul, else the one whose common
    words it has most of, two at least (English otherwise); all of them when two or more
    have as many."""
    if any(_is_hangul(t) for t in tokens):
        return ["ko"]
    counts = {language: len(words.intersection(tokens)) for language, words in markers.items()}
    most = max(counts.values(), default=0)
    return [k for k, n in counts.items() if n == most] if most >= 2 else ["en"]


def _joined(window: list[_Sentence]) -> tuple[dict[int, list[int]], list[str]]:
    """The concepts of a window's sentences, placed across them, and its words (a "."
    after each sentence)."""
    if len(window) == 1:
        return window[0].found, [*window[0].tokens, "."]
    found: dict[int, list[int]] = {}
    tokens: list[str] = []
    for sentence in window:
        for concept, places in sentence.found.items():
            found.setdefault(concept, []).extend(p + len(tokens) for p in places)
        tokens += [*sentence.tokens, "."]
    return found, tokens


def _present(concepts: Iterable[int], unless: Mapping[int, frozenset[int]]) -> set[int]:
    """The concepts found, less those another found concept cancels (a joke said seriously)."""
    found = set(concepts)
    return {k for k in found if k not in unless or not unless[k] & found}


def _within(
    need: tuple[frozenset[int], ...], found: Mapping[int, list[int]], here: set[int], span: int
) -> bool:
    """Whether one place of each needed group lies within `span` words of the others."""
    places = sorted((p, i) for i, group in enumerate(need) for k in group & here for p in found[k])
    counts = [0] * len(need)
    missing, low = len(need), 0
    for place, group in places:
        missing -= counts[group] == 0
        counts[group] += 1
        while places[low][0] < place - span:  # what lies too far back leaves the window
            counts[places[low][1]] -= 1
            missing += counts[places[low][1]] == 0
            low += 1
        if not missing:
            return True
    return False


def _someone_else_first(
    key: frozenset[int],
    before: frozenset[int],
    found: Mapping[int, list[int]],
    tokens: list[str],
    own: frozenset[int],
) -> bool:
    """Whether a `before` concept (another person) starts a clause before the rule's first
    concept, with no word of the person's own between them ("my friend relapsed and cut
    again"; not "sent my friend a message")."""
    if not before:
        return False
    first = min(p for k in key for p in found.get(k, ()))
    others = [
        p
        for k in before
        for p in found.get(k, ())
        if p < first and (p == 0 or tokens[p - 1] in _CLAUSE_STARTS)
    ]
    if not others:
        return False
    mine = [p for k in own for p in found.get(k, ())]
    return not any(max(others) < p < first for p in mine)


# ---------------------------------------------------------------- the shipped concepts
@lru_cache(maxsize=1)
def shipped() -> Concepts | None:
    """The shipped concepts, or None when they cannot be read (logged; the patterns still
    work without them)."""
    try:
        return load_compiled()
    except (OSError, ConceptError) as exc:
        log.error("the crisis concepts cannot be read (%s); the patterns alone are used", exc)
        return None


def find_concept(text: str | None) -> Hit | None:
    """The shipped concept rule that fires in `text`, or None."""
    concepts = shipped()
    return None if concepts is None else concepts.find(text)
