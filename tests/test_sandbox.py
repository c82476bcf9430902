"""The systemd unit's sandbox: its options read statically, and checked from inside.

The inside check starts tests/tools/sandbox_probe.py with `systemd-run --user` and the
unit's own sandbox options as `-p` properties. It needs a running user manager; where
there is none (a container, CI), it is skipped with that reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "companion.service"
PROBE = ROOT / "tests" / "tools" / "sandbox_probe.py"
# [Service] keys that confine the process (the rest say how to start and restart it).
SANDBOX_PREFIXES = (
    "Protect",
    "Private",
    "Restrict",
    "ReadWrite",
    "ReadOnly",
    "Inaccessible",
    "SystemCall",
    "MemoryDeny",
    "LockPersonality",
    "NoNewPrivileges",
    "UMask",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "KeyringMode",
    "ProcSubset",
    "IPAddress",
)
INET_FAMILIES = {"AF_INET", "AF_INET6", "AF_PACKET"}


def service_options(unit: Path = UNIT) -> list[tuple[str, str]]:
    """The [Service] section as (key, value) pairs in order (keys may repeat)."""
    options: list[tuple[str, str]] = []
    section = ""
    for raw in unit.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            options.append((key.strip(), value.strip()))
    return options


def sandbox_options(unit: Path = UNIT) -> list[tuple[str, str]]:
    return [(k, v) for k, v in service_options(unit) if k.startswith(SANDBOX_PREFIXES)]


def values(key: str) -> list[str]:
    return [v for k, v in service_options() if k == key]


def test_unit_allows_no_internet_family() -> None:
    (families,) = values("RestrictAddressFamilies")
    assert not families.startswith("~"), "a deny-list would let new families through"
    allowed = set(families.split())
    assert "AF_UNIX" in allowed  # the session bus and sd_notify
    assert not allowed & INET_FAMILIES


def test_unit_umask_privileges_and_memory_options() -> None:
    assert values("UMask") == ["0077"]
    assert values("NoNewPrivileges") == ["yes"]
    assert values("SystemCallFilter") and values("SystemCallArchitectures") == ["native"]
    # MemoryDenyWriteExecute breaks the cffi callbacks that recording uses.
    assert values("MemoryDenyWriteExecute") == []


def test_sandbox_options_are_parsed_from_the_unit() -> None:
    keys = [k for k, _ in sandbox_options()]
    assert {"UMask", "NoNewPrivileges", "RestrictAddressFamilies"} <= set(keys)
    assert not {"ExecStart", "Restart", "Type", "WatchdogSec"} & set(keys)


def probe(*prefix: str, home: Path, outside: Path) -> dict[str, str]:
    done = subprocess.run(
        [*prefix, sys.executable, str(PROBE), "--home", str(home), "--outside", str(outside)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_probe_reports_an_open_internet_socket_outside_the_sandbox(tmp_path: Path) -> None:
    """Without the sandbox the probe does open an INET socket: it can tell the difference."""
    report = probe(home=tmp_path, outside=tmp_path)
    assert report["inet"] == "opened" and report["unix"] == "opened"
    assert report["home"] == "written"


def user_manager() -> list[str]:
    """`systemd-run --user` ready to start a probe, or a skip with the reason."""
    tool = shutil.which("systemd-run")
    if tool is None:
        pytest.skip("systemd-run is not installed (apt install systemd)")
    check = subprocess.run(
        [tool, "--user", "--wait", "--quiet", "true"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check.returncode != 0:
        pytest.skip(
            "no systemd user manager runs here (systemd-run --user: "
            f"{check.stderr.strip() or check.returncode})"
        )
    props = [f"--property={k}={v}" for k, v in sandbox_options()]
    return [tool, "--user", "--wait", "--pipe", "--quiet", "--collect", *props]


def test_probe_inside_the_units_sandbox(tmp_path: Path) -> None:
    home, outside = tmp_path / "home", Path.home()
    home.mkdir(mode=0o700)
    report = probe(*user_manager(), home=home, outside=outside)
    assert report["inet"].startswith("refused") and report["inet6"].startswith("refused")
    assert report["unix"] == "opened"
    assert report["home"] == "written"
    assert report["umask"] == "0077" and report["no_new_privs"] == "1"
    if any(k in ("ProtectHome", "ProtectSystem") for k, _ in sandbox_options()):
        assert report["outside"].startswith("refused")
