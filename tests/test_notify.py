"""Notification backends against a real session bus and the test notification server."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_notify_server import calls, press, start_bus, start_server
from test_daemon import server_fixture  # noqa: F401  (uses this module's `bus`)

from companion.adapters import notify
from companion.adapters.notify import DbusBackend, Notice, NotifyError
from companion.errors import MissingPartError

pytestmark = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None, reason="dbus-daemon is not installed (apt install dbus)"
)


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    address, pid = start_bus()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    os.kill(pid, signal.SIGTERM)


def serve(bus: str, record: Path, *flags: str) -> subprocess.Popen[str]:
    return start_server(bus, record, *flags)


def test_capabilities_with_actions(server: Path) -> None:
    backend = DbusBackend(2.0)
    try:
        assert backend.supports_actions
        assert "test-notify" in backend.server
    finally:
        backend.close()


def test_capabilities_without_actions_sends_no_buttons(bus: str, tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    proc = serve(bus, record, "--no-actions")
    backend = DbusBackend(2.0)
    try:
        assert not backend.supports_actions
        backend.send(Notice("Hi", "there", (("skip:1", "Skip"),)))
    finally:
        backend.close()
        proc.terminate()
    assert calls(record)[0]["actions"] == []


def test_quotes_apostrophes_emoji_and_long_text_arrive_intact(server: Path) -> None:
    title = 'It\'s "time" \U0001f33f'
    body = ("line with 'quotes' & <angle> \"double\" \U0001f49b\n" * 50)[:2000]
    backend = DbusBackend(2.0)
    try:
        nid = backend.send(Notice(title, body, (("write:7", "Write"), ("skip:7", "Skip"))))
    finally:
        backend.close()
    (call,) = calls(server)
    assert call["id"] == nid and call["summary"] == title and call["body"] == body
    assert len(call["body"]) == 2000
    assert call["actions"] == ["write:7", "Write", "skip:7", "Skip"]
    assert call["app"] == "companion" and call["hints"]["desktop-entry"] == "companion"


def test_a_pressed_button_is_reported(bus: str, server: Path) -> None:
    backend = DbusBackend(2.0)
    pressed: queue.Queue[tuple[str, int]] = queue.Queue()
    try:
        backend.listen(lambda key, nid: pressed.put((key, nid)))
        nid = backend.send(Notice("Hi", "there", (("snooze:3", "Snooze"),)))
        press(bus, "snooze:3")
        assert pressed.get(timeout=10) == ("snooze:3", nid)
    finally:
        backend.close()


def test_hanging_server_gives_up_at_the_timeout(bus: str, tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    proc = serve(bus, record, "--hang")
    backend = DbusBackend(0.5)
    try:
        with pytest.raises(NotifyError, match="did not answer within 0.5 s"):
            backend.send(Notice("Hi", "there"))
    finally:
        backend.close()
        proc.terminate()
    assert len(calls(record)) == 1  # it did arrive; the answer never came


def test_bus_without_a_notification_server(bus: str) -> None:
    with pytest.raises(NotifyError, match="no notification service"):
        DbusBackend(2.0)


def test_auto_falls_back_to_the_log_without_dbus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    monkeypatch.setenv("PATH", str(tmp_path))  # no notify-send either
    backend = notify.choose_backend("auto", timeout=1.0)
    assert backend.name == "log"
    with pytest.raises(MissingPartError, match='backend = "auto"'):
        notify.choose_backend("dbus", timeout=1.0)


def test_auto_uses_a_notification_service_that_starts_later(
    bus: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no notify-send: plyer cannot stand in
    backend = notify.AutoBackend(2.0)
    pressed: queue.Queue[tuple[str, int]] = queue.Queue()
    record = tmp_path / "calls.jsonl"
    try:
        backend.listen(lambda key, nid: pressed.put((key, nid)))
        backend.refresh()
        assert backend.name == "log"  # nothing to show them yet
        proc = serve(bus, record)
        backend.refresh()
        assert backend.name == "dbus" and backend.supports_actions
        nid = backend.send(Notice("Hi", "there", (("skip:4", "Skip"),)))
        press(bus, "skip:4")  # and the buttons work on the new connection
        assert pressed.get(timeout=10) == ("skip:4", nid)
    finally:
        backend.close()
        proc.terminate()
    assert [c["summary"] for c in calls(record)] == ["Hi"]


def wait_until(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 20  # a hang guard, not a timing assertion
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_a_lost_bus_is_one_log_line_and_the_backend_connects_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="companion")
    crashed: list[object] = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)  # a thread's traceback
    address = f"unix:path={tmp_path}/bus"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    _, pid = start_bus(address)
    servers = [serve(address, tmp_path / "first.jsonl")]
    backend = DbusBackend(2.0)
    pressed: queue.Queue[tuple[str, int]] = queue.Queue()
    backend.listen(lambda key, nid: pressed.put((key, nid)))
    os.kill(pid, signal.SIGTERM)  # the session's bus goes away
    try:
        wait_until(lambda: "bus went away" in caplog.text, "the lost bus to be noticed")
        with pytest.raises(NotifyError, match="session bus cannot be reached"):
            backend.send(Notice("Hi", "there"))
        _, pid = start_bus(address)  # and comes back at the same place
        servers.append(serve(address, tmp_path / "second.jsonl"))
        nid = backend.send(Notice("Back", "again", (("snooze:5", "Snooze"),)))
        press(address, "snooze:5")
        assert pressed.get(timeout=10) == ("snooze:5", nid)
    finally:
        backend.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for server in servers:
            server.wait(10)  # each ends with its bus
    assert [c["summary"] for c in calls(tmp_path / "second.jsonl")] == ["Back"]
    assert crashed == [] and "Traceback" not in caplog.text
    assert caplog.text.count("bus went away") == 1 and "RouterClosed" not in caplog.text


def test_doctor_check_reports_buttons(server: Path) -> None:
    found = notify.check("auto", timeout=2.0)
    assert found["ok"] and found["backend"] == "dbus" and found["actions"]


def test_print_backend_shows_buttons() -> None:
    lines: list[str] = []
    notify.PrintBackend(lines.append).send(Notice("T", "a\nb", (("skip:1", "Skip"),)))
    assert lines == ["would notify: T\n  a\n  b\n  buttons: Skip"]
