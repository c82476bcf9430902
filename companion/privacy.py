"""Forgetting for real, and backups and copies the user can find."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from pathlib import Path

from . import pending_file
from .errors import NotFoundError
from .journal import pending_dirs
from .logs import get_log
from .paths import Paths, check_output, ensure_dir, inside, wipe_file
from .records import Forgotten
from .store import Store
from .vocab import PENDING

log = get_log("companion.privacy")
PENDING_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def _remove_audio(paths: Paths, files: list[str]) -> None:
    """Delete recordings that belonged to forgotten entries, only inside the audio folder."""
    for name in files:
        path = inside(paths.audio_dir, name)
        if path is None:
            log.warning(
                "a forgotten entry named a recording outside the audio folder; "
                "that file was left alone"
            )
            continue
        with contextlib.suppress(IsADirectoryError):
            wipe_file(path)


def list_backups(paths: Paths) -> list[str]:
    if not paths.backups_dir.is_dir():
        return []
    return sorted(str(p) for p in paths.backups_dir.glob("*.db"))


def list_copies(paths: Paths) -> list[str]:
    """Files in the exports folder (exports, decrypt's plain copies): they may hold it too."""
    if not paths.exports_dir.is_dir():
        return []
    return sorted(str(p) for p in paths.exports_dir.iterdir() if p.is_file())


def list_pending(paths: Paths) -> list[str]:
    """Words set aside while the database could not take them, as `pending:NAME` refs."""
    return sorted(
        f"{PENDING}:{p.stem}" for folder in pending_dirs(paths) for p in pending_file.files(folder)
    )


def _report(paths: Paths, deleted: str) -> Forgotten:
    return {
        "deleted": deleted,
        "backups": list_backups(paths),
        "copies": list_copies(paths),
        "pending": list_pending(paths),
    }


def forget_record(store: Store, paths: Paths, kind: str, record_id: int) -> Forgotten:
    _remove_audio(paths, store.forget(kind, record_id))
    label = f"{kind} {record_id}" if kind == "entry" else f"{kind}:{record_id}"
    return _report(paths, label)


def forget_pending(paths: Paths, name: str) -> Forgotten:
    """Delete words that wait in `pending/` to be saved (`forget pending:NAME`)."""
    name = name.removesuffix(pending_file.PLAIN).removesuffix(pending_file.SEALED)
    found = (
        [
            folder / f"{name}{suffix}"
            for folder in pending_dirs(paths)
            for suffix in (pending_file.PLAIN, pending_file.SEALED)
        ]
        if PENDING_NAME.match(name)
        else []
    )
    found = [p for p in found if p.is_file()]
    if not found:
        raise NotFoundError(
            f"nothing is waiting as {PENDING}:{name}; `companion forget` "
            "lists what is waiting after each deletion."
        )
    for path in found:
        wipe_file(path)
    return _report(paths, f"{PENDING}:{name}")


def forget_everything(store: Store, paths: Paths) -> Forgotten:
    _remove_audio(paths, store.forget_all())
    for folder in (paths.audio_dir, paths.exports_dir, paths.tmp_dir, *pending_dirs(paths)):
        if folder.is_dir():
            for item in folder.iterdir():
                if item.is_file() or item.is_symlink():
                    wipe_file(item)
    return _report(paths, "everything")


def make_backup(store: Store, paths: Paths, dest: Path | None, *, now: datetime) -> Path:
    name = f"companion-{now:%Y%m%d-%H%M%S}.db"
    if dest is None:
        dest = ensure_dir(paths.backups_dir) / name
    elif dest.is_dir():
        dest = dest / name
    return store.backup(check_output(dest, paths))
