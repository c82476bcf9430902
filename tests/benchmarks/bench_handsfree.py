"""Benchmark: from a Speak press to the microphone open, in a real daemon.

    PYTHONPATH=. python tests/benchmarks/bench_handsfree.py [--rounds N]

A private PulseAudio (null sink), a private session bus with the test notification server,
and `companion run` as a process with the Korean Vosk model. The server emits ActionInvoked
(the press); the clock stops when the daemon's recorder appears among PulseAudio's
source-outputs (the daemon's own, by process id). The first press loads the model (cold);
later ones find it loaded (warm).

Baseline, measured in the same run: the bare speaker reading the same prompt
(Speaker.speak, which returns when it has been played) plus the start tone. The press to
microphone time is the prompt's own length plus our overhead; the goal (under 1.5 s) is
for what the voice check-in adds around the prompt, and for the start of the prompt.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

from dbus_notify_server import calls, press, start_bus, start_server  # noqa: E402
from pulse_sink import start_pulse, stop_pulse  # noqa: E402
from speech_fixtures import KO_SENTENCE, ko_model_path, speak_ko  # noqa: E402


def configure(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    now = datetime.now().astimezone()
    (home / "config.toml").write_text(
        "[checkins]\nquiet_start = \"\"\nquiet_end = \"\"\nskip_if_wrote_within_minutes = 0\n"
        f"[voice]\nmodel = \"{ko_model_path()}\"\ncheckins = \"ask\"\nsilence_seconds = 1.0\n"
        f"[[checkins.schedule]]\nname = \"now\"\ntime = \"{now:%H:%M}\"\ndays = \"daily\"\n",
        encoding="utf-8")
    since = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    (home / "daemon-since").write_text(since, encoding="utf-8")


def delivery(home: Path) -> dict:
    with sqlite3.connect(home / "companion.db") as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM deliveries ORDER BY id").fetchone())


def wait(predicate, limit: float = 120.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit("gave up waiting")


def daemon_recording(pulse, pid: int) -> bool:  # noqa: ANN001
    """Whether the daemon (not our own monitor recorder) records from PulseAudio."""
    return f'application.process.id = "{pid}"' in pulse.pactl("list", "source-outputs")


def press_to_open(pulse, bus: str, key: str, pid: int) -> float:  # noqa: ANN001
    """Seconds from the press to the daemon's recorder appearing."""
    start = time.monotonic()
    press(bus, key)
    while not daemon_recording(pulse, pid):
        if time.monotonic() - start > 120:
            raise SystemExit("the microphone never opened")
        time.sleep(0.005)
    return time.monotonic() - start


def answer_and_undo(pulse, bus: str, record: Path, speech: Path, home: Path) -> None:  # noqa: ANN001
    """Speak the answer, wait for Saved, then Undo so the check-in can be pressed again."""
    before = len(calls(record))
    time.sleep(0.2)
    pulse.play(speech)
    saved = wait(lambda: [c for c in calls(record)[before:] if c["summary"].startswith("Saved")])
    press(bus, saved[0]["actions"][0])
    wait(lambda: delivery(home)["status"] == "notified")
    time.sleep(0.3)


def baseline(prompt: str) -> float:
    from companion.adapters.speaker import Speaker
    from companion.config import load_settings
    from companion.voice_checkin import play_tone

    settings = load_settings(Path(os.environ["COMPANION_HOME"]) / "config.toml")
    start = time.monotonic()
    Speaker(settings.speech).speak(prompt)
    play_tone()
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    folder = Path(tempfile.mkdtemp(prefix="bench-handsfree-"))
    home = folder / "home"
    os.environ["COMPANION_HOME"] = str(home)
    configure(home)
    pulse = start_pulse()
    bus, bus_pid = start_bus()
    record = folder / "calls.jsonl"
    server = start_server(bus, record)
    speech = speak_ko(KO_SENTENCE, folder / "answer.wav")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DBUS_SESSION_BUS_ADDRESS": bus}
    daemon = subprocess.Popen([sys.executable, "-m", "companion", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: calls(record))
        row = delivery(home)
        args = (f"speak:{row['id']}", daemon.pid)
        cold = press_to_open(pulse, bus, *args)
        answer_and_undo(pulse, bus, record, speech, home)
        warm = []
        for _ in range(rounds):
            warm.append(press_to_open(pulse, bus, *args))
            answer_and_undo(pulse, bus, record, speech, home)
        base = [baseline(row["prompt"]) for _ in range(rounds)]
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        server.terminate()
        os.kill(bus_pid, signal.SIGTERM)
        stop_pulse(pulse)
    report(row["prompt"], cold, warm, base)


def report(prompt: str, cold: float, warm: list[float], base: list[float]) -> None:
    opened, bare = statistics.median(warm), statistics.median(base)
    print(f"prompt: {prompt!r} ({len(prompt.split())} words)")
    print(f"baseline: bare speaker reads the prompt, then the tone  {bare * 1000:6.0f} ms (median)")
    print(f"warm: Speak press -> microphone open                    {opened * 1000:6.0f} ms ("
          f"median of {len(warm)}: {', '.join(f'{w * 1000:.0f}' for w in warm)})")
    print(f"warm: what the voice check-in adds to the baseline      "
          f"{(opened - bare) * 1000:6.0f} ms (ratio {opened / bare:.2f})")
    print(f"cold: first press (model loads) -> microphone open      {cold * 1000:6.0f} ms "
          f"(+{(cold - bare) * 1000:.0f} ms over the baseline)")


if __name__ == "__main__":
    main()
