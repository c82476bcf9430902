import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.clock import FixedClock
from companion.errors import InputError, NotFoundError, StoreError
from companion.store import EntryDraft, Store

NY = ZoneInfo("America/New_York")


def test_pragmas_and_schema(store: Store) -> None:
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    tables = set(store.db.table_names())
    assert {
        "entries",
        "skill_uses",
        "moments",
        "patterns",
        "pattern_notices",
        "sessions",
        "deliveries",
        "phrases",
        "entries_fts",
        "_sqlite_migrations",
    } <= tables


def test_timestamps_keep_their_utc_offset(home: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 8, 1, 30, tzinfo=NY))
    with Store.open(home / "c.db", clock=clock) as s:
        before = s.add_entry(EntryDraft("reflection", "before the change"))
        clock.advance(3600)
        after = s.add_entry(EntryDraft("reflection", "after the change"))
    assert before["created_at"].endswith("-05:00")
    assert after["created_at"].endswith("-04:00")
    assert after["created_utc"] == "2026-03-08T07:30:00Z"


def test_nul_bytes_and_mixed_scripts_are_stored_and_found_exactly(store: Store) -> None:
    text = "morning\x00 walk 😊 오늘은 괜찮았다 — Ça va, نعم"
    saved = store.add_entry(EntryDraft("reflection", text))
    assert store.get("entry", saved["id"])["text"] == text
    for query in ("😊", "괜찮", "Ça va", "نعم", "walk"):
        assert [h["id"] for h in store.search(query)] == [saved["id"]], query


def test_search_needs_every_word_and_covers_all_free_text(store: Store) -> None:
    store.add_entry(EntryDraft("reflection", "argument with my sister, then a walk"))
    store.add_entry(EntryDraft("reflection", "a quiet walk alone"))
    store.add_skill_use("grounding", note="after the argument")
    store.add_moment(6, note="sister called")
    assert len(store.search("walk")) == 2
    assert len(store.search("walk sister")) == 1
    assert {h["record"] for h in store.search("argument")} == {"entry", "skill"}
    assert [h["record"] for h in store.search("called")] == ["moment"]
    assert len(store.search("a")) >= 2  # short words are found too
    assert len(store.search("walk", limit=1)) == 1


def test_huge_text_is_accepted_up_to_the_limit(home: Path) -> None:
    with Store.open(home / "c.db", max_text_chars=3_000_000) as s:
        big = "word " * 400_000  # 2 MB
        row = s.add_entry(EntryDraft("reflection", big))
        assert len(s.get("entry", row["id"])["text"]) == len(big)
        with pytest.raises(InputError, match="limit"):
            s.add_entry(EntryDraft("reflection", "x" * 3_000_001))


def test_moment_steady_measures_minutes(home: Path) -> None:
    clock = FixedClock(datetime(2026, 5, 1, 10, tzinfo=NY))
    with Store.open(home / "c.db", clock=clock) as s:
        s.add_moment(8, note="panic")
        clock.advance(25 * 60)
        assert s.moment_steady()["steady_minutes"] == 25
        with pytest.raises(NotFoundError):
            s.moment_steady()


def test_delivery_is_claimed_once(store: Store) -> None:
    due = datetime(2026, 5, 1, 20, tzinfo=NY)
    assert store.claim_delivery("evening", due) is not None
    assert store.claim_delivery("evening", due) is None
    assert store.claim_delivery("evening", due + timedelta(days=1)) is not None


def test_not_a_database_is_a_clear_error_and_untouched(home: Path) -> None:
    home.mkdir(parents=True)
    bad = home / "c.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    before = bad.read_bytes()
    with pytest.raises(StoreError, match="not a readable companion database"):
        Store.open(bad)
    assert bad.read_bytes() == before


def test_newer_schema_is_refused(home: Path) -> None:
    with Store.open(home / "c.db") as s:
        s.db["_sqlite_migrations"].insert(
            {"migration_set": "companion", "name": "0099_future", "applied_at": "2030"}
        )
    with pytest.raises(StoreError, match="newer version"):
        Store.open(home / "c.db")


def test_locked_database_waits_then_says_so(home: Path) -> None:
    Store.open(home / "c.db").close()
    holder = sqlite3.connect(home / "c.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with (
            Store.open(home / "c.db", busy_timeout=0.2) as s,
            pytest.raises(StoreError, match="busy"),
        ):
            s.add_entry(EntryDraft("reflection", "waiting"))
    except StoreError as exc:  # opening itself may be what waits
        assert "busy" in str(exc)
    finally:
        holder.rollback()
        holder.close()
    with Store.open(home / "c.db") as s:
        assert s.add_entry(EntryDraft("reflection", "after the lock"))["id"] == 1


def test_lock_released_in_time_lets_the_write_through(home: Path) -> None:
    Store.open(home / "c.db").close()
    holder = sqlite3.connect(home / "c.db", check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, holder.rollback)
    timer.start()
    with Store.open(home / "c.db", busy_timeout=5) as s:
        assert s.add_entry(EntryDraft("reflection", "patient"))["text"] == "patient"
    timer.join()
    holder.close()


def test_dump_and_load_round_trip(store: Store) -> None:
    store.add_entry(EntryDraft("reflection", "one", tags=("a",)))
    store.add_pattern("catastrophising")
    store.notice_pattern("catastrophising", responded=True)
    store.add_moment(5, skill="breathing", steady_minutes=10)
    dump = store.dump()
    store.forget_all()
    assert store.entries() == []
    store.load(dump)
    assert store.dump() == dump
    assert sum(store.load(dump).values()) == 0  # loading again adds nothing


def test_opening_the_database_twice_in_one_process_keeps_every_write(home: Path) -> None:
    """Closing any handle on the database file drops this process's POSIX locks; opening
    a second Store must not do that, or another process may delete the live WAL."""
    import subprocess
    import sys

    first = Store.open(home / "c.db")
    first.add_entry(EntryDraft("reflection", "before"))
    second = Store.open(home / "c.db")
    reader = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute('SELECT count(*) FROM entries').fetchone()[0]); c.close()"
    )
    subprocess.run(
        [sys.executable, "-c", reader, str(home / "c.db")], check=True, capture_output=True
    )
    first.add_entry(EntryDraft("reflection", "after"))
    out = subprocess.run(
        [sys.executable, "-c", reader, str(home / "c.db")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    second.close()
    first.close()
    assert out.strip() == "2"


def test_a_database_of_another_program_is_refused_and_left_as_it_was(home: Path) -> None:
    """Issue 15, item 15: companion never writes its tables (or WAL) into someone else's file."""
    import sqlite3

    from companion.errors import StoreError

    home.mkdir(parents=True, exist_ok=True)
    db = home / "companion.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="not a companion database"):
        Store.open(db)
    assert db.read_bytes() == before and not (home / "companion.db-wal").exists()
