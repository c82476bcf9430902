"""Kind phrases read aloud: `encourage`, the friend test, and a phrase after a hard moment.

Choosing is content.py's (favourites and the user's own first, no recent repeat; each
choice is recorded as heard). Speaking is the speaker adapter's, in a child process with
a timeout, imported only when something is about to be said.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("companion.speech")

Say = Callable[[str], object]

FRIEND_QUESTION = (
    "Pause for a moment. If a good friend were doing this same hard work and talked to "
    "themselves the way you are talking to yourself right now, what would you tell them?"
)
# Words in a check-in answer that pick the kind of phrase, in order of preference.
CONTEXT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("anxious", ("anxious", "anxiety", "panic*", "worried", "worry*", "nervous", "scared",
                 "afraid", "불안*")),
    ("mistake", ("mistake*", "messed up", "screwed up", "my fault", "stupid", "idiot")),
    ("setback", ("setback*", "relapse*", "back to square one", "slipped", "fell back")),
    ("tired", ("tired", "exhausted", "drained", "worn out", "no energy", "피곤*")),
)
# Words that make an answer sound hard, even without a mood.
HARD_WORDS = ("hard", "awful", "terrible", "horrible", "anxious", "panic*", "overwhelm*",
              "hopeless", "miserable", "worst", "cried", "crying", "sad", "lonely",
              "exhausted", "힘들*", "불안*", "우울*")
LOW_MOOD = 2
HIGH_INTENSITY = 7
WIN_USE = "win"  # content_uses kind: wins read back after a hard moment


@dataclass(frozen=True)
class Spoken:
    """A phrase that was chosen and shown, and what happened to its sound."""

    key: str
    text: str
    context: str | None
    spoken: bool = False
    path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text, "context": self.context,
                "spoken": self.spoken, "path": str(self.path) if self.path else None}


def make_speaker(settings: Any) -> Any:
    """The speaker for `[speech]` (imported here so the CLI stays fast)."""
    from .adapters.speaker import Speaker

    return Speaker(settings.speech)


def _voice(app: Any, speaker: Any, *, print_only: bool, to_file: Path | None) -> Any:
    """A prepared utterance when the phrase is to be read aloud (the speaking child warms up
    while the phrase is chosen), otherwise nothing."""
    if to_file is not None or print_only or not app.settings.speech.enabled:
        return contextlib.nullcontext(None)
    return (speaker or make_speaker(app.settings)).prepare()


def _deliver(app: Any, phrase: tuple[str, str], context: str | None, *, utterance: Any,
             to_file: Path | None, show: Say | None, speaker: Any) -> Spoken:
    """Show the phrase, then speak it or write it to a WAV file."""
    key, text = phrase
    if show is not None:
        show(text)
    if to_file is not None:
        path = (speaker or make_speaker(app.settings)).save(text, to_file)
        return Spoken(key, text, context, path=path)
    if utterance is not None:
        utterance.speak(text)
    return Spoken(key, text, context, spoken=utterance is not None)


def encourage(app: Any, *, context: str | None = None, print_only: bool = False,
              to_file: Path | None = None, show: Say | None = None,
              speaker: Any = None) -> Spoken:
    """Choose a phrase for `context`, show it, and read it aloud (or write it to a WAV).

    The choice is recorded as heard before speaking, so a failing speaker never brings
    the same phrase straight back. Speaker errors reach the caller.
    """
    from .content import choose_phrase

    with _voice(app, speaker, print_only=print_only, to_file=to_file) as utterance:
        phrase = choose_phrase(app.store, context)
        return _deliver(app, phrase, context, utterance=utterance, to_file=to_file,
                        show=show, speaker=speaker)


def friend_test(app: Any, *, kinder: str | None = None, context: str = "mistake",
                print_only: bool = False, show: Say | None = None,
                speaker: Any = None) -> Spoken:
    """After the friend question: keep the person's own kinder words as a phrase (when
    given) and read them back, or offer a kinder phrase for `context`."""
    if kinder is None or not kinder.strip():
        return encourage(app, context=context, print_only=print_only, show=show,
                         speaker=speaker)
    with _voice(app, speaker, print_only=print_only, to_file=None) as utterance:
        row = app.store.add_phrase(kinder, context=context)
        key = f"user:{row['id']}"
        app.store.record_use("phrase", key)
        return _deliver(app, (key, row["text"]), context, utterance=utterance, to_file=None,
                        show=show, speaker=speaker)


def sounds_hard(text: str | None) -> bool:
    """Whether an answer uses words that make it sound hard ("hard", "awful", ...)."""
    from .safety import find_phrase

    return bool(text) and find_phrase(text or "", HARD_WORDS) is not None


def hard_context(*, mood: int | None = None, intensity: int | None = None,
                 text: str | None = None) -> str | None:
    """The phrase context for a hard moment, or None when the moment does not sound hard."""
    from .safety import find_phrase

    low = mood is not None and mood <= LOW_MOOD
    high = intensity is not None and intensity >= HIGH_INTENSITY
    if not (low or high or sounds_hard(text)):
        return None
    for context, words in CONTEXT_WORDS:
        if text and find_phrase(text, words):
            return context
    return "anxious" if high and not low else "hard-day"


def after_hard_moment(app: Any, *, mood: int | None = None, intensity: int | None = None,
                      text: str | None = None, say: Say | None = None,
                      speaker: Any = None, own_words: bool = False) -> Spoken | None:
    """Read a kind phrase after a low-mood check-in or an intense tough moment, then one of
    the person's own wins from at least a week before ([speech] read_back_win).

    Only when [speech] enabled and after_hard_checkin are on. The win's words are shown
    through `say` only when `own_words` (a terminal the person is at, never a log); they
    are read aloud either way. Never raises: whatever was saved stays saved; a failure is
    logged and said once through `say` (stderr by default).
    """
    say = say or _stderr
    speech = app.settings.speech
    if not (speech.enabled and speech.after_hard_checkin):
        return None
    context = hard_context(mood=mood, intensity=intensity, text=text)
    if context is None:
        return None
    try:
        spoken = encourage(app, context=context, show=lambda t: say(f"A kind word: {t}"),
                           speaker=speaker)
    except Exception as exc:  # reading aloud is an extra; it must never undo or hide a save
        log.warning("phrase after a hard moment failed: %s", exc)
        say(f"(The phrase could not be read aloud: {exc} Your entry is saved.)")
        spoken = None
    if speech.read_back_win:
        read_back_win(app, say=say if own_words else None,
                      speaker=speaker if spoken is not None else None, speak=spoken is not None)
    return spoken


WIN_AGE = timedelta(days=7)
GROWTH = "Setbacks don't erase growth."


def past_win(store: Any, now: datetime) -> dict[str, Any] | None:
    """One of the person's wins from at least WIN_AGE ago (not one of the last few read
    back), recorded as read back; None when there is none yet."""
    wins = store.rows("entries", until=now - WIN_AGE, where="kind = ?", params=("win",))
    if not wins:
        return None
    recent = store.recent_uses(WIN_USE, 3)
    fresh = [w for w in wins if str(w["id"]) not in recent] or wins
    chosen = random.choice(fresh)
    store.record_use(WIN_USE, str(chosen["id"]))
    return dict(chosen)


def read_back_win(app: Any, *, say: Say | None, speaker: Any = None,
                  speak: bool = True) -> dict[str, Any] | None:
    """Show (through `say`) and read aloud one of the person's older wins. Never raises."""
    try:
        win = past_win(app.store, app.store.clock.now())
        if win is None:
            return None
        day = datetime.fromisoformat(win["created_at"])
        words = " ".join(str(win["text"]).split())
        if say is not None:
            say(f"A win of yours, from {day:%a %d %b}: “{words}” {GROWTH}")
        if speak:
            (speaker or make_speaker(app.settings)).speak(
                f"On {day:%A %d %B}, you wrote down a win: {words}. {GROWTH}")
        return win
    except Exception as exc:  # an extra, like the phrase: never in the way of the save
        log.warning("reading back a win failed (%s)", type(exc).__name__)
        return None


def _stderr(text: str) -> None:
    import click

    click.echo(text, err=True)


def read_aloud(app: Any, text: str, *, speaker: Any = None) -> bool:
    """Read `text` aloud with the [speech] settings; False when speech is turned off.
    Speaker errors reach the caller (a command says them; exit 3 for a missing part)."""
    if not app.settings.speech.enabled:
        return False
    (speaker or make_speaker(app.settings)).speak(text)
    return True
