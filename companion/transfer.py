"""All data out (JSON, CSV, Markdown) and back in (our JSON, or jrnl's JSON export)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import __version__
from .dates import localize
from .errors import InputError
from .paths import read_given
from .records import Row, Tables
from .safety import count_crisis
from .schema import check_export
from .store import EntryDraft, Store, stamp
from .wording import duration

FORMAT_NAME = "companion-export"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 512 * 1024 * 1024
# What the person wrote themselves, in each table: the words an import checks for crisis
# language (prompts and names are not theirs).
WRITTEN_COLUMNS = {
    "entries": ("text",),
    "skill_uses": ("note",),
    "moments": ("note",),
    "pattern_notices": ("note",),
    "phrases": ("text",),
}


@dataclass
class Imported:
    """What an import added: counts per table, and how many of the records added use
    crisis language (checked once, for one summary, never a notification per entry)."""

    counts: dict[str, int]
    crisis_entries: int = 0
    written: list[str] = field(default_factory=list, repr=False)


def export_json(store: Store, *, now: datetime) -> str:
    data = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "companion": __version__,
        "exported_at": stamp(now)[0],
        "tables": store.dump(),
    }
    return json.dumps(data, ensure_ascii=False, indent=1, default=_as_text)


def _as_text(value: object) -> str:
    """Bytes another program stored where text belongs, as text (odd bytes escaped)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    raise TypeError(f"{type(value).__name__} cannot be exported")


CSV_COLUMNS = (
    "record",
    "id",
    "created_at",
    "kind",
    "area",
    "mood",
    "intensity",
    "steady_minutes",
    "skill",
    "helped",
    "pattern",
    "responded",
    "bring",
    "source",
    "prompt",
    "tags",
    "text",
)


def _csv_rows(store: Store) -> list[Row]:
    patterns = {p["id"]: p["name"] for p in store.rows("patterns")}
    rows: list[Row] = []
    rows += [{"record": "entry", **e} for e in store.entries()]
    rows += [{"record": "skill", **s, "text": s.get("note")} for s in store.rows("skill_uses")]
    rows += [{"record": "moment", **m, "text": m.get("note")} for m in store.rows("moments")]
    rows += [
        {"record": "notice", **n, "pattern": patterns.get(n["pattern_id"]), "text": n.get("note")}
        for n in store.rows("pattern_notices")
    ]
    for row in rows:
        row["tags"] = " ".join(f"#{t}" for t in row.get("tags") or [])
    rows.sort(key=lambda r: (r.get("created_utc") or "", r["record"], r["id"]))
    return rows


def export_csv(store: Store) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(_csv_rows(store))
    return out.getvalue()


def export_markdown(store: Store) -> str:
    lines = ["# My companion journal", ""]
    day = ""
    for row in _csv_rows(store):
        if row["created_at"][:10] != day:
            day = row["created_at"][:10]
            lines += [f"## {day}", ""]
        lines += [_md_heading(row), "", str(row.get("text") or "").strip() or "_(no note)_", ""]
    if len(lines) == 2:
        lines.append("Nothing saved yet.")
    return "\n".join(lines).rstrip() + "\n"


def _md_heading(row: Row) -> str:
    time = row["created_at"][11:16]
    label = {
        "entry": str(row.get("kind") or "entry"),
        "skill": f"skill: {row.get('skill')}",
        "moment": f"tough moment ({row.get('intensity')}/10)",
        "notice": f"caught: {row.get('pattern')}",
    }[row["record"]]
    extras = []
    if row.get("area"):
        extras.append(f"area: {row['area']}")
    if row.get("mood"):
        extras.append(f"mood {row['mood']}/5")
    if row.get("helped") is not None:
        extras.append(f"helped {row['helped']:g}/10")
    if row["record"] == "moment" and row.get("steady_minutes") is not None:
        extras.append(f"steady again after {duration(row['steady_minutes'])}")
    if row["record"] == "notice" and row.get("responded"):
        extras.append("responded")
    if row.get("bring"):
        extras.append("to bring to the next session")
    if row.get("tags"):
        extras.append(row["tags"])
    return f"### {time} · {label}" + (f" ({', '.join(extras)})" if extras else "")


def export_text(store: Store, fmt: str, *, now: datetime) -> str:
    if fmt == "json":
        return export_json(store, now=now)
    if fmt == "csv":
        return export_csv(store)
    return export_markdown(store)


# ---------------------------------------------------------------- import
def read_import(path: Path) -> object:
    """The JSON in `path` (a byte order mark is allowed); InputError for anything else."""
    data = read_given(path, limit=MAX_IMPORT_BYTES)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise InputError(
            f"{path} is nested too deeply to be an export. Nothing was imported."
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path} is not a JSON export (companion's or jrnl's): {exc}. Nothing was imported."
        ) from exc
    except ValueError:  # a number of thousands of digits
        raise InputError(
            f"{path} holds a number too long to be anything companion keeps. Nothing was imported."
        ) from None


def import_file(
    store: Store, path: Path, *, now: datetime, audio_dir: Path, extra_phrases: Iterable[str] = ()
) -> Imported:
    """Import everything in one transaction: all of it, or (on any problem) nothing.

    Recordings named by a companion export must lie in `audio_dir` (forget deletes them).
    The words of every record added are then checked for crisis language, once.
    """
    data = read_import(path)
    result = Imported(counts={})
    if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
        result.counts = store.load(
            _check_ours(store, data, path, audio_dir=audio_dir),
            on_added=lambda table, row: _keep_written(result, table, row),
        )
    elif isinstance(data, dict) and isinstance(data.get("entries"), list):
        added = _import_jrnl(store, data["entries"], path, now=now)
        result.counts = {"entries": len(added)}
        result.written = [draft.text for draft in added]
    else:
        raise InputError(
            f"{path} is neither a companion export nor a jrnl JSON export. Nothing was imported."
        )
    result.crisis_entries = count_crisis(result.written, extra_phrases=extra_phrases)
    return result


def _keep_written(result: Imported, table: str, row: Row) -> None:
    words = [row.get(c) for c in WRITTEN_COLUMNS.get(table, ())]
    text = "\n".join(w for w in words if isinstance(w, str) and w)
    if text:
        result.written.append(text)


def _check_ours(store: Store, data: Row, path: Path, *, audio_dir: Path) -> Tables:
    """A companion export's version, then every table and row (companion.schema)."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(
            f'{path} has no export version companion knows ("version" should '
            f"be a whole number such as {FORMAT_VERSION}). Nothing was imported."
        )
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path} comes from a newer companion (export version "
            f"{version}); update companion to import it."
        )
    return check_export(store, data.get("tables"), path, audio_dir=audio_dir)


def _jrnl_draft(item: object, index: int, path: Path, now: datetime) -> EntryDraft:
    try:
        if not isinstance(item, dict):
            raise TypeError("not an object")
        text = "\n\n".join(
            p
            for p in (str(item.get("title") or "").strip(), str(item.get("body") or "").strip())
            if p
        )
        tags = [str(t).lstrip("@") for t in item.get("tags") or []]
        if item.get("starred"):
            tags.append("starred")
        when = localize(
            datetime.fromisoformat(f"{item['date']} {item.get('time') or '00:00'}"), now
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{path}: jrnl entry {index + 1} has no usable date ({exc}). Nothing was imported."
        ) from exc
    if not text:
        raise InputError(f"{path}: jrnl entry {index + 1} is empty. Nothing was imported.")
    return EntryDraft("reflection", text, source="import", tags=tuple(tags), when=when)


def _import_jrnl(
    store: Store, items: list[object], path: Path, *, now: datetime
) -> list[EntryDraft]:
    """Add the jrnl entries not already here; the drafts that were added."""
    drafts = [_jrnl_draft(item, i, path, now) for i, item in enumerate(items)]
    have = {(e["created_utc"], e["text"]) for e in store.entries()}
    added = []
    with store.writing():
        for draft in drafts:
            if (stamp(draft.when or now)[1], draft.text) not in have:
                store.add_entry(draft)
                added.append(draft)
    return added
