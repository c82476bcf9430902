import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import all_files, insert_raw

MARKER = "zebra-lantern-7731"


def fill(cli) -> None:
    cli("reflect", f"a walk by the river {MARKER}", "--area", "regulation", "--bring")
    cli("checkin", "--text", "steady enough", "--mood", "3")
    cli("skill", "grounding", "--helped", "6", "--note", "five things I can see")
    cli("moment", "--intensity", "7", "--steady-after", "40m", "--note", "loud meeting")
    cli("win", "asked for a minute before answering")
    cli("pattern", "add", "all-or-nothing")
    cli("pattern", "noticed", "all-or-nothing", "--responded", "--note", "caught it")
    cli("phrase", "add", "One thing at a time.")


def test_export_json_round_trips_exactly(cli, home: Path) -> None:
    fill(cli)
    first = json.loads(cli("export").stdout)
    cli("forget", "--all", "--yes")
    assert json.loads(cli("export").stdout)["tables"]["entries"] == []
    out = home / "export.json"
    out.write_text(json.dumps(first))
    cli("import", str(out))
    again = json.loads(cli("export").stdout)
    assert again["tables"] == first["tables"]
    assert "Nothing new" in cli("import", str(out)).stdout


def test_import_into_a_journal_with_other_records_keeps_both(cli, home: Path) -> None:
    fill(cli)
    exported = home / "e.json"
    cli("export", "-o", str(exported))
    cli("forget", "--all", "--yes")
    cli("reflect", "written after the export")
    cli("import", str(exported))
    texts = [e["text"] for e in json.loads(cli("export").stdout)["tables"]["entries"]]
    assert "written after the export" in texts and any(MARKER in t for t in texts)
    notices = json.loads(cli("pattern", "list", "--json").stdout)
    assert notices[0]["noticed"] == 1


def test_export_csv_and_markdown(cli) -> None:
    fill(cli)
    rows = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    assert {r["record"] for r in rows} == {"entry", "skill", "moment", "notice"}
    assert any(MARKER in r["text"] for r in rows)
    md = cli("export", "--format", "md").stdout
    assert md.startswith("# My companion journal") and MARKER in md


def test_export_file_is_private_with_umask_022(cli, home: Path) -> None:
    fill(cli)
    old = os.umask(0o022)
    try:
        target = home / "out" / "journal.md"
        target.parent.mkdir(mode=0o755, parents=True)
        cli("export", "--format", "md", "-o", str(target))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "payload",
    [
        '{"format": "companion-export", "version": 1, "tables": {"entries": [{"id": 1}]}}',
        '{"format": "companion-export", "version": 1, "tables": {"entries": [{"id": 5, "text": "x",'
        ' "kind": "reflection", "created_at": "2026", "created_utc": "2026", "source": "typed",'
        ' "bogus": 1}]}}',
        '{"format": "companion-export", "version": 99, "tables": {}}',
        '{"entries": [{"title": "ok", "date": "2025-01-01"}, {"title": "no date"}]}',
        '{"entries": [{"title": "", "body": "", "date": "2025-01-01"}]}',
        "[1, 2, 3]",
        '{"format": "companion-export", "version": 1, "tables": {"secrets": []}}',
        "not json at all",
        "\udcff",
    ],
)
def test_malformed_import_changes_nothing(cli, home: Path, payload: str) -> None:
    fill(cli)
    before = json.loads(cli("export").stdout)["tables"]
    bad = home / "bad.json"
    bad.write_bytes(payload.encode("utf-8", errors="surrogateescape"))
    result = cli("import", str(bad), ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert json.loads(cli("export").stdout)["tables"] == before


def test_jrnl_json_export_imports_as_reflections(cli, home: Path, tmp_path: Path) -> None:
    jrnl_export = _real_jrnl_export(tmp_path)
    cli("import", str(jrnl_export))
    entries = json.loads(cli("export").stdout)["tables"]["entries"]
    assert len(entries) == 2
    first = entries[0]
    assert first["kind"] == "reflection" and first["source"] == "import"
    assert first["created_at"].startswith("2025-03-04T09:15")
    assert "Therapy homework" in first["text"] and "breathing" in first["text"]
    assert "homework" in json.loads(first["tags"])
    assert "Nothing new" in cli("import", str(jrnl_export)).stdout


def _real_jrnl_export(tmp_path: Path) -> Path:
    """A journal written and exported by jrnl itself (from PyPI)."""
    jrnl = Path(sys.executable).with_name("jrnl")
    if not jrnl.exists():
        pytest.skip("jrnl is not installed (it is in the test extra: pip install -e '.[test]')")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path)}
    cfg = tmp_path / "cfg" / "jrnl"
    cfg.mkdir(parents=True)
    journal = tmp_path / "journal.txt"
    (cfg / "jrnl.yaml").write_text(
        f"journals:\n  default:\n    journal: {journal}\nencrypt: false\neditor: ''\n"
        "tagsymbols: '@'\ntimeformat: '%Y-%m-%d %H:%M'\nhighlight: false\nlinewrap: 79\n"
        "indent_character: '|'\ndefault_hour: 9\ndefault_minute: 0\ncolors:\n  body: none\n"
        "  date: none\n  tags: none\n  title: none\nversion: v4.0\ntemplate: false\n"
    )
    for text in (
        "2025-03-04 09:15: Therapy homework. Tried the breathing @homework",
        "2025-03-05 21:00: Slept badly but called a friend.",
    ):
        subprocess.run([str(jrnl), text], env=env, check=True, capture_output=True, timeout=60)
    out = subprocess.run(
        [str(jrnl), "--export", "json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    path = tmp_path / "jrnl.json"
    path.write_text(out)
    return path


def test_forget_removes_the_text_from_every_file(cli, home: Path) -> None:
    fill(cli)
    cli("reflect", f"second copy {MARKER}")
    hits = json.loads(cli("search", MARKER, "--json").stdout)
    assert len(hits) == 2
    for hit in hits:
        cli("forget", str(hit["id"]))
    assert json.loads(cli("search", MARKER, "--json").stdout) == []
    for path in all_files(home):
        assert MARKER.encode() not in path.read_bytes(), path
    assert "a walk by the river" not in cli("export").stdout


def test_forget_all_leaves_no_trace_but_lists_backups(cli, home: Path) -> None:
    fill(cli)
    backup = json.loads(cli("backup", "--json").stdout)["path"]
    result = json.loads(cli("forget", "--all", "--yes", "--json").stdout)
    assert result["backups"] == [backup]
    Path(backup).unlink()
    for path in all_files(home):
        data = path.read_bytes()
        for secret in (MARKER, "loud meeting", "five things I can see", "caught it"):
            assert secret.encode() not in data, (path, secret)


def test_backup_is_verified_private_and_complete(cli, home: Path) -> None:
    fill(cli)
    dest = home / "elsewhere"
    dest.mkdir()
    path = Path(json.loads(cli("backup", str(dest), "--json").stdout)["path"])
    assert path.parent == dest and stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 3
    conn.close()


def test_everything_is_private_with_umask_022(cli, home: Path) -> None:
    from companion.store import EntryDraft, Store

    old = os.umask(0o022)
    try:
        fill(cli)
        cli("backup")
        cli("brief", "--format", "html")  # companion makes its exports folder
        cli("export", "-o", str(home / "exports" / "all.json"))
        held = Store.open(home / "companion.db")  # keeps -wal and -shm on disk
        held.add_entry(EntryDraft("reflection", "while the files are open"))
    finally:
        os.umask(old)
    for root, dirs, files in os.walk(home):
        for d in dirs:
            assert stat.S_IMODE((Path(root) / d).stat().st_mode) == 0o700, d
        for f in files:
            assert stat.S_IMODE((Path(root) / f).stat().st_mode) == 0o600, f
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    names = {p.name for p in all_files(home)}
    assert {"companion.db", "companion.db-wal", "companion.db-shm"} <= names
    held.close()


def test_search_lists_everything_unless_limited(cli) -> None:
    for i in range(30):
        cli("reflect", f"evening walk number {i}")
    assert len(json.loads(cli("search", "walk", "--json").stdout)) == 30
    assert len(json.loads(cli("search", "walk", "--limit", "5", "--json").stdout)) == 5
    assert "Nothing found" in cli("search", "nonexistentword").stdout


def test_forget_all_also_removes_entries_waiting_to_be_saved(cli, home: Path) -> None:
    from datetime import datetime

    from companion.journal import set_aside
    from companion.paths import resolve_paths
    from companion.store import EntryDraft

    cli("reflect", "already saved")
    kept = set_aside(
        resolve_paths(),
        EntryDraft("reflection", f"waiting {MARKER}"),
        answer=False,
        now=datetime.now().astimezone(),
    )
    assert kept is not None and kept.exists()
    cli("forget", "--all", "--yes")
    assert not kept.exists()
    for path in all_files(home):
        assert MARKER.encode() not in path.read_bytes(), path


def test_export_and_brief_to_a_dash_write_to_standard_output(
    cli, home: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli("reflect", "a walk by the river")
    out = cli("export", "-o", "-")
    assert json.loads(out.stdout)["tables"]["entries"][0]["text"] == "a walk by the river"
    assert "a walk by the river" in cli("export", "--format", "md", "-o", "-").stdout
    assert cli("brief", "--since", "7d", "--format", "json", "-o", "-").stdout.startswith("{")
    assert not (tmp_path / "-").exists()


def test_markdown_export_keeps_helped_steady_and_bring(cli, home: Path) -> None:
    cli("skill", "walk", "--helped", "7")
    cli("moment", "--intensity", "6", "--steady-after", "1h5m")
    cli("reflect", "--bring", "ask about evenings")
    cli("pattern", "add", "mind reading")
    cli("pattern", "noticed", "mind reading", "--responded")
    text = cli("export", "--format", "md").stdout
    assert "skill: walk (helped 7/10)" in text
    assert "tough moment (6/10) (steady again after 1 hour 5 minutes)" in text
    assert "reflection (to bring to the next session)" in text
    assert "caught: mind reading (responded)" in text
    exported = home / "e.json"
    cli("export", "-o", str(exported))
    cli("forget", "--all", "--yes")
    assert "Imported 5 records." in cli("import", str(exported)).stdout


# ---------------------------------------------------------------- tags
def test_search_by_tag_and_tags_in_every_export(cli, home: Path) -> None:
    cli("reflect", "Sunday lunch #family", "--tag", "weekend")
    cli("win", "Asked for help", "--tag", "work")
    cli("skill", "grounding", "--tag", "work")
    cli("reflect", "nothing tagged here")
    hits = json.loads(cli("search", "--tag", "work", "--json").stdout)
    assert sorted(h["record"] for h in hits) == ["entry", "skill"]
    assert [
        h["text"] for h in json.loads(cli("search", "lunch", "--tag", "#Family", "--json").stdout)
    ] == ["Sunday lunch #family"]
    assert json.loads(cli("search", "lunch", "--tag", "work", "--json").stdout) == []
    assert "#weekend" in cli("search", "lunch").stdout
    assert cli("search", ok=False).exit_code == 2
    tables = json.loads(cli("export").stdout)["tables"]
    assert tables["entries"][0]["tags"] == '["weekend", "family"]'
    assert tables["skill_uses"][0]["tags"] == '["work"]'
    rows = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    assert sorted(r["tags"] for r in rows) == ["", "#weekend #family", "#work", "#work"]
    assert "#weekend #family" in cli("export", "--format", "md").stdout


# ---------------------------------------------------------------- edit
OLD_WORDS = "walrus-umbrella-5521"


def _entry(home: Path, entry_id: int) -> dict:
    from companion.store import Store

    with Store.open(home / "companion.db") as s:
        return s.get("entry", entry_id)


def test_edit_keeps_the_time_and_leaves_no_byte_of_the_old_words(cli, home: Path) -> None:
    fill(cli)
    added = json.loads(cli("reflect", f"I felt {OLD_WORDS} today #draft", "--json").stdout)
    cli("backup")  # made before the edit: it still holds the old words, and says so below
    for backup in (home / "backups").glob("*.db"):
        backup.unlink()
    out = cli("edit", str(added["id"]), "--text", "I felt heron-steady today #better")
    assert "old words are gone" in out.stdout
    edited = _entry(home, added["id"])
    assert edited["text"] == "I felt heron-steady today #better"
    assert edited["created_at"] == added["created_at"] and edited["tags"] == ["better"]
    assert json.loads(cli("search", OLD_WORDS, "--json").stdout) == []
    assert [h["id"] for h in json.loads(cli("search", "heron-steady", "--json").stdout)] == [
        added["id"]
    ]
    for path in all_files(home):
        assert OLD_WORDS.encode() not in path.read_bytes(), path


def test_edit_in_the_editor_through_a_private_file_that_is_removed(
    cli, home: Path, tmp_path: Path, monkeypatch
) -> None:
    added = json.loads(cli("reflect", f"a typo {OLD_WORDS}", "--json").stdout)
    seen = tmp_path / "seen.txt"  # outside the data folder, like the editor itself
    editor = tmp_path / "editor.sh"
    editor.write_text(
        f'#!/bin/sh\nstat -c %a "$1" > {seen}\ndirname "$1" >> {seen}\n'
        f"sed -i 's/{OLD_WORDS}/fixed/' \"$1\"\n"
    )
    editor.chmod(0o700)
    (home / "tmp").mkdir(mode=0o700)
    (home / "tmp" / "entry-leftover.txt").write_text(f"left by a kill {OLD_WORDS}")
    monkeypatch.setenv("VISUAL", str(editor))
    cli("edit", str(added["id"]))
    mode, folder = seen.read_text().split()
    assert mode == "600" and Path(folder) == home / "tmp"
    assert _entry(home, added["id"])["text"] == "a typo fixed"
    assert list((home / "tmp").iterdir()) == []
    for path in all_files(home):
        assert OLD_WORDS.encode() not in path.read_bytes(), path


def test_edit_changes_nothing_when_the_editor_fails_or_nothing_changed(
    cli, home: Path, monkeypatch
) -> None:
    added = json.loads(cli("reflect", "as it was", "--json").stdout)
    monkeypatch.setenv("VISUAL", "false")
    failed = cli("edit", str(added["id"]), ok=False)
    assert failed.exit_code == 1 and failed.stderr.startswith("error: the editor ended")
    monkeypatch.setenv("VISUAL", "true")
    assert "Nothing changed" in cli("edit", str(added["id"])).stdout
    assert _entry(home, added["id"])["text"] == "as it was"
    assert list((home / "tmp").iterdir()) == []
    monkeypatch.delenv("VISUAL")
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PATH", str(home))
    missing = cli("edit", str(added["id"]), ok=False)
    assert missing.exit_code == 3 and "--text" in missing.stderr
    assert cli("edit", "moment:1", "--text", "x", ok=False).exit_code == 2
    assert cli("edit", "99", "--text", "x", ok=False).exit_code == 1
    assert cli("edit", str(added["id"]), "--text", " ", ok=False).exit_code == 1
    assert _entry(home, added["id"])["text"] == "as it was"


def test_editing_a_spoken_entry_drops_the_old_transcript(cli, home: Path) -> None:
    from companion.store import EntryDraft, Store

    with Store.open(home / "companion.db") as s:
        entry = s.add_entry(
            EntryDraft(
                "reflection",
                f"Heard {OLD_WORDS}.",
                source="voice",
                raw_text=f"heard {OLD_WORDS}",
                words=[{"word": OLD_WORDS, "conf": 0.4}],
            )
        )
    cli("edit", str(entry["id"]), "--text", "Heard the rain.")
    edited = _entry(home, entry["id"])
    assert (edited["raw_text"], edited["words"], edited["source"]) == (None, None, "voice")
    for path in all_files(home):
        assert OLD_WORDS.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------- issue 15: trust in the data
def _export_with(home: Path, **row: object) -> Path:
    """An export file holding one entry, with `row` changing its fields."""
    entry = {
        "id": 67,
        "kind": "reflection",
        "text": f"imported {MARKER}",
        "source": "typed",
        "tags": "[]",
        "bring": 0,
        "created_at": "2026-03-01T10:00:00+01:00",
        "created_utc": "2026-03-01T09:00:00Z",
        **row,
    }
    path = home.parent / "crafted.json"
    path.write_text(
        json.dumps({"format": "companion-export", "version": 1, "tables": {"entries": [entry]}})
    )
    return path


_insert_raw = insert_raw


def test_an_import_naming_the_database_as_a_recording_is_refused(cli, home: Path) -> None:
    cli("reflect", "already here")
    for where in (str(home / "companion.db"), "../companion.db", "/etc/hostname"):
        result = cli("import", str(_export_with(home, audio_path=where)), ok=False)
        assert result.exit_code == 1
        assert "entries record 1 (id 67)" in result.stderr and "audio_path" in result.stderr
        assert "Nothing was imported" in result.stderr and MARKER not in result.stderr
    assert len(json.loads(cli("export").stdout)["tables"]["entries"]) == 1


def test_forget_deletes_only_files_inside_the_audio_folder(cli, home: Path) -> None:
    cli("reflect", "first")
    backup = Path(json.loads(cli("backup", "--json").stdout)["path"])
    outside = home.parent / "outside.wav"
    outside.write_bytes(b"RIFF keep me")
    (home / "audio").mkdir(mode=0o700)
    (home / "audio" / "escape.wav").symlink_to(outside)
    kept = home / "audio" / "mine.wav"
    kept.write_bytes(b"RIFF mine")
    for n, name in enumerate(
        (
            str(home / "companion.db"),
            str(backup),
            "../companion.db",
            str(home / "audio" / "escape.wav"),
            str(kept),
        ),
        start=10,
    ):
        _insert_raw(
            home,
            "entries",
            {
                "id": n,
                "kind": "reflection",
                "text": "x",
                "source": "voice",
                "created_at": "2026-03-01T10:00:00+00:00",
                "created_utc": "2026-03-01T10:00:00Z",
                "audio_path": name,
            },
        )
    for n in (10, 11, 12, 13):
        cli("forget", str(n))
    assert (home / "companion.db").exists() and backup.exists() and outside.exists()
    assert cli("search", "first").stdout.strip() != "Nothing found."
    cli("forget", "--all", "--yes")
    assert not kept.exists() and outside.read_bytes() == b"RIFF keep me" and backup.exists()


def test_a_row_with_broken_json_or_dates_can_be_listed_exported_searched_forgotten(
    cli, home: Path
) -> None:
    cli("reflect", "a healthy entry")
    broken = {"kind": "reflection", "text": f"odd row {MARKER}", "source": "typed"}
    _insert_raw(
        home,
        "entries",
        {
            "id": 61,
            **broken,
            "tags": "not json",
            "words": "[{",
            "created_at": "garbage",
            "created_utc": "garbage",
        },
    )
    _insert_raw(
        home,
        "entries",
        {
            "id": 62,
            **broken,
            "tags": "[" * 5000,
            "created_at": "2026-13-45T99:00:00",
            "created_utc": "",
        },
    )
    _insert_raw(
        home,
        "entries",
        {
            "id": 63,
            **broken,
            "text": f"{MARKER} \xff".encode("latin-1"),
            "mood": "high",
            "tags": b"\x00",
            "created_at": 5,
            "created_utc": "2026-03-01T10:00:00Z",
        },
    )
    hits = json.loads(cli("search", MARKER, "--json").stdout)
    assert sorted(h["id"] for h in hits) == [61, 62, 63]
    assert {h["id"]: h["tags"] for h in hits}[61] == "not json"
    for fmt in ("json", "csv", "md"):
        assert MARKER in cli("export", "--format", fmt).stdout
    cli("forget", "63")
    cli("run", "--once", "--dry-run")
    cli("forget", "61")
    assert [h["id"] for h in json.loads(cli("search", MARKER, "--json").stdout)] == [62]
    cli("forget", "--all", "--yes")
    assert json.loads(cli("export").stdout)["tables"]["entries"] == []


def test_forgetting_a_moment_forgets_the_skill_it_named(cli, home: Path) -> None:
    cli("moment", "--intensity", "6", "--skill", f"walk {MARKER}")
    cli("moment", "--intensity", "4", "--skill", f"cold water {MARKER}")
    cli("forget", "moment:1")
    uses = json.loads(cli("export").stdout)["tables"]["skill_uses"]
    assert [u["moment_id"] for u in uses] == [2]
    cli("forget", f"skill:{uses[0]['id']}")
    tables = json.loads(cli("export").stdout)["tables"]
    assert tables["skill_uses"] == [] and tables["moments"][0]["skill"] is None
    assert json.loads(cli("search", MARKER, "--json").stdout) == []
    for path in all_files(home):
        assert MARKER.encode() not in path.read_bytes(), path


def test_forget_lists_copies_in_the_exports_folder(cli, home: Path) -> None:
    cli("reflect", f"copied {MARKER}")
    copy = home / "exports" / "mine.json"
    copy.parent.mkdir(mode=0o700)  # `export -o` writes only into a folder that exists
    cli("export", "-o", str(copy))
    report = json.loads(cli("forget", "1", "--json").stdout)
    assert report["copies"] == [str(copy)]
    again = json.loads(cli("reflect", "again", "--json").stdout)["id"]
    assert str(copy) in cli("forget", str(again)).stdout


def test_words_waiting_to_be_saved_are_listed_and_can_be_forgotten(cli, home: Path) -> None:
    from datetime import datetime

    from companion.journal import set_aside
    from companion.paths import resolve_paths
    from companion.store import EntryDraft

    cli("reflect", "saved")
    kept = set_aside(
        resolve_paths(),
        EntryDraft("reflection", f"waiting {MARKER}"),
        answer=False,
        now=datetime.now().astimezone(),
    )
    assert kept is not None
    report = json.loads(cli("forget", "1", "--json").stdout)
    assert report["pending"] == [f"pending:{kept.stem}"]
    assert cli("forget", "pending:../../companion", ok=False).exit_code == 1
    report = json.loads(cli("forget", f"pending:{kept.stem}", "--json").stdout)
    assert report["pending"] == [] and not kept.exists()
    for path in all_files(home):
        assert MARKER.encode() not in path.read_bytes(), path
    assert cli("forget", f"pending:{kept.stem}", ok=False).exit_code == 1


@pytest.mark.parametrize(
    "row, field",
    [
        ({"tags": "not json"}, "tags"),
        ({"words": "[{"}, "words"),
        ({"created_at": "garbage"}, "created_at"),
        ({"id": 2**70}, "id"),
        ({"mood": 2**70}, "mood"),
        ({"mood": 0}, "mood"),
        ({"text": None}, "text"),
        ({"kind": "diary"}, "kind"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_import_names_the_record_and_field_and_imports_nothing(
    cli, home: Path, row: dict[str, object], field: str
) -> None:
    cli("reflect", "already here")
    result = cli("import", str(_export_with(home, **row)), ok=False)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "entries record 1" in result.stderr and field in result.stderr, result.stderr
    assert MARKER not in result.stderr
    assert len(json.loads(cli("export").stdout)["tables"]["entries"]) == 1


def test_import_reads_a_file_that_starts_with_a_byte_order_mark(cli, home: Path) -> None:
    path = _export_with(home)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    cli("import", str(path))
    assert MARKER in cli("export").stdout


def test_an_export_version_written_as_text_is_not_called_newer(cli, home: Path) -> None:
    path = home.parent / "v.json"
    path.write_text('{"format": "companion-export", "version": "1", "tables": {}}')
    result = cli("import", str(path), ok=False)
    assert result.exit_code == 1 and "newer" not in result.stderr
    assert "version" in result.stderr


def test_a_pattern_already_here_under_another_id_is_the_same_pattern(cli, home: Path) -> None:
    cli("pattern", "add", "mind reading")
    cli("pattern", "noticed", "mind reading")
    exported = home.parent / "patterns.json"
    cli("export", "-o", str(exported))
    cli("forget", "--all", "--yes")
    cli("pattern", "add", "catastrophising")
    cli("pattern", "add", "Mind Reading")
    cli("import", str(exported))
    rows = {r["name"]: r["noticed"] for r in json.loads(cli("pattern", "list", "--json").stdout)}
    assert rows == {"catastrophising": 0, "Mind Reading": 1}


def test_pattern_errors_never_repeat_the_name(cli) -> None:
    cli("pattern", "add", f"pleasing {MARKER}")
    for args in (
        ["pattern", "add", f"pleasing {MARKER}"],
        ["pattern", "noticed", f"never named {MARKER}"],
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == 1 and result.stderr.startswith("error: ")
        assert MARKER not in result.stderr and "pleasing" not in result.stderr


def test_session_rows_that_cannot_be_expanded_leave_every_command_working(cli, home: Path) -> None:
    cli("session", "add", "tomorrow 10:00", "--every", "week")
    for n, odd in enumerate(
        (
            {"every_days": 99999999999},
            {"rrule": "FREQ=SECONDLY"},
            {"rrule": "FREQ=NEVER"},
            {"starts_at": "garbage"},
            {"exdates": "[{"},
        ),
        start=10,
    ):
        _insert_raw(
            home,
            "sessions",
            {
                "id": n,
                "uid": f"odd-{n}",
                "source": "typed",
                "starts_at": "2026-01-05T10:00:00+00:00",
                "starts_utc": "2026-01-05T10:00:00Z",
                **odd,
            },
        )
    for args in (["session", "list"], ["brief"], ["week"], ["stats"], ["run", "--once"]):
        cli(*args)
    listed = {
        o["session_id"]
        for o in json.loads(cli("session", "list", "--json", "--past-days", "3660").stdout)
    }
    assert {1, 10, 11, 12, 14} <= listed  # the unreadable start alone cannot be placed
    cli("session", "remove", "13")


def test_doctor_exits_0_when_only_parts_of_the_computer_are_missing(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[voice]\nmodel = "no-such-model"\n')
    result = cli("doctor", "--json")
    rows = {r["name"]: r["status"] for r in json.loads(result.stdout)}
    assert rows["speech model"] == "missing" and rows["database"] == "ok"
    assert "missing" in cli("doctor").stdout
    assert cli("doctor", "--strict", ok=False).exit_code == 3


def test_doctor_exits_1_when_companion_itself_cannot_work(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[speech]\nrate = 9000\n")
    result = cli("doctor", "--json", ok=False)
    assert result.exit_code == 1
    assert {r["name"]: r["status"] for r in json.loads(result.stdout)}["config"] == "problem"
