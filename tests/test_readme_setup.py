"""The README's set-up: exactly two commands; the first one, after the packages are
installed, puts `companion` on the PATH, tries the default speech model and starts the
daemon even when the model site cannot be reached."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
VENV = "~/.local/share/companion/venv"


def setup_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_the_readme_keeps_exactly_two_setup_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert commands[1] == "bash .ci/run"


def installed_by_pip(home: Path) -> None:
    """What `pip install '.[encrypt]'` leaves in the venv: a `companion` script (this one)."""
    script = home / ".local/share/companion/venv/bin/companion"
    script.parent.mkdir(parents=True)
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m companion "$@"\n')
    script.chmod(0o755)


@pytest.mark.enable_socket
def test_setup_puts_companion_on_path_and_the_daemon_starts_without_the_model(
    tmp_path: Path,
) -> None:
    packages, venv, pip, *rest = setup_commands()[0].split(" && ")
    assert packages.startswith("sudo apt-get install -y ") and "espeak-ng" in packages
    assert venv == f"python3 -m venv {VENV}" and pip == f"{VENV}/bin/pip install '.[encrypt]'"
    home = tmp_path / "home"
    installed_by_pip(home)
    (tmp_path / "run").mkdir(mode=0o700)  # a login without a systemd user manager
    with socket.socket() as closed:  # the model site is out of reach: a refused proxy
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
        env = {
            "HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "XDG_RUNTIME_DIR": str(tmp_path / "run"),
            "https_proxy": proxy,
            "http_proxy": proxy,
            "LANG": os.environ.get("LANG", "C"),
        }
        done = subprocess.run(
            ["bash", "-c", " && ".join(rest)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    said = done.stderr.splitlines()
    assert said[0] == (
        "error: could not reach the model site (no connection). Nothing was "
        "installed; when this computer is online, run `companion model install "
        "small-en-us` again"
    ), done.stderr
    assert said[1].startswith(
        "error: no systemd user manager is running here; "
        "`companion run` works until you close the terminal"
    )
    assert len(said) == 2 and done.returncode == 3
    on_path = shutil.which("companion", path=f"{home}/.local/bin:/usr/bin:/bin")
    assert on_path == str(home / ".local/bin/companion")
    version = subprocess.run(
        ["bash", "-c", "companion --version"],
        capture_output=True,
        env={**env, "PATH": f"{home}/.local/bin:/usr/bin:/bin"},
        text=True,
        timeout=60,
        check=False,
    )
    assert version.returncode == 0 and version.stdout.startswith("companion")
    assert (home / ".config/systemd/user/companion.service").exists()
