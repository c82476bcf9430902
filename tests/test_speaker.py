"""The speaker: real pyttsx3 + espeak-ng in a child process, measured with sox."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pulse_sink import RATE, need, sox_stat, stop_recording

from companion.adapters.speaker import Speaker, SpeakerError
from companion.config import load_settings
from companion.errors import CompanionError, ConfigError, MissingPartError

SHORT = "You are doing the work."  # 5 words
LONG = (
    "You are doing the work, one small and patient step at a time, "
    "and every step you take still counts."
)  # 20 words


@pytest.fixture
def speech() -> object:
    need("espeak-ng")
    return load_settings(None).speech


def with_(settings: object, **changes: object) -> object:
    return settings._replace(**changes)


def child(code: str) -> list[str]:
    """A stand-in child process running `code` (the speaker takes any child command)."""
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_phrase_of_n_words_lasts_a_plausible_time(speech, tmp_path: Path) -> None:
    speaker = Speaker(with_(speech, rate=165))
    short = sox_stat(speaker.save(SHORT, tmp_path / "short.wav"))
    long = sox_stat(speaker.save(LONG, tmp_path / "long.wav"))
    # 20 words at 165 words a minute is about 7 s; allow espeak's own pacing.
    assert 20 / 165 * 60 * 0.5 < long.seconds < 20 / 165 * 60 * 2
    assert 5 / 165 * 60 * 0.4 < short.seconds < 5 / 165 * 60 * 2.5
    assert long.seconds > 2.5 * short.seconds
    assert long.peak > 0.1 and long.rms > 0.01


def test_faster_rate_is_shorter(speech, tmp_path: Path) -> None:
    slow = sox_stat(Speaker(with_(speech, rate=100)).save(LONG, tmp_path / "slow.wav"))
    fast = sox_stat(Speaker(with_(speech, rate=300)).save(LONG, tmp_path / "fast.wav"))
    assert fast.seconds < slow.seconds * 0.6


def test_volume_zero_is_silent(speech, tmp_path: Path) -> None:
    quiet = sox_stat(Speaker(with_(speech, volume=0.0)).save(LONG, tmp_path / "quiet.wav"))
    loud = sox_stat(Speaker(with_(speech, volume=1.0)).save(LONG, tmp_path / "loud.wav"))
    assert quiet.seconds > 2  # the speech is there, with no sound in it
    assert quiet.peak < 0.01
    assert loud.peak > 0.1


def test_named_voice_is_used(speech, tmp_path: Path) -> None:
    english = Speaker(speech).save("안녕하세요 반갑습니다", tmp_path / "en.wav")
    korean = Speaker(with_(speech, voice="Korean")).save(
        "안녕하세요 반갑습니다", tmp_path / "ko.wav"
    )
    assert english.read_bytes() != korean.read_bytes()


def test_wav_is_private_whatever_the_umask(speech, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = Speaker(speech).save(SHORT, tmp_path / "out.wav")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unknown_voice_is_a_config_error(speech) -> None:
    with pytest.raises(ConfigError, match="speech.voice"):
        Speaker(with_(speech, voice="no-such-voice")).speak(SHORT)


def test_other_pyttsx3_driver_is_used_and_unknown_one_named(speech, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no speech driver named 'nosuch'"):
        Speaker(with_(speech, engine="nosuch")).speak(SHORT)
    # pyttsx3's own "dummy" driver is real and runs: naming it means it is the one used.
    assert Speaker(with_(speech, engine="dummy")).check() is None


def test_hanging_child_is_killed_at_timeout_and_caller_goes_on(speech, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    hang = child(f"""
        import os, subprocess, time
        player = subprocess.Popen(["sleep", "600"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{player.pid}}")
        time.sleep(600)
        """)
    speaker = Speaker(speech, child_argv=hang, timeout=1.5)
    started = time.monotonic()
    with pytest.raises(SpeakerError, match="longer than 1.5 seconds"):
        speaker.speak(SHORT)
    assert time.monotonic() - started < 30  # came back: the caller goes on
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), f"process {pid} survived the timeout"


def _alive(pid: int) -> bool:
    """Running (a reaped or zombie process is not)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.05)
    return True


def test_crashing_child_is_a_clear_error(speech) -> None:
    speaker = Speaker(speech, child_argv=child("import os; os.abort()"))
    with pytest.raises(SpeakerError, match="stopped unexpectedly"):
        speaker.speak(SHORT)
    assert "stopped unexpectedly" in (speaker.check() or "")


def test_missing_espeak_library_names_the_package(speech) -> None:
    # The real child, in a process where loading libespeak-ng fails as on a machine without it.
    no_espeak = child("""
        import ctypes, sys
        def refuse(name, *a, **k):
            raise OSError(f"{name}: cannot open shared object file")
        ctypes.cdll.LoadLibrary = refuse
        from companion.adapters.speaker import child_main
        sys.exit(child_main())
        """)
    speaker = Speaker(speech, child_argv=no_espeak)
    with pytest.raises(MissingPartError, match="apt install espeak-ng") as caught:
        speaker.speak(SHORT)
    assert caught.value.exit_code == 3
    assert "espeak-ng" in (speaker.check() or "")


def test_no_sound_player_is_a_missing_part(
    speech, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no paplay, pw-play or aplay to be found
    with pytest.raises(MissingPartError, match="pulseaudio-utils"):
        Speaker(speech).speak(SHORT)


def test_check_says_nothing_when_speech_works(speech) -> None:
    need("paplay")
    assert Speaker(speech).check() is None


def test_text_is_not_passed_on_the_command_line(speech) -> None:
    speaker = Speaker(speech)
    assert all(SHORT not in arg for arg in speaker.child_argv)


@pytest.mark.slow
def test_speak_plays_into_the_default_output(speech, pulse_sink, tmp_path: Path) -> None:
    recording = tmp_path / "monitor.raw"
    recorder = pulse_sink.record(recording)
    try:
        Speaker(speech).speak(LONG)
    finally:
        stop_recording(recorder)
    heard = sox_stat(recording, raw_rate=RATE)
    assert heard.peak > 0.05, "nothing was heard at the null sink's monitor"
    assert heard.seconds > 3


def test_empty_text_is_refused_at_once(speech) -> None:
    with pytest.raises(CompanionError, match="nothing to read aloud"):
        Speaker(speech).speak("   ")


# ---------------------------------------------------------------- a killed parent
def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent pid, process group, command line) of every live process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] not in ("Z", "X"):
            found.append((int(entry.name), int(fields[1]), int(fields[2]), argv))
    return found


def _wait(what: str, find, timeout: float = 60.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"never saw {what}")


@pytest.mark.slow
def test_a_killed_companion_leaves_no_voice_speaking(speech, pulse_sink, home: Path) -> None:
    home.mkdir()
    (home / "config.toml").write_text("[speech]\nrate = 80\n")  # slow: still speaking later
    proc = subprocess.Popen(
        [sys.executable, "-m", "companion", "encourage"],
        env={**os.environ, "COMPANION_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    group = 0
    try:
        group = _wait(
            "the speaking child",
            lambda: [
                pid
                for pid, parent, _, argv in _processes()
                if parent == proc.pid and "companion.adapters.speaker" in argv
            ],
        )[0]
        _wait(
            "the player, mid-speech",
            lambda: [pid for pid, _, pgid, argv in _processes() if pgid == group and pid != group],
        )
        os.kill(proc.pid, signal.SIGKILL)  # only companion itself, as the OOM killer would
        proc.wait(timeout=10)
        killed_at = time.monotonic()
        deadline = killed_at + 2.0
        while [p for p in _processes() if p[2] == group] and time.monotonic() < deadline:
            time.sleep(0.02)
        left = [argv for _, _, pgid, argv in _processes() if pgid == group]
        assert left == [], f"still running 2 s after companion was killed: {left}"
        print(
            f"speaking child and player gone {time.monotonic() - killed_at:.2f} s after "
            "companion was killed"
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        if group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
