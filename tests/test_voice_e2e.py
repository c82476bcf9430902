"""Spoken journaling end to end, with real parts: the Korean Vosk model, espeak-ng speech,
sox, and PulseAudio's null sink standing in for a microphone."""

from __future__ import annotations

import json
import os
import select
import stat
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from pulse_sink import PulseSink as Pulse
from speech_fixtures import (
    Speech,
    aligned_snr,
    ko_model_path,
    need,
    silence,
    similar,
    speak_ko,
)

from companion import voice
from companion.app import App
from companion.audio import open_audio
from companion.paths import resolve_paths
from companion.store import Store

pytest_plugins = ["speech_fixtures"]
pytestmark = pytest.mark.slow


def configure(home: Path, **voice_keys: object) -> None:
    ko_model_path()
    home.mkdir(parents=True, exist_ok=True)
    keys = {"model": "ko", "silence_seconds": 1.0, "max_seconds": 60.0, **voice_keys}
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in keys.items())
    (home / "config.toml").write_text(f"[voice]\n{body}\n")


def stored(home: Path) -> list[dict]:
    if not (home / "companion.db").exists():
        return []
    with Store.open(home / "companion.db") as store:
        return store.entries()


@pytest.fixture
def korean(home: Path) -> None:
    configure(home)


# ---------------------------------------------------------------- recordings
@pytest.mark.usefixtures("korean")
def test_the_same_speech_through_transcribe_and_reflect_audio(
    cli, home: Path, ko_speech: Speech
) -> None:
    heard = json.loads(cli("transcribe", str(ko_speech.wav16k), "--json").stdout)
    assert heard["model"] == "ko" and heard["raw_text"]
    assert all("low" in w for w in heard["words"])
    assert stored(home) == []  # transcribe stores nothing
    entry = json.loads(cli("reflect", "--audio", str(ko_speech.wav16k), "--yes", "--json").stdout)
    assert similar(entry["raw_text"], heard["raw_text"])
    assert entry["source"] == "audio-file" and entry["model"] == "ko"
    assert entry["text"].endswith(".") and entry["confidence"] > 0
    [row] = stored(home)
    words = row["words"] if isinstance(row["words"], list) else json.loads(row["words"])
    assert [w["word"] for w in words] == row["raw_text"].split()


@pytest.mark.usefixtures("korean")
def test_stereo_44k_and_flac_recordings_are_heard_too(
    cli, tmp_path: Path, ko_speech: Speech
) -> None:
    stereo = speak_ko(ko_speech.text, tmp_path / "s.wav", rate=44100, channels=2)
    mono = ko_speech.wav16k
    flac = tmp_path / "s.flac"
    subprocess.run(["sox", str(stereo), str(flac)], check=True)
    texts = [
        json.loads(cli("transcribe", str(f), "--json").stdout)["raw_text"]
        for f in (mono, stereo, flac)
    ]
    assert all(texts)
    assert similar(texts[0], texts[1], at_least=0.6)
    assert similar(texts[0], texts[2], at_least=0.6)


@pytest.mark.usefixtures("korean")
def test_a_silent_recording_saves_nothing(cli, home: Path, tmp_path: Path) -> None:
    result = cli("reflect", "--audio", str(silence(tmp_path / "quiet.wav")), "--yes", ok=False)
    assert result.exit_code == 1 and "no speech heard" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored(home) == []


@pytest.mark.usefixtures("korean")
@pytest.mark.parametrize("kind", ["empty", "text", "truncated"])
def test_bad_recordings_get_one_clear_message(
    cli, home: Path, tmp_path: Path, ko_speech: Speech, kind: str
) -> None:
    path = tmp_path / "bad.wav"
    data = ko_speech.wav16k.read_bytes()
    path.write_bytes(
        {"empty": b"", "text": b"not sound at all\n" * 20, "truncated": data[: len(data) // 2]}[
            kind
        ]
    )
    result = cli("reflect", "--audio", str(path), "--yes", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert {"empty": "empty", "text": "not a recording", "truncated": "cut short"}[
        kind
    ] in result.stderr
    assert stored(home) == []


def test_kept_audio_is_private(cli, home: Path, ko_short: Speech) -> None:
    configure(home, keep_audio=True)
    entry = json.loads(cli("reflect", "--audio", str(ko_short.wav16k), "--yes", "--json").stdout)
    kept = Path(entry["audio_path"])
    assert kept.parent == home / "audio"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    with wave.open(str(kept)) as w:
        assert (w.getframerate(), w.getnchannels()) == (16000, 1)
        assert w.getnframes() > 16000


@pytest.mark.usefixtures("korean")
def test_audio_is_not_kept_unless_asked(cli, home: Path, ko_short: Speech) -> None:
    entry = json.loads(cli("reflect", "--audio", str(ko_short.wav16k), "--yes", "--json").stdout)
    assert entry["audio_path"] is None
    assert not (home / "audio").exists() or not list((home / "audio").iterdir())


@pytest.mark.usefixtures("korean")
def test_without_yes_the_person_can_discard_or_keep(cli, home: Path, ko_short: Speech) -> None:
    gone = cli("reflect", "--audio", str(ko_short.wav16k), input="discard\n")
    assert "Nothing was saved" in gone.stdout and stored(home) == []
    cli("reflect", "--audio", str(ko_short.wav16k), input="keep\n")
    assert len(stored(home)) == 1


def test_no_model_is_a_missing_part_with_the_fix(cli, home: Path, ko_speech: Speech) -> None:
    result = cli("reflect", "--audio", str(ko_speech.wav16k), "--yes", ok=False)
    assert result.exit_code == 3
    assert "companion model install small-en-us" in result.stderr
    assert stored(home) == []


# ---------------------------------------------------------------- the live microphone
@pytest.fixture(scope="session")
def sink_speech(tmp_path_factory: pytest.TempPathFactory, ko_speech: Speech) -> Path:
    """The sentence at the null sink's own rate (44.1 kHz stereo): PulseAudio plays it as is."""
    folder = tmp_path_factory.mktemp("sink")
    return speak_ko(ko_speech.text, folder / "ko44k.wav", rate=44100, channels=2)


@pytest.fixture(scope="session")
def sink_short(tmp_path_factory: pytest.TempPathFactory, ko_short: Speech) -> Path:
    """The short sentence at the null sink's rate, for the turns taken at a terminal."""
    folder = tmp_path_factory.mktemp("sink")
    return speak_ko(ko_short.text, folder / "short44k.wav", rate=44100, channels=2)


def test_the_same_speech_through_transcribe_reflect_audio_and_the_microphone(
    cli, home: Path, pulse: Pulse, sink_speech: Path
) -> None:
    configure(home, keep_audio=True)
    from_file = json.loads(cli("transcribe", str(sink_speech), "--json").stdout)["raw_text"]
    recorded = json.loads(cli("reflect", "--audio", str(sink_speech), "--yes", "--json").stdout)
    player = pulse.play_when_recording(sink_speech)
    result = cli("reflect", "--voice", "--yes", "--json")
    player.join(timeout=60)
    entry = json.loads(result.stdout)
    assert entry["source"] == "voice" and entry["model"] == "ko"
    assert "Listening" in result.stderr and "Heard:" in result.stderr
    assert similar(recorded["raw_text"], from_file)
    # The microphone path hears the very sound that was played...
    heard = b"".join(open_audio(Path(entry["audio_path"])))
    # (12 dB: the two streams can sit a fraction of a sample apart; unrelated sound is < 1 dB)
    assert aligned_snr(heard, b"".join(open_audio(sink_speech))) > 12
    # ...and Vosk makes the same of it (its word decoding varies by a syllable or two, and
    # with where the speech starts in the stream, hence a loose bar: unrelated speech is < 0.1).
    again = json.loads(cli("transcribe", entry["audio_path"], "--json").stdout)["raw_text"]
    assert similar(entry["raw_text"], again, at_least=0.4), (entry["raw_text"], again)
    assert similar(entry["raw_text"], from_file, at_least=0.4), (entry["raw_text"], from_file)
    assert len(stored(home)) == 2


def test_a_spoken_checkin_answer_is_saved(cli, home: Path, pulse: Pulse, ko_short: Speech) -> None:
    configure(home)
    player = pulse.play_when_recording(ko_short.wav16k)
    result = cli("checkin", "--voice", "--yes", "--json")
    player.join(timeout=60)
    assert json.loads(result.stdout)["source"] == "voice"


def test_nobody_speaking_saves_nothing(cli, home: Path, pulse: Pulse) -> None:
    configure(home)
    result = cli("reflect", "--voice", "--yes", ok=False)
    assert result.exit_code == 1 and "no speech heard" in result.stderr
    assert stored(home) == []


def test_an_unknown_input_device_is_a_missing_part(cli, home: Path, pulse: Pulse) -> None:
    configure(home, device="no-such-microphone-here")
    result = cli("reflect", "--voice", "--yes", ok=False)
    assert result.exit_code == 3 and "[voice] device" in result.stderr


def test_a_missing_microphone_is_said_before_the_model_loads(home: Path) -> None:
    from test_daemon import env_for, speech_libraries_after

    configure(home, device="no-such-microphone-here")
    loaded, output = speech_libraries_after(["reflect", "--voice", "--yes"], env_for(home, None))
    assert "[voice] device" in output and "Saved" not in output
    assert "vosk" not in loaded, output  # the model was never loaded to find that out


class Terminal:
    """`companion ARGS` on a real pseudo-terminal, typed at as a person would."""

    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "companion", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.output = ""

    def expect(self, text: str, *, count: int = 1, limit: float = 90.0) -> None:
        """Read until `text` has been shown `count` times (a hang guard, not a timing test)."""
        deadline = time.monotonic() + limit
        while self.output.count(text) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(
                    f"never saw {text!r} (x{count}); the terminal showed:\n{self.output}"
                )

    def type(self, line: str) -> None:
        os.write(self.master, f"{line}\r".encode())  # Enter, as a keyboard sends it

    def finish(self, limit: float = 30.0) -> int:
        """The exit code; fails when the command is still waiting for more typing."""
        deadline = time.monotonic() + limit
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"still waiting after the answer; it showed:\n{self.output}")
        while self._read(0.2):
            pass
        os.close(self.master)
        return self.proc.returncode

    def _read(self, timeout: float) -> bool:
        if not select.select([self.master], [], [], timeout)[0]:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:  # the other side closed
            return False
        self.output += data.decode("utf-8", errors="replace")
        return bool(data)


def test_at_a_terminal_discard_after_a_pause_keeps_nothing(
    home: Path, pulse: Pulse, sink_short: Path
) -> None:
    configure(home)
    player = pulse.play_when_recording(sink_short)
    term = Terminal("reflect", "--voice")
    term.expect("Keep it?")  # listening ended on the pause, not on Enter
    player.join(timeout=60)
    term.type("discard")
    assert term.finish() == 0
    assert "nothing was saved" in term.output
    assert stored(home) == []


def test_at_a_terminal_redo_listens_again_and_keep_saves(
    home: Path, pulse: Pulse, sink_short: Path
) -> None:
    configure(home)
    player = pulse.play_when_recording(sink_short)
    term = Terminal("reflect", "--voice")
    term.expect("Keep it?")
    player.join(timeout=60)
    player = pulse.play_when_recording(sink_short)
    term.type("redo")
    term.expect("Listening", count=2, limit=30)
    term.expect("Keep it?", count=2)
    player.join(timeout=60)
    term.type("keep")
    assert term.finish() == 0
    [entry] = stored(home)
    assert entry["source"] == "voice" and "Saved your reflection" in term.output


def test_doctor_checks_report_the_model_and_the_microphone(home: Path, pulse: Pulse) -> None:
    need("pactl")
    configure(home)
    checks = {c["name"]: c for c in voice.checks(App(paths=resolve_paths()))}
    assert checks["speech model"]["ok"], checks["speech model"]
    assert (
        "ko (ko," in checks["speech model"]["detail"]
        and "loads" in checks["speech model"]["detail"]
    )
    assert checks["microphone"]["ok"] and "Hz" in checks["microphone"]["detail"]


def test_doctor_checks_say_how_to_get_a_model(home: Path) -> None:
    model_check = voice.checks(App(paths=resolve_paths()))[0]
    assert not model_check["ok"] and "companion model install" in model_check["fix"]
