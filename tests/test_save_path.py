"""The one save path (journal.save): every word a person saves is stored first, then
checked for crisis language, whatever the configuration says and however it was typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, run_in_process

from companion.app import App
from companion.cli.common import ClickUi
from companion.paths import resolve_paths

CRISIS = "I want to kill myself"
RESOURCES = "988"


def texts(cli: Cli) -> list[str]:
    exported = json.loads(cli("export").stdout)["tables"]
    return [
        row.get("text") or row.get("note") or row.get("name") or ""
        for table in ("entries", "skill_uses", "moments", "pattern_notices", "phrases")
        for row in exported.get(table, [])
    ]


def test_unquoted_words_are_the_text_and_crisis_words_bring_resources(cli: Cli) -> None:
    result = cli("reflect", *CRISIS.split())
    assert "Saved your reflection" in result.stdout
    assert RESOURCES in result.stderr and CRISIS not in result.stderr
    assert CRISIS in texts(cli)


def test_checkin_text_takes_the_rest_of_the_line(cli: Cli) -> None:
    cli("checkin", "--text", "slept", "badly", "again")
    assert "slept badly again" in texts(cli)


def test_a_broken_config_costs_one_warning_not_the_words(cli: Cli, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[voice]\ncheckins = 'loud'\n")
    result = cli("reflect", CRISIS)
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "config check" in warnings[0]
    assert RESOURCES in result.stderr and CRISIS in texts(cli)
    (home / "config.toml").write_text("[checkins\n")  # not even TOML
    assert cli("win", "kept my word").exit_code == 0 and "kept my word" in texts(cli)


def test_a_crisis_check_that_fails_never_costs_the_save(home: Path) -> None:
    def broken_matcher(text: str, settings: object) -> None:
        raise RuntimeError("the matcher broke")

    app = App(paths=resolve_paths(), ui=ClickUi(), check_words=broken_matcher)
    result = run_in_process("reflect", CRISIS, app=app)
    assert result.exit_code == 0 and "Saved your reflection" in result.stdout
    assert CRISIS in texts(Cli())


@pytest.mark.parametrize(
    "args",
    [
        ["win", CRISIS],
        ["skill", "walk", "--note", CRISIS],
        ["moment", "--intensity", "3", "--note", CRISIS],
        ["phrase", "add", CRISIS],
        ["friend-test", "--print", "--kinder", CRISIS],
    ],
    ids=lambda a: a[0],
)
def test_every_saved_text_is_checked(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert RESOURCES in result.stderr, result.stderr
    assert CRISIS in texts(cli)


def test_a_pattern_note_is_checked(cli: Cli) -> None:
    cli("pattern", "add", "all or nothing")
    result = cli("pattern", "noticed", "all", "or", "nothing", "--note", CRISIS)
    assert RESOURCES in result.stderr


def test_a_checkin_answer_is_set_aside_when_the_database_is_held(
    home: Path, tmp_path: Path
) -> None:
    """The prompt's bookkeeping must not write before the answer is safe (issue 15, 4)."""
    from test_faults import hold_lock

    cli = Cli()
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[storage]\nbusy_timeout_seconds = 0.5\n")
    cli("reflect", "before")
    locker = hold_lock(home / "companion.db", 3)
    try:
        held = run_in_process("checkin", "--mood", "2", "--text", "said while held")
    finally:
        assert locker.wait(30) == 0
    assert held.exit_code == 1 and "not lost" in held.stderr, held.stderr
    cli("win", "after")
    assert "said while held" in texts(cli)
