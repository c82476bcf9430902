"""`companion run` as a real process against a real session bus and the test Notify server:
buttons, restarts, signals, a single instance, systemd readiness and the unit file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbus_notify_server import calls, press, start_bus, start_server

from companion import service

ROOT = Path(__file__).resolve().parent.parent
needs_dbus = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None, reason="dbus-daemon is not installed (apt install dbus)"
)


def write_config(home: Path, *, extra: str = "", at: datetime | None = None) -> None:
    """One check-in due this very minute (or `at`), no quiet hours; watching since an
    hour ago."""
    home.mkdir(parents=True, exist_ok=True)
    now = datetime.now().astimezone()
    (home / "config.toml").write_text(
        '[checkins]\nquiet_start = ""\nquiet_end = ""\nskip_if_wrote_within_minutes = 0\n'
        f'{extra}\n[[checkins.schedule]]\nname = "now"\ntime = "{at or now:%H:%M}"\n'
        'days = "daily"\n',
        encoding="utf-8",
    )
    since = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    (home / "daemon-since").write_text(since, encoding="utf-8")


def env_for(home: Path, bus: str | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "NOTIFY_SOCKET", "WATCHDOG_USEC")
    }
    env.update(
        COMPANION_HOME=str(home),
        PYTHONPATH=str(ROOT),
        DBUS_SESSION_BUS_ADDRESS=bus or f"unix:path={home}/no-bus",
        **extra,
    )
    return env


def companion(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_daemon(env: dict[str, str], *, clock_at: datetime | None = None) -> subprocess.Popen[str]:
    """`companion run`; with `clock_at`, its wall clock starts at that moment and runs on
    (time-machine, as libfaketime would: only the reading of the clock moves, so a check-in
    due at the next minute is not a minute away)."""
    head = ["-m", "companion"] if clock_at is None else ["-c", CLOCK_AT, clock_at.isoformat()]
    return subprocess.Popen(
        [sys.executable, *head, "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


CLOCK_AT = """
import sys
from datetime import datetime
import time_machine
time_machine.travel(datetime.fromisoformat(sys.argv.pop(1)), tick=True).start()
from companion.cli import entry_point
entry_point()
"""


def wait_for(predicate: Any, what: str, limit: float = 20.0) -> Any:
    """Poll until `predicate()` is truthy (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def deliveries(home: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "companion.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM deliveries ORDER BY id")]


def log_text(home: Path) -> str:
    path = home / "logs" / "companion.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=20)


@pytest.fixture
def bus() -> Iterator[str]:
    address, pid = start_bus()
    yield address
    os.kill(pid, signal.SIGTERM)


@pytest.fixture(name="server")
def server_fixture(bus: str, tmp_path: Path) -> Iterator[Path]:
    """A test Notify server on the test's bus; yields the file its calls are recorded in."""
    record = tmp_path / "calls.jsonl"
    proc = start_server(bus, record)
    yield record
    proc.terminate()
    proc.wait(10)


@needs_dbus
def test_run_once_sends_with_buttons_and_never_twice(home: Path, bus: str, server: Path) -> None:
    write_config(home)
    env = env_for(home, bus)
    first = companion("run", "--once", env=env)
    assert first.returncode == 0, first.stderr
    again = companion("run", "--once", env=env)
    assert again.returncode == 0, again.stderr
    (call,) = calls(server)
    labels = call["actions"][1::2]
    assert labels == ["Snooze", "Skip"]  # no terminal here, and no voice yet
    assert "companion checkin" in call["body"]
    (row,) = deliveries(home)
    assert row["status"] == "notified" and row["schedule"] == "now"
    assert oct((home / "logs" / "companion.log").stat().st_mode & 0o777) == "0o600"


@needs_dbus
def test_server_without_buttons_gets_the_command(home: Path, bus: str, tmp_path: Path) -> None:
    write_config(home)
    record = tmp_path / "plain.jsonl"
    proc = start_server(bus, record, "--no-actions")
    try:
        assert companion("run", "--once", env=env_for(home, bus)).returncode == 0
    finally:
        proc.terminate()
    (call,) = calls(record)
    assert call["actions"] == [] and "run: companion checkin" in call["body"]


@needs_dbus
def test_buttons_pressed_while_running_then_sigterm(home: Path, bus: str, server: Path) -> None:
    write_config(home)
    proc = start_daemon(env_for(home, bus))
    try:
        wait_for(lambda: calls(server), "the notification")
        delivery_id = deliveries(home)[0]["id"]
        press(bus, f"snooze:{delivery_id}")
        wait_for(lambda: deliveries(home)[0]["status"] == "snoozed", "the snooze")
        press(bus, f"skip:{delivery_id}")
        wait_for(lambda: deliveries(home)[0]["status"] == "skipped", "the skip")
    finally:
        code = stop(proc)
    assert code == 0
    assert "companion stopped" in log_text(home)


@needs_dbus
def test_hanging_server_costs_the_timeout_and_run_goes_on(
    home: Path, bus: str, tmp_path: Path
) -> None:
    write_config(home, extra="[notifications]\ntimeout_seconds = 0.5\n")
    proc = start_server(bus, tmp_path / "hang.jsonl", "--hang")
    try:
        done = companion("run", "--once", env=env_for(home, bus))
    finally:
        proc.terminate()
    assert done.returncode == 0, done.stderr
    assert "did not answer" in log_text(home)


@needs_dbus
@pytest.mark.slow
def test_a_notification_service_started_after_the_daemon_shows_the_next_check_in(
    home: Path, bus: str, tmp_path: Path
) -> None:
    due = (datetime.now().astimezone() + timedelta(minutes=2)).replace(second=0, microsecond=0)
    write_config(home, at=due)
    record = tmp_path / "calls.jsonl"
    proc = start_daemon(env_for(home, bus), clock_at=due - timedelta(seconds=10))
    server = None
    try:
        wait_for(lambda: "companion is running" in log_text(home), "the start")
        time.sleep(3)  # the desktop's notification service comes up a little later
        server = start_server(bus, record)
        (call,) = wait_for(lambda: calls(record), "the check-in", limit=40)
    finally:
        code = stop(proc)
        if server is not None:
            server.terminate()
    assert code == 0
    assert call["actions"][1::2] == ["Snooze", "Skip"]  # through D-Bus, with its buttons
    assert deliveries(home)[0]["status"] == "notified"
    assert "writing them to the log only" in log_text(home)  # how it started


@needs_dbus
def test_sighup_finds_the_notification_service_and_shows_what_only_the_log_got(
    home: Path, bus: str, tmp_path: Path
) -> None:
    write_config(home)
    record = tmp_path / "calls.jsonl"
    proc = start_daemon(env_for(home, bus))
    server = None
    try:
        wait_for(lambda: "(delivery 1, log)" in log_text(home), "the check-in in the log")
        server = start_server(bus, record)
        proc.send_signal(signal.SIGHUP)
        (call,) = wait_for(lambda: calls(record), "the check-in shown")
    finally:
        code = stop(proc)
        if server is not None:
            server.terminate()
    assert code == 0 and call["summary"] == "Time for a short check-in"
    assert "notification service is on the session bus now" in log_text(home)
    assert [d["status"] for d in deliveries(home)] == ["notified"]


def test_no_dbus_at_all_falls_back_to_the_log(home: Path, tmp_path: Path) -> None:
    write_config(home)
    env = env_for(
        home,
        None,
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    done = companion("run", "--once", env=env)
    assert done.returncode == 0, done.stderr
    text = log_text(home)
    assert "writing them to the log only" in text and "notification: " in text
    assert deliveries(home)[0]["status"] == "notified"


def test_dry_run_prints_and_records_nothing(home: Path) -> None:
    write_config(home)
    done = companion("run", "--once", "--dry-run", env=env_for(home, None))
    assert done.returncode == 0, done.stderr
    assert "would notify: Time for a short check-in" in done.stdout
    assert deliveries(home) == []


def speech_libraries_after(args: list[str], env: dict[str, str]) -> tuple[str, str]:
    """Runs `companion ARGS` in a fresh process: (the speech libraries it imported, as the
    printed list, `[]` for none; everything it wrote, for the failure message)."""
    code = (
        "import sys; from companion.cli import run_main; "
        f"run_main({args!r}); print(sorted(m for m in ('vosk', 'numpy', 'pyttsx3', "
        "'sounddevice') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    return (lines[-1] if lines else ""), done.stdout + done.stderr


def test_idle_daemon_imports_no_speech_libraries(home: Path) -> None:
    write_config(home)
    loaded, output = speech_libraries_after(["run", "--once", "--dry-run"], env_for(home, None))
    assert loaded == "[]", output


def test_ready_watchdog_single_instance_and_bad_reload(home: Path, tmp_path: Path) -> None:
    write_config(home)
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(20)
        env = env_for(home, None, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="2000000")
        proc = start_daemon(env)
        try:
            assert sock.recv(100) == b"READY=1"
            assert sock.recv(100) == b"WATCHDOG=1"
            second = companion("run", env=env_for(home, None))
            assert second.returncode == 1
            assert "already running" in second.stderr and "Traceback" not in second.stderr
            (home / "config.toml").write_text('[checkins]\nsnooze_minutes = "soon"\n')
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "previous one stays in use" in log_text(home), "the reload")
            assert proc.poll() is None
        finally:
            code = stop(proc)
    assert code == 0


def test_sighup_reloads_a_good_config(home: Path) -> None:
    write_config(home)
    proc = start_daemon(env_for(home, None))
    try:
        wait_for(lambda: "companion is running" in log_text(home), "the start")
        (home / "config.toml").write_text("[checkins]\nsnooze_minutes = 10\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in log_text(home), "the reload")
    finally:
        assert stop(proc) == 0


# ---------------------------------------------------------------- systemd
def verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt install systemd)",
)


@needs_systemd
def test_shipped_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    unit = ROOT / "systemd" / "companion.service"
    done = verify(unit, tmp_path)
    assert done.returncode == 0, done.stderr
    text = unit.read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_UNIX AF_NETLINK",
        "SystemCallFilter=@system-service",
    ):
        assert line in text.splitlines()
    assert "\nMemoryDenyWriteExecute" not in text


@needs_systemd
def test_installed_unit_runs_this_companion_and_passes(tmp_path: Path, home: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "COMPANION_HOME": str(home)}
    text = service.render_unit(service.template_text(), ["/opt/my apps/companion", "run"], env)
    assert 'ExecStart="/opt/my apps/companion" run' in text
    assert f"Environment=COMPANION_HOME={home}\n" in text
    try:
        service.install(env)
    except service.MissingPartError as exc:  # no systemd user manager in a test machine
        assert "The unit is ready in" in str(exc)
    unit = tmp_path / "cfg" / "systemd" / "user" / "companion.service"
    assert unit.exists()
    done = verify(unit, tmp_path)
    assert done.returncode == 0, done.stderr


def test_service_status_when_nothing_is_installed(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    result = cli("service", "status", "--json")
    assert '"installed": false' in result.stdout and '"running_pid": null' in result.stdout


def test_write_button_opens_a_terminal_running_checkin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from companion.config import load_settings
    from companion.process import companion_command, find_terminal, open_in_terminal

    bin_dir, out = tmp_path / "bin", tmp_path / "args.txt"
    bin_dir.mkdir()
    fake = bin_dir / "xterm"
    fake.write_text(f'#!/bin/sh\necho "$@" > {out}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    settings = load_settings(None)
    assert find_terminal(settings, {"PATH": str(bin_dir)}) is None  # no display: no terminal
    terminal = find_terminal(settings, {"DISPLAY": ":0"})
    assert terminal == ["xterm", "-e"]
    open_in_terminal(terminal, [*companion_command(), "checkin"])
    wait_for(out.exists, "the terminal")
    assert out.read_text().split() == ["-e", *companion_command(), "checkin"]


def no_user_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A login without a systemd user manager (its runtime folder has no systemd socket)."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    return tmp_path / "cfg" / "systemd" / "user" / "companion.service"


def service_row(cli: Any) -> dict[str, Any]:
    rows = json.loads(cli("doctor", "--json", ok=False).stdout)
    return next(r for r in rows if r["name"] == "service")


def test_service_install_without_a_user_manager_says_so(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = no_user_manager(tmp_path, monkeypatch)
    row = service_row(cli)
    assert row["detail"] == "not installed (no systemd user manager here)"
    assert row["fix"].startswith("No systemd user manager is running here; `companion run`")
    assert "systemctl" not in row["fix"]
    result = cli("service", "install", ok=False)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "error: no systemd user manager is running here; `companion run` works until you "
        "close the terminal"
    )
    assert "No medium" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert unit.exists()  # ready for a session that has a user manager
    row = service_row(cli)
    assert row["detail"] == "installed, not running (no systemd user manager here)"
    assert "systemctl" not in row["fix"] and "but no" not in row["detail"]
    status = cli("service", "status").stdout
    assert "note:     no systemd user manager is running here" in status
