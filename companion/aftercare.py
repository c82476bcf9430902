"""What follows a save: crisis resources when the words call for them, and a kind phrase
after a hard moment. Runs after the words are stored; never blocks, delays or undoes that.
"""

from __future__ import annotations

from .app import App
from .logs import get_log
from .safety import Resources, show_resources
from .speech import after_hard_moment
from .vocab import FEELING_KINDS

log = get_log("companion.aftercare")


def after_words(
    app: App,
    text: str | None,
    *,
    kind: str | None = None,
    mood: int | None = None,
    intensity: int | None = None,
) -> Resources | None:
    """Runs after anything a person saved: an entry of any kind, a note on a skill use, a
    tough moment, a pattern, a phrase. Returns the crisis resources shown, if any."""
    resources = crisis_check(app, text)
    if resources is not None:
        show_resources(resources, echo=app.ui.warn, notify=app.notify_urgent)
        return resources  # the resources come first; no cheerful voice on top of them
    after_hard_moment(
        app,
        mood=mood,
        intensity=intensity,
        text=text if kind in FEELING_KINDS else None,
        say=app.ui.warn,
    )
    return None


def crisis_check(app: App, text: str | None) -> Resources | None:
    """The resources for `text`, or None; a failing check is logged, never raised."""
    if not text:
        return None
    try:
        return app.check_words(text, app.settings)
    except Exception as exc:  # the save stands whatever happens here
        log.error("crisis check failed: %s", type(exc).__name__)
        return None
