"""The bad-input corpus (tests/data/bad/): one clear message, the right exit code, no
traceback, and the data already stored unchanged (a digest of the export before and after)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_in_process

BAD = Path(__file__).parent / "data" / "bad"


def companion(home: Path, *args: str, input: bytes | None = None) -> Ran:
    """`companion ARGS` against `home`, in this process through the real exit point."""
    result = run_in_process(*args, home=home, input=input)
    return Ran(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def digest(home: Path) -> str:
    out = companion(home, "export")
    assert out.returncode == 0, out.stderr
    tables = json.loads(out.stdout)["tables"]
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("seeded")
    for args in (
        ["reflect", "kept safe"],
        ["skill", "walk", "--helped", "5"],
        ["moment", "--intensity", "6", "--steady-after", "15m"],
        ["win", "asked for help"],
    ):
        assert companion(home, *args).returncode == 0
    return home


def fresh_copy(seeded: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(seeded, home)
    return home


def check(result: Ran, code: int) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "something unexpected" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if code in (1, 3):
        assert lines and lines[0].startswith("error: "), result.stderr
        assert len(lines) == 1, result.stderr


def cases(folder: str) -> list[Path]:
    return sorted((BAD / folder).iterdir())


@pytest.mark.parametrize("case", cases("config"), ids=lambda p: p.name)
def test_bad_config(case: Path, seeded: Path, tmp_path: Path) -> None:
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    shutil.copy(case, home / "config.toml")
    result = companion(home, "config", "check")
    check(result, 1)
    assert "config.toml" in result.stderr
    assert digest(home) == before
    saved = companion(home, "reflect", "new words")  # words are saved whatever the config
    assert saved.returncode == 0 and "Traceback" not in saved.stderr
    (warning,) = [ln for ln in saved.stderr.splitlines() if ln.strip()]  # one line
    assert warning.startswith("warning: ") and "config.toml" in warning
    (home / "config.toml").unlink()
    assert [
        e["text"] for e in json.loads(companion(home, "search", "new words", "--json").stdout)
    ] == ["new words"]


@pytest.mark.parametrize("case", cases("import"), ids=lambda p: p.name)
def test_bad_import(case: Path, seeded: Path, tmp_path: Path) -> None:
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    check(companion(home, "import", str(case)), 1)
    assert digest(home) == before


@pytest.mark.parametrize("case", cases("audio"), ids=lambda p: p.name)
def test_bad_audio(case: Path, seeded: Path, tmp_path: Path) -> None:
    from speech_fixtures import ko_model_path

    home = fresh_copy(seeded, tmp_path)
    (home / "config.toml").write_text(f'[voice]\nmodel = "{ko_model_path()}"\n')
    before = digest(home)
    saving = companion(home, "reflect", "--audio", str(case), "--yes")
    check(saving, 1)
    assert saving.stderr.rstrip().endswith("Nothing was saved.")
    only_printing = companion(home, "transcribe", str(case))  # it never saves anything
    check(only_printing, 1)
    assert "saved" not in only_printing.stderr
    assert digest(home) == before


@pytest.mark.parametrize("case", cases("ics"), ids=lambda p: p.name)
def test_bad_calendar(case: Path, seeded: Path, tmp_path: Path) -> None:
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    result = companion(home, "session", "import", str(case))
    check(result, 1)
    assert "Nothing was imported" in result.stderr
    assert "b'" not in result.stderr and "\\n" not in result.stderr  # no raw bytes of the file
    assert result.stderr.isascii() and "binary" not in result.stderr
    assert digest(home) == before


@pytest.mark.parametrize("case", cases("db"), ids=lambda p: p.name)
def test_bad_database(case: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(case, home / "companion.db")
    original = case.read_bytes()
    for args in (["reflect", "hello"], ["search", "hello"], ["export"]):
        check(companion(home, *args), 1)
    assert (home / "companion.db").read_bytes() == original


CLI_CASES = [
    (["reflect"], 2),
    (["reflect", ""], 1),
    (["checkin", "--text", "x", "--mood", "0"], 2),
    (["checkin", "--text", "x", "--mood", "five"], 2),
    (["win", "x", "--area", "nowhere"], 2),
    (["moment", "--intensity", "-1"], 2),
    (["moment", "--intensity", "3", "--steady-after", "-2h"], 1),
    (["moment", "--intensity", "3", "--steady-after", "soonish"], 1),
    (["moment"], 2),
    (["skill", ""], 1),
    (["skill", "walk", "--helped", "11"], 2),
    (["forget", "123456"], 1),
    (["forget", "moment:x"], 2),
    (["pattern", "noticed", "never named"], 1),
    (["search", " "], 1),
    (["search", "x", "--limit", "0"], 2),
    (["no-such-command"], 2),
    (["export", "--format", "docx"], 2),
    (["backup", "/nonexistent/folder/x.db"], 1),
    # outputs: only into folders that exist, never onto the live database ({home} is its folder)
    (["export", "-o", "{home}/no/such/x.json"], 1),
    (["brief", "-o", "{home}/no/such/x.md"], 1),
    (["encourage", "--to-file", "{home}/no/such/x.wav"], 1),
    (["backup", "{home}/companion.db"], 1),
    (["backup", "{home}/companion.db-wal"], 1),
    (["export", "-o", "{home}/companion.db"], 1),
    (["brief", "-o", "{home}/companion.db-shm"], 1),
    # numbers beyond what SQLite or a date can hold
    (["forget", "99999999999999999999999"], 1),
    (["forget", "moment:99999999999999999999999"], 1),
    (["phrase", "remove", "99999999999999999999999"], 1),
    (["phrase", "favourite", "99999999999999999999999"], 1),
    (["moment", "steady", "99999999999999999999999"], 1),
    (["session", "remove", "99999999999999999999999"], 1),
    (["brief", "--since", "99999999d"], 1),
    (["brief", "--since", "0001-01-01"], 1),
    (["session", "add", "99999999999d"], 1),
    (["session", "add", "tomorrow 10:00", "--every", "99999999999 days"], 1),
    (["moment", "--intensity", "3", "--steady-after", "nan"], 1),
    (["moment", "--intensity", "3", "--steady-after", "inf"], 1),
    # outputs that cannot be written
    (["export", "-o", "/proc/version"], 1),
    (["backup", "/proc/version"], 1),
    (["brief", "-o", "/proc/version"], 1),
]


@pytest.mark.parametrize(
    "args, code", CLI_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else str(v)
)
def test_bad_cli_arguments(args: list[str], code: int, seeded: Path, tmp_path: Path) -> None:
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    check(companion(home, *[a.replace("{home}", str(home)) for a in args]), code)
    assert digest(home) == before


STDIN_CASES = [
    (["reflect", "-"], b"caf\xe9 au lait"),
    (["win", "-"], b"\xff\xfe"),
    (["moment", "--intensity", "4", "--note", "-"], b"half \xc3"),
]


@pytest.mark.parametrize(
    "args, data", STDIN_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_text_that_is_not_utf8_on_stdin_is_refused(
    args: list[str], data: bytes, seeded: Path, tmp_path: Path
) -> None:
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    result = companion(home, *args, input=data)
    check(result, 1)
    assert "UTF-8" in result.stderr and "Nothing was saved" in result.stderr
    assert digest(home) == before


def test_a_symlink_loop_at_the_database_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "companion.db").symlink_to("companion.db")
    for args in (["reflect", "hello"], ["export"]):
        result = companion(home, *args)
        check(result, 1)
        assert "companion.db" in result.stderr
    assert (home / "companion.db").is_symlink()


def test_a_companion_home_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    for args in (["reflect", "hello"], ["export"]):
        result = companion(home, *args)
        check(result, 1)
        assert str(home) in result.stderr
    assert home.read_text() == "not a folder"


def test_corpus_is_large_enough() -> None:
    files = [p for p in BAD.rglob("*") if p.is_file()]
    assert len(files) + len(CLI_CASES) >= 40


@pytest.mark.parametrize(
    "args",
    [
        ["import", "{fifo}"],
        ["session", "import", "{fifo}"],
        ["reflect", "--audio", "{fifo}"],
        ["transcribe", "{fifo}"],
    ],
    ids=["import", "session-import", "reflect-audio", "transcribe"],
)
def test_a_fifo_given_to_read_is_refused_not_waited_on(
    args: list[str], seeded: Path, tmp_path: Path
) -> None:
    """Opening a FIFO to read waits for a writer that never comes: companion looks first."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    home = fresh_copy(seeded, tmp_path)
    before = digest(home)
    result = not_waiting_on(fifo, lambda: companion(home, *[a.format(fifo=fifo) for a in args]))
    check(result, 1)
    assert "not a regular file" in result.stderr
    assert digest(home) == before


def test_a_fifo_where_config_toml_should_be_costs_a_warning_not_a_hang(
    seeded: Path, tmp_path: Path
) -> None:
    home = fresh_copy(seeded, tmp_path)
    os.mkfifo(home / "config.toml")
    result = not_waiting_on(home / "config.toml", lambda: companion(home, "reflect", "still here"))
    check(result, 0)
    assert "not a regular file" in result.stderr
    check(not_waiting_on(home / "config.toml", lambda: companion(home, "config", "check")), 1)


def not_waiting_on(fifo: Path, call: Callable[[], Ran]) -> Ran:
    """call(), failing (not hanging) if it waits on `fifo`: after 10 s a helper opens the
    other end, which lets a waiting reader go."""
    done, rescued = threading.Event(), threading.Event()

    def rescue() -> None:
        if not done.wait(10):
            rescued.set()
            with open(fifo, "wb"):
                pass

    threading.Thread(target=rescue, daemon=True).start()
    result = call()
    done.set()
    assert not rescued.is_set(), f"companion waited on the FIFO {fifo.name}"
    return result
