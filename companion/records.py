"""The shapes of data that cross modules, named once.

`Row` is a JSON payload: a database row as sqlite-utils returns it, a record read from an
export file, or what a command prints with --json. Its values are whatever SQLite or JSON
holds, and each reader checks what it takes, so this is the one place `dict[str, Any]`
stands. Where a shape is fixed and read by another module, it is a TypedDict here instead,
and mypy checks every key on both sides.
"""

from typing import Any, NotRequired, TypedDict

# A JSON payload: one database row or JSON record.
Row = dict[str, Any]  # type: ignore[explicit-any]
Tables = dict[str, list[Row]]  # an export: each table's name and its rows


class Word(TypedDict):
    """One word the recogniser heard: how sure it was (0-1) and when, in audio seconds."""

    word: str
    conf: float
    start: float
    end: float


class CycleState(TypedDict):
    """Where a pool of prompts or phrases stands in its shuffled cycle (Store.cycle_state)."""

    cycle: int  # 0 before the first use
    seed: int | None  # the shuffle's seed, None before the first use
    seen: list[str]  # the keys shown in this cycle
    last: str | None  # the key shown last
    count: int  # how many were ever shown


class Check(TypedDict):
    """One line of `companion doctor`: a part, whether it works, and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str
    status: NotRequired[str]  # "ok", "note", "missing" or "problem"; doctor fills it in


class ServiceState(TypedDict):
    """The systemd unit and the daemon, as `service status` and `doctor` show them."""

    unit_file: str
    installed: bool
    enabled: str  # what `systemctl is-enabled` said, or "no"
    active: str  # what `systemctl is-active` said, or "no"
    user_manager: bool  # whether a systemd user manager runs here to start it
    running_pid: int | None


class BackendCheck(TypedDict):
    """The notification backend that would be used, for `doctor`."""

    ok: bool
    backend: str
    actions: bool  # whether it shows buttons
    detail: str


class Microphone(TypedDict):
    """The input device a recording would use."""

    name: str
    rate: int  # its own sample rate (Hz), resampled to 16 kHz
    index: int | None  # sounddevice's number for it


class Forgotten(TypedDict):
    """What `forget` deleted, and where copies of it may still be."""

    deleted: str
    backups: list[str]
    copies: list[str]
    pending: list[str]
