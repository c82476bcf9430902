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
from companion.brief_text import render
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
        store.add_entry(
            EntryDraft(
                "checkin",
                f"week {w}: tired but here",
                mood=3 + w % 2,
                when=base + timedelta(days=2),
            )
        )
        store.notice_pattern("mind reading", responded=w % 2 == 0, when=base)
    store.add_entry(
        EntryDraft(
            "weekly", "I left the party early and felt fine about it.", when=NOW - timedelta(days=3)
        )
    )
    store.add_entry(
        EntryDraft(
            "reflection",
            "Why do evenings feel heavier? <b>Not sure</b>.",
            bring=True,
            when=NOW - timedelta(days=2),
        )
    )
    store.add_entry(
        EntryDraft(
            "win", "Said no to an extra shift.", area="boundaries", when=NOW - timedelta(days=1)
        )
    )
    store.add_entry(
        EntryDraft(
            "reflection",
            "A calmer morning than usual, I noticed it early.",
            when=NOW - timedelta(hours=5),
        )
    )


def test_brief_holds_what_to_bring(store: Store) -> None:
    fill(store)
    span = brief.resolve_span(store, "30d", NOW)
    data = brief.build(store, span, now=NOW)
    assert schema_errors(data, SCHEMA) == []
    assert [(i["text"], i["why"]) for i in data["talk"]] == [
        ("Why do evenings feel heavier? <b>Not sure</b>.", "bring")
    ]
    assert data["suggestions"] == []
    assert data["different"][0]["text"].startswith("I left the party early")
    assert data["words"][0]["text"].startswith("A calmer morning")
    assert data["measures"]["skills"][0]["skill"] == "box breathing"
    assert data["measures"]["harder_weeks"] >= 1 and not data["thin"]
    md = render(data, "md")
    assert "## What I want to talk about" in md and "## Skills I used" in md
    assert "box breathing" in md
    assert "fail" not in md.lower()


def test_empty_period_is_an_encouraging_page_not_an_error(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    data = brief.build(store, brief.resolve_span(store, "last-session", NOW), now=NOW)
    assert data["thin"] and "that's all right" in data["opening"]
    assert schema_errors(data, SCHEMA) == []
    assert data["suggestions"] and data["talk"] == []
    for fmt in ("md", "html", "json"):
        assert render(data, fmt)
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
    assert brief.resolve_span(store, "last-session", NOW).start == NOW - timedelta(days=9, hours=2)
    for bad in ("yesterday-ish", "2999-01-01", "0d"):
        with pytest.raises(brief.InputError):
            brief.resolve_span(store, bad, NOW)


def test_cli_json_validates_and_bad_since_is_an_error(
    store: Store,
    cli,
    tmp_path: Path,  # type: ignore[no-untyped-def]
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
    html = render(brief.build(store, brief.resolve_span(store, "30d", NOW), now=NOW), "html")
    assert "<script" not in html.lower() and "http" not in html.lower()
    assert not re.search(r"\b(src|href)=", html)
    assert html.count('<svg class="chart"') == 4  # skills, intensity, steady, mood
    assert "&lt;b&gt;Not sure&lt;/b&gt;" in html and "<b>Not sure" not in html
    assert "@page" in html and "180mm" in html


def _screenshot(html_file: Path, tmp_path: Path) -> Path:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    shot = tmp_path / "brief.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=900,2200",
            f"--screenshot={shot}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.exists()
    return shot


@pytest.mark.slow
def test_html_brief_renders_in_chromium_with_charts(store: Store, tmp_path: Path) -> None:
    fill(store)
    page = tmp_path / "brief.html"
    page.write_text(
        render(brief.build(store, brief.resolve_span(store, "30d", NOW), now=NOW), "html"),
        encoding="utf-8",
    )
    ink, green = pixel_counts(_screenshot(page, tmp_path), BAR_GREEN)
    assert ink > 20_000  # text and charts, not a blank page
    assert green > 2_000  # the chart bars were drawn

    empty = tmp_path / "empty.html"
    with Store.open(tmp_path / "empty.db") as fresh:
        empty.write_text(
            render(
                brief.build(fresh, brief.Span(NOW - timedelta(days=7), NOW, "empty"), now=NOW),
                "html",
            )
        )
    (tmp_path / "profile").mkdir(exist_ok=True)
    ink_empty, green_empty = pixel_counts(_screenshot(empty, tmp_path / "profile"), BAR_GREEN)
    assert ink_empty > 2_000 and green_empty < 200  # words, no charts


def test_words_for_small_numbers(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    store.add_moment(6, steady_minutes=0, when=NOW - timedelta(hours=2))
    from companion.brief_text import render

    data = brief.build(store, brief.resolve_span(store, "1d", NOW), now=NOW)
    text = render(data, "md")
    assert "# Session brief: the last day" in text and "(1 day)*" in text
    assert "took less than a minute to feel steady" in text
    assert "about 0" not in text and "(s)" not in text
    html = render(data, "html")
    assert "(1 day)" in html and "(1 days)" not in html


def test_stats_show_the_weeks_asked_for_and_no_empty_column(
    store: Store,  # type: ignore[no-untyped-def]
    cli,
) -> None:
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


# ---------------------------------------------------------------- every item, one place
def test_every_kind_in_the_vocabulary_has_a_section(store: Store) -> None:
    from companion.brief_text import sections
    from companion.vocab import ENTRY_KINDS, RECORD_KINDS

    shown = {
        s.key for s in sections(brief.build(store, brief.resolve_span(store, "7d", NOW), now=NOW))
    }
    for kind in (*ENTRY_KINDS, *RECORD_KINDS):
        assert kind in brief.SECTION_OF_KIND, f"the brief has no place for {kind!r} records"
        assert brief.SECTION_OF_KIND[kind] in brief.SECTION_TITLES
    assert set(brief.SECTION_TITLES) - {"crisis"} <= shown


def placements(data: dict) -> dict[str, list[str]]:
    """Each record's reference -> the top-level sections of the brief that show it."""
    found: dict[str, list[str]] = {}

    def walk(value: object, section: str) -> None:
        if isinstance(value, dict):
            if "ref" in value:
                found.setdefault(value["ref"], []).append(section)
            for ref in value.get("refs", []):
                found.setdefault(ref, []).append(section)
            for inner in value.values():
                walk(inner, section)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, section)

    for key in brief.SECTION_TITLES:
        walk(data[key], key)
    return found


def seed_every_kind(store: Store, cli) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One record of every kind, saved as a person would; returns ref -> expected section."""
    from companion import sessions
    from companion.voice import tidy

    sessions.add_session(store, NOW - timedelta(days=3), title="Dr. Rivera")
    old = NOW - timedelta(days=3, hours=-2)

    def entry(kind: str, text: str, **extra: object) -> str:
        return f"entry:{store.add_entry(EntryDraft(kind, text, **extra))['id']}"

    expected = {
        entry(
            "follow-up", "I will practise box breathing when evenings get heavy.", when=old
        ): "practice",
        entry("reflection", "A calmer morning than usual; I noticed it early."): "words",
        entry("checkin", "Tired, but I went for the walk.", mood=3): "words",
        entry("weekly", "I left the party early and felt fine about it."): "different",
        entry("friend", "Sam said I seem more settled lately."): "others",
        entry("win", "Said no to an extra shift."): "wins",
        entry("win", "Used box breathing before the phone call."): "practice",
        entry("session-prep", "I want to talk about my mother's visit."): "talk",
        entry("reflection", "Work has been a lot lately.", bring=True): "talk",
        entry("reflection", "Why do evenings feel heavier than mornings?"): "talk",
        entry(
            "reflection",
            tidy("should i tell my sister"),
            source="voice",
            raw_text="should i tell my sister",
        ): "talk",
        entry("reflection", "Dinner with the family went fine. #family"): "words",
        entry("reflection", "Some nights I want to die."): "crisis",
    }
    note = json.loads(
        cli("session", "note", "Notice the body first, then name the feeling.", "--json").stdout
    )
    expected[f"entry:{note['id']}"] = "therapist"
    expected[f"skill:{store.add_skill_use('grounding', helped=6)['id']}"] = "skills"
    expected[f"skill:{store.add_skill_use('box breathing', helped=8)['id']}"] = "practice"
    expected[f"moment:{store.add_moment(7, steady_minutes=25, note='loud meeting')['id']}"] = (
        "moments"
    )
    store.add_pattern("mind reading")
    expected[f"notice:{store.notice_pattern('mind reading', responded=True)['id']}"] = "patterns"
    return expected


def test_a_seeded_database_puts_every_item_in_exactly_its_section(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    from companion.vocab import ENTRY_KINDS

    expected = seed_every_kind(store, cli)
    assert {e["kind"] for e in store.entries()} == set(ENTRY_KINDS)  # one of each, at least
    data = json.loads(cli("brief", "--format", "json").stdout)
    assert schema_errors(data, SCHEMA) == []
    found = placements(data)
    assert {ref: found.get(ref) for ref in expected} == {
        ref: [section] for ref, section in expected.items()
    }
    spoken = next(i for i in data["talk"] if i["text"] == "Should I tell my sister?")
    assert spoken["why"] == "question"
    assert "family" in next(i for i in data["words"] if "Dinner" in i["text"])["tags"]
    assert data["crisis"]["resources"]["lines"]  # the resources line comes with the note
    md = render(data, "md")
    assert "## A heavy moment, worth mentioning" in md and "988" in md
    assert md.index("Some nights") < md.index("## What I want to talk about")
    html = render(data, "html")
    assert '<section id="crisis" class="marked">' in html
    assert "<script" not in html.lower() and not re.search(r"\b(src|href)=", html)


def test_the_crisis_note_can_be_turned_off(store: Store, cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    (home / "config.toml").write_text("[brief]\nshow_crisis_note = false\n")
    store.add_entry(EntryDraft("reflection", "Some nights I want to die."))
    data = json.loads(cli("brief", "--since", "7d", "--format", "json").stdout)
    assert data["crisis"] is None
    assert [i["text"] for i in data["words"]] == ["Some nights I want to die."]


def test_an_item_saved_a_millisecond_before_the_brief_is_in_it(home: Path) -> None:
    from companion.clock import FixedClock

    for micro in (0, 400_000, 999_500):
        at = NOW.replace(microsecond=micro)
        with Store.open(home / f"ms{micro}.db", clock=FixedClock(at)) as db:
            db.add_entry(EntryDraft("win", "Asked for a minute before answering."))
            now = at + timedelta(milliseconds=1)
            data = brief.build(db, brief.resolve_span(db, "7d", now), now=now)
            assert [w["text"] for w in data["wins"]] == ["Asked for a minute before answering."]
            assert data["measures"]["wins_by_area"] == {"other": 1}


def test_a_win_then_the_brief_at_once(cli) -> None:  # type: ignore[no-untyped-def]
    cli("win", "Paused before sending the email.")
    data = json.loads(cli("brief", "--since", "7d", "--format", "json").stdout)
    assert [w["text"] for w in data["wins"]] == ["Paused before sending the email."]


def test_practice_plan_from_before_the_span_and_what_matched_it(store: Store) -> None:
    store.add_entry(
        EntryDraft(
            "follow-up", "Try the grounding exercise at work.", when=NOW - timedelta(days=10)
        )
    )
    store.add_skill_use("grounding", helped=7, when=NOW - timedelta(days=2))
    store.add_skill_use("cold water", when=NOW - timedelta(days=2))
    store.add_entry(
        EntryDraft(
            "win", "Grounded myself before the meeting at work.", when=NOW - timedelta(days=1)
        )
    )
    data = brief.build(store, brief.resolve_span(store, "7d", NOW), now=NOW)
    plans = data["practice"]["plans"]
    assert [(p["text"], p.get("earlier")) for p in plans] == [
        ("Try the grounding exercise at work.", True)
    ]
    assert [i["kind"] for i in data["practice"]["since"]] == ["skill", "win"]
    assert data["wins"] == []
    assert [s["refs"] for s in data["skills"] if s["skill"] == "cold water"] == [["skill:2"]]
    assert "I said" in render(data, "md")


def test_brief_by_tag(store: Store, cli) -> None:  # type: ignore[no-untyped-def]
    cli("reflect", "Sunday lunch was calm #family")
    cli("win", "Spoke up in the meeting", "--tag", "work")
    cli("skill", "box breathing", "--tag", "Work")
    data = json.loads(cli("brief", "--since", "7d", "--tag", "#work", "--format", "json").stdout)
    assert data["tag"] == "work" and data["span"]["label"].endswith("tagged #work")
    assert [w["text"] for w in data["wins"]] == ["Spoke up in the meeting"]
    assert data["words"] == [] and data["measures"]["skills"][0]["uses"] == 1
    bad = cli("brief", "--tag", "two words", ok=False)
    assert bad.exit_code == 2


# ---------------------------------------------------------------- trends, charts, formats
def test_moments_trend_in_intensity_and_time_to_steady(store: Store) -> None:
    for days, intensity, minutes in ((12, 8, 40), (10, 8, 30), (3, 5, 15), (2, 4, 10)):
        store.add_moment(intensity, steady_minutes=minutes, when=NOW - timedelta(days=days))
    data = brief.build(store, brief.resolve_span(store, "7d", NOW), now=NOW)
    assert data["measures"]["intensity"]["direction"] == "lower"
    assert data["measures"]["steady"]["direction"] == "sooner"
    assert "less intense than before" in data["intensity_sentence"]
    assert [m["intensity"] for m in data["moments"]] == [5, 4]
    weekly = [w["intensity"] for w in data["measures"]["weeks"] if w["intensity"] is not None]
    assert weekly in ([4.5], [5, 4])  # the two days fall in one week or in two


def test_the_mood_chart_has_a_fixed_scale(store: Store) -> None:
    from companion.brief_html import HEIGHT, PAD

    store.add_entry(EntryDraft("checkin", "a low week", mood=2, when=NOW - timedelta(days=1)))
    html = render(brief.build(store, brief.resolve_span(store, "7d", NOW), now=NOW), "html")
    chart = html[html.index('aria-label="Mood by week (1-5)"') :]
    chart = chart[: chart.index("</svg>")]
    heights = [float(h) for h in re.findall(r'class="mood"[^>]*height="([\d.]+)"', chart)]
    assert heights == [pytest.approx((HEIGHT - 2 * PAD) * 2 / 5, abs=0.2)]
    assert ">5</text>" in chart and ">1</text>" in chart


def _run_on_a_terminal(args: list[str], home: Path) -> str:
    """`companion ARGS` with a pseudo-terminal as stdout, as a person would see it."""
    import os
    import pty
    import sys

    main, child = pty.openpty()
    env = {**os.environ, "COMPANION_HOME": str(home), "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "companion", *args],
        stdout=child,
        stderr=child,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(main)
    return out.decode("utf-8", "replace")


def test_markdown_to_a_terminal_is_markdown_when_asked_for(store: Store, home: Path) -> None:
    fill(store)
    asked = _run_on_a_terminal(["brief", "--since", "30d", "--format", "md"], home)
    assert "# Session brief" in asked and "## Skills I used" in asked
    shown = _run_on_a_terminal(["brief", "--since", "30d"], home)
    assert "Session brief" in shown and "## Skills I used" not in shown  # rendered by rich


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_open_says_clearly_why_it_cannot(
    cli,
    home: Path,
    tmp_path: Path,
    monkeypatch,  # type: ignore[no-untyped-def]
    fmt: str,
) -> None:
    if shutil.which("xdg-open"):  # this machine's own xdg-open, with no viewer set up
        result = cli("brief", "--format", fmt, "--open", ok=False)
        assert result.exit_code == 3, result.stderr
        assert result.stderr.startswith("error: no program on this computer is set up to open")
        assert "xdg-open:" not in result.stderr and "not found" not in result.stderr
        assert (home / "exports").is_dir() and f".{fmt}" in result.stderr
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("brief", "--format", fmt, "--open", ok=False)
    assert result.exit_code == 3 and "xdg-open is missing" in result.stderr
    assert "Wrote the brief to" in result.stdout


def test_brief_speak_reads_the_headline_and_what_to_talk_about(store: Store) -> None:
    from test_speech import RecordingSpeaker, app_with

    from companion.brief_text import spoken_text
    from companion.speech import read_aloud

    store.add_entry(EntryDraft("session-prep", "My mother's visit."))
    store.add_entry(EntryDraft("reflection", "Why do evenings feel heavier?"))
    now = SystemClock().now()
    data = brief.build(store, brief.resolve_span(store, "7d", now), now=now)
    speaker = RecordingSpeaker()
    assert read_aloud(app_with(store), spoken_text(data), speaker=speaker)
    [said] = speaker.said
    assert said.startswith("Your session brief, the last 7 days.")
    assert "My mother's visit." in said and "Why do evenings feel heavier?" in said
    assert not read_aloud(app_with(store, enabled=False), "x", speaker=speaker)


def test_brief_speak_without_a_sound_output_says_how_to_fix(cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pulse_sink import need

    need("espeak-ng")
    cli("reflect", "--bring", "the move")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("brief", "--speak", ok=False)
    assert result.exit_code == 3 and result.stderr.startswith("error:")
    assert "# Session brief" in result.stdout  # the brief itself was shown first


@pytest.mark.slow
def test_every_section_renders_in_chromium(store: Store, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed_every_kind(store, cli)
    store.add_entry(
        EntryDraft("checkin", "a steadier evening", mood=4, when=NOW - timedelta(days=1))
    )
    page = tmp_path / "brief.html"
    cli("brief", "--format", "html", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    for key in brief.SECTION_TITLES:
        assert f'<section id="{key}"' in html, key
    shot = _screenshot(page, tmp_path)
    assert pixel_counts(shot, (0xD9, 0xB9, 0x8F))[1] > 500  # the gently marked note's frame
    assert pixel_counts(shot, (0x9A, 0x86, 0xC4))[1] > 500  # mood bars
