"""The order tests are handed to xdist's workers in (tests/ordering.py)."""

from __future__ import annotations

import re
from pathlib import Path

from ordering import LONG, arrange, slice_sizes

ROOT = Path(__file__).resolve().parent.parent


def test_slices_are_cut_as_worksteal_cuts_them() -> None:
    assert slice_sizes(1027, 3) == [342, 342, 343]
    assert slice_sizes(2, 3) == [0, 1, 1]


def test_each_slice_starts_with_its_share_of_the_long_tests_and_nothing_is_lost() -> None:
    long = sorted(LONG, key=LONG.__getitem__, reverse=True)[:6]
    names = [f"tests/test_a.py::test_{i}" for i in range(30)]
    for at, name in zip((3, 9, 12, 20, 25, 29), long, strict=True):
        names[at] = name
    order = arrange(names, names, 3)
    assert sorted(order) == sorted(names)
    slices = [order[0:10], order[10:20], order[20:30]]
    assert [s[:2] for s in slices] == [[long[0], long[5]], [long[1], long[4]], [long[2], long[3]]]
    others = [n for n in order if n not in long]
    assert others == [n for n in names if n not in long]  # the rest keeps its order
    assert arrange(names, names, 1) == names


def test_every_long_test_named_is_still_there() -> None:
    for name in LONG:
        path, _, test = name.partition("::")
        function = re.sub(r"\[.*\]$", "", test)
        assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), name
