"""Kill a writing companion process with SIGKILL at random moments; check nothing is lost.

The writer runs real `companion` commands in one process (reflect, skill, checkin) and
prints "ok N" only after a command reported success. After each kill, every N printed
must be in the database, the database must pass integrity_check, and the next command
must work without repair.

Writers are forked from a zygote that has imported companion once (and never opened the
database), so each kill lands while the writer is saving, not while Python starts: the
run does the same real work on a loaded machine as on an idle one, in a fraction of the
time.
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

ZYGOTE = r"""
import contextlib, io, os, sys
from companion.cli import run_main
# What a save imports, imported once here (no database is opened before the fork).
import companion.crypto, companion.journal, companion.dates, companion.safety  # noqa

def write(start):
    for n in range(start, start + 100000):
        kind = n % 3
        args = (["reflect", f"durable-{n}"] if kind == 0 else
                ["skill", f"durable-{n}"] if kind == 1 else
                ["checkin", "--text", f"durable-{n}", "--mood", "3"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = run_main(args)
        if code != 0:
            os._exit(code)
        sys.stdout.write(f"ok {n}\n")
        sys.stdout.flush()
    os._exit(0)

print("ready", flush=True)
for line in sys.stdin:
    start = int(line)
    pid = os.fork()
    if pid == 0:
        write(start)
    print(f"pid {pid}", flush=True)
    os.waitpid(pid, 0)
    print("done", flush=True)
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


class _Zygote:
    """The process that forks writers on demand."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the writer zygote died"
        return line.strip()

    def kill_one(self, start: int, delay: float, *, after_first: bool = False) -> list[int]:
        """Start a writer at `start` and SIGKILL it `delay` seconds later (counted from its
        first acknowledged save, with `after_first`); returns its acknowledged N."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{start}\n")
        self.proc.stdin.flush()
        done: list[int] = []
        pid = None
        while pid is None or (after_first and not done):
            line = self._line()
            if line.startswith("pid "):
                pid = int(line.split()[1])
            elif line.startswith("ok "):
                done.append(int(line.split()[1]))
            elif line == "done":  # the writer stopped by itself
                return done
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        while (line := self._line()) != "done":
            if line.startswith("ok "):
                done.append(int(line.split()[1]))
        return done

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def run(home: Path, kills: int, *, seed: int = 7, max_delay: float = 0.25) -> Report:
    rng = random.Random(seed)
    env = {**os.environ, "COMPANION_HOME": str(home)}
    report, acked, next_n = Report(), set(), 0
    zygote = _Zygote(env)
    try:
        for _ in range(kills):
            # Every other writer dies only after a save went through, so the run does
            # real work however loaded the machine is; the rest die at any moment,
            # opening the database included.
            done = zygote.kill_one(
                next_n, rng.uniform(0.0, max_delay), after_first=report.kills % 2 == 1
            )
            acked |= {f"durable-{n}" for n in done}
            next_n = (max(done) + 1 if done else next_n) + 1000
            report.kills += 1
    finally:
        zygote.close()
    try:
        found = _found(home / "companion.db")
    except AssertionError:
        report.integrity_failures += 1
        found = set()
    report.acknowledged = len(acked)
    report.lost = len(acked - found)
    return report
