"""Benchmark: calendar import, `session list` and `brief` with thousands of repeating
sessions, against the expansion companion used before (recurring-ical-events over every
series, a year back and ahead), measured in the same run.

Run: python tests/benchmarks/bench_sessions.py [--series 3000] [--quick]
Goals (issue 15): with 3,000 daily series, `session list` and `brief` each under 1 s and
the import fast; a FREQ=SECONDLY series without an end imports and lists at once.
The baseline walks every series, so it is measured on --baseline-series of them
(300 by default, 50 with --quick) and its time per series is scaled up for the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any


def calendar(series: int, *, since: datetime) -> str:
    """`series` events that repeat daily from `since`, and one that repeats every second."""
    day = f"{since:%Y%m%d}"
    events = [
        f"BEGIN:VEVENT\r\nUID:daily-{i}@bench\r\nDTSTAMP:{day}T000000Z\r\n"
        f"DTSTART:{day}T{8 + i % 10:02d}0000Z\r\nRRULE:FREQ=DAILY\r\n"
        f"SUMMARY:Session {i}\r\nEND:VEVENT\r\n"
        for i in range(series)
    ]
    events.append(
        f"BEGIN:VEVENT\r\nUID:every-second@bench\r\nDTSTAMP:{day}T000000Z\r\n"
        f"DTSTART:{day}T120000Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:Odd\r\nEND:VEVENT\r\n"
    )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


def timed_command(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and CPU time (s) of `companion ARGS` as its own process (the CPU
    time says what the machine's other work adds to the wall time)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "companion", *args], env=env, check=True, capture_output=True
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def old_expansion(rows: list[dict[str, Any]], start: datetime, end: datetime) -> int:
    """What `session list` did before: one calendar of every series, expanded whole."""
    import icalendar
    import recurring_ical_events

    cal = icalendar.Calendar()
    for row in rows:
        event = icalendar.Event()
        event.add("uid", str(row["id"]))
        event.add("dtstart", datetime.fromisoformat(row["starts_at"]))
        event.add("rrule", icalendar.vRecur.from_ical(row["rrule"]))
        cal.add_component(event)
    return len(recurring_ical_events.of(cal).between(start, end))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=3000)
    parser.add_argument("--baseline-series", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer series and runs")
    args = parser.parse_args()
    series = 600 if args.quick else args.series
    base_n = args.baseline_series or (50 if args.quick else 300)
    runs = 1 if args.quick else args.runs
    now = datetime.now().astimezone()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        env = {**os.environ, "COMPANION_HOME": str(home)}
        ics = Path(folder) / "many.ics"
        ics.write_text(calendar(series, since=now - timedelta(days=400)))
        imported = timed_command(["session", "import", str(ics)], env, 1)
        listing = timed_command(["session", "list"], env, runs)
        brief = timed_command(["brief"], env, runs)
        bare = timed_command(["--version"], env, runs)
        from companion.store import Store

        with Store.open(home / "companion.db") as store:
            rows = [r for r in store.rows("sessions") if "FREQ=DAILY" in r["rrule"]][:base_n]
        start = time.perf_counter()
        count = old_expansion(rows, now - timedelta(days=90), now + timedelta(days=366))
        per_series = (time.perf_counter() - start) / len(rows)
    old_list = per_series * series
    print(f"{series:,} daily series (each begun 400 days ago) and one FREQ=SECONDLY series")
    print("                                   wall      cpu")
    for label, (wall, cpu), goal in (
        ("companion --version (start-up)", bare, ""),
        ("session import", imported, ""),
        ("session list", listing, "  (goal < 1 s)"),
        ("brief", brief, "  (goal < 1 s)"),
    ):
        print(f"{label:<32} {wall:6.2f} s {cpu:6.2f} s{goal}")
    print(
        f"baseline: the old expansion      {old_list:6.2f} s  for {series:,} series "
        f"(measured on {len(rows)}: {count:,} dates, {per_series * 1000:.1f} ms a series)"
    )
    print(f"ratio session list / baseline    {listing[0] / old_list:6.3f}x")


if __name__ == "__main__":
    main()
