"""`companion doctor`: every part checked, with how to fix what is not working."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import crypto, service
from .adapters import notify
from .adapters.speaker import Speaker
from .app import App
from .content import PACK_GROUPS, check_user_pack, user_pack_path
from .errors import CompanionError
from .records import Check
from .voice import checks
from .wording import plural


def result(name: str, ok: bool | None, detail: str, fix: str = "") -> Check:
    status = "ok" if ok else ("note" if ok is None else "problem")
    return {
        "name": name,
        "status": status,
        "ok": bool(ok),
        "detail": detail,
        "fix": "" if ok else fix,
    }


def check_config(app: App) -> list[Check]:
    """config.toml, then the person's own prompt and phrase packs."""
    return [_config_row(app), *check_packs(app)]


def _config_row(app: App) -> Check:
    """The user's file: in use, absent (the defaults), or with mistakes (defaults stand in)."""
    settings, problems = app.load_settings(app.paths.config_file)
    if problems:
        more = f" (and {plural(len(problems) - 1, 'more mistake')})" if len(problems) > 1 else ""
        return result(
            "config",
            False,
            f"{problems[0]}{more}; the defaults stand in for it",
            "`companion config check` lists every mistake; fix them in the file",
        )
    scheduled = f"{plural(len(settings.checkins.schedule), 'check-in')} scheduled"
    if not app.paths.config_file.exists():
        return result("config", True, f"defaults (no config.toml yet), {scheduled}")
    return result("config", True, f"{app.paths.config_file} ({scheduled})")


def check_packs(app: App) -> list[Check]:
    """The person's own prompts.toml and phrases.toml, when there are any."""
    found = []
    for name in PACK_GROUPS:
        path = user_pack_path(app.paths.config_dir, name)
        if not path.exists():
            continue
        problem = check_user_pack(app.paths.config_dir, name)
        found.append(
            result(
                f"your {name}",
                problem is None,
                str(problem or path),
                "fix the file (until then the shipped words are used), then "
                "`companion config check`",
            )
        )
    return found


def check_database(app: App) -> list[Check]:
    try:
        verdict = app.store.integrity()
    except CompanionError as exc:
        # An error that knows its own fix (a passphrase nobody can give here) says it;
        # restoring a backup is for a database that cannot be read.
        fix = getattr(exc, "fix", "") or "restore a backup from the backups folder"
        return [result("database", False, str(exc), fix)]
    count = plural(len(app.store.entries()), "entry")
    return [
        result(
            "database",
            verdict == "ok",
            f"{app.paths.db_file}: {verdict}, {count}",
            "" if verdict == "ok" else "restore a backup: companion backup copies",
        )
    ]


def check_notifications(app: App) -> list[Check]:
    """Which notification backend would be used, and whether it shows buttons."""
    n = app.settings.notifications
    found = notify.check(n.backend, timeout=n.timeout_seconds)
    if not found["ok"]:
        return [
            result(
                "notifications",
                False,
                found["detail"] or "no notification service",
                "check-ins are written to the log only; run a desktop session with a "
                "notification service (any desktop has one), or install libnotify-bin",
            )
        ]
    buttons = "with buttons" if found["actions"] else "without buttons (run `companion checkin`)"
    return [result("notifications", True, f"{found['backend']}: {found['detail']}, {buttons}")]


def check_service(app: App) -> list[Check]:
    """Whether the daemon runs (under systemd or by hand)."""
    state = service.status(app.paths)
    if state["running_pid"]:
        return [result("service", True, f"the daemon is running (process {state['running_pid']})")]
    installed = "installed, not running" if state["installed"] else "not installed"
    if not state["user_manager"]:
        return [
            result(
                "service",
                False,
                f"{installed} (no systemd user manager here)",
                service.NO_USER_MANAGER[:1].upper() + service.NO_USER_MANAGER[1:],
            )
        ]
    if state["installed"]:
        return [
            result(
                "service",
                False,
                installed,
                "`systemctl --user restart companion`; "
                "`journalctl --user -u companion` shows why it stopped",
            )
        ]
    return [
        result(
            "service",
            False,
            installed,
            "`companion service install` starts it now and at each login",
        )
    ]


def check_speech(app: App) -> list[Check]:
    """Whether kind phrases can be read aloud."""
    if not app.settings.speech.enabled:
        return [result("speech", None, "reading aloud is turned off ([speech] enabled)")]
    reason = Speaker(app.settings.speech).check()
    return [
        result(
            "speech",
            reason is None,
            reason or "espeak-ng through pyttsx3",
            "sudo apt install espeak-ng pulseaudio-utils",
        )
    ]


def check_encryption(app: App) -> list[Check]:
    """Whether the database is encrypted as asked, and whether the daemon can open it."""
    path, security = app.paths.db_file, app.settings.security
    encrypted = crypto.is_encrypted(path)
    if not encrypted and not security.encrypt:
        return [
            result(
                "encryption",
                None,
                "the database is not encrypted (optional)",
                "`companion encrypt` encrypts it with a passphrase",
            )
        ]
    if not encrypted and not crypto.is_new(path):
        return [
            result(
                "encryption",
                False,
                "[security] encrypt is on, but the database is still plain",
                "run `companion encrypt`",
            )
        ]
    try:
        version = crypto.cipher_version()
    except Exception as exc:  # MissingPartError, or a broken native library
        return [
            result(
                "encryption",
                False,
                f"SQLCipher cannot be loaded ({exc})",
                "pip install 'companion[encrypt]'",
            )
        ]
    state = "encrypted" if encrypted else "a new database will be encrypted"
    return [
        result("encryption", True, f"{state} (SQLCipher {version})"),
        _keyring_check(path, use_keyring=security.use_keyring),
    ]


def _keyring_check(path: Path, *, use_keyring: bool) -> Check:
    if not use_keyring:
        return result(
            "keyring",
            None,
            "not used: the passphrase is typed each time, so the daemon cannot open the database",
            "set [security] use_keyring = true",
        )
    held, why = crypto.keyring_holds(path)
    if held:
        return result("keyring", True, "keeps the passphrase for the daemon")
    return result(
        "keyring",
        False,
        why or "holds no passphrase yet",
        "run any command in a "
        "terminal once and type the passphrase (it is then saved); or unlock the "
        "keyring",
    )


def check_voice(app: App) -> list[Check]:
    """The speech model (does it load?) and the microphone."""
    return checks(app)


CHECKS: list[Callable[[App], list[Check]]] = [
    check_config,
    check_database,
    check_encryption,
    check_notifications,
    check_voice,
    check_speech,
    check_service,
]


# Parts of the machine companion can do without: missing, it still saves everything and
# checks in through the log; doctor says how to add them ("missing", not "problem").
OPTIONAL_PARTS = ("notifications", "speech model", "microphone", "speech", "service")


def run_checks(app: App) -> list[Check]:
    """Every check; one that itself fails is reported, never raised."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            found = check(app)
            for item in found:
                item.setdefault("status", "ok" if item.get("ok") else "problem")
                if item["status"] == "problem" and item["name"] in OPTIONAL_PARTS:
                    item["status"] = "missing"
            results += found
        except Exception as exc:  # a broken check must not hide the others
            results.append(
                result(
                    check.__name__.removeprefix("check_"),
                    False,
                    f"could not be checked ({type(exc).__name__})",
                )
            )
    return results
