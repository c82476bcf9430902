"""Saving what a person says: one path for every entry, and the records beside entries.

`save()` is the only way an entry is stored, whatever it came from (typed, standard input,
the microphone in a terminal, a recording, or a hands-free check-in in the daemon):
entries set aside earlier go in first; a check-in answer is linked to its check-in in the
same transaction; when the database cannot take it now (busy, disk full) it is set aside in
a private file and added later; then, after the save and never before, the crisis check and
the aftercare (aftercare.py). Skill uses, tough moments, pattern notices and phrases are
saved by the functions below, which run the same crisis check on their words.
"""

# Lazy imports: content (and random, ~2 ms), only when a check-in's prompt is chosen.

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import pending_file
from .aftercare import after_words
from .app import App
from .errors import CompanionError, StoreError
from .logs import get_log
from .paths import Paths
from .records import Row
from .store import EntryDraft, Store, stamp
from .vocab import OPEN_STATUSES, Status, answer_kind

if TYPE_CHECKING:
    from .content import Choice

log = get_log("companion.journal")


class Saved(NamedTuple):
    """An entry as stored, and the check-in it answered (None when it answered none)."""

    entry: Row
    delivery: Row | None = None


class SetAside(StoreError):
    """The database could not take an entry now; `kept` is the private file holding it
    until the next save (None when no place on disk could keep it)."""

    def __init__(self, message: str, *, kept: Path | None, reason: str):
        super().__init__(message, reason=reason)
        self.kept = kept


def save(
    app: App,
    draft: EntryDraft,
    *,
    answer: bool = False,
    what: str = "entry",
    confirm: Callable[[Saved], None] | None = None,
) -> Saved:
    """Save one entry (`answer`: as the answer to the waiting check-in, when one waits).

    `confirm` is called once the entry is stored, before the aftercare, so the person
    reads "Saved" first. Raises SetAside when the entry had to wait in a file.
    """
    saved = store_entry(app, draft, answer=answer, what=what)
    if confirm is not None:
        confirm(saved)
    entry = saved.entry
    after_words(app, entry.get("text"), kind=entry.get("kind"), mood=entry.get("mood"))
    return saved


def store_entry(app: App, draft: EntryDraft, *, answer: bool = False, what: str = "entry") -> Saved:
    """The storing half of `save()`: replay, link, store, or set aside."""
    try:
        replay_pending(app.store, app.paths)
        if answer and draft.delivery_id is None:
            link_to_waiting(app.store, draft)
        entry, delivery = save_linked(app.store, draft, now=app.clock.now())
    except StoreError as exc:
        if not exc.passing:
            raise
        raise _set_aside(app, draft, exc, answer=answer, what=what) from exc
    return Saved(entry, delivery)


def link_to_waiting(store: Store, draft: EntryDraft) -> None:
    """Make `draft` the answer to the check-in waiting now, if one waits."""
    pending = store.pending_delivery()
    if pending is not None:
        draft.kind = answer_kind(pending.get("kind"))
        draft.prompt = draft.prompt or pending.get("prompt")
        draft.delivery_id = pending["id"]


def save_linked(store: Store, draft: EntryDraft, *, now: datetime) -> tuple[Row, Row | None]:
    """Save an entry in one transaction with its check-in: when `draft.delivery_id` names
    a check-in still open, it becomes answered by this entry (returned second)."""
    with store.writing():
        entry = store.add_entry(draft)
        if (
            draft.delivery_id is None
            or store.delivery(draft.delivery_id)["status"] not in OPEN_STATUSES
        ):
            return entry, None
        return entry, store.set_delivery(
            draft.delivery_id, Status.ANSWERED, entry_id=entry["id"], answered_at=stamp(now)[0]
        )


def checkin_prompt(store: Store, *, area: str | None = None, folder: Path | None = None) -> Choice:
    """The question a typed check-in shows: the waiting one's, or the next of `area`'s
    prompts (any area by default). A `content.Choice`: once the answer is saved, pass it
    to `content.record` (the waiting one's was recorded when it was sent)."""
    from .content import Choice, choose_prompt

    pending = store.pending_delivery()
    if pending is not None and pending.get("prompt"):
        return Choice("prompt", f"delivery:{pending['id']}", str(pending["prompt"]))
    return choose_prompt(store, area or "", folder=folder)


# ---- the records beside entries: the same crisis check on their words
def add_skill_use(
    app: App,
    name: str,
    *,
    helped: int | None = None,
    note: str | None = None,
    tags: tuple[str, ...] = (),
) -> Row:
    """One use of a coping skill."""
    row = app.store.add_skill_use(name, helped=helped, note=note, tags=tags)
    after_words(app, _joined(name, note))
    return row


def add_moment(
    app: App,
    intensity: int,
    *,
    note: str | None = None,
    skill: str | None = None,
    steady_minutes: float | None = None,
    tags: tuple[str, ...] = (),
) -> Row:
    """A tough moment; a kind phrase follows an intense one."""
    row = app.store.add_moment(
        intensity, note=note, skill=skill, steady_minutes=steady_minutes, tags=tags
    )
    after_words(app, _joined(skill, note), intensity=intensity)
    return row


def notice_pattern(
    app: App,
    name: str,
    *,
    responded: bool = False,
    note: str | None = None,
    tags: tuple[str, ...] = (),
) -> Row:
    """A time a named pattern was caught."""
    row = app.store.notice_pattern(name, responded=responded, note=note, tags=tags)
    after_words(app, note)
    return row


def add_phrase(app: App, text: str, *, context: str | None = None) -> Row:
    """A phrase in the person's own words."""
    row = app.store.add_phrase(text, context=context)
    after_words(app, text)
    return row


def _joined(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def _set_aside(
    app: App, draft: EntryDraft, exc: StoreError, *, answer: bool, what: str
) -> SetAside:
    """Keep `draft` in a private file and say where; with no place on disk, give the words
    back to the person (the only time companion shows them unasked)."""
    kept = set_aside(
        app.paths,
        draft,
        answer=answer,
        now=app.clock.now(),
        store=app.store if app.has_store else None,
    )
    reason = why_not_saved(exc)
    if kept is not None:
        message = (
            f"{reason} Your {what} is not lost: it is kept in {kept} and will be added "
            "by the next companion command that saves something, or by the daemon."
        )
    else:
        app.ui.say(draft.text)
        message = (
            f"{reason} Your {what} could not be set aside either, so it is printed "
            "above; please copy it somewhere safe."
        )
    return SetAside(message, kept=kept, reason=exc.reason)


# ---- set aside: entries the database could not take (disk full, held too long)
# The text waits, fsynced, in a private file and is added by the next save or the
# daemon's next wake. The pending folder sits in the data folder; when that disk is
# the full one, in the runtime folder (memory) instead. The file format (sealed when the
# database is encrypted) is pending_file.py's.


def why_not_saved(exc: StoreError) -> str:
    """One sentence on why the database could not take an entry just now."""
    if exc.reason == "full":
        return "the disk is full, so the database could not take it right now."
    if exc.reason == "busy":
        return "another program is holding the database, so it could not take it right now."
    if exc.reason == "readonly":
        return "the database cannot be written here (a read-only folder or disk) right now."
    return "the disk could not be written just now."


def pending_dirs(paths: Paths, env: dict[str, str] | None = None) -> list[Path]:
    """Where set-aside entries are kept, in the order they are tried."""
    env = dict(os.environ if env is None else env)
    dirs = [paths.data_dir / "pending"]
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        dirs.append(Path(runtime) / "companion-pending")
    return dirs


def set_aside(
    paths: Paths, draft: EntryDraft, *, answer: bool, now: datetime, store: Store | None = None
) -> Path | None:
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
        log.info(
            "%d entr%s set aside earlier %s saved now",
            done,
            "y" if done == 1 else "ies",
            "was" if done == 1 else "were",
        )
    return done


def _draft_from(record: Row) -> tuple[EntryDraft, bool]:
    answer = bool(record.pop("answer", False))
    record["when"] = datetime.fromisoformat(record["when"])
    record["tags"] = tuple(record.get("tags") or ())
    return EntryDraft(**record), answer


def _save_once(store: Store, draft: EntryDraft, *, answer: bool) -> None:
    utc = stamp(draft.when or store.clock.now())[1]
    if store.has_entry(created_utc=utc, text=draft.text):
        return
    if not answer:
        draft.delivery_id = None
    save_linked(store, draft, now=store.clock.now())
