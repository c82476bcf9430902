"""How soon `encourage` is heard: time from the call to the first non-silent sample at
PulseAudio's null-sink monitor (goal: under 300 ms), next to a bare `espeak-ng "text"`
measured the same way in the same run.

    PYTHONPATH=. python tests/benchmarks/bench_speech.py [--runs 7]

Starts its own private PulseAudio (as DESIGN.md says) and stops it at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for pulse_sink

from pulse_sink import RATE, PulseSink, start_pulse, stop_pulse  # noqa: E402

THRESHOLD = int(0.02 * 32768)  # a sample louder than this is sound, not silence
CHUNK = 160  # samples per read: 10 ms
TEXT = "This is a hard day, and you are still here, doing your best with it."


class Listener:
    """Reads the monitor continuously; stamps the moment the first loud sample arrived
    after `arm()`."""

    def __init__(self, sink: PulseSink) -> None:
        self.proc = subprocess.Popen(
            ["parec", "--device=null.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10", "--process-time-msec=5"],
            stdout=subprocess.PIPE, env=sink.env)
        self.armed_at: float | None = None
        self.heard_at: float | None = None
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        sink.wait_for_recorder()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(CHUNK * 2):  # type: ignore[attr-defined]
            arrived = time.monotonic()
            samples = array("h", chunk[: len(chunk) // 2 * 2])
            loud = next((i for i, s in enumerate(samples) if abs(s) > THRESHOLD), None)
            with self.lock:
                if self.armed_at is not None and self.heard_at is None and loud is not None:
                    self.heard_at = arrived - (len(samples) - loud) / RATE

    def arm(self) -> float:
        with self.lock:
            self.heard_at = None
            self.armed_at = time.monotonic()
            return self.armed_at

    def first_sound_after(self, start: float) -> float | None:
        with self.lock:
            return None if self.heard_at is None else self.heard_at - start

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(listener: Listener, action: Callable[[], object]) -> float:
    """Seconds from the start of `action` to the first loud sample (action runs to its end)."""
    time.sleep(0.3)  # quiet between runs
    start = listener.arm()
    action()
    time.sleep(0.3)
    latency = listener.first_sound_after(start)
    if latency is None:
        raise SystemExit("nothing was heard at the monitor")
    return latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    os.environ["COMPANION_HOME"] = tempfile.mkdtemp(prefix="companion-bench-")
    sink = start_pulse()
    listener = Listener(sink)
    try:
        figures = _run_all(listener, runs)
    finally:
        listener.close()
        stop_pulse(sink)
    _report(figures)


def _run_all(listener: Listener, runs: int) -> dict[str, list[float]]:
    from companion.adapters.speaker import Speaker
    from companion.config import load_settings

    speaker = Speaker(load_settings(None).speech)
    cases: dict[str, Callable[[], object]] = {
        "espeak-ng \"text\" (baseline)": lambda: subprocess.run(["espeak-ng", TEXT], check=True),
        "Speaker.speak (child + pyttsx3 + paplay)": lambda: speaker.speak(TEXT),
        "companion encourage (whole command)": lambda: _encourage(""),
        # Diagnostic: the same command with sqlite-utils kept from importing numpy and pandas
        # (about 130 ms of the command's start here), to show what that would save.
        "  same, sqlite-utils without numpy": lambda: _encourage(
            "import sys; sys.modules.update(numpy=None, pandas=None); "),
    }
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for action in cases.values():  # warm-up round, not counted (first connection, caches)
        measure(listener, action)
    for _ in range(runs):  # interleaved, so drift in the machine hits every case alike
        for name, action in cases.items():
            figures[name].append(measure(listener, action))
    return figures


def _encourage(prelude: str) -> None:
    code = prelude + "from companion.cli import entry_point; entry_point()"
    subprocess.run([sys.executable, "-c", code, "encourage", "--context", "hard-day"],
                   check=True, stdout=subprocess.DEVNULL)


def _report(figures: dict[str, list[float]]) -> None:
    baseline = statistics.median(next(iter(figures.values())))
    print(f"time to the first sound at the null sink's monitor ({len(next(iter(figures.values())))}"
          " runs each, median / min / max, ms)")
    for name, values in figures.items():
        med = statistics.median(values)
        print(f"  {name:45s} {med * 1000:7.0f} / {min(values) * 1000:5.0f} / "
              f"{max(values) * 1000:5.0f}   x{med / baseline:.2f} of baseline")
    whole = statistics.median(figures["companion encourage (whole command)"])
    print(f"goal under 300 ms for encourage: {'met' if whole < 0.3 else 'NOT met'} "
          f"({whole * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
