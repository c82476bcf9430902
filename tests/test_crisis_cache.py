"""The compiled crisis rules kept between processes, and the compiled regex code they hold."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from crisis_sets import DATA, read_set

from companion import crisis_cache
from companion.crisis_match import Matcher, Rules
from companion.regex_code import code_of, restore
from companion.safety import YOURS, crisis_file, load_compiled, load_crisis


def every_line() -> list[str]:
    return [line for path in sorted(DATA.glob("*.txt")) for line in read_set(path.stem)]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("state") / crisis_cache.NAME
    load_compiled(cache=cache)
    return cache


def test_the_compiled_rules_are_kept_private_and_read_back(kept: Path) -> None:
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    table = load_compiled(cache=kept)
    assert table.compiled is not None
    assert table.rules == load_crisis().rules


def test_kept_rules_answer_every_labelled_line_as_fresh_ones_do(kept: Path) -> None:
    rules = load_crisis().rules
    fresh, quick = Matcher(rules), Matcher(rules, compiled=load_compiled(cache=kept).compiled)
    # every third labelled line (~10,000 of ~31,500, in every language and style: all took 12 s)
    assert all(fresh.find(line) == quick.find(line) for line in every_line()[::3])


def test_a_damaged_cache_is_made_again(tmp_path: Path) -> None:
    cache = tmp_path / crisis_cache.NAME
    cache.write_bytes(b"companion crisis rules\n\x00\x00\x00\x00 not the rules")
    assert load_compiled(cache=cache).compiled is not None
    assert crisis_cache.read(cache, crisis_cache.key_of(crisis_file().read_bytes())) is not None


def test_changed_rules_are_compiled_again(tmp_path: Path) -> None:
    rules = tmp_path / "crisis.toml"
    rules.write_text(crisis_file().read_text(encoding="utf-8"), encoding="utf-8")
    cache = tmp_path / crisis_cache.NAME
    assert Matcher(load_compiled(rules, cache=cache).rules).find("zebra crossing") is None
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "direct = [", 'direct = [\n  "zebra crossing",', 1
        ),
        encoding="utf-8",
    )
    table = load_compiled(rules, cache=cache)
    assert Matcher(table.rules, compiled=table.compiled).find("a zebra crossing") is not None


def test_rules_that_cannot_be_kept_still_work(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    table = load_compiled(cache=blocked / crisis_cache.NAME)
    assert Matcher(table.rules, compiled=table.compiled).find("I want to die") is not None


def test_extra_phrases_are_read_next_to_the_kept_rules(kept: Path) -> None:
    table = load_compiled(cache=kept)
    rules = table.rules._replace(
        patterns={**table.rules.patterns, YOURS: ("the (grey|gray) place",)}
    )
    matcher = Matcher(rules, compiled=table.compiled)
    assert matcher.find("I'm in the grey place again") is not None


def test_kept_rules_for_other_rules_are_not_used(kept: Path) -> None:
    other = Rules(patterns={"t": ("zebra",)})
    matcher = Matcher(other, compiled=load_compiled(cache=kept).compiled)
    assert matcher.find("a zebra") is not None and matcher.find("I want to die") is None


def test_a_new_process_reads_the_kept_rules_which_hold_none_of_its_words(tmp_path: Path) -> None:
    env = {"COMPANION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = (
        "from companion.safety import find_crisis; import sys; "
        "sys.exit(0 if find_crisis('my quokka plan: i want to kms') else 1)"
    )
    for _ in range(2):  # the first makes the file, the second reads it
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    kept = (tmp_path / crisis_cache.NAME).read_bytes()
    assert (
        crisis_cache.read(
            tmp_path / crisis_cache.NAME, crisis_cache.key_of(crisis_file().read_bytes())
        )
        is not None
    )
    assert b"quokka" not in crisis_file().read_bytes()  # a word no rule holds (zebra came to)
    assert b"quokka" not in kept


# ---------------------------------------------------------------- compiled regex code
@pytest.mark.parametrize("source", [r"(?<![a-z])(?:kil ?(?:myself|me) ?)(?![a-z])", "죽고 ?싶"])
def test_regex_code_rebuilds_the_same_pattern(source: str) -> None:
    packed = code_of(source)
    assert packed is not None and restore(source, packed) == re.compile(source)


def test_unusable_regex_code_falls_back_to_compiling() -> None:
    assert restore("a+b", b"\x01\x02\x03") == re.compile("a+b")
    assert restore("a+b", None).match("aab")


def test_kept_rules_of_another_shape_are_not_used(kept: Path) -> None:
    table = load_compiled(cache=kept)
    assert table.compiled is not None
    old = {**table.compiled, "format": -1}
    broken = {**table.compiled, "patterns_index": {"regexes": []}}
    for compiled in (old, broken):
        matcher = Matcher(table.rules, compiled=compiled)
        assert matcher.find("I want to die") is not None and matcher._kept is None


def test_pieces_damaged_after_the_header_still_give_the_same_answers(tmp_path: Path) -> None:
    cache = tmp_path / crisis_cache.NAME
    load_compiled(cache=cache)
    blob = bytearray(cache.read_bytes())
    for at in range(len(blob) // 2, len(blob), 997):  # the pieces: patterns' parts and code
        blob[at] ^= 0xFF
    cache.write_bytes(bytes(blob))
    table = load_compiled(cache=cache)
    assert table.compiled is not None  # the header is whole, so the kept form is used
    rules = load_crisis().rules
    fresh, kept = Matcher(rules), Matcher(rules, compiled=table.compiled)
    lines = ["I want to die", "this deadline is killing me", *every_line()[:400]]
    assert [kept.find(line) for line in lines] == [fresh.find(line) for line in lines]
