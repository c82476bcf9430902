from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from companion.dates import format_minutes, parse_duration, parse_when
from companion.errors import InputError

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=NY)  # a Wednesday


@pytest.mark.parametrize("text, minutes", [
    ("20m", 20), ("1h30m", 90), ("90", 90), ("2h", 120), ("0", 0), ("1.5h", 90), ("45min", 45)])
def test_durations(text: str, minutes: float) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["-5", "-1h", "soon", "", "h", "1h-30m", "99999h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InputError):
        parse_duration(text)


def test_dates_absolute_and_relative() -> None:
    assert parse_when("2026-12-01 15:00", NOW) == datetime(2026, 12, 1, 15, tzinfo=NY)
    assert parse_when("tomorrow 15:00", NOW) == datetime(2026, 11, 26, 15, tzinfo=NY)
    assert parse_when("7d", NOW) == datetime(2026, 11, 18, 20, tzinfo=NY)
    assert parse_when("2w", NOW, future=True) == datetime(2026, 12, 9, 20, tzinfo=NY)
    assert parse_when("friday 10:00", NOW, future=True) == datetime(2026, 11, 27, 10, tzinfo=NY)
    assert parse_when("wed", NOW, future=True).day == 2  # next week's Wednesday


def test_dates_keep_the_offset_of_their_own_day() -> None:
    summer = parse_when("2026-07-01 09:00", NOW)
    assert summer.utcoffset() != NOW.utcoffset()


@pytest.mark.parametrize("text", ["2026-13-01", "tomorrow 25:00", "next blue moon", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(InputError):
        parse_when(text, NOW)


def test_format_minutes() -> None:
    assert format_minutes(95) == "1h35m"
    assert format_minutes(7) == "7m"
    assert format_minutes(None) == "-"
