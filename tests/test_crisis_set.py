"""The crisis check (patterns, concepts, then the learnt second opinion) on every labelled
check in tests/data/crisis/: recall at least 0.95 and false positives at most 0.02 where the
patterns were tuned; recall on w1, which the concept stage was written with; at most 0.02
false positives added by the concept stage on every check. The figures of the checks never
tuned on are reported (here and by tests/benchmarks/bench_crisis.py), not held to the goal.
"""

from __future__ import annotations

import pytest
from crisis_sets import (
    CHECKS,
    CONCEPT_TUNED,
    FALSE_POSITIVE_GOAL,
    HELD_OUT,
    RECALL_GOAL,
    TUNED,
    UNTUNED,
    WRITERS,
    measure,
    read_check,
)

from companion.crisis_concepts import KIND
from companion.safety import find_crisis

SMALLEST = {
    "labelled": (250, 400),
    "fresh": (150, 150),
    "probe": (150, 150),
    "untuned": (38, 40),
    "final": (58, 60),
    "blind": (51, 54),
    "heldout": (40, 40),
    **dict.fromkeys(("w1", "w2", "w3"), (200, 200)),
    **dict.fromkeys(("w4", "w5", "w6", "w7", "w10", "w11", "w13"), (220, 380)),
    "w12": (210, 370),
    "w8": (220, 380),
    "w9": (190, 370),
    "w14": (180, 370),
    **dict.fromkeys(("w15", "w16", "w17"), (220, 380)),
    **dict.fromkeys(("w20", "w21", "w22", "w23", "w24", "w25", "w26", "w27"), (170, 360)),
    **dict.fromkeys(("w28", "w29", "w30"), (100, 750)),
    **dict.fromkeys(("w31", "w32", "w34"), (170, 360)),
    "w33": (100, 700),
    **dict.fromkeys(("w37", "w38", "w39", "w40"), (80, 690)),
    **dict.fromkeys(("w41", "w42", "w43", "w44"), (160, 320)),
    "w18": (195, 370),
    **dict.fromkeys(("w35", "w36"), (170, 360)),
    "w19": (210, 380),
}


def flags(text: str) -> bool:
    return find_crisis(text) is not None


def test_every_check_is_big_enough_and_no_line_is_in_two_places() -> None:
    seen: dict[str, str] = {}
    for name in CHECKS:
        crisis, ordinary = read_check(name)
        assert len(crisis) >= SMALLEST[name][0] and len(ordinary) >= SMALLEST[name][1], name
        for label, lines in (("crisis", crisis), ("ordinary", ordinary)):
            for line in lines:
                assert line not in seen, f"{line!r} is in {seen.get(line)} and {name} {label}"
                seen[line] = f"{name} {label}"


@pytest.mark.parametrize("name", TUNED)
def test_recall_and_false_positives_meet_the_goal(name: str) -> None:
    figures = measure(flags, *read_check(name))
    print(f"\n{name}: {figures.line()}")
    assert figures.meets_goal, (
        f"{figures.line()}; missed: {figures.missed}; false positives: {figures.false_positives}"
    )


def flags_by_concept(text: str) -> bool:
    hit = find_crisis(text)
    return hit is not None and hit.kind == KIND


@pytest.mark.parametrize("name", CONCEPT_TUNED)
def test_a_check_the_concepts_were_tuned_on_meets_the_recall_goal(name: str) -> None:
    crisis, ordinary = read_check(name)
    figures = measure(flags, crisis, ordinary)
    print(f"\n{name}: {figures.line()}")
    assert figures.recall >= RECALL_GOAL, f"{figures.line()}; missed: {figures.missed}"


@pytest.mark.parametrize("name", CHECKS)
def test_the_concept_stage_adds_few_false_positives(name: str) -> None:
    """The ordinary entries only the concept stage flags, on every check (the patterns'
    own are held to the goal above, where they were tuned)."""
    ordinary = read_check(name)[1]
    wrong = [line for line in ordinary if flags_by_concept(line)]
    assert len(wrong) / len(ordinary) <= FALSE_POSITIVE_GOAL, wrong


def test_every_tuned_check_together_meets_the_goal() -> None:
    tuned = TUNED + CONCEPT_TUNED
    crisis = [line for name in tuned for line in read_check(name)[0]]
    ordinary = [line for name in tuned for line in read_check(name)[1]]
    figures = measure(flags, crisis, ordinary)
    print(f"\nall tuned checks: {figures.line()}")
    assert figures.meets_goal


@pytest.mark.parametrize("name", UNTUNED)
def test_an_untuned_check_is_reported(name: str) -> None:
    figures = measure(flags, *read_check(name))
    print(f"\n{name} (never tuned on): {figures.line()}")
    # floors that catch a broken matcher, not targets
    assert figures.recall > 0.5 and figures.false_positive_rate < 0.2


@pytest.mark.parametrize("name", WRITERS)
def test_an_independent_writers_check_is_reported(name: str) -> None:
    """Learnt from and tuned on: reported, with floors that catch a broken stage."""
    figures = measure(flags, *read_check(name))
    print(f"\n{name} (tuned on and learnt from): {figures.line()}")
    assert figures.recall > 0.8 and figures.false_positive_rate < 0.02


@pytest.mark.parametrize("name", HELD_OUT)
def test_a_held_out_check_is_reported(name: str) -> None:
    """Nothing was tuned or trained on these: their figures are the honest ones."""
    figures = measure(flags, *read_check(name))
    print(f"\n{name} (held out): {figures.line()}")
    assert figures.recall > 0.7 and figures.false_positive_rate < 0.05
