"""Crisis language and resources: matching, regions, showing, and the CLI around a save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.config import load_settings
from companion.errors import ConfigError
from companion.safety import (
    check_text,
    find_phrase,
    load_crisis,
    resources_for,
    show_resources,
)


@pytest.fixture
def settings() -> object:
    return load_settings(None)


def with_safety(settings: object, **changes: object) -> object:
    safety = settings.safety._replace(**changes)
    return settings._replace(safety=safety)


@pytest.mark.parametrize(
    "text",
    [
        "Some days I want to die.",
        "I DON'T WANT TO LIVE like this",
        "i dont want to live like this",
        "I don\u2019t want to be here anymore",
        "thinking about self-harm again",
        "I keep thinking about suicide",
        "feeling suicidal tonight",
        "I can't go on",
        "what if I overdosed",
        "요즘 죽고 싶어요",
        "자살 생각이 났다",
    ],
)
def test_crisis_language_brings_up_resources(text: str, settings: object) -> None:
    found = check_text(text, settings)
    assert found is not None
    assert found.matched


@pytest.mark.parametrize(
    "text",
    [
        "I was killing it at work today",
        "The presentation went fine, I could have died of embarrassment but didn't",
        "Went for a walk, felt better",
        "dyeing my hair tomorrow",
        "",
        "   ",
    ],
)
def test_everyday_words_do_not(text: str, settings: object) -> None:
    assert check_text(text, settings) is None


def test_whole_words_only() -> None:
    assert find_phrase("I want to dieselpunk my room", ["want to die"]) is None
    assert find_phrase("I want to die.", ["want to die"]) == "want to die"
    assert find_phrase("selfharming", ["self harm"]) is None
    assert find_phrase("self-harming", ["self harm*"]) == "self harm*"


def test_extra_phrases_from_settings(settings: object) -> None:
    text = "I feel like disappearing for good"
    assert check_text(text, settings) is None
    assert check_text(text, with_safety(settings, extra_phrases=("disappearing for good",)))


@pytest.mark.parametrize(
    ("region", "number"),
    [
        ("US", "988"),
        ("CA", "988"),
        ("UK", "116 123"),
        ("IE", "116 123"),
        ("AU", "13 11 14"),
    ],
)
def test_region_picks_its_line(region: str, number: str, settings: object) -> None:
    found = check_text("I want to die", with_safety(settings, region=region))
    assert found is not None and found.region == region
    assert number in found.as_text()
    assert "local emergency number" in found.as_text()


def test_other_region_shows_every_line() -> None:
    text = resources_for("other").as_text()
    for number in ("988", "116 123", "13 11 14", "local emergency number"):
        assert number in text


def test_show_resources_writes_and_notifies() -> None:
    shown: list[str] = []
    sent: list[tuple[str, str]] = []
    show_resources(
        resources_for("AU"),
        echo=shown.append,
        notify=lambda title, body: sent.append((title, body)),
    )
    assert "13 11 14" in shown[0]
    assert sent and "13 11 14" in sent[0][1] and sent[0][0]


def test_a_failing_notifier_never_hides_the_resources() -> None:
    shown: list[str] = []

    def broken(title: str, body: str) -> None:
        raise OSError("no notification server")

    show_resources(resources_for("US"), echo=shown.append, notify=broken)
    assert "988" in shown[0]


def test_broken_crisis_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "crisis.toml"
    bad.write_text("[words]\nphrases = [\n")
    with pytest.raises(ConfigError, match="crisis.toml"):
        load_crisis(bad)
    bad.write_text("[words]\nphrases = []\n")
    with pytest.raises(ConfigError, match="lacks"):
        load_crisis(bad)


def test_shipped_file_has_every_configurable_region() -> None:
    from companion.config import SECTIONS

    table = load_crisis(compile_now=True)
    assert sum(len(p) for p in table.rules.patterns.values()) > 100
    assert set(table.regions) >= {"US", "CA", "UK", "IE", "AU", "other"}
    assert SECTIONS["safety"]["region"]("other") == "other"


# ---------------------------------------------------------------- through the CLI
def test_reflect_with_crisis_words_shows_resources_and_saves(cli, store) -> None:
    result = cli("reflect", "Tonight I want to end my life")
    assert result.exit_code == 0
    assert "988" in result.stderr
    assert "988" not in result.stdout  # results on stdout, care on stderr
    assert [e["text"] for e in store.entries()] == ["Tonight I want to end my life"]


def test_checkin_and_moment_with_crisis_words_show_resources(cli) -> None:
    assert "988" in cli("checkin", "--text", "i can't go on", "--mood", "3").stderr
    moment = cli("moment", "--intensity", "4", "--note", "thought about hurting myself")
    assert "988" in moment.stderr


def test_an_ordinary_reflection_shows_nothing(cli) -> None:
    result = cli("reflect", "Paused before replying today")
    assert "988" not in result.stderr and "alone" not in result.stderr


def test_extra_phrase_in_config_is_used(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[safety]\nregion = "UK"\nextra_phrases = ["vanish forever"]\n'
    )
    result = cli("reflect", "I want to vanish forever")
    assert "116 123" in result.stderr


def test_help_now_prints_resources(cli) -> None:
    result = cli("help-now")
    assert "988" in result.stdout
    assert "local emergency number" in result.stdout
    data = json.loads(cli("help-now", "--region", "AU", "--json").stdout)
    assert data["region"] == "AU" and "13 11 14" in data["lines"][0]


def test_help_now_works_even_with_a_broken_config(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[safety]\nregion = 42\n")
    result = cli("help-now")
    assert result.exit_code == 0
    for number in ("988", "116 123", "13 11 14"):
        assert number in result.stdout
    assert "configuration has a problem" in result.stderr


# ---------------------------------------------------------------- without settings
def test_the_check_and_the_resources_need_no_settings() -> None:
    from companion.safety import crisis_resources, default_region

    found = crisis_resources("I want to end my life")
    assert found is not None and found.region == default_region() == "US"
    assert "988" in found.as_text()
    assert crisis_resources("Paused before replying") is None


def test_settings_that_cannot_be_read_fall_back_to_the_defaults() -> None:
    class BrokenApp:
        @property
        def settings(self) -> object:
            raise ConfigError("config.toml: unknown key", file="config.toml")

    found = check_text("I want to die", BrokenApp())
    assert found is not None and "988" in found.as_text()
    assert check_text("I want to die", None) is not None


def test_the_safety_module_leaves_click_alone() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, companion.safety, companion.aftercare;print('click' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False"


def test_show_resources_writes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    show_resources(resources_for("UK"))
    out = capsys.readouterr()
    assert "116 123" in out.err and out.out == ""


def test_extra_phrases_use_the_pattern_notation(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[safety]\nextra_phrases = ["(want|going) to vanish [forever]"]\n'
    )
    assert "988" in cli("reflect", "I am going to vanish").stderr
    assert "988" not in cli("reflect", "The magician made the coin vanish").stderr


def test_a_bad_extra_phrase_is_named_by_config_check(cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[safety]\nextra_phrases = ["(vanish forever"]\n')
    result = cli("config", "check", ok=False)
    assert result.exit_code == 1
    assert "extra_phrases" in result.stderr and "never closed" in result.stderr


# ---------------------------------------------------------------- imports: one summary
def _summary_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "with crisis language" in line]


def test_an_import_is_checked_once_with_one_summary_line(cli, home: Path, tmp_path: Path) -> None:
    cli("reflect", "I want to end my life")
    cli("reflect", "Walked by the river, felt calmer")
    cli("skill", "grounding", "--note", "I cut myself again before trying it")
    export = tmp_path / "export.json"
    cli("export", "-o", str(export))
    cli("forget", "--all", "--yes")
    result = cli("import", str(export))
    lines = _summary_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("2 imported entries")
    assert "988" in lines[0]
    assert "alone" not in result.stderr.replace(lines[0], "")  # no per-entry resources
    again = cli("import", str(export))  # nothing new: nothing to summarise
    assert "Nothing new" in again.stdout and not _summary_lines(again.stderr)


def test_a_jrnl_import_is_summarised_too(cli, home: Path, tmp_path: Path) -> None:
    jrnl = tmp_path / "jrnl.json"
    jrnl.write_text(
        json.dumps(
            {
                "tags": {},
                "entries": [
                    {
                        "date": "2024-01-02",
                        "time": "09:00",
                        "title": "i dont want to be alive anymore",
                        "body": "",
                        "tags": [],
                        "starred": False,
                    },
                    {
                        "date": "2024-01-03",
                        "time": "09:00",
                        "title": "Good walk.",
                        "body": "Sunny.",
                        "tags": [],
                        "starred": False,
                    },
                ],
            }
        )
    )
    result = cli("import", str(jrnl), "--json")
    assert json.loads(result.stdout) == {"entries": 2}
    lines = _summary_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("1 imported entry with crisis language")
