import json
import subprocess
import sys

HEAVY = ("vosk", "sounddevice", "pyttsx3", "plyer", "numpy", "jeepney", "sqlite_utils")


def test_the_store_does_not_load_numpy() -> None:
    code = "import sys, companion.store; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spoken_journaling_asks_its_questions_through_callables_not_click() -> None:
    code = "import sys, companion.voice; print('click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = (
        "import sys, json, companion.cli; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_debug_shows_the_traceback_and_plain_run_does_not(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMPANION_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("[speech]\nrate = 'x'\n")
    plain = subprocess.run(
        [sys.executable, "-m", "companion", "config", "check"], capture_output=True, text=True
    )
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith("error: ")
    debug = subprocess.run(
        [sys.executable, "-m", "companion", "--debug", "config", "check"],
        capture_output=True,
        text=True,
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_a_missing_command_module_fails_loudly_instead_of_hiding_its_commands() -> None:
    """A broken install must not quietly lose `companion run` and friends."""
    code = (
        "import sys\n"
        "class Gone:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'companion.cli.daemon_cmds':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Gone())\n"
        "from companion.cli import run_main\n"
        "sys.exit(run_main(['--help']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    assert "daemon_cmds" in out.stderr and "Commands:" not in out.stdout
