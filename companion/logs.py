"""Loggers made on first use.

Importing the logging package costs a process about 6 ms, and most commands never log a
line: each module keeps a `Log` (`log = get_log("companion.x")`) that imports logging only
when it first logs. The first one to log also gives the "companion" logger a NullHandler,
so a command prints no stray warnings unless someone configured logging (the daemon's log
file, `--debug`): what the standard library asks of a library.
"""

# Lazy imports: logging (~6 ms), only when a line is first logged.

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

_ready: list[bool] = []  # set once the "companion" logger has its NullHandler


class Log:
    """The parts of `logging.Logger` companion uses, made when first used."""

    __slots__ = ("name", "_logger")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    def logger(self) -> logging.Logger:
        if self._logger is None:
            import logging

            if not _ready:
                logging.getLogger("companion").addHandler(logging.NullHandler())
                _ready.append(True)
            self._logger = logging.getLogger(self.name)
        return self._logger

    def debug(self, msg: str, *args: object) -> None:
        self.logger().debug(msg, *args)

    def info(self, msg: str, *args: object) -> None:
        self.logger().info(msg, *args)

    def warning(self, msg: str, *args: object) -> None:
        self.logger().warning(msg, *args)

    def error(self, msg: str, *args: object) -> None:
        self.logger().error(msg, *args)

    def exception(self, msg: str, *args: object) -> None:
        self.logger().exception(msg, *args)

    def log(self, level: int, msg: str, *args: object) -> None:
        self.logger().log(level, msg, *args)


def get_log(name: str) -> Log:
    return Log(name)
