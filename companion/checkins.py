"""Which check-ins are due: pure functions of (settings, stored state, now).

Nothing here reads the wall clock or sends anything. The daemon asks `plan()` what
to do at a given moment; the delivery table (schedule name + due time, unique) is
what makes each check-in go out once, whatever happens to the process or the clock.

Time rules, all in the local time zone of `now`:
- a time that does not exist that day (spring forward) fires once, at the next
  valid minute; a time that happens twice (fall back) fires once, the first time;
- quiet hours hold a check-in back until they end;
- check-ins missed while the machine slept or the daemon was stopped are coalesced
  into one gentle notification (or only the latest is sent, or they are let go),
  and those older than `missed_max_age_hours` are let go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from . import content
from .config import DAY_NAMES, ScheduleEntry, Settings
from .errors import CompanionError, NotFoundError
from .records import Row
from .store import Store, stamp, utc_text
from .vocab import CheckinKind, Status
from .wording import join_words

# A check-in released less than this long ago is "on time"; older ones count as missed.
ON_TIME = timedelta(minutes=10)
# How far ahead the planner looks for the next thing to wake up for.
LOOKAHEAD = timedelta(days=2)
PREP = CheckinKind.SESSION_PREP
FOLLOW_UP = CheckinKind.SESSION_FOLLOW_UP
# The prompt group (config/prompts.toml) each kind draws from; a check-in uses its area.
PROMPT_GROUPS: dict[str, str] = {
    CheckinKind.WEEKLY: "weekly-review",
    CheckinKind.FRIEND: "trusted-friend",
    PREP: "session-prep",
    FOLLOW_UP: "session-follow-up",
}

FALLBACK_PROMPTS = {
    "": "How are you, right now? A word or two is plenty.",
    "awareness": "What have you been feeling in the last few hours?",
    "regulation": "Was there a moment today that pulled you off balance? What helped, even a bit?",
    "choices": "Did you catch yourself pausing before reacting today?",
    "boundaries": "Was there a moment you looked after your own needs today?",
    "self-compassion": "What would you say to a friend who had your day?",
    "weekly-review": "What felt different this week, even a little?",
    "trusted-friend": (
        "Is there someone you trust you could ask whether they have noticed "
        "any changes in you lately?"
    ),
    "session-prep": "Your next session is coming up. Is there anything you would like to bring?",
    "session-follow-up": (
        "How was your session? What is one thing you might practise before the next?"
    ),
}
TITLES: dict[str, str] = {
    CheckinKind.CHECKIN: "Time for a short check-in",
    CheckinKind.WEEKLY: "A look back at your week",
    CheckinKind.FRIEND: "A question for someone you trust",
    PREP: "Your session is coming up",
    FOLLOW_UP: "After your session",
}


@dataclass(frozen=True)
class Occurrence:
    """One scheduled moment: a check-in of `schedule` that falls due at `due`."""

    schedule: str
    kind: str
    area: str
    due: datetime
    release: datetime  # when it may be shown (the end of quiet hours, or `due`)

    @property
    def key(self) -> tuple[str, str]:
        """What the delivery table keeps unique."""
        return self.schedule, utc_text(self.due)


@dataclass
class Plan:
    """What to do now: each list holds occurrences not yet in the delivery table.

    At most one notification goes out at a time (`show`); when several things fell due
    together (the daemon was off, or quiet hours held them), it names them all (`named`,
    their kinds) and the other kinds are kept open (`kept`) so each can still be answered.
    """

    show: Occurrence | None = None  # the one notification's check-in
    named: tuple[str, ...] = ()  # kinds of all it stands for (empty: a plain notice)
    kept: list[Occurrence] = field(default_factory=list)  # also waiting, answerable
    missed: list[Occurrence] = field(default_factory=list)  # recorded as missed, not sent
    covered: list[Occurrence] = field(default_factory=list)  # you wrote recently: not nagged
    next_wake: datetime | None = None


# ---------------------------------------------------------------- time zones and wall times
def wall_time(day: date, at: time, tz: tzinfo) -> datetime:
    """`at` o'clock on `day` in `tz`, as one real instant.

    A time skipped by DST moves to the next minute that exists; a time that happens
    twice is the first of the two.
    """
    naive = datetime.combine(day, at)
    for minutes in range(0, 181):
        candidate = (naive + timedelta(minutes=minutes)).replace(tzinfo=tz, fold=0)
        real = candidate.astimezone(UTC).astimezone(tz)
        if real.replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return real
    return naive.replace(tzinfo=tz)


def release_time(due: datetime, settings: Settings) -> datetime:
    """When a check-in due at `due` may be shown: quiet hours hold it until they end."""
    start, end = settings.checkins.quiet_start, settings.checkins.quiet_end
    if start is None or end is None or start == end:
        return due
    tz = due.tzinfo or UTC
    local = due.astimezone(tz)
    now_t = local.time().replace(second=0, microsecond=0)
    if start < end:
        quiet, end_day = start <= now_t < end, local.date()
    else:
        quiet = now_t >= start or now_t < end
        end_day = local.date() + timedelta(days=1 if now_t >= start else 0)
    return wall_time(end_day, end, tz) if quiet else due


# ---------------------------------------------------------------- occurrences
def _days(start: datetime, end: datetime, tz: tzinfo) -> Iterable[date]:
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def schedule_dues(entry: ScheduleEntry, start: datetime, end: datetime) -> list[datetime]:
    """Due times of one schedule entry in (start, end]."""
    tz = end.tzinfo or UTC
    dues = []
    for day in _days(start, end, tz):
        if DAY_NAMES[day.weekday()] not in entry.days:
            continue
        if entry.day_of_month is not None and day.day != entry.day_of_month:
            continue
        due = wall_time(day, entry.time, tz)
        if start < due <= end:
            dues.append(due)
    return dues


def session_dues(
    settings: Settings, starts: Iterable[datetime], start: datetime, end: datetime
) -> list[tuple[str, datetime]]:
    """(schedule, due) of the prep reminders and follow-ups of sessions, in (start, end]."""
    s, tz = settings.sessions, end.tzinfo or UTC
    found: set[tuple[str, datetime]] = set()
    for begins in starts:
        local = begins.astimezone(tz)
        if s.prep_enabled:
            prep = wall_time(local.date() - timedelta(days=s.prep_days_before), s.prep_time, tz)
            if prep < local:
                found.add((PREP, prep))
        if s.follow_up_enabled:
            after = local + timedelta(minutes=s.follow_up_after_minutes)
            found.add((FOLLOW_UP, after.replace(second=0, microsecond=0).astimezone(tz)))
    return sorted((x for x in found if start < x[1] <= end), key=lambda x: x[1])


def occurrences(
    settings: Settings, start: datetime, end: datetime, *, session_starts: Iterable[datetime] = ()
) -> list[Occurrence]:
    """Every check-in, prep reminder and follow-up due in (start, end], in time order."""
    found = []
    for entry in settings.checkins.schedule:
        for due in schedule_dues(entry, start, end):
            found.append(
                Occurrence(entry.name, entry.kind, entry.area, due, release_time(due, settings))
            )
    for name, due in session_dues(settings, session_starts, start, end):
        found.append(Occurrence(name, CheckinKind(name), "", due, release_time(due, settings)))
    return sorted(found, key=lambda o: (o.due, o.schedule))


def session_window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """The span of session start times whose reminders can matter at `now`."""
    back = timedelta(
        hours=settings.checkins.missed_max_age_hours,
        days=2,
        minutes=settings.sessions.follow_up_after_minutes,
    )
    ahead = LOOKAHEAD + timedelta(days=settings.sessions.prep_days_before + 1)
    return now - back, now + ahead


# ---------------------------------------------------------------- the plan
def plan(
    settings: Settings,
    *,
    now: datetime,
    claimed: set[tuple[str, str]],
    session_starts: Iterable[datetime] = (),
    last_entry: datetime | None = None,
    since: datetime | None = None,
) -> Plan:
    """What to deliver at `now`, given which (schedule, due_utc) pairs are already claimed.

    `since` is when check-ins were first watched for (nothing before it is caught up on,
    so a new installation does not start with a reminder from earlier in the day).
    """
    c = settings.checkins
    max_age = timedelta(hours=c.missed_max_age_hours)
    # Quiet hours can hold a check-in back for up to a day, so look back that much more.
    start = now - max_age - timedelta(days=1)
    if since is not None:  # due at or after `since`
        start = max(start, since - timedelta(seconds=1))
    window = occurrences(settings, start, now + LOOKAHEAD, session_starts=list(session_starts))
    result = Plan()
    waiting = [o for o in window if o.key not in claimed]
    on_time: list[Occurrence] = []
    late: list[Occurrence] = []
    for occ in waiting:
        if occ.release > now:
            continue
        age = now - occ.release
        if age <= ON_TIME:
            on_time.append(occ)
        elif age <= max_age:
            late.append(occ)
    quiet_until = release_time(now, settings)
    if quiet_until > now:  # a catch-up waits for quiet hours to end, like everything else
        late = []
    if c.missed == "drop":
        result.missed.extend(late)
        late = []
    ready = _latest_per_kind(result, on_time + late)
    ready = _covered(result, settings, ready, now=now, last_entry=last_entry)
    _choose_one(result, ready, late=late, policy=c.missed)
    future = [o.release for o in waiting if o.release > now]
    if quiet_until > now:
        future.append(quiet_until)
    result.next_wake = min(future) if future else now + LOOKAHEAD
    return result


def _latest_per_kind(result: Plan, ready: list[Occurrence]) -> list[Occurrence]:
    """Several of one kind at once go out as the latest one; the earlier are missed."""
    latest = {o.kind: o for o in sorted(ready, key=lambda o: (o.due, o.schedule))}
    result.missed.extend(o for o in ready if latest[o.kind] is not o)
    return sorted(latest.values(), key=lambda o: (o.due, o.schedule))


def _covered(
    result: Plan,
    settings: Settings,
    ready: list[Occurrence],
    *,
    now: datetime,
    last_entry: datetime | None,
) -> list[Occurrence]:
    """A short check-in is not sent when you wrote something a little while ago."""
    minutes = settings.checkins.skip_if_wrote_within_minutes
    if last_entry is None or minutes <= 0 or now - last_entry > timedelta(minutes=minutes):
        return ready
    result.covered = [o for o in ready if o.kind == CheckinKind.CHECKIN]
    return [o for o in ready if o.kind != CheckinKind.CHECKIN]


def _choose_one(
    result: Plan, ready: list[Occurrence], *, late: list[Occurrence], policy: str
) -> None:
    """One notification, never a pile: the latest is shown and names the rest.

    With "latest" the others are let go; otherwise each other kind stays open to answer.
    """
    if not ready:
        return
    result.show, others = ready[-1], ready[:-1]
    if policy == "latest":
        result.missed.extend(others)
        return
    result.kept = others
    kinds = {o.kind for o in ready}
    named = [o.kind for o in late if o in result.missed and o.kind in kinds]  # earlier ones
    named += [o.kind for o in ready]
    if len(named) > 1:
        result.named = tuple(named)


def snoozes_due(
    rows: Iterable[Row], now: datetime, settings: Settings
) -> tuple[list[Row], datetime | None]:
    """Snoozed deliveries whose time has come, and when the next one will."""
    ready: list[tuple[datetime, Row]] = []
    later: list[tuple[datetime, Row]] = []
    for row in rows:
        if row.get("status") != Status.SNOOZED or not row.get("snoozed_until"):
            continue
        try:
            until = datetime.fromisoformat(row["snoozed_until"]).astimezone(now.tzinfo)
        except (TypeError, ValueError):
            continue  # edited elsewhere into something that is not a time: left alone
        when = release_time(until, settings)
        (ready if when <= now else later).append((when, row))
    return [r for _, r in ready], (min(w for w, _ in later) if later else None)


# ---------------------------------------------------------------- words on the notification
def prompt_group(occ: Occurrence) -> str:
    """The prompt group a check-in draws from: its area ("" = any area), or its kind's group."""
    return occ.area if occ.kind == CheckinKind.CHECKIN else PROMPT_GROUPS.get(occ.kind, "")


def fallback_prompt(group: str) -> str:
    return FALLBACK_PROMPTS.get(group, FALLBACK_PROMPTS[""])


def choose_prompt(store: Store, group: str, *, folder: Path | None = None) -> content.Choice:
    """The next prompt of the content packs (the person's own in `folder` merged in), or a
    built-in one; a `content.Choice`, to be recorded once the check-in was sent."""
    try:
        return content.choose_prompt(store, group, folder=folder)
    except CompanionError:  # a pack without this group, a database that cannot be read
        return content.Choice("prompt", f"builtin:{group}", fallback_prompt(group))


# How a kind is named when a catch-up lists what went by ("a check-in" is counted).
WENT_BY: dict[str, str] = {
    CheckinKind.WEEKLY: "the look back at your week",
    CheckinKind.FRIEND: "the question for someone you trust",
    CheckinKind.SESSION_PREP: "the reminder to get ready for your session",
    CheckinKind.SESSION_FOLLOW_UP: "the follow-up after your session",
}


def notice_text(
    kind: str,
    prompt: str,
    *,
    went_by: Sequence[str] = (),
    command_hint: bool = False,
    listening: bool = False,
) -> tuple[str, str]:
    """Title and body of a check-in notification (never anything the user wrote).

    `went_by`: the kinds one catch-up notification stands for (more than one), named in
    it; the other kinds among them are still waiting to be answered. `command_hint`:
    there is no Write button, so the command is named. `listening`: the microphone is
    already open for the answer ("auto" voice check-ins).
    """
    title = TITLES.get(kind, TITLES[CheckinKind.CHECKIN])
    body = prompt
    if len(went_by) > 1:
        title, body = _catch_up_text(kind, prompt, went_by)
    if listening:
        instead = "run: companion checkin" if command_hint else "press Write."
        body += f"\n\n{LISTENING}\nTo type it instead, {instead}"
    elif command_hint and "companion checkin" not in body:
        body += "\n\nTo answer, run: companion checkin"
    if kind in LOOK_BACK:
        body += f"\n\n{LOOK_BACK[kind]}"
    return title, body


def _catch_up_text(kind: str, prompt: str, went_by: Sequence[str]) -> tuple[str, str]:
    checkin_count = sum(1 for k in went_by if k == CheckinKind.CHECKIN)
    names = [{0: "", 1: "a check-in"}.get(checkin_count, "a few check-ins")]
    names += [WENT_BY[k] for k in dict.fromkeys(went_by) if k in WENT_BY]
    said = join_words(names)
    title = (
        "A check-in, whenever you're ready"
        if checkin_count == len(went_by)
        else "A few things, whenever you're ready"
    )
    body = (
        f"{said[:1].upper()}{said[1:]} went by while you were away, and that's fine. "
        f"Here is one for now: {prompt}"
    )
    if any(k != kind for k in went_by):
        body += (
            "\n\nThe others are still here when you want them: `companion checkin` "
            "answers them one at a time."
        )
    return title, body


LISTENING = "Listening now: say your answer, and pause when you're done."

# What the weekly review and the session reminder point to.
LOOK_BACK: dict[str, str] = {
    CheckinKind.WEEKLY: "Your week at a glance: companion week",
    CheckinKind.SESSION_PREP: "What to bring, on one page: companion brief",
}


# ---------------------------------------------------------------- answering (called by `checkin`)
def _pending(store: Store) -> Row:
    row = store.pending_delivery()
    if row is None:
        raise NotFoundError(
            "no check-in is waiting right now. You can still write one: "
            'companion checkin --text "..."'
        )
    return row


def answer_pending(store: Store, entry_id: int, now: datetime) -> Row:
    """Mark the waiting check-in answered by entry `entry_id`."""
    row = _pending(store)
    return store.set_delivery(
        int(row["id"]), Status.ANSWERED, answered_at=stamp(now)[0], entry_id=entry_id
    )


def snooze_pending(store: Store, settings: Settings, now: datetime) -> Row:
    """Ask for the waiting check-in again after `snooze_minutes`."""
    row = _pending(store)
    return snooze(store, settings, int(row["id"]), now)


def snooze(store: Store, settings: Settings, delivery_id: int, now: datetime) -> Row:
    """Snooze one delivery by id."""
    until = now + timedelta(minutes=settings.checkins.snooze_minutes)
    return store.set_delivery(delivery_id, Status.SNOOZED, snoozed_until=stamp(until)[0])


def skip_pending(store: Store, now: datetime) -> Row:
    """Let the waiting check-in go (recorded as skipped; nothing more is asked)."""
    row = _pending(store)
    return store.set_delivery(int(row["id"]), Status.SKIPPED, answered_at=stamp(now)[0])
