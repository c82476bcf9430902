"""The session brief: content, JSON against the schema, HTML rendered by real Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from briefcheck import pixel_counts, schema_errors

from companion import brief
from companion.clock import SystemClock
from companion.store import EntryDraft, Store

SCHEMA = json.loads((Path(__file__).parent / "brief_schema.json").read_text())
BAR_GREEN = (0x6A, 0xA8, 0x8F)
NOW = SystemClock().now().replace(microsecond=0)


def fill(store: Store, *, weeks: int = 6) -> None:
    """A few weeks of ordinary life: skills, tough moments, a setback, wins, notes."""
    store.add_pattern("mind reading")
    for w in range(weeks):
        base = NOW - timedelta(weeks=weeks - w, hours=3)
        for d in range(3):
            store.add_skill_use("box breathing", helped=6 + d, when=base + timedelta(days=d))
        minutes = 40 if w == weeks - 2 else 30 - 4 * w
        store.add_moment(6, steady_minutes=minutes, when=base + timedelta(days=1))
        store.add_entry(EntryDraft("checkin", f"week {w}: tired but here", mood=3 + w % 2,
                                   when=base + timedelta(days=2)))
        store.notice_pattern("mind reading", responded=w % 2 == 0, when=base)
    store.add_entry(EntryDraft("weekly", "I left the party early and felt fine about it.",
                               when=NOW - timedelta(days=3)))
    store.add_entry(EntryDraft("reflection", "Why do evenings feel heavier? <b>Not sure</b>.",
                               bring=True, when=NOW - timedelta(days=2)))
    store.add_entry(EntryDraft("win", "Said no to an extra shift.", area="boundaries",
                               when=NOW - timedelta(days=1)))
    store.add_entry(EntryDraft("reflection", "A calmer morning than usual, I noticed it early.",
                               when=NOW - timedelta(hours=5)))


def test_brief_holds_what_to_bring(store: Store) -> None:
    fill(store)
    span = brief.resolve_span(store, "30d", NOW)
    data = brief.build(store, span, now=NOW)
    assert schema_errors(data, SCHEMA) == []
    assert [i["text"] for i in data["bring"]] == [
        "Why do evenings feel heavier? <b>Not sure</b>."]
    assert data["different"][0]["text"].startswith("I left the party early")
    assert {"text": "Why do evenings feel heavier?", "yours": True} in data["questions"]
    assert data["quotes"][0]["text"].startswith("A calmer morning")
    assert data["measures"]["skills"][0]["skill"] == "box breathing"
    assert data["measures"]["harder_weeks"] >= 1 and not data["thin"]
    md = brief.render(data, "md")
    assert "## To bring" in md and "## Skills used" in md and "box breathing" in md
    assert "fail" not in md.lower()


def test_empty_period_is_an_encouraging_page_not_an_error(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    data = brief.build(store, brief.resolve_span(store, "last-session", NOW), now=NOW)
    assert data["thin"] and "that's all right" in data["opening"]
    assert schema_errors(data, SCHEMA) == []
    for fmt in ("md", "html", "json"):
        assert brief.render(data, fmt)
    out = cli("brief")
    assert "Session brief" in out.stdout and "Even one thing is enough" in out.stdout
    assert cli("week").exit_code == 0
    assert cli("stats").exit_code == 0


def test_since_forms(store: Store) -> None:
    assert brief.resolve_span(store, "7d", NOW).start == NOW - timedelta(days=7)
    assert brief.resolve_span(store, "2w", NOW).start == NOW - timedelta(days=14)
    day = brief.resolve_span(store, "2026-01-02", datetime(2026, 2, 1, tzinfo=NOW.tzinfo))
    assert day.start == datetime(2026, 1, 2, tzinfo=NOW.tzinfo)
    from companion import sessions

    sessions.add_session(store, NOW - timedelta(days=9, hours=2))
    assert brief.resolve_span(store, "last-session", NOW).start == NOW - timedelta(days=9,
                                                                                    hours=2)
    for bad in ("yesterday-ish", "2999-01-01", "0d"):
        with pytest.raises(brief.InputError):
            brief.resolve_span(store, bad, NOW)


def test_cli_json_validates_and_bad_since_is_an_error(store: Store, cli, tmp_path: Path  # type: ignore[no-untyped-def]
                                                      ) -> None:
    fill(store)
    out = tmp_path / "brief.json"
    cli("brief", "--since", "30d", "--format", "json", "-o", str(out))
    assert schema_errors(json.loads(out.read_text()), SCHEMA) == []
    assert out.stat().st_mode & 0o077 == 0
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["skills"][0]["skill"] == "box breathing"
    bad = cli("brief", "--since", "whenever", ok=False)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: --since")


def test_html_is_self_contained(store: Store) -> None:
    fill(store)
    html = brief.render(brief.build(store, brief.resolve_span(store, "30d", NOW), now=NOW),
                        "html")
    assert "<script" not in html.lower() and "http" not in html.lower()
    assert not re.search(r"\b(src|href)=", html)
    assert html.count('<svg class="chart"') == 3
    assert "&lt;b&gt;Not sure&lt;/b&gt;" in html and "<b>Not sure" not in html
    assert "@page" in html and "180mm" in html


def _screenshot(html_file: Path, tmp_path: Path) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    shot = tmp_path / "brief.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=900,2200", f"--screenshot={shot}", html_file.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    assert shot.exists()
    return shot


@pytest.mark.slow
def test_html_brief_renders_in_chromium_with_charts(store: Store, tmp_path: Path) -> None:
    fill(store)
    page = tmp_path / "brief.html"
    page.write_text(brief.render(brief.build(store, brief.resolve_span(store, "30d", NOW),
                                             now=NOW), "html"), encoding="utf-8")
    ink, green = pixel_counts(_screenshot(page, tmp_path), BAR_GREEN)
    assert ink > 20_000      # text and charts, not a blank page
    assert green > 2_000     # the chart bars were drawn

    empty = tmp_path / "empty.html"
    with Store.open(tmp_path / "empty.db") as fresh:
        empty.write_text(brief.render(brief.build(fresh, brief.Span(NOW - timedelta(days=7), NOW,
                                                                    "empty"), now=NOW), "html"))
    (tmp_path / "profile").mkdir(exist_ok=True)
    ink_empty, green_empty = pixel_counts(_screenshot(empty, tmp_path / "profile"), BAR_GREEN)
    assert ink_empty > 2_000 and green_empty < 200  # words, no charts


def test_words_for_small_numbers(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    store.add_moment(6, steady_minutes=0, when=NOW - timedelta(hours=2))
    data = brief.build(store, brief.resolve_span(store, "1d", NOW), now=NOW)
    text = brief.render_markdown(data)
    assert "# Session brief: the last day" in text and "(1 day)*" in text
    assert "took less than a minute to feel steady" in text
    assert "about 0" not in text and "(s)" not in text
    html = brief.render(data, "html")
    assert "(1 day)" in html and "(1 days)" not in html


def test_stats_show_the_weeks_asked_for_and_no_empty_column(store: Store,  # type: ignore[no-untyped-def]
                                                            cli) -> None:
    fill(store, weeks=30)
    out = cli("stats", "--weeks", "4").stdout
    opening = brief.build(store, brief.resolve_span(store, "4w", NOW), now=NOW)["opening"]
    assert opening.split(".")[0] not in out.replace("\n", " ")  # that is the brief's, not here
    rows = [line for line in out.splitlines() if re.match(r"^\s*\d{4}-\d{2}-\d{2}\s", line)]
    assert 4 <= len(rows) <= 5
    header = next(line for line in out.splitlines() if "week" in line and "skill uses" in line)
    assert header.rstrip().rstrip("┃").split("┃")[-1].strip() == "note"  # a harder week, named
    chart = next(line for line in out.splitlines() if "box breathing" in line)
    assert len(re.sub(r"[^▁▂▃▄▅▆▇█ ]", "", chart.split("│")[-1]).strip()) == len(rows)
    assert f"last {len(rows)} weeks" in out


def test_stats_without_a_harder_week_has_no_empty_column(cli) -> None:  # type: ignore[no-untyped-def]
    cli("skill", "walk", "--helped", "6")
    out = cli("stats", "--weeks", "4").stdout
    header = next(line for line in out.splitlines() if "skill uses" in line)
    assert header.rstrip().endswith("wins")
