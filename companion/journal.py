"""Typed journaling: saving entries, answering check-ins, skills, tough moments, patterns."""

from __future__ import annotations

from typing import Any

from .clock import Clock
from .store import EntryDraft, Store, stamp

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
    with store.writing():
        entry = store.add_entry(draft)
        if pending is not None:
            pending = store.set_delivery(pending["id"], "answered", entry_id=entry["id"],
                                         answered_at=stamp(clock.now())[0])
    return entry, pending


def checkin_prompt(store: Store) -> str:
    """The question a typed check-in shows: the waiting one's, or a fresh one."""
    pending = store.pending_delivery()
    if pending is not None and pending.get("prompt"):
        return str(pending["prompt"])
    from .content import choose_prompt

    return choose_prompt(store, "")[1]

