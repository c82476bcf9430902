"""The crisis check on every labelled check in tests/data/crisis/: recall at least 0.95 and
false positives at most 0.02 where the patterns were tuned; the figures of the checks they
were never tuned on are reported (here and by tests/benchmarks/bench_crisis.py), not held to
the goal. All written by the team in its own words.
"""

from __future__ import annotations

import pytest
from crisis_sets import CHECKS, TUNED, UNTUNED, measure, read_check

from companion.safety import find_crisis

SMALLEST = {
    "labelled": (250, 400),
    "fresh": (150, 150),
    "probe": (150, 150),
    "untuned": (38, 40),
    "final": (58, 60),
    "blind": (51, 54),
    "heldout": (40, 40),
    **dict.fromkeys(("w2", "w3"), (200, 200)),
    **dict.fromkeys(("w4", "w5", "w6", "w7", "w10", "w11", "w13"), (220, 380)),
    "w12": (210, 370),
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


def test_every_tuned_check_together_meets_the_goal() -> None:
    crisis = [line for name in TUNED for line in read_check(name)[0]]
    ordinary = [line for name in TUNED for line in read_check(name)[1]]
    figures = measure(flags, crisis, ordinary)
    print(f"\nall tuned checks: {figures.line()}")
    assert figures.meets_goal


@pytest.mark.parametrize("name", UNTUNED)
def test_an_untuned_check_is_reported(name: str) -> None:
    figures = measure(flags, *read_check(name))
    print(f"\n{name} (never tuned on): {figures.line()}")
    # floors that catch a broken matcher, not targets
    assert figures.recall > 0.5 and figures.false_positive_rate < 0.2
