"""The labelled crisis checks in tests/data/crisis/ and the figures measured on them.

Each check is a pair of files, NAME_crisis.txt and NAME_ordinary.txt (the first labelled set
is crisis.txt and ordinary.txt, named "labelled" here). Shared by tests/test_crisis_set.py
and tests/benchmarks/bench_crisis.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "crisis"
RECALL_GOAL = 0.95
FALSE_POSITIVE_GOAL = 0.02

# The patterns were improved on these, so they are held to the goal.
TUNED = ("labelled", "fresh", "probe")
# Tuned on by the concept stage (companion/crisis_concepts.py): held to the recall goal, and
# to the false-positive goal for what the concept stage adds. "w1" is a fresh writer's check
# of young adults texting (0.530 recall, 0.040 false positives before the concept stage);
# its false positives come from the patterns in config/crisis.toml, which are worked on
# elsewhere: when they meet the goal it belongs in TUNED.
CONCEPT_TUNED = ("w1",)
# Written fresh and never tuned on by the patterns: their figures are reported, not held to
# the goal. "untuned" is the first writer's last check; "final" the second writer's; "blind"
# a third writer's, written before reading the others (and before
# tests/tools/train_crisis_model.py). The concept stage was written with their misses in
# view, so with it their figures are no longer untuned ones.
UNTUNED = ("untuned", "final", "blind")
CHECKS = TUNED + CONCEPT_TUNED + UNTUNED


def read_set(name: str) -> list[str]:
    """One statement per line; blank lines and lines starting with "#" are left out."""
    lines = (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def read_check(name: str) -> tuple[list[str], list[str]]:
    """The crisis statements and the ordinary entries of one check."""
    if name == "labelled":
        return read_set("crisis"), read_set("ordinary")
    return read_set(f"{name}_crisis"), read_set(f"{name}_ordinary")


@dataclass(frozen=True)
class Figures:
    """Recall on crisis statements, false positives on ordinary ones, and what went wrong."""

    recall: float
    false_positive_rate: float
    missed: tuple[str, ...]
    false_positives: tuple[str, ...]
    crisis_count: int
    ordinary_count: int

    def line(self) -> str:
        return (
            f"recall {self.recall:.3f} ({self.crisis_count - len(self.missed)}/"
            f"{self.crisis_count}), false positives {self.false_positive_rate:.3f} "
            f"({len(self.false_positives)}/{self.ordinary_count})"
        )

    @property
    def meets_goal(self) -> bool:
        return self.recall >= RECALL_GOAL and self.false_positive_rate <= FALSE_POSITIVE_GOAL


def measure(flags: Callable[[str], bool], crisis: list[str], ordinary: list[str]) -> Figures:
    """The figures of a check (`flags(text)` is True when it would show the resources)."""
    missed = tuple(t for t in crisis if not flags(t))
    wrong = tuple(t for t in ordinary if flags(t))
    return Figures(
        recall=1 - len(missed) / len(crisis),
        false_positive_rate=len(wrong) / len(ordinary),
        missed=missed,
        false_positives=wrong,
        crisis_count=len(crisis),
        ordinary_count=len(ordinary),
    )
