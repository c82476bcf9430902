"""Changing the words of an entry: typed with --text, or in the person's own editor.

The editor works on a private file (0600) in the data folder's own tmp folder, never in
/tmp. After the editor closes, every file in that folder (the editor's swap and backup
files too) is overwritten and removed; files a kill left behind are removed the same way
the next time something is edited (or everything is forgotten). The entry keeps its time;
the search index follows, and the old words are scrubbed from every database file.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Mapping

from .errors import InputError, MissingPartError
from .paths import Paths, ensure_dir, wipe_file, write_private_text
from .records import Row
from .store import Store
from .tags import merge_tags, tags_in

FALLBACK_EDITORS = ("sensible-editor", "editor", "nano", "vi")


def editor_command(env: Mapping[str, str] | None = None) -> list[str]:
    """$VISUAL, else $EDITOR, else the first of FALLBACK_EDITORS on PATH."""
    env = os.environ if env is None else env
    for name in ("VISUAL", "EDITOR"):
        if env.get(name, "").strip():
            return shlex.split(env[name])
    for editor in FALLBACK_EDITORS:
        found = shutil.which(editor, path=env.get("PATH"))
        if found:
            return [found]
    raise MissingPartError(
        "no text editor was found. Set $EDITOR (for example "
        "EDITOR=nano), or give the new words with --text."
    )


def clear_leftovers(paths: Paths) -> int:
    """Overwrite and remove every scratch file in the tmp folder; how many there were."""
    folder = paths.tmp_dir
    if not folder.is_dir():
        return 0
    found = [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]
    for path in found:
        wipe_file(path)
    return len(found)


def edit_in_editor(paths: Paths, text: str, *, env: Mapping[str, str] | None = None) -> str:
    """The text after the person changed it in their editor (InputError if the editor
    failed: nothing is changed then)."""
    command = editor_command(env)
    clear_leftovers(paths)
    path = ensure_dir(paths.tmp_dir) / f"entry-{secrets.token_hex(6)}.txt"
    try:
        write_private_text(path, text + "\n")
        try:
            done = subprocess.run([*command, str(path)], env=None if env is None else dict(env))
        except OSError as exc:
            raise MissingPartError(
                f"the editor {command[0]!r} could not start "
                f"({exc.strerror}). Set $EDITOR, or use --text."
            ) from exc
        if done.returncode != 0:
            raise InputError(
                f"the editor ended with an error (status {done.returncode}); nothing was changed."
            )
        return path.read_text(encoding="utf-8", errors="replace").rstrip("\r\n")
    finally:
        clear_leftovers(paths)


def retag(old: list[str], old_text: str, new_text: str, added: tuple[str, ...] = ()) -> list[str]:
    """Tags after an edit: those given on their own stay, #tags follow the new words."""
    written = set(tags_in(old_text))
    return merge_tags([t for t in old if t not in written], tags_in(new_text), added)


def edit_entry(store: Store, entry_id: int, text: str, *, tags: tuple[str, ...] = ()) -> Row | None:
    """Give entry `entry_id` new words (None when they are the same as before)."""
    entry = store.get("entry", entry_id)
    if text.strip() == str(entry["text"]).strip() and not set(tags) - set(entry["tags"]):
        return None
    return store.edit_entry(entry_id, text, tags=retag(entry["tags"], entry["text"], text, tags))
