"""Sessions: typed appointments, calendar import with recurrence and time zones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from companion import sessions
from companion.errors import InputError
from companion.store import Store

ICS = Path(__file__).parent / "data" / "ics"
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def new_york(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's zone is New York in these tests (DST starts on 8 March 2026)."""
    monkeypatch.setenv("TZ", "America/New_York")


def test_parse_when_reads_the_forms_people_type() -> None:
    assert sessions.parse_when("2026-12-01 15:00", NOW) == datetime(2026, 12, 1, 15, tzinfo=NY)
    assert sessions.parse_when("tomorrow 15:00", NOW) == datetime(2026, 2, 21, 15, tzinfo=NY)
    assert sessions.parse_when("today 15:00", NOW) == datetime(2026, 2, 20, 15, tzinfo=NY)
    # NOW is a Friday: "friday" means next week's, "monday" the coming one.
    assert sessions.parse_when("friday 9:30", NOW) == datetime(2026, 2, 27, 9, 30, tzinfo=NY)
    assert sessions.parse_when("monday 10:00", NOW) == datetime(2026, 2, 23, 10, tzinfo=NY)
    assert sessions.parse_when("7d", NOW) == NOW + timedelta(days=7)


@pytest.mark.parametrize(
    "text", ["someday", "2026-12-01", "tomorrow", "tomorrow 25:00", "2026-13-01 10:00"]
)
def test_parse_when_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(InputError):
        sessions.parse_when(text, NOW)


def test_parse_every() -> None:
    assert sessions.parse_every("week") == 7
    assert sessions.parse_every("2 weeks") == 14
    assert sessions.parse_every("fortnight") == 14
    assert sessions.parse_every("10 days") == 10
    with pytest.raises(InputError):
        sessions.parse_every("sometimes")
    with pytest.raises(InputError):
        sessions.parse_every("0 weeks")


def test_weekly_session_keeps_its_local_time_across_daylight_saving(store: Store) -> None:
    starts = sessions.parse_when("2026-03-03 15:00", NOW)
    row = sessions.add_session(store, starts, every_days=7, title="Dr. Rivera")
    assert row["tzid"] == "America/New_York"
    found = sessions.upcoming_sessions(store, NOW)
    assert len(found) == 51  # 3 March 2026 up to a year after NOW (20 Feb 2027)
    assert {o.starts.astimezone(NY).hour for o in found} == {15}
    utc_hours = {o.starts.astimezone(UTC).hour for o in found}
    assert utc_hours == {19, 20}  # the UTC time moves with DST; the local one does not


def test_every_two_weeks_and_next_and_last(store: Store) -> None:
    sessions.add_session(store, datetime(2026, 1, 6, 17, tzinfo=NY), every_days=14)
    nxt = sessions.next_session(store, NOW)
    last = sessions.last_session(store, NOW)
    assert nxt is not None and last is not None
    assert last.starts == datetime(2026, 2, 17, 17, tzinfo=NY)
    assert nxt.starts == datetime(2026, 3, 3, 17, tzinfo=NY)
    assert sessions.next_session(store, NOW + timedelta(days=400)) is not None


def test_no_sessions_means_none_not_an_error(store: Store) -> None:
    assert sessions.next_session(store, NOW) is None
    assert sessions.last_session(store, NOW) is None
    assert sessions.upcoming_sessions(store, NOW) == []


def _library_expansion(path: Path, start: datetime, end: datetime, match: str) -> list[datetime]:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return sorted(
        e["DTSTART"].dt
        for e in recurring_ical_events.of(calendar).between(start, end)
        if match.lower() in str(e.get("SUMMARY")).lower()
    )


def test_import_with_rrule_exdate_moved_occurrence_and_time_zone(store: Store) -> None:
    path = ICS / "therapist_weekly.ics"
    rows = sessions.import_calendar(store, path, now=NOW, match="rivera")
    assert len(rows) == 2  # the series and its moved occurrence; the dentist is left out
    end = NOW + timedelta(days=120)
    found = sessions.occurrences(store, NOW - timedelta(days=10), end)
    starts = [o.starts for o in found]
    assert starts == _library_expansion(path, NOW - timedelta(days=10), end, "rivera")
    assert datetime(2026, 3, 10, 17, tzinfo=NY) not in starts  # EXDATE
    assert datetime(2026, 3, 24, 17, tzinfo=NY) not in starts  # moved ...
    assert datetime(2026, 3, 26, 9, tzinfo=NY) in starts  # ... to here
    assert datetime(2026, 3, 17, 21, tzinfo=UTC) in starts  # after DST: 17:00 EDT
    assert datetime(2026, 3, 3, 22, tzinfo=UTC) in starts  # before DST: 17:00 EST
    assert starts[-1] == datetime(2026, 4, 28, 17, tzinfo=NY)  # UNTIL


def test_reimport_updates_by_uid_instead_of_doubling(store: Store, tmp_path: Path) -> None:
    path = ICS / "therapist_weekly.ics"
    sessions.import_calendar(store, path, now=NOW)
    sessions.import_calendar(store, path, now=NOW)
    assert len(store.rows("sessions")) == 3
    changed = tmp_path / "changed.ics"
    changed.write_text(path.read_text().replace("Dentist check-up", "Dentist, moved desk"))
    sessions.import_calendar(store, changed, now=NOW)
    titles = sorted(r["title"] for r in store.rows("sessions"))
    assert len(titles) == 3 and "Dentist, moved desk" in titles


def test_match_reads_the_organizer_name(store: Store) -> None:
    rows = sessions.import_calendar(
        store, ICS / "therapist_weekly.ics", now=NOW, match="Ana Rivera"
    )
    assert {r["uid"].split("#")[0] for r in rows} == {"series-rivera-0001@example.test"}
    assert (
        sessions.import_calendar(store, ICS / "therapist_weekly.ics", now=NOW, match="nobody") == []
    )


def test_all_day_events_utc_and_cancelled(store: Store) -> None:
    sessions.import_calendar(store, ICS / "all_day_and_utc.ics", now=NOW)
    found = sessions.occurrences(store, NOW, NOW + timedelta(days=120))
    all_day = [o for o in found if o.all_day]
    assert [o.starts for o in all_day] == [datetime(2026, 3, 15, 0, 0, tzinfo=NY)]
    berlin = [o for o in found if "Berlin" in o.title]
    assert len(berlin) == 4  # COUNT=4, every two weeks
    assert berlin[0].starts == datetime(2026, 3, 20, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin[0].ends == berlin[0].starts + timedelta(minutes=50)
    assert not [o for o in found if "Cancelled" in o.title]


@pytest.mark.parametrize("name", ["malformed.ics", "not_a_calendar.ics"])
def test_broken_file_is_a_clear_error_and_nothing_is_imported(store: Store, name: str) -> None:
    sessions.add_session(store, NOW + timedelta(days=1))
    before = store.rows("sessions")
    with pytest.raises(InputError, match="Nothing was imported"):
        sessions.import_calendar(store, ICS / name, now=NOW)
    assert store.rows("sessions") == before


def test_broken_repeat_rule_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rule.ics"
    path.write_text(
        (ICS / "therapist_weekly.ics")
        .read_text()
        .replace("FREQ=WEEKLY;BYDAY=TU", "FREQ=SOMETIMES;BYDAY=XX")
    )
    with pytest.raises(InputError, match="Nothing was imported"):
        sessions.import_calendar(store, path, now=NOW)
    assert store.rows("sessions") == []


def test_missing_file_is_an_input_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="there is no such file"):
        sessions.import_calendar(store, tmp_path / "nope.ics", now=NOW)


def test_cli_add_list_remove(cli) -> None:  # type: ignore[no-untyped-def]
    added = json.loads(
        cli(
            "session",
            "add",
            "tomorrow",
            "15:00",
            "--every",
            "2 weeks",
            "--title",
            "Dr. Rivera",
            "--json",
        ).stdout
    )
    every = json.loads(cli("session", "list", "--upcoming", "--all", "--json").stdout)
    assert 26 <= len(every) <= 27 and every[0]["title"] == "Dr. Rivera"
    [series] = json.loads(cli("session", "list", "--upcoming", "--json").stdout)
    assert series["next"] == [o["starts"] for o in every[:3]]
    assert series["more_ahead"] == len(every) - 3 and series["recurring"]
    shown = cli("session", "list").stdout.splitlines()
    assert len(shown) == 1 and "Dr. Rivera (repeats)" in shown[0] and "next:" in shown[0]
    cli("session", "remove", str(added["id"]))
    assert "No sessions yet" in cli("session", "list").stdout
    missing = cli("session", "remove", str(added["id"]), ok=False)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: there is no session")


def test_cli_import_and_errors(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("session", "import", str(ICS / "therapist_weekly.ics"), "--match", "rivera")
    assert "Imported 2 sessions" in out.stdout
    bad = cli("session", "import", str(ICS / "malformed.ics"), ok=False)
    assert bad.exit_code == 1 and "Nothing was imported" in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout
    when = cli("session", "add", "someday", ok=False)
    assert when.exit_code == 1 and when.stderr.startswith("error:")
    every = cli("session", "add", "tomorrow 10:00", "--every", "often", ok=False)
    assert every.exit_code == 1 and "--every" in every.stderr


@pytest.mark.parametrize(
    ("every", "said"),
    [
        ("week", "every week"),
        ("2 weeks", "every 2 weeks"),
        ("10 days", "every 10 days"),
        ("1d", "every day"),
    ],
)
def test_cli_add_echoes_the_repeat_as_it_was_meant(
    cli,
    every: str,  # type: ignore[no-untyped-def]
    said: str,
) -> None:
    out = cli("session", "add", "tomorrow 15:00", "--every", every).stdout
    assert out.rstrip().endswith(f", {said}.")


def test_session_list_shows_each_series_once_and_past_ones_last(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now().astimezone()
    sessions.add_session(store, now - timedelta(days=20), title="Intake")
    sessions.add_session(store, now - timedelta(days=13, hours=1), every_days=7, title="Weekly")
    rows = json.loads(cli("session", "list", "--json").stdout)
    assert [r["title"] for r in rows] == ["Weekly", "Intake"]
    assert rows[0]["last"] is not None and len(rows[0]["next"]) == 3
    assert rows[1]["next"] == [] and rows[1]["more_ahead"] == 0
    lines = cli("session", "list").stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("✓") and "last:" in lines[1]
    assert len(cli("session", "list", "--all").stdout.splitlines()) > 50


# ---------------------------------------------------------------- the therapist's notes
def test_session_note_belongs_to_the_latest_session(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    from companion.session_notes import THERAPIST_PROMPT, week_prompt

    now = datetime.now().astimezone()
    older = sessions.add_session(store, now - timedelta(days=9), title="Before")
    latest = sessions.add_session(store, now - timedelta(hours=3), title="Dr. Rivera")
    note = json.loads(cli("session", "note", "Notice the body first.", "--json").stdout)
    assert note["kind"] == "therapist" and note["session_id"] == latest["id"]
    again = json.loads(
        cli("session", "note", str(older["id"]), "-", "--json", input="Small steps count.\n").stdout
    )
    assert again["session_id"] == older["id"] and again["text"] == "Small steps count."
    prompt = week_prompt(store, datetime.now().astimezone())
    assert prompt is not None and prompt.entry_id == again["id"]
    assert prompt.prompt == THERAPIST_PROMPT and "Small steps" not in prompt.prompt
    assert prompt.note == "Small steps count."
    assert week_prompt(store, now + timedelta(days=8)) is None


def test_session_note_errors(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    missing = cli("session", "note", "42", "Try it", ok=False)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: there is no session with id 42")
    assert cli("session", "note", ok=False).exit_code == 2
    alone = cli("session", "note", "Be kind", "to the part", "that worries.")
    assert "no session is on record yet" in alone.stdout
    assert [(e["text"], e["session_id"]) for e in store.entries()] == [
        ("Be kind to the part that worries.", None)
    ]


# ---------------------------------------------------------------- bounded recurrence (issue 15)
def _calendar(tmp_path: Path, *events: str) -> Path:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@test\r\nDTSTAMP:20260101T000000Z\r\n"
        f"SUMMARY:Session {i}\r\n{event}\r\nEND:VEVENT\r\n"
        for i, event in enumerate(events)
    )
    path = tmp_path / "calendar.ics"
    path.write_text(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{body}END:VCALENDAR\r\n"
    )
    return path


@pytest.mark.parametrize(
    "rule",
    [
        "DTSTART;TZID=America/New_York:19950106T170000\r\nRRULE:FREQ=DAILY;INTERVAL=3",
        "DTSTART;TZID=America/New_York:20010102T090000\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        "DTSTART:20050315T150000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=2WE",
        "DTSTART;TZID=America/New_York:20010310T100000\r\nRRULE:FREQ=MONTHLY;INTERVAL=5",
        "DTSTART;VALUE=DATE:19980303\r\nRRULE:FREQ=YEARLY",
        "DTSTART;TZID=America/New_York:20260101T080000\r\nRRULE:FREQ=HOURLY;INTERVAL=7",
        "DTSTART;TZID=America/New_York:20251220T170000\r\nRRULE:FREQ=DAILY;COUNT=70",
        "DTSTART;TZID=America/New_York:20100105T170000\r\nRRULE:FREQ=WEEKLY;UNTIL=20260315T000000Z",
    ],
)
def test_series_begun_long_ago_give_the_same_dates_as_the_calendar_library(
    store: Store, tmp_path: Path, rule: str
) -> None:
    """Series are jumped forward to the window, not walked from their first date; the
    dates they give are still exactly those recurring-ical-events finds."""
    path = _calendar(tmp_path, rule)
    sessions.import_calendar(store, path, now=NOW)
    start, end = NOW - timedelta(days=20), NOW + timedelta(days=45)
    got = [o.starts for o in sessions.occurrences(store, start, end)]
    expected = [
        datetime.combine(d, datetime.min.time(), tzinfo=NY) if not isinstance(d, datetime) else d
        for d in _library_expansion(path, start, end, "session")
    ]
    assert got == [d for d in expected if start <= d < end]
    assert got


def test_a_rule_that_repeats_every_second_forever_is_bounded(store: Store, tmp_path: Path) -> None:
    from companion import recurrence

    path = _calendar(
        tmp_path,
        "DTSTART:20240101T150000Z\r\nRRULE:FREQ=SECONDLY",
        "DTSTART:20250101T150000Z\r\nRRULE:FREQ=MINUTELY",
        "DTSTART;TZID=America/New_York:20260225T170000\r\nRRULE:FREQ=WEEKLY",
    )
    sessions.import_calendar(store, path, now=NOW)
    found = sessions.occurrences(store, NOW - timedelta(days=90), NOW + sessions.YEAR)
    by_series = {o.session_id: 0 for o in found}
    for occ in found:
        by_series[occ.session_id] += 1
    assert len(found) <= sessions.MAX_OCCURRENCES
    assert max(by_series.values()) <= recurrence.MAX_PER_SERIES
    upcoming = sessions.next_session(store, NOW)
    assert upcoming is not None and upcoming.starts - NOW <= timedelta(seconds=1)
    last = sessions.last_session(store, NOW)
    assert last is not None and NOW - last.starts <= timedelta(seconds=1)


def test_a_step_past_the_year_9999_ends_the_series(store: Store, tmp_path: Path) -> None:
    path = _calendar(
        tmp_path,
        "DTSTART:20260224T170000Z\r\nRRULE:FREQ=DAILY;INTERVAL=2000000000",
        "DTSTART:20260225T170000Z\r\nRRULE:FREQ=YEARLY;INTERVAL=9000",
    )
    sessions.import_calendar(store, path, now=NOW)
    found = sessions.occurrences(store, NOW, NOW + sessions.YEAR)
    assert [o.starts.day for o in found] == [24, 25]


def test_every_is_at_most_a_year() -> None:
    assert sessions.parse_every("52 weeks") == 364
    with pytest.raises(InputError, match="at most a year"):
        sessions.parse_every("99999999999 days")
