"""The labelled crisis sets in tests/data/crisis/ and the figures measured on them.

Shared by tests/test_crisis_set.py and tests/benchmarks/bench_crisis.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "crisis"
RECALL_GOAL = 0.95
FALSE_POSITIVE_GOAL = 0.02


def read_set(name: str) -> list[str]:
    """One statement per line; blank lines and lines starting with "#" are left out."""
    lines = (DATA / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


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
        return (f"recall {self.recall:.3f} ({self.crisis_count - len(self.missed)}/"
                f"{self.crisis_count}), false positives {self.false_positive_rate:.3f} "
                f"({len(self.false_positives)}/{self.ordinary_count})")


def measure(flags: Callable[[str], bool], crisis: list[str], ordinary: list[str]) -> Figures:
    """The figures of a check (`flags(text)` is True when it would show the resources)."""
    missed = tuple(t for t in crisis if not flags(t))
    wrong = tuple(t for t in ordinary if flags(t))
    return Figures(recall=1 - len(missed) / len(crisis),
                   false_positive_rate=len(wrong) / len(ordinary), missed=missed,
                   false_positives=wrong, crisis_count=len(crisis), ordinary_count=len(ordinary))
