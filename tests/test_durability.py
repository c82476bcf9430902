import json
import subprocess
import sys
from pathlib import Path

from tests.tools.durability import run


def test_sigkill_while_writing_loses_nothing_acknowledged(home: Path) -> None:
    report = run(home, kills=200)
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
