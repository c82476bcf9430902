"""Faults while running: the daemon keeps going, says so in its log, and nothing is lost.

Real parts: the daemon as a process on a real session bus with the test Notify server
(killed mid-run and started again); a real SQLite lock held by another process for
30 s; a real full disk (a small tmpfs, where mounting is allowed); a real speaking child
that hangs. Figures for the report: FAULTS lists the faults survived here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import insert_raw, mounted_tmpfs
from dbus_notify_server import calls, start_server
from test_daemon import (  # noqa: F401
    bus,
    companion,
    deliveries,
    env_for,
    log_text,
    needs_dbus,
    start_daemon,
    stop,
    wait_for,
    write_config,
)

FAULTS = (
    "notification server gone and back",
    "database locked 30 s",
    "disk full (daemon)",
    "disk full (CLI save)",
    "database held while saving (CLI)",
    "bookkeeping refused after a notice",
    "speaking child hangs",
)
LOG_ONLY = '[notifications]\nbackend = "log"\n'


def add_schedule(home: Path, name: str, *, extra: str = "") -> None:
    """A second check-in due this very minute, under a new name (so it is a new one)."""
    now = datetime.now().astimezone()
    with (home / "config.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            f'{extra}\n[[checkins.schedule]]\nname = "{name}"\ntime = "{now:%H:%M}"\n'
            'days = "daily"\n'
        )


def status_of(home: Path, schedule: str) -> str | None:
    rows = [r for r in deliveries(home) if r["schedule"] == schedule]
    return rows[0]["status"] if rows else None


def output(proc: subprocess.Popen[str]) -> str:
    """Everything the stopped daemon wrote to stderr (what journald would keep)."""
    assert proc.stderr is not None
    return proc.stderr.read()


# ---------------------------------------------------------------- notification server
@needs_dbus
def test_notification_server_that_vanishes_and_returns(
    home: Path,
    bus: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    write_config(home, extra="[notifications]\ntimeout_seconds = 1\n")
    first = start_server(bus, tmp_path / "first.jsonl")
    proc = start_daemon(env_for(home, bus))
    try:
        wait_for(lambda: calls(tmp_path / "first.jsonl"), "the first check-in")
        first.kill()
        first.wait(10)
        add_schedule(home, "again")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "check-in again could not be shown" in log_text(home), "the failure")
        assert status_of(home, "again") == "due" and proc.poll() is None
        second = start_server(bus, tmp_path / "second.jsonl")
        try:  # no signal this time: the daemon's own retry brings it
            wait_for(lambda: calls(tmp_path / "second.jsonl"), "the retried check-in", 60)
        finally:
            second.terminate()
    finally:
        code = stop(proc)
    assert code == 0
    assert status_of(home, "again") == "notified"
    # said once, not at every retry; then shown
    assert log_text(home).count("check-in again could not be shown") == 1
    assert "check-in again sent" in log_text(home)


@needs_dbus
def test_the_session_bus_gone_and_back(home: Path, tmp_path: Path) -> None:
    from dbus_notify_server import start_bus

    address = f"unix:path={tmp_path}/bus"
    write_config(home, extra="[notifications]\ntimeout_seconds = 1\n")
    _, bus_pid = start_bus(address)
    servers = [start_server(address, tmp_path / "first.jsonl")]
    proc = start_daemon(env_for(home, address))
    try:
        wait_for(lambda: calls(tmp_path / "first.jsonl"), "the first check-in")
        os.kill(bus_pid, signal.SIGTERM)  # the session's bus goes away under the daemon
        wait_for(lambda: "bus went away" in log_text(home), "the lost bus to be noticed")
        add_schedule(home, "again")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "check-in again could not be shown" in log_text(home), "the failure")
        assert status_of(home, "again") == "due" and proc.poll() is None
        _, bus_pid = start_bus(address)  # a bus again, at the same place
        servers.append(start_server(address, tmp_path / "second.jsonl"))
        wait_for(lambda: calls(tmp_path / "second.jsonl"), "the retried check-in", 60)
    finally:
        code = stop(proc)
        with contextlib.suppress(ProcessLookupError):
            os.kill(bus_pid, signal.SIGTERM)
        for server in servers:
            server.wait(10)  # each ends with its bus
    stderr = output(proc)
    assert code == 0 and status_of(home, "again") == "notified"
    for noise in ("Traceback", "Exception in thread", "RouterClosed"):
        assert noise not in stderr and noise not in log_text(home)
    assert log_text(home).count("bus went away") == 1


# ---------------------------------------------------------------- a locked database
LOCKER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("CREATE TABLE IF NOT EXISTS held (x)")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("ROLLBACK")
    conn.close()
    print("released", flush=True)
""")


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holds the write lock for `seconds` (in WAL mode reads go on; every
    write waits [storage] busy_timeout_seconds, then fails)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_database_locked_by_another_process_for_30_s(home: Path) -> None:
    write_config(home, extra=LOG_ONLY)
    proc = start_daemon(env_for(home, None))
    try:
        wait_for(lambda: "check-in now sent" in log_text(home), "the first check-in")
        add_schedule(home, "again")
        locker = hold_lock(home / "companion.db", 30)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "could not finish" in log_text(home), "the busy wake", 40)
        assert proc.poll() is None and locker.poll() is None  # the lock still held
        assert locker.wait(60) == 0
        wait_for(lambda: "check-in again sent" in log_text(home), "the delivery after", 60)
    finally:
        code = stop(proc)
    assert code == 0, output(proc)
    text = log_text(home)
    assert "busy" in text and "keeps running" in text
    assert status_of(home, "again") == "notified"


def test_cli_save_while_the_database_is_held_is_set_aside(home: Path, tmp_path: Path) -> None:
    env = env_for(home, None, XDG_RUNTIME_DIR=str(tmp_path))
    home.mkdir()
    (home / "config.toml").write_text("[storage]\nbusy_timeout_seconds = 0.5\n")
    assert companion("reflect", "before", env=env).returncode == 0
    locker = hold_lock(home / "companion.db", 3)
    held = companion("reflect", "said while it was held", env=env)
    assert held.returncode == 1 and "Traceback" not in held.stderr
    assert "another program is holding" in held.stderr and "not lost" in held.stderr
    assert locker.wait(30) == 0
    assert companion("win", "after", env=env).returncode == 0
    found = companion("search", "while it was held", "--json", env=env)
    assert '"said while it was held"' in found.stdout
    assert not list((home / "pending").glob("*.json"))
    again = companion("win", "once more", env=env)  # replays nothing twice
    assert again.returncode == 0
    assert companion("search", "while it was held", "--json", env=env).stdout.count('"text"') == 1


# ---------------------------------------------------------------- a full disk
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a disk that really fills (needs permission to mount)."""
    with mounted_tmpfs(tmp_path / "disk", "2m") as disk:
        yield disk


def fill(disk: Path) -> Path:
    """Checkpoint the WAL down to nothing, then fill the disk to the last byte."""
    with contextlib.closing(sqlite3.connect(disk / "home" / "companion.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as fh:
        while True:
            fh.write(b"\0" * 4096)
    return filler


def test_disk_fills_while_the_daemon_runs(small_disk: Path, tmp_path: Path) -> None:
    home = small_disk / "home"
    write_config(home, extra=LOG_ONLY)
    proc = start_daemon(env_for(home, None))
    try:
        wait_for(lambda: "check-in now sent" in log_text(home), "the first check-in")
        add_schedule(home, "again")
        filler = fill(small_disk)
        proc.send_signal(signal.SIGHUP)
        wait_for(
            lambda: (
                status_of(home, "again") is None
                and "could not finish" in log_text(home)
                or proc.poll() is not None
            ),
            "the full-disk wake",
            40,
        )
        assert proc.poll() is None
        filler.unlink()
        wait_for(lambda: status_of(home, "again") == "notified", "the delivery after", 60)
    finally:
        code = stop(proc)
    err = output(proc)
    assert code == 0, err
    assert "disk" in err and "keeps running" in err  # the journal heard it


def test_disk_full_keeps_a_reflection_and_saves_it_later(small_disk: Path, tmp_path: Path) -> None:
    home, runtime = small_disk / "home", tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = env_for(home, None, XDG_RUNTIME_DIR=str(runtime))
    assert companion("reflect", "before it filled", env=env).returncode == 0
    filler = fill(small_disk)
    full = companion("reflect", "words that must not be lost", env=env)
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert "the disk is full" in full.stderr and "not lost" in full.stderr
    (kept,) = (runtime / "companion-pending").glob("*.json")
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    filler.unlink()
    assert companion("win", "there is room again", env=env).returncode == 0
    found = companion("search", "must not be lost", "--json", env=env)
    assert '"words that must not be lost"' in found.stdout
    assert not kept.exists()
    with contextlib.closing(sqlite3.connect(home / "companion.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---------------------------------------------------------------- in-process faults
class RecordingBackend:
    """A notification backend for in-process tests: records notices, can run a hook."""

    name = "test"
    supports_actions = True

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.on_send: Any = None

    def send(self, notice: Any) -> int:
        self.sent.append(notice)
        if self.on_send is not None:
            self.on_send()
        return len(self.sent)

    def listen(self, on_action: Any) -> None:
        return None

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None


def make_deliverer(home: Path, backend: RecordingBackend, **kwargs: Any) -> Any:
    from companion.clock import SystemClock
    from companion.config import load_settings
    from companion.daemon import Deliverer
    from companion.store import Store

    write_config(home, extra=kwargs.pop("extra", ""))
    settings = load_settings(home / "config.toml")
    store = Store.open(home / "companion.db", busy_timeout=settings.storage.busy_timeout_seconds)
    clock = SystemClock()
    return Deliverer(
        store, settings, backend, clock, since=clock.now() - timedelta(hours=1), **kwargs
    )


def test_bookkeeping_refused_after_a_notice_is_kept_in_memory(home: Path) -> None:
    backend = RecordingBackend()
    deliverer = make_deliverer(home, backend, extra="[storage]\nbusy_timeout_seconds = 0.2\n")
    other = sqlite3.connect(home / "companion.db", isolation_level=None)
    backend.on_send = lambda: other.execute("BEGIN IMMEDIATE")  # held right as it shows
    now = datetime.now().astimezone()
    try:
        wake = deliverer.tick(now)
        assert len(backend.sent) == 1 and len(deliverer.unsaved) == 1
        assert wake <= now + timedelta(seconds=15)  # comes back soon
        other.execute("ROLLBACK")
        backend.on_send = None
        deliverer.tick(now)
    finally:
        other.close()
    assert deliverer.unsaved == [] and len(backend.sent) == 1  # written, never shown twice
    assert status_of(home, "now") == "notified"
    deliverer.store.close()


HANGING_CHILD = textwrap.dedent("""
    import os, subprocess, sys, time
    sys.stdin.read()
    player = subprocess.Popen(["sleep", "600"])
    open(sys.argv[1], "w").write(f"{os.getpid()} {player.pid}")
    time.sleep(600)
""")


def test_speaking_child_that_hangs_is_killed_and_the_loop_goes_on(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from companion import speech
    from companion.adapters.speaker import Speaker
    from companion.clock import SystemClock
    from companion.daemon import Daemon
    from companion.process import SystemdNotifier
    from companion.zones import system_zone

    caplog.set_level(logging.INFO, logger="companion")
    pids = tmp_path / "pids"
    backend = RecordingBackend()

    made: dict[str, Any] = {}

    class ReadAPhrase:  # what a Speak button does, hung (a daemon SpeakHook)
        def __call__(self, row: dict[str, Any]) -> None:
            app = made["daemon"].deliverer.app
            hang = Speaker(
                app.settings.speech,
                timeout=1.0,
                child_argv=[sys.executable, "-c", HANGING_CHILD, str(pids)],
            )
            speech.encourage(app, speaker=hang)

        def offer(self) -> tuple[bool, str]:
            return True, ""

        def auto(self, row: dict[str, Any]) -> None:
            return None

        def will_listen(self) -> bool:
            return False

        def stop_listening(self, delivery_id: int) -> None:
            return None

        def close(self, timeout: float = 1.0) -> None:
            return None

    read_a_phrase = ReadAPhrase()

    def run() -> None:  # SQLite connections stay in the thread that made them
        deliverer = make_deliverer(home, backend, speak=read_a_phrase)
        made["daemon"] = Daemon(
            deliverer,
            config_file=home / "config.toml",
            clock=SystemClock(),
            zone=system_zone(),
            notifier=SystemdNotifier({}),
        )
        try:
            made["daemon"].run()
        finally:
            deliverer.store.close()

    loop = threading.Thread(target=run, daemon=True)
    loop.start()
    try:
        wait_for(lambda: backend.sent, "the check-in")
        daemon = made["daemon"]
        delivery_id = deliveries(home)[0]["id"]
        daemon._on_action(f"speak:{delivery_id}", 1)
        wait_for(lambda: "could not be read aloud" in caplog.text, "the speaking timeout")
        daemon._on_action(f"skip:{delivery_id}", 1)
        wait_for(lambda: status_of(home, "now") == "skipped", "the next button")
        assert loop.is_alive()
    finally:
        if "daemon" in made:
            made["daemon"]._on_stop(signal.SIGTERM, None)
        loop.join(20)
    assert not loop.is_alive()
    assert "speech child killed" in caplog.text and "took longer" in caplog.text
    for pid in map(int, pids.read_text().split()):  # the child and its player are gone
        wait_for(lambda pid=pid: gone(pid), f"process {pid} to end")


def gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for its parent to reap it counts)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


_insert = insert_raw


def test_rows_the_daemon_cannot_read_are_passed_over(home: Path) -> None:
    backend = RecordingBackend()
    deliverer = make_deliverer(home, backend)
    for n, broken in enumerate(
        (
            {"every_days": 99999999999},
            {"rrule": "FREQ=NEVER"},
            {"rrule": "FREQ=SECONDLY"},
            {"starts_at": "garbage"},
            {"exdates": "[{"},
        ),
        start=1,
    ):
        _insert(
            home,
            "sessions",
            {
                "uid": f"u{n}",
                "starts_at": "2026-01-05T10:00:00+00:00",
                "starts_utc": "2026-01-05T10:00:00Z",
                "source": "typed",
                **broken,
            },
        )
    _insert(
        home,
        "entries",
        {
            "kind": "reflection",
            "text": "x",
            "source": "typed",
            "created_at": "garbage",
            "created_utc": "2999-99-99T99:99:99Z",
        },
    )
    _insert(
        home,
        "deliveries",
        {
            "schedule": "old",
            "due_at": "2026-01-05T10:00:00+00:00",
            "due_utc": "2026-01-05T10:00:00Z",
            "status": "snoozed",
            "snoozed_until": "soon",
        },
    )
    deliverer.tick(datetime.now().astimezone())
    assert len(backend.sent) == 1 and status_of(home, "now") == "notified"
    deliverer.store.close()


class ExplodingBackend(RecordingBackend):
    """A notification service whose library fails in a way nobody planned for."""

    def send(self, notice: Any) -> int:
        raise RuntimeError(f"unplanned failure quoting {CANARY}")


CANARY = "zebra-lantern-7731"


def test_the_daemon_survives_any_exception_in_a_wake_and_keeps_words_out_of_the_log(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from companion.clock import SystemClock
    from companion.daemon import RETRY_SECONDS, Daemon, SystemdNotifier
    from companion.zones import system_zone

    caplog.set_level(logging.INFO, logger="companion")
    deliverer = make_deliverer(home, ExplodingBackend())
    daemon = Daemon(
        deliverer,
        config_file=home / "config.toml",
        clock=SystemClock(),
        zone=system_zone(),
        notifier=SystemdNotifier({}),
    )
    now = datetime.now().astimezone()
    try:
        assert daemon._pass(now) == now + timedelta(seconds=RETRY_SECONDS)
        deliverer.backend = RecordingBackend()  # the service works again: the loop goes on
        later = now + timedelta(seconds=RETRY_SECONDS)
        assert daemon._pass(later) > later
    finally:
        deliverer.store.close()
    assert caplog.text.count("unexpected RuntimeError") == 1 and CANARY not in caplog.text
    assert status_of(home, "now") == "due"  # still waiting for `companion checkin`
