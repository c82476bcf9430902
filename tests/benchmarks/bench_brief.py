"""Benchmark: the session brief and search over a ten-year history (about 18,000 entries).

Run: PYTHONPATH=. python tests/benchmarks/bench_brief.py [--years 10] [--runs 7] [--quick]

As commands (issue 14): `companion search WORD` at most 40 ms beyond `companion --version`
and `companion brief` at most 150 ms beyond it, each measured as a whole process in the
same run as `--version` (the baseline: starting companion at all). In process (where the
rest of the time goes): the brief for one session span renders in < 300 ms;
store.search answers in < 20 ms; jrnl (from PyPI) searching the same entries, exported as
a jrnl journal, is a second baseline.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

from companion import brief, sessions  # noqa: E402
from companion.brief_text import render  # noqa: E402
from companion.clock import FixedClock  # noqa: E402
from companion.config import load_settings  # noqa: E402
from companion.safety import check_text, load_crisis  # noqa: E402
from companion.store import Store, stamp  # noqa: E402

WORDS = [
    "tired",
    "calm",
    "anxious",
    "walk",
    "breathing",
    "friend",
    "sister",
    "work",
    "deadline",
    "evening",
    "morning",
    "rain",
    "coffee",
    "music",
    "noticed",
    "paused",
    "boundary",
    "kinder",
    "steady",
    "heavy",
    "lighter",
    "talked",
    "shift",
]
SKILLS = ("box breathing", "walk outside", "cold water", "grounding", "journaling", "call a friend")
NEEDLE = "lighthouse"  # a rare word: about one entry in 200


def _text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 40))
    if rng.random() < 0.005:
        words.insert(rng.randrange(len(words)), NEEDLE)
    return " ".join(words).capitalize() + "."


def _stamped(when: datetime) -> dict[str, str]:
    local, utc = stamp(when)
    return {"created_at": local, "created_utc": utc}


def generate(store: Store, now: datetime, *, years: int, seed: int = 7) -> list[dict[str, Any]]:
    """About 18,000 entries, 50,000 skill uses and 5,000 tough moments over `years` years."""
    rng, start = random.Random(seed), now - timedelta(days=365 * years)
    span = (now - start).total_seconds()
    scale = years / 10

    def when() -> datetime:
        return start + timedelta(seconds=rng.random() * span)

    kinds = ("reflection", "checkin", "checkin", "weekly", "win", "friend")
    entries = [
        {
            "kind": rng.choice(kinds),
            "text": _text(rng),
            "source": "typed",
            "mood": rng.randint(1, 5),
            "bring": int(rng.random() < 0.02),
            "area": rng.choice(("awareness", "regulation", "choices", None)),
            "tags": "[]",
            **_stamped(when()),
        }
        for _ in range(int(18_000 * scale))
    ]
    uses = [
        {"skill": rng.choice(SKILLS), "helped": rng.randint(0, 10), **_stamped(when())}
        for _ in range(int(50_000 * scale))
    ]
    moments = []
    for _ in range(int(5_000 * scale)):
        minutes = round(rng.uniform(3, 60), 1)
        moments.append(
            {"intensity": rng.randint(3, 9), "steady_minutes": minutes, **_stamped(when())}
        )
    for table, rows in (("entries", entries), ("skill_uses", uses), ("moments", moments)):
        store.bulk_insert(table, sorted(rows, key=lambda r: r["created_utc"]))
    for name in ("mind reading", "all or nothing", "people pleasing"):
        store.add_pattern(name)
    notices = [
        {"pattern_id": rng.randint(1, 3), "responded": rng.randint(0, 1), **_stamped(when())}
        for _ in range(int(3_000 * scale))
    ]
    store.bulk_insert("pattern_notices", notices)
    sessions.add_session(
        store, now - timedelta(days=365 * years - 1), every_days=7, title="Weekly session"
    )
    return entries


def timed(func: Any, runs: int) -> tuple[float, float]:
    """(first run, median of the rest) in milliseconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return times[0], statistics.median(times[1:] or times)


def export_jrnl(entries: list[dict[str, Any]], folder: Path) -> Path:
    """The same entries as a plain jrnl journal, and a jrnl config that points at it."""
    journal = folder / "journal.txt"
    with journal.open("w", encoding="utf-8") as fh:
        for e in entries:
            stamp_text = datetime.fromisoformat(e["created_at"]).strftime("%Y-%m-%d %H:%M")
            fh.write(f"[{stamp_text}] {e['text']}\n\n")
    config = folder / "jrnl.yaml"
    config.write_text(
        "colors: {body: none, date: none, tags: none, title: none}\ndefault_hour: 9\n"
        "default_minute: 0\neditor: ''\nencrypt: false\nhighlight: false\n"
        "indent_character: '|'\njournals:\n  default:\n"
        f"    journal: {journal}\nlinewrap: 79\ntagsymbols: '#@'\ntemplate: false\n"
        "timeformat: '%Y-%m-%d %H:%M'\nversion: v4.6\n",
        encoding="utf-8",
    )
    return config


def run_cli(args: list[str], runs: int) -> float:
    """Median wall time of a command line, in milliseconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, timeout=300)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


VERSION = "companion --version (baseline)"
# What a person runs, and how far beyond the baseline each may go (ms).
COMMANDS = {
    f"companion search {NEEDLE}": (["search", NEEDLE], 40.0),
    "companion brief": (["brief"], 150.0),
    "companion search sister deadline (common words)": (["search", "sister", "deadline"], None),
}


def main() -> None:
    parser = benchlib.options(__doc__, runs=7, quick_runs=2)
    parser.add_argument("--years", type=int, default=None, help="history (default 10; 1 quick)")
    args = benchlib.parse(parser)
    years = args.years or (1 if args.quick else 10)
    benchlib.compile_bytecode()
    folder = Path(tempfile.mkdtemp(prefix="bench-brief-"))
    try:
        report(folder, years, args.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(folder: Path, years: int, runs: int) -> None:
    now = datetime.now().astimezone().replace(microsecond=0)
    store = Store.open(folder / "companion.db", clock=FixedClock(now))
    t0 = time.perf_counter()
    entries = generate(store, now, years=years)
    print(
        f"generated {len(entries):,} entries, {len(store.rows('skill_uses')):,} skill uses, "
        f"{len(store.rows('moments')):,} tough moments in {time.perf_counter() - t0:.1f} s"
    )
    span = brief.resolve_span(store, "last-session", now)
    settings, table = load_settings(None), load_crisis()  # as `companion brief` runs it
    options = brief.Options(crisis=lambda text: check_text(text, settings, table=table))
    for fmt in ("md", "html", "json"):
        first, warm = timed(
            lambda f=fmt: render(brief.build(store, span, now=now, options=options), f), runs + 1
        )
        print(
            f"in process: brief ({span.label}, {fmt}): first {first:.0f} ms, then median "
            f"{warm:.1f} ms (goal < 300 ms)"
        )
    first, warm = timed(lambda: store.search(NEEDLE), runs + 1)
    hits = len(store.search(NEEDLE))
    print(
        f"in process: store.search({NEEDLE!r}): {hits} hits, first {first:.1f} ms, median "
        f"{warm:.2f} ms (goal < 20 ms)"
    )
    first, common = timed(lambda: store.search("sister deadline"), runs + 1)
    print(
        f"in process: store.search('sister deadline'): median {common:.1f} ms "
        f"({len(store.search('sister deadline')):,} hits)"
    )
    store.close()
    commands(folder, runs)
    compare_jrnl(folder, entries, runs, warm)


def commands(home: Path, runs: int) -> None:
    """Each command as its own process over the history, next to `--version`."""
    env = benchlib.env_with(COMPANION_HOME=str(home))
    cases = {VERSION: benchlib.companion_argv("--version")}
    cases |= {name: benchlib.companion_argv(*argv) for name, (argv, _) in COMMANDS.items()}
    figures = benchlib.interleaved(
        {name: (lambda a=argv: benchlib.wall_ms(a, env)) for name, argv in cases.items()}, runs
    )
    base = benchlib.median(figures[VERSION])
    print("as commands (whole processes, output to a pipe)")
    for name, values in figures.items():
        beyond = "" if name == VERSION else f"  {benchlib.median(values) - base:+.1f} ms beyond"
        print(benchlib.line(name, values, baseline=figures[VERSION]) + beyond)
    for name, (_, goal) in COMMANDS.items():
        if goal is not None:
            print(
                benchlib.verdict(
                    f"{name}, beyond --version", benchlib.median(figures[name]) - base, goal
                )
            )


def compare_jrnl(folder: Path, entries: list[dict[str, Any]], runs: int, ours: float) -> None:
    jrnl = shutil.which("jrnl") or str(Path(sys.executable).with_name("jrnl"))
    if not Path(jrnl).exists():
        print("jrnl is not installed (pip install jrnl): no baseline this run")
        return
    config = export_jrnl(entries, folder)
    theirs = run_cli([jrnl, "--config-file", str(config), "-contains", NEEDLE], max(1, runs // 2))
    code = (
        "import sys; from pathlib import Path; from companion.store import Store; "
        f"s = Store.open(Path({str(folder / 'companion.db')!r})); "
        f"print(len(s.search({NEEDLE!r})))"
    )
    ours_cli = run_cli([sys.executable, "-c", code], max(1, runs // 2))
    print(f"jrnl -contains {NEEDLE!r} (a new process): median {theirs:.0f} ms")
    print(
        f"companion search in a new process: median {ours_cli:.0f} ms "
        f"-> jrnl takes {theirs / ours_cli:.1f}x as long"
    )
    print(f"in-process store.search vs jrnl: {theirs / ours:.0f}x")


if __name__ == "__main__":
    main()
