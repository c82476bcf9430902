"""What the benchmarks share: their options, timing, and how a figure is printed.

Every benchmark prints each figure next to a baseline measured in the same run (medians,
the cases interleaved so that drift in a busy machine hits them alike) and takes `--quick`
(a few runs of everything, seconds in all) so that tests/test_benchmarks.py can run it in CI.

A part the machine lacks (PulseAudio, espeak-ng, a speech model) ends a benchmark with
exit code 3 and one line saying what is missing (`missing`), as the tests skip.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MISSING_PART = 3  # the exit code of a benchmark that cannot run here


def options(doc: str | None, *, runs: int = 7, quick_runs: int = 1) -> argparse.ArgumentParser:
    """--runs N (default `runs`) and --quick (sets runs to `quick_runs`)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help=f"runs of each case (default {runs}; medians are printed)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a quick run (CI): the least that shows the benchmark works",
    )
    parser.set_defaults(default_runs=runs, quick_runs=quick_runs)
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    args = parser.parse_args()
    if args.runs is None:
        args.runs = args.quick_runs if args.quick else args.default_runs
    return args


def compile_bytecode() -> None:
    """Compile companion's modules, as installing it does. A checkout run with
    PYTHONDONTWRITEBYTECODE (or after an edit) would otherwise compile a changed module
    again in every process, which an installed companion never does."""
    compileall.compile_dir(ROOT / "companion", quiet=2)


def missing(what: str) -> None:
    """End the benchmark: a part the machine lacks."""
    print(f"cannot run here: {what}", file=sys.stderr)
    raise SystemExit(MISSING_PART)


def env_with(**values: str) -> dict[str, str]:
    """This environment with companion importable (PYTHONPATH) and `values` added."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **values}


def companion_argv(*args: str) -> list[str]:
    """How a person runs companion: the console script next to this Python (-m without one)."""
    script = Path(sys.executable).with_name("companion")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "companion"]
    return [*head, *args]


def wall_ms(argv: list[str], env: Mapping[str, str]) -> float:
    """Milliseconds from start to exit of one process (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True, timeout=600)
    return (time.perf_counter() - start) * 1000


def interleaved(
    cases: Mapping[str, Callable[[], float]], runs: int, *, warm_up: bool = True
) -> dict[str, list[float]]:
    """Each case's measurements (each call returns one figure), taken in turns: one
    uncounted warm-up round (caches, first connections), then `runs` rounds."""
    if warm_up:
        for measure in cases.values():
            measure()
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, measure in cases.items():
            figures[name].append(measure())
    return figures


def median(values: list[float]) -> float:
    return statistics.median(values)


def line(
    name: str,
    values: list[float],
    *,
    baseline: list[float] | None = None,
    unit: str = "ms",
    width: int = 44,
) -> str:
    """`name  median (min-max, n runs)  x ratio of the baseline`."""
    med = median(values)
    spread = (
        f"({min(values):.0f}-{max(values):.0f}, {len(values)} runs)"
        if len(values) > 1
        else "(1 run)"
    )
    ratio = f"  x{med / median(baseline):.2f} of the baseline" if baseline else ""
    return f"  {name:{width}s} {med:7.1f} {unit} {spread:>20s}{ratio}"


def verdict(what: str, value: float, goal: float, unit: str = " ms") -> str:
    """`goal ...: met` or `NOT met`, with the figure."""
    met = "met" if value <= goal else "NOT met"
    return f"goal for {what}: at most {goal:g}{unit}: {met} ({value:.2f}{unit})"
