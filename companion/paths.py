"""Where things live: COMPANION_HOME, or the platform's user folders. Private by default."""

# Lazy imports: platformdirs (~7 ms), only where COMPANION_HOME is not set, so --help stays fast.

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Mapping
from io import BufferedWriter, TextIOWrapper
from pathlib import Path
from typing import Literal, NamedTuple, overload

from .errors import InputError, StoreError

APP = "companion"
DIR_MODE = 0o700
FILE_MODE = 0o600


class Paths(NamedTuple):
    """Every folder and file the product uses."""

    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "companion.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def tmp_dir(self) -> Path:
        """Private scratch files (the text being edited): emptied after use and at start."""
        return self.data_dir / "tmp"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "companion.log"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "daemon.lock"


def resolve_paths(env: Mapping[str, str] | None = None) -> Paths:
    """COMPANION_HOME puts everything in one folder; otherwise platformdirs decides.

    The roots are resolved: a link there is the person's own choice of place. Inside
    them companion keeps its own layout and never follows a link (see ensure_dir).
    """
    env = os.environ if env is None else env
    home = env.get("COMPANION_HOME", "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(config_dir=root, data_dir=root, state_dir=root)
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP)).resolve(),
        data_dir=Path(platformdirs.user_data_dir(APP)).resolve(),
        state_dir=Path(platformdirs.user_state_dir(APP)).resolve(),
    )


def inside(folder: Path, name: str) -> Path | None:
    """The file `name` (absolute, or relative to `folder`) once every link is followed, if
    it lies inside `folder`; None otherwise (a stored path may say anything)."""
    try:
        root = folder.resolve()
        path = (folder / name).resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
        return None
    return path if root in path.parents else None


# ---------------------------------------------------------------- companion's own files
# Everything companion writes or chmods in its folders goes through these: never through a
# symbolic link (a link there could point anywhere: companion would truncate, chmod or
# write someone else's file), never into a FIFO or a device (opening one can hang).
def _not_ours(path: Path, info: os.stat_result | None = None) -> StoreError:
    mode = info.st_mode if info is not None else 0
    if stat.S_ISLNK(mode) or info is None:
        return StoreError(
            f"{path} is a symbolic link. companion does not write through "
            "links, so nothing was changed; move the link away and try again."
        )
    return StoreError(
        f"{path} is not a regular file (it is {_kind(mode)}). Nothing was changed; "
        "move it away and try again."
    )


def _kind(mode: int) -> str:
    """What a path that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def _blocking_again(fd: int) -> None:
    """Clear the O_NONBLOCK an open took to keep a FIFO from hanging it."""
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)


class GivenFileError(InputError):
    """A file the person named cannot be read; `bare` says why without naming it."""

    def __init__(self, path: Path, bare: str) -> None:
        super().__init__(f"{path}: {bare}")
        self.bare = bare


def given_file(path: Path) -> int:
    """An open descriptor of a file the person named to be read (an export to import, a
    calendar, a recording), or InputError. Only a regular file: a FIFO or a device is
    refused, not waited on (O_NONBLOCK keeps the open itself from hanging)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise GivenFileError(path, "there is no such file") from None
    except OSError as exc:
        raise GivenFileError(path, f"cannot read it: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise GivenFileError(path, f"not a regular file (it is {_kind(info.st_mode)}); give a file")
    _blocking_again(fd)
    return fd


def read_given(path: Path, *, limit: int | None = None) -> bytes:
    """The bytes of a file the person named (see given_file); InputError past `limit`."""
    fd = given_file(path)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        if limit is not None and size > limit:
            raise GivenFileError(path, f"{size:,} bytes, more than companion reads ({limit:,})")
        try:
            return fh.read()
        except OSError as exc:
            raise GivenFileError(path, f"cannot read it: {exc.strerror}") from None


def own_file_exists(path: Path) -> bool:
    """Whether companion's file `path` is there; a link or a non-regular file is an error."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot use {path}: {exc.strerror}.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise _not_ours(path, info)
    return True


def ensure_dir(path: Path) -> Path:
    """Create companion's private folder (0700) with its missing parents; fix its mode.

    A link or a file where the folder should be is refused (nothing is changed there).
    """
    try:
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    except FileExistsError:
        pass  # something that is not a folder: said below
    except OSError as exc:
        raise StoreError(f"cannot create the folder {path}: {exc.strerror}") from exc
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise _not_ours(path) from exc
        if exc.errno == errno.ENOTDIR:
            raise StoreError(
                f"{path} is a file, where companion keeps a folder. Nothing "
                "was changed; move it away and try again."
            ) from exc
        raise StoreError(f"cannot use the folder {path}: {exc.strerror}") from exc
    try:
        _set_mode(fd, path, DIR_MODE)
    finally:
        os.close(fd)
    return path


def _set_mode(fd: int, path: Path, mode: int) -> None:
    if stat.S_IMODE(os.fstat(fd).st_mode) == mode:
        return  # nothing to change (and nothing to write on a read-only disk)
    try:
        os.fchmod(fd, mode)
    except OSError as exc:
        raise StoreError(f"cannot make {path} private: {exc.strerror}") from exc


def open_own(path: Path, flags: int) -> int:
    """os.open for companion's files: 0600, never through a link, only a regular file.

    O_NONBLOCK keeps a FIFO from hanging the open; it is cleared again for the file.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise _not_ours(path, _lstat(path)) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_ours(path, info)
        _set_mode(fd, path, FILE_MODE)
        _blocking_again(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def read_own_text(path: Path) -> str:
    """The text of companion's small file (OSError if missing; never waits on a FIFO)."""
    fd = open_own(path, os.O_RDONLY)
    with os.fdopen(fd, encoding="utf-8") as fh:
        return fh.read()


def make_private(path: Path) -> None:
    """Set companion's file to 0600 if it exists (never through a link).

    By name, not through a descriptor: closing any descriptor of the database file would
    drop the POSIX locks this process's SQLite connections hold on it.
    """
    if own_file_exists(path) and stat.S_IMODE(os.lstat(path).st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create an empty 0600 file if it does not exist (never widening an existing one).

    The folder must exist (companion's own folders come from ensure_dir).
    """
    os.close(open_own(path, os.O_WRONLY | os.O_CREAT))


@overload
def open_private(
    path: Path, mode: Literal["w", "a"] = "w", *, encoding: str | None = "utf-8"
) -> TextIOWrapper: ...
@overload
def open_private(
    path: Path, mode: Literal["wb"], *, encoding: str | None = "utf-8"
) -> BufferedWriter: ...
def open_private(
    path: Path, mode: str = "w", *, encoding: str | None = "utf-8"
) -> TextIOWrapper | BufferedWriter:
    """Open a file for writing that is 0600 from the first byte (its folder must exist)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = open_own(path, flags)
    if "b" in mode:
        return os.fdopen(fd, "wb")
    if "a" in mode:
        return os.fdopen(fd, "a", encoding=encoding)
    return os.fdopen(fd, "w", encoding=encoding, newline="")


def write_private_text(path: Path, text: str) -> None:
    """Write text atomically to a 0600 file (a kill leaves the old file or the new one).

    A link or a non-regular file at `path` is refused, not replaced; StoreError, naming the
    file, when it cannot be written (no such place, no room...).
    """
    own_file_exists(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open_private(tmp, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(
            f"cannot write {path}: {exc.strerror or exc}. Choose another file."
        ) from exc


def overwrite_with_zeros(fd: int) -> None:
    """Overwrite a whole open file with zeros and flush it to the disk."""
    size = os.fstat(fd).st_size
    zeros = bytes(1 << 20)
    for offset in range(0, size, len(zeros)):
        os.pwrite(fd, zeros[: size - offset], offset)
    os.fsync(fd)


def wipe_file(path: Path) -> None:
    """Remove a file that may hold private words: zeros first, then unlink (best effort on
    disks that overwrite in place). A link is removed, never followed."""
    with contextlib.suppress(OSError, StoreError):
        fd = open_own(path, os.O_WRONLY)
        try:
            overwrite_with_zeros(fd)
        finally:
            os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


# ---------------------------------------------------------------- files the person names
def check_output(path: Path, paths: Paths) -> Path:
    """A file the person asked companion to write: its folder must exist (companion does not
    create the person's folders), and it is not a folder, a link, or the live database."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name in it.")
    if not path.parent.is_dir():
        raise InputError(
            f"the folder {path.parent} does not exist; create it first or choose another place."
        )
    refuse_live_database(path, paths)
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; give the real file, or a new name.")
    return path


def refuse_live_database(path: Path, paths: Paths) -> None:
    """Writing over the live database (or its -wal, -shm, -journal) would lose what an
    open connection, such as the daemon's, writes next; refused whatever the path."""
    live = {Path(f"{paths.db_file.resolve()}{s}") for s in ("", "-wal", "-shm", "-journal")}
    target = path.resolve()
    if target in live or any(_same_file(target, other) for other in live):
        raise InputError(
            f"{path} is companion's live database ({target.name}); writing "
            "there would lose what is saved next. Choose another file."
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
