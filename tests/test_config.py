import stat
from pathlib import Path

import pytest

from companion.config import dump_settings, load_settings, load_settings_leniently, set_value
from companion.errors import ConfigError


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(home: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(write(home, text))
    return info.value


def test_defaults_load_without_a_user_file(home: Path) -> None:
    settings = load_settings(home / "missing.toml")
    assert [e.name for e in settings.checkins.schedule] == [
        "evening",
        "weekly-review",
        "trusted-friend",
    ]
    assert settings.voice.checkins == "ask"


def test_user_file_overrides_key_by_key(home: Path) -> None:
    settings = load_settings(write(home, "[speech]\nrate = 120\n"))
    assert settings.speech.rate == 120
    assert settings.speech.volume == 0.9  # untouched key keeps its default


def test_invalid_toml_names_file_and_line(home: Path) -> None:
    err = error_for(home, "[speech]\nrate = 120\nvolume = = 3\n")
    assert err.line == 3 and err.file.endswith("config.toml")
    assert "not valid TOML" in str(err)


def test_a_byte_order_mark_is_read_past_and_lines_still_count(home: Path) -> None:
    path = write(home, "[speech]\nrate = 120\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_settings(path).speech.rate == 120
    path.write_bytes(b"\xef\xbb\xbf[speech]\nrate = = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.line == 2


def test_typo_key_names_line_key_and_suggests(home: Path) -> None:
    err = error_for(home, "\n[checkins]\nsnoze_minutes = 5\n")
    assert err.line == 3 and err.key == "checkins.snoze_minutes"
    assert "snooze_minutes" in str(err)


def test_impossible_time_in_schedule(home: Path) -> None:
    err = error_for(
        home,
        '[[checkins.schedule]]\nname = "a"\ntime = "20:00"\n'
        '[[checkins.schedule]]\nname = "b"\ntime = "25:00"\n',
    )
    assert err.line == 6 and err.key == "checkins.schedule[1].time"
    assert "25:00" in str(err)


@pytest.mark.parametrize(
    "text, key",
    [
        ('[speech]\nrate = "fast"\n', "speech.rate"),
        (
            '[[checkins.schedule]]\nname = "a"\ntime = "08:00"\ndays = ["mon", "funday"]\n',
            "checkins.schedule[0].days",
        ),
        ("[checkins]\nschedule = []\n", "checkins.schedule"),
        ('[voice]\ncheckins = "sometimes"\n', "voice.checkins"),
        ("[nonsense]\na = 1\n", "nonsense"),
        ('[[checkins.schedule]]\ntime = "08:00"\n', "checkins.schedule[0]"),
        ("[speech]\nvolume = 3\n", "speech.volume"),
        (
            '[[checkins.schedule]]\nname = "a"\ntime = "08:00"\n[[checkins.schedule]]\nname = "a"\n'
            'time = "09:00"\n',
            "checkins.schedule[1].name",
        ),
    ],
)
def test_bad_values_are_named(home: Path, text: str, key: str) -> None:
    err = error_for(home, text)
    assert err.key == key
    assert err.line is not None


def test_show_round_trips_through_the_loader(home: Path) -> None:
    settings = load_settings(write(home, '[checkins]\nquiet_start = ""\n'))
    shown = dump_settings(settings)
    again = load_settings(write(home, shown.replace('quiet_start = ""', 'quiet_start = ""')))
    assert again.checkins == settings.checkins
    assert again.speech == settings.speech


def test_cli_config_check_reports_the_problem(cli, home: Path) -> None:
    write(home, "[speech]\nrate = 9000\n")
    result = cli("config", "check", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "config.toml, line 2, key speech.rate" in result.stderr
    assert "Traceback" not in result.output


def test_cli_config_path_and_show(cli, home: Path) -> None:
    assert cli("config", "path").stdout.strip() == str(home / "config.toml")
    assert "[[checkins.schedule]]" in cli("config", "show").stdout


FOUR_MISTAKES = (
    "[checkins]\nsnoze_minutes = 5\n"  # line 2: a typo
    '[voice]\ncheckins = "loud"\n'  # line 4: not a choice
    "[speech]\nrate = 9000\nvolume = 0.5\n"  # line 6: out of range (line 7 is fine)
    '[[checkins.schedule]]\nname = "a"\ntime = "25:00"\n'  # line 10
    '[[checkins.schedule]]\nname = "b"\ntime = "07:30"\n'
)


def test_config_check_lists_every_mistake_in_one_run(cli, home: Path) -> None:
    write(home, FOUR_MISTAKES)
    result = cli("config", "check", ok=False)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split("key ")[1].split(":")[0] for line in lines] == [
        "checkins.snoze_minutes",
        "checkins.schedule[0].time",
        "voice.checkins",
        "speech.rate",
    ]
    assert all(line.startswith("error: ") and "config.toml, line " in line for line in lines)
    assert ", line 10, key checkins.schedule[0].time" in result.stderr


def test_lenient_load_uses_the_defaults_only_for_what_is_broken(home: Path) -> None:
    settings, problems = load_settings_leniently(write(home, FOUR_MISTAKES))
    defaults = load_settings(None)
    assert len(problems) == 4
    assert settings.voice.checkins == defaults.voice.checkins
    assert settings.speech.rate == defaults.speech.rate
    assert settings.speech.volume == 0.5  # a good key next to a broken one is kept
    assert [e.name for e in settings.checkins.schedule] == ["b"]  # the broken entry is left out


def test_lenient_load_of_broken_toml_is_all_defaults(home: Path) -> None:
    settings, problems = load_settings_leniently(write(home, "[checkins\nsnooze_minutes = 5\n"))
    assert len(problems) == 1 and problems[0].line == 1
    assert settings.checkins == load_settings(None).checkins


def test_strict_load_names_the_first_mistake_and_counts_the_rest(home: Path) -> None:
    err = error_for(home, FOUR_MISTAKES)
    assert err.key == "checkins.snoze_minutes"
    assert "and 3 more mistakes" in str(err)


@pytest.mark.parametrize("text", ["[checkins\n", '[voice]\ncheckins = "loud"\n'])
@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (("reflect", "zebra words"), "zebra words"),
        (("checkin", "--text", "zebra tired", "--mood", "3"), "zebra tired"),
        (("win", "zebra said no"), "zebra said no"),
        (("skill", "zebra walk"), "zebra walk"),
        (("moment", "--intensity", "4", "--note", "zebra moment"), "zebra moment"),
        (("pattern", "add", "zebra reading"), "zebra reading"),
        (("phrase", "add", "zebra, one thing at a time."), "zebra, one thing at a time."),
    ],
)
def test_a_broken_config_never_stops_a_save(
    cli, home: Path, text: str, args: tuple[str, ...], kept: str
) -> None:
    write(home, text)
    result = cli(*args)
    warning = result.stderr.splitlines()[0]
    assert warning.startswith("warning: ") and "config.toml, line " in warning
    assert warning.endswith(
        "(run `companion config check`); using the defaults for what is broken."
    )
    assert "warning" not in "\n".join(result.stderr.splitlines()[1:])  # said once
    assert kept in cli("export").stdout


def test_doctor_names_the_mistake_and_the_defaults(cli, home: Path) -> None:
    row = next(
        r
        for r in __import__("json").loads(cli("doctor", "--json", ok=False).stdout)
        if r["name"] == "config"
    )
    assert row["detail"].startswith("defaults (no config.toml yet), 3 check-ins scheduled")
    write(home, '[voice]\ncheckins = "loud"\n')
    row = next(
        r
        for r in __import__("json").loads(cli("doctor", "--json", ok=False).stdout)
        if r["name"] == "config"
    )
    assert row["status"] == "problem" and "voice.checkins" in row["detail"]
    assert "config check" in row["fix"]


# ---------------------------------------------------------------- editing
MINE = """# my settings, written by hand
[speech]
rate = 140  # slower, please
volume = 0.5

# the voice part
[voice]
keep_audio = true
model = "old"   # the one I had
checkins = "auto"
"""


def test_setting_a_value_keeps_comments_and_key_order(home: Path) -> None:
    path = write(home, MINE)
    set_value(path, "voice", "model", "ko")
    assert path.read_text() == MINE.replace('model = "old"', 'model = "ko"')
    assert load_settings(path).voice.model == "ko"


def test_setting_a_value_in_a_missing_section_adds_it_at_the_end(home: Path) -> None:
    path = write(home, "# only speech\n[speech]\nrate = 140\n")
    set_value(path, "voice", "model", "ko")
    text = path.read_text()
    assert text.startswith("# only speech\n[speech]\nrate = 140\n")
    assert text.rstrip().endswith('[voice]\nmodel = "ko"')
    assert load_settings(path).speech.rate == 140


def test_setting_a_value_creates_a_private_file(home: Path) -> None:
    path = home / "config.toml"
    set_value(path, "voice", "model", "ko")
    assert load_settings(path).voice.model == "ko"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "text", ["[voice]\nmodel = = 1\n", '[voice]\nmodle = "x"\n', "[speech]\nrate = 9999\n"]
)
def test_a_broken_file_is_refused_and_never_rewritten(home: Path, text: str) -> None:
    path = write(home, text)
    with pytest.raises(ConfigError):
        set_value(path, "voice", "model", "ko")
    assert path.read_text() == text


def test_a_value_the_schema_refuses_writes_nothing(home: Path) -> None:
    path = write(home, MINE)
    with pytest.raises(ConfigError) as info:
        set_value(path, "speech", "rate", 9999)
    assert info.value.key == "speech.rate"
    assert path.read_text() == MINE
    assert [p.name for p in home.iterdir()] == ["config.toml"]  # no temp file left behind
