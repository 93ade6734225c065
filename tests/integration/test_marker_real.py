"""No marker where nobody wears one: every clip and photo of ../shared/data, at the hips the model
found there (../shared/data/movenet_lightning_keypoints.json.gz), searched for eight marker
colours and for a marker of any colour (what a calibration would learn)."""

from __future__ import annotations

import gzip
import json

import cv2
import numpy as np
import pytest

from kiosk.body.marker import MarkerColor, find_marker, read_marker
from kiosk.core.types import Keypoint
from kiosk.settings.config import MarkerConfig

from conftest import shared_file

COLOURS = ("#FF6A00", "#C8F000", "#E0129A", "#00A8FF", "#8A2BE2", "#FF2030", "#00C8A0", "#FFD000")
EVERY = 3
"""Every third frame (neighbouring frames hardly differ), to keep the test short."""


@pytest.mark.shared
def test_no_marker_is_read_or_learned_on_any_real_clip() -> None:
    with gzip.open(shared_file("movenet_lightning_keypoints.json.gz"), "rt") as handle:
        files = json.load(handle)["files"]
    colours = [MarkerColor.from_hex(c) for c in COLOURS]
    limit = MarkerConfig().min_confidence
    looked = 0
    for name, entry in files.items():
        frames = {index: np.array(rows) for index, rows in entry["frames"] if index % EVERY == 0}
        capture = cv2.VideoCapture(str(shared_file(name)))
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            rows = frames.get(index)
            index += 1
            if rows is None or min(rows[Keypoint.LEFT_HIP, 2], rows[Keypoint.RIGHT_HIP, 2]) < 0.3:
                continue
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            left, right = rows[Keypoint.LEFT_HIP, :2], rows[Keypoint.RIGHT_HIP, :2]
            shoulders = (rows[Keypoint.LEFT_SHOULDER, :2] + rows[Keypoint.RIGHT_SHOULDER, :2]) / 2
            torso = float(np.hypot(*(shoulders - (left + right) / 2)))  # as kiosk.body.pelvis measures it
            looked += 1
            for colour, hexa in zip(colours, COLOURS, strict=True):
                evidence = read_marker(image, left, right, colour, torso)
                assert evidence is None or evidence.confidence <= limit, f"{name} frame {index - 1}: {hexa}"
            assert find_marker(image, left, right, torso) is None, f"{name} frame {index - 1}: a marker learned"
        capture.release()
    assert looked > 900  # every clip was read
