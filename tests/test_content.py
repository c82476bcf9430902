import random

from companion.content import (
    AVOID_RECENT,
    PROMPT_GROUPS,
    choose_phrase,
    choose_prompt,
    load_pack,
    pick,
)
from companion.store import Store
from companion.vocab import CHECKIN_AREAS, PHRASE_CONTEXTS

SHAMING = ("failed", "failure", "should have", "lazy", "weak", "streak", "you never",
           "disappointing")


def test_packs_have_enough_kind_prompts_and_phrases() -> None:
    prompts, phrases = load_pack("prompts"), load_pack("phrases")
    assert set(PROMPT_GROUPS) <= set(prompts)
    for area in CHECKIN_AREAS:
        assert len(set(prompts[area])) >= 6, area
    assert set(PHRASE_CONTEXTS) == set(phrases)
    assert sum(len(set(v)) for v in phrases.values()) >= 30
    for text in [t for v in (*prompts.values(), *phrases.values()) for t in v]:
        assert not any(word in text.lower() for word in SHAMING), text
        assert len(text) < 140, text


def test_pick_avoids_what_was_used_recently() -> None:
    candidates = [(str(i), f"text {i}") for i in range(8)]
    recent = [str(i) for i in range(7)]
    for seed in range(20):
        assert pick(candidates, recent, random.Random(seed))[0] == "7"
    # everything used recently: anything but the very last one
    assert pick(candidates[:2], ["0", "1"], random.Random(1))[0] == "1"


def test_prompts_do_not_repeat_within_the_recent_window(store: Store) -> None:
    seen = [choose_prompt(store, "regulation", rng=random.Random(i))[0] for i in range(6)]
    assert len(set(seen)) == 6
    any_area = [choose_prompt(store, "", rng=random.Random(i))[0] for i in range(20)]
    for i in range(len(any_area) - AVOID_RECENT):
        window = any_area[i:i + AVOID_RECENT + 1]
        assert len(set(window)) == len(window)


def test_the_users_favourites_and_own_phrases_come_first(store: Store) -> None:
    fav = store.add_phrase("My favourite words.", context="tired", favourite=True)
    store.add_phrase("My own words.", context="tired")
    first = choose_phrase(store, "tired", rng=random.Random(0))
    assert first == (f"user:{fav['id']}", "My favourite words.")
    second = choose_phrase(store, "tired", rng=random.Random(0))
    assert second[1] == "My own words."
    third = choose_phrase(store, "tired", rng=random.Random(0))
    assert third[1] in load_pack("phrases")["tired"]
    assert len(store.rows("content_uses", where="kind = ?", params=("phrase",))) == 3
