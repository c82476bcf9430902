"""Kind phrases read aloud: `encourage`, the friend test, and a phrase after a hard moment.

Choosing is content.py's (favourites and the user's own first, each pool worked through
before a phrase comes back; each phrase is recorded as heard once shown). Speaking is the
speaker adapter's, in a child process with a timeout, imported only when something is
about to be said.
"""

# Lazy imports: content (and random, ~2 ms together), only when a phrase or a win is chosen:
# most saves after which this module is asked whether a moment was hard choose none.

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .app import App, LogUi
from .errors import CompanionError, ConfigError, MissingPartError
from .logs import get_log
from .records import Row
from .safety import find_phrase
from .vocab import EntryKind

if TYPE_CHECKING:  # the speaker adapter is imported only when something is said
    from contextlib import AbstractContextManager

    from .adapters.speaker import Speaker
    from .content import Choice
    from .store import Store

log = get_log("companion.speech")

Say = Callable[[str], object]

FRIEND_QUESTION = (
    "Pause for a moment. If a good friend were doing this same hard work and talked to "
    "themselves the way you are talking to yourself right now, what would you tell them?"
)
# Words in a check-in answer that pick the kind of phrase, in order of preference.
CONTEXT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "anxious",
        (
            "anxious",
            "anxiety",
            "panic*",
            "worried",
            "worry*",
            "nervous",
            "scared",
            "afraid",
            "불안*",
        ),
    ),
    ("mistake", ("mistake*", "messed up", "screwed up", "my fault", "stupid", "idiot")),
    ("setback", ("setback*", "relapse*", "back to square one", "slipped", "fell back")),
    ("tired", ("tired", "exhausted", "drained", "worn out", "no energy", "피곤*")),
)
# Words that make an answer sound hard, even without a mood.
HARD_WORDS = (
    "hard",
    "awful",
    "terrible",
    "horrible",
    "anxious",
    "panic*",
    "overwhelm*",
    "hopeless",
    "miserable",
    "worst",
    "cried",
    "crying",
    "sad",
    "lonely",
    "exhausted",
    "힘들*",
    "불안*",
    "우울*",
)
LOW_MOOD = 2
HIGH_INTENSITY = 7
WIN_USE, WIN_POOL = "win", "win-readback"  # content_uses: wins read back after a hard moment
WIN_AGE = timedelta(days=7)
GROWTH = "Setbacks don't erase growth."


class Spoken(NamedTuple):
    """A phrase that was chosen and shown, and what happened to its sound."""

    key: str
    text: str
    context: str | None
    spoken: bool = False
    path: Path | None = None
    not_played: str = ""  # why the sound could not be played (the phrase was still shown)

    def as_dict(self) -> Row:
        return {
            "key": self.key,
            "text": self.text,
            "context": self.context,
            "spoken": self.spoken,
            "path": str(self.path) if self.path else None,
            "not_played": self.not_played or None,
        }


class _Speaks(Protocol):
    def start_speaking(self, text: str) -> None: ...

    def finish(self) -> None: ...


class _NoSound:
    """Stands in for an utterance when the speaking helper could not even start."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def start_speaking(self, text: str) -> None:
        pass

    def finish(self) -> None:
        raise MissingPartError(self.reason)


def _voice(
    app: App, speaker: Speaker | None, *, print_only: bool, to_file: Path | None
) -> AbstractContextManager[_Speaks | None]:
    """A prepared utterance when the phrase is to be read aloud (the speaking child warms up
    while the phrase is chosen), otherwise nothing."""
    if to_file is not None or print_only or not app.settings.speech.enabled:
        return contextlib.nullcontext(None)
    try:
        return (speaker or app.speaker()).prepare()
    except CompanionError as exc:  # no sound here; a [speech] mistake is the person's to fix
        if isinstance(exc, ConfigError):
            raise
        return contextlib.nullcontext(_NoSound(str(exc)))


def _deliver(
    app: App,
    choice: Choice,
    context: str | None,
    *,
    utterance: _Speaks | None,
    to_file: Path | None,
    show: Say | None,
    speaker: Speaker | None,
) -> Spoken:
    """Show the phrase, then speak it or write it to a WAV file. It is recorded as heard
    while it is being read aloud (the first sound waits for nothing but the choice), and
    before the speaker is waited for, so a failing speaker never brings it straight back."""
    from .content import record

    key, text = choice.key, choice.text
    if show is not None:
        show(text)
    if to_file is not None:
        path = (speaker or app.speaker()).save(text, to_file)
        record(app.store, choice)
        return Spoken(key, text, context, path=path)
    if utterance is not None:
        utterance.start_speaking(text)  # never raises: finish() says what went wrong
    record(app.store, choice)
    if utterance is None:
        return Spoken(key, text, context)
    try:
        utterance.finish()
    except CompanionError as exc:  # shown and kept; only the sound is lost
        if isinstance(exc, ConfigError):
            raise
        log.warning("a phrase could not be read aloud: %s", exc)
        return Spoken(key, text, context, not_played=str(exc))
    return Spoken(key, text, context, spoken=True)


def encourage(
    app: App,
    *,
    context: str | None = None,
    print_only: bool = False,
    to_file: Path | None = None,
    show: Say | None = None,
    speaker: Speaker | None = None,
) -> Spoken:
    """Choose a phrase for `context` (the person's own pack merged in), show it, and read
    it aloud (or write it to a WAV). When no sound can be played the phrase is still
    shown, and `Spoken.not_played` says why; errors writing a WAV reach the caller."""
    from .content import choose_phrase

    with _voice(app, speaker, print_only=print_only, to_file=to_file) as utterance:
        choice = choose_phrase(app.store, context, folder=app.paths.config_dir)
        return _deliver(
            app, choice, context, utterance=utterance, to_file=to_file, show=show, speaker=speaker
        )


def friend_test(
    app: App,
    *,
    kinder: str | None = None,
    context: str = "mistake",
    print_only: bool = False,
    show: Say | None = None,
    speaker: Speaker | None = None,
) -> Spoken:
    """After the friend question: keep the person's own kinder words as a phrase (when
    given) and read them back, or offer a kinder phrase for `context`."""
    if kinder is None or not kinder.strip():
        return encourage(app, context=context, print_only=print_only, show=show, speaker=speaker)
    from .content import own_phrase_choice

    with _voice(app, speaker, print_only=print_only, to_file=None) as utterance:
        row = app.store.add_phrase(kinder, context=context)
        return _deliver(
            app,
            own_phrase_choice(app.store, row, context),
            context,
            utterance=utterance,
            to_file=None,
            show=show,
            speaker=speaker,
        )


def sounds_hard(text: str | None) -> bool:
    """Whether an answer uses words that make it sound hard ("hard", "awful", ...)."""
    return bool(text) and find_phrase(text or "", HARD_WORDS) is not None


def hard_context(
    *, mood: int | None = None, intensity: int | None = None, text: str | None = None
) -> str | None:
    """The phrase context for a hard moment, or None when the moment does not sound hard."""
    low = mood is not None and mood <= LOW_MOOD
    high = intensity is not None and intensity >= HIGH_INTENSITY
    if not (low or high or sounds_hard(text)):
        return None
    for context, words in CONTEXT_WORDS:
        if text and find_phrase(text, words):
            return context
    return "anxious" if high and not low else "hard-day"


def after_hard_moment(
    app: App,
    *,
    mood: int | None = None,
    intensity: int | None = None,
    text: str | None = None,
    say: Say | None = None,
    speaker: Speaker | None = None,
    own_words: bool | None = None,
) -> Spoken | None:
    """Read a kind phrase after a low-mood check-in or an intense tough moment, then one of
    the person's own wins from at least a week before ([speech] read_back_win).

    Only when [speech] enabled and after_hard_checkin are on. The win's words are shown
    through `say` only when `own_words` (by default: when the Ui is not the daemon's log);
    they are read aloud either way. Never raises: whatever was saved stays saved; a
    failure is logged and said once through `say` (stderr by default).
    """
    say = say or app.ui.warn
    try:
        speech = app.settings.speech
        if not (speech.enabled and speech.after_hard_checkin):
            return None
        context = hard_context(mood=mood, intensity=intensity, text=text)
        if context is None:
            return None
        spoken: Spoken | None = encourage(
            app, context=context, show=lambda t: say(f"A kind word: {t}"), speaker=speaker
        )
        if spoken is not None and spoken.not_played:
            say(
                f"(The phrase could not be read aloud: {_sentence(spoken.not_played)} "
                "Your entry is saved.)"
            )
    except Exception as exc:  # reading aloud is an extra; it must never undo or hide a save
        log.warning("phrase after a hard moment failed: %s", exc)
        say(f"(The phrase could not be read aloud: {exc} Your entry is saved.)")
        spoken = None
    if app.settings.speech.read_back_win:
        shown = not isinstance(app.ui, LogUi) if own_words is None else own_words
        read_back_win(
            app,
            say=say if shown else None,
            speaker=speaker,
            speak=spoken is not None and spoken.spoken,
        )
    return spoken


def past_win(store: Store, now: datetime) -> Row | None:
    """One of the person's wins from at least WIN_AGE ago, each in turn before one comes
    back (recorded as read back); None when there is none yet."""
    wins = store.entries(until=now - WIN_AGE, kind=EntryKind.WIN)
    if not wins:
        return None
    state = store.cycle_state(WIN_POOL)
    cycle, fresh = state["cycle"], [w for w in wins if str(w["id"]) not in state["seen"]]
    if not fresh:
        cycle += 1
        fresh = [w for w in wins if str(w["id"]) != state["last"]] or wins
    import random

    chosen = random.choice(fresh)
    store.record_use(WIN_USE, str(chosen["id"]), pool=WIN_POOL, cycle=cycle)
    return dict(chosen)


def read_back_win(
    app: App, *, say: Say | None, speaker: Speaker | None = None, speak: bool = True
) -> Row | None:
    """Show (through `say`) and read aloud one of the person's older wins. Never raises."""
    try:
        win = past_win(app.store, app.clock.now())
        if win is None:
            return None
        day = datetime.fromisoformat(win["created_at"])
        words = " ".join(str(win["text"]).split())
        if say is not None:
            say(f"A win of yours, from {day:%a %d %b}: “{words}” {GROWTH}")
        if speak:
            (speaker or app.speaker()).speak(
                f"On {day:%A %d %B}, you wrote down a win: {words}. {GROWTH}"
            )
        return win
    except Exception as exc:  # an extra, like the phrase: never in the way of the save
        log.warning("reading back a win failed (%s)", type(exc).__name__)
        return None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def read_aloud(app: App, text: str, *, speaker: Speaker | None = None) -> bool:
    """Read `text` aloud with the [speech] settings; False when speech is turned off.
    Speaker errors reach the caller (a command says them; exit 3 for a missing part)."""
    if not app.settings.speech.enabled:
        return False
    (speaker or app.speaker()).speak(text)
    return True
