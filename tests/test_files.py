"""companion's own files: never written or chmod'ed through a symbolic link, never a FIFO
or device taken for the database, outputs only into folders that exist, the live database
never replaced by a backup, and a read-only data folder still readable.

Real parts: real files, links and FIFOs in a temp COMPANION_HOME; a real read-only
filesystem (a tmpfs remounted read-only, where mounting is allowed).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import mounted_tmpfs

from companion.errors import CompanionError
from companion.journal import set_aside
from companion.paths import ensure_dir, resolve_paths
from companion.store import EntryDraft, Store

OUTSIDE = b"someone else's file, not companion's\n"
LOG_ONLY = '[notifications]\nbackend = "log"\n'


def companion(
    home: Path, *args: str, timeout: float = 60, runtime: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COMPANION_HOME": str(home)}
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return subprocess.run(
        [sys.executable, "-m", "companion", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def one_error(result, *words: str) -> None:  # noqa: ANN001 (click or subprocess result)
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == 1, (code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


# ---------------------------------------------------------------- backups and the live file
@pytest.mark.parametrize("name", ["companion.db", "companion.db-wal", "companion.db-shm"])
def test_backup_onto_the_live_database_is_refused_and_later_writes_are_kept(
    cli, home: Path, name: str
) -> None:
    cli("reflect", "first words")
    daemon = Store.open(home / "companion.db")  # an open connection, as the daemon holds one
    try:
        daemon.add_entry(EntryDraft("reflection", "before the backup"))
        one_error(cli("backup", str(home / name), ok=False), "live database", name)
        daemon.add_entry(EntryDraft("reflection", "after the backup"))
    finally:
        daemon.close()
    with Store.open(home / "companion.db") as store:
        assert store.integrity() == "ok"
        texts = {e["text"] for e in store.entries()}
    assert {"first words", "before the backup", "after the backup"} <= texts


def test_backup_onto_the_live_database_through_links_is_refused(
    cli, home: Path, tmp_path: Path
) -> None:
    cli("reflect", "first words")
    before = (home / "companion.db").read_bytes()
    link = tmp_path / "looks-like-a-backup.db"
    link.symlink_to(home / "companion.db")
    folder = tmp_path / "folder-link"
    folder.symlink_to(home)
    for dest in (link, folder / "companion.db", folder / "companion.db-wal"):
        one_error(cli("backup", str(dest), ok=False), "live database")
    assert link.is_symlink() and (home / "companion.db").read_bytes() == before
    cli("backup", str(tmp_path / "real-backup.db"))


# ---------------------------------------------------------------- symbolic links and FIFOs
def outside_file(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "target"
    target.parent.mkdir()
    target.write_bytes(OUTSIDE)
    target.chmod(0o644)
    return target


def outside_folder(tmp_path: Path) -> Path:
    target = tmp_path / "outside-folder"
    target.mkdir()
    target.chmod(0o755)
    return target


def untouched(target: Path) -> None:
    assert stat.S_IMODE(target.stat().st_mode) == (0o755 if target.is_dir() else 0o644)
    if target.is_dir():
        assert list(target.iterdir()) == []
    else:
        assert target.read_bytes() == OUTSIDE


FILE_LINKS = [
    ("companion.db", ["reflect", "words"]),
    ("companion.db-wal", ["reflect", "words"]),
    ("companion.db-shm", ["reflect", "words"]),
    ("daemon.lock", ["run", "--once"]),
    ("logs/companion.log", ["run", "--once", "--dry-run"]),
]


@pytest.mark.parametrize("name, args", FILE_LINKS, ids=[n for n, _ in FILE_LINKS])
def test_a_link_where_companion_writes_a_file_is_refused_and_its_target_untouched(
    cli, home: Path, tmp_path: Path, name: str, args: list[str]
) -> None:
    cli("reflect", "already here")
    (home / "config.toml").write_text(LOG_ONLY)
    target = outside_file(tmp_path)
    link = home / name
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    one_error(cli(*args, ok=False), "symbolic link", name.rsplit("/", 1)[-1])
    untouched(target)
    assert link.is_symlink()


FOLDER_LINKS = [
    ("backups", ["backup"]),
    ("exports", ["brief", "--format", "html"]),
    ("models", ["model", "add", "{model}"]),
]


@pytest.mark.parametrize("name, args", FOLDER_LINKS, ids=[n for n, _ in FOLDER_LINKS])
def test_a_link_where_companion_keeps_a_folder_is_refused_and_its_target_untouched(
    cli, home: Path, tmp_path: Path, name: str, args: list[str]
) -> None:
    cli("reflect", "already here")
    model = tmp_path / "a-model"
    for part in ("am/final.mdl", "graph/HCLr.fst"):
        (model / part).parent.mkdir(parents=True, exist_ok=True)
        (model / part).write_bytes(b"x")
    target = outside_folder(tmp_path)
    (home / name).symlink_to(target)
    args = [a.replace("{model}", str(model)) for a in args]
    one_error(cli(*args, ok=False), "symbolic link", name)
    untouched(target)


@pytest.mark.parametrize("name", ["audio", "pending", "models", "exports", "backups"])
def test_every_folder_of_companion_refuses_a_link(home: Path, tmp_path: Path, name: str) -> None:
    paths = resolve_paths()
    ensure_dir(paths.data_dir)
    target = outside_folder(tmp_path)
    (home / name).symlink_to(target)
    with pytest.raises(CompanionError, match="symbolic link"):
        ensure_dir(paths.data_dir / name)
    untouched(target)


def test_an_entry_is_never_set_aside_through_a_linked_folder(
    home: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    ensure_dir(home)
    target = outside_folder(tmp_path)
    (home / "pending").symlink_to(target)
    kept = set_aside(
        resolve_paths(),
        EntryDraft("reflection", "kept somewhere safe"),
        answer=False,
        now=datetime.now().astimezone(),
    )
    assert kept is not None and kept.parent == tmp_path / "run" / "companion-pending"
    untouched(target)


@pytest.mark.parametrize("name", ["companion.db", "companion.db-wal"])
def test_a_fifo_at_the_database_is_refused_at_once(home: Path, name: str) -> None:
    home.mkdir()
    if name != "companion.db":
        assert companion(home, "reflect", "first").returncode == 0
    os.mkfifo(home / name, 0o600)
    for args in (["reflect", "words"], ["search", "words"], ["export"]):
        one_error(companion(home, *args, timeout=30), "not a regular file", name)
    assert stat.S_ISFIFO((home / name).lstat().st_mode)


def test_a_fifo_at_the_lock_file_is_refused_and_status_does_not_hang(home: Path) -> None:
    home.mkdir()
    (home / "config.toml").write_text(LOG_ONLY)
    os.mkfifo(home / "daemon.lock", 0o600)
    one_error(companion(home, "run", "--once", timeout=30), "not a regular file")
    assert companion(home, "service", "status", "--json", timeout=30).returncode == 0


def test_a_link_at_the_data_folder_itself_is_followed(tmp_path: Path, monkeypatch) -> None:
    """COMPANION_HOME is the person's own choice of place; only what is inside is ours."""
    real = tmp_path / "real-home"
    link = tmp_path / "link-home"
    real.mkdir(mode=0o700)
    link.symlink_to(real)
    monkeypatch.setenv("COMPANION_HOME", str(link))
    assert companion(link, "reflect", "through the link").returncode == 0
    assert (real / "companion.db").is_file()


# ---------------------------------------------------------------- outputs the person names
OUTPUTS = [
    ["export", "-o", "{missing}/journal.json"],
    ["export", "--format", "md", "-o", "{missing}/journal.md"],
    ["brief", "-o", "{missing}/brief.md"],
    ["encourage", "--to-file", "{missing}/phrase.wav"],
    ["backup", "{missing}/copy.db"],
]


@pytest.mark.parametrize("args", OUTPUTS, ids=lambda a: " ".join(a[:-1]))
def test_an_output_into_a_missing_folder_is_refused_naming_it(
    cli, tmp_path: Path, args: list[str]
) -> None:
    cli("reflect", "something to write out")
    missing = tmp_path / "no" / "such"
    result = cli(*[a.replace("{missing}", str(missing)) for a in args], ok=False)
    one_error(result, str(missing), "does not exist")
    assert not (tmp_path / "no").exists()


def test_an_output_onto_the_live_database_is_refused(cli, home: Path) -> None:
    cli("reflect", "keep me")
    before = (home / "companion.db").read_bytes()
    for args in (["export", "-o"], ["brief", "-o"]):
        one_error(cli(*args, str(home / "companion.db"), ok=False), "live database")
    assert (home / "companion.db").read_bytes() == before


def test_an_output_into_an_existing_folder_leaves_the_folder_as_it_was(cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    cli("reflect", "words")
    cli("export", "-o", str(shared / "journal.json"))
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "journal.json").stat().st_mode) == 0o600


# ---------------------------------------------------------------- a read-only data folder
@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    """A data folder on a filesystem mounted read-only (needs permission to mount)."""
    with mounted_tmpfs(tmp_path / "disk", "8m") as disk:
        home = disk / "home"
        for words in ("a walk by the river", "asked for help"):
            assert companion(home, "reflect", words).returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        yield home


def test_reading_commands_work_on_a_read_only_data_folder(
    read_only_home: Path, tmp_path: Path
) -> None:
    home = read_only_home
    before = sorted(os.listdir(home))
    found = companion(home, "search", "river")
    assert found.returncode == 0, found.stderr
    assert "a walk by the river" in found.stdout
    exported = companion(home, "export", "--format", "md")
    assert exported.returncode == 0, exported.stderr
    assert "asked for help" in exported.stdout
    said = companion(home, "reflect", "cannot be written here", runtime=tmp_path / "run")
    one_error(said, "read-only", "not lost")  # set aside in the runtime folder meanwhile
    assert len(list((tmp_path / "run" / "companion-pending").iterdir())) == 1
    assert sorted(os.listdir(home)) == before
