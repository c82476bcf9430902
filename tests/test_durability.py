import json
import subprocess
import sys
from pathlib import Path

from tests.tools.durability import run


def test_sigkill_while_writing_loses_nothing_acknowledged(home: Path) -> None:
    # Each kill lands within 0.1 s of the writer's start (or of its first save): longer
    # than a save (20-50 ms), so kills still fall anywhere in one; 0.25 s made more saves
    # to check, not other moments to die at.
    report = run(home, kills=200, max_delay=0.1)
    assert report.kills == 200
    assert report.acknowledged > 100  # every other writer saved before its kill
    assert report.integrity_failures == 0
    assert report.lost == 0
    after = subprocess.run(
        [sys.executable, "-m", "companion", "reflect", "after the storm", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(after.stdout)["text"] == "after the storm"
