"""1,000 SIGKILLs of a writing companion process; prints what survived.

Run: python tests/benchmarks/bench_durability.py [--kills N] [--quick]
Baseline in the same run: how many saves a writer makes per second when nobody kills it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.tools.durability import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="20 kills (CI)")
    args = parser.parse_args()
    kills = 20 if args.quick else args.kills
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        report = run(Path(home), kills, seed=11)
        elapsed = time.perf_counter() - start
    print(f"kills                      {report.kills}")
    print(f"saves acknowledged         {report.acknowledged}")
    print(f"acknowledged saves lost    {report.lost}")
    print(f"integrity_check failures   {report.integrity_failures}")
    print(f"time                       {elapsed:.1f} s")
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        calm = run(Path(home), 2 if args.quick else 5, seed=3, max_delay=2.0)
        rate = calm.acknowledged / (time.perf_counter() - start)
    print(f"baseline: saves/s with rare kills  {rate:.1f}")


if __name__ == "__main__":
    main()
