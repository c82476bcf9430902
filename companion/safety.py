"""Crisis language in what someone saved, and the resources to show when it appears.

Resources are shown on this computer only (the terminal and, when one is given, a desktop
notification); nothing is sent anywhere and the save is never blocked or undone. The
patterns and the resources live in config/crisis.toml (the matcher is
companion/crisis_match.py); [safety] extra_phrases adds patterns of the person's own.

Everything here works without settings: a broken config.toml must never keep the check
or the resources from working.
"""

from __future__ import annotations

import contextlib
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import crisis_cache, crisis_model
from .crisis_concepts import find_concept
from .crisis_match import Hit, Matcher, PatternError, Rules, normalise, pattern_regex
from .errors import ConfigError
from .logs import get_log
from .records import Row
from .resources import pack_file

if TYPE_CHECKING:
    from .config import Settings

log = get_log("companion.safety")

Notify = Callable[[str, str], object]
Echo = Callable[[str], object]

# Used only if crisis.toml itself cannot be read: the resources must always show.
FALLBACK_LINES = (
    "Call your local emergency number.",
    "In the US and Canada: call or text 988.",
    "In the UK and Ireland: Samaritans, 116 123.",
    "In Australia: Lifeline, 13 11 14.",
)
FALLBACK_TITLE = "You don't have to face this alone"
FALLBACK_REGION = "US"
# The group name [safety] extra_phrases get in a Hit, and the learnt model's.
YOURS = "yours"
LEARNT = "learnt"


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity
class CrisisTable:
    """What config/crisis.toml holds."""

    rules: Rules
    title: str
    after_entry: str
    closing: str
    regions: dict[str, tuple[str, ...]]
    after_import: str = "{count} imported {entries} with crisis language; the resources are:"
    # The rules already read and compiled (Matcher.data()), when they were kept.
    compiled: Row | None = None


class Resources(NamedTuple):
    """The resources for one region; `matched` names the pattern that brought them up."""

    region: str
    title: str
    lines: tuple[str, ...]
    closing: str
    intro: str = ""
    matched: str | None = None

    def as_text(self) -> str:
        """The resources as a few plain lines for a terminal."""
        head = [self.intro] if self.intro else [self.title]
        tail = [self.closing] if self.closing else []
        return "\n".join([*head, *(f"  - {line}" for line in self.lines), *tail])

    def as_line(self) -> str:
        """The resources on one line (the summary after an import)."""
        head = self.intro or self.title
        return " ".join(x for x in (head, *self.lines, self.closing) if x)

    def as_dict(self) -> Row:
        return {
            "region": self.region,
            "title": self.title,
            "lines": list(self.lines),
            "closing": self.closing,
            "matched": self.matched,
        }


# ---------------------------------------------------------------- loading
def crisis_file() -> Path:
    return pack_file("config", "crisis.toml")


def load_crisis(path: Path | None = None, *, compile_now: bool = False) -> CrisisTable:
    """Read crisis.toml (the shipped one unless `path` is given); ConfigError if unusable.

    With `compile_now`, every pattern is compiled too, so a bad one is named now.
    """
    path = path or crisis_file()
    with _reading(path):
        table = _table(_read_toml(path.read_bytes()))
        if compile_now:
            Matcher(table.rules).check()
    return table


def load_compiled(path: Path | None = None, *, cache: Path | None = None) -> CrisisTable:
    """`load_crisis` with every rule compiled, through the compiled form kept in `cache`
    (crisis_cache.cache_file() unless given) when it was made from these very rules: a
    few milliseconds instead of a few hundred. When it was not, it is made and kept."""
    path = path or crisis_file()
    cache = cache or crisis_cache.cache_file()
    with _reading(path):
        raw = path.read_bytes()
        key = crisis_cache.key_of(raw)
        table = _kept_table(crisis_cache.read(cache, key))
        if table is not None:
            return table
        data = _read_toml(raw)
        table = _table(data)
        compiled = Matcher(table.rules).data()
    crisis_cache.write(cache, key, {"toml": data, "matcher": compiled})
    return replace(table, compiled=compiled)


def _kept_table(kept: Row | None) -> CrisisTable | None:
    if kept is None:
        return None
    try:
        return replace(_table(kept["toml"]), compiled=dict(kept["matcher"]))
    except (KeyError, TypeError, AttributeError, ValueError):  # kept by another shape
        return None


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turns what can go wrong reading crisis.toml into a ConfigError that names it."""
    try:
        yield
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the crisis resources cannot be read ({exc})", file=str(path)) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the crisis resources file lacks {exc}", file=str(path)) from exc
    except PatternError as exc:
        raise ConfigError(f"a crisis pattern cannot be read: {exc}", file=str(path)) from exc


def _read_toml(raw: bytes) -> Row:
    return tomllib.loads(raw.decode("utf-8"))


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"a list of texts, not {value!r}")
    return tuple(str(x) for x in value)


def _table(data: Row) -> CrisisTable:
    message, ignore = data["message"], data.get("ignore", {})
    rules = Rules(
        patterns={str(k): _texts(v) for k, v in data["patterns"].items()},
        ignore=_texts(ignore.get("around", [])),
        before=_texts(ignore.get("before", [])),
        history=_texts(ignore.get("history", [])),
        present=_texts(ignore.get("present", [])),
        others=_texts(ignore.get("others", [])),
        speaker=_texts(ignore.get("speaker", [])),
        after=_texts(ignore.get("after", [])),
        define={str(k): str(v) for k, v in data.get("define", {}).items()},
        spelling=_texts(data.get("spelling", {}).get("close_to", [])),
    )
    return CrisisTable(
        rules=rules,
        title=str(message["title"]),
        after_entry=str(message["after_entry"]),
        closing=str(message["closing"]),
        after_import=str(message.get("after_import", CrisisTable.after_import)),
        regions={str(k): _texts(v["lines"]) for k, v in data["regions"].items()},
    )


@lru_cache(maxsize=1)
def _shipped_table() -> CrisisTable | None:
    try:
        return load_compiled()
    except ConfigError as exc:
        log.error("%s; showing the built-in resources", exc)
        return None


def _table_or_fallback(table: CrisisTable | None) -> CrisisTable:
    if table is not None:
        return table
    return _shipped_table() or CrisisTable(
        rules=Rules(patterns={}),
        title=FALLBACK_TITLE,
        after_entry="",
        closing="",
        regions={"other": FALLBACK_LINES},
    )


@lru_cache(maxsize=1)
def default_region() -> str:
    """[safety] region in the shipped config/default.toml (never the user's file)."""
    try:
        data = tomllib.loads(pack_file("config", "default.toml").read_text(encoding="utf-8"))
        return str(data["safety"]["region"])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return FALLBACK_REGION


# ---------------------------------------------------------------- matching
def usable_phrases(phrases: Iterable[str]) -> tuple[str, ...]:
    """The phrases that are valid patterns; a bad one is logged (by position) and left out."""
    kept = []
    for i, phrase in enumerate(phrases):
        try:
            pattern_regex(phrase)
        except PatternError:
            log.warning("extra phrase %d is not a usable pattern; left out", i + 1)
            continue
        kept.append(phrase)
    return tuple(kept)


@lru_cache(maxsize=8)
def _matcher(table: CrisisTable, extra: tuple[str, ...]) -> Matcher:
    rules = table.rules
    if extra:
        rules = rules._replace(patterns={**rules.patterns, YOURS: usable_phrases(extra)})
    return Matcher(rules, compiled=table.compiled)


def find_crisis(
    text: str | None, *, extra_phrases: Iterable[str] = (), table: CrisisTable | None = None
) -> Hit | None:
    """Whether `text` uses crisis language: the rule that found it, or None. The rules
    first (the patterns, then the concepts); when they find nothing, the learnt second
    opinion (crisis_model). Pure: no settings, no output."""
    hit = find_by_rules(text, extra_phrases=extra_phrases, table=table)
    if hit is not None or not text or not text.strip():
        return hit
    return _second_opinion(text)


def find_by_rules(
    text: str | None, *, extra_phrases: Iterable[str] = (), table: CrisisTable | None = None
) -> Hit | None:
    """Which crisis rule `text` uses, or None (no second opinion): a pattern
    (crisis_match) or, where none matches, a concept rule (crisis_concepts)."""
    if not text:
        return None
    hit = _matcher(_table_or_fallback(table), tuple(extra_phrases)).find(text)
    return hit if hit is not None else find_concept(text)


def _second_opinion(text: str) -> Hit | None:
    """The learnt model's word, on each stretch of a few sentences (what it learnt from).
    It decides alone: it learnt the idioms, other people's words and the past told as past
    from the ordinary entries beside the crisis ones, and letting the rules' set-asides
    silence it cost recall at the same false positives (grouped cross-validation: 0.944 ->
    0.953 recall at 1.3% added false positives on 30 writers)."""
    model = crisis_model.shipped()
    if model is None:
        return None
    for stretch in crisis_model.stretches(normalise(text)):
        score = model.score(stretch)
        if score >= model.threshold:
            return Hit(LEARNT, f"score {score:.2f}")
    return None


def count_crisis(texts: Iterable[str | None], *, extra_phrases: Iterable[str] = ()) -> int:
    """How many of `texts` use crisis language (an import is checked once, as a whole)."""
    extra = tuple(extra_phrases)
    return sum(find_crisis(t, extra_phrases=extra) is not None for t in texts)


def find_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` (in the pattern notation) that occurs in `text`, or None."""
    for phrase in phrases:
        if _phrase_matcher(phrase).find(text) is not None:
            return phrase
    return None


@lru_cache(maxsize=256)
def _phrase_matcher(phrase: str) -> Matcher:
    return Matcher(Rules(patterns={"phrase": (phrase,)}))


# ---------------------------------------------------------------- resources
def resources_for(
    region: str | None = None,
    *,
    table: CrisisTable | None = None,
    intro: str = "",
    matched: str | None = None,
) -> Resources:
    """The resources for a region ("US", "CA", "UK", "IE", "AU" or "other");
    the shipped default region when none is given."""
    table = _table_or_fallback(table)
    region = region or default_region()
    lines = table.regions.get(region) or table.regions.get("other") or FALLBACK_LINES
    return Resources(
        region=region if region in table.regions else "other",
        title=table.title,
        lines=lines,
        closing=table.closing,
        intro=intro,
        matched=matched,
    )


def crisis_resources(
    text: str | None,
    *,
    region: str | None = None,
    extra_phrases: Iterable[str] = (),
    table: CrisisTable | None = None,
) -> Resources | None:
    """The resources to show if `text` uses crisis language; None otherwise.

    Needs no settings (region defaults to the shipped default), so it works whatever
    config.toml says. This is what every save path calls, after the text is stored.
    """
    hit = find_crisis(text, extra_phrases=extra_phrases, table=table)
    if hit is None:
        return None
    log.info("crisis language in a saved text; showing resources")  # never the text itself
    table = _table_or_fallback(table)
    return resources_for(region, table=table, intro=table.after_entry, matched=str(hit))


def check_text(
    text: str | None, settings: Settings | None = None, *, table: CrisisTable | None = None
) -> Resources | None:
    """`crisis_resources` with [safety] region and extra_phrases from `settings`.

    Settings that are missing or broken fall back to the defaults: the check still runs.
    """
    region, extra = safety_options(settings)
    return crisis_resources(text, region=region, extra_phrases=extra, table=table)


def safety_options(settings: Settings | None) -> tuple[str | None, tuple[str, ...]]:
    """[safety] region and extra_phrases from settings; (None, ()) - the defaults - when
    there are none or they cannot be read."""
    if settings is None:
        return None, ()
    try:
        safety = settings.safety
        return str(safety.region), tuple(str(p) for p in safety.extra_phrases)
    except Exception:  # no settings, or a config that cannot be read: use the defaults
        return None, ()


def import_summary(
    count: int, *, region: str | None = None, table: CrisisTable | None = None
) -> Resources | None:
    """The one summary shown after an import in which `count` entries use crisis language."""
    if count <= 0:
        return None
    table = _table_or_fallback(table)
    entries = "entry" if count == 1 else "entries"
    return resources_for(
        region, table=table, intro=table.after_import.format(count=count, entries=entries)
    )


def show_resources(
    resources: Resources, *, echo: Echo | None = None, notify: Notify | None = None
) -> None:
    """Show the resources gently through `echo` (stderr by default) and, if a notifier is
    given, as a notification. Never raises: a failing notifier is logged and the text
    still shows."""
    (echo or _stderr)(resources.as_text())
    if notify is None:
        return
    try:
        notify(resources.title, "\n".join(x for x in (*resources.lines, resources.closing) if x))
    except Exception as exc:  # a notification must never hide the resources or the save
        log.warning("crisis notification failed: %s", exc)


def _stderr(text: str) -> None:
    print("\n" + text, file=sys.stderr, flush=True)
