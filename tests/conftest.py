"""Shared fixtures: a private COMPANION_HOME for every test, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pulse_sink import PulseSink
from pulse_sink import pulse_sink_fixture as pulse_sink_fixture  # one server per session

from companion.cli import main
from companion.store import Store


@pytest.fixture(scope="session")
def pulse(pulse_sink: PulseSink) -> PulseSink:
    """The session's PulseAudio null sink (the name the voice tests use)."""
    return pulse_sink


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own COMPANION_HOME; nothing touches the real user folders."""
    folder = tmp_path / "home"
    monkeypatch.setenv("COMPANION_HOME", str(folder))
    return folder


class Cli:
    """Runs `companion ...` in-process with CliRunner, as a person would type it."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None, ok: bool = True) -> Result:
        result = self.runner.invoke(main, list(args), input=input, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"companion {' '.join(args)} exited {result.exit_code}:\n"
                f"{result.stdout}\n{result.stderr}")
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
