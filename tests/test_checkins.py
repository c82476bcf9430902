"""The check-in planner, stepped with an injected clock: a week, a long sleep, a restart,
both DST days of America/New_York in 2026, quiet hours, snoozes and answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from companion import checkins
from companion.adapters.notify import Notice
from companion.clock import FixedClock
from companion.config import DAY_NAMES, ScheduleEntry, Settings, load_settings
from companion.daemon import Deliverer
from companion.errors import NotFoundError
from companion.store import EntryDraft, Store

NY = ZoneInfo("America/New_York")


class StepClock:
    """A clock the test moves; steps are real elapsed time (UTC arithmetic), as across DST."""

    def __init__(self, start: datetime):
        self._utc = start.astimezone(UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._utc.astimezone(NY)

    def monotonic(self) -> float:
        return self._mono

    def advance(self, delta: timedelta) -> None:
        self._utc += delta
        self._mono += delta.total_seconds()

    def set(self, when: datetime) -> None:
        self._utc = when.astimezone(UTC)


class RecordingBackend:
    """Keeps every notice it is given, with the time it was sent."""

    name = "recording"
    supports_actions = True

    def __init__(self, clock: StepClock):
        self.clock = clock
        self.sent: list[tuple[datetime, Notice]] = []

    def send(self, notice: Notice) -> int:
        self.sent.append((self.clock.now(), notice))
        return len(self.sent)

    def listen(self, on_action: Any) -> None:
        return None

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None


def make_settings(
    schedule: tuple[ScheduleEntry, ...] | None = None, **checkin_values: Any
) -> Settings:
    base = load_settings(None)
    c = base.checkins._replace(**checkin_values)
    if schedule is not None:
        c = c._replace(schedule=schedule)
    return base._replace(checkins=c)


def entry(name: str, at: str, days: tuple[str, ...] = DAY_NAMES, **kw: Any) -> ScheduleEntry:
    hh, mm = at.split(":")
    return ScheduleEntry(name=name, time=time(int(hh), int(mm)), days=days, **kw)


class Sim:
    """A Deliverer over a real database, driven by the test's clock."""

    def __init__(self, db: Path, settings: Settings, start: datetime, since: datetime | None):
        self.clock = StepClock(start)
        self.backend = RecordingBackend(self.clock)
        self.store = Store.open(db, clock=self.clock)
        self.since = since or start
        self.deliverer = Deliverer(self.store, settings, self.backend, self.clock, since=self.since)

    def tick(self) -> datetime:
        return self.deliverer.tick(self.clock.now())

    def run_until(self, end: datetime, *, step: timedelta | None = None) -> None:
        """Like the daemon: wake at the next due time (or every `step`), until `end`."""
        while self.clock.now() < end:
            wake = self.tick()
            target = self.clock.now() + step if step else wake
            target = min(max(target, self.clock.now() + timedelta(seconds=1)), end)
            self.clock.set(target)
        self.tick()

    def restart(self, settings: Settings) -> None:
        self.store.close()
        self.store = Store.open(self.store.path, clock=self.clock)
        self.deliverer = Deliverer(self.store, settings, self.backend, self.clock, since=self.since)

    def sent_times(self) -> list[str]:
        return [when.strftime("%m-%d %H:%M") for when, _ in self.backend.sent]


@pytest.fixture
def sim_factory(home: Path) -> Iterator[Any]:
    made: list[Sim] = []

    def make(settings: Settings, start: datetime, since: datetime | None = None) -> Sim:
        sim = Sim(home / "companion.db", settings, start, since)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.store.close()


# ---------------------------------------------------------------- wall times and DST
def test_time_skipped_by_spring_forward_fires_at_next_valid_minute() -> None:
    due = checkins.wall_time(datetime(2026, 3, 8).date(), time(2, 30), NY)
    assert due.strftime("%H:%M %z") == "03:00 -0400"


def test_time_repeated_by_fall_back_is_the_first_one() -> None:
    due = checkins.wall_time(datetime(2026, 11, 1).date(), time(1, 30), NY)
    assert due.strftime("%H:%M %z") == "01:30 -0400"


def test_monthly_schedule_only_on_its_day() -> None:
    friend = entry("friend", "18:30", kind="friend", day_of_month=1)
    start = datetime(2026, 5, 20, tzinfo=NY)
    dues = checkins.schedule_dues(friend, start, start + timedelta(days=60))
    assert [d.strftime("%m-%d") for d in dues] == ["06-01", "07-01"]


def test_quiet_hours_hold_until_they_end() -> None:
    s = make_settings()  # quiet 22:00-08:00 by default
    late = datetime(2026, 6, 1, 23, 15, tzinfo=NY)
    early = datetime(2026, 6, 2, 6, 0, tzinfo=NY)
    assert checkins.release_time(late, s) == datetime(2026, 6, 2, 8, 0, tzinfo=NY)
    assert checkins.release_time(early, s) == datetime(2026, 6, 2, 8, 0, tzinfo=NY)
    noon = datetime(2026, 6, 2, 12, 0, tzinfo=NY)
    assert checkins.release_time(noon, s) == noon
    none = make_settings(quiet_start=None, quiet_end=None)
    assert checkins.release_time(late, none) == late


# ---------------------------------------------------------------- stepping through time
def test_a_week_sends_each_checkin_once_on_time(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 9, 0, tzinfo=NY))  # a Monday
    sim.run_until(datetime(2026, 6, 8, 0, 0, tzinfo=NY))
    times = sim.sent_times()
    evenings = [f"06-0{d} 20:00" for d in range(1, 8)]
    assert sorted(times) == sorted([*evenings, "06-01 18:30", "06-07 18:00"])
    titles = {n.title for _, n in sim.backend.sent}
    assert "A look back at your week" in titles
    assert len(sim.store.deliveries()) == 9


def test_a_week_stepped_each_five_minutes_sends_the_same(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 9, 0, tzinfo=NY))
    sim.run_until(datetime(2026, 6, 8, 0, 0, tzinfo=NY), step=timedelta(minutes=5))
    assert len(sim.backend.sent) == 9


def test_checkins_missed_during_three_day_sleep_are_sent_once(sim_factory: Any) -> None:
    settings = make_settings(missed_max_age_hours=48.0)
    sim = sim_factory(settings, datetime(2026, 6, 1, 19, 0, tzinfo=NY))
    sim.tick()
    sim.clock.set(datetime(2026, 6, 4, 21, 0, tzinfo=NY))  # the lid opens three days later
    sim.tick()
    assert len(sim.backend.sent) == 1
    title, body = sim.backend.sent[0][1].title, sim.backend.sent[0][1].body
    assert "whenever you're ready" in title and "went by while you were away" in body
    statuses = {(r["due_at"][:10], r["status"]) for r in sim.store.deliveries()}
    assert statuses == {("2026-06-03", "missed"), ("2026-06-04", "notified")}
    sim.run_until(datetime(2026, 6, 5, 19, 59, tzinfo=NY), step=timedelta(minutes=1))
    assert len(sim.backend.sent) == 1


def test_missed_older_than_the_limit_is_let_go(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 19, 0, tzinfo=NY))
    sim.tick()
    sim.clock.set(datetime(2026, 6, 5, 10, 0, tzinfo=NY))  # 14 h after the last evening
    sim.tick()
    assert sim.backend.sent == []


@pytest.mark.parametrize(("policy", "sent"), [("latest", 1), ("drop", 0)])
def test_missed_policy(sim_factory: Any, policy: str, sent: int) -> None:
    settings = make_settings(missed=policy, missed_max_age_hours=48.0)
    sim = sim_factory(
        settings, datetime(2026, 6, 4, 21, 0, tzinfo=NY), since=datetime(2026, 6, 1, tzinfo=NY)
    )
    sim.tick()
    assert len(sim.backend.sent) == sent
    if sent:
        assert "went by" not in sim.backend.sent[0][1].body


def test_restart_sends_nothing_twice(sim_factory: Any) -> None:
    settings = make_settings()
    sim = sim_factory(
        settings, datetime(2026, 6, 1, 20, 0, 30, tzinfo=NY), since=datetime(2026, 6, 1, tzinfo=NY)
    )
    sim.tick()
    sim.restart(settings)
    sim.tick()
    sim.clock.advance(timedelta(minutes=5))
    sim.restart(settings)
    sim.tick()
    assert len(sim.backend.sent) == 1


def test_clock_set_back_does_not_repeat(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 20, 0, tzinfo=NY))
    sim.tick()
    sim.clock.set(datetime(2026, 6, 1, 19, 30, tzinfo=NY))
    sim.run_until(datetime(2026, 6, 1, 20, 30, tzinfo=NY), step=timedelta(minutes=1))
    assert len(sim.backend.sent) == 1


def test_spring_forward_day_fires_once_at_next_valid_minute(sim_factory: Any) -> None:
    settings = make_settings((entry("night", "02:30"),), quiet_start=None, quiet_end=None)
    sim = sim_factory(settings, datetime(2026, 3, 7, 12, 0, tzinfo=NY))
    sim.run_until(datetime(2026, 3, 9, 12, 0, tzinfo=NY), step=timedelta(minutes=1))
    assert sim.sent_times() == ["03-08 03:00", "03-09 02:30"]


def test_fall_back_day_fires_once(sim_factory: Any) -> None:
    settings = make_settings((entry("night", "01:30"),), quiet_start=None, quiet_end=None)
    sim = sim_factory(settings, datetime(2026, 10, 31, 12, 0, tzinfo=NY))
    sim.run_until(datetime(2026, 11, 2, 12, 0, tzinfo=NY), step=timedelta(minutes=1))
    assert sim.sent_times() == ["11-01 01:30", "11-02 01:30"]
    first = sim.backend.sent[0][0]
    assert first.utcoffset() == timedelta(hours=-4)  # the first 01:30, still on daylight time


def test_quiet_hours_deliver_once_when_they_end(sim_factory: Any) -> None:
    settings = make_settings((entry("late", "23:00"), entry("early", "07:00")))
    sim = sim_factory(settings, datetime(2026, 6, 1, 12, 0, tzinfo=NY))
    sim.run_until(datetime(2026, 6, 2, 12, 0, tzinfo=NY), step=timedelta(minutes=1))
    assert sim.sent_times() == ["06-02 08:00"]
    statuses = sorted(r["status"] for r in sim.store.deliveries())
    assert statuses == ["missed", "notified"]


def test_no_nagging_after_writing(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 19, 40, tzinfo=NY))
    saved = sim.store.add_entry(EntryDraft("reflection", "a quiet walk helped"))
    sim.run_until(datetime(2026, 6, 1, 20, 30, tzinfo=NY), step=timedelta(minutes=1))
    assert sim.backend.sent == []
    (row,) = sim.store.deliveries()
    assert row["status"] == "answered" and row["entry_id"] == saved["id"]


def test_notification_never_holds_what_was_written(sim_factory: Any) -> None:
    sim = sim_factory(
        make_settings(skip_if_wrote_within_minutes=0), datetime(2026, 6, 1, 19, 40, tzinfo=NY)
    )
    sim.store.add_entry(EntryDraft("reflection", "zebra-secret-words"))
    sim.run_until(datetime(2026, 6, 1, 20, 1, tzinfo=NY), step=timedelta(minutes=1))
    assert len(sim.backend.sent) == 1
    assert all("zebra" not in n.title + n.body for _, n in sim.backend.sent)


# ---------------------------------------------------------------- answering, snoozing, skipping
def test_snooze_brings_it_back_once(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 20, 0, tzinfo=NY))
    sim.tick()
    row = checkins.snooze_pending(sim.store, sim.deliverer.settings, sim.clock.now())
    assert row["status"] == "snoozed"
    sim.run_until(datetime(2026, 6, 1, 21, 30, tzinfo=NY), step=timedelta(minutes=1))
    assert sim.sent_times() == ["06-01 20:00", "06-01 20:30"]
    assert sim.store.delivery(row["id"])["status"] == "notified"


def test_answer_and_skip_the_pending_checkin(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 20, 0, tzinfo=NY))
    with pytest.raises(NotFoundError, match="no check-in is waiting"):
        checkins.answer_pending(sim.store, 1, sim.clock.now())
    sim.tick()
    saved = sim.store.add_entry(EntryDraft("checkin", "tired but ok"))
    row = checkins.answer_pending(sim.store, saved["id"], sim.clock.now())
    assert row["status"] == "answered" and row["entry_id"] == saved["id"]
    with pytest.raises(NotFoundError):
        checkins.skip_pending(sim.store, sim.clock.now())
    sim.clock.set(datetime(2026, 6, 2, 20, 0, tzinfo=NY))
    sim.tick()
    assert checkins.skip_pending(sim.store, sim.clock.now())["status"] == "skipped"


def test_buttons_snooze_and_skip(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 20, 0, tzinfo=NY))
    sim.tick()
    notice = sim.backend.sent[0][1]
    keys = [k for k, _ in notice.actions]
    assert [label for _, label in notice.actions] == ["Snooze", "Skip"]  # no terminal, no voice
    assert "companion checkin" in notice.body
    sim.deliverer.handle_action(keys[1], 1, sim.clock.now())
    assert sim.store.deliveries()[0]["status"] == "skipped"


# ---------------------------------------------------------------- sessions
def test_session_prep_and_follow_up(sim_factory: Any) -> None:
    sim = sim_factory(make_settings(), datetime(2026, 6, 1, 12, 0, tzinfo=NY))
    sim.store.upsert_session(
        {
            "starts": datetime(2026, 6, 3, 15, 0, tzinfo=NY),
            "uid": "s1",
            "title": "Dr. Private Name",
            "source": "typed",
            "every_days": 7,
        }
    )
    sim.run_until(datetime(2026, 6, 11, 0, 0, tzinfo=NY))
    kinds = [
        (w.strftime("%m-%d %H:%M"), n.title)
        for w, n in sim.backend.sent
        if n.title.startswith(("Your session", "After"))
    ]
    assert kinds == [
        ("06-02 19:00", "Your session is coming up"),
        ("06-03 17:00", "After your session"),
        ("06-09 19:00", "Your session is coming up"),
        ("06-10 17:00", "After your session"),
    ]
    assert all("Private" not in n.body for _, n in sim.backend.sent)


def test_weekly_review_and_session_prep_point_to_the_week_and_the_brief() -> None:
    assert "companion week" in checkins.notice_text("weekly", "What felt different?")[1]
    assert "companion brief" in checkins.notice_text("session-prep", "Ready?")[1]
    assert "companion" not in checkins.notice_text("checkin", "How are you?")[1]


# ---------------------------------------------------------------- catch-up after the daemon was off
def catch_up_after_being_off(
    home: Path, settings: Settings, *, last_ran: datetime, back: datetime, session: datetime
) -> tuple[Any, Store]:
    """The daemon ran at `last_ran`, was off, and makes one pass at `back` (like `run --once`)."""
    clock = FixedClock(last_ran)
    store = Store.open(home / "companion.db", clock=clock)
    store.upsert_session(
        {"starts": session, "uid": "s1", "title": "Dr. Private Name", "source": "typed"}
    )
    backend = RecordingBackend(clock)  # type: ignore[arg-type]
    Deliverer(store, settings, backend, clock, since=last_ran).tick(clock.now())
    assert backend.sent == []
    clock.set(back)
    Deliverer(store, settings, backend, clock, since=last_ran).tick(clock.now())
    return backend, store


def test_catch_up_is_one_note_naming_session_reminders_which_stay_answerable(home: Path) -> None:
    settings = make_settings(missed_max_age_hours=24.0)
    backend, store = catch_up_after_being_off(
        home,
        settings,
        last_ran=datetime(2026, 6, 2, 18, 0, tzinfo=NY),
        back=datetime(2026, 6, 3, 12, 30, tzinfo=NY),  # prep 19:00, check-in 20:00, follow-up
        session=datetime(2026, 6, 3, 10, 0, tzinfo=NY),
    )  # 12:00 all went by meanwhile
    (notice,) = [n for _, n in backend.sent]
    assert "whenever you're ready" in notice.title
    assert (
        "a check-in, the reminder to get ready for your session and the follow-up after "
        "your session went by while you were away" in notice.body.lower()
    )
    assert "Private" not in notice.body
    status = {r["kind"]: r["status"] for r in store.deliveries()}
    assert status == {
        "checkin": "notified",
        "session-prep": "notified",
        "session-follow-up": "notified",
    }
    answered = []
    for text in ("one", "two", "three"):  # `companion checkin` answers them one at a time
        saved = store.add_entry(EntryDraft("checkin", text))
        answered.append(checkins.answer_pending(store, saved["id"], store.clock.now())["kind"])
    assert answered == ["session-follow-up", "checkin", "session-prep"]
    store.close()


def test_checkins_held_by_quiet_hours_come_as_one_note(home: Path) -> None:
    settings = make_settings((entry("morning", "07:00"),), missed_max_age_hours=12.0)
    settings = settings._replace(
        sessions=settings.sessions._replace(prep_days_before=0, prep_time=time(21, 0)),
    )
    backend, store = catch_up_after_being_off(
        home,
        settings,
        last_ran=datetime(2026, 6, 2, 20, 0, tzinfo=NY),
        back=datetime(2026, 6, 3, 8, 5, tzinfo=NY),  # follow-up 01:00 and 07:00 held till 8
        session=datetime(2026, 6, 2, 23, 0, tzinfo=NY),
    )  # prep at 21:00 the same evening
    assert len(backend.sent) == 1
    assert "the reminder to get ready" in backend.sent[0][1].body
    assert "the follow-up after your session" in backend.sent[0][1].body
    assert sorted(r["status"] for r in store.deliveries()) == ["notified"] * 3
    store.close()


# ---------------------------------------------------------------- the therapist's note
def test_the_week_after_a_therapist_note_asks_about_it_once(sim_factory: Any, home: Path) -> None:
    from companion.session_notes import THERAPIST_PROMPT
    from companion.store import EntryDraft
    from companion.vocab import EntryKind

    start = datetime(2026, 5, 4, 7, 0, tzinfo=NY)
    sim = sim_factory(make_settings((entry("evening", "19:00"),)), start)
    sim.store.add_entry(
        EntryDraft(EntryKind.THERAPIST, "try the two-minute pause", when=start - timedelta(hours=1))
    )
    sim.run_until(start + timedelta(days=3))
    prompts = [d["prompt"] for d in sim.store.deliveries()]
    assert prompts[0] == THERAPIST_PROMPT and prompts.count(THERAPIST_PROMPT) == 1
    assert "two-minute" not in " ".join(n.body for _, n in sim.backend.sent)  # never quoted


def test_clear_leftovers_wipes_an_editors_scratch_files(home: Path) -> None:
    """What the daemon runs at start (run_daemon), and edit before it opens an editor."""
    from companion.editing import clear_leftovers
    from companion.paths import resolve_paths

    paths = resolve_paths()
    paths.tmp_dir.mkdir(parents=True)
    (paths.tmp_dir / "edit-1.txt").write_text("words being edited when the power went")
    assert clear_leftovers(paths) == 1 and not list(paths.tmp_dir.iterdir())
