"""Hands-free check-ins: the daemon speaks the prompt, plays a start tone, listens, saves.

It starts when a check-in fires and `[voice] checkins = "auto"`, or when the person presses
Speak on the notification (`"ask"`); never otherwise, so the microphone stays closed unless
they asked for it. One voice check-in runs at a time, on a worker thread, so the daemon's
loop, its signals and other notifications never wait for it. Speaking and listening never
overlap: the prompt and the tone have been played to the end before the microphone opens.

The worker has its own database connection (SQLite connections stay in the thread that made
them). What was said is saved as the answer to that check-in (status answered, linked), then
a "Saved" notification offers Undo; crisis words bring up the resources and a hard-sounding
answer gets a kind phrase read back (aftercare.after_entry), after the save, never before.

Write, Snooze or Skip pressed on the check-in being listened to stops listening, and nothing
heard is saved: the person chose another way to answer, or not to.

Undo (handled on the daemon's loop by `undo`) deletes the entry for real, through the same
path as `companion forget`, and puts the check-in back: "notified" again (shown once more,
so it can be answered or skipped) when it is still the latest, "skipped" when a newer one
has arrived since.

A missing speech model means no Speak button and no listening; a missing microphone is found
when listening starts. Either way the typed check-in stands, and the reason is said once
(the log and one notification), not at every check-in.

The model and the microphone live in the listening process (listener.py), never in the
daemon: it is started when a check-in offering Speak is shown (`warm`), so the model has
loaded by the time the prompt and the tone have played, and it lets everything go after a
few idle minutes.
"""
# Lazy imports: the model catalog, microphone, speaker and notification adapters load
# only when a voice check-in runs, so the idle daemon stays small.

from __future__ import annotations

import contextlib
import functools
import io
import math
import subprocess
import threading
import time
import wave
from array import array
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from . import journal
from .app import App
from .config import Settings
from .errors import CompanionError, MissingPartError
from .listener import Listener
from .logs import get_log
from .paths import Paths
from .privacy import forget_record
from .records import Row
from .store import EntryDraft, Store
from .vocab import OPEN_STATUSES, Source, Status, answer_kind
from .voice import Dictation

if TYPE_CHECKING:
    from .adapters.notify import Notice
    from .adapters.speaker import Utterance

log = get_log("companion.voice_checkin")

TONE_HZ = 880.0
TONE_SECONDS = 0.15
TONE_RATE = 22050
TONE_TIMEOUT = 5.0
PREVIEW_WORDS = 6
UNDO = "undo"
SAVED_TITLE = "Saved your check-in"
NOT_HEARD = (
    "I didn't hear an answer, so nothing was saved. You can press Speak to try "
    "again, or write it instead."
)
# What the person reads when voice cannot work (the reason itself goes to the log, once).
NO_MODEL = (
    "Answering out loud needs a speech model first, so this one is for typing. "
    "`companion doctor` shows how to set it up."
)
CANNOT_SPEAK = (
    "Speaking isn't possible right now, so this one is for typing. "
    "`companion doctor` shows what's missing."
)


class VoiceHost(Protocol):
    """What a voice check-in needs of the daemon: its App, a way to show a notification,
    and a way to show a check-in again (with its buttons, answered through the daemon)."""

    @property
    def app(self) -> App: ...

    @property
    def supports_actions(self) -> bool: ...

    def send(self, notice: Notice) -> int:
        """Show a notification; its id, or 0 when it could not be shown."""
        ...

    def show_again(self, row: Row, *, note: str, speak: bool) -> None:
        """Show the check-in `row` again, with `note` added."""
        ...


# ---------------------------------------------------------------- the start tone
@functools.cache
def tone_wav() -> bytes:
    """A short 880 Hz sine as a WAV in memory (made once), faded in and out (no click)."""
    count = int(TONE_RATE * TONE_SECONDS)
    fade = int(TONE_RATE * 0.01)
    samples = array(
        "h",
        (
            int(
                0.4
                * 32767
                * min(1.0, n / fade, (count - n) / fade)
                * math.sin(2 * math.pi * TONE_HZ * n / TONE_RATE)
            )
            for n in range(count)
        ),
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(TONE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def play_tone() -> None:
    """Play the start tone with the speaker's player; returns when it has been played."""
    from .adapters.speaker import find_player

    try:
        player = find_player()
        subprocess.run(
            player,
            input=tone_wav(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TONE_TIMEOUT,
            check=False,
        )
    except Exception as exc:  # no player, or it hung: listening goes on without the tone
        log.warning("the start tone could not be played: %s", exc)


# ---------------------------------------------------------------- saving and undoing
def answer_draft(row: Row, heard: Dictation) -> EntryDraft:
    """The entry a spoken answer to the check-in `row` becomes: linked to it (the save path
    links it only while the check-in is still open)."""
    return EntryDraft(
        answer_kind(row.get("kind")),
        heard.text,
        source=Source.VOICE,
        prompt=row.get("prompt"),
        raw_text=heard.raw_text,
        confidence=heard.confidence,
        model=heard.model,
        words=heard.words,
        audio_path=heard.audio_path,
        delivery_id=int(row["id"]),
    )


def undo_key(delivery_id: int, entry_id: int) -> str:
    """The action key of the Undo button for one spoken answer."""
    return f"{UNDO}:{delivery_id}:{entry_id}"


def undo(store: Store, paths: Paths, ref: str) -> Row | None:
    """Undo a spoken answer (`ref` is "DELIVERY:ENTRY"): delete the entry for real and put
    its check-in back. Returns the delivery as it is now, or None when there was nothing to
    undo (already undone, or answered another way since)."""
    delivery_ref, _, entry_ref = ref.partition(":")
    if not (delivery_ref.isdigit() and entry_ref.isdigit()):
        return None
    row = store.delivery(int(delivery_ref))
    if row.get("entry_id") != int(entry_ref) or row["status"] != Status.ANSWERED:
        log.info("undo for delivery %s: nothing to undo", delivery_ref)
        return None
    forget_record(store, paths, "entry", int(entry_ref))
    newer = [d for d in store.deliveries(statuses=OPEN_STATUSES) if int(d["id"]) > row["id"]]
    status = Status.SKIPPED if newer else Status.NOTIFIED
    log.info("undo: entry %s deleted; delivery %s is %s again", entry_ref, row["id"], status)
    return store.set_delivery(int(row["id"]), status, entry_id=None, answered_at=None)


def first_words(text: str, count: int = PREVIEW_WORDS) -> str:
    """The first few words of an answer, for the optional preview."""
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def saved_notice(entry: Row, *, preview: bool, buttons: bool) -> Notice:
    """The "Saved" notification: never the words unless [notifications] saved_preview."""
    from .adapters.notify import Notice

    body = f"“{first_words(entry['text'])}”" if preview else ""
    if buttons:
        return Notice(
            SAVED_TITLE,
            body or "Press Undo if you'd rather not keep it.",
            ((undo_key(entry["delivery_id"] or 0, entry["id"]), "Undo"),),
        )
    hint = f"To delete it: companion forget {entry['id']}"
    return Notice(SAVED_TITLE, f"{body}\n\n{hint}" if body else hint)


# ---------------------------------------------------------------- the hook
class VoiceCheckins:
    """The daemon's Speak hook: `hook(row)` on a press, `hook.auto(row)` when one fires.

    One voice check-in at a time runs on the worker thread, on its own App (its own
    database connection) made from the host's; the microphone and the model are in the
    listening process it asks (`listener`), which `warm()` starts ahead.
    """

    def __init__(
        self, host: VoiceHost, *, warm_ahead: bool = True, listener: Listener | None = None
    ) -> None:
        self.host = host
        self.warm_ahead = warm_ahead  # start the listening process when Speak is offered
        self.listener = listener or Listener()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._cancelled = threading.Event()
        self._talking = threading.Event()  # the prompt, the tone or listening is under way
        self._delivery_id: int | None = None  # the check-in being listened to
        self._said: set[str] = set()
        self.mic_opened_at: float | None = None  # monotonic; read by the benchmark

    @property
    def settings(self) -> Settings:
        return self.host.app.settings

    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    # -------------------------------------------------------- what the daemon calls
    def __call__(self, row: Row) -> None:
        """Speak was pressed for the check-in `row`."""
        self.start(row, pressed=True)

    def auto(self, row: Row) -> None:
        """A check-in fired with `[voice] checkins = "auto"`: listen if voice can work."""
        if self.will_listen():
            self.start(row, pressed=False)

    def will_listen(self) -> bool:
        """Whether a check-in firing now is listened to at once ("auto", a model, not busy),
        so that its notification can say so. Cheap: nothing is loaded."""
        return (
            self.settings.voice.checkins == "auto"
            and not self.busy
            and self._model_problem() is None
        )

    def warm(self) -> None:
        """A check-in offering Speak is showing: start loading the model (in the listening
        process) while the person reads it, so a press finds it ready."""
        if not self.warm_ahead:
            return
        from .adapters import models

        try:
            info = models.resolve(self.host.app.paths, self.settings.voice.model)
            self.listener.warm(str(info.path), info.name)
        except (CompanionError, OSError) as exc:  # the press will say what is wrong
            log.info("the speech model was not loaded ahead: %s", exc)

    def offer(self) -> tuple[bool, str]:
        """Whether voice can be offered now (a model is there), and a note on why not that
        is given only the first time (empty afterwards). Cheap: nothing is loaded."""
        problem = self._model_problem()
        if problem is None:
            return True, ""
        return False, self._say_once(problem, NO_MODEL)

    def _model_problem(self) -> str | None:
        from .adapters import models

        try:
            models.resolve(self.host.app.paths, self.settings.voice.model)
        except CompanionError as exc:
            return str(exc)
        return None

    def stop_listening(self, delivery_id: int) -> None:
        """Write, Snooze or Skip was pressed for `delivery_id`: if it is being listened to,
        stop, and save nothing of it (the person chose another way)."""
        if self.busy and self._delivery_id == delivery_id:
            log.info("voice check-in %s: a button was pressed; listening stops", delivery_id)
            self._cancelled.set()
            self._stop.set()

    def start(self, row: Row, *, pressed: bool) -> bool:
        """Run one voice check-in on the worker thread; False if one is talking or
        listening already. One pressed while the last answer is still being saved (its
        crisis check, a kind phrase) waits its turn instead of being dropped."""
        with self._lock:
            if self.busy and self._talking.is_set():
                log.info(
                    "a voice check-in is already running; delivery %s waits for typing", row["id"]
                )
                return False
            previous = self._worker if self.busy else None
            self._stop.clear()
            self._cancelled.clear()
            self._talking.set()
            self._delivery_id = int(row["id"])
            self._worker = threading.Thread(
                target=self._run_after,
                args=(previous, dict(row), pressed),
                name="voice-checkin",
                daemon=True,
            )
            self._worker.start()
            return True

    def _run_after(self, previous: threading.Thread | None, row: Row, pressed: bool) -> None:
        if previous is not None:
            previous.join()
        self._run(row, pressed)

    def close(self, timeout: float = 1.0) -> None:
        """Stop listening (what was heard so far is still saved), wait a little, and end
        the listening process."""
        self._stop.set()
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        self.listener.close()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the running voice check-in (if any) is over."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    # -------------------------------------------------------- the worker
    def _run(self, row: Row, pressed: bool) -> None:
        try:
            app = self.worker_app()
        except CompanionError as exc:
            log.warning("voice check-in %s could not open the database: %s", row["id"], exc)
            return
        try:
            self._converse_and_save(app, row, pressed=pressed)
        except MissingPartError as exc:
            self._fallback(row, str(exc))
        except Exception:  # the worker reports everything; the daemon must go on
            log.exception("voice check-in %s failed", row["id"])
        finally:
            app.close()

    def worker_app(self) -> App:
        """The host's App with a database connection of the worker's own (SQLite
        connections stay in the thread that made them)."""
        host = self.host.app
        store = host.store.reopen(busy_timeout=self.settings.storage.busy_timeout_seconds)
        return replace(host, _settings=self.settings, _store=store)

    def _converse_and_save(self, app: App, row: Row, *, pressed: bool) -> None:
        try:
            heard = self._converse(app, row)
        finally:
            self._talking.clear()  # what follows (saving, aftercare) lets a new press queue
        if self._cancelled.is_set():
            log.info("voice check-in %s: stopped by a button; nothing saved", row["id"])
            return
        if heard is None:
            log.info("voice check-in %s: no answer was heard; nothing saved", row["id"])
            if pressed:  # the pressed notification is gone: offer the check-in again
                self.host.show_again(row, note=NOT_HEARD, speak=True)
            return
        self.finish(app, row, heard)

    def finish(self, app: App, row: Row, heard: Dictation) -> Row | None:
        """After listening: save through the one save path (set aside when the database
        cannot take it now), say "Saved" (with Undo), then the aftercare (crisis resources,
        or a kind phrase when the answer sounds hard). Returns the entry."""
        try:
            saved = journal.save(
                app,
                answer_draft(row, heard),
                what="check-in",
                confirm=lambda done: self._confirm(done.entry),
            )
        except journal.SetAside as exc:
            log.warning(
                "voice check-in %s could not be saved now (%s); %s",
                row["id"],
                journal.why_not_saved(exc),
                "set aside for the next wake" if exc.kept else "nowhere could keep it",
            )
            self.host.send(_kept_notice(None if exc.kept else heard.text))
            return None
        return saved.entry

    def _converse(self, app: App, row: Row) -> Dictation | None:
        """Prompt, tone, then one answer from the microphone (None when nothing was heard).

        The listening process (started when the check-in was shown, or now) looks up the
        microphone before the prompt is spoken and has the model loaded by the end of the
        tone; the microphone opens only after the tone has played.
        """
        from .adapters import models

        info = models.resolve(app.paths, app.settings.voice.model)  # before a word is said
        self.listener.warm(str(info.path), info.name)
        with self._prompt_speaker(app) as utterance:
            self.listener.check(app.settings.voice.device)  # a missing microphone: the same
            if utterance is not None:
                _speak_quietly(utterance, row.get("prompt") or "")
        play_tone()
        return self._listen(app)

    def _prompt_speaker(self, app: App) -> AbstractContextManager[Utterance | None]:
        if not app.settings.speech.enabled:
            return contextlib.nullcontext(None)
        try:
            return app.speaker().prepare()
        except CompanionError as exc:
            log.warning("the check-in prompt cannot be read aloud: %s", exc)
            return contextlib.nullcontext(None)

    def _listen(self, app: App) -> Dictation | None:
        folders = {
            name: str(getattr(app.paths, name)) for name in ("config_dir", "data_dir", "state_dir")
        }
        heard = self.listener.listen(
            app.settings.voice._asdict(), paths=folders, stop=self._stop, on_open=self._opened
        )
        dictation = Dictation(**heard) if heard is not None else None
        log.info(
            "voice check-in: the microphone is closed (%s after %.1f s)",
            dictation.ended_by if dictation else "nothing heard",
            dictation.seconds if dictation else 0,
        )
        return dictation

    def _opened(self) -> None:
        self.mic_opened_at = time.monotonic()
        log.info("voice check-in: the microphone is open, listening")

    # -------------------------------------------------------- notifications
    def _confirm(self, entry: Row) -> None:
        self.host.send(
            saved_notice(
                entry,
                preview=self.settings.notifications.saved_preview,
                buttons=self.host.supports_actions,
            )
        )

    def _fallback(self, row: Row, reason: str) -> None:
        """Voice cannot work: the typed check-in takes the place of the one showing (which
        said it was listening, or was pressed); the reason is said once."""
        self.host.show_again(row, note=self._say_once(reason, CANNOT_SPEAK), speak=False)

    def _say_once(self, reason: str, note: str) -> str:
        """`note` for the person, and `reason` in the log, the first time only ("" after)."""
        if reason in self._said:
            return ""
        self._said.add(reason)
        log.warning("voice check-ins fall back to typing: %s", reason)
        return note


def _kept_notice(lost_text: str | None) -> Notice:
    """What to say when the database could not take an answer. Only when no place on disk
    could keep it either are the words shown, so the person can copy them somewhere."""
    from .adapters.notify import Notice

    if lost_text is None:
        return Notice(
            "Your check-in is kept safe",
            "The database couldn't take it just now; it will be added in a moment.",
        )
    return Notice(
        "Your check-in could not be saved",
        f"The disk couldn't take it just now. Here is what you said, to copy "
        f"somewhere safe:\n\n{lost_text}",
    )


def _speak_quietly(utterance: Utterance, text: str) -> None:
    """Read the prompt; a speaker that fails or hangs costs its timeout, never the answer."""
    if not text.strip():
        return
    try:
        utterance.speak(text)
    except CompanionError as exc:
        log.warning("the check-in prompt could not be read aloud: %s", exc)
