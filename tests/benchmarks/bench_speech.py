"""How soon `encourage` is heard: time from the call to the first non-silent sample at
PulseAudio's null-sink monitor (goal, issue 14: at most 200 ms), next to a bare
`espeak-ng "text"` measured the same way in the same run (the baseline).

    PYTHONPATH=. python tests/benchmarks/bench_speech.py [--runs 7] [--quick]

--quick (CI): one run of each, a shorter sentence for the two that speak the bench's own.

Starts its own private PulseAudio (as DESIGN.md says) and stops it at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for pulse_sink

import benchlib  # noqa: E402
from pulse_sink import RATE, PulseSink, PulseUnavailable, start_pulse, stop_pulse  # noqa: E402

THRESHOLD = int(0.02 * 32768)  # a sample louder than this is sound, not silence
CHUNK = 160  # samples per read: 10 ms
TEXT = "This is a hard day, and you are still here, doing your best with it."
SHORT = "You are still here."  # --quick: the first sound comes as soon; less to wait out


class Listener:
    """Reads the monitor continuously; stamps the moment the first loud sample arrived
    after `arm()`."""

    def __init__(self, sink: PulseSink) -> None:
        self.proc = subprocess.Popen(
            [
                "parec",
                "--device=null.monitor",
                "--raw",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=10",
                "--process-time-msec=5",
            ],
            stdout=subprocess.PIPE,
            env=sink.env,
        )
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
    """Milliseconds from the start of `action` to the first loud sample (action runs to its
    end)."""
    time.sleep(0.3)  # quiet between runs
    start = listener.arm()
    action()
    time.sleep(0.3)
    latency = listener.first_sound_after(start)
    if latency is None:
        raise SystemExit("nothing was heard at the monitor")
    return latency * 1000


ENCOURAGE = "companion encourage (the whole command)"
GOAL_MS = 200.0


def main() -> None:
    args = benchlib.parse(benchlib.options(__doc__))
    benchlib.compile_bytecode()
    os.environ["COMPANION_HOME"] = tempfile.mkdtemp(prefix="companion-bench-")
    try:
        sink = start_pulse()
    except PulseUnavailable as exc:
        benchlib.missing(str(exc))
    listener = Listener(sink)
    try:
        figures = _run_all(listener, args.runs, text=SHORT if args.quick else TEXT)
    finally:
        listener.close()
        stop_pulse(sink)
    _report(figures)


def _run_all(listener: Listener, runs: int, *, text: str) -> dict[str, list[float]]:
    from companion.adapters.speaker import Speaker
    from companion.config import load_settings

    speaker = Speaker(load_settings(None).speech)
    cases = {
        BASELINE: lambda: subprocess.run(["espeak-ng", text], check=True),
        "Speaker.speak (child + pyttsx3 + paplay)": lambda: speaker.speak(text),
        ENCOURAGE: lambda: subprocess.run(
            benchlib.companion_argv("encourage", "--context", "hard-day"),
            check=True,
            stdout=subprocess.DEVNULL,
        ),
    }
    return benchlib.interleaved(
        {name: (lambda a=action: measure(listener, a)) for name, action in cases.items()},
        runs,
        warm_up=runs > 1,
    )


BASELINE = 'espeak-ng "text" (baseline)'


def _report(figures: dict[str, list[float]]) -> None:
    print("time from the call to the first sound at the null sink's monitor")
    for name, values in figures.items():
        print(benchlib.line(name, values, baseline=figures[BASELINE]))
    print(benchlib.verdict("encourage", benchlib.median(figures[ENCOURAGE]), GOAL_MS))


if __name__ == "__main__":
    main()
