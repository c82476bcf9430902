"""The one typed application object: paths, clock, settings, store, and the outside parts.

Built in one place by the CLI (`App.from_environment`) and by the daemon, and passed in, as httpie
passes its `Environment`: tests build their own with a temporary folder, a fixed clock and
their own `Ui`. Settings and the store are opened on first use, so `companion --help` and
`help-now` never touch the configuration or the database.

Core modules never print or ask: they talk to the person through `app.ui` (the CLI's is
click on a terminal, the daemon's is its log), and reach notifications and speech through
the factories here, so each outside part can be swapped for a test's own.
"""
# Lazy imports: the store (sqlite-utils, and SQLCipher when encrypted) and the
# notification and speech adapters load on first use, so --help and help-now stay fast.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .clock import Clock, SystemClock
from .config import Settings, load_settings, load_settings_leniently
from .errors import ConfigError
from .logs import get_log
from .paths import Paths, resolve_paths
from .safety import Resources, check_text

if TYPE_CHECKING:  # only for types: the store and the adapters load when first used
    from .adapters.notify import Backend, Notice
    from .adapters.speaker import Speaker
    from .config import NotificationSettings, SpeechSettings
    from .store import Store

log = get_log("companion.app")


class Ui(Protocol):
    """How core code talks to the person: a terminal for the CLI, the log for the daemon."""

    def say(self, text: str) -> None:
        """A result, on standard output."""
        ...

    def warn(self, text: str) -> None:
        """A note beside the result (standard error), never the person's words."""
        ...

    def ask(self, question: str, *, default: str | None = None, hidden: bool = False) -> str:
        """A line typed by the person (raises EOFError when nobody can answer)."""
        ...


class LogUi:
    """The daemon's Ui: notes go to the log; nobody is there to answer questions."""

    def say(self, text: str) -> None:
        log.info("%s", text)

    def warn(self, text: str) -> None:
        log.warning("%s", text)

    def ask(self, question: str, *, default: str | None = None, hidden: bool = False) -> str:
        if default is not None:
            return default
        raise EOFError("the daemon cannot ask questions")


def default_speaker(speech: SpeechSettings) -> Speaker:
    """The real speaker (pyttsx3 + espeak-ng in a child process with a timeout)."""
    from .adapters.speaker import Speaker

    return Speaker(speech)


def default_notify(notifications: NotificationSettings, notice: Notice) -> bool:
    """Show one notification through the configured backend; False when none could."""
    from .adapters.notify import send_once

    return send_once(notifications.backend, notice, timeout=notifications.timeout_seconds)


MakeSpeaker = Callable[["SpeechSettings"], "Speaker"]
Notify = Callable[["NotificationSettings", "Notice"], bool]
LoadSettings = Callable[[Path], tuple[Settings, list[ConfigError]]]
CheckWords = Callable[[str, Settings], Resources | None]


@dataclass
class App:
    """Everything a command or the daemon works with."""

    paths: Paths
    ui: Ui = field(default_factory=LogUi)
    clock: Clock = field(default_factory=SystemClock)
    debug: bool = False
    make_speaker: MakeSpeaker = default_speaker
    notify: Notify = default_notify
    load_settings: LoadSettings = load_settings_leniently
    check_words: CheckWords = check_text  # the crisis check (aftercare.py)
    backend: Backend | None = None  # the daemon's notification backend, when it has one
    _settings: Settings | None = None
    _store: Store | None = None
    problems: list[ConfigError] = field(default_factory=list)  # mistakes in config.toml

    @classmethod
    def from_environment(cls, *, ui: Ui, debug: bool = False) -> App:
        """The App of a real run: folders from COMPANION_HOME or the user's folders."""
        return cls(paths=resolve_paths(), ui=ui, debug=debug)

    @property
    def settings(self) -> Settings:
        """The configuration; a mistake in config.toml costs one warning, never a save."""
        if self._settings is None:
            settings, self.problems = self.load_settings(self.paths.config_file)
            if self.problems:
                self.ui.warn(
                    f"warning: {self.problems[0]} (run `companion config check`); "
                    "using the defaults for what is broken."
                )
            self._settings = settings
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    def checked_settings(self) -> Settings:
        """The configuration, refusing a file with a mistake (ConfigError): for `config
        check` and the daemon's start, where the mistake must be fixed, not worked around."""
        self._settings = load_settings(self.paths.config_file)
        return self._settings

    @property
    def store(self) -> Store:
        """The database, opened (and unlocked when encrypted) on first use."""
        if self._store is None:
            from .crypto import open_store

            storage = self.settings.storage
            self._store = open_store(
                self.paths.db_file,
                self.settings.security,
                ask=self.ask_passphrase,
                notice=self.ui.warn,
                clock=self.clock,
                busy_timeout=storage.busy_timeout_seconds,
                max_text_chars=storage.max_text_chars,
            )
        return self._store

    @store.setter
    def store(self, value: Store) -> None:
        self._store = value

    def ask_passphrase(self, prompt: str, *, confirm: bool) -> str | None:
        """A passphrase typed by the person, hidden (twice when it is new); None when
        nobody can type one here (no terminal, the daemon)."""
        try:
            while True:
                typed = self.ui.ask(prompt, hidden=True)
                if not confirm or self.ui.ask("Once more, to be sure", hidden=True) == typed:
                    return typed
                self.ui.warn("The two did not match. Please type it again.")
        except EOFError:
            return None

    @property
    def has_store(self) -> bool:
        return self._store is not None

    def speaker(self) -> Speaker:
        return self.make_speaker(self.settings.speech)

    def notify_urgent(self, title: str, body: str) -> None:
        """An urgent notification (crisis resources): the daemon's backend, or a new one."""
        from .adapters.notify import Notice, NotifyError

        notice = Notice(title, body, urgency=2)
        if self.backend is not None:
            try:
                self.backend.send(notice)
            except NotifyError as exc:
                log.warning("an urgent notification could not be shown: %s", exc)
            return
        self.notify(self.settings.notifications, notice)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
