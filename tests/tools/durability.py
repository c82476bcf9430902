"""Kill a writing companion process with SIGKILL at random moments; check nothing is lost.

The writer runs real `companion` commands in one process (reflect, skill, checkin) and
prints "ok N" only after a command reported success. After each kill, every N printed
must be in the database, the database must pass integrity_check, and the next command
must work without repair.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WRITER = r"""
import contextlib, io, sys
from companion.cli import run_main
start = int(sys.argv[1])
for n in range(start, start + 100000):
    kind = n % 3
    args = (["reflect", f"durable-{n}"] if kind == 0 else
            ["skill", f"durable-{n}"] if kind == 1 else
            ["checkin", "--text", f"durable-{n}", "--mood", "3"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_main(args)
    if code != 0:
        sys.exit(code)
    print(f"ok {n}", flush=True)
"""


@dataclass
class Report:
    kills: int = 0
    acknowledged: int = 0
    lost: int = 0
    integrity_failures: int = 0


def _found(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        texts = {r[0] for r in conn.execute("SELECT text FROM entries")}
        return texts | {r[0] for r in conn.execute("SELECT skill FROM skill_uses")}
    finally:
        conn.close()


def run(home: Path, kills: int, *, seed: int = 7, max_delay: float = 0.25) -> Report:
    rng = random.Random(seed)
    env = {**os.environ, "COMPANION_HOME": str(home)}
    report, acked, next_n = Report(), set(), 0
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(next_n)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(rng.uniform(0.05, max_delay + 0.15))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        done = [int(line.split()[1]) for line in out.splitlines() if line.startswith("ok ")]
        acked |= {f"durable-{n}" for n in done}
        next_n = (max(done) + 1 if done else next_n) + 1000
        report.kills += 1
    try:
        found = _found(home / "companion.db")
    except AssertionError:
        report.integrity_failures += 1
        found = set()
    report.acknowledged = len(acked)
    report.lost = len(acked - found)
    return report
