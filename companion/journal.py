"""Typed journaling: saving entries, answering check-ins, skills, tough moments, patterns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .clock import Clock
from .config import Settings
from .errors import NotFoundError
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


def waiting_checkin(store: Store) -> dict[str, Any]:
    pending = store.pending_delivery()
    if pending is None:
        raise NotFoundError("no check-in is waiting right now. You can still write one: "
                            "companion checkin --text \"...\"")
    return pending


def snooze_checkin(store: Store, settings: Settings, *, clock: Clock) -> dict[str, Any]:
    """Put the waiting check-in off for [checkins] snooze_minutes."""
    pending = waiting_checkin(store)
    until = clock.now() + timedelta(minutes=settings.checkins.snooze_minutes)
    return store.set_delivery(pending["id"], "snoozed", snoozed_until=stamp(until)[0])


def skip_checkin(store: Store) -> dict[str, Any]:
    """Let the waiting check-in go (that is fine)."""
    return store.set_delivery(waiting_checkin(store)["id"], "skipped")


def checkin_prompt(store: Store) -> str:
    """The question a typed check-in shows: the waiting one's, or a fresh one."""
    pending = store.pending_delivery()
    if pending is not None and pending.get("prompt"):
        return str(pending["prompt"])
    from .content import choose_prompt

    return choose_prompt(store, "")[1]

