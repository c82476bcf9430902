import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from zoneinfo import ZoneInfo

import pytest

from companion.checkins import schedule_dues, wall_time
from companion.clock import FixedClock
from companion.config import DAY_NAMES, ScheduleEntry
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


@pytest.fixture
def posix_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set TZ to a POSIX rule for one test; libc reads the old value again afterwards."""

    def use(value: str) -> None:
        monkeypatch.setenv("TZ", value)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def test_a_posix_tz_rule_is_honoured_as_libc_does(posix_tz: Callable[[str], None]) -> None:
    posix_tz("EST5EDT,M3.2.0,M11.1.0")
    zone = system_zone()
    assert datetime(2026, 1, 10, 9, tzinfo=zone).utcoffset() == timedelta(hours=-5)
    assert datetime(2026, 7, 1, 9, tzinfo=zone).utcoffset() == timedelta(hours=-4)
    start = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    for ts in range(start, start + 280 * 86400, 1800):  # both DST changes, every half hour
        local = datetime.fromtimestamp(ts, zone)
        assert local.utcoffset() == timedelta(seconds=time.localtime(ts).tm_gmtoff)
        assert local.timestamp() == ts  # the way back lands on the same instant (folds too)
    assert str(wall_time(date(2026, 3, 8), dtime(2, 30), zone)) == "2026-03-08 03:00:00-04:00"
    assert str(wall_time(date(2026, 11, 1), dtime(1, 30), zone)) == "2026-11-01 01:30:00-04:00"


def test_a_checkin_comes_at_the_local_hour_of_a_posix_offset(
    posix_tz: Callable[[str], None],
) -> None:
    posix_tz("BRS-9:59:25")
    zone = system_zone()
    entry = ScheduleEntry(name="evening", time=dtime(20, 0), days=DAY_NAMES)
    now = FixedClock(datetime(2026, 6, 2, 12, tzinfo=UTC)).now().astimezone(zone)
    (due,) = schedule_dues(entry, now - timedelta(days=1), now)
    assert due.astimezone(UTC) == datetime(2026, 6, 2, 10, 0, 35, tzinfo=UTC)
    assert due.strftime("%H:%M %Z") == "20:00 BRS"
