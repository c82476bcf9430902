from pathlib import Path

import pytest

from companion.config import dump_settings, load_settings
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
        "evening", "weekly-review", "trusted-friend"]
    assert settings.voice.checkins == "ask"


def test_user_file_overrides_key_by_key(home: Path) -> None:
    settings = load_settings(write(home, '[speech]\nrate = 120\n'))
    assert settings.speech.rate == 120
    assert settings.speech.volume == 0.9  # untouched key keeps its default


def test_invalid_toml_names_file_and_line(home: Path) -> None:
    err = error_for(home, '[speech]\nrate = 120\nvolume = = 3\n')
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
    err = error_for(home, '\n[checkins]\nsnoze_minutes = 5\n')
    assert err.line == 3 and err.key == "checkins.snoze_minutes"
    assert "snooze_minutes" in str(err)


def test_impossible_time_in_schedule(home: Path) -> None:
    err = error_for(home, '[[checkins.schedule]]\nname = "a"\ntime = "20:00"\n'
                          '[[checkins.schedule]]\nname = "b"\ntime = "25:00"\n')
    assert err.line == 6 and err.key == "checkins.schedule[1].time"
    assert "25:00" in str(err)


@pytest.mark.parametrize("text, key", [
    ('[speech]\nrate = "fast"\n', "speech.rate"),
    ('[[checkins.schedule]]\nname = "a"\ntime = "08:00"\ndays = ["mon", "funday"]\n',
     "checkins.schedule[0].days"),
    ('[checkins]\nschedule = []\n', "checkins.schedule"),
    ('[voice]\ncheckins = "sometimes"\n', "voice.checkins"),
    ('[nonsense]\na = 1\n', "nonsense"),
    ('[[checkins.schedule]]\ntime = "08:00"\n', "checkins.schedule[0]"),
    ('[speech]\nvolume = 3\n', "speech.volume"),
    ('[[checkins.schedule]]\nname = "a"\ntime = "08:00"\n[[checkins.schedule]]\nname = "a"\n'
     'time = "09:00"\n', "checkins.schedule[1].name"),
])
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
