"""The house: packages by job, each saying what it may import, and import-linter holding them to it."""

import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import kiosk

from conftest import PROJECT

PACKAGES = ["core", "settings", "model", "body", "camera", "flow", "screen", "recording", "app"]


def test_the_layers_and_the_no_circles_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is not installed; it comes with the test extra"
    result = subprocess.run([lint, "--no-cache", str(PROJECT / "pyproject.toml")], cwd=PROJECT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_every_module_lives_in_a_package_by_job_that_says_its_job_and_what_it_may_import():
    top_level = sorted(info.name for info in pkgutil.iter_modules(kiosk.__path__))
    assert top_level == sorted([*PACKAGES, "__main__"])
    for name in PACKAGES:
        package = importlib.import_module(f"kiosk.{name}")
        assert package.__doc__ and "May import:" in package.__doc__, name
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"kiosk.{name}.{info.name}")
            assert module.__doc__, f"kiosk.{name}.{info.name} has no docstring"


def test_every_script_has_its_purpose_in_the_scripts_readme():
    readme = (PROJECT / "scripts" / "README.md").read_text()
    for path in sorted((PROJECT / "scripts").iterdir()):
        if path.is_file() and path.name != "README.md":
            assert f"`{path.name}`" in readme, f"scripts/{path.name} is not in scripts/README.md"


def test_every_module_has_its_row_in_the_architecture_page():
    page = (PROJECT / "docs" / "architecture.md").read_text()
    for path in sorted((PROJECT / "kiosk").glob("*/*.py")):
        name = path.relative_to(PROJECT)
        if path.name != "__init__.py":
            assert f"`{name}`" in page, f"{name} is not in docs/architecture.md"
