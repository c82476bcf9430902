"""Notification backends against a real session bus and the test notification server."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_notify_server import calls, press, start_bus, start_server
from test_daemon import server_fixture  # noqa: F401  (uses this module's `bus`)

from companion.adapters import notify
from companion.adapters.notify import DbusBackend, Notice, NotifyError
from companion.errors import MissingPartError

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None,
                                reason="dbus-daemon is not installed (apt install dbus)")


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
    title = 'It\'s "time" \U0001F33F'
    body = ("line with 'quotes' & <angle> \"double\" \U0001F49B\n" * 50)[:2000]
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


def test_auto_falls_back_to_the_log_without_dbus(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    monkeypatch.setenv("PATH", str(tmp_path))  # no notify-send either
    backend = notify.choose_backend("auto", timeout=1.0)
    assert backend.name == "log"
    with pytest.raises(MissingPartError, match='backend = "auto"'):
        notify.choose_backend("dbus", timeout=1.0)


def test_doctor_check_reports_buttons(server: Path) -> None:
    found = notify.check("auto", timeout=2.0)
    assert found["ok"] and found["backend"] == "dbus" and found["actions"]


def test_print_backend_shows_buttons() -> None:
    lines: list[str] = []
    notify.PrintBackend(lines.append).send(Notice("T", "a\nb", (("skip:1", "Skip"),)))
    assert lines == ["would notify: T\n  a\n  b\n  buttons: Skip"]
