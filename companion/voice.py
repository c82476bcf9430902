"""Spoken journaling: a recording or the microphone in, a tidy transcript out.

The service layer between the commands and the adapters (recognizer, microphone,
models). Nothing here is stored: the caller turns a Dictation into an entry.
Vosk, sounddevice and numpy are imported only when someone speaks.
"""
# Lazy imports: the adapters (Vosk, sounddevice, numpy) and audio decoding load only
# when someone speaks or a recording is read.

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .app import App
from .errors import CompanionError, InputError
from .paths import ensure_dir
from .records import Check, Row, Word

if TYPE_CHECKING:  # the recogniser (and Vosk) load only when someone speaks
    from .adapters.recognizer import Model, Transcript

_I_WORDS = re.compile(r"\bi(?=$|\s|'(?:m|ve|d|ll|s)\b)")


@dataclass
class Dictation:
    """What was said, ready to become an entry."""

    text: str
    raw_text: str
    confidence: float | None
    model: str
    words: list[Word] = field(default_factory=list)
    audio_path: str | None = None
    seconds: float = 0.0
    ended_by: str = "end"

    def as_dict(self, *, low_confidence: float | None = None) -> Row:
        """JSON-ready; with `low_confidence`, each word says whether it is doubtful."""
        data = asdict(self)
        if low_confidence is not None:
            data["words"] = [{**w, "low": w["conf"] < low_confidence} for w in self.words]
            data["low_confidence_words"] = [w["word"] for w in data["words"] if w["low"]]
        return data


# A spoken question, known by its words (Vosk gives no punctuation): English question
# words or a helping verb and a person at the start; Korean question words anywhere, or
# a questioning ending.
_ASKING_WORDS = {"what", "why", "how", "when", "where", "who", "whom", "whose", "which"}
_HELPING_VERBS = {
    "should",
    "do",
    "does",
    "did",
    "can",
    "could",
    "would",
    "will",
    "is",
    "are",
    "am",
    "was",
    "were",
    "have",
    "has",
    "may",
    "might",
    "shall",
    "must",
    "isn't",
    "aren't",
    "don't",
    "doesn't",
    "didn't",
    "can't",
    "won't",
    "shouldn't",
}
_PERSONS = {
    "i",
    "you",
    "we",
    "they",
    "he",
    "she",
    "my",
    "someone",
    "anyone",
    "anybody",
    "people",
    "everyone",
}
_THINGS = {"it", "this", "that", "there"}  # "is it...?", but "do it now."
_KO_ASKING = (
    "뭐",
    "무엇",
    "무슨",
    "왜",
    "어떻게",
    "어떤",
    "언제",
    "어디",
    "누가",
    "누구",
    "어느",
    "얼마나",
    "몇",
)
_KO_ENDINGS = ("까", "까요", "나요", "가요", "냐", "냐고", "는지", "을지")


def is_question(text: str) -> bool:
    """Whether a transcript asks something ("what should I say", "should I call her",
    "왜 그랬을까")."""
    words = text.casefold().split()
    if not words:
        return False
    first = words[0]
    if first in _ASKING_WORDS and (len(words) < 2 or words[1] not in ("a", "an")):
        return True
    if (
        first in _HELPING_VERBS
        and len(words) >= 2
        and (words[1] in _PERSONS or (words[1] in _THINGS and not first.startswith("d")))
    ):
        return True
    if any(w.startswith(_KO_ASKING) for w in words[:3]) and re.search(r"[가-힣]", text):
        return True
    return words[-1].endswith(_KO_ENDINGS) and bool(re.search(r"[가-힣]$", words[-1]))


def tidy(raw: str) -> str:
    """Vosk's lower-case, unpunctuated text as a sentence: capital first letter, "I", and a
    question mark when the words ask something, otherwise a full stop."""
    text = " ".join(raw.split())
    if not text:
        return ""
    text = _I_WORDS.sub("I", text)
    text = text[0].upper() + text[1:]
    if text[-1] in ".!?…":
        return text
    return text + ("?" if is_question(text) else ".")


# ---------------------------------------------------------------- the model
def load_model(app: App) -> tuple[Model, str]:
    """The configured model, loaded once per process, and its name."""
    from .adapters import models
    from .adapters.recognizer import load_model

    info = models.resolve(app.paths, app.settings.voice.model)
    assert info.path is not None
    return load_model(Path(info.path)), info.name


def _dictation(transcript: Transcript, model_name: str) -> Dictation:
    return Dictation(
        text=tidy(transcript.text),
        raw_text=transcript.text,
        confidence=transcript.confidence,
        model=model_name,
        words=transcript.words,
        seconds=transcript.seconds,
        ended_by=transcript.ended_by,
    )


# ---------------------------------------------------------------- recordings
def transcribe_file(app: App, audio_file: Path, *, keep: list[bytes] | None = None) -> Dictation:
    """The transcript of a recording; raises InputError when no speech is in it."""
    from .adapters.recognizer import transcribe
    from .audio import open_audio

    source = open_audio(Path(audio_file))
    model, name = load_model(app)
    chunks: Iterable[bytes] = source if keep is None else _tee(source, keep)
    result = transcribe(model, chunks)
    if not result.text:
        raise InputError(f"no speech heard in {audio_file}")
    return _dictation(result, name)


def _tee(chunks: Iterable[bytes], keep: list[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        keep.append(chunk)
        yield chunk


# ---------------------------------------------------------------- the one entry point
def dictate(
    app: App, *, audio_file: Path | None, yes: bool, prompt: str | None = None
) -> Dictation | None:
    """A spoken answer from a recording (`audio_file`) or the microphone (None).

    Shows the text and asks keep / redo / discard unless `yes`. Returns None when the
    person discards it. Raises InputError for silence, MissingPartError for a missing
    model or microphone.
    """
    keep_audio = bool(app.settings.voice.keep_audio)
    while True:
        audio: list[bytes] | None = [] if keep_audio else None
        if audio_file is not None:
            result = _from_file(app, audio_file, keep=audio)
        else:
            result = listen_once(app, prompt=prompt, keep=audio)
        app.ui.warn(f"Heard: {result.text}")
        choice = "keep" if yes else _ask(app, can_redo=audio_file is None)
        if choice == "redo":
            continue
        if choice == "discard":
            app.ui.warn("Let go of it; nothing was saved.")
            return None
        if audio is not None:
            result.audio_path = str(save_audio(app, audio))
        return result


def _from_file(app: App, audio_file: Path, *, keep: list[bytes] | None) -> Dictation:
    """A recording's words, to be saved: a problem with it says that nothing was saved."""
    try:
        return transcribe_file(app, audio_file, keep=keep)
    except InputError as exc:
        said = str(exc).rstrip(".")
        raise InputError(f"{said}. Nothing was saved.") from exc


def _ask(app: App, *, can_redo: bool) -> str:
    choices = ("keep", "redo", "discard") if can_redo else ("keep", "discard")
    while True:
        try:
            answer = app.ui.ask(f"Keep it? ({', '.join(choices)})", default="keep")
        except EOFError:  # nobody to answer (stdin closed): keeping loses nothing
            return "keep"
        if answer.strip().lower() in choices:
            return answer.strip().lower()
        app.ui.warn(f"Please answer {' or '.join(choices)}.")


def save_audio(app: App, chunks: list[bytes]) -> Path:
    """Keep a recording as a private WAV file in the audio folder ([voice] keep_audio)."""
    from .audio import write_wav

    folder = ensure_dir(app.paths.audio_dir)
    stamp = app.clock.now().strftime("%Y%m%d-%H%M%S")
    return write_wav(folder / f"{stamp}-{secrets.token_hex(3)}.wav", chunks)


# ---------------------------------------------------------------- the microphone
def listen(
    app: App,
    model: Model,
    name: str,
    *,
    stop: threading.Event,
    keep: list[bytes] | None = None,
    on_open: Callable[[], None] | None = None,
    on_partial: Callable[[str], None] | None = None,
) -> Dictation | None:
    """One answer from the microphone, for the CLI and the daemon alike (None when nothing
    was heard). It ends on silence, at the length limit, or when `stop` is set; what was
    said until then is kept. `on_open` runs once the microphone is open; with `keep`, the
    sound is collected there too."""
    from .adapters import microphone
    from .adapters.recognizer import Listening, transcribe

    voice = app.settings.voice
    how = Listening(
        silence_seconds=voice.silence_seconds,
        max_seconds=voice.max_seconds,
        stop=stop,
        on_partial=on_partial,
    )
    with microphone.listen(voice.device) as chunks:
        if on_open is not None:
            on_open()
        result = transcribe(model, chunks if keep is None else _tee(chunks, keep), how)
    return _dictation(result, name) if result.text else None


def listen_once(
    app: App, *, prompt: str | None = None, keep: list[bytes] | None = None
) -> Dictation:
    """One utterance from the microphone, with a live line of partial text on stderr.

    The microphone is looked up first, so a missing one is said at once instead of after
    the seconds the model takes to load; the model loads while the prompt is on screen.
    """
    from .adapters import microphone

    microphone.input_device(app.settings.voice.device)
    if prompt:
        app.ui.warn(prompt)
    model, name = load_model(app)
    stop = threading.Event()
    line = _PartialLine()

    def opened() -> None:
        app.ui.warn("Listening... speak when you're ready; press Enter when you're done.")

    with _stop_on_enter_or_ctrl_c(stop):
        heard = listen(app, model, name, stop=stop, keep=keep, on_open=opened, on_partial=line.show)
    line.close()
    if heard is not None and heard.ended_by == "device-lost":
        app.ui.warn("The microphone stopped sending sound; what you said until then is kept.")
    if heard is None:
        raise InputError(
            "no speech heard, so nothing was saved. Check that the microphone "
            "is on, and try again whenever you like"
        )
    return heard


class _PartialLine:
    """The live line of what has been heard so far (only on a terminal)."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = False

    def show(self, text: str) -> None:
        if self.live:
            width = 78
            tail = text if len(text) <= width else "…" + text[-(width - 1) :]
            sys.stderr.write(f"\r\x1b[K{tail}")
            sys.stderr.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@contextlib.contextmanager
def _stop_on_enter_or_ctrl_c(stop: threading.Event) -> Iterator[None]:
    """Enter (on a terminal) or Ctrl-C sets `stop`: what was said so far is kept.

    However listening ends, the terminal is let go of on the way out, so the next line
    typed answers the next question (keep / redo / discard), never this one.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    reader = _EnterReader(sys.stdin.fileno(), stop) if _on_terminal(sys.stdin) else None
    try:
        yield
    finally:
        stop.set()
        if reader is not None:
            reader.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _on_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (OSError, ValueError):  # closed or detached
        return False


class _EnterReader:
    """Sets `stop` when a line (Enter) arrives on the terminal `fd`, until closed.

    It waits in select() on the terminal and on a pipe of its own; `close()` writes to
    the pipe, so the wait ends at once and no thread is left blocked in a read of the
    terminal to swallow the answer to the question that follows listening.
    """

    def __init__(self, fd: int, stop: threading.Event) -> None:
        self._fd = fd
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name="enter-to-stop", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        try:
            ready = select.select([self._fd, self._wake_r], [], [])[0]
            if self._fd in ready:
                os.read(self._fd, 4096)  # the line that ends with this Enter (or Ctrl-D)
                stop.set()
        except (OSError, ValueError):  # the terminal went away: Ctrl-C still stops
            return

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)


# ---------------------------------------------------------------- doctor
def checks(app: App) -> list[Check]:
    """For `companion doctor`: the speech model and the microphone, each with a fix."""
    return [_check_model(app), _check_microphone(app)]


def _check_model(app: App) -> Check:
    from .adapters import models
    from .adapters.recognizer import load_model

    check: Check = {"name": "speech model", "ok": False, "detail": "", "fix": ""}
    try:
        info = models.resolve(app.paths, app.settings.voice.model)
        assert info.path is not None
        size = info.size_mb or models.folder_megabytes(Path(info.path))
        check["detail"] = f"{info.name} ({info.language}, {size:g} MB, {info.path})"
        load_model(Path(info.path))
    except CompanionError as exc:
        check["fix"] = str(exc)
        return check
    check["ok"] = True
    check["detail"] += ", loads"
    return check


def _check_microphone(app: App) -> Check:
    from .adapters import microphone

    try:
        info = microphone.check(app.settings.voice.device)
    except CompanionError as exc:
        return {"name": "microphone", "ok": False, "detail": "no input device", "fix": str(exc)}
    return {
        "name": "microphone",
        "ok": True,
        "detail": f"{info['name']} ({info['rate']} Hz)",
        "fix": "",
    }
