"""The microphone: sounddevice capture -> 16 kHz mono int16 chunks, through a queue.

The device is opened at its own rate (what it does best) and resampled here.
sounddevice (and PortAudio) are imported only when the microphone is used.
"""

# Lazy imports: sounddevice (PortAudio), only when the microphone is used.

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from ..audio import Resampler
from ..errors import AudioSourceLost, MissingPartError
from ..records import Microphone

BLOCK_SECONDS = 0.1
STALL_SECONDS = 3.0  # no sound at all for this long means the device stopped working
_FIX = (
    "check that a microphone is connected and not muted, that the sound server "
    "(PulseAudio or PipeWire) runs, or choose a device with [voice] device in the config"
)
# sounddevice ships no types: its device descriptions and sample blocks stay in this module.
DeviceInfo = dict[str, Any]  # type: ignore[explicit-any]
SoundBlock = Any  # type: ignore[explicit-any]


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise MissingPartError(
            f"recording needs PortAudio and the Python package sounddevice ({exc}); install them "
            "with: apt install libportaudio2 && pip install sounddevice"
        ) from exc
    return sounddevice


def _refresh(sd: ModuleType) -> None:
    """Make PortAudio list the devices as they are now.

    PortAudio reads the device list once, when it starts; in a long-running process a
    microphone plugged in (or a sound server started) later would otherwise stay unseen.
    """
    try:
        sd._terminate()
        sd._initialize()
    except (AttributeError, sd.PortAudioError):
        pass


def input_device(device: str = "") -> Microphone:
    """The input device named in the config ("" for the default, a number, or part of a name)."""
    info = _device_info(device)
    return {
        "name": str(info["name"]),
        "rate": int(info["default_samplerate"]),
        "index": info.get("index"),
    }


def _device_info(device: str) -> DeviceInfo:
    sd = _sounddevice()
    _refresh(sd)
    try:
        if device.strip() == "":
            return dict(sd.query_devices(kind="input"))
        if device.strip().isdigit():
            info = dict(sd.query_devices(int(device)))
        else:
            matches = [
                d
                for d in sd.query_devices()
                if device.lower() in d["name"].lower() and d["max_input_channels"] > 0
            ]
            if not matches:
                raise MissingPartError(
                    f"no input device matches [voice] device = {device!r}; {_FIX}"
                )
            info = dict(matches[0])
    except (sd.PortAudioError, ValueError) as exc:
        raise MissingPartError(f"no microphone was found ({exc}); {_FIX}") from exc
    if info.get("max_input_channels", 0) < 1:
        raise MissingPartError(f"the device {info.get('name')!r} cannot record; {_FIX}")
    return info


def check(device: str = "") -> Microphone:
    """What `doctor` shows: the input device and its rate, or why there is none."""
    return input_device(device)


@contextlib.contextmanager
def listen(device: str = "", *, block_seconds: float = BLOCK_SECONDS) -> Iterator[Iterator[bytes]]:
    """Opens the microphone; yields an endless iterator of 16 kHz mono int16 chunks."""
    sd = _sounddevice()
    info = input_device(device)
    rate = info["rate"]
    blocks: queue.Queue[bytes] = queue.Queue()

    def on_audio(indata: SoundBlock, frames: int, time_info: object, status: object) -> None:
        blocks.put(bytes(indata))

    try:
        stream = sd.RawInputStream(
            device=info["index"],
            samplerate=rate,
            channels=1,
            dtype="int16",
            blocksize=int(rate * block_seconds),
            callback=on_audio,
        )
        stream.start()
    except sd.PortAudioError as exc:
        raise MissingPartError(
            f"the microphone {info['name']!r} cannot be opened ({exc}); {_FIX}"
        ) from exc
    try:
        yield _chunks(blocks, Resampler(rate))
    finally:
        stream.stop()
        stream.close()


def _chunks(blocks: queue.Queue[bytes], resampler: Resampler) -> Iterator[bytes]:
    while True:
        try:
            data = blocks.get(timeout=STALL_SECONDS)
        except queue.Empty:
            raise AudioSourceLost(f"the microphone stopped sending sound; {_FIX}") from None
        out = resampler.process(data)
        if out:
            yield out
