"""Recordings of any common shape become 16 kHz mono int16 chunks; bad files get a clear message."""

from __future__ import annotations

import math
import os
import stat
import struct
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from speech_fixtures import need

from companion.audio import (
    CHUNK_SAMPLES,
    SAMPLE_RATE,
    Resampler,
    open_audio,
    peak,
    rechunk,
    rms,
    write_wav,
)
from companion.errors import InputError


def tone(rate: int, *, seconds: float = 1.0, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (8000 * np.sin(2 * math.pi * freq * t)).astype(np.int16)
    return np.repeat(mono[:, None], channels, axis=1).reshape(-1)


def write_pcm(
    path: Path, samples: np.ndarray, *, rate: int, channels: int = 1, width: int = 2
) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 2:
            w.writeframes(samples.astype("<i2").tobytes())
        elif width == 1:
            w.writeframes(((samples.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes())
        elif width == 4:
            w.writeframes((samples.astype(np.int32) << 16).astype("<i4").tobytes())
        else:
            wide = samples.astype(np.int32) << 8
            w.writeframes(b"".join(struct.pack("<i", int(v))[:3] for v in wide))
    return path


def decode(path: Path) -> np.ndarray:
    return np.frombuffer(b"".join(open_audio(path)), dtype="<i2")


def main_frequency(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [
        (8000, 1, 2),
        (16000, 1, 2),
        (22050, 1, 2),
        (44100, 2, 2),
        (48000, 2, 2),
        (11025, 1, 1),
        (32000, 1, 3),
        (96000, 1, 4),
    ],
)
def test_any_common_wav_becomes_16k_mono_with_the_same_pitch_and_length(
    tmp_path: Path, rate: int, channels: int, width: int
) -> None:
    path = write_pcm(
        tmp_path / "t.wav", tone(rate, channels=channels), rate=rate, channels=channels, width=width
    )
    info = open_audio(path)
    assert (info.rate, info.channels, info.reader) == (rate, channels, "wave")
    out = decode(path)
    assert abs(len(out) - SAMPLE_RATE) <= 2
    assert abs(main_frequency(out) - 440) < 3
    assert 6000 < np.abs(out).max() < 8600


def test_a_16k_mono_file_passes_through_byte_for_byte_in_quarter_seconds(tmp_path: Path) -> None:
    samples = tone(SAMPLE_RATE, seconds=1.3)
    path = write_pcm(tmp_path / "t.wav", samples, rate=SAMPLE_RATE)
    chunks = list(open_audio(path))
    assert b"".join(chunks) == samples.astype("<i2").tobytes()
    assert {len(c) for c in chunks[:-1]} == {CHUNK_SAMPLES * 2}


def test_resampling_leaves_no_seams_between_chunks() -> None:
    data = tone(44100, seconds=0.7, channels=2).astype("<i2").tobytes()
    whole = Resampler(44100, channels=2).process(data)
    piecewise = Resampler(44100, channels=2)
    cut = b"".join(piecewise.process(data[i : i + 1236]) for i in range(0, len(data), 1236))
    assert cut == whole


def test_downsampling_filters_out_what_16k_cannot_hold() -> None:
    high = tone(48000, freq=12000).astype("<i2").tobytes()  # above 8 kHz: must not alias to 4 kHz
    out = np.frombuffer(Resampler(48000).process(high), dtype="<i2")
    assert rms(out.tobytes()) < 200


@pytest.mark.parametrize("suffix", ["flac", "ogg"])
def test_flac_and_ogg_are_read_through_sox(tmp_path: Path, suffix: str) -> None:
    need("sox")
    src = write_pcm(tmp_path / "t.wav", tone(44100, channels=2), rate=44100, channels=2)
    dest = tmp_path / f"t.{suffix}"
    subprocess.run(["sox", str(src), str(dest)], check=True)
    info = open_audio(dest)
    assert info.reader in ("sox", "soundfile")
    out = decode(dest)
    assert abs(len(out) - SAMPLE_RATE) < 400
    assert abs(main_frequency(out) - 440) < 3


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        open_audio(tmp_path / "e.wav")


def test_a_wav_with_no_frames_is_refused(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "z.wav", np.zeros(0, dtype=np.int16), rate=16000)
    with pytest.raises(InputError, match="0 seconds"):
        open_audio(path)


def test_a_text_file_is_not_a_recording(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("dear diary\n" * 50)
    with pytest.raises(InputError, match="not a recording"):
        open_audio(tmp_path / "notes.wav")


def test_missing_file_and_folder_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_audio(tmp_path / "nope.wav")
    with pytest.raises(InputError, match="folder"):
        open_audio(tmp_path)


def test_a_wav_cut_short_says_so_after_reading_what_is_there(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "t.wav", tone(16000, seconds=2), rate=16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut short"):
        b"".join(open_audio(path))


def test_a_wav_cut_inside_its_header_is_named_damaged(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "t.wav", tone(16000), rate=16000)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(InputError, match="cut short or damaged|not a recording"):
        open_audio(path)


def test_saved_audio_is_private_and_readable_again(tmp_path: Path) -> None:
    os.umask(0o022)
    samples = tone(SAMPLE_RATE).astype("<i2").tobytes()
    (tmp_path / "a").mkdir()  # the audio folder: made by its caller (voice.save_audio)
    path = write_wav(tmp_path / "a" / "keep.wav", [samples[:1000], samples[1000:]])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"".join(open_audio(path)) == samples


def test_rechunk_peak_and_rms() -> None:
    assert [len(c) for c in rechunk([b"a" * 5, b"b" * 7], size=4)] == [4, 4, 4]
    loud = np.array([0, -300, 200], dtype="<i2").tobytes()
    assert peak(loud) == 300 and peak(b"") == 0
    assert rms(np.full(10, 100, dtype="<i2").tobytes()) == pytest.approx(100)
