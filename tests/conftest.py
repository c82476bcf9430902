"""Shared fixtures: a private COMPANION_HOME for every test, and a CLI runner."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ordering import arrange
from pulse_sink import PulseSink
from pulse_sink import pulse_sink_fixture as pulse_sink_fixture  # one server per session

from companion import crisis_cache
from companion.app import App
from companion.cli import run_main
from companion.cli.common import ClickUi
from companion.clock import Clock, SystemClock
from companion.paths import resolve_paths
from companion.store import Store


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist, each worker's share starts with the long tests (tests/ordering.py)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    items[:] = arrange(items, [item.nodeid for item in items], workers)


@pytest.fixture(scope="session")
def pulse(pulse_sink: PulseSink) -> PulseSink:
    """The session's PulseAudio null sink (the name the voice tests use)."""
    return pulse_sink


@pytest.fixture(scope="session")
def kept_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this worker keeps the compiled crisis rules (crisis_cache) for its in-process
    tests: they hold only the shipped rules, so one file serves every test's home instead
    of each paying ~2 s of CPU to compile them again. (A new process still keeps its own
    in its home; tests/test_crisis_cache.py proves the keeping itself.)"""
    return tmp_path_factory.mktemp("kept-rules") / crisis_cache.NAME


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept_rules: Path) -> Path:
    """Every test gets its own COMPANION_HOME; nothing touches the real user folders."""
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPANION_HOME", str(folder))
    monkeypatch.setattr(crisis_cache, "cache_file", lambda: kept_rules)
    return folder


def run_in_process(
    *args: str,
    input: str | bytes | None = None,
    app: App | None = None,
    clock: Clock | None = None,
    home: Path | None = None,
) -> Result:
    """`companion ARGS` in this process, through the real exit point (run_main), with a
    fresh App as a new process would build it: COMPANION_HOME (or `home`), the `clock`."""
    env = {"COMPANION_HOME": str(home)} if home is not None else None
    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, mixed):
        if app is None:
            app = App(paths=resolve_paths(), ui=ClickUi(), clock=clock or SystemClock())
        code = run_main(list(args), app=app)
    return Result(
        runner=runner,
        stdout_bytes=out.getvalue(),
        stderr_bytes=err.getvalue(),
        output_bytes=mixed.getvalue(),
        return_value=None,
        exit_code=code,
        exception=None,
    )


class Cli:
    """Runs `companion ...` in-process as a person would type it (see run_main).

    `clock`: a FixedClock makes the commands see that time (the default is the real one).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()

    def __call__(
        self, *args: str, input: str | bytes | None = None, ok: bool = True, app: App | None = None
    ) -> Result:
        result = run_in_process(*args, input=input, app=app, clock=self.clock)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"companion {' '.join(args)} exited {result.exit_code}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    s = Store.open(home / "companion.db")
    yield s
    s.close()


def all_files(folder: Path) -> list[Path]:
    return [Path(root) / f for root, _, files in os.walk(folder) for f in files]


def insert_raw(home: Path, table: str, row: dict[str, object]) -> None:
    """A row as another program (Datasette, sqlite3) may leave it, past every check of ours."""
    conn = sqlite3.connect(home / "companion.db")
    with conn:
        conn.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
    conn.close()


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` for the test (skipped without permission)."""
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
