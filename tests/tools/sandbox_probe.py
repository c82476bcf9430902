"""What a process may do from inside a sandbox: the systemd unit's options checked from within.

    python tests/tools/sandbox_probe.py --home DIR --outside DIR

Prints one JSON object: whether an AF_INET / AF_INET6 / AF_UNIX socket could be opened,
whether a file could be written in DIR (its own folder) and in the other folder, the
umask, and the kernel's NoNewPrivs flag. It only reports; the test decides.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path


def try_socket(family: int) -> str:
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
    except OSError as exc:
        return f"refused: {exc.strerror}"
    return "opened"


def try_write(folder: Path) -> str:
    target = folder / f"probe-{os.getpid()}.txt"
    try:
        target.write_text("probe", encoding="utf-8")
        target.unlink()
    except OSError as exc:
        return f"refused: {exc.strerror}"
    return "written"


def no_new_privs() -> str:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("NoNewPrivs:"):
            return line.split()[1]
    return "unknown"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--outside", type=Path, required=True)
    args = parser.parse_args(argv)
    mask = os.umask(0)
    os.umask(mask)
    report = {
        "inet": try_socket(socket.AF_INET),
        "inet6": try_socket(socket.AF_INET6),
        "unix": try_socket(socket.AF_UNIX),
        "home": try_write(args.home),
        "outside": try_write(args.outside),
        "umask": f"{mask:04o}",
        "no_new_privs": no_new_privs(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
