"""Process plumbing: the log file, one daemon at a time, telling systemd, running again.

Nothing here knows about check-ins. The daemon (companion/daemon.py) sets up its log,
holds the instance lock and talks to systemd through it; the systemd unit
(companion/service.py) asks it how to run companion and whether a daemon is running;
the Write button opens a terminal running companion through it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
from io import TextIOWrapper
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CompanionError
from .paths import ensure_dir, open_own, open_private

if TYPE_CHECKING:  # the settings are only read here; importing config costs ~25 ms
    from .config import Settings

log = logging.getLogger("companion")


def setup_logging(log_file: Path, *, stderr: bool = True) -> None:
    """Log to the private log file (0600) and to stderr. Never log what the user wrote."""
    logger = logging.getLogger("companion")
    for handler in [h for h in logger.handlers if getattr(h, "_companion", False)]:
        logger.removeHandler(handler)
        handler.close()
    ensure_dir(log_file.parent)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [PrivateLogHandler(log_file)]
    if stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(fmt)
        handler._companion = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class PrivateLogHandler(logging.FileHandler):
    """The log file, opened as companion's own: 0600, never through a link or into a FIFO."""

    def __init__(self, path: Path):
        super().__init__(path, encoding="utf-8")

    def _open(self) -> TextIOWrapper:
        return open_private(Path(self.baseFilename), "a", encoding=self.encoding)


class InstanceLock:
    """One daemon at a time: an exclusive lock on the lock file, holding our pid."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        ensure_dir(self.path.parent)
        fd = open_own(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CompanionError(
                f"companion is already running (process {other}); only one can run at a time. "
                "`companion service status` shows it."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def lock_holder(path: Path) -> int | None:
    """The pid of a running daemon, or None (used by `service status` and `doctor`)."""
    try:  # never waits on a FIFO, never reads through a link
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.read(fd, 32).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)
    return None


class SystemdNotifier:
    """READY=1 / WATCHDOG=1 written straight to $NOTIFY_SOCKET (no systemd library)."""

    def __init__(self, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        self.address = env.get("NOTIFY_SOCKET", "")
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1e6 if usec.isdigit() and ours else None

    def send(self, state: str) -> None:
        if not self.address:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(state.encode(), target)
        except OSError as exc:
            log.warning("could not tell systemd %s: %s", state, exc.strerror)


# ---------------------------------------------------------------- running companion again
TERMINALS = {  # terminal: the arguments that come before the command it runs
    "x-terminal-emulator": ["-e"],
    "gnome-terminal": ["--"],
    "kgx": ["--"],
    "konsole": ["-e"],
    "xfce4-terminal": ["-x"],
    "mate-terminal": ["-x"],
    "alacritty": ["-e"],
    "kitty": [],
    "foot": [],
    "wezterm": ["start", "--"],
    "xterm": ["-e"],
}


def companion_command() -> list[str]:
    """How to run this companion again (the console script next to this Python, or -m)."""
    script = Path(sys.executable).with_name("companion")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "companion"]


def find_terminal(settings: Settings, env: dict[str, str] | None = None) -> list[str] | None:
    """The command that opens a terminal running a command, or None on a headless machine."""
    env = dict(os.environ if env is None else env)
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return None
    configured = settings.notifications.terminal.strip()
    if configured:
        parts = shlex.split(configured)
        return parts if shutil.which(parts[0]) else None
    for name, args in TERMINALS.items():
        if shutil.which(name):
            return [name, *args]
    return None


def open_in_terminal(terminal: list[str], command: list[str]) -> None:
    """Start a terminal running `command`, detached; a failure is logged, never raised."""
    try:
        subprocess.Popen(
            [*terminal, *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("could not open a terminal (%s): %s", terminal[0], exc.strerror)
