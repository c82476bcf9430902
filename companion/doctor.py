"""`companion doctor`: every part checked, with how to fix what is not working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import CompanionError

Check = dict[str, Any]


def _result(name: str, ok: bool | None, detail: str, fix: str = "") -> Check:
    status = "ok" if ok else ("note" if ok is None else "problem")
    return {"name": name, "status": status, "ok": bool(ok), "detail": detail, "fix": fix}


def check_config(app: Any) -> list[Check]:
    try:
        settings = app.settings
    except CompanionError as exc:
        return [_result("config", False, str(exc), "edit the file, then `companion config check`")]
    return [_result("config", True, f"{settings.source} ({len(settings.checkins.schedule)} "
                                     "check-ins scheduled)")]


def check_database(app: Any) -> list[Check]:
    try:
        result = app.store.integrity()
    except CompanionError as exc:
        return [_result("database", False, str(exc), "restore a backup from the backups folder")]
    count = len(app.store.entries())
    return [_result("database", result == "ok", f"{app.paths.db_file}: {result}, {count} entries",
                    "" if result == "ok" else "restore a backup: companion backup copies")]


CHECKS: list[Callable[[Any], list[Check]]] = [check_config, check_database]


def run_checks(app: Any) -> list[Check]:
    """Every check; one that itself fails is reported, never raised."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            results += check(app)
        except Exception as exc:  # a broken check must not hide the others
            results.append(_result(check.__name__.removeprefix("check_"), False,
                                   f"could not be checked ({type(exc).__name__})"))
    return results
