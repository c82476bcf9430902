"""The small exception tree. Domain code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    USER_ERROR = 1
    USAGE = 2
    MISSING_PART = 3


class CompanionError(Exception):
    """An error with a sentence a person understands."""

    exit_code: ExitCode = ExitCode.USER_ERROR


class InputError(CompanionError):
    """Bad input: a value, a file or an argument that cannot be used."""


class NotFoundError(CompanionError):
    """Something the user named does not exist."""


class StoreError(CompanionError):
    """The database cannot be opened or written.

    `reason` says why, for callers that act on it: "busy" (another program holds the
    database), "full" (the disk is full), "io" (the disk could not be written), "corrupt",
    "readonly", or "" when it is none of those.
    """

    # Conditions that pass: worth setting an entry aside ("readonly": a read-only disk or
    # folder, where reading commands still work; the words wait in the runtime folder).
    PASSING = ("busy", "full", "io", "readonly")

    def __init__(self, message: str, *, reason: str = ""):
        super().__init__(message)
        self.reason = reason

    @property
    def passing(self) -> bool:
        """Whether the condition passes by itself (busy, full disk): set the entry aside."""
        return self.reason in self.PASSING


class ConfigError(CompanionError):
    """A configuration file that cannot be used; names the file, the line and the key."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None, key: str = ""):
        self.file = file
        self.line = line
        self.key = key
        self.reason = message
        where = file
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        if key:
            where = f"{where}, key {key}" if where else f"key {key}"
        super().__init__(f"{where}: {message}" if where else message)


class MissingPartError(CompanionError):
    """Something the machine lacks (a speech model, a microphone, a TTS engine...).

    The message says how to fix it.
    """

    exit_code = ExitCode.MISSING_PART


class AudioSourceLost(MissingPartError):
    """The microphone stopped sending sound in the middle of an answer."""
