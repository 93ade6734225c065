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


def test_mypy_strict_finds_nothing_in_the_package():
    """mypy with pyproject's settings (strict, on kiosk/)."""
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    assert mypy, "mypy is not installed; it comes with the test extra"
    result = subprocess.run([mypy, "--no-incremental"], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_version_is_written_once():
    import tomllib

    import kiosk

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert kiosk.__version__.count(".") == 2
