"""Encryption at rest: SQLCipher under sqlite-utils, passphrases from a file, the keyring or
a terminal, safe conversion in place (SIGKILL at random moments), backups that stay
encrypted, and no plain text in any byte of the data folder."""

from __future__ import annotations

import json
import os
import pty
import random
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sqlcipher3 = pytest.importorskip(
    "sqlcipher3",
    reason="SQLCipher (pip install sqlcipher3) is needed; .ci/run installs it with the test extra",
)
import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import keyring.backends.fail  # noqa: E402
from keyring.errors import KeyringLocked, PasswordDeleteError  # noqa: E402
from sqlite_utils import Database  # noqa: E402

from companion import crypto  # noqa: E402
from companion.app import App  # noqa: E402
from companion.cipher_db import CipherConnection, connect  # noqa: E402
from companion.config import SecuritySettings  # noqa: E402
from companion.errors import InputError, StoreError  # noqa: E402
from companion.paths import resolve_paths  # noqa: E402
from companion.store import (  # noqa: E402
    EntryDraft,
    Store,
    WrongPassphraseError,
    sqlite_errors,
)
from tests.conftest import all_files  # noqa: E402

PASS = "correct horse battery"
MARKER = "heron-quilt-5528"
HEADER = b"SQLite format 3\x00"
ON = SecuritySettings(encrypt=True, use_keyring=False)
OFF = SecuritySettings(encrypt=False, use_keyring=False)
WITH_KEYRING = SecuritySettings(encrypt=True, use_keyring=True)


# ---------------------------------------------------------------- small helpers
class Typist:
    """Answers passphrase prompts in order; None (nobody at a terminal) when out of answers."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, prompt: str, *, confirm: bool) -> str | None:
        self.asked.append(prompt)
        return self.answers.pop(0) if self.answers else None


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps passwords in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A keyring whose collection is locked and stays locked (the unlock was dismissed)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


@pytest.fixture
def use_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def passfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASS + "\n")
    path.chmod(0o600)
    monkeypatch.setenv(crypto.PASSPHRASE_FILE_ENV, str(path))
    return path


def encrypted_store(home: Path, key: str = PASS) -> Store:
    return Store.open(home / "companion.db", key=key)


def fill(store: Store, n: int = 3) -> None:
    for i in range(n):
        store.add_entry(EntryDraft("reflection", f"{MARKER} number {i}"))
    store.add_skill_use("grounding", helped=6, note=f"note {MARKER}")


def config(home: Path, *, encrypt: bool, keyring_on: bool = False) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"[security]\nencrypt = {str(encrypt).lower()}\nuse_keyring = {str(keyring_on).lower()}\n"
    )


def no_plain_text(home: Path, *secrets: str) -> None:
    for path in all_files(home):
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (path, secret)


def companion(
    *args: str, env: dict[str, str] | None = None, new_session: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m companion ...` with no controlling terminal (as under systemd)."""
    return subprocess.run(
        [sys.executable, "-m", "companion", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        start_new_session=new_session,
    )


# ---------------------------------------------------------------- SQLCipher under sqlite-utils
def test_bundled_sqlcipher_runs_wal_full_sync_secure_delete_and_trigram_fts(home: Path) -> None:
    with encrypted_store(home) as store:
        fill(store)
        conn = store.db.conn
        assert isinstance(conn, CipherConnection)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # memory
        assert conn.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
        assert [h["id"] for h in store.search("number 1")] == [2]
        assert store.search("雨") == []
        store.add_entry(EntryDraft("reflection", "雨の日 🌧️ still here"))
        assert len(store.search("雨の日")) == 1
        assert store.integrity() == "ok"
    assert not (home / "companion.db").read_bytes().startswith(HEADER)


def test_sqlcipher3_raises_its_own_classes_which_sqlite_utils_does_not_catch(home: Path) -> None:
    """Why companion/cipher_db.py translates: sqlite-utils catches sqlite3.OperationalError."""
    if issubclass(sqlcipher3.dbapi2.OperationalError, sqlite3.OperationalError):
        pytest.skip("sqlcipher3's classes now derive from sqlite3's; translating is harmless")
    raw = sqlcipher3.dbapi2.connect(str(home.parent / "raw.db"))
    raw.execute(f"PRAGMA key = '{PASS}'")
    with pytest.raises(sqlcipher3.dbapi2.OperationalError):
        Database(raw).table("missing").drop(ignore=True)  # sqlite-utils expects sqlite3's
    raw.close()


def test_sqlite_utils_paths_that_catch_stdlib_errors_work_encrypted(home: Path) -> None:
    db = Database(connect(home.parent / "x.db", PASS))
    db["t"].insert({"id": 1, "a": "x"}, pk="id")
    db["missing"].drop(ignore=True)  # except sqlite3.Operational..
    db["t"].insert({"id": 2, "a": "y", "added": 5}, alter=True)  # except OperationalError
    db["t"].update(2, {"later": 1}, alter=True)  # except OperationalError
    assert set(db["t"].columns_dict) == {"id", "a", "added", "later"}
    assert db.supports_strict and db.supports_on_conflict  # except sqlite3.Operational..
    assert list(db.query("INSERT INTO t (a) VALUES ('z') RETURNING id")) == [{"id": 3}]
    db["t"].create_index(["a"], index_name="idx_a")
    db["t"].create_index(["a"], index_name="idx_a", find_unique_name=True)
    assert db.cached_counts() == {}  # except OperationalError
    assert db["t"].exists() and not db["nope"].exists()
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.execute("SELECT * FROM nope")
    assert caught.value.sqlite_errorname == "SQLITE_ERROR"  # type: ignore[attr-defined]
    assert isinstance(caught.value.__cause__, sqlcipher3.dbapi2.OperationalError)
    db.close()


def test_sqlite_errors_turns_both_families_into_a_store_error(home: Path) -> None:
    for error in (
        sqlite3.OperationalError("database is locked"),
        sqlcipher3.dbapi2.OperationalError("database is locked"),
    ):
        with pytest.raises(StoreError, match="busy"), sqlite_errors(home / "companion.db"):
            raise error
    with pytest.raises(ValueError), sqlite_errors(home / "companion.db"):
        raise ValueError("not a database error: passes through")


# ---------------------------------------------------------------- opening
def test_wrong_passphrase_is_a_clear_error_at_open_and_changes_nothing(home: Path) -> None:
    with encrypted_store(home) as store:
        fill(store)
    before = (home / "companion.db").read_bytes()
    with pytest.raises(WrongPassphraseError, match="does not open"):
        Store.open(home / "companion.db", key="not the one")
    assert (home / "companion.db").read_bytes() == before
    with pytest.raises(StoreError, match="not a readable"):  # without a key it is not SQLite
        Store.open(home / "companion.db")


def test_detects_encrypted_plain_new_and_damaged_files(home: Path) -> None:
    path = home / "companion.db"
    assert not crypto.is_encrypted(path) and crypto.is_new(path)
    with encrypted_store(home) as store:
        fill(store)
    assert crypto.is_encrypted(path) and not crypto.is_new(path)
    plain = home / "plain.db"
    Store.open(plain).close()
    assert not crypto.is_encrypted(plain)
    damaged = home / "text.db"
    damaged.write_text("hello, this is not sqlite\n" * 50)
    assert not crypto.is_encrypted(damaged)  # not a whole number of pages: damaged, not secret


class ScriptedUi:
    """A Ui whose person types the given answers (hidden), then is gone (EOFError)."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.notes: list[str] = []

    def say(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        self.notes.append(text)

    def ask(self, question: str, *, default: str | None = None, hidden: bool = False) -> str:
        assert hidden, "a passphrase is always asked hidden"
        if not self.answers:
            raise EOFError("nobody there")
        return self.answers.pop(0)


def test_the_app_asks_a_new_passphrase_twice_until_both_match(home: Path) -> None:
    ui = ScriptedUi(PASS, PASS + "x", PASS, PASS)
    app = App(paths=resolve_paths(), ui=ui)
    assert app.ask_passphrase("Choose a passphrase", confirm=True) == PASS
    assert ui.notes == ["The two did not match. Please type it again."]
    assert (
        App(paths=resolve_paths(), ui=ScriptedUi()).ask_passphrase("Passphrase", confirm=False)
        is None
    )  # nobody to type: no answer, never a crash


def test_the_app_opens_an_encrypted_store_asking_through_its_ui(home: Path) -> None:
    encrypted_store(home).close()
    app = App(paths=resolve_paths(), ui=ScriptedUi(PASS))
    assert app.store.encrypted
    app.close()


def test_new_database_with_encrypt_on_is_created_encrypted(home: Path) -> None:
    typist = Typist(PASS)
    with crypto.open_store(home / "companion.db", ON, ask=typist) as store:
        fill(store)
    assert typist.asked == ["Choose a passphrase for companion.db"]
    assert crypto.is_encrypted(home / "companion.db")
    with crypto.open_store(home / "companion.db", OFF, ask=Typist(PASS)) as store:
        assert len(store.entries()) == 3  # the file decides, whatever the settings say


def test_plain_database_with_encrypt_on_stays_usable_and_the_person_is_told(home: Path) -> None:
    Store.open(home / "companion.db").close()
    notes: list[str] = []
    with crypto.open_store(home / "companion.db", ON, ask=Typist(), notice=notes.append) as s:
        fill(s)
    assert any("companion encrypt" in n for n in notes)


def test_three_wrong_tries_then_a_clear_error(home: Path) -> None:
    encrypted_store(home).close()
    notes: list[str] = []
    with pytest.raises(WrongPassphraseError):
        crypto.open_store(
            home / "companion.db", OFF, ask=Typist("a", "b", "c", PASS), notice=notes.append
        )
    assert len(notes) == 2
    with crypto.open_store(home / "companion.db", OFF, ask=Typist("a", PASS)) as store:
        assert store.encrypted


def test_passphrase_file_must_be_private(home: Path, passfile: Path) -> None:
    encrypted_store(home).close()
    passfile.chmod(0o644)
    with pytest.raises(InputError, match="chmod 600"):
        crypto.open_store(home / "companion.db", OFF, ask=Typist())
    passfile.chmod(0o600)
    crypto.open_store(home / "companion.db", OFF, ask=Typist()).close()


# ---------------------------------------------------------------- the keyring
def test_keyring_keeps_the_passphrase_for_the_daemon(home: Path, use_keyring: None) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    crypto.open_store(home / "companion.db", WITH_KEYRING, ask=Typist(PASS)).close()
    assert list(ring.secrets.values()) == [PASS]
    nobody = Typist()
    with crypto.open_store(home / "companion.db", WITH_KEYRING, ask=nobody) as store:
        assert store.encrypted
    assert nobody.asked == []


def test_stale_keyring_passphrase_asks_and_is_replaced(home: Path, use_keyring: None) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    encrypted_store(home).close()
    account = crypto.Keyring(home / "companion.db", print).account
    ring.secrets[("companion", account)] = "an old passphrase"
    notes: list[str] = []
    crypto.open_store(
        home / "companion.db", WITH_KEYRING, ask=Typist(PASS), notice=notes.append
    ).close()
    assert ring.secrets[("companion", account)] == PASS
    assert any("no longer opens" in n for n in notes)


@pytest.mark.parametrize(
    "backend", [LockedKeyring, keyring.backends.fail.Keyring], ids=["locked", "no-backend"]
)
def test_locked_or_missing_keyring_asks_instead_of_crashing(
    home: Path, use_keyring: None, backend: type
) -> None:
    encrypted_store(home).close()
    keyring.set_keyring(backend())
    notes: list[str] = []
    typist = Typist(PASS)
    with crypto.open_store(
        home / "companion.db", WITH_KEYRING, ask=typist, notice=notes.append
    ) as store:
        assert store.encrypted
    assert len(typist.asked) == 1
    assert len(notes) == 1 and "keyring could not" in notes[0]


def test_no_terminal_and_no_keyring_is_one_clear_error(home: Path) -> None:
    with encrypted_store(home) as store:
        fill(store)
    result = companion("search", MARKER)  # no controlling terminal: nobody to ask
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "no passphrase is available" in result.stderr and "Traceback" not in result.stderr
    wrong = home.parent / "wrong"
    wrong.write_text("not the passphrase")
    wrong.chmod(0o600)
    result = companion("search", MARKER, env={crypto.PASSPHRASE_FILE_ENV: str(wrong)})
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: that passphrase does not open")


def test_missing_sqlcipher_is_a_missing_part_with_the_fix(home: Path, passfile: Path) -> None:
    encrypted_store(home).close()
    code = (
        "import sys; sys.modules['sqlcipher3'] = None\n"
        "from companion.cli import run_main; sys.exit(run_main(['search', 'x']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert result.returncode == 3, result.stderr
    assert "pip install 'companion[encrypt]'" in result.stderr


# ---------------------------------------------------------------- a person at a terminal
def on_terminal(args: list[str], answers: list[tuple[bytes, bytes]]) -> tuple[int, str]:
    """Run companion on a real pseudo-terminal, typing each answer after its prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        os.execv(sys.executable, [sys.executable, "-m", "companion", *args])
    seen = b""
    try:
        for prompt, answer in answers:
            seen += _read_until(fd, lambda data, p=prompt: p in data, seen)
            seen = seen.replace(prompt, b"<asked>", 1)
            os.write(fd, answer + b"\n")
        seen += _read_until(fd, lambda data: False, b"")
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def _read_until(fd: int, done, already: bytes, timeout: float = 60) -> bytes:  # noqa: ANN001
    got = b""
    deadline = time.monotonic() + timeout
    while not done(already + got) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            got += chunk
    return got


def test_a_person_types_the_passphrase_at_a_real_terminal(home: Path) -> None:
    Store.open(home / "companion.db").close()
    code, out = on_terminal(
        ["encrypt"], [(b"Choose a passphrase", PASS.encode()), (b"Once more", PASS.encode())]
    )
    assert code == 0, out
    assert "Encrypted" in out and PASS not in out  # hidden input: never echoed
    code, out = on_terminal(
        ["reflect", f"typed {MARKER}"],
        [(b"Passphrase for", b"wrong"), (b"Passphrase for", PASS.encode())],
    )
    assert code == 0, out
    assert "try again" in out and "Saved" in out
    with encrypted_store(home) as store:
        assert store.entries()[0]["text"] == f"typed {MARKER}"


# ---------------------------------------------------------------- the commands
def test_encrypt_command_migrates_a_plain_database_in_place(
    cli, home: Path, passfile: Path
) -> None:
    with Store.open(home / "companion.db") as store:
        fill(store, 20)
    before = json.loads(cli("export").stdout)["tables"]
    old_backup = json.loads(cli("backup", "--json").stdout)["path"]
    result = json.loads(cli("encrypt", "--json").stdout)
    assert result["changed"] and result["plain_backups"] == [old_backup]
    assert not (home / "companion.db").read_bytes().startswith(HEADER)
    assert json.loads(cli("export").stdout)["tables"] == before
    assert stat.S_IMODE((home / "companion.db").stat().st_mode) == 0o600
    assert sorted(p.name for p in home.iterdir()) == ["backups", "companion.db"]
    assert "already encrypted" in cli("encrypt").stdout
    Path(old_backup).unlink()
    no_plain_text(home, MARKER)


def test_nothing_plain_in_any_byte_of_the_data_folder(cli, home: Path, passfile: Path) -> None:
    config(home, encrypt=True)
    cli("reflect", f"a walk by the river {MARKER}", "--bring")
    cli("skill", "grounding", "--note", "five things I can see")
    cli("moment", "--intensity", "7", "--note", "loud meeting")
    cli("pattern", "add", "all-or-nothing")
    cli("phrase", "add", "One thing at a time.")
    cli("backup")
    assert MARKER in cli("search", MARKER).stdout
    secrets = (
        MARKER,
        "five things I can see",
        "loud meeting",
        "all-or-nothing",
        "One thing at a time",
    )
    no_plain_text(home, *secrets)  # the database, its -wal and -shm, and the backup
    cli("forget", "--all", "--yes")
    no_plain_text(home, *secrets)
    assert json.loads(cli("search", MARKER, "--json").stdout) == []


def test_forget_scrubs_an_encrypted_database(cli, home: Path, passfile: Path) -> None:
    config(home, encrypt=True)
    first = json.loads(cli("reflect", f"first {MARKER}", "--json").stdout)
    cli("reflect", "second, to keep")
    cli("forget", str(first["id"]))
    hits = json.loads(cli("search", "keep", "--json").stdout)
    assert [h["text"] for h in hits] == ["second, to keep"]
    assert json.loads(cli("search", MARKER, "--json").stdout) == []
    wal = home / "companion.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
    with encrypted_store(home) as store:
        assert store.integrity() == "ok"
        assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # VACUUM ran
        store.scrub()  # FTS optimize, checkpoints and VACUUM, all on the encrypted file
        assert store.integrity() == "ok"


def test_backups_of_an_encrypted_database_stay_encrypted(cli, home: Path, passfile: Path) -> None:
    config(home, encrypt=True)
    cli("reflect", f"kept {MARKER}")
    path = Path(json.loads(cli("backup", "--json").stdout)["path"])
    assert not path.read_bytes().startswith(HEADER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Store.open(path, key=PASS) as copy:
        assert copy.entries()[0]["text"] == f"kept {MARKER}"
        assert copy.integrity() == "ok"
    plain = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError):
        plain.execute("SELECT count(*) FROM sqlite_master").fetchone()
    plain.close()


def test_decrypt_writes_a_private_plain_copy_on_request(
    cli, home: Path, passfile: Path, tmp_path: Path
) -> None:
    config(home, encrypt=True)
    cli("reflect", f"kept {MARKER}")
    out = tmp_path / "plain.db"
    result = cli("decrypt", "-o", str(out))
    assert "not encrypted" in result.stdout
    assert out.read_bytes().startswith(HEADER) and stat.S_IMODE(out.stat().st_mode) == 0o600
    with Store.open(out) as copy:
        assert copy.entries()[0]["text"] == f"kept {MARKER}"
    assert cli("decrypt", "-o", str(out), ok=False).exit_code == 1  # never overwrites
    default = Path(json.loads(cli("decrypt", "--json").stdout)["path"])
    assert default.parent == home / "exports" and default.read_bytes().startswith(HEADER)
    assert crypto.is_encrypted(home / "companion.db")


def test_decrypt_in_place_turns_encryption_off(
    cli, home: Path, passfile: Path, use_keyring: None
) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    config(home, encrypt=True, keyring_on=True)
    cli("reflect", f"kept {MARKER}")
    assert len(ring.secrets) == 1
    before = json.loads(cli("export").stdout)["tables"]
    result = cli("decrypt", "--in-place")
    assert "no longer encrypted" in result.stdout and "still true" in result.stdout
    assert (home / "companion.db").read_bytes().startswith(HEADER)
    assert ring.secrets == {}
    config(home, encrypt=False)
    assert json.loads(cli("export").stdout)["tables"] == before
    assert cli("decrypt", ok=False).exit_code == 1  # nothing left to decrypt
    assert "Nothing was changed" in cli("decrypt", "--in-place").stdout


def test_doctor_says_whether_the_daemon_can_open_it(cli, home: Path, passfile: Path) -> None:
    config(home, encrypt=True)
    cli("reflect", "hello")
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json", ok=False).stdout)}
    assert checks["encryption"]["status"] == "ok"
    assert checks["keyring"]["status"] == "note"


def test_doctor_flags_a_plain_database_when_encryption_is_asked(cli, home: Path) -> None:
    cli("reflect", "hello")
    config(home, encrypt=True)
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json", ok=False).stdout)}
    assert checks["encryption"]["status"] == "problem"
    assert "companion encrypt" in checks["encryption"]["fix"]


# ---------------------------------------------------------------- a kill at any moment
CONVERTER = r"""
import sys
from companion.cli import run_main
import companion.crypto, companion.cipher_db  # loaded before the clock starts
print("ready", flush=True)
sys.stdin.readline()
sys.exit(run_main(sys.argv[1:]))
"""


def _start(args: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CONVERTER, *args],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def _go(proc: subprocess.Popen[str]) -> float:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return time.perf_counter()


def _contents(db: Path) -> tuple[bool, list[str]]:
    """(encrypted?, every entry text) of whatever the kill left, opened without repair."""
    encrypted = crypto.is_encrypted(db)
    with Store.open(db, key=PASS if encrypted else None) as store:
        assert store.integrity() == "ok"
        return encrypted, [e["text"] for e in store.entries()]


def _finish(args: list[str]) -> None:
    _timed(args)


def _kill_rounds(
    db: Path,
    start_from: Path,
    args: list[str],
    *,
    rounds: int,
    span: float,
    expected: list[str],
    rng: random.Random,
) -> list[str]:
    """Kill `companion ARGS` at spread-out moments; each time, everything must be there."""
    outcomes = []
    for i in range(rounds):
        for leftover in db.parent.iterdir():
            if leftover.is_file():
                leftover.unlink()
        db.write_bytes(start_from.read_bytes())
        proc = _start(args)
        _go(proc)
        time.sleep(span * (i + rng.random()) / rounds)  # spread over the whole conversion
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        partial = any(p.name.startswith(".companion.db.") for p in db.parent.iterdir())
        encrypted, texts = _contents(db)
        assert sorted(texts) == expected, f"{args} round {i}: rows lost"
        outcomes.append(("encrypted" if encrypted else "plain") + (" +partial" if partial else ""))
        _finish(args)  # the next run completes, cleaning up what the kill left
        assert sorted(_contents(db)[1]) == expected
        assert [p.name for p in db.parent.iterdir() if p.name.startswith(".")] == []
    return outcomes


def test_sigkill_during_encrypt_and_decrypt_loses_nothing(
    home: Path, passfile: Path, tmp_path: Path
) -> None:
    db = home / "companion.db"
    with Store.open(db) as store:
        store.bulk_insert(
            "entries",
            [
                {
                    "kind": "reflection",
                    "text": f"row {i} {MARKER}",
                    "source": "typed",
                    "created_at": "2026-01-01T10:00:00+00:00",
                    "created_utc": "2026-01-01T10:00:00Z",
                }
                for i in range(4000)
            ],
        )
        expected = sorted(e["text"] for e in store.entries())
    plain, encrypted = tmp_path / "plain.db", tmp_path / "encrypted.db"
    plain.write_bytes(db.read_bytes())
    span = _timed(["encrypt"])
    encrypted.write_bytes(db.read_bytes())
    span_back = _timed(["decrypt", "--in-place"])
    rng = random.Random(20261125)
    there = _kill_rounds(db, plain, ["encrypt"], rounds=8, span=span, expected=expected, rng=rng)
    assert crypto.is_encrypted(db)
    back = _kill_rounds(
        db,
        encrypted,
        ["decrypt", "--in-place"],
        rounds=4,
        span=span_back,
        expected=expected,
        rng=rng,
    )
    assert not crypto.is_encrypted(db)
    print(f"kills survived: encrypt {there} ({span:.2f} s), decrypt {back} ({span_back:.2f} s)")


def _timed(args: list[str]) -> float:
    proc = _start(args)
    started = _go(proc)
    assert proc.wait(timeout=120) == 0
    return time.perf_counter() - started


HOLDER = r"""
import sys
from pathlib import Path
from companion.store import Store
store = Store.open(Path(sys.argv[1]))
store.entries()
print("holding", flush=True)
sys.stdin.readline()
"""


def test_encrypt_waits_for_no_one_and_changes_nothing_while_another_program_holds_it(
    cli, home: Path, passfile: Path
) -> None:
    db = home / "companion.db"
    with Store.open(db) as store:
        fill(store)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        result = cli("encrypt", ok=False)
        assert result.exit_code == 1 and "Stop it" in result.stderr
        assert db.read_bytes().startswith(HEADER)
    finally:
        holder.communicate("done\n", timeout=30)
    cli("encrypt")
    with encrypted_store(home) as store:
        assert len(store.entries()) == 3


# ---------------------------------------------------------------- entries set aside
def test_an_entry_set_aside_from_an_encrypted_database_is_sealed(
    cli, home: Path, passfile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    config(home, encrypt=True)
    with (home / "config.toml").open("a") as fh:
        fh.write("[storage]\nbusy_timeout_seconds = 0.5\n")
    cli("reflect", "before")
    holder = connect(home / "companion.db", PASS)  # another program holds the database
    holder.execute("BEGIN IMMEDIATE")
    try:
        held = cli("reflect", f"said while it was held {MARKER}", ok=False)
    finally:
        holder.rollback()
        holder.close()
    assert held.exit_code == 1 and "not lost" in held.stderr
    kept = list((home / "pending").iterdir())
    assert [p.suffix for p in kept] == [".sealed"]
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    no_plain_text(home, MARKER)
    no_plain_text(tmp_path, MARKER)  # the runtime folder too
    cli("win", "after")  # the next save adds it first
    assert MARKER in cli("search", MARKER).stdout
    assert list((home / "pending").iterdir()) == []


def test_without_the_key_nothing_is_set_aside_in_plain_text(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    from companion.journal import set_aside
    from companion.paths import resolve_paths

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    encrypted_store(home).close()
    kept = set_aside(
        resolve_paths(),
        EntryDraft("reflection", f"no key {MARKER}"),
        answer=False,
        now=datetime.now().astimezone(),
    )
    assert kept is None  # the caller prints the words back instead
    no_plain_text(tmp_path, MARKER)


# ---------------------------------------------------------------- passphrase rules
def test_a_short_passphrase_file_is_refused_for_new_encryption_only(
    cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = tmp_path / "short"
    short.write_text("sesame\n")
    short.chmod(0o600)
    monkeypatch.setenv(crypto.PASSPHRASE_FILE_ENV, str(short))
    cli("reflect", "plain words")
    refused = cli("encrypt", ok=False)
    assert refused.exit_code == 1 and "at least 8" not in refused.stdout
    assert "shorter than 8 characters" in refused.stderr
    assert (home / "companion.db").read_bytes().startswith(HEADER)
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("COMPANION_HOME", str(fresh))
    config(fresh, encrypt=True)
    assert "shorter than 8" in cli("reflect", "new words", ok=False).stderr
    assert crypto.is_new(fresh / "companion.db")
    old = tmp_path / "old"
    monkeypatch.setenv("COMPANION_HOME", str(old))
    with Store.open(old / "companion.db", key="sesame") as store:  # chosen before the rule
        fill(store)
    assert MARKER in cli("search", MARKER).stdout


# ---------------------------------------------------------------- saying the true thing
def test_daemon_with_an_unreachable_keyring_says_so_and_how_to_fix(home: Path) -> None:
    config(home, encrypt=True, keyring_on=True)
    with encrypted_store(home) as store:
        fill(store)
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = companion("run", "--once", "--dry-run", env=no_keyring)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "cannot be reached" in error
    assert "use_keyring = true" not in result.stderr  # it is set already
    doctor = companion("doctor", "--json", env=no_keyring)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)}
    assert "keyring" in checks["database"]["detail"]
    assert "backup" not in checks["database"]["fix"] and "keyring" in checks["database"]["fix"]


def test_a_damaged_database_is_called_damaged_not_encrypted(
    cli, home: Path, passfile: Path
) -> None:
    damaged = Path(__file__).parent / "data" / "bad" / "db" / "damaged_8k.db"
    home.mkdir()
    (home / "companion.db").write_bytes(damaged.read_bytes())
    assert not crypto.is_encrypted(home / "companion.db")
    for args in (["encrypt"], ["reflect", "words"], ["search", "words"]):
        result = cli(*args, ok=False)
        assert result.exit_code == 1 and "already encrypted" not in result.stdout
        assert "damaged" in result.stderr and "backups" in result.stderr
    assert (home / "companion.db").read_bytes() == damaged.read_bytes()


# ---------------------------------------------------------------- what a killed decrypt leaves
KILLED_BEFORE_THE_SWAP = r"""
import os, signal, sys
from companion.cli import run_main
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(src).endswith(".converting"):  # the plain copy is whole; the swap is next
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
sys.exit(run_main(sys.argv[1:]))
"""


def leftovers(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if p.name.startswith(".companion.db.")]


def test_a_decrypt_killed_before_its_swap_leaves_nothing_readable_after_the_next_open(
    home: Path, passfile: Path
) -> None:
    with encrypted_store(home) as store:
        fill(store, 50)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_SWAP, "decrypt", "--in-place"],
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert killed.returncode == -signal.SIGKILL
    left = leftovers(home)
    assert left, "the kill came before the swap: the plain copy is still there"
    for path in left:  # never readable by others, even before it is cleaned up
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.is_encrypted(home / "companion.db")
    found = companion("search", MARKER)  # any command that opens the database
    assert found.returncode == 0 and MARKER in found.stdout
    assert leftovers(home) == []
    no_plain_text(home, MARKER)


ROUNDS = 8


def test_sigkill_during_decrypt_never_leaves_a_plain_copy_behind(
    home: Path, passfile: Path, tmp_path: Path
) -> None:
    db = home / "companion.db"
    with encrypted_store(home) as store:
        store.bulk_insert(
            "entries",
            [
                {
                    "kind": "reflection",
                    "text": f"row {i} {MARKER} " + "words " * 40,
                    "source": "typed",
                    "created_at": "2026-01-01T10:00:00+00:00",
                    "created_utc": "2026-01-01T10:00:00Z",
                }
                for i in range(8000)
            ],
        )
    start_from = tmp_path / "encrypted.db"
    start_from.write_bytes(db.read_bytes())
    span = _timed(["decrypt", "--in-place"])
    rng = random.Random(20261129)
    outcomes = []
    for i in range(ROUNDS):
        for leftover in home.iterdir():
            leftover.unlink()
        db.write_bytes(start_from.read_bytes())
        proc = _start(["decrypt", "--in-place"])
        _go(proc)
        time.sleep(span * (0.3 + 0.7 * (i + rng.random()) / ROUNDS))  # the copy comes late
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        left = leftovers(home)
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)
        outcomes.append(
            ("encrypted" if crypto.is_encrypted(db) else "plain") + (" +copy" if left else "")
        )
        assert companion("export").returncode == 0  # the next open cleans up
        assert leftovers(home) == [], f"round {i}: a copy stayed"
        if crypto.is_encrypted(db):
            no_plain_text(home, MARKER)
    print(f"decrypt killed {ROUNDS} times ({span:.2f} s each): {outcomes}")


def test_forget_lists_the_plain_copy_decrypt_left_in_the_exports_folder(
    cli, home: Path, passfile: Path
) -> None:
    config(home, encrypt=True)
    cli("reflect", f"kept {MARKER}")
    copy = json.loads(cli("decrypt", "--json").stdout)["path"]
    report = json.loads(cli("forget", "1", "--json").stdout)
    assert report["copies"] == [copy]
