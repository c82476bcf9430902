"""Security commands: encrypt the database at rest, and take a plain copy out."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

from pathlib import Path

import click

from ..app import App
from ..errors import InputError
from ..paths import check_output, ensure_dir
from .common import emit, json_option, pass_app


def _echo(text: str) -> None:
    click.echo(text, err=True)


@click.command()
@json_option
@pass_app
def encrypt(app: App, as_json: bool) -> None:
    """Encrypt the database with a passphrase.

    The database is encrypted with SQLCipher where it lies, safely: a copy is made,
    checked and then swapped in, so an interruption loses nothing. Without the
    passphrase nothing in it can be read, by anyone: keep it somewhere safe.
    With `[security] use_keyring = true` the system keyring keeps it, so the daemon can
    open the database without asking.
    """
    from ..crypto import (
        Keyring,
        convert_in_place,
        is_damaged,
        is_encrypted,
        is_new,
        new_passphrase,
    )
    from ..errors import StoreError
    from ..privacy import list_backups
    from ..store import Store, damaged_message

    path, security = app.paths.db_file, app.settings.security
    if is_damaged(path):
        raise StoreError(damaged_message(path))
    if is_encrypted(path):
        emit(
            {"path": str(path), "encrypted": True, "changed": False},
            as_json,
            lambda: click.echo(f"{path} is already encrypted. Nothing was changed."),
        )
        return
    key = new_passphrase(path, ask=app.ask_passphrase, notice=_echo)
    if is_new(path):
        Store.open(path, key=key).close()
    else:
        convert_in_place(path, old_key=None, new_key=key)
    kept = security.use_keyring and Keyring(path, _echo).put(key)
    old_backups = list_backups(app.paths)
    emit(
        {
            "path": str(path),
            "encrypted": True,
            "changed": True,
            "keyring": bool(kept),
            "plain_backups": old_backups,
        },
        as_json,
        lambda: _tell_encrypted(path, bool(kept), old_backups),
    )


def _tell_encrypted(path: Path, kept: bool, old_backups: list[str]) -> None:
    click.echo(
        f"Encrypted {path}. Keep your passphrase safe: without it the database "
        "cannot be opened, not even by companion."
    )
    if kept:
        click.echo("The system keyring keeps the passphrase, so the daemon can open it.")
    else:
        click.echo(
            "The daemon cannot type a passphrase: to let it open the database, set "
            "[security] use_keyring = true and run any command once in a terminal."
        )
    if old_backups:
        click.echo(
            "These backups were made before and are not encrypted; remove them when "
            "you no longer need them:"
        )
        for name in old_backups:
            click.echo(f"  {name}")


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the plain copy (default: the exports folder).",
)
@click.option(
    "--in-place", is_flag=True, help="Turn encryption off: the database itself becomes plain again."
)
@json_option
@pass_app
def decrypt(app: App, output: Path | None, in_place: bool, as_json: bool) -> None:
    """Take a plain copy out, or turn encryption off.

    Writes an unencrypted copy of the database (private to you) to FILE or the exports
    folder; with --in-place, the database itself becomes plain again.
    """
    from ..crypto import is_encrypted

    path = app.paths.db_file
    if in_place and output is not None:
        raise click.UsageError("choose either --in-place or -o FILE, not both.")
    if in_place and not is_encrypted(path):
        emit(
            {"path": str(path), "encrypted": False, "changed": False},
            as_json,
            lambda: click.echo(f"{path} is not encrypted. Nothing was changed."),
        )
        return
    if not is_encrypted(path):
        raise InputError(
            f"{path} is not encrypted, so there is nothing to decrypt "
            "(`companion backup FILE` makes a copy)."
        )
    if in_place:
        _decrypt_in_place(app, as_json)
        return
    dest = _plain_destination(app, output)
    from ..crypto import export_plain

    export_plain(app.store, dest)
    emit(
        {"path": str(dest), "encrypted": False},
        as_json,
        lambda: click.echo(
            f"Wrote a plain copy to {dest}. It is not encrypted: anyone who "
            "can read that file can read everything in it. Delete it when "
            "you are done."
        ),
    )


def _plain_destination(app: App, output: Path | None) -> Path:
    if output is None:
        now = app.clock.now()
        return ensure_dir(app.paths.exports_dir) / f"companion-plain-{now:%Y%m%d-%H%M%S}.db"
    if output.exists() or output.is_symlink():
        raise InputError(f"{output} already exists; choose a new file name.")
    return check_output(output, app.paths)


def _decrypt_in_place(app: App, as_json: bool) -> None:
    from ..crypto import Keyring, convert_in_place, proven_key, unlock

    path, security = app.paths.db_file, app.settings.security
    key = unlock(
        path, security, lambda k: proven_key(path, k), ask=app.ask_passphrase, notice=_echo
    )
    convert_in_place(path, old_key=key, new_key=None)
    if security.use_keyring:
        Keyring(path, _echo).delete()
    note = (
        " [security] encrypt is still true in the config file; set it to false, or "
        "new data stays plain until you run `companion encrypt` again."
        if security.encrypt
        else ""
    )
    emit(
        {"path": str(path), "encrypted": False, "changed": True},
        as_json,
        lambda: click.echo(f"{path} is no longer encrypted.{note}"),
    )


def register(group: click.Group) -> None:
    for command in (encrypt, decrypt):
        group.add_command(command)
