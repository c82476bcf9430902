"""Prompts and phrases: loading the shipped packs and choosing without recent repeats."""

from __future__ import annotations

import hashlib
import random
import tomllib
from functools import lru_cache
from typing import Any

from .config import CHECKIN_AREAS
from .errors import ConfigError, InputError
from .resources import pack_file

PROMPT_GROUPS = (*CHECKIN_AREAS, "weekly-review", "session-prep", "session-follow-up",
                 "trusted-friend")
PHRASE_CONTEXTS = ("hard-day", "anxious", "mistake", "setback", "tired", "proud")
# How many recent uses are avoided when choosing again.
AVOID_RECENT = 5


@lru_cache(maxsize=4)
def load_pack(name: str) -> dict[str, tuple[str, ...]]:
    """A shipped pack ("prompts" or "phrases"): group name -> texts."""
    path = pack_file("config", f"{name}.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the {name} pack cannot be read ({exc})", file=str(path)) from exc
    return {group: tuple(str(t) for t in texts) for group, texts in data.items()}


def key_for(text: str) -> str:
    """A stable short key for a text, so history survives reordering the packs."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def pick(candidates: list[tuple[str, str]], recent: list[str],
         rng: random.Random | None = None) -> tuple[str, str]:
    """Choose one (key, text), avoiding recently used keys while anything else is left."""
    if not candidates:
        raise InputError("there is nothing to choose from.")
    fresh = [c for c in candidates if c[0] not in recent]
    pool = fresh or [c for c in candidates if c[0] != (recent[0] if recent else None)] or candidates
    return (rng or random.Random()).choice(pool)


def prompt_group(kind: str, area: str | None) -> str:
    """Which prompt group a check-in draws from."""
    if kind == "weekly":
        return "weekly-review"
    if kind == "friend":
        return "trusted-friend"
    if kind in ("session-prep", "session-follow-up"):
        return kind
    return area if area in CHECKIN_AREAS else ""


def choose_prompt(store: Any, group: str, *, rng: random.Random | None = None
                  ) -> tuple[str, str]:
    """A prompt from `group` (or from any area when group is ""), not one used recently;
    records the use."""
    pack = load_pack("prompts")
    if group and group not in pack:
        raise InputError(f"there are no prompts for {group!r}.")
    groups = [group] if group else list(CHECKIN_AREAS)
    candidates = [(key_for(t), t) for g in groups for t in pack[g]]
    key, text = pick(candidates, store.recent_uses("prompt", AVOID_RECENT), rng)
    store.record_use("prompt", key)
    return key, text


def phrase_tiers(store: Any, context: str | None) -> list[list[tuple[str, str]]]:
    """Candidates in order of preference: favourites, the user's own, then the shipped ones."""
    own = [p for p in store.rows("phrases")
           if not context or p.get("context") in (None, "", context)]
    favourites = [(f"user:{p['id']}", p["text"]) for p in own if p.get("favourite")]
    others = [(f"user:{p['id']}", p["text"]) for p in own if not p.get("favourite")]
    pack = load_pack("phrases")
    shipped = [(key_for(t), t)
               for c in ([context] if context else PHRASE_CONTEXTS) for t in pack.get(c, ())]
    return [favourites, others, shipped]


def choose_phrase(store: Any, context: str | None, *, rng: random.Random | None = None
                  ) -> tuple[str, str]:
    """A phrase for the context: favourites and the user's own first, no recent repeat;
    records the use."""
    if context and context not in PHRASE_CONTEXTS:
        raise InputError(f"unknown context {context!r}; use one of: {', '.join(PHRASE_CONTEXTS)}.")
    tiers = phrase_tiers(store, context)
    recent = store.recent_uses("phrase", AVOID_RECENT)
    tier = next((t for t in tiers if any(c[0] not in recent for c in t)),
                [c for t in tiers for c in t])
    key, text = pick(tier, recent, rng)
    store.record_use("phrase", key)
    return key, text
