"""Start-up and save speed of the command line, against `python -c "import click"` measured
in the same run (the baseline: a click program that does nothing).

    PYTHONPATH=. python tests/benchmarks/bench_cli.py [--runs 21] [--quick]

Goals: `companion reflect "x"` at most 2.0x the baseline (issue 14), `companion --help` at
most 2x (issue 2); importing companion.cli loads no heavy module. Each command is run as
people run it (the console script), in a fresh COMPANION_HOME with one entry saved first.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

HEAVY = ("vosk", "sounddevice", "pyttsx3", "plyer", "numpy", "jeepney", "sqlite_utils")
BASELINE = "python -c 'import click' (baseline)"
REFLECT = "companion reflect 'a short reflection'"
GOALS = {REFLECT: 2.0, "companion --help": 2.0}


def main() -> None:
    args = benchlib.parse(benchlib.options(__doc__, runs=21, quick_runs=2))
    benchlib.compile_bytecode()
    py = sys.executable
    with tempfile.TemporaryDirectory() as home:
        env = benchlib.env_with(COMPANION_HOME=home)
        subprocess.run(
            benchlib.companion_argv("reflect", "the first one"),
            env=env,
            capture_output=True,
            check=True,
        )
        commands = {
            "python -c pass": [py, "-c", "pass"],
            BASELINE: [py, "-c", "import click"],
            "companion --version": benchlib.companion_argv("--version"),
            "companion --help": benchlib.companion_argv("--help"),
            REFLECT: benchlib.companion_argv("reflect", "a short reflection"),
            "companion search short": benchlib.companion_argv("search", "short"),
        }
        figures = benchlib.interleaved(
            {name: (lambda a=argv: benchlib.wall_ms(a, env)) for name, argv in commands.items()},
            args.runs,
        )
        loaded = subprocess.run(
            [
                py,
                "-c",
                "import sys, companion.cli; "
                f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    print("wall time of a whole process, median (min-max) of the runs")
    for name, values in figures.items():
        print(benchlib.line(name, values, baseline=figures[BASELINE]))
    base = benchlib.median(figures[BASELINE])
    for name, goal in GOALS.items():
        print(
            benchlib.verdict(
                f"{name} as a multiple of the baseline",
                benchlib.median(figures[name]) / base,
                goal,
                unit="x",
            )
        )
    print(f"heavy modules after importing companion.cli: {loaded or 'none'}")


if __name__ == "__main__":
    main()
