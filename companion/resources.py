"""Where the shipped packs live: inside the wheel (companion/packs/) or, in a checkout, the repo."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def pack_dir(name: str) -> Path:
    """The folder of a shipped pack: ``"config"`` or ``"models"``."""
    installed = _HERE / "packs" / name
    if installed.is_dir():
        return installed
    return _HERE.parent / name


def pack_file(pack: str, filename: str) -> Path:
    """A file of a shipped pack, such as ``pack_file("config", "default.toml")``."""
    return pack_dir(pack) / filename
