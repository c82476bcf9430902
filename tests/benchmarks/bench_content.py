"""What choosing a prompt or phrase costs: choose + record, with years of history in the
database, next to the one write that recording needs anyway (a bare content_uses insert),
measured in the same run.

    PYTHONPATH=. python tests/benchmarks/bench_content.py [--quick] [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from companion import content
from companion.store import Store


def timed(action: Callable[[], object], runs: int) -> float:
    """Median milliseconds of `action`."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def seed_history(store: Store, days: int) -> None:
    """A daily check-in, a phrase and a weekly note, for `days` days."""
    for day in range(days):
        content.record(store, content.choose_prompt(store, ""))
        content.record(store, content.choose_phrase(store, "hard-day"))
        if day % 7 == 0:
            content.record(store, content.choose_prompt(store, "weekly-review"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="less history, fewer runs")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    days, runs = (90, 30) if args.quick else (3 * 365, args.runs)
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "c.db") as store:
        seed_history(store, days)
        base = timed(lambda: store.record_use("bench", "key"), runs)
        figures = {
            "bare content_uses insert (baseline)": base,
            "prompt, any area: choose + record": timed(
                lambda: content.record(store, content.choose_prompt(store, "")), runs
            ),
            "prompt, one area: choose + record": timed(
                lambda: content.record(store, content.choose_prompt(store, "awareness")), runs
            ),
            "phrase, hard-day: choose + record": timed(
                lambda: content.record(store, content.choose_phrase(store, "hard-day")), runs
            ),
            "weekly: choose only": timed(
                lambda: content.choose_prompt(store, "weekly-review"), runs
            ),
        }
    print(f"history: {days} days of check-ins and phrases; median of {runs} runs")
    for name, ms in figures.items():
        print(f"  {name:40s} {ms:7.2f} ms  x{ms / base:5.1f}")


if __name__ == "__main__":
    main()
