"""Opening a file in the program the desktop chooses for it (xdg-open; `open` on macOS).

xdg-open's own messages are never shown: its exit status says what went wrong, and the
person gets one sentence with the fix. A viewer that keeps running (xdg-open may wait for
it) is left to run once it has started.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import MissingPartError

STARTED_AFTER = 5.0  # seconds: still running by then means the viewer is up


def _command() -> str | None:
    return shutil.which("open" if sys.platform == "darwin" else "xdg-open")


def open_path(path: Path, *, wait: float = STARTED_AFTER) -> None:
    """Open `path` with the desktop's program for its type; MissingPartError says why not."""
    command = _command()
    where = f"The file is at {path}; open it from there."
    if command is None:
        raise MissingPartError(
            "this computer has no way to open files for companion (xdg-open is missing; "
            f"install xdg-utils). {where}"
        )
    try:
        proc = subprocess.Popen(
            [command, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise MissingPartError(f"{command} could not start ({exc.strerror}). {where}") from exc
    try:
        code = proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return
    if code != 0:
        raise MissingPartError(_why(code, path.suffix or "these") + " " + where)


def _why(code: int, suffix: str) -> str:
    if code == 3:
        return (
            f"no program on this computer is set up to open {suffix} files "
            "(a browser for .html, a text viewer for .md and .json)."
        )
    if code == 2:
        return "the file to open was not found."
    return f"the program for {suffix} files did not start."
