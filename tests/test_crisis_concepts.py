"""The concept stage: its notation, its rules and their blockers, long texts, and the kept
compiled form (companion/crisis_concepts.py, config/crisis_concepts.toml)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from companion import crisis_concepts
from companion.crisis_concepts import KIND, ConceptError, Concepts, compile_rules, expand, words_of
from companion.safety import find_crisis

SHIPPED = crisis_concepts.concept_file()


@pytest.fixture(scope="module")
def concepts() -> Concepts:
    return crisis_concepts.load()


def rule_in(concepts: Concepts, text: str) -> str | None:
    hit = concepts.find(text)
    return None if hit is None else hit.pattern


def tiny(rules: str, **concepts: list[str]) -> Concepts:
    """Concepts from a few English word lists and one rule."""
    table = {"self": {"en": ["i", "my"]}} | {k: {"en": v} for k, v in concepts.items()}
    return Concepts(compile_rules({"languages": {}, "concepts": table, "rules": {"r": rules}}))


# ---------------------------------------------------------------- the notation
def test_a_line_stands_for_every_choice_in_it() -> None:
    assert expand("took (like|about|) #5") == ["took like #5", "took about #5", "took #5"]
    assert expand("(the )?edge") == ["the edge", "edge"]
    assert expand("(a|b) (c|d)") == ["a c", "a d", "b c", "b d"]


def test_a_line_that_stands_for_too_much_is_refused() -> None:
    with pytest.raises(ConceptError, match="more than"):
        expand("(a|b|c|d|e|f|g|h) " * 4)


def test_words_are_read_as_text_is_and_marks_are_kept() -> None:
    assert words_of("Don't  PILLS swallow* #5 $") == ("dont", "pils", "swalow*", "#5", "$")


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("i took 15 pills", True),  # #5: a number of five or more
        ("i took 2 pills", False),
        ("i swallowed the pills", True),  # swallow*: any ending
        ("the pills, i took them", False),  # the order of a form's words
    ],
)
def test_numbers_word_starts_and_order(text: str, fires: bool) -> None:
    c = tiny("take pills", take=["took #5", "swallow*"], pills=["pills"])
    assert (c.find(text) is not None) is fires


def test_a_rule_needs_every_group_within_the_span() -> None:
    c = tiny("a b|c", a=["alpha"], b=["beta"], c=["gamma"])
    assert c.find("alpha then gamma") is not None
    assert c.find("alpha alone") is None
    far = "alpha " + " ".join(f"w{n}" for n in range(20)) + " beta"
    assert c.find(far) is None


def test_a_blocker_near_sets_a_rule_aside_and_unless_undoes_that() -> None:
    table = {
        "self": {"en": ["i"]},
        "a": {"en": ["alpha"]},
        "joke": {"en": ["lol"], "unless": ["serious"]},
        "serious": {"en": ["not joking"]},
    }
    c = Concepts(compile_rules({"languages": {}, "concepts": table, "rules": {"r": "a !joke"}}))
    assert c.find("alpha lol") is None
    assert c.find("alpha. lol") is None  # the next sentence counts too
    assert c.find("alpha lol. not joking") is not None


def test_someone_else_only_blocks_as_the_subject_of_a_clause() -> None:
    c = tiny("cut !other<", cut=["cut again"], other=["my friend", "she"])
    assert c.find("my friend cut again") is None
    assert c.find("i stayed up and she cut again") is None
    assert c.find("told my friend i cut again") is not None  # "i" comes between
    assert c.find("texted my friend, then cut again") is not None  # not its subject


def test_a_clause_end_is_not_the_word_i_starting_more_of_the_same_clause() -> None:
    c = tiny("t", t=["its time $"])
    assert c.find("its time.") is not None
    assert c.find("its time, i think") is not None
    assert c.find("its time i think") is not None  # "i think" closes it
    assert c.find("its time i went to bed") is None


def test_a_rule_with_an_unknown_concept_is_named() -> None:
    with pytest.raises(ConceptError, match="nothing"):
        tiny("a nothing", a=["alpha"])


def test_an_unreadable_file_is_a_concept_error(tmp_path: Path) -> None:
    bad = tmp_path / "crisis_concepts.toml"
    bad.write_text("[concepts\n", encoding="utf-8")
    with pytest.raises(ConceptError, match="cannot be read"):
        crisis_concepts.load(bad)


def test_every_concept_is_used_and_every_rule_is_readable() -> None:
    toml = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    compile_rules(toml)
    used = {
        name.lstrip("!").rstrip("<")
        for rule in toml["rules"].values()
        for part in rule.split()
        for name in part.split("|")
    }
    included = {n for table in toml["concepts"].values() for n in table.get("include", [])}
    unless = {n for table in toml["concepts"].values() for n in table.get("unless", [])}
    assert set(toml["concepts"]) - used - included - unless == {"self"} - used


# ---------------------------------------------------------------- the shipped rules
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("took like 15 of my sertraline idk what happens now", "took_too_many"),
        ("gonna swallow everything i have when i get there", "swallow_everything"),
        ("stocked up on sleeping pills at three diff pharmacies", "saved_up_means"),
        ("really scared of myself tonight, the razor is right there", "means_at_hand"),
        ("burned my arm w a lighter again", "hurt_my_body"),
        ("last night i wrapped the cord around my neck and sat there", "cord_at_neck"),
        ("practiced tying the knot tonight. just to see if i could", "knot_practice"),
        ("sat in the car in the garage w the engine on for a bit", "engine_closed_in"),
        ("keep thinking how easy itd be to step off the platform", "fall_dwelt_on"),
        ("still planning to do it friday tho", "plan_when"),
        ("gave my sis my hoodies. everythings sorted now", "affairs_settled"),
        ("im a burden on literally everyone n im done being that", "burden_ending"),
        ("lowkey hoping i just dont wake up tmrw", "wish_not_to_wake"),
        ("googling how many tylenol it takes", "looked_up_how"),
        ("모아둔 약 오늘 밤에 다 먹을 거야", "took_too_many"),
        ("j'ai avalé toute la boîte de doliprane", "took_too_many"),
        ("manchmal wünsch ich mir einfach nicht mehr aufzuwachen", "wish_not_to_wake"),
        ("queria dormir e nunca mais acordar", "wish_not_to_wake"),
        ("me volví a cortar anoche", "hurt_again"),
    ],
)
def test_a_rule_fires(concepts: Concepts, text: str, rule: str) -> None:
    assert rule_in(concepts, text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "cut my finger chopping onions lol now its all bandaged",  # cooking
        "burned my wrist on the oven tray taking out cookies",  # an accident
        "forgot my meds again this morning, took them at lunch instead",  # a dose as meant
        "took 2 ibuprofen for my cramps and went back to bed",
        "the nurse said i can take up to 8 paracetamol a day",
        "punched the bag at boxing class till my knuckles were red",  # sport
        "hit my head on the cabinet so hard i saw stars, ouch",
        "my friend relapsed and cut again, i stayed on facetime w her",  # someone else
        "one year self harm free today!! got myself a cake lol",  # the past, as past
        "i used to cut in high school but it's been 4 years",
        "found my childhood diary and its so cringe i wanna die lol",  # an idiom, a joke
        "essa prova vai me matar kkkkk",
        "hoping i dont wake up the baby when i get home late",  # the ordinary wake
        "my sister is tying the knot in june, so excited",  # a wedding
        "stood at the edge of the grand canyon and my legs went jelly lol",  # an outing
        "the team would be fine without me for a week while im on vacation",  # a while
        "said goodbye to my friends at the airport, gonna miss them all summer",
        "made a safety plan with my therapist and i'm keeping it on my phone",
        "ich hoffe die tabletten wirken bald",  # German "die" is not dying
    ],
)
def test_a_blocker_keeps_an_ordinary_entry_ordinary(concepts: Concepts, text: str) -> None:
    assert rule_in(concepts, text) is None


# Round 15 (precision): everyday days that meet a rule's concepts, each kept ordinary by a
# blocker of its family (a trip, a section of a choir, an early flight, a routine dose).
@pytest.mark.parametrize(
    "text",
    [
        "I'd rather not be here for the meeting.",
        "I just want to sleep forever this weekend, the week was long.",
        "I wish I could sleep forever on Sundays.",
        "Part of me wants to not wake up for my 6am flight.",
        "Je voudrais ne plus me réveiller à 5h pour le travail.",
        "Gave my plants to my neighbour before I go travelling for three months.",
        "Took my antidepressants and one beer.",
        "Loaded the dishwasher, then took my tablets and went to bed.",
        "The band sounded better without me on the drums.",
        "The choir would be better off without me in the alto section, I can't hold a note.",
        "I won't be here tomorrow, I'm off to the coast.",
        "I won't be here much longer, the contract ends in May.",
        "Not planning to be here next week, we're in Cornwall.",
        "Amanhã não vou estar aqui, vou viajar.",
        "Everything is sorted now: the keys, the post, the plants, the cat sitter.",
        "Got my affairs in order before the surgery, just in case, like the nurse said.",
        "Wrote letters to my kids for their 18th birthdays, to open later.",
        "I keep thinking about jumping into the lake this summer.",
        "I have a plan now for the garden and a date for the first planting.",
        "Je vais en finir avec ce rapport ce soir.",
        "Ich will nicht mehr da sein, wenn die Party anfängt, zu laut.",
        "결혼식 날짜를 정했어.",
        "I don't plan on being around this Christmas, we're going skiing.",
        "First day as a barista. Burned myself on the steam wand twice.",
        "I told my therapist I used to think about jumping from the overpass, back when I was 19.",
    ],
)
def test_a_family_blocker_keeps_an_everyday_day_ordinary(concepts: Concepts, text: str) -> None:
    assert rule_in(concepts, text) is None


def test_a_concept_hit_names_the_rule_never_the_words() -> None:
    text = "took like 15 of my sertraline idk what happens now"
    hit = find_crisis(text)
    assert hit is not None and hit.kind == KIND
    assert hit.pattern == "took_too_many" and "sertraline" not in str(hit)


def test_the_patterns_come_first() -> None:
    hit = find_crisis("I want to kill myself")
    assert hit is not None and hit.kind != KIND


# ---------------------------------------------------------------- long texts
def test_a_long_text_is_read_where_a_rule_could_fire(concepts: Concepts) -> None:
    calm = "I went for a walk and felt a bit better. " * 300
    assert len(calm) > crisis_concepts.LONG_TEXT
    assert concepts.find(calm) is None
    for line in ("lowkey hoping i just dont wake up tmrw", "hab die tabletten schon gesammelt"):
        short = rule_in(concepts, line)
        assert short is not None
        assert rule_in(concepts, calm + line + "\n" + calm) == short


# ---------------------------------------------------------------- the kept compiled form
def test_the_compiled_form_is_kept_private_and_used_again(tmp_path: Path) -> None:
    cache = tmp_path / "state" / crisis_concepts.CACHE_NAME
    first = crisis_concepts.load_compiled(cache=cache)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    made = cache.stat().st_mtime_ns
    second = crisis_concepts.load_compiled(cache=cache)
    assert cache.stat().st_mtime_ns == made  # read, not made again
    text = "practiced tying the knot tonight. just to see if i could"
    assert rule_in(first, text) == rule_in(second, text) == "knot_practice"


def test_a_damaged_kept_form_is_made_again(tmp_path: Path) -> None:
    cache = tmp_path / crisis_concepts.CACHE_NAME
    crisis_concepts.load_compiled(cache=cache)
    cache.write_bytes(cache.read_bytes()[:100])
    again = crisis_concepts.load_compiled(cache=cache)
    assert rule_in(again, "lowkey hoping i just dont wake up tmrw") == "wish_not_to_wake"
    assert cache.stat().st_size > 1000


def test_rules_changed_since_the_form_was_kept_are_read_afresh(tmp_path: Path) -> None:
    cache = tmp_path / crisis_concepts.CACHE_NAME
    rules = tmp_path / "crisis_concepts.toml"
    rules.write_bytes(SHIPPED.read_bytes())
    crisis_concepts.load_compiled(rules, cache=cache)
    text = "lowkey hoping i just dont wake up tmrw"
    changed = SHIPPED.read_text(encoding="utf-8").replace(
        'wish_not_to_wake = "cease wish', 'wish_not_to_wake = "cease wish no_such_word'
    )
    rules.write_text(changed.replace("[rules]", '[concepts.no_such_word]\nen = ["zzz"]\n\n[rules]'))
    assert rule_in(crisis_concepts.load_compiled(rules, cache=cache), text) is None


def test_a_damaged_part_of_the_kept_form_is_made_again_when_first_needed(tmp_path: Path) -> None:
    cache = tmp_path / crisis_concepts.CACHE_NAME
    crisis_concepts.load_compiled(cache=cache)
    data = bytearray(cache.read_bytes())
    data[-2000:] = bytes(2000)  # the last lexicons, kept apart after the header
    cache.write_bytes(bytes(data))
    again = crisis_concepts.load_compiled(cache=cache)
    assert rule_in(again, "lowkey hoping i just dont wake up tmrw") == "wish_not_to_wake"
    assert rule_in(again, "hab die tabletten schon gesammelt") is not None


# ---------------------------------------------------------------- the first look
def test_the_first_look_lets_through_every_text_a_rule_fires_in(concepts: Concepts) -> None:
    """A text the first look turns away is one no rule fires in, read whole."""
    from crisis_sets import CHECKS, read_check

    from companion.crisis_concepts import _Text
    from companion.crisis_match import normalise

    turned_away = 0
    for name in CHECKS:
        for line in (x for part in read_check(name) for x in part):
            normalised = normalise(line)
            if concepts._could_be_here(normalised):
                continue
            turned_away += 1
            whole = _Text(concepts, normalised.split("."))
            assert concepts._in(whole, range(len(whole))) is None, line
    assert turned_away > 1000  # it does turn most ordinary texts away


def test_importing_the_check_loads_no_logging_and_compiles_nothing() -> None:
    code = (
        "import sys; import companion.safety as s; from companion.regex_code import Lazy;"
        "print('logging' in sys.modules, all(p._compiled is None for p in Lazy.made.values()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out == ["False", "True"]
