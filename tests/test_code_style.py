"""The code passes ruff's checks (its default rules at the pinned version, with pyproject's settings)."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed; it comes with the test extra"
    result = subprocess.run([ruff, "check", "--no-cache", "kiosk", "scripts", "tests"], cwd=PROJECT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
