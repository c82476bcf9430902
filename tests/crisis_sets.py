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
# Written fresh and never tuned on: their figures are reported, not held to the goal.
# "untuned" is the first writer's last check; "final" the second writer's; "blind" a third
# writer's, written before reading the others (and before tests/tools/train_crisis_model.py);
# "heldout" the crisis-net writer's last, written after its families and never tuned on.
# The concept stage was written with the misses of untuned, final and blind in view.
UNTUNED = ("untuned", "final", "blind", "heldout")
# Independent writers' checks, each from a short brief and nothing else, measured once before
# anything was tuned on them (the figures are in their first lines), then tuned on and
# learnt from: held to the goal with the tuned ones.
# "w1" (young adults texting: 0.530 recall, 0.040 false positives with the patterns alone)
# was the one the concept stage (companion/crisis_concepts.py) was written with.
WRITERS = (
    "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w10", "w11", "w12", "w13",
    "w14", "w15", "w16", "w17", "w20", "w21", "w22", "w23",
    "w24", "w25", "w26", "w27", "w28", "w29", "w30", "w31", "w32", "w33", "w34",
    "w37", "w38", "w39", "w40", "w41", "w42", "w43", "w44",
)  # fmt: skip
# The checks the concept stage was tuned on beyond TUNED: held to the recall goal.
CONCEPT_TUNED = ("w1",)
# Two more independent writers' checks, held out from everything (rules, concepts, the
# model's weights and threshold): measured once at the end of the work on issue 13.
HELD_OUT = ("w8", "w9", "w18", "w19", "w35", "w36")
CHECKS = TUNED + WRITERS + UNTUNED + HELD_OUT


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

    @classmethod
    def together(cls, parts: list[Figures]) -> Figures:
        """The figures of several checks as one (from theirs: nothing is checked again)."""
        missed = tuple(t for f in parts for t in f.missed)
        wrong = tuple(t for f in parts for t in f.false_positives)
        crisis = sum(f.crisis_count for f in parts)
        ordinary = sum(f.ordinary_count for f in parts)
        return cls(1 - len(missed) / crisis, len(wrong) / ordinary, missed, wrong, crisis, ordinary)

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
