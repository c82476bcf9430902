"""Typed journaling: saving entries, answering check-ins, skills, tough moments, patterns."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from . import pending_file
from .clock import Clock
from .errors import CompanionError
from .paths import Paths
from .store import OPEN_STATUSES, EntryDraft, Store, stamp

log = logging.getLogger("companion.journal")

# What a check-in answer is stored as, by the kind of check-in it answers.
ANSWER_KIND = {"checkin": "checkin", "weekly": "weekly", "friend": "friend",
               "session-prep": "session-prep", "session-follow-up": "follow-up"}


def answer_checkin(store: Store, draft: EntryDraft, *, clock: Clock
                   ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Save a check-in answer; if a check-in is waiting, the answer is linked to it."""
    pending = store.pending_delivery()
    if pending is not None:
        draft.kind = ANSWER_KIND.get(pending.get("kind") or "checkin", "checkin")
        draft.prompt = draft.prompt or pending.get("prompt")
        draft.delivery_id = pending["id"]
    return save_linked(store, draft, now=clock.now())


def save_linked(store: Store, draft: EntryDraft, *, now: datetime
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Save an entry in one transaction with its check-in: when `draft.delivery_id` names
    a check-in still open, it becomes answered by this entry (returned second)."""
    with store.writing():
        entry = store.add_entry(draft)
        if draft.delivery_id is None \
                or store.delivery(draft.delivery_id)["status"] not in OPEN_STATUSES:
            return entry, None
        return entry, store.set_delivery(draft.delivery_id, "answered", entry_id=entry["id"],
                                         answered_at=stamp(now)[0])


def checkin_prompt(store: Store) -> str:
    """The question a typed check-in shows: the waiting one's, or a fresh one."""
    pending = store.pending_delivery()
    if pending is not None and pending.get("prompt"):
        return str(pending["prompt"])
    from .content import choose_prompt

    return choose_prompt(store, "")[1]



# ---- set aside: entries the database could not take (disk full, held too long)
# The text waits, fsynced, in a private file and is added by the next save or the
# daemon's next wake. The pending folder sits in the data folder; when that disk is
# the full one, in the runtime folder (memory) instead.
_RETRYABLE = {5, 6, 8, 10, 13}  # BUSY, LOCKED, READONLY (a read-only disk), IOERR, FULL


def can_set_aside(exc: BaseException) -> bool:
    """Whether a StoreError came from a passing condition (full disk, busy database)."""
    code = getattr(exc.__cause__, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _RETRYABLE


def why_not_saved(exc: BaseException, folder: Path) -> str:
    """One sentence on why the database in `folder` could not take an entry just now."""
    import shutil

    code = getattr(exc.__cause__, "sqlite_errorcode", 0) & 0xFF
    with contextlib.suppress(OSError):
        if code == 10 and shutil.disk_usage(folder).free < 1 << 20:
            code = 13  # SQLite reports a full disk met while growing its index as I/O error
    if code == 13:
        return "the disk is full, so the database could not take it right now."
    if code in (5, 6):
        return "another program is holding the database, so it could not take it right now."
    if code == 8:
        return "the database's folder is read-only, so it could not take it right now."
    return "the disk could not be written just now."


def pending_dirs(paths: Paths, env: dict[str, str] | None = None) -> list[Path]:
    """Where set-aside entries are kept, in the order they are tried."""
    env = dict(os.environ if env is None else env)
    dirs = [paths.data_dir / "pending"]
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        dirs.append(Path(runtime) / "companion-pending")
    return dirs


def set_aside(paths: Paths, draft: EntryDraft, *, answer: bool, now: datetime,
              store: Store | None = None) -> Path | None:
    """Keep a draft that could not be saved in a private file; None if no place took it.

    `store` is the database that could not take it, if it was opened: when it is
    encrypted, the file is sealed with its key (see pending_file.py).
    """
    record = asdict(draft)
    record["when"] = (draft.when or now).isoformat()
    record["answer"] = answer
    stem = f"{stamp(now)[1].replace(':', '')}-{os.getpid()}-{id(draft)}"
    for folder in pending_dirs(paths):
        try:
            return pending_file.write(folder, stem, record, store=store, db_file=paths.db_file)
        except (OSError, CompanionError):
            log.warning("could not set an entry aside in %s", folder)
    return None


def replay_pending(store: Store, paths: Paths) -> int:
    """Save every entry that was set aside; returns how many went in now.

    Idempotent: an entry already saved (same time and text) is not added twice, so a
    kill between saving and removing the file loses nothing and doubles nothing.
    """
    done = 0
    for folder in pending_dirs(paths):
        for file in pending_file.files(folder):
            try:
                draft, answer = _draft_from(pending_file.read(file, store=store))
            except (OSError, ValueError, TypeError, CompanionError):
                log.warning("a set-aside entry could not be read; it stays in %s", folder)
                continue
            _save_once(store, draft, answer=answer)
            file.unlink(missing_ok=True)
            done += 1
    if done:
        log.info("%d entr%s set aside earlier %s saved now", done, "y" if done == 1 else "ies",
                 "was" if done == 1 else "were")
    return done


def _draft_from(record: dict[str, Any]) -> tuple[EntryDraft, bool]:
    answer = bool(record.pop("answer", False))
    record["when"] = datetime.fromisoformat(record["when"])
    record["tags"] = tuple(record.get("tags") or ())
    return EntryDraft(**record), answer


def _save_once(store: Store, draft: EntryDraft, *, answer: bool) -> None:
    utc = stamp(draft.when or store.clock.now())[1]
    if store.rows("entries", where="created_utc = ? AND text = ?", params=(utc, draft.text)):
        return
    if not answer:
        draft.delivery_id = None
    save_linked(store, draft, now=store.clock.now())
