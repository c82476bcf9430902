"""Start-up and save speed of the command line, against a baseline measured in the same run.

Run: python tests/benchmarks/bench_cli.py [--runs N]
Goals (issue 2): `companion --help` at most 2x `python -c "import click"`;
`companion reflect "x"` under 250 ms; importing companion.cli loads no heavy module.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("vosk", "sounddevice", "pyttsx3", "plyer", "numpy", "jeepney")


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time in milliseconds of `runs` runs (after one warm-up run)."""
    subprocess.run(argv, env=env, capture_output=True, check=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    py = sys.executable
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "COMPANION_HOME": home}
        base = timed([py, "-c", "import click"], env, runs)
        bare = timed([py, "-c", "pass"], env, runs)
        helps = timed([py, "-m", "companion", "--help"], env, runs)
        reflect = timed([py, "-m", "companion", "reflect", "a short reflection"], env, runs)
        search = timed([py, "-m", "companion", "search", "short"], env, runs)
        loaded = subprocess.run(
            [py, "-c", "import sys, companion.cli; "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"],
            env=env, capture_output=True, text=True, check=True).stdout.strip()
    print(f"python -c pass              {bare:7.1f} ms")
    print(f"python -c 'import click'    {base:7.1f} ms  (baseline)")
    print(f"companion --help            {helps:7.1f} ms  ratio {helps / base:.2f}x (goal <= 2x)")
    print(f"companion reflect 'x'       {reflect:7.1f} ms  (goal < 250 ms)")
    print(f"companion search (1 entry+) {search:7.1f} ms")
    print(f"heavy modules after importing companion.cli: {loaded or 'none'}")


if __name__ == "__main__":
    main()
