"""Benchmark: what encryption at rest costs, against the same work on a plain database.

Run: PYTHONPATH=. python tests/benchmarks/bench_encryption.py [--entries 20000] [--quick]
The baseline is the plain database, measured in the same run; ratios are printed.
Figures: opening (SQLCipher derives the key with PBKDF2, 256,000 rounds, on every open),
saving one entry (each a committed transaction, synchronous=FULL), searching, a backup,
and `encrypt` / `decrypt --in-place` of the whole database.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from companion import crypto
from companion.store import EntryDraft, Store

KEY = "a passphrase for the benchmark"
WORDS = [
    "tired",
    "calm",
    "anxious",
    "walk",
    "breathing",
    "friend",
    "rain",
    "steady",
    "noticed",
    "paused",
    "kinder",
    "lighter",
    "evening",
    "lighthouse",
]


def _median(fn: Callable[[], object], times: int) -> float:
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _fill(path: Path, entries: int, key: str | None) -> None:
    rng = random.Random(1)
    rows = [
        {
            "kind": "reflection",
            "source": "typed",
            "text": " ".join(rng.choices(WORDS, k=rng.randint(8, 40))),
            "created_at": "2026-01-01T10:00:00+00:00",
            "created_utc": "2026-01-01T10:00:00Z",
        }
        for _ in range(entries)
    ]
    with Store.open(path, key=key) as store:
        store.bulk_insert("entries", rows)


def _measure(folder: Path, entries: int, key: str | None) -> dict[str, float]:
    db = folder / "companion.db"
    _fill(db, entries, key)
    figures = {"open": _median(lambda: Store.open(db, key=key).close(), 5)}
    with Store.open(db, key=key) as store:
        figures["save one entry"] = _median(
            lambda: store.add_entry(EntryDraft("reflection", "a small step today")), 50
        )
        figures["search"] = _median(lambda: store.search("lighthouse calm"), 20)
        figures["backup"] = _median(lambda: store.backup(folder / "backup.db"), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--quick", action="store_true", help="500 entries (CI)")
    args = parser.parse_args()
    if args.quick:
        args.entries = 500
    with tempfile.TemporaryDirectory() as tmp:
        plain_dir, cipher_dir = Path(tmp, "plain"), Path(tmp, "cipher")
        plain_dir.mkdir()
        cipher_dir.mkdir()
        plain = _measure(plain_dir, args.entries, None)
        cipher = _measure(cipher_dir, args.entries, KEY)
        db = plain_dir / "companion.db"
        size = db.stat().st_size
        there = _median(lambda: crypto.convert_in_place(db, old_key=None, new_key=KEY), 1)
        back = _median(lambda: crypto.convert_in_place(db, old_key=KEY, new_key=None), 1)
    print(f"{args.entries} entries, database {size / 1e6:.1f} MB")
    print(f"{'':16}{'plain (baseline)':>18}{'encrypted':>12}{'ratio':>8}")
    for name, base in plain.items():
        print(
            f"{name:16}{base * 1000:>16.2f}ms{cipher[name] * 1000:>10.2f}ms"
            f"{cipher[name] / base:>7.1f}x"
        )
    print(f"encrypt in place {there:.2f} s; decrypt in place {back:.2f} s")


if __name__ == "__main__":
    main()
