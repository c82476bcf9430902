from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from companion.dates import format_when, parse_duration, parse_when
from companion.errors import InputError
from companion.wording import about_duration, duration, plural

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=NY)  # a Wednesday


@pytest.mark.parametrize(
    "text, minutes",
    [("20m", 20), ("1h30m", 90), ("90", 90), ("2h", 120), ("0", 0), ("1.5h", 90), ("45min", 45)],
)
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


def test_durations_and_counts_in_words() -> None:
    assert duration(95) == "1 hour 35 minutes"
    assert duration(7) == "7 minutes" and duration(1) == "1 minute" and duration(120) == "2 hours"
    assert duration(0) == "less than a minute" and duration(0.4) == "less than a minute"
    assert about_duration(0) == "less than a minute" and about_duration(20) == "about 20 minutes"
    assert duration(None) == "-"
    assert [plural(n, "check-in") for n in (0, 1, 2)] == [
        "0 check-ins",
        "1 check-in",
        "2 check-ins",
    ]
    assert plural(1, "day") == "1 day" and plural(3, "entry") == "3 entries"


def test_a_stored_time_reads_in_local_time() -> None:
    from datetime import timedelta, timezone

    zone = timezone(timedelta(hours=-5))
    assert format_when("2026-11-29T16:45:00+00:00", zone) == "Sun 29 Nov 2026, 11:45"
    assert format_when(None) == ""
