"""Reading text aloud: pyttsx3 (espeak-ng on Linux) in a child process with a timeout.

pyttsx3 can hang (a second ``runAndWait`` in one process is a known case) and espeak-ng
can crash, so the engine never runs in the caller's process. Each utterance gets a fresh
child: ``python -m companion.adapters.speaker``. The request travels on the child's stdin
as JSON (never in argv, where other users could read the text); the answer comes back as
one JSON line on stdout. A child that outlives ``[speech] timeout_seconds`` is killed with
its whole process group (the player included) and the caller goes on.

With espeak the child streams espeak's sound, as it is made, to the first player it finds
(paplay, pw-play, aplay): pyttsx3's own playback calls ``aplay`` through a shell and hides
every failure. Other pyttsx3 drivers speak through their own ``say()``. The child is its
own lean module (speaker_child.py): the first sound waits for its start-up.

The child never outlives its parent (a killed ``companion`` must not leave a voice
talking): on Linux the kernel sends it SIGTERM when the parent dies (PR_SET_PDEATHSIG),
and everywhere it watches a pipe whose other end only the parent holds; either way it
kills its whole process group, the player with it.
"""

# Lazy imports: pyttsx3 (heavy), only in the child, only when something is said.

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CompanionError, ConfigError, MissingPartError
from ..logs import get_log
from ..paths import create_private_file
from ..records import Row
from ..wording import plural
from .speaker_child import LIFELINE_ENV, child_main, find_player, missing_engine_message

if TYPE_CHECKING:
    from ..config import SpeechSettings

__all__ = [
    "Speaker",
    "SpeakerError",
    "Utterance",
    "child_main",
    "find_player",
    "missing_engine_message",
]

log = get_log("companion.speaker")

# -S: the child skips site (.pth files, editable-install finders: 15-40 ms of a start that
# the first sound waits for); it gets the parent's sys.path instead (child_env).
CHILD_ARGV: tuple[str, ...] = (sys.executable, "-S", "-m", "companion.adapters.speaker_child")
_CHECK_TIMEOUT = 10.0


class SpeakerError(CompanionError):
    """The engine was there but did not finish: it hung, crashed or could not play."""


@dataclass(frozen=True)
class SpeechRequest:
    """What the child is asked to do: ``speak``, ``save`` (to ``path``) or ``check``."""

    action: str
    text: str = ""
    engine: str = ""
    voice: str = ""
    rate: int = 165
    volume: float = 0.9
    path: str = ""


class Speaker:
    """Speaks or saves text with the settings of ``[speech]``; never blocks past the timeout.

    ``child_argv`` is the command of the child process; it is the child of this module
    unless a caller (a test, a packager) gives another one.
    """

    def __init__(
        self,
        settings: SpeechSettings,
        *,
        child_argv: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.child_argv = tuple(child_argv or CHILD_ARGV)
        self.timeout = float(timeout if timeout is not None else settings.timeout_seconds)

    def prepare(self) -> Utterance:
        """Start the child now, so it warms up (engine loaded, player found) while the
        caller is still choosing what to say. Use it as a context manager."""
        return Utterance(self)

    def speak(self, text: str) -> None:
        """Read `text` aloud on the default output; returns when it has been played."""
        with self.prepare() as utterance:
            utterance.speak(text)

    def save(self, text: str, path: Path) -> Path:
        """Write `text` as speech to the WAV file `path` (private, 0600)."""
        with self.prepare() as utterance:
            return utterance.save(text, path)

    def check(self) -> str | None:
        """None when speech can work here; otherwise why not and how to fix it."""
        try:
            with self.prepare() as utterance:
                utterance.run(self.request("check"), timeout=min(self.timeout, _CHECK_TIMEOUT))
        except CompanionError as exc:
            return str(exc)
        return None

    def request(self, action: str, *, text: str = "", path: str = "") -> SpeechRequest:
        s = self.settings
        return SpeechRequest(
            action=action,
            text=text,
            engine=s.engine,
            voice=s.voice,
            rate=int(s.rate),
            volume=float(s.volume),
            path=path,
        )


class Utterance:
    """One child process, started at once, given one request. Closing it without a request
    (the caller changed its mind or failed) kills the child."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        self._failed: CompanionError | None = None  # start_speaking's, said by finish()
        # The lifeline: the child holds the read end; the write end stays here, never
        # written, never inherited (os.pipe is close-on-exec), so the child reads EOF the
        # moment this process is gone, however it died.
        child_end, self._lifeline = os.pipe()
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                speaker.child_argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(child_end,),
                env={**child_env(), LIFELINE_ENV: str(child_end)},
            )
        except OSError as exc:
            os.close(self._lifeline)
            raise MissingPartError(
                f"the speaking helper could not start ({exc.strerror})."
            ) from exc
        finally:
            os.close(child_end)

    def __enter__(self) -> Utterance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc.returncode is None:
            _kill_group(self.proc)
        if self._lifeline >= 0:
            os.close(self._lifeline)
            self._lifeline = -1

    def speak(self, text: str) -> None:
        """Read `text` aloud; returns when it has been played."""
        self.start_speaking(text)
        self.finish()

    def start_speaking(self, text: str) -> None:
        """Hand `text` to the child, which reads it aloud at once; `finish()` waits until it
        has been played (the caller can do its own work meanwhile) and raises what went
        wrong, here or there."""
        try:
            self.send(self.speaker.request("speak", text=text))
        except CompanionError as exc:
            self._failed = exc

    def save(self, text: str, path: Path) -> Path:
        """Write `text` as speech to the WAV file `path` (private, 0600)."""
        path = Path(path).expanduser().absolute()
        if path.is_dir():
            raise CompanionError(f"{path} is a folder; give a file name such as phrase.wav.")
        try:
            create_private_file(path)  # never through a link; the folder must exist
        except OSError as exc:
            raise CompanionError(f"cannot write {path}: {exc.strerror}.") from exc
        self.run(self.speaker.request("save", text=text, path=str(path)))
        return path

    def run(self, request: SpeechRequest, *, timeout: float | None = None) -> None:
        """Send the request and wait for the answer, at most `timeout` seconds."""
        self.send(request)
        self.finish(timeout=timeout)

    def send(self, request: SpeechRequest) -> None:
        """Give the child its request (one line of JSON); it starts on it at once."""
        if request.action != "check" and not request.text.strip():
            self.close()
            raise CompanionError("there is nothing to read aloud (the text is empty).")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(asdict(request)).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:  # the child is gone: its answer (or its silence) says why
            pass

    def finish(self, *, timeout: float | None = None) -> None:
        """Wait for the child's answer, at most `timeout` seconds (by default [speech]
        timeout_seconds); raises what went wrong."""
        if self._failed is not None:
            raise self._failed
        limit = self.speaker.timeout if timeout is None else timeout
        try:
            out, err = self.proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
            log.warning("speech child killed after %.1f s", limit)
            raise SpeakerError(
                f"reading aloud took longer than {plural(limit, 'second')} and was stopped "
                "([speech] timeout_seconds)."
            ) from None
        _raise_for_answer(_answer(out), self.proc.returncode, err)


def child_env() -> dict[str, str]:
    """The environment of the child: this one, with this process's sys.path as PYTHONPATH
    (where companion and pyttsx3 were found), since the child does not run site."""
    here = str(Path(__file__).resolve().parents[2])  # the folder holding companion/
    path = dict.fromkeys([here, *(p for p in sys.path[1:] if p)])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (the player), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _answer(out: bytes) -> Row | None:
    for line in reversed(out.decode("utf-8", errors="replace").splitlines()):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and "ok" in data:
                return data
    return None


def _raise_for_answer(answer: Row | None, code: int | None, err: bytes) -> None:
    if answer is None:
        tail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:]
        log.warning("speech child exited %s without an answer: %s", code, tail)
        raise SpeakerError(
            "the speaking engine stopped unexpectedly" + (f" ({tail[0]})" if tail else "") + "."
        )
    if answer["ok"]:
        return
    kind, message = answer.get("kind", ""), str(answer.get("message", "unknown problem"))
    if kind == "missing":
        raise MissingPartError(message)
    if kind == "voice":
        raise ConfigError(message, key="speech.voice")
    if kind == "engine":
        raise ConfigError(message, key="speech.engine")
    raise SpeakerError(message)
