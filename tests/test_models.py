"""Speech models: the catalog, downloads from a local server, safe unpacking, add/use/remove."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from speech_fixtures import ko_model_path

from companion.adapters import models
from companion.paths import resolve_paths


def fake_model(folder: Path) -> Path:
    """The files that make a folder look like a Vosk model (it would not load)."""
    for rel in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"model bytes " + rel.encode())
    return folder


def model_zip(
    top: str = "vosk-model-test-0.1",
    *,
    extra: dict[str, bytes] | None = None,
    link: tuple[str, str] | None = None,
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
            zf.writestr(f"{top}/{rel}", b"model bytes " + rel.encode() * 2000)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link[0])
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, link[1])
    return buf.getvalue()


@dataclass
class Files:
    """What the local server serves: path -> bytes; `cut` paths stop halfway once."""

    data: dict[str, bytes] = field(default_factory=dict)
    cut_once: set[str] = field(default_factory=set)
    requests: list[tuple[str, str | None]] = field(default_factory=list)


def handler_for(files: Files) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            rng = self.headers.get("Range")
            files.requests.append((self.path, rng))
            body = files.data.get(self.path)
            if body is None:
                self.send_error(404)
                return
            start = int(rng.split("=")[1].split("-")[0]) if rng else 0
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            if self.path in files.cut_once:
                files.cut_once.discard(self.path)
                self.wfile.write(body[start : start + (len(body) - start) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body[start:])

    return Handler


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback downloads go straight to the test server, whatever proxy the machine has."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(files))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


def user_catalog(home: Path, name: str, url: str, sha256: str) -> None:
    (home / "models").mkdir(parents=True, exist_ok=True)
    (home / "models" / "catalog.toml").write_text(
        f'[models.{name}]\nlanguage = "xx"\nurl = "{url}"\nsha256 = "{sha256}"\nsize_mb = 1\n'
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- catalog and packages
def test_the_shipped_catalog_has_the_default_model_with_its_checksum() -> None:
    entries = models.catalog(resolve_paths())
    small = entries["small-en-us"]
    assert small.url.endswith("vosk-model-small-en-us-0.15.zip")
    assert small.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    assert entries["en-us-lgraph"].sha256 == ""  # unknown, and honest about it


def test_the_korean_package_model_is_found_and_listed(cli) -> None:
    path = ko_model_path()
    assert models.is_vosk_model(path)
    listed = json.loads(cli("model", "list", "--json").stdout)
    ko = next(m for m in listed["models"] if m["name"] == "ko")
    assert ko["installed"] and ko["source"] == "package" and ko["language"] == "ko"
    assert ko["path"] == str(path)
    assert "ko" in cli("model", "list").stdout


def test_use_writes_the_choice_into_the_config_and_keeps_the_rest(cli, home: Path) -> None:
    ko_model_path()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '# mine\n[voice]\nkeep_audio = true\nmodel = "x"\n\n[speech]\nrate = 150\n'
    )
    cli("model", "use", "ko")
    text = (home / "config.toml").read_text()
    assert 'model = "ko"' in text and "# mine" in text and "rate = 150" in text
    assert "keep_audio = true" in text
    assert json.loads(cli("model", "list", "--json").stdout)["active"] == "ko"


def test_using_a_model_that_is_not_installed_is_a_missing_part(cli, home: Path) -> None:
    result = cli("model", "use", "small-en-us", ok=False)
    assert result.exit_code == 3
    assert "companion model install small-en-us" in result.stderr
    assert not (home / "config.toml").exists()


# ---------------------------------------------------------------- add and remove
def test_add_registers_a_folder_in_place_and_remove_leaves_it(
    cli, tmp_path: Path, home: Path
) -> None:
    folder = fake_model(tmp_path / "vosk-model-small-de-0.15")
    added = json.loads(cli("model", "add", str(folder), "--json").stdout)
    assert added["name"] == "vosk-model-small-de-0.15" and added["language"] == "de"
    register = home / "models" / "models.json"
    assert stat.S_IMODE(register.stat().st_mode) == 0o600
    cli("model", "remove", "vosk-model-small-de-0.15")
    assert folder.is_dir()
    assert "small-de" not in cli("model", "list").stdout


def test_add_unpacks_a_zip_into_the_models_folder(cli, tmp_path: Path, home: Path) -> None:
    (tmp_path / "m.zip").write_bytes(model_zip())
    cli("model", "add", str(tmp_path / "m.zip"), "--name", "mine", "--language", "en")
    assert models.is_vosk_model(home / "models" / "mine")
    cli("model", "remove", "mine")
    assert not (home / "models" / "mine").exists()


def test_a_folder_that_is_not_a_model_is_refused(cli, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    result = cli("model", "add", str(tmp_path / "photos"), ok=False)
    assert result.exit_code == 1
    assert "is not a Vosk speech model" in result.stderr


def test_a_package_model_cannot_be_removed_here(cli) -> None:
    ko_model_path()
    result = cli("model", "remove", "ko", ok=False)
    assert result.exit_code == 1 and "pip uninstall" in result.stderr


def test_a_broken_registered_model_fails_to_load_with_a_fix(
    cli, tmp_path: Path, home: Path
) -> None:
    folder = fake_model(tmp_path / "broken")
    cli("model", "add", str(folder))
    cli("model", "use", "broken")
    (tmp_path / "a.wav").write_bytes(b"")
    wav = tmp_path / "b.wav"
    import wave

    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x10\x00" * 16000)
    result = cli("transcribe", str(wav), ok=False)
    assert result.exit_code == 3
    assert "could not be loaded" in result.stderr


# ---------------------------------------------------------------- install over HTTP
@pytest.mark.enable_socket
def test_install_downloads_checks_unpacks_and_registers(cli, server, home: Path) -> None:
    url, files = server
    files.data["/m.zip"] = model_zip()
    user_catalog(home, "test-model", f"{url}/m.zip", sha(files.data["/m.zip"]))
    cli("model", "install", "test-model")
    assert models.is_vosk_model(home / "models" / "test-model")
    listed = json.loads(cli("model", "list", "--json").stdout)
    entry = next(m for m in listed["models"] if m["name"] == "test-model")
    assert entry["installed"] and entry["source"] == "downloaded"
    assert not list((home / "models" / ".downloads").iterdir())


@pytest.mark.enable_socket
def test_a_bad_checksum_installs_nothing(cli, server, home: Path) -> None:
    url, files = server
    files.data["/m.zip"] = model_zip()
    user_catalog(home, "test-model", f"{url}/m.zip", "0" * 64)
    result = cli("model", "install", "test-model", ok=False)
    assert result.exit_code == 1 and "does not match its checksum" in result.stderr
    assert not (home / "models" / "test-model").exists()
    assert not list((home / "models" / ".downloads").iterdir())
    assert "test-model" not in models.registered(resolve_paths())


@pytest.mark.enable_socket
def test_a_cut_download_is_resumed_on_the_next_try(cli, server, home: Path) -> None:
    url, files = server
    files.data["/m.zip"] = model_zip()
    files.cut_once.add("/m.zip")
    user_catalog(home, "test-model", f"{url}/m.zip", sha(files.data["/m.zip"]))
    first = cli("model", "install", "test-model", ok=False)
    assert first.exit_code == 1 and "run the same command again" in first.stderr
    part = home / "models" / ".downloads" / "test-model.zip.part"
    assert 0 < part.stat().st_size < len(files.data["/m.zip"])
    cli("model", "install", "test-model")
    assert files.requests[-1][1] == f"bytes={len(files.data['/m.zip']) // 2}-"
    assert models.is_vosk_model(home / "models" / "test-model")


@pytest.mark.enable_socket
@pytest.mark.parametrize(
    ("extra", "link", "says"),
    [
        ({"../evil.txt": b"owned"}, None, "outside its folder"),
        ({"vosk-model-test-0.1/../../evil.txt": b"owned"}, None, "outside its folder"),
        ({"/tmp/evil-abs.txt": b"owned"}, None, "outside its folder"),
        (None, ("vosk-model-test-0.1/escape", "/etc/passwd"), "a link"),
    ],
)
def test_unsafe_zips_are_refused_before_anything_is_unpacked(
    cli, server, home: Path, tmp_path: Path, extra, link, says
) -> None:
    url, files = server
    files.data["/m.zip"] = model_zip(extra=extra, link=link)
    user_catalog(home, "test-model", f"{url}/m.zip", sha(files.data["/m.zip"]))
    result = cli("model", "install", "test-model", ok=False)
    assert result.exit_code == 1 and says in result.stderr
    assert not (home / "models" / "test-model").exists()
    assert not (home / "evil.txt").exists() and not (home / "models" / "evil.txt").exists()
    assert not Path("/tmp/evil-abs.txt").exists()
    assert [p.name for p in (home / "models").iterdir() if p.name.startswith(".unpack")] == []
    assert list((home / "models" / ".downloads").iterdir()) == []  # no .part left behind


def bomb_zip(*, entries: int = 0, zeros: int = 0) -> bytes:
    """A model zip plus a file of `zeros` zero bytes (deflated) or `entries` tiny files."""
    buf = io.BytesIO(model_zip())
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        if zeros:
            zf.writestr("vosk-model-test-0.1/graph/padding.bin", bytes(zeros))
        for i in range(entries):
            zf.writestr(f"vosk-model-test-0.1/x/{i}", b"")
    return buf.getvalue()


@pytest.mark.parametrize(
    "bomb", [{"zeros": 300 * 1024**2}, {"entries": 10_001}], ids=["300 MB of zeros", "10,001 files"]
)
def test_a_zip_that_unpacks_to_far_more_than_a_model_is_refused(
    cli, tmp_path: Path, home: Path, bomb: dict[str, int]
) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb_zip(**bomb))
    result = cli("model", "add", str(path), ok=False)
    assert result.exit_code == 1 and "far more than a speech model" in result.stderr
    assert not (home / "models" / "bomb").exists()
    assert [p.name for p in (home / "models").iterdir() if p.name.startswith(".unpack")] == []


def test_a_model_without_a_checksum_is_not_downloaded_without_one(cli, home: Path) -> None:
    result = cli("model", "install", "en-us-lgraph", ok=False)
    assert result.exit_code == 1 and "--sha256" in result.stderr
    assert not (home / "models" / ".downloads").exists()


@pytest.mark.enable_socket
def test_a_given_sha256_lets_an_unchecked_catalog_entry_install(cli, server, home: Path) -> None:
    url, files = server
    files.data["/m.zip"] = model_zip()
    user_catalog(home, "test-model", f"{url}/m.zip", "")
    cli("model", "install", "test-model", "--sha256", sha(files.data["/m.zip"]).upper())
    assert models.is_vosk_model(home / "models" / "test-model")


def test_an_unknown_name_is_named(cli) -> None:
    result = cli("model", "install", "no-such-model", ok=False)
    assert result.exit_code == 1 and "there is no model 'no-such-model'" in result.stderr


@pytest.mark.enable_socket
def test_a_server_that_is_not_there_gets_a_clear_message(cli, home: Path) -> None:
    with socket.socket() as closed:  # a port on this machine where nobody listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        user_catalog(home, "test-model", f"http://127.0.0.1:{port}/m.zip", "a" * 64)
        result = cli("model", "install", "test-model", ok=False)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "error: could not reach the model site (no connection). Nothing was installed"
    )
    assert "0.0 MB" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (home / "models" / "test-model").exists()


def test_a_folder_called_model_is_named_after_its_parent_and_its_readme_language(
    cli, tmp_path: Path
) -> None:
    folder = fake_model(tmp_path / "my_korean_voice" / "model")
    (folder / "README").write_text("Small Korean for Vosk (Android, RPi, other small devices)\n")
    added = json.loads(cli("model", "add", str(folder), "--json").stdout)
    assert added["name"] == "my-korean-voice" and added["language"] == "ko"
    renamed = json.loads(cli("model", "add", str(folder), "--name", "ko-small", "--json").stdout)
    assert renamed["name"] == "ko-small" and renamed["language"] == "ko"


def test_the_korean_package_model_knows_its_language(cli) -> None:
    listed = json.loads(cli("model", "list", "--json").stdout)["models"]
    assert next(m for m in listed if m["name"] == "ko")["language"] == "ko"
