"""Crisis language in what someone saved, and the resources to show when it appears.

Resources are shown on this computer only (the terminal and, when one is given, a desktop
notification); nothing is sent anywhere and the save is never blocked or undone. The words
and the resources live in config/crisis.toml; [safety] extra_phrases adds more words.
"""

from __future__ import annotations

import logging
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .resources import pack_file

log = logging.getLogger("companion.safety")

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


@dataclass(frozen=True)
class CrisisTable:
    """What config/crisis.toml holds."""

    phrases: tuple[str, ...]
    title: str
    after_entry: str
    closing: str
    regions: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Resources:
    """The resources for one region; `matched` is the phrase that brought them up, if any."""

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

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "title": self.title, "lines": list(self.lines),
                "closing": self.closing, "matched": self.matched}


# ---------------------------------------------------------------- loading
def crisis_file() -> Path:
    return pack_file("config", "crisis.toml")


def load_crisis(path: Path | None = None) -> CrisisTable:
    """Read crisis.toml (the shipped one unless `path` is given); ConfigError if unusable."""
    path = path or crisis_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        message, regions = data["message"], data["regions"]
        table = CrisisTable(
            phrases=tuple(str(p) for p in data["words"]["phrases"]),
            title=str(message["title"]), after_entry=str(message["after_entry"]),
            closing=str(message["closing"]),
            regions={str(k): tuple(str(x) for x in v["lines"]) for k, v in regions.items()})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the crisis resources cannot be read ({exc})", file=str(path)) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the crisis resources file lacks {exc}", file=str(path)) from exc
    return table


def _table_or_fallback(table: CrisisTable | None) -> CrisisTable:
    if table is not None:
        return table
    try:
        return load_crisis()
    except ConfigError as exc:
        log.error("%s; showing the built-in resources", exc)
        return CrisisTable(phrases=(), title=FALLBACK_TITLE, after_entry="", closing="",
                           regions={"other": FALLBACK_LINES})


# ---------------------------------------------------------------- matching
def normalise(text: str) -> str:
    """Lower case; apostrophes dropped; hyphens and punctuation become spaces."""
    text = text.casefold()
    text = re.sub(r"['\u2018\u2019\u02bc`]", "", text)
    text = re.sub(r"[^\w\s*]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """Whole-word pattern for a listed phrase; a trailing "*" matches any ending."""
    words = normalise(phrase).rstrip("*").split()
    if not words:
        return None
    tail = r"\w*" if phrase.strip().endswith("*") else ""
    body = r"\s+".join(re.escape(w.replace("*", "")) for w in words)
    return re.compile(rf"(?<!\w){body}{tail}(?!\w)")


def find_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """The first listed phrase that occurs in `text`, or None."""
    clean = normalise(text or "")
    if not clean:
        return None
    for phrase in phrases:
        pattern = phrase_pattern(phrase)
        if pattern is not None and pattern.search(clean):
            return phrase
    return None


# ---------------------------------------------------------------- resources
def resources_for(region: str, *, table: CrisisTable | None = None, intro: str = "",
                  matched: str | None = None) -> Resources:
    """The resources for a region ("US", "CA", "UK", "IE", "AU" or "other")."""
    table = _table_or_fallback(table)
    lines = table.regions.get(region) or table.regions.get("other") or FALLBACK_LINES
    return Resources(region=region if region in table.regions else "other", title=table.title,
                     lines=lines, closing=table.closing, intro=intro, matched=matched)


def check_text(text: str | None, settings: Any, *, table: CrisisTable | None = None
               ) -> Resources | None:
    """The resources to show if `text` uses crisis language; None otherwise."""
    if not text:
        return None
    table = _table_or_fallback(table)
    matched = find_phrase(text, (*table.phrases, *settings.safety.extra_phrases))
    if matched is None:
        return None
    log.info("crisis language in a saved entry; showing resources")  # never the text itself
    return resources_for(settings.safety.region, table=table, intro=table.after_entry,
                         matched=matched)


def show_resources(resources: Resources, *, echo: Echo | None = None,
                   notify: Notify | None = None) -> None:
    """Show the resources gently on stderr and, if a notifier is given, as a notification.

    Never raises: a failing notifier is logged and the terminal text still shows.
    """
    (echo or _stderr)(resources.as_text())
    if notify is None:
        return
    try:
        notify(resources.title, "\n".join(x for x in (*resources.lines, resources.closing) if x))
    except Exception as exc:  # a notification must never hide the resources or the save
        log.warning("crisis notification failed: %s", exc)


def _stderr(text: str) -> None:
    print("\n" + text, file=sys.stderr, flush=True)
