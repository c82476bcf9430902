"""Benchmark: the crisis check's recall, false positives and speed, against the old flat list.

Run: PYTHONPATH=. python tests/benchmarks/bench_crisis.py [--quick]
Goals: recall >= 0.95 and false positives <= 0.02 on the labelled set; a saved entry is
checked in well under a millisecond; a 100 KB text in well under a second.
The baseline, measured in the same run, is the flat list of 28 phrases that config/crisis.toml
held before the matcher (whole words, a trailing "*" for any ending).

History of the untuned checks (each written fresh, run once, then used to generalise; the
last one, tests/data/crisis/untuned_*.txt, was never tuned on):
round 1: recall 0.55, false positives 0.026; round 2: 0.43, 0.025; round 3: 0.49, 0.020;
round 4: 0.80, 0.060; round 5: 0.90, 0.040; final: 0.90, 0.000.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for crisis_sets

from crisis_sets import FALSE_POSITIVE_GOAL, RECALL_GOAL, measure, read_set  # noqa: E402

from companion.crisis_match import Matcher  # noqa: E402
from companion.safety import load_crisis  # noqa: E402

BASELINE_PHRASES = (
    "suicid*", "kill myself", "killing myself", "end my life", "ending my life",
    "take my own life", "take my life", "want to die", "wanna die", "wish i was dead",
    "wish i were dead", "better off dead", "better off without me", "no reason to live",
    "nothing to live for", "don't want to be alive", "don't want to live",
    "don't want to be here anymore", "can't go on", "cannot go on", "end it all", "hurt myself",
    "hurting myself", "harm myself", "self harm*", "cut myself", "cutting myself", "overdos*",
    "자살*", "죽고 싶*", "죽고싶*", "살고 싶지 않*",
)


def _old_normalise(text: str) -> str:
    text = re.sub(r"['\u2018\u2019\u02bc`]", "", text.casefold())
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s*]", " ", text)).strip()


def baseline() -> Callable[[str], bool]:
    """The flat list as it was matched before: each phrase a whole-word regex."""
    patterns = []
    for phrase in BASELINE_PHRASES:
        words = _old_normalise(phrase).rstrip("*").split()
        tail = r"\w*" if phrase.endswith("*") else ""
        body = r"\s+".join(re.escape(w.replace("*", "")) for w in words)
        patterns.append(re.compile(rf"(?<!\w){body}{tail}(?!\w)"))
    return lambda text: any(p.search(_old_normalise(text)) for p in patterns)


def matcher() -> Callable[[str], bool]:
    m = Matcher(load_crisis().rules)
    return lambda text: m.find(text) is not None


def hundred_kb() -> str:
    """100 KB of ordinary journal text (the ordinary set, repeated), crisis-free."""
    text = " ".join(read_set("ordinary")) + " "
    return (text * (100_000 // len(text) + 1))[:100_000]


def timed(check: Callable[[str], bool], texts: list[str], repeat: int) -> float:
    """The median time, in seconds, to check every text in `texts` once."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            check(text)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def report(name: str, check: Callable[[str], bool], *, repeat: int) -> dict[str, float]:
    start = time.perf_counter()
    check("I went for a walk.")
    first = time.perf_counter() - start
    labelled = measure(check, read_set("crisis"), read_set("ordinary"))
    untuned = measure(check, read_set("untuned_crisis"), read_set("untuned_ordinary"))
    entries = read_set("crisis") + read_set("ordinary")
    per_entry = timed(check, entries, repeat) / len(entries)
    big = timed(check, [hundred_kb()], repeat)
    print(f"{name}\n  labelled set:  {labelled.line()}\n  untuned check: {untuned.line()}\n"
          f"  first check (reads and compiles the rules): {first * 1000:.0f} ms\n"
          f"  per entry: {per_entry * 1e6:.0f} us   100 KB text: {big * 1000:.0f} ms")
    return {"recall": labelled.recall, "fp": labelled.false_positive_rate,
            "entry": per_entry, "big": big}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timing run instead of five")
    args = parser.parse_args()
    repeat = 1 if args.quick else 5
    old = report("baseline: the old flat list of 28 phrases", baseline(), repeat=repeat)
    new = report("companion's crisis matcher", matcher(), repeat=repeat)
    print(f"ratios (matcher / baseline): per entry {new['entry'] / old['entry']:.1f}x, "
          f"100 KB {new['big'] / old['big']:.1f}x")
    ok = new["recall"] >= RECALL_GOAL and new["fp"] <= FALSE_POSITIVE_GOAL
    print(f"goal (recall >= {RECALL_GOAL}, false positives <= {FALSE_POSITIVE_GOAL}): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
