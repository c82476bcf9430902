from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from companion.zones import localize, system_zone


def test_an_unknown_tz_falls_back_to_a_fixed_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Mars/Olympus_Mons")
    zone = system_zone()
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() is not None


def test_localize_uses_the_offset_of_that_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    winter_now = datetime(2026, 1, 10, 9, tzinfo=timezone(timedelta(hours=-5)))
    summer = localize(datetime(2026, 7, 1, 9), winter_now)
    assert summer.utcoffset() == timedelta(hours=-4)
    named = localize(datetime(2026, 7, 1, 9), datetime(2026, 1, 10, tzinfo=ZoneInfo("UTC")))
    assert named.tzinfo == ZoneInfo("UTC")
