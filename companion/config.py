"""TOML configuration merged over the shipped defaults into a frozen Settings."""

# Lazy imports: tomlkit (~30 ms), only when the user's file is edited (`model use`);
# difflib, only for a mistyped name (the App loads this module on every command).

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from datetime import time
from pathlib import Path
from typing import NamedTuple

from .crisis_match import PatternError, pattern_regex
from .errors import ConfigError
from .paths import GivenFileError, ensure_dir, read_given, write_private_text
from .records import Row
from .resources import pack_file
from .vocab import CHECKIN_AREAS, DAY_NAMES, SCHEDULE_KINDS, CheckinKind
from .wording import plural

_DAY_ALIASES = {
    "daily": DAY_NAMES,
    "weekdays": DAY_NAMES[:5],
    "weekends": DAY_NAMES[5:],
}
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScheduleEntry(NamedTuple):
    name: str
    time: time
    days: tuple[str, ...]
    kind: str = CheckinKind.CHECKIN
    area: str = ""
    day_of_month: int | None = None


class CheckinSettings(NamedTuple):
    schedule: tuple[ScheduleEntry, ...]
    quiet_start: time | None
    quiet_end: time | None
    snooze_minutes: int
    missed: str
    missed_max_age_hours: float
    skip_if_wrote_within_minutes: int


class SessionSettings(NamedTuple):
    prep_enabled: bool
    prep_days_before: int
    prep_time: time
    follow_up_enabled: bool
    follow_up_after_minutes: int


class VoiceSettings(NamedTuple):
    model: str
    checkins: str
    max_seconds: float
    silence_seconds: float
    keep_audio: bool
    device: str
    low_confidence: float


class SpeechSettings(NamedTuple):
    enabled: bool
    engine: str
    voice: str
    rate: int
    volume: float
    after_hard_checkin: bool
    timeout_seconds: float
    read_back_win: bool


class NotificationSettings(NamedTuple):
    backend: str
    saved_preview: bool
    timeout_seconds: float
    terminal: str


class BriefSettings(NamedTuple):
    show_crisis_note: bool


class SafetySettings(NamedTuple):
    region: str
    extra_phrases: tuple[str, ...]


class SecuritySettings(NamedTuple):
    encrypt: bool
    use_keyring: bool


class StorageSettings(NamedTuple):
    busy_timeout_seconds: float
    max_text_chars: int


class Settings(NamedTuple):
    checkins: CheckinSettings
    sessions: SessionSettings
    voice: VoiceSettings
    speech: SpeechSettings
    notifications: NotificationSettings
    safety: SafetySettings
    security: SecuritySettings
    storage: StorageSettings
    brief: BriefSettings
    source: str
    raw: Row


# ---------------------------------------------------------------- validators
Check = Callable[[object], object]  # a value read from TOML, checked and parsed


class _Bad(ValueError):
    """A value that does not fit; the message says what would."""


def parse_clock_time(value: object) -> time:
    """ "HH:MM" (24-hour) to a time; "25:00" and "7pm" are refused."""
    if not isinstance(value, str):
        raise _Bad('expected a time such as "20:00"')
    m = _TIME_RE.match(value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise _Bad(f'"{value}" is not a time of day; use 24-hour "HH:MM" such as "20:00"')
    return time(int(m.group(1)), int(m.group(2)))


def _opt_time(value: object) -> time | None:
    if value == "":
        return None
    return parse_clock_time(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad("expected true or false")
    return value


def _number(lo: float, hi: float, *, integer: bool = False) -> Callable[[object], float]:
    def check(value: object) -> float:
        ok_type = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            raise _Bad("expected a whole number" if integer else "expected a number")
        if not lo <= value <= hi:
            raise _Bad(f"{value} is out of range ({lo:g} to {hi:g})")
        return value if integer else float(value)

    return check


def _text(*, choices: tuple[str, ...] | None = None) -> Check:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _Bad("expected a text in quotes")
        if choices is not None and value not in choices:
            raise _Bad(f'"{value}" is not one of: {", ".join(repr(c) for c in choices)}')
        return value

    return check


def _text_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad('expected a list of texts such as ["a", "b"]')
    return tuple(value)


def _pattern_list(value: object) -> tuple[str, ...]:
    """[safety] extra_phrases: texts in the notation of config/crisis.toml."""
    phrases = _text_list(value)
    for phrase in phrases:
        try:
            pattern_regex(phrase)
        except PatternError as exc:
            raise _Bad(f"{exc} (see the notation at the top of crisis.toml)") from exc
    return phrases


def parse_days(value: object) -> tuple[str, ...]:
    """ "daily", "weekdays", "weekends" or a list of day names (mon..sun, or full names)."""
    if isinstance(value, str):
        if value.lower() in _DAY_ALIASES:
            return _DAY_ALIASES[value.lower()]
        value = [value]
    if not isinstance(value, list) or not value:
        raise _Bad('expected "daily", "weekdays", "weekends" or a list such as ["mon", "thu"]')
    days = []
    for item in value:
        key = str(item).strip().lower()[:3]
        if not isinstance(item, str) or key not in DAY_NAMES or len(item.strip()) < 3:
            raise _Bad(f'"{item}" is not a day; use mon, tue, wed, thu, fri, sat or sun')
        if key not in days:
            days.append(key)
    return tuple(d for d in DAY_NAMES if d in days)


def _schedule_name(value: object) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise _Bad("expected a short name of letters, digits, '-' or '_'")
    return value


def _day_of_month(value: object) -> int:
    return int(_number(1, 28, integer=True)(value))


SECTIONS: dict[str, dict[str, Check]] = {
    "checkins": {
        "quiet_start": _opt_time,
        "quiet_end": _opt_time,
        "snooze_minutes": _number(1, 24 * 60, integer=True),
        "missed": _text(choices=("coalesce", "latest", "drop")),
        "missed_max_age_hours": _number(0, 24 * 14),
        "skip_if_wrote_within_minutes": _number(0, 24 * 60, integer=True),
    },
    "sessions": {
        "prep_enabled": _bool,
        "prep_days_before": _number(0, 7, integer=True),
        "prep_time": parse_clock_time,
        "follow_up_enabled": _bool,
        "follow_up_after_minutes": _number(0, 24 * 60, integer=True),
    },
    "voice": {
        "model": _text(),
        "checkins": _text(choices=("off", "ask", "auto")),
        "max_seconds": _number(1, 3600),
        "silence_seconds": _number(0.3, 60),
        "keep_audio": _bool,
        "device": _text(),
        "low_confidence": _number(0, 1),
    },
    "speech": {
        "enabled": _bool,
        "engine": _text(),
        "voice": _text(),
        "rate": _number(40, 600, integer=True),
        "volume": _number(0, 1),
        "after_hard_checkin": _bool,
        "timeout_seconds": _number(1, 600),
        "read_back_win": _bool,
    },
    "notifications": {
        "backend": _text(choices=("auto", "dbus", "plyer", "log")),
        "saved_preview": _bool,
        "timeout_seconds": _number(0.1, 30),
        "terminal": _text(),
    },
    "safety": {
        "region": _text(choices=("US", "CA", "UK", "IE", "AU", "other")),
        "extra_phrases": _pattern_list,
    },
    "security": {"encrypt": _bool, "use_keyring": _bool},
    "brief": {"show_crisis_note": _bool},
    "storage": {
        "busy_timeout_seconds": _number(0, 600),
        "max_text_chars": _number(1, 50_000_000, integer=True),
    },
}

SCHEDULE_KEYS: dict[str, Check] = {
    "name": _schedule_name,
    "time": parse_clock_time,
    "days": parse_days,
    "kind": _text(choices=SCHEDULE_KINDS),
    "area": _text(choices=("", *CHECKIN_AREAS)),
    "day_of_month": _day_of_month,
}
_SCHEDULE_REQUIRED = ("name", "time")


# ---------------------------------------------------------------- locating lines
_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*\"?([A-Za-z0-9_\-]+)\"?\s*=")


def find_line(
    text: str, section: str, key: str | None = None, index: int | None = None
) -> int | None:
    """The line where `key` (or the header of `section`) stands; a best effort for messages."""
    current, seen, header_line = "", -1, None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            current = header.group(2).replace('"', "").replace(" ", "")
            if current == section:
                seen += 1
                if index is None or seen == index:
                    header_line = number
            continue
        if key is None or current != section or (index is not None and seen != index):
            continue
        m = _KEY_RE.match(line)
        if m and m.group(1) == key:
            return number
    if key is not None and "." in section:
        return find_line(text, section.rsplit(".", 1)[0], section.rsplit(".", 1)[1]) or header_line
    return header_line


# ---------------------------------------------------------------- loading
def read_toml(path: Path) -> tuple[Row, str]:
    """A TOML file's values and text; ConfigError (with the line) when it cannot be used."""
    text = _read_text(path)
    return _parse_toml(text, str(path)), text


def _read_text(path: Path) -> str:
    try:
        data = read_given(path)  # a FIFO where the file should be is refused, not waited on
        return data.decode("utf-8-sig")  # an editor's byte order mark is fine
    except UnicodeDecodeError as exc:
        raise ConfigError("the file is not UTF-8 text", file=str(path)) from exc
    except GivenFileError as exc:
        raise ConfigError(exc.bare, file=str(path)) from None


def _parse_toml(text: str, source: str) -> Row:
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError("this is nested too deeply to be a configuration", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line = int(m.group(1)) if m else None
        raise ConfigError(f"this is not valid TOML: {reason}", file=source, line=line) from exc


class _Validator:
    """Checks one parsed file against the schema; every problem is kept (file, line, key)
    and what it concerns is left out, so the default stands in for it."""

    def __init__(self, data: Row, text: str, source: str):
        self.data, self.text, self.source = data, text, source
        self.problems: list[ConfigError] = []

    def note(
        self, reason: str, section: str, key: str | None = None, index: int | None = None
    ) -> None:
        line = find_line(self.text, section, key, index)
        dotted = section + (f"[{index}]" if index is not None else "") + (f".{key}" if key else "")
        self.problems.append(ConfigError(reason, file=self.source, line=line, key=dotted))

    def validate(self) -> Row:
        clean: Row = {}
        for section, values in self.data.items():
            if section not in SECTIONS:
                known = ", ".join(SECTIONS)
                self.note(f"unknown section [{section}] (known: {known})", section)
            elif not isinstance(values, dict):
                self.note(f"{section} must be a section such as [{section}]", section)
            else:
                clean[section] = self._section(section, values)
        return clean

    def _section(self, section: str, values: Row) -> Row:
        out: Row = {}
        for key, value in values.items():
            if section == "checkins" and key == "schedule":
                schedule = self._schedule(value)
                if schedule:
                    out[key] = schedule
                continue
            check = SECTIONS[section].get(key)
            if check is None:
                self.note(f"unknown key {key!r}{suggest(key, SECTIONS[section])}", section, key)
                continue
            try:
                out[key] = check(value)
            except _Bad as exc:
                self.note(str(exc), section, key)
        return out

    def _schedule(self, value: object) -> tuple[ScheduleEntry, ...]:
        """The usable check-ins; one with a mistake is left out (none left: the defaults)."""
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.note("use [[checkins.schedule]] tables for check-ins", "checkins", "schedule")
            return ()
        if not value:
            self.note(
                "the schedule is empty; add at least one [[checkins.schedule]]",
                "checkins",
                "schedule",
            )
        entries: list[ScheduleEntry] = []
        for i, item in enumerate(value):
            entry = self._entry(item, i)
            if entry is not None and entry.name in (e.name for e in entries):
                self.note(f"the name {entry.name!r} is used twice", "checkins.schedule", "name", i)
            elif entry is not None:
                entries.append(entry)
        return tuple(entries)

    def _entry(self, item: Row, index: int) -> ScheduleEntry | None:
        section, before = "checkins.schedule", len(self.problems)
        fields: Row = {"days": DAY_NAMES}
        for key, value in item.items():
            check = SCHEDULE_KEYS.get(key)
            if check is None:
                self.note(f"unknown key {key!r}{suggest(key, SCHEDULE_KEYS)}", section, key, index)
                continue
            try:
                fields[key] = check(value)
            except _Bad as exc:
                self.note(str(exc), section, key, index)
        for key in _SCHEDULE_REQUIRED:
            if key not in fields and key not in item:
                self.note(f"a check-in needs a {key!r}", section, None, index)
        return ScheduleEntry(**fields) if len(self.problems) == before else None


def suggest(key: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for a mistyped name, or nothing."""
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def load_file(path: Path) -> Row:
    """Parse and validate one file; values come back checked and converted.

    The first mistake raises ConfigError (the shipped defaults must have none)."""
    values, problems = _check_file(path)
    if problems:
        raise problems[0]
    return values


def _check_file(path: Path) -> tuple[Row, list[ConfigError]]:
    """The usable values of one file, and every mistake in it (broken TOML: no values)."""
    try:
        data, text = read_toml(path)
    except ConfigError as exc:
        return {}, [exc]
    validator = _Validator(data, text, str(path))
    return validator.validate(), validator.problems


def check_text(text: str, source: str) -> Row:
    """Parse and validate configuration text (what `source` would hold); the first
    mistake raises ConfigError."""
    validator = _Validator(_parse_toml(text, source), text, source)
    values = validator.validate()
    if validator.problems:
        raise validator.problems[0]
    return values


def default_config_file() -> Path:
    return pack_file("config", "default.toml")


def load_settings(user_file: Path | None) -> Settings:
    """The shipped defaults, overridden key by key by the user's file if it exists.

    Strict: a mistake raises ConfigError (the daemon's reload keeps its last good
    settings then); `load_settings_leniently` is the forgiving twin.
    """
    settings, problems = load_settings_leniently(user_file)
    if not problems:
        return settings
    first = problems[0]
    more = len(problems) - 1
    if more:
        reason = (
            f"{first.reason} (and {plural(more, 'more mistake')}; "
            "`companion config check` lists them all)"
        )
        raise ConfigError(reason, file=first.file, line=first.line, key=first.key)
    raise first


def load_settings_leniently(user_file: Path | None) -> tuple[Settings, list[ConfigError]]:
    """The settings with every broken key or section left at its default, and the
    mistakes found (each with file, line and key). Broken TOML: all defaults."""
    merged = load_file(default_config_file())
    source = str(default_config_file())
    problems: list[ConfigError] = []
    if user_file is not None and user_file.exists():
        values, problems = _check_file(user_file)
        for section, section_values in values.items():
            merged.setdefault(section, {}).update(section_values)
        if values or not problems:
            source = str(user_file)
    return _build(merged, source), problems


def _build(merged: Row, source: str) -> Settings:
    c = dict(merged["checkins"])
    return Settings(
        checkins=CheckinSettings(**c),
        sessions=SessionSettings(**merged["sessions"]),
        voice=VoiceSettings(**merged["voice"]),
        speech=SpeechSettings(**merged["speech"]),
        notifications=NotificationSettings(**merged["notifications"]),
        safety=SafetySettings(**merged["safety"]),
        security=SecuritySettings(**merged["security"]),
        storage=StorageSettings(**merged["storage"]),
        brief=BriefSettings(**merged["brief"]),
        source=source,
        raw=merged,
    )


# ---------------------------------------------------------------- showing
def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if value is None:
        return '""'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def dump_settings(settings: Settings) -> str:
    """The effective configuration as TOML (what `config show` prints)."""
    lines: list[str] = [f"# effective configuration (from {settings.source})"]
    for section, values in settings.raw.items():
        lines.append(f"\n[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if k != "schedule"]
        for entry in values.get("schedule", ()):
            lines.append("\n[[checkins.schedule]]")
            for key in ("name", "time", "days", "kind", "area", "day_of_month"):
                val = getattr(entry, key)
                if val is not None:
                    lines.append(f"{key} = {_toml_value(val)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- editing
def set_value(path: Path, section: str, key: str, value: str | int | float | bool) -> None:
    """Set `key` in `[section]` of the user's configuration file, keeping their comments,
    the order of their keys and everything else as it was.

    A file that is already broken is refused (ConfigError), never rewritten; a value the
    schema refuses is refused the same way, and then nothing is written.
    """
    import tomlkit  # only when the file is edited: it costs ~30 ms, more than --help

    old = _read_text(path) if path.exists() else ""
    check_text(old, str(path))
    try:
        doc = tomlkit.parse(old)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"this file cannot be edited here: {exc}", file=str(path)) from exc
    if section not in doc:
        doc.add(section, tomlkit.table())
    doc[section][key] = value
    new = tomlkit.dumps(doc)
    check_text(new, str(path))
    ensure_dir(path.parent)
    write_private_text(path, new)
