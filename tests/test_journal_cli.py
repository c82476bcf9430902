import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from companion.store import Store


def test_reflect_typed_stdin_area_and_bring(cli, home: Path) -> None:
    out = json.loads(
        cli("reflect", "I noticed it sooner", "--area", "awareness", "--bring", "--json").stdout
    )
    assert out["id"] == 1 and out["bring"] == 1 and out["area"] == "awareness"
    assert "Saved your reflection (2)" in cli("reflect", "-", input="from stdin\n").stdout
    with Store.open(home / "companion.db") as s:
        assert [e["text"] for e in s.entries()] == ["I noticed it sooner", "from stdin"]


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["reflect", ""], 1, "empty"),
        (["reflect", "   "], 1, "empty"),
        (["checkin", "--text", "x", "--mood", "9"], 2, "mood"),
        (["reflect", "x", "--area", "nowhere"], 2, "area"),
        (["moment", "--intensity", "5", "--steady-after", "-10"], 1, "negative"),
        (["moment", "--intensity", "11"], 2, "intensity"),
        (["moment", "steady"], 1, "no tough moment"),
        (["pattern", "noticed", "unknown"], 1, "no pattern"),
        (["forget", "99"], 1, "no entry with id 99"),
        (["forget", "banana"], 2, "ID"),
        (["forget", "--all"], 2, "--yes"),
        (["import", "/nonexistent.json"], 1, "no such file"),
    ],
)
def test_bad_input_gets_one_clear_message(cli, args: list[str], code: int, words: str) -> None:
    cli("reflect", "something to keep")
    result = cli(*args, ok=False)
    assert result.exit_code == code, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output
    if code == 1:
        assert result.stderr.startswith("error: ")
    assert "something to keep" in cli("search", "keep").stdout


def test_checkin_answers_the_waiting_checkin(cli, home: Path) -> None:
    from datetime import datetime

    with Store.open(home / "companion.db") as s:
        d = s.claim_delivery(
            "evening",
            datetime.now().astimezone().replace(microsecond=0),
            prompt="What feeling has been around today?",
        )
        s.set_delivery(d["id"], "notified")
    entry = json.loads(cli("checkin", "--text", "tired but ok", "--mood", "3", "--json").stdout)
    assert entry["prompt"] == "What feeling has been around today?"
    with Store.open(home / "companion.db") as s:
        delivery = s.delivery(d["id"])
    assert delivery["status"] == "answered" and delivery["entry_id"] == entry["id"]
    assert entry["delivery_id"] == d["id"]
    result = cli("checkin", "--skip")  # nothing waiting any more: that's fine too
    assert result.stdout.startswith("No check-in is waiting right now")


@pytest.mark.parametrize("what", ["snooze", "skip"])
def test_snooze_or_skip_with_nothing_waiting_is_fine(cli, home: Path, what: str) -> None:
    result = cli("checkin", f"--{what}")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == (
        f"No check-in is waiting right now, so there is nothing to {what}. That's fine.\n"
    )
    assert json.loads(cli("checkin", f"--{what}", "--json").stdout) == {"waiting": False}


def test_checkin_snooze_and_skip(cli, home: Path) -> None:
    from datetime import datetime

    with Store.open(home / "companion.db") as s:
        d = s.claim_delivery("evening", datetime.now().astimezone(), status="notified")
    assert "Snoozed" in cli("checkin", "--snooze").stdout
    assert "Skipped" in cli("checkin", "--skip").stdout
    with Store.open(home / "companion.db") as s:
        assert s.delivery(d["id"])["status"] == "skipped"


def test_typed_checkin_asks_its_question(cli) -> None:
    from companion.content import load_pack

    result = cli("checkin", "--mood", "4", input="a calm evening\n")
    prompts = {text for texts in load_pack("prompts").values() for text in texts}
    assert result.stderr.splitlines()[0] in prompts  # one of the prompts was shown first
    assert "Saved your check-in" in result.stdout


@pytest.mark.parametrize(
    ("typed", "mood"),
    [
        ("a calm evening\n3\n", 3),
        ("a calm evening\n\n", None),  # Enter skips
        ("a calm evening\n", None),  # no more input: saved without a mood
        ("a calm evening\nseven\n2\n", 2),  # asked again, kindly
    ],
)
def test_a_typed_checkin_asks_for_a_mood_after_the_text(
    cli, store: Store, typed: str, mood: int | None
) -> None:
    result = cli("checkin", input=typed)
    if typed.count("\n") > 1:  # someone was there to be asked
        assert "mood, 1 (very low) to 5 (very good)" in result.stderr
    assert [(e["text"], e["mood"]) for e in store.entries()] == [("a calm evening", mood)]


def test_a_checkin_given_as_an_option_is_not_asked_for_a_mood(cli, store: Store) -> None:
    result = cli("checkin", "--text", "scripted")
    assert "mood" not in result.stderr
    assert store.entries()[0]["mood"] is None


def test_tags_on_every_save_command(cli, store: Store) -> None:
    cli("reflect", "Lunch with #Family, then #work-stress", "--tag", "sunday")
    cli("checkin", "--text", "ok", "--mood", "3", "--tag", "evening")
    cli("win", "Asked for help #work")
    cli("skill", "grounding", "--tag", "work", "--note", "at my #desk")
    cli("moment", "--intensity", "5", "--tag", "work")
    cli("pattern", "add", "mind reading")
    cli("pattern", "noticed", "mind reading", "--tag", "#work")
    cli("session", "note", "Go slowly", "--tag", "plan")
    cli("week", "--note", "Calmer mornings #progress")
    assert [e["tags"] for e in store.entries()] == [
        ["sunday", "family", "work-stress"],
        ["evening"],
        ["work"],
        ["plan"],
        ["progress"],
    ]
    assert store.rows("skill_uses")[0]["tags"] == ["work", "desk"]
    assert store.rows("moments")[0]["tags"] == ["work"]
    assert store.rows("pattern_notices")[0]["tags"] == ["work"]
    bad = cli("win", "x", "--tag", "not a tag", ok=False)
    assert bad.exit_code == 2 and "is not a tag" in bad.stderr
    assert len(store.entries()) == 5


def test_week_note_writes_the_weekly_entry(cli, store: Store) -> None:
    out = cli("week", "--note", "-", input="I asked for help sooner.\n")
    assert "Saved your note for the week" in out.stdout
    [entry] = store.entries()
    assert (entry["kind"], entry["text"]) == ("weekly", "I asked for help sooner.")
    assert entry["prompt"] == "What felt different this week?"


def test_skill_moment_win_pattern_flow(cli, home: Path) -> None:
    cli("skill", "box breathing", "--helped", "7", "--note", "before the call")
    cli("moment", "--intensity", "8", "--steady-after", "1h30m", "--skill", "walk")
    cli("moment", "--intensity", "6", "--note", "email from boss")
    steady = json.loads(cli("moment", "steady", "--json").stdout)
    assert steady["id"] == 2 and steady["steady_minutes"] is not None
    cli("win", "said no to extra work", "--area", "boundaries")
    cli("pattern", "add", "mind reading")
    cli("pattern", "noticed", "Mind Reading", "--responded")
    cli("pattern", "noticed", "mind reading")
    patterns = json.loads(cli("pattern", "list", "--json").stdout)
    assert patterns == [
        {
            "id": 1,
            "name": "mind reading",
            "created_at": patterns[0]["created_at"],
            "noticed": 2,
            "responded": 1,
            "last_noticed": patterns[0]["last_noticed"],
        }
    ]
    with Store.open(home / "companion.db") as s:
        assert s.get("moment", 1)["steady_minutes"] == 90
        assert [u["skill"] for u in s.rows("skill_uses")] == ["box breathing", "walk"]
        assert s.entries(kind="win")[0]["area"] == "boundaries"


def test_phrases(cli) -> None:
    cli("phrase", "add", "You are allowed to go slowly.", "--context", "tired")
    mine = json.loads(cli("phrase", "list", "--json").stdout)
    assert [p["text"] for p in mine] == ["You are allowed to go slowly."]
    everything = json.loads(cli("phrase", "list", "--all", "--json").stdout)
    assert len(everything) >= 31


def test_the_help_lists_every_command(cli) -> None:
    from companion.cli import COMMANDS

    out = cli("--help").stdout
    assert "not therapy" in out
    assert [name for name in COMMANDS if not re.search(rf"^  {name} ", out, re.M)] == []
    assert cli("--version").stdout.startswith("companion, version")


def test_each_command_is_filed_under_the_module_that_registers_it() -> None:
    """The CLI imports a command's module only when it is run, by COMMANDS."""
    import importlib

    import click

    from companion.cli import COMMANDS

    def tree(command: click.Command) -> object:
        subs = getattr(command, "commands", {})
        return {name: tree(sub) for name, sub in subs.items()}

    registered, alone = {}, {}
    for module in sorted(set(COMMANDS.values())):
        group = click.Group()
        importlib.import_module(f"companion.cli.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
        alone.update(tree(group))  # each module's commands whole without the others
    assert registered == COMMANDS
    assert "remove" in alone["phrase"]

    from companion.cli import main

    ctx = click.Context(main)
    assert {name: tree(main.get_command(ctx, name)) for name in COMMANDS} == alone


def test_a_command_loads_only_its_own_module(tmp_path: Path) -> None:
    code = (
        "import sys; from companion.cli import run_main; run_main(['reflect', 'hello']); "
        "print(sorted(m for m in sys.modules if m.startswith('companion.cli.')))"
    )
    env = {**os.environ, "COMPANION_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "['companion.cli.common', 'companion.cli.journal']"


def test_moment_steady_in_words(cli, home: Path) -> None:
    cli("moment", "--intensity", "5")
    assert cli("moment", "steady").stdout == (
        "Steady again after less than a minute. Well done riding it out.\n"
    )


def test_pattern_list_shows_a_readable_local_time(cli, home: Path) -> None:
    cli("pattern", "add", "mind reading")
    noticed = json.loads(cli("pattern", "noticed", "mind reading", "--json").stdout)
    out = cli("pattern", "list").stdout
    when = datetime.fromisoformat(noticed["created_at"]).astimezone()
    assert f"{when:%a %d %b %Y, %H:%M}" in out
    assert "T" not in out.splitlines()[1].split("mind reading")[1]  # no raw ISO time


def test_notes_can_come_from_standard_input(cli) -> None:
    """`--note -` reads the note from stdin, so its words never have to be in argv."""
    cli("moment", "--intensity", "4", "--note", "-", input="a long, private note\n")
    cli("skill", "walk", "--note", "-", input="it helped a bit\n")
    cli("pattern", "add", "mind reading")
    cli("pattern", "noticed", "mind reading", "--note", "-", input="caught it early\n")
    tables = json.loads(cli("export").stdout)["tables"]
    assert tables["moments"][0]["note"] == "a long, private note"
    assert tables["skill_uses"][0]["note"] == "it helped a bit"
    assert tables["pattern_notices"][0]["note"] == "caught it early"
