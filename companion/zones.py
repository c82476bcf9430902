"""The machine's time zone, and local wall times made aware with the right DST offset."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when there is no such zone."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_zone_name() -> str | None:
    """The IANA name of this machine's time zone (TZ, /etc/localtime or /etc/timezone)."""
    candidates = []
    if os.environ.get("TZ"):
        candidates.append(os.environ["TZ"].lstrip(":"))
    target = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in target:
        candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    return next((c for c in candidates if zone_named(c) is not None), None)


class LibcZone(tzinfo):
    """The zone libc uses for this process: honours any TZ value libc and `date` read,
    POSIX rules included ("EST5EDT,M3.2.0,M11.1.0", "BRS-9:59:25"), DST transitions too.

    Offsets come from time.localtime; a wall time that happens twice is the first
    (fold=0) or the second (fold=1), and one skipped by DST uses the offset before
    (fold=0) or after (fold=1) the change, as PEP 495 says.
    """

    key = None  # no IANA name to store or export

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return _gmtoff(time.time())
        wall = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
        before, after = _gmtoff(wall - 86400), _gmtoff(wall + 86400)
        fits = [o for o in (before, after) if _gmtoff(wall - o.total_seconds()) == o]
        if len(set(fits)) == 2:  # the hour that happens twice
            return max(fits) if dt.fold == 0 else min(fits)
        if fits:
            return fits[0]
        return before if dt.fold == 0 else after  # the hour skipped by DST

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        ts = (
            time.time()
            if dt is None
            else (dt.replace(tzinfo=None) - _EPOCH - self.utcoffset(dt)).total_seconds()
        )
        return time.localtime(ts).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=None)
        offset = _gmtoff((utc - _EPOCH).total_seconds())
        local = (utc + offset).replace(tzinfo=self)
        return local if local.utcoffset() == offset else local.replace(fold=1)

    def __repr__(self) -> str:
        return f"LibcZone({os.environ.get('TZ', '')!r})"


_EPOCH = datetime(1970, 1, 1)


def _gmtoff(timestamp: float) -> timedelta:
    return timedelta(seconds=time.localtime(timestamp).tm_gmtoff)


def system_zone() -> tzinfo:
    """The machine's time zone with its DST rules.

    An IANA name (TZ, /etc/localtime, /etc/timezone) gives a ZoneInfo; any other TZ value
    (a POSIX rule such as "EST5EDT,M3.2.0,M11.1.0") is read by libc, as `date` reads it.
    """
    tz = os.environ.get("TZ", "")
    if tz and zone_named(tz.lstrip(":")) is None:
        time.tzset()  # libc reads TZ again (it may have changed since start)
        return LibcZone()
    return zone_named(local_zone_name()) or datetime.now().astimezone().tzinfo or UTC


def localize(naive: datetime, now: datetime) -> datetime:
    """Attach the local zone to a wall time, with the offset valid on that day (not today's).

    A named zone is kept where one is known (`now`'s own, or the machine's when it agrees
    with `now`), so series computed from the result follow DST.
    """
    if hasattr(now.tzinfo, "key"):
        return naive.replace(tzinfo=now.tzinfo)
    zone = zone_named(local_zone_name())
    if (
        zone is not None
        and now.tzinfo is not None
        and now.utcoffset() == now.astimezone(zone).utcoffset()
    ):
        return naive.replace(tzinfo=zone)
    return naive.astimezone()
