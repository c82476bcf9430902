"""Every benchmark under tests/benchmarks runs (its --quick mode), so a broken one fails CI
instead of rotting: a benchmark that cannot run measures nothing.

Only that it runs and prints its figures next to a baseline is checked here; the figures
themselves are read by people (speed is never a timed assert in a test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parent / "benchmarks").glob("bench_*.py"))
ROOT = Path(__file__).resolve().parents[1]
MISSING_PART = 3  # benchlib.MISSING_PART: a part this machine lacks (as the tests skip)


def test_every_benchmark_is_here() -> None:
    assert len(BENCHMARKS) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs_in_quick_mode(script: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode == MISSING_PART:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, f"{script.name} --quick failed:\n{done.stdout}\n{done.stderr}"
    assert "baseline" in done.stdout, done.stdout  # each figure next to its baseline
