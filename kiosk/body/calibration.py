"""Calibration: the person's standing pelvis as the camera sees it, so the ruler shows the drop
from *their* level.

Standing still for a few seconds gives a baseline tilt: it holds the camera's roll and any
standing asymmetry (a leg-length difference), which walking should not be judged against.  The
camera's roll is measured too, from the standing body's axis, and stored for the record.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from kiosk.body.marker import find_marker
from kiosk.core.checks import number_in
from kiosk.core.errors import ConfigError
from kiosk.core.files import SHARED, write_atomically
from kiosk.core.types import FloatArray, Image, Keypoint, MarkerEvidence, PelvisReading, Pose
from kiosk.settings.config import marker_hsv
from kiosk.settings.locations import calibration_paths

MARKER_FRAMES_SHARE = 0.6
"""A marker's colour is learned when it was found in at least this share of the still stand's frames..."""
MARKER_HUE_AGREE_DEG = 12.0
"""...with hues this close to their median."""


@dataclass(frozen=True, slots=True)
class Calibration:
    standing_tilt_deg: float
    """The standing pelvis' tilt as the camera saw it (the camera's roll included); subtracted from every tilt."""
    camera_roll_deg: float
    """How far the standing body's axis (ankles to shoulders) leans from the picture's vertical;
    positive when the head is toward the picture's right.  For the record."""
    samples: int
    spread_deg: float
    """Standard deviation of the tilt while standing: a large one means the calibration was restless."""
    created: str
    belt_offset_deg: float | None = None
    """The belt line the picture showed against the hip joints' line while standing (None: the
    picture said nothing clear, or the calibration is older than the belt line)."""
    marker_color: str | None = None
    """The colour (#RRGGBB) of the marker the person wore while standing, which `[marker] color =
    "auto"` then looks for (None: none was found, or the calibration is older than the marker)."""


CALIBRATION_LIMIT_DEG = 45.0
"""No standing tilt, camera roll, belt offset or spread is this large: a file that says so is damaged."""


def save_calibration(calibration: Calibration, path: Path) -> None:
    """Written whole or not at all (a power cut during a gesture's calibration leaves the old file),
    readable by the service's user when `beltline calibrate` writes it as root."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(asdict(calibration), indent=2, allow_nan=False) + "\n", SHARED)


def _angle(data: Mapping[str, object], key: str, low: float = -CALIBRATION_LIMIT_DEG) -> float:
    return number_in(data.get(key), key, low, CALIBRATION_LIMIT_DEG)


def load_calibration(path: Path) -> Calibration:
    """A calibration file, validated by value (finite angles within ±45°, a positive frame count, a
    strong marker colour); CalibrationDamaged names the file and what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"it holds {type(data).__name__}, not the calibration's fields")
        samples, created, marker = data.get("samples"), data.get("created"), data.get("marker_color")
        if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 10_000_000:
            raise ValueError(f"samples is {samples!r}, not a count of frames")
        if not isinstance(created, str) or len(created) > 64:
            raise ValueError(f"created is {str(created)[:40]!r}, not a time")
        if marker is not None:
            marker_hsv(str(marker))  # a strong colour #RRGGBB, else ValueError
        return Calibration(_angle(data, "standing_tilt_deg"), _angle(data, "camera_roll_deg"), samples,
                           _angle(data, "spread_deg", low=0.0), created,
                           None if data.get("belt_offset_deg") is None else _angle(data, "belt_offset_deg"),
                           None if marker is None else str(marker))
    except FileNotFoundError as error:
        raise ConfigError(f"calibration file {path} does not exist (run beltline calibrate)") from error
    except (OSError, ValueError, TypeError, RecursionError) as error:
        raise CalibrationDamaged(path, f"calibration file {path} cannot be used: {error} "
                                       "(run beltline calibrate again)") from error


class CalibrationDamaged(ConfigError):
    """A calibration file that is truncated, not JSON, or holds impossible values."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def set_aside(path: Path) -> Path | None:
    """Rename a damaged calibration out of the way (kept for a look, never deleted), so the next
    start does not trip on it; None when the folder cannot be written (then it is skipped each start)."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        path.rename(aside)
    except OSError:
        return None
    return aside


def find_calibration(configured: str, environ: Mapping[str, str] = os.environ) -> Calibration | None:
    """The configured calibration file; else the newest of the default ones that exist (the
    service's own, made by the calibration gesture; /etc/beltline's and ~/.config/beltline's, made
    by `beltline calibrate`); else none."""
    if configured:
        return load_calibration(Path(configured).expanduser())
    found = [path for path in calibration_paths(environ) if path.is_file()]
    if not found:
        return None
    return load_calibration(max(found, key=lambda path: path.stat().st_mtime))


def body_axis_lean_deg(pose: Pose) -> float | None:
    """The angle of the ankle-midpoint-to-shoulder-midpoint line from the image vertical, or None."""
    needed = (Keypoint.LEFT_ANKLE, Keypoint.RIGHT_ANKLE, Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER)
    if min(pose.score(k) for k in needed) < 0.3:
        return None
    ankles = (pose.xy(Keypoint.LEFT_ANKLE) + pose.xy(Keypoint.RIGHT_ANKLE)) / 2
    shoulders = pose.shoulder_mid_px
    dx, dy = float(shoulders[0] - ankles[0]), float(shoulders[1] - ankles[1])
    return math.degrees(math.atan2(dx, -dy))


class CalibrationCollector:
    """Collects a still stand of `seconds`; moving off the spot starts the count again."""

    def __init__(self, seconds: float = 4.0, max_move_hip_widths: float = 0.5) -> None:
        self._seconds = seconds
        self._max_move = max_move_hip_widths
        self._start_s: float | None = None
        self._anchor: FloatArray | None = None
        self._tilts: list[float] = []
        self._leans: list[float] = []
        self._belts: list[float] = []
        self._markers: list[MarkerEvidence] = []
        self.restarts = 0

    def add(self, reading: PelvisReading | None, pose: Pose | None, t_s: float, image: Image | None = None) -> float:
        """Fold in one frame; returns progress from 0 to 1.  With `image`, a worn marker of any strong
        colour at the belt line is looked for (kiosk.body.marker.find_marker), to learn its colour."""
        if reading is None or pose is None:
            self._restart()
            return 0.0
        hip_mid = reading.hip_mid_px
        hip_width = reading.hip_width_px
        if self._anchor is not None and float(np.hypot(*(hip_mid - self._anchor))) > self._max_move * hip_width:
            self._restart()
            self.restarts += 1
        if self._start_s is None:
            self._start_s, self._anchor = t_s, hip_mid
        self._tilts.append(reading.raw_tilt_deg)
        if image is not None and (
                marker := find_marker(image, reading.left_hip_px, reading.right_hip_px, reading.torso_px)):
            self._markers.append(marker)
        if reading.picture is not None:
            self._belts.append(reading.picture.relative_deg)
        lean = body_axis_lean_deg(pose)
        if lean is not None:
            self._leans.append(lean)
        return self.progress(t_s)

    def progress(self, t_s: float) -> float:
        if self._start_s is None:
            return 0.0
        return min(1.0, (t_s - self._start_s) / self._seconds)

    def result(self) -> Calibration:
        if len(self._tilts) < 3:
            raise ValueError("not enough frames of a person standing still")
        marker = self._learned_marker()
        # with a marker, the ruler's level is the marker's own standing line
        tilts = [m.tilt_deg for m in self._markers if m.color == marker] if marker else self._tilts
        return Calibration(
            standing_tilt_deg=round(statistics.median(tilts), 3),
            camera_roll_deg=round(statistics.median(self._leans), 3) if self._leans else 0.0,
            samples=len(self._tilts),
            spread_deg=round(statistics.pstdev(self._tilts), 3),
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            belt_offset_deg=round(statistics.median(self._belts), 3) if len(self._belts) >= 3 else None,
            marker_color=marker,
        )

    def _learned_marker(self) -> str | None:
        """The marker's colour (#RRGGBB) when one was found in most frames of the stand, in one
        colour (its hue within MARKER_HUE_AGREE_DEG of the frames' median), else None."""
        if len(self._markers) < MARKER_FRAMES_SHARE * len(self._tilts) or len(self._markers) < 3:
            return None
        hues = [marker_hsv(m.color)[0] for m in self._markers]
        middle = statistics.median(hues)
        agreeing = [m for m, hue in zip(self._markers, hues, strict=True)
                    if abs((hue - middle + 180) % 360 - 180) <= MARKER_HUE_AGREE_DEG]
        if len(agreeing) < MARKER_FRAMES_SHARE * len(self._tilts):
            return None
        # the frame whose hue is the median's: one real colour, not a blend of several
        return min(agreeing, key=lambda m: abs((marker_hsv(m.color)[0] - middle + 180) % 360 - 180)).color

    def _restart(self) -> None:
        self._start_s = None
        self._anchor = None
        self._tilts.clear()
        self._leans.clear()
        self._belts.clear()
        self._markers.clear()
