"""Benchmark: the crisis check's recall, false positives and speed, against baselines.

Run: PYTHONPATH=. python tests/benchmarks/bench_crisis.py [--quick]
Goals: recall >= 0.95 and false positives <= 0.02 on the checks the patterns were tuned on
(labelled, fresh, probe); the first check in a new process about 20 ms at most; a 100 KB
text about 50 ms at most. Baselines measured in the same run: the flat list of 28 phrases
config/crisis.toml held before the matcher, and the matcher reading its rules afresh in
every process (as it did before the compiled rules were kept).

History of the checks never tuned on (each written fresh and measured once before any
change; after that, all but the last of each writer were used to generalise the patterns):
first writer, rounds 1-5: recall 0.55, 0.43, 0.49, 0.80, 0.90 (false positives 0.026, 0.025,
0.020, 0.060, 0.040); its last check (untuned_*.txt): 0.90, 0.000 (two of its lines, word
for word in the tuned labelled set, were later taken out).
Second writer, round 6 (fresh_*.txt, written before reading the patterns): recall 0.832
(164/197), false positives 0.064 (11/172); 0.799 and 0.067 without the lines that were word
for word in earlier checks. Round 7 (probe_*.txt, written after reading them): 0.801, 0.080;
round 8: about 0.70, 0.06; round 9 (plain statements): 0.933, 0.020.
Second writer's last check (final_*.txt, written after the patterns were frozen, measured
once): recall 0.783 (47/60), false positives 0.067 (4/60) - below the goal. Two of its
crisis lines turned out to be word for word in earlier checks and were taken out afterwards:
0.776 (45/58) without them. It is measured again below. The misses of untuned_*.txt were
visible to the second writer while working, so its figure now is no longer a clean untuned
one.
Third writer's blind check (blind_*.txt, written before reading the other sets, measured
once): recall 0.767 (46/60), false positives 0.033 (2/60); 0.725 (37/51) and 0.037 (2/54)
without the 15 lines word for word in earlier checks. A word and letter-run classifier beside
the patterns (tests/tools/train_crisis_model.py) gained nothing there or on final and was not
shipped.
Round 10 (crisis-net): the rules were widened by families of meaning (a means, a place or a
time said with the intent: the "~" sentence window; self-harm in everyday words; burden and
passive wishes; other languages; speech transcripts), and talk about someone else's crisis is
set aside. Before: untuned 0.947/0.000, final 0.776/0.067, blind 0.725/0.037 (all three read
while working, so no longer clean); after: 1.000/0.000 on each. Seven small checks the same
writer wrote fresh, each measured once before being used (recall, false positives; the rules
of that moment, then the rules before round 10): the first two written before any change,
0.47/0.07 and 0.70/0.10; then 0.48/0.05 (0.45/0.08), 0.33/0.07 (0.33/0.03), 0.53/0.10
(0.50/0.10), 0.53/0.10 (0.48/0.08), 0.25/0.08 (0.20/0.12); they were written to be hard
(oblique wording, ordinary look-alikes), and show how little of a fresh writer's wording any
list foresees. The eighth,
heldout_*.txt, written last and never tuned on: recall 0.575 (23/40), false positives 0.150
(6/40); 0.525 and 0.150 with the rules before round 10.

A fresh writer's check of young adults texting (w1_*.txt), measured once with the patterns
alone: recall 0.530 (106/200), false positives 0.040 (8/200). The concept stage
(companion/crisis_concepts.py) was then written with it, and with the misses of every check
here, in view: with it, recall 1.000 on w1, 1.000 on final and blind (no longer untuned
figures). A block of variants written after its rules and measured once before changing them
(the second block at the end of crisis.txt): patterns 0.436, with concepts 0.582, 1 false
positive of 44 from the concepts. The concept stage's goals: about 2 ms added to the first
check in a new process, about 10 ms on 100 KB (see the figures printed: it is slower).

Rounds 11-12 (issue 13, second session): twelve more independent writers (w2-w13), each from
a short brief only, measured once before anything was tuned on them: recall 0.25-0.76,
false positives 0.003-0.035 with the rules of that moment (each file's first lines). Ten
(w2-w7, w10-w13) were then used to widen the patterns and concepts by family and to train
the learnt model (companion/crisis_model.py; tests/tools/train_crisis_model.py); two (w8,
w9) were held out from everything and measured once at the end: recall 0.584 -> 0.904 and
0.512 -> 0.860, false positives 0.005 -> 0.025 and 0.035 -> 0.028 (all their lines; the
files keep only those not word for word in earlier checks). Leave-one-writer-out (the model
never saw that writer): recall 0.775 -> ~0.89 at ~0.01 false positives added.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for crisis_sets

from crisis_sets import CHECKS, HELD_OUT, TUNED, Figures, measure, read_check, read_set  # noqa: E402

from companion import crisis_concepts  # noqa: E402
from companion.crisis_match import Matcher  # noqa: E402
from companion.safety import find_crisis, load_compiled, load_crisis  # noqa: E402

FINAL = "recall 0.783 (47/60), false positives 0.067 (4/60)"

BASELINE_PHRASES = (
    "suicid*",
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "take my own life",
    "take my life",
    "want to die",
    "wanna die",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "better off without me",
    "no reason to live",
    "nothing to live for",
    "don't want to be alive",
    "don't want to live",
    "don't want to be here anymore",
    "can't go on",
    "cannot go on",
    "end it all",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "self harm*",
    "cut myself",
    "cutting myself",
    "overdos*",
    "자살*",
    "죽고 싶*",
    "죽고싶*",
    "살고 싶지 않*",
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


def concepts_alone() -> Callable[[str], bool]:
    c = crisis_concepts.load()
    return lambda text: c.find(text) is not None


def whole_check() -> Callable[[str], bool]:
    """safety.find_crisis: the patterns, the concepts, then the learnt model."""
    return lambda text: find_crisis(text) is not None


def patterns_then_concepts() -> Callable[[str], bool]:
    """What safety.find_crisis does: the patterns, and the concepts where they find none."""
    m, c = Matcher(load_crisis().rules), crisis_concepts.load()
    return lambda text: m.find(text) is not None or c.find(text) is not None


@functools.lru_cache(maxsize=1)
def hundred_kb() -> str:
    """100 KB of ordinary journal text (the first ordinary set, repeated), crisis-free: the
    few entries the check flags wrongly are left out."""
    check = patterns_then_concepts()
    text = " ".join(line for line in read_set("ordinary") if not check(line)) + " "
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


# What each report reads: every check (--quick: the tuned ones, and every twentieth line for
# the time per entry, so that CI proves the benchmark runs without a minute of it).
SHOWN: dict[str, tuple[str, ...]] = {"checks": CHECKS}
EVERY = {"nth": 1}


def figures(check: Callable[[str], bool]) -> dict[str, Figures]:
    figs = {name: measure(check, *read_check(name)) for name in SHOWN["checks"]}
    figs["all tuned"] = Figures.together([figs[name] for name in TUNED])
    return figs


def report(name: str, check: Callable[[str], bool], *, repeat: int) -> dict[str, float]:
    figs = figures(check)
    print(name)
    for check_name, fig in figs.items():
        print(f"  {check_name + ':':11} {fig.line()}")
    entries = [line for n in CHECKS for part in read_check(n) for line in part][:: EVERY["nth"]]
    per_entry = timed(check, entries, repeat) / len(entries)
    big = timed(check, [hundred_kb()], repeat)
    print(
        f"  per entry: {per_entry * 1e6:.0f} us   100 KB text, checked again: {big * 1000:.0f} ms"
    )
    return {
        "ok": all(figs[n].meets_goal for n in (*TUNED, "all tuned")),
        "entry": per_entry,
        "big": big,
    }


# ---------------------------------------------------------------- a new process
# Each probe runs in a fresh interpreter and prints milliseconds as JSON.
_PROBE = r"""
import json, sys, time
start = time.perf_counter()
if sys.argv[1] == "without_concepts":  # the whole check less the concept stage
    import types
    stub = types.ModuleType("companion.crisis_concepts")
    stub.find_concept = lambda text: None
    sys.modules["companion.crisis_concepts"] = stub
import companion.safety as safety
from companion.crisis_match import Matcher
imported = time.perf_counter()
text = sys.stdin.read()
if sys.argv[1] == "afresh":
    m = Matcher(safety.load_crisis().rules)
    check = m.find
elif sys.argv[1] == "patterns":
    def check(text):
        table = safety.load_compiled()
        return Matcher(table.rules, compiled=table.compiled).find(text)
else:
    check = safety.find_crisis
ready = time.perf_counter()
check(text)
done = time.perf_counter()
print(json.dumps({"import": (imported - start) * 1000, "check": (done - ready) * 1000}))
"""


def _env(home: str) -> dict[str, str]:
    """The environment of a measured process: its own home, and Python's compiled modules
    kept (as an installed companion has them; PYTHONDONTWRITEBYTECODE would have every
    process compile the modules changed since they were last kept, ~8 ms for the concepts)."""
    env = {**os.environ, "COMPANION_HOME": home}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def in_new_process(mode: str, text: str, home: str) -> dict[str, float]:
    env = _env(home)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        input=text,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def concept_stage_cost(entry: str, home: str, *, pairs: int) -> float:
    """What the concept stage adds to a new process's first check of `entry` (importing
    it, reading its kept form, the check): the median difference of runs with it and
    without it, taken in turn (a busy machine drifts; pairs side by side drift together)."""
    differences = []
    for _ in range(pairs):
        whole = in_new_process("kept", entry, home)
        without = in_new_process("without_concepts", entry, home)
        total = whole["import"] + whole["check"] - without["import"] - without["check"]
        differences.append(total)
    return statistics.median(differences)


def wall_ms(args: list[str], home: str, repeat: int) -> float:
    env = _env(home)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True, timeout=300)
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def processes(repeat: int) -> None:
    """The first check in a new process, and `companion reflect` as a whole."""
    entry, big = "I went for a walk and felt a bit better.", hundred_kb()
    with tempfile.TemporaryDirectory() as home:
        start = time.perf_counter()
        load_compiled(cache=Path(home) / "crisis-rules.cache")
        build = (time.perf_counter() - start) * 1000
        crisis_concepts.load_compiled(cache=Path(home) / crisis_concepts.CACHE_NAME)
        afresh = [in_new_process("afresh", entry, home) for _ in range(repeat)]
        patterns = [in_new_process("patterns", entry, home) for _ in range(repeat)]
        kept = [in_new_process("kept", entry, home) for _ in range(repeat)]
        patterns_big = [in_new_process("patterns", big, home) for _ in range(repeat)]
        afresh_big = [in_new_process("afresh", big, home) for _ in range(repeat)]
        kept_big = [in_new_process("kept", big, home) for _ in range(repeat)]
        concept_cost = concept_stage_cost(entry, home, pairs=8 * repeat)
        print(
            "the first check in a new process (median of "
            f"{repeat}; importing companion.safety: {median_of(kept, 'import'):.0f} ms)"
        )
        print(
            f"  rules read afresh (before): {median_of(afresh, 'check'):6.1f} ms   "
            f"compiled rules kept: {median_of(kept, 'check'):6.1f} ms   "
            f"({median_of(afresh, 'check') / median_of(kept, 'check'):.0f}x)"
        )
        print(
            f"  a 100 KB text first: afresh {median_of(afresh_big, 'check'):6.0f} ms   "
            f"kept: {median_of(kept_big, 'check'):6.0f} ms"
        )
        print(
            "  concepts and the learnt model (the whole check less the patterns alone): "
            f"first check {median_of(kept, 'check') - median_of(patterns, 'check'):+.1f} ms "
            f"(patterns alone {median_of(patterns, 'check'):.1f} ms), a 100 KB text first "
            f"{median_of(kept_big, 'check') - median_of(patterns_big, 'check'):+.0f} ms"
        )
        print(
            "  the concept stage's cost in a new process (importing it, reading its kept form, "
            f"the first check of a short entry): {concept_cost:+.2f} ms (median of {8 * repeat} "
            "paired runs; goal at most 1 ms)"
        )
        size = os.path.getsize(Path(home) / "crisis-rules.cache") / 1e6
        print(
            f"  compiling and keeping the rules (once per rules file, companion and Python): "
            f"{build:.0f} ms; the file: {size:.1f} MB"
        )
        click = wall_ms([sys.executable, "-c", "import click"], home, repeat)
        reflect = wall_ms(
            [sys.executable, "-m", "companion", "reflect", "a calm walk"], home, repeat
        )
        print(
            f'  `companion reflect "a calm walk"`: {reflect:.0f} ms, '
            f'{reflect / click:.1f}x `python -c "import click"` ({click:.0f} ms)'
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing runs")
    args = parser.parse_args()
    repeat = 1 if args.quick else 5
    if args.quick:
        SHOWN["checks"], EVERY["nth"] = TUNED, 20
    old = report("baseline: the old flat list of 28 phrases", baseline(), repeat=repeat)
    patterns = report("companion's crisis patterns alone", matcher(), repeat=repeat)
    concepts = report("the concept stage alone", concepts_alone(), repeat=repeat)
    rules = report("the rules: patterns, then concepts", patterns_then_concepts(), repeat=repeat)
    new = report(
        "companion's crisis check: the rules, then the learnt model "
        f"(held out: {', '.join(HELD_OUT)})",
        whole_check(),
        repeat=repeat,
    )
    print(
        f"ratios (check / baseline): per entry {new['entry'] / old['entry']:.1f}x, "
        f"100 KB {new['big'] / old['big']:.1f}x; the concept stage alone on 100 KB: "
        f"{concepts['big'] * 1000:.0f} ms ({concepts['big'] / patterns['big']:.2f}x the patterns); "
        f"the learnt model on 100 KB: {(new['big'] - rules['big']) * 1000:.0f} ms"
    )
    processes(1 if args.quick else 7)
    print(f"the second writer's last check, as first measured: {FINAL}")
    print(
        f"goal on the tuned checks (recall >= 0.95, false positives <= 0.02): "
        f"{'met' if new['ok'] else 'NOT met'}"
    )
    return 0 if new["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
