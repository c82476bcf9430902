"""No network: the CLI works in a namespace with no network at all."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _unshare() -> list[str]:
    tool = shutil.which("unshare")
    if tool is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([tool, "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine does not allow network namespaces: {probe.stderr!r}")
    return [tool, "-rn"]


def test_cli_works_with_no_network_at_all(home: Path) -> None:
    env = {**os.environ, "COMPANION_HOME": str(home)}
    base = [*_unshare(), sys.executable, "-m", "companion"]
    for args in (
        ["reflect", "offline and fine"],
        ["skill", "walk"],
        ["backup"],
        ["export", "--format", "md"],
    ):
        subprocess.run([*base, *args], env=env, check=True, capture_output=True, timeout=60)
    hits = subprocess.run(
        [*base, "search", "offline", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [h["text"] for h in json.loads(hits.stdout)] == ["offline and fine"]
