"""Forgetting for real, and backups the user can find."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .paths import Paths, ensure_dir
from .store import Store


def _remove_files(paths: Paths, files: list[str]) -> None:
    """Delete audio files that belonged to forgotten entries (only inside our folder)."""
    root = paths.data_dir.resolve()
    for name in files:
        path = Path(name).resolve()
        if root in path.parents:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def list_backups(paths: Paths) -> list[str]:
    if not paths.backups_dir.is_dir():
        return []
    return sorted(str(p) for p in paths.backups_dir.glob("*.db"))


def forget_record(store: Store, paths: Paths, kind: str, record_id: int) -> dict[str, Any]:
    _remove_files(paths, store.forget(kind, record_id))
    label = f"{kind} {record_id}" if kind == "entry" else f"{kind}:{record_id}"
    return {"deleted": label, "backups": list_backups(paths)}


def forget_everything(store: Store, paths: Paths) -> dict[str, Any]:
    from .journal import pending_dirs

    _remove_files(paths, store.forget_all())
    for folder in (paths.audio_dir, paths.exports_dir, paths.tmp_dir, *pending_dirs(paths)):
        if folder.is_dir():
            for item in folder.iterdir():
                if item.is_file():
                    item.unlink()
    return {"deleted": "everything", "backups": list_backups(paths)}


def make_backup(store: Store, paths: Paths, dest: Path | None, *, now: datetime) -> Path:
    name = f"companion-{now:%Y%m%d-%H%M%S}.db"
    if dest is None:
        dest = ensure_dir(paths.backups_dir) / name
    elif dest.is_dir():
        dest = dest / name
    elif not dest.parent.is_dir():
        raise InputError(f"the folder {dest.parent} does not exist; create it first or choose "
                         "another place for the backup.")
    return store.backup(dest)
