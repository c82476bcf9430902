"""What the therapist noticed or suggested: a note linked to the session it came from,
shown in the next brief and brought back as a check-in question during the week.

A note is an entry of kind "therapist" with the session's id. Its words never go into a
notification: `week_prompt()` gives a question that does not quote it, and the note
itself separately, for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .sessions import find_occurrence, last_session
from .store import EntryDraft, Store
from .vocab import EntryKind

THERAPIST = EntryKind.THERAPIST

PROMPT_DAYS = 7
PROMPT_WINDOW = timedelta(days=PROMPT_DAYS)
THERAPIST_PROMPT = (
    "After your session you wrote down what your therapist noticed or "
    "suggested. How has it gone with that this week?"
)


def note_draft(
    store: Store,
    text: str,
    *,
    now: datetime,
    session_id: int | None = None,
    tags: tuple[str, ...] = (),
) -> EntryDraft:
    """A therapist's note ready to save, linked to session `session_id` (NotFoundError if
    there is none) or else to the latest session that has started (none: not linked)."""
    if session_id is None:
        last = last_session(store, now)
        session_id = last.session_id if last is not None else None
    else:
        find_occurrence(store, session_id)
    return EntryDraft(THERAPIST, text, session_id=session_id, tags=tags)


@dataclass(frozen=True)
class NotePrompt:
    """This week's question about the therapist's note."""

    entry_id: int
    session_id: int | None
    prompt: str  # safe for a notification: it never quotes the note
    note: str  # the note's own words, for a terminal only


def week_prompt(store: Store, now: datetime, *, days: int = PROMPT_DAYS) -> NotePrompt | None:
    """The check-in question that brings back the latest therapist's note written in the
    last `days` days, or None when there is none (the daemon or content may offer it)."""
    notes = store.entries(since=now - timedelta(days=days), through=now, kind=THERAPIST)
    if not notes:
        return None
    note = notes[-1]
    return NotePrompt(
        entry_id=int(note["id"]),
        session_id=note.get("session_id"),
        prompt=THERAPIST_PROMPT,
        note=str(note["text"]),
    )
