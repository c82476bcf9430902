"""The speaking child: ``python -S -m companion.adapters.speaker_child`` (see speaker.py).

It starts before the caller knows what to say: the player is started (connected to the
sound server by the time there is sound) and pyttsx3's engine loaded while the caller
chooses. Then one request comes on stdin as JSON, and one JSON answer goes to stdout.

Everything the first sound waits for is in this module's start-up, so it imports only
what the child uses (no logging, dataclasses, pathlib or typing: about 15 ms of a start
that `encourage` waits for); it runs without site (-S), on the parent's sys.path.
"""

# Lazy imports: pyttsx3 (heavy) and ctypes, only once the child is up and has started
# its player.

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading

TYPE_CHECKING = False  # typing itself is not imported: it is 2 ms of the child's start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..records import Row

    # pyttsx3 ships no types: its engine and voices, and espeak's ctypes callback arguments,
    # stay inside this module.
    Engine = Any  # type: ignore[explicit-any]
    Voice = Any  # type: ignore[explicit-any]
    CData = Any  # type: ignore[explicit-any]
    Request = Row  # the parent's SpeechRequest as JSON: action, text, engine, voice, rate...

ESPEAK_PACKAGE = "espeak-ng"
# (program, arguments that make it play a WAV from stdin, Debian package)
PLAYERS = (
    ("paplay", (), "pulseaudio-utils"),
    ("pw-play", ("-",), "pipewire-bin"),
    ("aplay", ("-q", "-"), "alsa-utils"),
)
ESPEAK_RATE = 22050  # espeak-ng's sample rate (pyttsx3's espeak driver writes it too)
LIFELINE_ENV = "COMPANION_SPEAKER_LIFELINE"  # the child's end of the pipe it watches
_PR_SET_PDEATHSIG = 1


class _Fail(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def missing_engine_message(detail: str = "") -> str:
    """What to say when espeak-ng (or pyttsx3) is not installed."""
    why = f" ({detail})" if detail else ""
    return (
        f"no speech engine was found{why}. Install it with "
        f"`sudo apt install {ESPEAK_PACKAGE}`, or set [speech] enabled = false."
    )


def _engine_missing(engine: str, exc: BaseException) -> str:
    if engine in ("", "espeak"):
        return missing_engine_message(str(exc))
    return (
        f"the speech driver {engine!r} could not start ({exc}); install what it needs "
        'or set [speech] engine = "" for espeak-ng.'
    )


def _uses_espeak(engine: str) -> bool:
    return engine in ("espeak", "") and sys.platform.startswith("linux")


def _open_engine(request: Request) -> Engine:
    engine_name = str(request.get("engine") or "")
    try:
        import pyttsx3
    except ImportError as exc:
        raise _Fail(
            "missing",
            missing_engine_message("the Python package pyttsx3 is missing; reinstall companion"),
        ) from exc
    try:
        engine = pyttsx3.init(engine_name or None)
    except ModuleNotFoundError as exc:
        if engine_name and exc.name == f"pyttsx3.drivers.{engine_name}":
            raise _Fail(
                "engine",
                f'pyttsx3 has no speech driver named {engine_name!r}; use "" for the usual one',
            ) from exc
        raise _Fail("missing", _engine_missing(engine_name, exc)) from exc
    except (ImportError, RuntimeError, OSError) as exc:
        raise _Fail("missing", _engine_missing(engine_name, exc)) from exc
    _set_properties(engine, request)
    return engine


def _set_properties(engine: Engine, request: Request) -> None:
    if request.get("voice"):
        engine.setProperty("voice", _resolve_voice(engine, str(request["voice"])))
    engine.setProperty("rate", int(request.get("rate", 165)))
    engine.setProperty("volume", float(request.get("volume", 0.9)))


def _resolve_voice(engine: Engine, wanted: str) -> str:
    """The engine's id for a voice given by id, name or language ("en-us", "Korean").

    Checked here because engines quietly keep their default voice for a name they lack.
    """
    key = wanted.strip().lower()
    voices = list(engine.getProperty("voices") or [])
    for voice in voices:
        names = {
            str(voice.id).lower(),
            str(voice.name or "").lower(),
            str(voice.id).lower().rsplit("/", 1)[-1],
        }
        names |= {str(lang).lower() for lang in (voice.languages or [])}
        if key in names:
            return str(voice.id)
    raise _Fail(
        "voice",
        f"the voice {wanted!r} is not one this engine has "
        f"({len(voices)} voices, such as {_examples(voices)}); "
        'use "" for the default voice',
    )


def _examples(voices: list[Voice]) -> str:
    picks = [v for v in voices if str(v.id).rsplit("/", 1)[-1] in ("en-us", "en-gb", "en")]
    return ", ".join(repr(str(v.id)) for v in (picks or voices)[:3])


def find_player() -> tuple[str, ...]:
    """The command that plays a WAV from stdin on the default output."""
    for program, args, _package in PLAYERS:
        found = shutil.which(program)
        if found:
            return (found, *args)
    packages = " or ".join(p for _, _, p in PLAYERS)
    raise _Fail(
        "missing",
        f"no program to play sound was found. Install {packages} "
        "(`sudo apt install pulseaudio-utils`).",
    )


def _stream_header(rate: int) -> bytes:
    """A WAV header for 16-bit mono sound of a length not known yet (the largest there is):
    players read such a stream until it ends."""
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF - 36)
    )


class _Player:
    """The player, started before there is anything to play, so that it has connected to
    the sound server by the time the first words are synthesised; it is then fed the sound
    as espeak makes it."""

    def __init__(self, argv: tuple[str, ...]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.broken: OSError | None = None
        self.write(_stream_header(ESPEAK_RATE))

    @classmethod
    def start(cls) -> _Player | _Fail:
        """A started player, or why none could start (said when there is something to play)."""
        try:
            return cls(find_player())
        except _Fail as exc:
            return exc
        except OSError as exc:
            return _Fail("missing", f"the sound player could not start ({exc.strerror}).")

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        if self.broken is None:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except OSError as exc:  # the player has gone: finish() says why
                self.broken = exc

    def finish(self) -> None:
        """Close the stream and wait until everything was played."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        err = self.proc.stderr.read() if self.proc.stderr else b""
        if self.proc.wait() != 0 or self.broken is not None:
            detail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:]
            raise _Fail(
                "missing",
                "the sound could not be played"
                + (f" ({detail[0]})" if detail else "")
                + ". Check that a sound output (PulseAudio or PipeWire) is running.",
            )

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def _synthesise(engine: Engine, text: str, target: str) -> None:
    # runAndWait can return before espeak's callback has written the sound (its loop ends
    # on the queued endLoop), so wait for the utterance itself; the parent's timeout bounds it.
    done = threading.Event()
    engine.connect("finished-utterance", lambda **_: done.set())
    engine.save_to_file(text, target)
    engine.runAndWait()
    done.wait()


def _stream(text: str, write: Callable[[bytes], None]) -> None:
    """Synthesise `text` with espeak-ng (through pyttsx3's binding, the engine already set
    up by pyttsx3) and hand each piece of sound to `write` as soon as it is made, instead of
    waiting for the whole phrase."""
    import ctypes

    from pyttsx3.drivers import _espeak

    done = threading.Event()

    def on_sound(wav: CData, samples: int, events: CData) -> int:
        if samples > 0:
            write(ctypes.string_at(wav, samples * 2))
        i = 0
        while events[i].type != _espeak.EVENT_LIST_TERMINATED:
            if events[i].type == _espeak.EVENT_MSG_TERMINATED:
                done.set()
            i += 1
        return 0

    _espeak.SetSynthCallback(on_sound)
    _espeak.Synth(text.encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)
    done.wait()


def _serve(request: Request, player: _Player | _Fail | None) -> None:
    engine = _open_engine(request)
    espeak = _uses_espeak(str(request.get("engine") or ""))
    action, text = request.get("action"), str(request.get("text") or "")
    if action == "check":
        if espeak:
            find_player()
        return
    if action == "save":
        _synthesise(engine, text, str(request["path"]))
        return
    if not espeak:
        engine.say(text)
        engine.runAndWait()
        return
    if not isinstance(player, _Player):
        raise player or _Fail("missing", "no sound player was started.")
    _stream(text, player.write)
    player.finish()


def _warm_up() -> tuple[Engine | None, _Player | _Fail | None]:
    """Start the player and load the usual engine before the request arrives (the parent is
    still choosing what to say). Any engine failure here shows again, with its reason, when
    the request is served."""
    if not sys.platform.startswith("linux"):
        return None, None
    player = _Player.start()
    try:
        import pyttsx3

        return pyttsx3.init(), player
    except Exception:  # reported by _open_engine, with the request's engine
        return None, player


def _discard(player: _Player | _Fail | None) -> None:
    if isinstance(player, _Player) and player.proc.returncode is None:
        player.discard()


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
    """The child: one request from stdin (one line of JSON), one JSON answer on stdout."""
    die_with_parent()
    os.umask(0o077)
    real_stdout = sys.stdout
    warm, player = _warm_up()  # noqa: F841 -- warm: held so pyttsx3's engine cache keeps it
    try:
        request = json.loads(sys.stdin.readline())
        if not (
            request.get("action") == "speak" and _uses_espeak(str(request.get("engine") or ""))
        ):
            _discard(player)
            player = None
        with contextlib.redirect_stdout(sys.stderr):  # pyttsx3 prints "Audio saved to ..."
            _serve(request, player)
        answer: dict[str, object] = {"ok": True}
    except _Fail as exc:
        answer = {"ok": False, "kind": exc.kind, "message": str(exc)}
    except Exception as exc:  # the child reports every failure instead of dying silently
        answer = {
            "ok": False,
            "kind": "failed",
            "message": f"the speaking engine failed ({type(exc).__name__}: {exc})",
        }
    finally:
        _discard(player)
    real_stdout.write(json.dumps(answer) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
