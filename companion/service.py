"""The systemd user unit: install (write, enable, start), uninstall, status.

The unit shipped in systemd/companion.service is the template; installing replaces its
ExecStart with this installation's command and keeps COMPANION_HOME if one is set.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import MissingPartError
from .paths import Paths, write_private_text
from .process import companion_command, lock_holder
from .records import Row, ServiceState
from .resources import pack_file

UNIT = "companion.service"
SYSTEMCTL_TIMEOUT = 15.0


def unit_dir(env: Mapping[str, str] | None = None) -> Path:
    """~/.config/systemd/user (or under $XDG_CONFIG_HOME)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "systemd" / "user"


def _quote(arg: str) -> str:
    """One ExecStart word, quoted the way systemd reads it."""
    if arg and not any(c in arg for c in " \t\"'\\$%;"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$").replace("%", "%%")
    return f'"{escaped}"'


def render_unit(template: str, command: list[str], env: Mapping[str, str]) -> str:
    """The unit text with our ExecStart (and COMPANION_HOME when it is set)."""
    lines = []
    for line in template.splitlines():
        if line.startswith("ExecStart="):
            line = "ExecStart=" + " ".join(_quote(a) for a in command)
            home = env.get("COMPANION_HOME", "").strip()
            if home:
                value = str(Path(home).expanduser().absolute())
                lines.append(line)
                line = "Environment=" + _quote(f"COMPANION_HOME={value}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def template_text() -> str:
    return pack_file("systemd", UNIT).read_text(encoding="utf-8")


def user_manager_running(env: Mapping[str, str] | None = None) -> bool:
    """Whether a systemd user manager runs for this login (its private socket exists)."""
    env = os.environ if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR", "")
    return bool(runtime) and (Path(runtime) / "systemd" / "private").exists()


NO_USER_MANAGER = (
    "no systemd user manager is running here; `companion run` works until you close the terminal"
)


def systemctl(*args: str) -> tuple[bool, str]:
    """Run `systemctl --user ...`; (worked, what it said). Never raises."""
    try:
        done = subprocess.run(
            ["systemctl", "--user", *args],
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        return False, "systemctl is not installed"
    except subprocess.TimeoutExpired:
        return False, "systemctl did not answer"
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return done.returncode == 0, said[-1] if said else ""


def install(env: Mapping[str, str] | None = None) -> Row:
    """Write the unit, then reload systemd and enable and start it.

    The file is written even where systemd does not run for this user; then a
    MissingPartError says how to start the daemon by hand.
    """
    env = os.environ if env is None else env
    folder = unit_dir(env)
    folder.mkdir(parents=True, exist_ok=True)  # systemd's folder, not ours: its mode stays
    path = folder / UNIT
    write_private_text(path, render_unit(template_text(), [*companion_command(), "run"], env))
    path.chmod(0o644)  # systemd reads units as the user; nothing private is in it
    if not user_manager_running(env):
        raise MissingPartError(
            f"{NO_USER_MANAGER}. (The unit is ready in {path} for a session that has one.)"
        )
    reloaded, why = systemctl("daemon-reload")
    if not reloaded:
        raise MissingPartError(
            f"the unit was written to {path}, but systemd could not take it ({why}). "
            "Start the daemon by hand with `companion run`, or run "
            "`systemctl --user enable --now companion` in your desktop session."
        )
    enabled, why = systemctl("enable", "--now", UNIT)
    if not enabled:
        raise MissingPartError(
            f"the unit was written to {path}, but it could not be started "
            f"({why}). `journalctl --user -u companion` shows why."
        )
    return {"unit_file": str(path), "enabled": True, "active": True}


def uninstall(env: Mapping[str, str] | None = None) -> Row:
    """Stop and disable the unit, and remove its file (your data stays)."""
    path = unit_dir(env) / UNIT
    systemctl("disable", "--now", UNIT)
    existed = path.exists()
    path.unlink(missing_ok=True)
    systemctl("daemon-reload")
    return {"unit_file": str(path), "removed": existed}


def status(paths: Paths, env: Mapping[str, str] | None = None) -> ServiceState:
    """Whether the unit is installed, enabled and active, and whether a daemon runs."""
    path = unit_dir(env) / UNIT
    manager = user_manager_running(env)
    enabled_ok, enabled = systemctl("is-enabled", UNIT) if manager else (False, "")
    active_ok, active = systemctl("is-active", UNIT) if manager else (False, "")
    return {
        "unit_file": str(path),
        "installed": path.exists(),
        "enabled": enabled if enabled_ok else "no",
        "active": active if active_ok else "no",
        "user_manager": manager,
        "running_pid": lock_holder(paths.lock_file),
    }
