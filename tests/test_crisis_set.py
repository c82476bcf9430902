"""The crisis check on the labelled set: recall at least 0.95, false positives at most 0.02.

The set (tests/data/crisis/crisis.txt and ordinary.txt) was written by the team in its
own words. untuned_*.txt is a check the patterns were never tuned on: its figure is
reported (here and by tests/benchmarks/bench_crisis.py), not held to the goal.
"""

from __future__ import annotations

from crisis_sets import FALSE_POSITIVE_GOAL, RECALL_GOAL, measure, read_set

from companion.safety import find_crisis


def flags(text: str) -> bool:
    return find_crisis(text) is not None


def test_the_labelled_set_is_big_enough_and_has_no_duplicates() -> None:
    crisis, ordinary = read_set("crisis"), read_set("ordinary")
    assert len(crisis) >= 250 and len(ordinary) >= 400
    assert len(set(crisis)) == len(crisis) and len(set(ordinary)) == len(ordinary)
    assert not set(crisis) & set(ordinary)


def test_recall_and_false_positives_meet_the_goal() -> None:
    figures = measure(flags, read_set("crisis"), read_set("ordinary"))
    print(f"\nlabelled set: {figures.line()}")
    assert figures.recall >= RECALL_GOAL, f"{figures.line()}; missed: {figures.missed}"
    assert figures.false_positive_rate <= FALSE_POSITIVE_GOAL, \
        f"{figures.line()}; false positives: {figures.false_positives}"


def test_the_untuned_check_is_reported() -> None:
    figures = measure(flags, read_set("untuned_crisis"), read_set("untuned_ordinary"))
    print(f"\nuntuned check: {figures.line()}")
    assert len(read_set("untuned_crisis")) >= 40 and len(read_set("untuned_ordinary")) >= 40
    assert figures.recall > 0.5  # a floor that catches a broken matcher, not a target
