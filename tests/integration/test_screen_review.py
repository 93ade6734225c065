"""The screen review sheet (scripts/screen-review.py): every screen state drawn by the real view on
real media at both orientations, with its texts checked from the drawn pixels."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from conftest import PROJECT, load_script


def test_every_screen_keeps_its_words_on_screen_apart_and_large_enough(tmp_path, model_path):
    result = subprocess.run([sys.executable, str(PROJECT / "scripts" / "screen-review.py"), "--out", str(tmp_path),
                             "--model", str(model_path)], capture_output=True, text=True, check=False, timeout=600,
                            env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 problems"
    shots = sorted(tmp_path.glob("*x*-*.png"))
    review = load_script("screen-review.py")
    assert len(shots) == 2 * len(review._states())
    assert (tmp_path / "sheet-landscape.png").stat().st_size > 100_000
    assert (tmp_path / "sheet-portrait.png").stat().st_size > 100_000


def test_the_checks_find_overlaps_small_text_text_off_screen_and_text_drawn_over():
    from kiosk.screen.view import TextBox

    review = load_script("screen-review.py")
    pixels = np.zeros((720, 1280, 3), dtype=np.uint8)
    pixels[10:40, 10:200] = (250, 250, 250)  # the first text's letters, shown
    boxes = (TextBox("shown", 10, 10, 190, 30, 24, 3000),
             TextBox("on top", 100, 20, 200, 30, 24, 10),  # overlaps the first
             TextBox("tiny", 600, 300, 50, 20, 14, 0),  # under 24 px at 720
             TextBox("off", 1250, 600, 100, 30, 24, 0),  # past the right edge
             TextBox("covered", 600, 600, 100, 30, 24, 500))  # no white shows where its letters were
    found = review.problems_of(boxes, pixels, None, single=True)
    assert any("'on top'" in p and "overlaps" in p for p in found) or any("overlaps 'on top'" in p for p in found)
    assert any("'tiny' is 14 px tall" in p for p in found)
    assert any("'off' leaves the screen" in p for p in found)
    assert any("'covered' is drawn over" in p for p in found)
    assert not any(p.startswith("'shown' is") for p in found)
    assert not [p for p in review.problems_of(boxes, pixels, None, single=False) if "tall" in p]
    # a line straddling a picture that fills the screen's width runs past it
    assert any("runs past the picture" in p for p in
               review.problems_of((TextBox("wide", 0, 10, 300, 30, 24, 0),), pixels, (100, 0, 1080, 720), True))
