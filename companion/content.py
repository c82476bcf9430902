"""Prompts and phrases: the shipped packs and the person's own, chosen without repeats.

Every pool (the prompts of a group, the phrases for a context) is worked through in a
shuffled cycle before anything in it comes back. Where a cycle stands lives in the
database (content_uses: pool, cycle, seed), so it survives restarts. Choosing only reads;
`record` is a separate call, made once the words were shown (or the answer saved), so a
check-in that fails leaves no trace.

The person's own packs, prompts.toml and phrases.toml next to config.toml, have the shape
of the shipped ones. A broken one never stops a check-in or a save: it is skipped here
with one log line, and reported by `config check` and `doctor`.
"""

# Lazy imports: hashlib (it loads OpenSSL, 2-3 ms), only when a prompt or phrase is chosen,
# so `reflect` and the other commands that choose none never pay it.

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from .config import find_line, read_toml, suggest
from .errors import ConfigError, InputError, StoreError
from .logs import get_log
from .records import CycleState, Row
from .resources import pack_file
from .vocab import AREAS, PHRASE_CONTEXTS

if TYPE_CHECKING:
    from .store import Store

log = get_log("companion.content")

WEEKLY_GROUP = "weekly-review"
SPECIAL_GROUPS = (WEEKLY_GROUP, "session-prep", "session-follow-up", "trusted-friend")
PROMPT_GROUPS = (*AREAS, *SPECIAL_GROUPS)
PACK_GROUPS = {"prompts": PROMPT_GROUPS, "phrases": PHRASE_CONTEXTS}
_GROUP_WORD = {"prompts": "prompt group", "phrases": "context"}
MAX_TEXT_CHARS = 300

# The weekly note asks the article's question most weeks; one weekly in
# WEEKLY_ALTERNATIVE_EVERY asks one of the weekly-review alternatives instead.
WEEKLY_QUESTION = "What felt different this week?"
WEEKLY_ALTERNATIVE_EVERY = 4

# Phrase tiers, most wanted first: favourites, the person's own, the shipped ones.
FAVOURITE, OWN, SHIPPED = 0, 1, 2
Candidate = tuple[str, str, int]  # (key, text, tier)


class Choice(NamedTuple):
    """A prompt or phrase chosen to be shown; `record` it once it was."""

    kind: str  # "prompt" or "phrase"
    key: str
    text: str
    pool: str | None = None  # None: nothing to record (it was recorded when first sent)
    cycle: int = 0
    seed: int | None = None


# ---------------------------------------------------------------- packs
def parse_pack(path: Path, name: str) -> dict[str, tuple[str, ...]]:
    """A pack file ("prompts" or "phrases") checked: known groups, each a list of texts.

    ConfigError names the file, the line and the key of the first problem.
    """
    data, text = read_toml(path)
    return {
        group: _checked_group(group, texts, name=name, path=path, text=text)
        for group, texts in data.items()
    }


def _checked_group(
    group: str, texts: object, *, name: str, path: Path, text: str
) -> tuple[str, ...]:
    def fail(reason: str) -> NoReturn:
        line = find_line(text, "", group) or find_line(text, group)
        raise ConfigError(reason, file=str(path), line=line, key=group)

    known = PACK_GROUPS[name]
    if group not in known:
        fail(
            f"unknown {_GROUP_WORD[name]} {group!r}{suggest(group, known)} "
            f"(use one of: {', '.join(known)})"
        )
    if not isinstance(texts, list):
        fail(f'{group} must be a list of texts in quotes, such as {group} = ["..."]')
    for number, item in enumerate(texts, start=1):
        if not isinstance(item, str) or not item.strip():
            fail(f"item {number} of {group} must be a text in quotes")
        if len(item) > MAX_TEXT_CHARS:
            fail(f"item {number} of {group} is longer than {MAX_TEXT_CHARS} characters")
    return tuple(dict.fromkeys(t.strip() for t in texts))


@lru_cache(maxsize=4)
def load_pack(name: str) -> dict[str, tuple[str, ...]]:
    """A shipped pack ("prompts" or "phrases"): group name -> texts."""
    return parse_pack(pack_file("config", f"{name}.toml"), name)


def user_pack_path(folder: Path, name: str) -> Path:
    """Where the person's own pack lives: next to config.toml."""
    return folder / f"{name}.toml"


def check_user_pack(folder: Path, name: str) -> ConfigError | None:
    """The problem with the person's own pack, or None (also when there is none)."""
    path = user_pack_path(folder, name)
    if not path.exists():
        return None
    if not path.is_file():
        return ConfigError("this is not a regular file", file=str(path))
    try:
        parse_pack(path, name)
    except ConfigError as exc:
        return exc
    return None


def user_pack(folder: Path | None, name: str) -> dict[str, tuple[str, ...]]:
    """The person's own pack; nothing when there is none or it is broken (then logged)."""
    if folder is None or not user_pack_path(folder, name).is_file():
        return {}
    try:
        return parse_pack(user_pack_path(folder, name), name)
    except ConfigError as exc:
        log.warning(
            "your own %s are skipped until the file is fixed (see `companion config check`): %s",
            name,
            exc,
        )
        return {}


def _sha1(text: str) -> str:
    # hashlib loads OpenSSL (2-3 ms): only commands that choose a prompt or phrase pay it
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def key_for(text: str) -> str:
    """A stable short key for a text, so history survives reordering the packs."""
    return _sha1(text)[:12]


# ---------------------------------------------------------------- cycles
def _rank(candidate: Candidate, seed: int) -> tuple[int, str]:
    """A candidate's place in a cycle: its tier, then a shuffle fixed by the cycle's seed
    (stable when texts are added or removed mid-cycle)."""
    key, _, tier = candidate
    return tier, _sha1(f"{seed}:{key}")


def _unseen(
    store: Store, pool: str, candidates: list[Candidate]
) -> tuple[CycleState, list[Candidate]]:
    state = store.cycle_state(pool)
    seen = set(state["seen"]) if state["seed"] is not None else set()
    return state, [c for c in candidates if c[0] not in seen]


def _next_in_cycle(
    store: Store, pool: str, candidates: list[Candidate], *, kind: str, rng: random.Random
) -> Choice:
    """The next candidate of the pool's cycle; a new shuffle once everything was shown."""
    if not candidates:
        raise InputError("there is nothing to choose from.")
    state, unseen = _unseen(store, pool, candidates)
    cycle, seed = state["cycle"], state["seed"]
    if seed is None or not unseen:
        cycle, seed, unseen = cycle + 1, rng.randrange(2**31), candidates
        # a new cycle never starts with what the last one ended on
        unseen = [c for c in unseen if c[0] != state["last"]] or unseen
    key, text, _ = min(unseen, key=lambda c: _rank(c, seed))
    return Choice(kind, key, text, pool, cycle, seed)


def _in_current_cycle(
    store: Store, kind: str, key: str, text: str, pool: str, rng: random.Random
) -> Choice:
    """A Choice for words shown outside the shuffle, counted in the pool's cycle."""
    state = store.cycle_state(pool)
    if state["seed"] is None:
        return Choice(kind, key, text, pool, state["cycle"] + 1, rng.randrange(2**31))
    return Choice(kind, key, text, pool, state["cycle"], state["seed"])


def record(store: Store, choice: Choice | None) -> bool:
    """Remember that `choice` was shown, so its pool moves on. Call it after the words were
    shown (or the answer saved). Never raises: a database that cannot take it is logged,
    and at worst the same words come once more."""
    if choice is None or choice.pool is None:
        return False
    try:
        store.record_use(
            choice.kind, choice.key, pool=choice.pool, cycle=choice.cycle, seed=choice.seed
        )
    except StoreError as exc:
        log.warning("which %s was shown could not be remembered: %s", choice.kind, exc)
        return False
    return True


# ---------------------------------------------------------------- prompts
def _prompt_candidates(group: str, own: dict[str, tuple[str, ...]]) -> list[Candidate]:
    texts = dict.fromkeys((*load_pack("prompts").get(group, ()), *own.get(group, ())))
    return [(key_for(t), t, 0) for t in texts]


def choose_prompt(
    store: Store, group: str, *, folder: Path | None = None, rng: random.Random | None = None
) -> Choice:
    """The next prompt of `group` ("" = any area), the person's own pack (in `folder`)
    merged in. Reads only: `record` the choice once it was shown."""
    if group and group not in PROMPT_GROUPS:
        raise InputError(f"there are no prompts for {group!r}.")
    own, rng = user_pack(folder, "prompts"), rng or random.Random()
    if group == WEEKLY_GROUP:
        return _weekly(store, _prompt_candidates(group, own), rng)
    if not group:
        group = _emptiest_area(store, own, rng)
    candidates = _prompt_candidates(group, own)
    if not candidates:
        raise InputError(f"there are no prompts for {group!r}.")
    return _next_in_cycle(store, f"prompt:{group}", candidates, kind="prompt", rng=rng)


def _emptiest_area(store: Store, own: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    """For "any area": the area least far through its cycle, so every area's prompts are
    all asked before any comes back (and an area's own check-ins share its cycle)."""
    standing: dict[str, tuple[int, int]] = {}
    for area in AREAS:
        candidates = _prompt_candidates(area, own)
        if not candidates:
            continue
        state, unseen = _unseen(store, f"prompt:{area}", candidates)
        if state["seed"] is None or not unseen:  # the next use starts a new cycle
            standing[area] = (state["cycle"] + 1, -len(candidates))
        else:
            standing[area] = (state["cycle"], -len(unseen))
    if not standing:
        raise InputError("there are no prompts for any area.")
    lowest = min(standing.values())
    return rng.choice([area for area, place in standing.items() if place == lowest])


def _weekly(store: Store, alternatives: list[Candidate], rng: random.Random) -> Choice:
    """The article's question most weeks; otherwise the next alternative of the cycle."""
    pool = f"prompt:{WEEKLY_GROUP}"
    alternatives = [c for c in alternatives if c[1] != WEEKLY_QUESTION]
    shown = store.cycle_state(pool)["count"]
    if not alternatives or shown % WEEKLY_ALTERNATIVE_EVERY != WEEKLY_ALTERNATIVE_EVERY - 1:
        return _in_current_cycle(
            store, "prompt", key_for(WEEKLY_QUESTION), WEEKLY_QUESTION, pool, rng
        )
    return _next_in_cycle(store, pool, alternatives, kind="prompt", rng=rng)


# ---------------------------------------------------------------- phrases
def phrase_candidates(store: Store, context: str | None, folder: Path | None) -> list[Candidate]:
    """Favourites, the person's own (saved phrases, then their pack), then the shipped
    ones; for one context (with the phrases that have none) or for all."""
    contexts = [context] if context else list(PHRASE_CONTEXTS)
    rows = [
        p for p in store.rows("phrases") if not context or p.get("context") in (None, "", context)
    ]
    candidates = [
        (f"user:{p['id']}", str(p["text"]), FAVOURITE if p.get("favourite") else OWN) for p in rows
    ]
    own, shipped = user_pack(folder, "phrases"), load_pack("phrases")
    candidates += [(key_for(t), t, OWN) for c in contexts for t in own.get(c, ())]
    candidates += [(key_for(t), t, SHIPPED) for c in contexts for t in shipped.get(c, ())]
    first: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: c[2]):
        first.setdefault(candidate[0], candidate)
    return list(first.values())


def phrase_pool(context: str | None) -> str:
    return f"phrase:{context or 'any'}"


def choose_phrase(
    store: Store,
    context: str | None,
    *,
    folder: Path | None = None,
    rng: random.Random | None = None,
) -> Choice:
    """The next phrase for the context: in each cycle favourites first, then the person's
    own, then the shipped ones. Reads only: `record` the choice once it was shown."""
    if context and context not in PHRASE_CONTEXTS:
        raise InputError(f"unknown context {context!r}; use one of: {', '.join(PHRASE_CONTEXTS)}.")
    return _next_in_cycle(
        store,
        phrase_pool(context),
        phrase_candidates(store, context, folder),
        kind="phrase",
        rng=rng or random.Random(),
    )


def own_phrase_choice(
    store: Store, row: Row, context: str | None, *, rng: random.Random | None = None
) -> Choice:
    """A Choice for one of the person's saved phrases read back at once (the friend test),
    counted in the context's cycle so it does not come straight back."""
    return _in_current_cycle(
        store,
        "phrase",
        f"user:{row['id']}",
        str(row["text"]),
        phrase_pool(context),
        rng or random.Random(),
    )
