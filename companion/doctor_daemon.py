"""`companion doctor` checks for the daemon's parts: configuration, notifications, service.

`checks(app)` returns one dict per check: name, ok, detail, fix (empty when ok).
"""

from __future__ import annotations

from typing import Any

from .errors import CompanionError


def _check(name: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail, "fix": "" if ok else fix}


def config_check(app: Any) -> dict[str, Any]:
    """The configuration loads (the shipped defaults plus the user's file)."""
    try:
        settings = app.settings
    except CompanionError as exc:
        return _check("config", False, str(exc),
                      "fix the line it names; `companion config check` checks again")
    names = ", ".join(e.name for e in settings.checkins.schedule)
    return _check("config", True, f"{settings.source} (check-ins: {names})")


def notifications_check(app: Any) -> dict[str, Any]:
    """Which notification backend would be used, and whether it shows buttons."""
    from .adapters import notify

    try:
        n = app.settings.notifications
    except CompanionError:
        return _check("notifications", False, "the configuration does not load",
                      "fix the configuration first")
    found = notify.check(n.backend, timeout=n.timeout_seconds)
    if not found["ok"]:
        return _check("notifications", False, found["detail"] or "no notification service",
                      "check-ins are written to the log only; run a desktop session with a "
                      "notification service (any desktop has one), or install libnotify-bin")
    buttons = "with buttons" if found["actions"] else "without buttons (run `companion checkin`)"
    return _check("notifications", True, f"{found['backend']}: {found['detail']}, {buttons}")


def service_check(app: Any) -> dict[str, Any]:
    """Whether the daemon runs (under systemd or by hand)."""
    from . import service

    state = service.status(app.paths)
    if state["running_pid"]:
        return _check("service", True, f"the daemon is running (process {state['running_pid']})")
    if state["installed"]:
        return _check("service", False, f"installed but {state['active']}",
                      "`systemctl --user restart companion`; "
                      "`journalctl --user -u companion` shows why it stopped")
    return _check("service", False, "the daemon is not running",
                  "`companion service install` starts it now and at each login")


def checks(app: Any) -> list[dict[str, Any]]:
    """The daemon's checks, in the order doctor prints them."""
    return [config_check(app), notifications_check(app), service_check(app)]
