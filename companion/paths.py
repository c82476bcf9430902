"""Where things live: COMPANION_HOME, or the platform's user folders. Private by default."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreError

APP = "companion"
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class Paths:
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
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "companion.log"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "daemon.lock"


def resolve_paths(env: Mapping[str, str] | None = None) -> Paths:
    """COMPANION_HOME puts everything in one folder; otherwise platformdirs decides."""
    env = os.environ if env is None else env
    home = env.get("COMPANION_HOME", "").strip()
    if home:
        root = Path(home).expanduser().absolute()
        return Paths(config_dir=root, data_dir=root, state_dir=root)
    import platformdirs

    return Paths(
        config_dir=Path(platformdirs.user_config_dir(APP)),
        data_dir=Path(platformdirs.user_data_dir(APP)),
        state_dir=Path(platformdirs.user_state_dir(APP)),
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


def ensure_dir(path: Path) -> Path:
    """Create a private folder (0700) and its missing parents' last level; fix its mode."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.chmod(path, DIR_MODE)
    except OSError as exc:
        raise StoreError(f"cannot create the folder {path}: {exc.strerror}") from exc
    return path


def make_private(path: Path) -> None:
    """Set a file to 0600 if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create an empty 0600 file if it does not exist (never widening an existing one)."""
    ensure_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    make_private(path)


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8"):  # noqa: ANN201
    """Open a file for writing that is 0600 from the first byte."""
    ensure_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    make_private(path)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding=encoding, newline="" if "w" in mode else None)


def write_private_text(path: Path, text: str) -> None:
    """Write text atomically to a 0600 file (a kill leaves the old file or the new one).

    StoreError, naming the file, when it cannot be written (no such place, no room...).
    """
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
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}. "
                         "Choose another file.") from exc
