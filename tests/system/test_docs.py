"""The documentation site builds with no warning, and its configuration reference is the code's own."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from kiosk.settings.config import Config

PROJECT = Path(__file__).resolve().parents[2]


def test_the_docs_build_strictly_and_list_every_key(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
                            cwd=PROJECT, capture_output=True, text=True, check=False,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    page = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    for section in dataclasses.fields(Config):
        assert f"[{section.name}]" in page
        for key in dataclasses.fields(getattr(Config(), section.name)):
            assert f"<code>{key.name}</code>" in page, f"{section.name}.{key.name} is missing from the reference"
    assert "(no description)" not in page
