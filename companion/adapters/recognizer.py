"""Vosk: 16 kHz mono int16 chunks in, partial and final text out.

The model is loaded once per process (`load_model`) and kept: loading takes
seconds and hundreds of megabytes. A recognizer is made per utterance, because a
long-lived one keeps growing. Vosk is imported only when a model is loaded.
"""

# Lazy imports: vosk (heavy), only when a model is loaded.

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import NewType, TypedDict

from ..audio import SAMPLE_RATE, SAMPLE_WIDTH, peak
from ..errors import AudioSourceLost, MissingPartError
from ..records import Word

# A loaded Vosk model (vosk ships no types): made only by load_model, given back to Recognizer.
Model = NewType("Model", object)
_MODELS: dict[str, Model] = {}
_LOCK = threading.Lock()
VOICE_PEAK = 500  # a chunk louder than this counts as someone speaking
START_TIMEOUT_SECONDS = 10.0  # live: how long to wait for the first words


@contextlib.contextmanager
def _no_ipv6_probe() -> Iterator[None]:
    """While vosk is imported, urllib3 (which vosk imports for its model downloads, never
    used here) is kept from opening an IPv6 socket bound to ::1 to see whether IPv6 works:
    its probe runs only when `socket.has_ipv6` says the build supports IPv6."""
    had = socket.has_ipv6
    socket.has_ipv6 = False
    try:
        yield
    finally:
        socket.has_ipv6 = had


def _vosk() -> ModuleType:
    try:
        with _no_ipv6_probe():
            import vosk
    except (ImportError, OSError) as exc:
        raise MissingPartError(
            f"the speech recogniser (the Python package vosk) cannot be loaded ({exc}); "
            "install it with: pip install vosk"
        ) from exc
    vosk.SetLogLevel(-1)
    return vosk


def load_model(path: Path) -> Model:
    """The Vosk model at `path`, loaded on first use and kept for the life of the process."""
    key = str(Path(path).resolve())
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            vosk = _vosk()
            try:
                model = Model(vosk.Model(model_path=key))
            except Exception as exc:  # vosk raises a bare Exception when a model fails
                raise MissingPartError(
                    f"the speech model in {key} could not be loaded ({exc}). Reinstall it with "
                    "`companion model install NAME`, or register a working one with "
                    "`companion model add PATH`."
                ) from exc
            _MODELS[key] = model
        return model


def loaded_models() -> list[str]:
    """The model folders this process has loaded (for the daemon's status)."""
    with _LOCK:
        return list(_MODELS)


@dataclass
class Transcript:
    """What Vosk heard: the raw text, each word with its confidence and times, and why it ended."""

    text: str
    words: list[Word] = field(default_factory=list)
    seconds: float = 0.0
    ended_by: str = "end"  # end (of the audio), silence, max, stopped, no-speech

    @property
    def confidence(self) -> float | None:
        """The mean word confidence, or None when there are no words."""
        if not self.words:
            return None
        return round(sum(w["conf"] for w in self.words) / len(self.words), 4)


class _Progress(TypedDict, total=False):
    """How far one utterance has come: audio seconds fed, the partial text, why it ended."""

    seconds: float
    partial: str
    ended_by: str


@dataclass
class Listening:
    """When a live utterance ends. All times are audio seconds, so tests are exact."""

    silence_seconds: float | None = None  # None: never end on silence (a file is read to its end)
    max_seconds: float | None = None
    start_timeout: float = START_TIMEOUT_SECONDS
    stop: threading.Event | None = None
    on_partial: Callable[[str], None] | None = None


class Recognizer:
    """One utterance: feed chunks, read partials, get the final transcript."""

    def __init__(self, model: Model, *, sample_rate: int = SAMPLE_RATE):
        self._rec = _vosk().KaldiRecognizer(model, sample_rate)
        self._rec.SetWords(True)
        self._words: list[Word] = []
        self._texts: list[str] = []

    def accept(self, chunk: bytes) -> str | None:
        """Feeds one chunk; returns the current partial text (None when Vosk closed a segment)."""
        if self._rec.AcceptWaveform(chunk):
            self._keep(self._rec.Result())
            return None
        return str(json.loads(self._rec.PartialResult()).get("partial", ""))

    def finish(self) -> tuple[str, list[Word]]:
        """The whole text and words heard since this recognizer was made."""
        self._keep(self._rec.FinalResult())
        return " ".join(self._texts), self._words

    @property
    def heard(self) -> str:
        return " ".join(self._texts)

    def _keep(self, result: str) -> None:
        data = json.loads(result)
        text = str(data.get("text", "")).strip()
        if text:
            self._texts.append(text)
        for w in data.get("result", []):
            self._words.append(
                {
                    "word": w["word"],
                    "conf": round(float(w["conf"]), 4),
                    "start": round(float(w["start"]), 3),
                    "end": round(float(w["end"]), 3),
                }
            )


def transcribe(
    model: Model, chunks: Iterable[bytes], listening: Listening | None = None
) -> Transcript:
    """Runs one utterance through a fresh recognizer and returns what was heard.

    Ends at the end of the chunks, when `listening.stop` is set, at `max_seconds`, or
    when `silence_seconds` of quiet follow speech (quiet: no chunk louder than VOICE_PEAK).
    """
    how = listening or Listening()
    rec = Recognizer(model)
    state: _Progress = {"seconds": 0.0, "ended_by": ""}
    try:
        _feed(rec, chunks, how, state)
    except AudioSourceLost:
        # The device went away mid-answer: keep what was said; with nothing said, say why.
        if not (rec.heard or state.get("partial")):
            raise
        state["ended_by"] = "device-lost"
    text, words = rec.finish()
    return Transcript(
        text=text,
        words=words,
        seconds=round(float(state["seconds"]), 3),
        ended_by=str(state["ended_by"] or "end"),
    )


def _feed(rec: Recognizer, chunks: Iterable[bytes], how: Listening, state: _Progress) -> None:
    last_activity, partial = 0.0, ""
    for chunk in chunks:
        state["seconds"] += len(chunk) / (SAMPLE_RATE * SAMPLE_WIDTH)
        seconds = state["seconds"]
        now = rec.accept(chunk)
        # Quiet is measured on the sound itself: Vosk may still revise its partial text
        # for a while after the last word, which would keep the line open for nothing.
        if how.silence_seconds is not None and peak(chunk) > VOICE_PEAK:
            last_activity = seconds
        if now is not None and now != partial and how.on_partial is not None:
            how.on_partial(" ".join(t for t in (rec.heard, now) if t))
        partial = state["partial"] = now or ""
        state["ended_by"] = _should_end(
            how, seconds=seconds, last_activity=last_activity, anything=bool(rec.heard or partial)
        )
        if state["ended_by"]:
            return


def _should_end(how: Listening, *, seconds: float, last_activity: float, anything: bool) -> str:
    if how.stop is not None and how.stop.is_set():
        return "stopped"
    if how.max_seconds is not None and seconds >= how.max_seconds:
        return "max"
    if how.silence_seconds is None:
        return ""
    if anything and seconds - last_activity >= how.silence_seconds:
        return "silence"
    if not anything and seconds >= max(how.start_timeout, how.silence_seconds):
        return "no-speech"
    return ""
