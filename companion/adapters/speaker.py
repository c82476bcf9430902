"""Reading text aloud: pyttsx3 (espeak-ng on Linux) in a child process with a timeout.

pyttsx3 can hang (a second ``runAndWait`` in one process is a known case) and espeak-ng
can crash, so the engine never runs in the caller's process. Each utterance gets a fresh
child: ``python -m companion.adapters.speaker``. The request travels on the child's stdin
as JSON (never in argv, where other users could read the text); the answer comes back as
one JSON line on stdout. A child that outlives ``[speech] timeout_seconds`` is killed with
its whole process group (the player included) and the caller goes on.

With espeak the child synthesises into memory and plays the WAV with the first player it
finds (paplay, pw-play, aplay): pyttsx3's own playback calls ``aplay`` through a shell and
hides every failure. Other pyttsx3 drivers speak through their own ``say()``.

The child never outlives its parent (a killed ``companion`` must not leave a voice
talking): on Linux the kernel sends it SIGTERM when the parent dies (PR_SET_PDEATHSIG),
and everywhere it watches a pipe whose other end only the parent holds; either way it
kills its whole process group, the player with it.
"""

# Lazy imports: pyttsx3 (heavy), only when something is said.

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import CompanionError, ConfigError, MissingPartError
from ..paths import create_private_file
from ..wording import plural

log = logging.getLogger("companion.speaker")

ESPEAK_PACKAGE = "espeak-ng"
# (program, arguments that make it play a WAV from stdin, Debian package)
PLAYERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("paplay", (), "pulseaudio-utils"),
    ("pw-play", ("-",), "pipewire-bin"),
    ("aplay", ("-q", "-"), "alsa-utils"),
)
CHILD_ARGV: tuple[str, ...] = (sys.executable, "-m", "companion.adapters.speaker")
LIFELINE_ENV = "COMPANION_SPEAKER_LIFELINE"  # the child's end of the pipe it watches
_CHECK_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1


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

    def __init__(self, settings: Any, *, child_argv: Sequence[str] | None = None,
                 timeout: float | None = None) -> None:
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
        return SpeechRequest(action=action, text=text, engine=s.engine, voice=s.voice,
                             rate=int(s.rate), volume=float(s.volume), path=path)


class Utterance:
    """One child process, started at once, given one request. Closing it without a request
    (the caller changed its mind or failed) kills the child."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker
        # The lifeline: the child holds the read end; the write end stays here, never
        # written, never inherited (os.pipe is close-on-exec), so the child reads EOF the
        # moment this process is gone, however it died.
        child_end, self._lifeline = os.pipe()
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                speaker.child_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True, pass_fds=(child_end,),
                env={**os.environ, LIFELINE_ENV: str(child_end)})
        except OSError as exc:
            os.close(self._lifeline)
            raise MissingPartError(
                f"the speaking helper could not start ({exc.strerror}).") from exc
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
        self.run(self.speaker.request("speak", text=text))

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
        if request.action != "check" and not request.text.strip():
            self.close()
            raise CompanionError("there is nothing to read aloud (the text is empty).")
        limit = self.speaker.timeout if timeout is None else timeout
        try:
            out, err = self.proc.communicate(json.dumps(asdict(request)).encode(),
                                             timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
            log.warning("speech child killed after %.1f s", limit)
            raise SpeakerError(
                f"reading aloud took longer than {plural(limit, 'second')} and was stopped "
                "([speech] timeout_seconds).") from None
        except BrokenPipeError:
            out, err = self.proc.communicate(timeout=limit)
        _raise_for_answer(_answer(out), self.proc.returncode, err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (the player), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _answer(out: bytes) -> dict[str, Any] | None:
    for line in reversed(out.decode("utf-8", errors="replace").splitlines()):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and "ok" in data:
                return data
    return None


def _raise_for_answer(answer: dict[str, Any] | None, code: int | None, err: bytes) -> None:
    if answer is None:
        tail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:]
        log.warning("speech child exited %s without an answer: %s", code, tail)
        raise SpeakerError("the speaking engine stopped unexpectedly"
                           + (f" ({tail[0]})" if tail else "") + ".")
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


# ---------------------------------------------------------------- the child side
class _Fail(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def missing_engine_message(detail: str = "") -> str:
    """What to say when espeak-ng (or pyttsx3) is not installed."""
    why = f" ({detail})" if detail else ""
    return (f"no speech engine was found{why}. Install it with "
            f"`sudo apt install {ESPEAK_PACKAGE}`, or set [speech] enabled = false.")


def _engine_missing(engine: str, exc: BaseException) -> str:
    if engine in ("", "espeak"):
        return missing_engine_message(str(exc))
    return (f"the speech driver {engine!r} could not start ({exc}); install what it needs "
            'or set [speech] engine = "" for espeak-ng.')


def _uses_espeak(engine: str) -> bool:
    return engine in ("espeak", "") and sys.platform.startswith("linux")


def _open_engine(request: SpeechRequest) -> Any:
    try:
        import pyttsx3
    except ImportError as exc:
        raise _Fail("missing", missing_engine_message("the Python package pyttsx3 is missing; "
                                                      "reinstall companion")) from exc
    try:
        engine = pyttsx3.init(request.engine or None)
    except ModuleNotFoundError as exc:
        if request.engine and exc.name == f"pyttsx3.drivers.{request.engine}":
            raise _Fail("engine", f"pyttsx3 has no speech driver named {request.engine!r}; "
                                  'use "" for the usual one') from exc
        raise _Fail("missing", _engine_missing(request.engine, exc)) from exc
    except (ImportError, RuntimeError, OSError) as exc:
        raise _Fail("missing", _engine_missing(request.engine, exc)) from exc
    _set_properties(engine, request)
    return engine


def _set_properties(engine: Any, request: SpeechRequest) -> None:
    if request.voice:
        engine.setProperty("voice", _resolve_voice(engine, request.voice))
    engine.setProperty("rate", request.rate)
    engine.setProperty("volume", request.volume)


def _resolve_voice(engine: Any, wanted: str) -> str:
    """The engine's id for a voice given by id, name or language ("en-us", "Korean").

    Checked here because engines quietly keep their default voice for a name they lack.
    """
    key = wanted.strip().lower()
    voices = list(engine.getProperty("voices") or [])
    for voice in voices:
        names = {str(voice.id).lower(), str(voice.name or "").lower(),
                 str(voice.id).lower().rsplit("/", 1)[-1]}
        names |= {str(lang).lower() for lang in (voice.languages or [])}
        if key in names:
            return str(voice.id)
    raise _Fail("voice", f"the voice {wanted!r} is not one this engine has "
                         f"({len(voices)} voices, such as {_examples(voices)}); "
                         'use "" for the default voice')


def _examples(voices: list[Any]) -> str:
    picks = [v for v in voices if str(v.id).rsplit("/", 1)[-1] in ("en-us", "en-gb", "en")]
    return ", ".join(repr(str(v.id)) for v in (picks or voices)[:3])


def find_player() -> tuple[str, ...]:
    """The command that plays a WAV from stdin on the default output."""
    for program, args, _package in PLAYERS:
        found = shutil.which(program)
        if found:
            return (found, *args)
    packages = " or ".join(p for _, _, p in PLAYERS)
    raise _Fail("missing", f"no program to play sound was found. Install {packages} "
                           "(`sudo apt install pulseaudio-utils`).")


def _synthesise(engine: Any, text: str, target: Any) -> None:
    # runAndWait can return before espeak's callback has written the sound (its loop ends
    # on the queued endLoop), so wait for the utterance itself; the parent's timeout bounds it.
    done = threading.Event()
    engine.connect("finished-utterance", lambda **_: done.set())
    engine.save_to_file(text, target)
    engine.runAndWait()
    done.wait()


def _play(wav: bytes, player: tuple[str, ...]) -> None:
    result = subprocess.run(player, input=wav, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
        raise _Fail("missing", "the sound could not be played"
                    + (f" ({detail[0]})" if detail else "")
                    + ". Check that a sound output (PulseAudio or PipeWire) is running.")


def _serve(request: SpeechRequest) -> None:
    engine = _open_engine(request)
    espeak = _uses_espeak(request.engine)
    if request.action == "check":
        if espeak:
            find_player()
        return
    if request.action == "save":
        _synthesise(engine, request.text, request.path)
        return
    if not espeak:
        engine.say(request.text)
        engine.runAndWait()
        return
    player = find_player()
    buffer = io.BytesIO()
    _synthesise(engine, request.text, buffer)
    _play(buffer.getvalue(), player)


def _warm_up() -> Any:
    """Load the usual engine before the request arrives (the parent is still choosing what
    to say). Any failure here shows again, with its reason, when the request is served."""
    try:
        import pyttsx3

        return pyttsx3.init() if sys.platform.startswith("linux") else None
    except Exception:  # reported by _open_engine, with the request's engine
        return None


def _end_with_parent(*_: object) -> None:
    """The parent is gone: stop at once, and the player too (it is in our process group,
    which start_new_session made ours alone)."""
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)


def _watch_lifeline(fd: int) -> None:
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        return  # no pipe to watch after all (run by hand): the death signal still works
    _end_with_parent()


def die_with_parent() -> None:
    """Make sure this child never outlives the process that started it."""
    signal.signal(signal.SIGTERM, _end_with_parent)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    fd = os.environ.pop(LIFELINE_ENV, "")
    if fd.isdigit():  # also covers a parent that died before prctl took effect
        threading.Thread(target=_watch_lifeline, args=(int(fd),), daemon=True).start()


def child_main() -> int:
    """The child: one request from stdin, one JSON answer on stdout."""
    os.umask(0o077)
    die_with_parent()
    real_stdout = sys.stdout
    warm = _warm_up()  # noqa: F841 -- held so pyttsx3's weak engine cache keeps it
    try:
        request = SpeechRequest(**json.loads(sys.stdin.read()))
        with contextlib.redirect_stdout(sys.stderr):  # pyttsx3 prints "Audio saved to ..."
            _serve(request)
        answer: dict[str, Any] = {"ok": True}
    except _Fail as exc:
        answer = {"ok": False, "kind": exc.kind, "message": str(exc)}
    except Exception as exc:  # the child reports every failure instead of dying silently
        answer = {"ok": False, "kind": "failed",
                  "message": f"the speaking engine failed ({type(exc).__name__}: {exc})"}
    real_stdout.write(json.dumps(answer) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
