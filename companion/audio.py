"""Audio as bytes: any recording or stream becomes 16 kHz mono int16 chunks.

The microphone and a file are two sources of the same thing: an iterable of
little-endian 16-bit mono chunks at 16 kHz, which is what Vosk wants. WAV is read
with the standard library; other formats (FLAC, OGG, MP3...) go through
soundfile when it is installed, or the `sox` program.

numpy is imported inside the functions that need it, so importing this module stays cheap.
"""

# Lazy imports: numpy and soundfile (heavy), only when sound is measured or a file decoded.

from __future__ import annotations

import math
import os
import shutil
import subprocess
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, MissingPartError
from .paths import given_file, open_private

if TYPE_CHECKING:  # numpy loads only when sound is measured or decoded
    import numpy as np
    from numpy.typing import NDArray

    # float samples on the int16 scale (numpy's NDArray holds an Any of its own)
    Samples = NDArray[np.floating]  # type: ignore[explicit-any]

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2
CHUNK_SAMPLES = 4000  # a quarter of a second: what Vosk's own examples feed
SILENCE_PEAK = 64  # a recording whose loudest sample stays below this holds no speech
_ZERO_CROSSINGS = 10  # sinc lobes on each side: more is cleaner and slower


class Resampler:
    """Streams int16 audio at any rate and channel count to 16 kHz mono int16.

    Band-limited interpolation: each output sample is a windowed-sinc weighted sum of the
    input around its position, with the cut-off below the lower Nyquist frequency (so
    downsampling does not alias). State carries across chunks: no seams at boundaries.
    """

    def __init__(self, src_rate: int, *, channels: int = 1, dst_rate: int = SAMPLE_RATE):
        if src_rate <= 0 or channels <= 0:
            raise InputError(f"cannot read audio at {src_rate} Hz with {channels} channels")
        import numpy as np

        self.src_rate, self.channels, self.dst_rate = src_rate, channels, dst_rate
        self._step = src_rate / dst_rate
        self._cutoff = min(1.0, dst_rate / src_rate) * 0.94
        self._half = int(math.ceil(_ZERO_CROSSINGS / self._cutoff))
        self._buf = np.zeros(self._half, dtype=np.float64)
        self._base = -self._half  # the input index of _buf[0]
        self._emitted = 0  # output samples so far

    @property
    def passthrough(self) -> bool:
        return self.src_rate == self.dst_rate and self.channels == 1

    def process(self, data: bytes) -> bytes:
        """Interleaved int16 bytes in, 16 kHz mono int16 bytes out."""
        if self.passthrough:
            return data
        import numpy as np

        samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype=np.int16)
        return self.process_floats(samples.astype(np.float64))

    def process_floats(self, samples: Samples) -> bytes:
        """Interleaved samples (float, int16 scale) in, 16 kHz mono int16 bytes out."""
        import numpy as np

        if self.channels > 1:
            usable = len(samples) - len(samples) % self.channels
            samples = samples[:usable].reshape(-1, self.channels).mean(axis=1)
        if self.src_rate == self.dst_rate:
            return _to_int16(samples)
        self._buf = np.concatenate((self._buf, samples))
        end = self._base + len(self._buf)  # one past the last input index we hold
        ready = int(math.floor((end - self._half - 1) / self._step)) + 1 - self._emitted
        if ready <= 0:
            return b""
        where = (self._emitted + np.arange(ready)) * self._step
        first = np.floor(where).astype(np.int64) - self._half + 1
        index = first[:, None] + np.arange(2 * self._half)[None, :]
        t = where[:, None] - index
        weights = self._cutoff * np.sinc(self._cutoff * t) * _blackman(t / self._half)
        out = (self._buf[index - self._base] * weights).sum(axis=1)
        self._emitted += ready
        keep_from = int(math.floor(self._emitted * self._step)) - self._half + 1
        self._buf = self._buf[keep_from - self._base :]
        self._base = keep_from
        return _to_int16(out)

    def flush(self) -> bytes:
        """The last samples, which wait for input that will not come."""
        if self.passthrough or self.src_rate == self.dst_rate:
            return b""
        import numpy as np

        total_in = self._base + len(self._buf)
        wanted = int(math.ceil(total_in / self._step)) - self._emitted
        out = self.process_floats(np.zeros(self._half * self.channels + self.channels))
        return out[: max(0, wanted) * SAMPLE_WIDTH]


def _blackman(x: Samples) -> Samples:
    """The Blackman window on [-1, 1] (0 outside)."""
    import numpy as np

    w = 0.42 + 0.5 * np.cos(np.pi * x) + 0.08 * np.cos(2 * np.pi * x)
    return np.where(np.abs(x) <= 1, w, 0.0)


def _to_int16(samples: Samples) -> bytes:
    import numpy as np

    return bytes(np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes())


def peak(chunk: bytes) -> int:
    """The loudest sample of a 16-bit chunk (0 for an empty one)."""
    import numpy as np

    samples = np.frombuffer(chunk[: len(chunk) - len(chunk) % 2], dtype="<i2")
    return int(np.abs(samples.astype(np.int32)).max()) if len(samples) else 0


def rms(chunk: bytes) -> float:
    """The loudness (root mean square) of a 16-bit chunk."""
    import numpy as np

    samples = np.frombuffer(chunk[: len(chunk) - len(chunk) % 2], dtype="<i2")
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def rechunk(
    chunks: Iterable[bytes], *, size: int = CHUNK_SAMPLES * SAMPLE_WIDTH
) -> Iterator[bytes]:
    """Regroups a byte stream into chunks of exactly `size` bytes (the last may be shorter)."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


# ---------------------------------------------------------------- files
@dataclass
class AudioFile:
    """A recording opened for reading; iterate it for 16 kHz mono int16 chunks.

    `rate`, `channels` and `seconds` describe the file as it is on disk.
    """

    path: Path
    rate: int
    channels: int
    seconds: float | None
    reader: str  # "wave", "soundfile" or "sox"
    chunk_samples: int = CHUNK_SAMPLES

    def __iter__(self) -> Iterator[bytes]:
        if self.reader == "wave":
            return _wave_chunks(self)
        if self.reader == "soundfile":
            return _soundfile_chunks(self)
        return _sox_chunks(self)


def open_audio(path: Path, *, chunk_samples: int = CHUNK_SAMPLES) -> AudioFile:
    """Opens a recording (WAV, or FLAC/OGG/... with soundfile or sox), or says why not."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a recording such as a .wav file")
    fd = given_file(path)  # a FIFO or device is refused here, never waited on
    size = os.fstat(fd).st_size
    os.close(fd)
    if size == 0:
        raise InputError(f"{path} is empty: it holds no recording")
    info = _probe_wave(path) or _probe_soundfile(path) or _probe_sox(path)
    if info is None:
        raise InputError(_unreadable_message(path))
    info.chunk_samples = chunk_samples
    if info.seconds == 0:
        raise InputError(f"{path} holds no sound (it is 0 seconds long)")
    return info


def _unreadable_message(path: Path) -> str:
    if _is_wave_header(path):
        return f"{path} looks like a WAV file but is cut short or damaged, so it cannot be read"
    extra = (
        ""
        if shutil.which("sox")
        else (
            " To read FLAC, OGG or MP3, install sox (apt install sox libsox-fmt-all)"
            " or the Python package soundfile."
        )
    )
    return f"{path} is not a recording companion can read (WAV works everywhere).{extra}"


def _is_wave_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _probe_wave(path: Path) -> AudioFile | None:
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, frames = w.getframerate(), w.getnchannels(), w.getnframes()
            if w.getsampwidth() not in (1, 2, 3, 4) or rate <= 0:
                return None
    except (wave.Error, EOFError, OSError):
        return None
    return AudioFile(path, rate, channels, frames / rate, "wave")


def _wave_chunks(info: AudioFile) -> Iterator[bytes]:
    with wave.open(str(info.path), "rb") as w:
        width, expected = w.getsampwidth(), w.getnframes()
        resampler = Resampler(info.rate, channels=info.channels)
        block = max(1, round(info.chunk_samples * info.rate / SAMPLE_RATE))
        got = 0
        while True:
            data = w.readframes(block)
            if not data:
                break
            got += len(data) // (width * info.channels)
            if width == 2:
                out = resampler.process(data)
            else:
                out = resampler.process_floats(_pcm_to_floats(data, width))
            if out:
                yield out
        if tail := resampler.flush():
            yield tail
    if got < expected:
        raise InputError(
            f"{info.path} is cut short: it should hold {expected / info.rate:.1f} seconds "
            f"but holds {got / info.rate:.1f}"
        )


def _pcm_to_floats(data: bytes, width: int) -> Samples:
    """8-, 24- and 32-bit PCM as float samples on the int16 scale."""
    import numpy as np

    if width == 1:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    if width == 4:
        return np.frombuffer(data, dtype="<i4").astype(np.float32) / 65536.0
    raw = np.frombuffer(data[: len(data) - len(data) % 3], dtype=np.uint8).reshape(-1, 3)
    value = (
        raw[:, 0].astype(np.int32)
        | (raw[:, 1].astype(np.int32) << 8)
        | (raw[:, 2].astype(np.int32) << 16)
    )
    value = np.where(value >= 1 << 23, value - (1 << 24), value)
    return value.astype(np.float32) / 256.0


def _probe_soundfile(path: Path) -> AudioFile | None:
    try:
        import soundfile
    except (ImportError, OSError):
        return None
    try:
        info = soundfile.info(str(path))
    except Exception:  # soundfile raises its own error types for unreadable files
        return None
    return AudioFile(
        path,
        int(info.samplerate),
        int(info.channels),
        float(info.frames) / info.samplerate,
        "soundfile",
    )


def _soundfile_chunks(info: AudioFile) -> Iterator[bytes]:
    import soundfile

    resampler = Resampler(info.rate, channels=info.channels)
    block = max(1, round(info.chunk_samples * info.rate / SAMPLE_RATE))
    for frames in soundfile.blocks(str(info.path), blocksize=block, dtype="int16"):
        out = resampler.process(frames.tobytes())
        if out:
            yield out
    if tail := resampler.flush():
        yield tail


def _probe_sox(path: Path) -> AudioFile | None:
    soxi = shutil.which("soxi") or shutil.which("sox")
    if soxi is None:
        return None
    args = [soxi, "-r", str(path)] if soxi.endswith("soxi") else [soxi, "--i", "-r", str(path)]
    try:
        rate = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
        chans = subprocess.run(
            [*args[:-2], "-c", str(path)], capture_output=True, text=True, timeout=30, check=True
        )
        secs = subprocess.run(
            [*args[:-2], "-D", str(path)], capture_output=True, text=True, timeout=30, check=True
        )
        seconds = float(secs.stdout.strip() or 0)
        return AudioFile(path, int(float(rate.stdout)), int(chans.stdout), seconds, "sox")
    except (subprocess.SubprocessError, ValueError, OSError):
        return None


def _sox_chunks(info: AudioFile) -> Iterator[bytes]:
    sox = shutil.which("sox")
    if sox is None:
        raise MissingPartError(
            "reading this kind of file needs sox: apt install sox libsox-fmt-all"
        )
    cmd = [
        sox,
        "-V1",
        str(info.path),
        "-t",
        "raw",
        "-e",
        "signed-integer",
        "-b",
        "16",
        "-L",
        "-c",
        "1",
        "-r",
        str(SAMPLE_RATE),
        "-",
    ]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        size = info.chunk_samples * SAMPLE_WIDTH
        while data := proc.stdout.read(size):
            yield data
        problem = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode != 0:
        raise InputError(f"{info.path} could not be read to the end ({problem or 'sox failed'})")


def write_wav(path: Path, chunks: Iterable[bytes]) -> Path:
    """Saves 16 kHz mono int16 audio as a private (0600) WAV file."""
    with open_private(path, "wb") as fh, wave.open(fh, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        for chunk in chunks:
            w.writeframes(chunk)
    return path
