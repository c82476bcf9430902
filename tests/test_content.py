"""Prompts and phrases: the packs themselves, choosing without repeats (a shuffled cycle
per pool, kept in the database), recording only what was shown, and the person's own packs."""

from __future__ import annotations

import logging
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from companion import content
from companion.adapters.notify import LogBackend
from companion.clock import FixedClock
from companion.config import ScheduleEntry, load_settings
from companion.content import (
    PROMPT_GROUPS,
    SPECIAL_GROUPS,
    WEEKLY_ALTERNATIVE_EVERY,
    WEEKLY_QUESTION,
    choose_phrase,
    choose_prompt,
    load_pack,
    record,
)
from companion.daemon import Deliverer
from companion.paths import resolve_paths
from companion.store import Store, migrations
from companion.vocab import AREAS, CHECKIN_AREAS, DAY_NAMES, PHRASE_CONTEXTS

LONDON = ZoneInfo("Europe/London")
SHAMING = (
    "failed",
    "failure",
    "should have",
    "lazy",
    "weak",
    "streak",
    "you never",
    "disappointing",
    "pathetic",
    "give up on yourself",
)
# A phrase must not tell the person how safe they are or how things will turn out, and
# must not make rest something to earn.
ASSERTIONS = re.compile(
    r"\b(safe|safety|danger|harm|nothing bad|you('| a)re (ok|okay|fine|alright)|"
    r"will be (ok|okay|fine|alright)|everything will|it will pass|this will pass|"
    r"will get better|earned|earn it)\b",
    re.IGNORECASE,
)
# Stock lines found in many other projects, and a few more everybody has seen.
STOCK = (
    "you are allowed to rest before you have earned it",
    "progress is rarely a straight line",
    "your body is trying to protect you",
    "starting again is a skill",
    "you are safe enough",
    "you earned it",
    "this too shall pass",
    "progress not perfection",
    "it's okay not to be okay",
    "feelings are not facts",
    "one day at a time",
    "you are enough",
)


def all_texts() -> list[str]:
    return [
        t for name in ("prompts", "phrases") for texts in load_pack(name).values() for t in texts
    ]


def plain(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower()).strip()


# ---------------------------------------------------------------- the packs
def test_every_pool_is_big_enough_for_a_month_of_check_ins() -> None:
    prompts, phrases = load_pack("prompts"), load_pack("phrases")
    assert set(prompts) == set(PROMPT_GROUPS)
    for area in AREAS:  # a daily check-in in one area asks nothing twice in 30 days
        assert len(prompts[area]) >= 30, area
    for group in SPECIAL_GROUPS:
        assert len(prompts[group]) >= 15, group
    assert set(phrases) == set(PHRASE_CONTEXTS)
    for context in PHRASE_CONTEXTS:
        assert len(phrases[context]) >= 12, context


def test_no_shipped_text_repeats_anywhere() -> None:
    texts = all_texts()
    assert len({plain(t) for t in texts}) == len(texts)
    assert WEEKLY_QUESTION not in load_pack("prompts")["weekly-review"]


def test_words_are_brief_kind_and_our_own() -> None:
    for text in all_texts():
        assert len(text) < 140, text
        assert not any(word in text.lower() for word in SHAMING), text
        assert not any(plain(line) in plain(text) for line in STOCK), text


def test_no_phrase_asserts_safety_or_contradicts_rest() -> None:
    for texts in load_pack("phrases").values():
        for text in texts:
            assert not ASSERTIONS.search(text), text
    # the word check can fail
    assert ASSERTIONS.search("Right now you are safe enough to breathe.")
    assert ASSERTIONS.search("Take a moment to enjoy this. You earned it.")


def test_the_practice_ideas_and_first_person_phrases_are_there() -> None:
    prompts, phrases = load_pack("prompts"), load_pack("phrases")
    prompt_text = " ".join(t for v in prompts.values() for t in v).lower()
    phrase_text = " ".join(t for v in phrases.values() for t in v).lower()
    for words in (
        ("noticing more", "seeing more"),
        ("therapist",),
        ("friend",),
        ("value",),
        ("credit",),
    ):
        assert any(w in prompt_text for w in words), words
        assert any(w in phrase_text for w in words), words
    for context, texts in phrases.items():
        assert sum(t.startswith(("I ", "My ")) for t in texts) >= 3, context


# ---------------------------------------------------------------- daily check-ins, simulated
def daily(name: str, hour: int, **kw: Any) -> ScheduleEntry:
    return ScheduleEntry(name=name, time=time(hour, 0), days=DAY_NAMES, **kw)


@pytest.fixture
def simulate(home: Path) -> Iterator[Any]:
    """Runs the daemon's delivery over a real database with a FixedClock, one tick at each
    check-in's time, for a number of days; returns the prompts each schedule was sent."""
    opened: list[Store] = []

    def run(
        schedule: tuple[ScheduleEntry, ...],
        days: int,
        *,
        start: datetime = datetime(2026, 1, 5, 8, 30, tzinfo=LONDON),
    ) -> dict[str, list[str]]:
        base = load_settings(None)
        settings = base._replace(checkins=base.checkins._replace(schedule=schedule))
        clock = FixedClock(start)
        store = Store.open(home / "companion.db", clock=clock)
        opened.append(store)
        deliverer = Deliverer(
            store, settings, LogBackend(), clock, since=start, paths=resolve_paths()
        )
        for day in range(days):
            for item in sorted(schedule, key=lambda s: s.time):
                when = datetime.combine(start.date() + timedelta(days=day), item.time, LONDON)
                clock.set(when)
                deliverer.tick(when)
        sent: dict[str, list[str]] = {}
        for row in store.deliveries():
            sent.setdefault(row["schedule"], []).append(row["prompt"])
        return sent

    yield run
    for store in opened:
        store.close()


def test_thirty_daily_check_ins_per_area_repeat_no_prompt(simulate: Any) -> None:
    schedule = tuple(daily(area, 9 + i * 2, area=area) for i, area in enumerate(CHECKIN_AREAS))
    sent = simulate(schedule, 30)
    shipped = load_pack("prompts")
    for area in CHECKIN_AREAS:
        assert len(sent[area]) == 30, area
        assert len(set(sent[area])) == 30, area
        assert set(sent[area]) <= set(shipped[area])


def test_any_area_check_ins_go_round_every_area_before_repeating(simulate: Any) -> None:
    sent = simulate((daily("evening", 20, area=""),), 60)["evening"]
    assert len(set(sent)) == 60
    shipped = load_pack("prompts")
    areas = [next(a for a in AREAS if p in shipped[a]) for p in sent]
    for area in AREAS:  # every area in turn, none left out
        assert 9 <= areas.count(area) <= 11, area


def test_the_cycle_survives_a_new_store(simulate: Any) -> None:
    schedule = (daily("morning", 9, area="regulation"),)
    simulate(schedule, 15)
    sent = simulate(schedule, 15, start=datetime(2026, 1, 20, 8, 30, tzinfo=LONDON))
    assert len(sent["morning"]) == 30 and len(set(sent["morning"])) == 30


def test_thirty_typed_check_ins_per_area_repeat_no_prompt(store: Store) -> None:
    clock = FixedClock(datetime(2026, 2, 1, 20, tzinfo=LONDON))
    store.clock = clock
    for area in AREAS:
        asked = []
        for _ in range(30):
            choice = choose_prompt(store, area)
            asked.append(choice.text)
            record(store, choice)
            clock.advance(86400)
        assert len(set(asked)) == 30, area


def test_the_weekly_note_asks_the_articles_question_most_weeks(simulate: Any) -> None:
    weekly = (ScheduleEntry(name="week", time=time(18, 0), days=("sun",), kind="weekly"),)
    sent = simulate(weekly, 7 * 80)["week"]
    assert len(sent) == 80
    assert sent[0] == WEEKLY_QUESTION
    assert sent.count(WEEKLY_QUESTION) == 80 - 80 // WEEKLY_ALTERNATIVE_EVERY
    alternatives = [p for p in sent if p != WEEKLY_QUESTION]
    assert set(alternatives) <= set(load_pack("prompts")["weekly-review"])
    pool = len(load_pack("prompts")["weekly-review"])
    assert len(set(alternatives[:pool])) == pool  # every alternative before any comes back
    for this_week, next_week in zip(sent, sent[1:], strict=False):
        assert this_week == WEEKLY_QUESTION or this_week != next_week


def test_choosing_writes_nothing(store: Store) -> None:
    choose_prompt(store, "awareness")
    choose_prompt(store, "")
    choose_prompt(store, "weekly-review")
    choose_phrase(store, "hard-day")
    assert store.rows("content_uses") == []


def test_an_older_database_gains_the_cycle_columns_and_keeps_its_history(home: Path) -> None:
    home.mkdir()
    db = Database(home / "companion.db")
    migrations.apply(db, stop_before="0003_content_cycles")
    db["content_uses"].insert({"kind": "prompt", "key": "abc", "used_at": "x", "used_utc": "x"})
    db.close()
    with Store.open(home / "companion.db") as store:
        assert store.cycle_state("prompt:awareness")["count"] == 0
        assert len(store.rows("content_uses")) == 1
        record(store, choose_prompt(store, "awareness"))
        assert store.cycle_state("prompt:awareness")["count"] == 1


# ---------------------------------------------------------------- encourage, through the CLI
def encourage_hard_day(cli: Any, times: int) -> list[str]:
    return [
        cli("encourage", "--context", "hard-day", "--print").stdout.strip() for _ in range(times)
    ]


def test_thirty_hard_day_phrases_repeat_nothing_until_the_pool_is_used_up(cli: Any) -> None:
    pool = load_pack("phrases")["hard-day"]
    heard = encourage_hard_day(cli, 30)
    assert sorted(heard[: len(pool)]) == sorted(pool)  # the whole pool, each once
    rest = heard[len(pool) :]
    assert len(set(rest)) == len(rest)  # the second round repeats nothing either
    assert heard[len(pool)] != heard[len(pool) - 1]  # nor starts with the last one heard


def test_the_phrase_cycle_survives_a_new_process(cli: Any, home: Path) -> None:
    first = encourage_hard_day(cli, 5)
    other = subprocess.run(
        [sys.executable, "-m", "companion", "encourage", "--context", "hard-day", "--print"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    heard = [*first, other.stdout.strip(), *encourage_hard_day(cli, 5)]
    assert len(set(heard)) == 11


def test_the_users_favourites_and_own_phrases_come_first_each_round(cli: Any, store: Store) -> None:
    fav = store.add_phrase("My favourite words.", context="tired", favourite=True)
    store.add_phrase("My own words.", context="tired")
    first = choose_phrase(store, "tired", rng=random.Random(0))
    assert (first.key, first.text) == (f"user:{fav['id']}", "My favourite words.")
    record(store, first)
    second = choose_phrase(store, "tired")
    assert second.text == "My own words."
    record(store, second)
    heard = [
        cli("encourage", "--context", "tired", "--print").stdout.strip()
        for _ in range(len(load_pack("phrases")["tired"]) + 2)
    ]
    assert set(heard[:-2]) == set(load_pack("phrases")["tired"])
    assert heard[-2:] == ["My favourite words.", "My own words."]  # the next round
    assert len(store.uses("phrase")) == len(heard) + 2


def test_a_failed_check_in_leaves_no_trace(cli: Any, store: Store) -> None:
    assert cli("checkin", "--text", "", ok=False).exit_code == 1
    assert cli("checkin", input="", ok=False).exit_code != 0  # no terminal, no answer
    assert store.rows("content_uses") == []
    cli("checkin", "--text", "A quiet day.")
    assert len(store.rows("content_uses")) == 1


def test_typed_check_ins_in_an_area_ask_from_that_area(cli: Any, store: Store) -> None:
    asked = []
    for _ in range(len(load_pack("prompts")["tracking"])):
        result = cli("checkin", "--area", "tracking", "--text", "noted", "--json")
        asked.append(store.entries()[-1]["prompt"])
        assert result.exit_code == 0
    assert sorted(asked) == sorted(load_pack("prompts")["tracking"])


# ---------------------------------------------------------------- the person's own packs
def write(home: Path, name: str, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_own_prompts_are_merged_into_the_pool(store: Store, home: Path) -> None:
    write(home, "prompts", 'awareness = ["What did the morning feel like?"]\n')
    asked = []
    for _ in range(len(load_pack("prompts")["awareness"]) + 1):
        choice = choose_prompt(store, "awareness", folder=home)
        asked.append(choice.text)
        record(store, choice)
    assert "What did the morning feel like?" in asked and len(set(asked)) == len(asked)


def test_own_phrases_come_before_the_shipped_ones(cli: Any, store: Store, home: Path) -> None:
    write(home, "phrases", 'hard-day = ["I can stop for today.", "Slow is fine."]\n')
    store.add_phrase("Saved words.", context="hard-day", favourite=True)
    heard = encourage_hard_day(cli, 4)
    assert heard[0] == "Saved words."
    assert sorted(heard[1:3]) == ["I can stop for today.", "Slow is fine."]
    assert heard[3] in load_pack("phrases")["hard-day"]


@pytest.mark.parametrize(
    ("name", "text", "line", "words"),
    [
        ("prompts", 'awareness = [\n  "Fine?",\n  "Broken\n]\n', 3, "not valid TOML"),
        ("prompts", '# mine\nawareness = "just one"\n', 2, "must be a list"),
        ("prompts", 'regulation = ["ok"]\nchoices = ["ok", 3]\n', 2, "item 2 of choices"),
        ("prompts", '[awareness]\ntext = "x"\n', 1, "must be a list"),
        ("phrases", 'tired = ["ok"]\n\nhard-days = ["x"]\n', 3, "did you mean 'hard-day'"),
        ("phrases", 'proud = [""]\n', 1, "must be a text"),
    ],
)
def test_config_check_names_the_file_and_line_of_a_broken_pack(
    cli: Any, home: Path, name: str, text: str, line: int, words: str
) -> None:
    path = write(home, name, text)
    result = cli("config", "check", ok=False)
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert f"{path}, line {line}" in errors[0] and words in errors[0]
    assert "Traceback" not in result.stderr


def test_config_check_says_a_good_pack_is_ok(cli: Any, home: Path) -> None:
    path = write(home, "phrases", 'proud = ["I did it my way."]\n')
    assert f"{path}: ok" in cli("config", "check").stdout


def test_a_broken_pack_never_stops_a_check_in_or_a_phrase(
    cli: Any, store: Store, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(home, "prompts", "awareness = [\n")
    write(home, "phrases", "tired = 5\n")
    caplog.set_level(logging.WARNING, logger="companion.content")
    cli("checkin", "--text", "Still here.", "--area", "awareness")
    assert len([r for r in caplog.records if "prompts" in r.getMessage()]) == 1
    out = cli("encourage", "--context", "tired", "--print").stdout.strip()
    assert out in load_pack("phrases")["tired"]
    assert len([r for r in caplog.records if "phrases" in r.getMessage()]) == 1
    assert len(store.entries()) == 1


def test_doctor_reports_a_broken_pack(home: Path) -> None:
    from companion.doctor import check_packs

    write(home, "phrases", "tired = 5\n")
    [found] = check_packs(SimpleNamespace(paths=resolve_paths()))
    assert found["status"] == "problem" and "phrases.toml, line 1" in found["detail"]
    assert content.check_user_pack(home, "prompts") is None  # none there: nothing to report


def test_a_check_in_is_set_aside_when_the_database_is_held(cli: Any, home: Path) -> None:
    """Choosing the prompt writes nothing, so a held database reaches the set-aside path
    (the prompt's bookkeeping used to write first and fail with 'Nothing was changed')."""
    import sqlite3

    home.mkdir()
    (home / "config.toml").write_text("[storage]\nbusy_timeout_seconds = 0.3\n")
    cli("reflect", "first")
    other = sqlite3.connect(home / "companion.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        held = cli("checkin", "--mood", "2", "--text", "A long wait today.", ok=False)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert held.exit_code == 1 and "is not lost" in held.stderr
    assert len(list((home / "pending").glob("*.json"))) == 1
    cli("reflect", "second")  # the next save adds what was set aside
    with Store.open(home / "companion.db") as store:
        assert [e["text"] for e in store.entries()][-2:] == ["A long wait today.", "second"]
        assert store.rows("content_uses") == []
