"""Measures on histories built in the test, through a real store file."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from companion import progress
from companion.brief import Span, compose, gather
from companion.store import EntryDraft, Store

TZ = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=TZ)  # a Monday


def week(n: int, day: int = 1, hour: int = 0) -> datetime:
    """A time in week n (0-based) of the built history."""
    return MONDAY + timedelta(weeks=n, days=day, hours=hour)


def measure(store: Store, weeks: int) -> dict:
    end = MONDAY + timedelta(weeks=weeks)
    return progress.measure(gather(store, Span(MONDAY, end, "test")), MONDAY, end)


def test_steady_improvement_shows_sooner(store: Store) -> None:
    # The previous period (4 weeks before) took 30-40 minutes; this one comes down to 10.
    for i, minutes in enumerate([40, 35, 30, 32]):
        store.add_moment(7, steady_minutes=minutes, when=MONDAY - timedelta(weeks=4 - i))
    for i, minutes in enumerate([25, 20, 15, 10]):
        store.add_moment(6, steady_minutes=minutes, when=week(i))
        store.add_moment(5, steady_minutes=minutes + 2, when=week(i, day=3))
    m = measure(store, 4)
    assert [w["steady_median"] for w in m["weeks"][:4]] == [26.0, 21.0, 16.0, 11.0]
    assert m["steady"]["direction"] == "sooner"
    assert m["steady"]["previous_median"] == 33.5
    assert m["harder_weeks"] == 0


def test_a_setback_week_is_marked_and_stays_in_the_line(store: Store) -> None:
    for i, minutes in enumerate([20, 18, 45, 15, 12]):
        store.add_moment(6, steady_minutes=minutes, when=week(i))
        store.add_entry(EntryDraft("checkin", "ok", mood=2 if i == 2 else 4, when=week(i)))
    m = measure(store, 5)
    harder = [w["week"] for w in m["weeks"] if w["harder"]]
    assert harder == [progress.week_of(week(2)).isoformat()]
    assert [w["steady_median"] for w in m["weeks"][:5]] == [20, 18, 45, 15, 12]
    data = compose(
        gather(store, Span(MONDAY, week(5, 0), "test")),
        Span(MONDAY, week(5, 0), "test"),
        now=week(5, 0),
    )
    assert "harder weeks" in data["opening"].lower() and "part of the work" in data["opening"]
    assert "fail" not in str(data).lower()


def test_a_three_week_gap_lowers_scores_a_little_and_never_to_zero(store: Store) -> None:
    for i in (0, 1, 2, 6, 7):  # practice, then weeks 3-5 empty, then back
        for d in range(3):
            store.add_skill_use("box breathing", helped=7, when=week(i, day=d))
    m = measure(store, 8)
    line = next(p for p in m["practice"] if p["skill"] == "box breathing")["line"]
    first = len(line) - len(m["weeks"])  # the 26-week line ends with the span's weeks
    before_gap, gap, back = line[first + 2], line[first + 3 : first + 6], line[first + 7]
    assert gap[0] < before_gap and gap[1] < gap[0] and gap[2] < gap[1]
    assert gap[2] >= 0.7 * before_gap and min(gap) > 0
    assert back > gap[2]
    gap_weeks = m["weeks"][3:6]
    assert all(w["steady_median"] is None and not w["logged"] for w in gap_weeks)
    assert not any(w["harder"] for w in m["weeks"])  # a gap is not a setback


def test_only_skills_logged(store: Store) -> None:
    store.add_skill_use("walk outside", helped=9, when=week(0))
    store.add_skill_use("walk outside", helped=7, when=week(1))
    store.add_skill_use("cold water", helped=4, when=week(1))
    store.add_skill_use("grounding", when=week(2))
    m = measure(store, 3)
    assert [s["skill"] for s in m["skills"]] == ["walk outside", "cold water", "grounding"]
    assert m["skills"][0] == {"skill": "walk outside", "uses": 2, "helped": 8.0, "rated": 2}
    assert m["steady"] == {
        "median": None,
        "previous_median": None,
        "change": None,
        "direction": "unknown",
        "count": 0,
    }
    assert [w["skill_uses"] for w in m["weeks"][:3]] == [1, 2, 1]
    assert m["patterns"] == [] and m["wins_by_area"] == {}
    assert m["checkins"] == {"sent": 0, "answered": 0}


def test_patterns_wins_checkins_and_mood(store: Store) -> None:
    store.add_pattern("mind reading")
    store.add_pattern("all or nothing")
    for responded in (True, True, False):
        store.notice_pattern("mind reading", responded=responded, when=week(0))
    store.notice_pattern("all or nothing", when=week(1))
    store.add_entry(EntryDraft("win", "said no once", area="boundaries", when=week(0)))
    store.add_entry(EntryDraft("win", "paused before sending", area="choices", when=week(1)))
    store.add_entry(EntryDraft("win", "asked for a minute", area="choices", when=week(1)))
    store.add_entry(EntryDraft("checkin", "tired", mood=2, when=week(0)))
    store.add_entry(EntryDraft("checkin", "better", mood=4, when=week(0, day=2)))
    for i, status in enumerate(["answered", "answered", "missed", "skipped"]):
        delivery = store.claim_delivery("evening", week(i % 2, day=i))
        assert delivery is not None
        store.set_delivery(delivery["id"], status)
    m = measure(store, 2)
    assert m["patterns"][0] == {
        "pattern": "mind reading",
        "noticed": 3,
        "responded": 2,
        "reacted": 1,
    }
    assert m["wins_by_area"] == {"choices": 2, "boundaries": 1}
    assert m["checkins"] == {"sent": 4, "answered": 2}
    assert [w["mood"] for w in m["weeks"][:2]] == [3.0, None]


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60))
def test_practice_score_forgives(weekly: list[int]) -> None:
    line = progress.practice_score_line(weekly)
    started = False
    for count, score, before in zip(weekly, line, [0.0] + line, strict=False):
        started = started or count > 0
        assert 0 <= score <= 100
        if started:
            assert score >= progress.PRACTICE_FLOOR  # never back to zero
        if count > 0:
            assert score >= before  # practising never lowers a score
        elif started:
            assert (
                score
                >= min(before, before * progress.PRACTICE_DECAY, progress.PRACTICE_FLOOR) - 1e-9
            )
