"""Real sound for the speech tests: a private PulseAudio with a null sink, recorded at its
monitor, and sox to measure WAV files. Used by test_speaker/test_speech and the benchmark.

Each fixture skips, with the reason, when the machine lacks the part (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

RATE = 16000  # what the monitor is recorded at (mono, 16-bit)
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "HOME")


def need(*programs: str) -> None:
    """Skip the test when a program is missing."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run)")


@dataclass(frozen=True)
class SoxStat:
    seconds: float
    peak: float
    rms: float


def sox_stat(path: Path, *, raw_rate: int | None = None) -> SoxStat:
    """Length, peak and RMS amplitude (0..1) of a WAV, or of raw s16le mono at raw_rate."""
    need("sox")
    fmt = (
        ["-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(raw_rate)]
        if raw_rate
        else []
    )
    out = subprocess.run(
        ["sox", *fmt, str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr

    def field(name: str) -> float:
        m = re.search(rf"^{name}:\s+(-?[\d.]+)", out, re.M)
        assert m, f"sox printed no {name!r}:\n{out}"
        return float(m.group(1))

    return SoxStat(
        field("Length \\(seconds\\)"), field("Maximum amplitude"), field("RMS     amplitude")
    )


@dataclass
class PulseSink:
    """A private PulseAudio server; its default sink is `null`, its default source the
    sink's monitor, and this process's environment points at it while it runs."""

    runtime_dir: Path
    env: dict[str, str]
    saved_env: dict[str, str | None]
    sink: str = "null"

    def record(self, dest: Path) -> subprocess.Popen[bytes]:
        """Start recording the monitor to `dest` (raw s16le mono at RATE); stop with
        stop_recording()."""
        out = dest.open("wb")
        proc = subprocess.Popen(
            [
                "parec",
                "--device=null.monitor",
                "--raw",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=20",
            ],
            stdout=out,
            env=self.env,
        )
        out.close()
        self.wait_for_recorder()
        return proc

    def wait_for_recorder(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.pactl("list", "short", "source-outputs").strip():
            if time.monotonic() > deadline:
                raise AssertionError("nothing started recording from the null sink")
            time.sleep(0.02)

    def play(self, wav: Path) -> None:
        """Plays a file into the sink; returns when it has been played."""
        subprocess.run(
            ["paplay", "--device", self.sink, str(wav)], env=self.env, check=True, timeout=120
        )

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

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, timeout=20, check=True
        ).stdout


def stop_recording(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


class PulseUnavailable(RuntimeError):
    """PulseAudio is missing or did not start."""


def start_pulse() -> PulseSink:
    """Start PulseAudio with a null sink as DESIGN.md says, in a private runtime folder,
    and point this process's environment at it. Stop it with stop_pulse()."""
    missing = [p for p in ("pulseaudio", "pactl", "parec", "paplay") if not shutil.which(p)]
    if missing:
        raise PulseUnavailable(f"needs {', '.join(missing)} (installed by .ci/run)")
    runtime = Path(tempfile.mkdtemp(prefix="companion-pulse-"))
    os.chmod(runtime, 0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
    env.pop("PULSE_SERVER", None)
    started = subprocess.run(
        [
            "pulseaudio",
            "-n",
            "--daemonize=yes",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--load=module-null-sink sink_name=null",
            "--load=module-native-protocol-unix",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    if started.returncode != 0:
        shutil.rmtree(runtime, ignore_errors=True)
        raise PulseUnavailable(f"PulseAudio did not start: {started.stderr.strip()[-300:]}")
    sink = PulseSink(runtime, env, {k: os.environ.get(k) for k in _ENV_KEYS})
    _wait_until_up(sink)
    sink.pactl("set-default-sink", "null")
    sink.pactl("set-default-source", "null.monitor")
    os.environ.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime))
    os.environ.pop("PULSE_SERVER", None)
    return sink


def stop_pulse(sink: PulseSink) -> None:
    """Stop the server and give the environment back as it was."""
    for key, value in sink.saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    subprocess.run(["pulseaudio", "--kill"], env=sink.env, capture_output=True, timeout=30)
    shutil.rmtree(sink.runtime_dir, ignore_errors=True)


@pytest.fixture(scope="session", name="pulse_sink")
def pulse_sink_fixture() -> Iterator[PulseSink]:
    """One PulseAudio null sink for the whole test session (skipped when unavailable).

    One server for all: sounddevice's PortAudio, once loaded in the test process, stays
    connected to the server it first found.
    """
    try:
        sink = start_pulse()
    except PulseUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield sink
    finally:
        stop_pulse(sink)


def _wait_until_up(sink: PulseSink, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            sink.pactl("info")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
