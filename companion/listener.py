"""The daemon's listening process: the speech model and the microphone, out of the daemon.

A voice check-in needs the Vosk model, which takes seconds to load and hundreds of
megabytes to hold, and sounddevice with numpy (tens of megabytes more, for good, once
imported). So the daemon never loads them itself: a child process
(``python -m companion.listener``) does, started when a check-in that offers Speak is
shown, so that the model has loaded while the person reads the notification and hears the
prompt. When nobody has asked it anything for `IDLE_SECONDS` it exits, and with it
everything it held: the idle daemon stays at its own small footprint.

The conversation is one JSON line each way: the model to load when it starts; then
``check`` (is the microphone there?) and ``listen`` (one answer, with the [voice]
settings), answered by ``open`` when the microphone opens and ``heard`` at the end, or
``failed``. SIGUSR1 stops listening early (what was said so far is kept).
"""

# Lazy imports: in the daemon, only the speaker's child_env (when the process starts); in
# the listening process, vosk, sounddevice and the voice service (heavy: they are why this
# process exists), and the App and settings for one answer.

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import CompanionError, MissingPartError
from .logs import get_log
from .records import Row

if TYPE_CHECKING:
    from .adapters.recognizer import Model
    from .app import App

log = get_log("companion.listener")

IDLE_SECONDS = 180.0  # a few idle minutes, then the model is let go
CHILD_ARGV: tuple[str, ...] = (sys.executable, "-m", "companion.listener")
CHECK_TIMEOUT = 60.0  # the microphone lookup (sounddevice may still be loading)
ANSWER_MARGIN = 180.0  # beyond [voice] max_seconds: the model loading, then the end


class ListenerError(CompanionError):
    """The listening process stopped or did not answer."""


# ---------------------------------------------------------------- the daemon's side
class Listener:
    """The listening process as the daemon sees it: `warm()` starts it (the model loads),
    `check()` and `listen()` ask it, `close()` ends it. One caller at a time asks."""

    def __init__(
        self, *, idle_seconds: float = IDLE_SECONDS, argv: tuple[str, ...] = CHILD_ARGV
    ) -> None:
        self.idle_seconds = idle_seconds
        self.argv = argv
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._model = ""
        self._pending = b""
        self._asking = False  # a check or an answer is under way: warm() leaves it be

    @property
    def warm_model(self) -> str:
        """The model folder a running listening process holds ("" when none runs)."""
        with self._lock:
            return self._model if self._alive() else ""

    def warm(self, model_path: str, name: str) -> None:
        """Start the listening process with this model, unless it runs with it already."""
        with self._lock:
            if self._alive() and (self._model == model_path or self._asking):
                return
            self._stop_child()
            from .adapters.speaker import child_env

            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,
                env=child_env(),
            )
            self._model, self._pending = model_path, b""
            # Reaped the moment it ends (its idle exit too), without the daemon waking up.
            threading.Thread(target=self._proc.wait, name="listener-reaper", daemon=True).start()
            self._send({"model": model_path, "name": name, "idle_seconds": self.idle_seconds})
            log.info("listening process %s started; the speech model loads", self._proc.pid)

    def check(self, device: str) -> None:
        """MissingPartError when the microphone `device` is not there."""
        with self._asked({"do": "check", "device": device}):
            self._until("checked", timeout=CHECK_TIMEOUT, stop=None, on_open=None)

    def listen(
        self,
        voice: Row,
        *,
        paths: dict[str, str],
        stop: threading.Event,
        on_open: Callable[[], None] | None = None,
    ) -> Row | None:
        """One answer from the microphone, as Dictation's fields (None when nothing was
        heard); `voice` is [voice] as a dict. Setting `stop` ends it early."""
        limit = float(voice.get("max_seconds") or 0) + ANSWER_MARGIN
        with self._asked({"do": "listen", "voice": voice, "paths": paths}):
            answer = self._until("heard", timeout=limit, stop=stop, on_open=on_open)
        dictation = answer.get("dictation")
        return dictation if isinstance(dictation, dict) else None

    def close(self) -> None:
        with self._lock:
            self._stop_child()

    # -------------------------------------------------------- plumbing
    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _stop_child(self) -> None:
        proc, self._proc, self._model = self._proc, None, ""
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            proc.stdin.close()  # type: ignore[union-attr]
        proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()  # type: ignore[union-attr]

    def _send(self, message: Row) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(message).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError as exc:  # it has gone: what it left unsaid says so
            raise ListenerError("the listening process has stopped.") from exc

    @contextlib.contextmanager
    def _asked(self, message: Row) -> Iterator[None]:
        """Send one request; while its answer is awaited, warm() starts no other process."""
        with self._lock:
            if not self._alive():
                raise ListenerError(
                    "the listening process is not running (it was not "
                    "started, or it let the model go)."
                )
            self._send(message)
            self._asking = True
        try:
            yield
        finally:
            with self._lock:
                self._asking = False

    def _until(
        self,
        wanted: str,
        *,
        timeout: float,
        stop: threading.Event | None,
        on_open: Callable[[], None] | None,
    ) -> Row:
        """Read answers until the `wanted` one (a `failed` one is raised as its error)."""
        deadline = time.monotonic() + timeout
        while True:
            if stop is not None and stop.is_set():  # said again until it ends: never missed
                self._signal(signal.SIGUSR1)
            answer = self._next(min(0.2, max(0.0, deadline - time.monotonic())))
            if answer is None:
                if time.monotonic() >= deadline:
                    self.close()
                    raise ListenerError("the listening process did not answer in time.")
                continue
            event = answer.get("event")
            if event == "open" and on_open is not None:
                on_open()
            elif event == "failed":
                raise _error(answer)
            elif event == wanted:
                return answer

    def _signal(self, signum: int) -> None:
        with self._lock, contextlib.suppress(ProcessLookupError):
            if self._proc is not None:
                self._proc.send_signal(signum)

    def _next(self, wait: float) -> Row | None:
        """The next answer line, waiting at most `wait` seconds (None when none came)."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise ListenerError("the listening process is not running.")
        while b"\n" not in self._pending:
            ready, _, _ = select.select([proc.stdout], [], [], wait)
            if not ready:
                return None
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                code = proc.wait()
                raise ListenerError(f"the listening process stopped unexpectedly (exit {code}).")
            self._pending += data
        line, _, self._pending = self._pending.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            return None  # not ours (a library's stray output): read on
        return answer if isinstance(answer, dict) else None


def _error(answer: Row) -> CompanionError:
    message = str(answer.get("message") or "the listening process failed.")
    if answer.get("kind") == "missing":
        return MissingPartError(message)
    return ListenerError(message)


# ---------------------------------------------------------------- the listening process
class _Child:
    """What runs in the listening process: the model loads on a thread of its own (Vosk
    lets go of the GIL) while the microphone is looked up and questions are answered."""

    def __init__(self, out: IO[str], first: Row, stop: threading.Event) -> None:
        self.out = out
        self.model_path, self.name = str(first["model"]), str(first.get("name") or "")
        self.idle_seconds = float(first.get("idle_seconds") or IDLE_SECONDS)
        self.stop = stop
        self.model: Model | None = None
        self.model_error: CompanionError | None = None
        self.loader = threading.Thread(target=self._load, daemon=True)
        self.loader.start()

    def _load(self) -> None:
        from .adapters.recognizer import load_model

        try:
            self.model = load_model(Path(self.model_path))
        except CompanionError as exc:
            self.model_error = exc

    def say(self, answer: Row) -> None:
        self.out.write(json.dumps(answer) + "\n")
        self.out.flush()

    def serve(self, request: Row) -> None:
        try:
            if request.get("do") == "check":
                from .adapters import microphone

                microphone.input_device(str(request.get("device") or ""))
                self.say({"event": "checked"})
            elif request.get("do") == "listen":
                self.say({"event": "heard", "dictation": self.listen(request)})
        except CompanionError as exc:
            kind = "missing" if isinstance(exc, MissingPartError) else "failed"
            self.say({"event": "failed", "kind": kind, "message": str(exc)})
        except Exception as exc:  # said to the daemon, which logs it; this process goes on
            self.say(
                {
                    "event": "failed",
                    "kind": "failed",
                    "message": f"listening failed ({type(exc).__name__}: {exc})",
                }
            )

    def listen(self, request: Row) -> Row | None:
        from . import voice

        self.stop.clear()  # a stop from now on counts, even one while the model loads
        self.loader.join()
        if self.model is None:
            raise self.model_error or ListenerError("the speech model did not load.")
        app = _app(request)
        keep: list[bytes] | None = [] if app.settings.voice.keep_audio else None
        heard = voice.listen(
            app,
            self.model,
            self.name,
            stop=self.stop,
            keep=keep,
            on_open=lambda: self.say({"event": "open"}),
        )
        if heard is None:
            return None
        if keep:
            heard.audio_path = str(voice.save_audio(app, keep))
        return asdict(heard)


def _app(request: Row) -> App:
    """An App for one answer: the daemon's folders and [voice] settings."""
    from .app import App
    from .config import load_settings
    from .paths import Paths

    paths = Paths(**{k: Path(v) for k, v in dict(request["paths"]).items()})
    settings = load_settings(None)
    voice = settings.voice._replace(**dict(request["voice"]))
    return App(paths=paths, _settings=settings._replace(voice=voice))


class _Requests:
    """The daemon's requests on `fd`, one JSON object a line."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def next(self, timeout: float) -> Row | None:
        """The next request; None at end of file or after `timeout` seconds without one."""
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            data = os.read(self.fd, 65536) if ready else b""
            if not data:
                return None
            self.pending += data
        line, _, self.pending = self.pending.partition(b"\n")
        request = json.loads(line)
        return request if isinstance(request, dict) else {}


def child_main() -> int:
    """The listening process: serve requests until idle or until the daemon goes."""
    os.umask(0o077)
    stop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    out = sys.stdout
    sys.stdout = sys.stderr  # only answers go to the daemon
    requests = _Requests(sys.stdin.fileno())
    first = requests.next(3600.0)
    if not first:
        return 0
    child = _Child(out, first, stop)
    with contextlib.suppress(CompanionError):
        from .adapters import microphone

        microphone._sounddevice()  # ready for the first question
    while (request := requests.next(child.idle_seconds)) is not None:
        child.serve(request)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
