"""The machine's time zone, and local wall times made aware with the right DST offset."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, tzinfo
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


def system_zone() -> tzinfo:
    """The machine's time zone with its DST rules; today's fixed offset if it has no name."""
    return zone_named(local_zone_name()) or datetime.now().astimezone().tzinfo or UTC


def localize(naive: datetime, now: datetime) -> datetime:
    """Attach the local zone to a wall time, with the offset valid on that day (not today's).

    A named zone is kept where one is known (`now`'s own, or the machine's when it agrees
    with `now`), so series computed from the result follow DST.
    """
    if hasattr(now.tzinfo, "key"):
        return naive.replace(tzinfo=now.tzinfo)
    zone = zone_named(local_zone_name())
    if zone is not None and now.tzinfo is not None \
            and now.utcoffset() == now.astimezone(zone).utcoffset():
        return naive.replace(tzinfo=zone)
    return naive.astimezone()
