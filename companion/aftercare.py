"""What follows a save: crisis resources when the words call for them, and a kind phrase
after a hard moment. Never blocks or undoes the save."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("companion.aftercare")

# Entry kinds that answer a check-in: their words can make a moment sound hard.
_ANSWER_KINDS = ("checkin", "weekly", "friend", "follow-up")


def after_entry(app: Any, entry: dict[str, Any], *, notify: Any = None,
                own_words: bool = False) -> None:
    """Runs after every saved entry or tough moment (`{"moment": row}`). `own_words`: the
    person is at this terminal, so their own words (a win read back) may be shown."""
    from .safety import check_text, show_resources
    from .speech import after_hard_moment

    moment = entry.get("moment") or {}
    text = entry.get("text") or moment.get("note")
    try:
        resources = check_text(text, app.settings)
    except Exception as exc:  # the save stands whatever happens here
        log.error("crisis check failed: %s", exc)
        resources = None
    if resources is not None:
        show_resources(resources, notify=notify)
        return  # the resources come first; no cheerful voice on top of them
    after_hard_moment(app, mood=entry.get("mood"), intensity=moment.get("intensity"),
                      text=text if entry.get("kind") in _ANSWER_KINDS else None,
                      own_words=own_words)
