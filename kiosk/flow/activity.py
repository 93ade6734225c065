"""What the one person in single mode is doing — walking, exercising or calibrating — and the held
gestures that switch it: both hands up toggles walking and exercising; arms held out starts a
calibration (a still stand, given up after `CALIBRATION_TIMEOUT_S`).  Pure; time is an argument.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.body.calibration import Calibration, CalibrationCollector
from kiosk.body.gesture import HeldPose
from kiosk.core.types import CalibrationProgress, Image, PelvisReading, Pose

CALIBRATION_TIMEOUT_S = 30.0
"""A calibration started by the gesture that has not found a still stand by then is given up."""


class Activity(enum.Enum):
    WALKING = "walking"
    EXERCISING = "exercising"
    CALIBRATING = "calibrating"


@dataclass(frozen=True, slots=True)
class Switches:
    """What the gestures did on one frame."""

    toggled: bool
    """Walking and exercising swapped (what was in progress must end)."""
    calibration_started: bool


class ActivityState:
    """The single-mode person's activity and the gestures that change it."""

    def __init__(self, exercising: bool = False, gesture: HeldPose | None = None,
                 calibrate_gesture: HeldPose | None = None, calibrate_s: float = 4.0) -> None:
        """`exercising`: start in exercise mode; `gesture` toggles walking and exercising;
        `calibrate_gesture` starts a calibration of `calibrate_s` of standing still."""
        self.exercising = exercising
        self.gesture = gesture
        self.calibrate_gesture = calibrate_gesture
        self.calibrate_s = calibrate_s
        self._collector: CalibrationCollector | None = None
        self._collecting_since_s = 0.0
        self.progress: CalibrationProgress | None = None

    @property
    def activity(self) -> Activity:
        if self._collector is not None:
            return Activity.CALIBRATING
        return Activity.EXERCISING if self.exercising else Activity.WALKING

    @property
    def gestures_fired(self) -> int:
        return sum(g.fired for g in (self.gesture, self.calibrate_gesture) if g is not None)

    def update(self, pose: Pose | None, t_s: float) -> Switches:
        """The gestures, on this frame's pose (None: no usable pose)."""
        toggled = self.gesture is not None and self.gesture.update(pose, t_s)
        if toggled:
            self.exercising = not self.exercising
        started = (self.calibrate_gesture is not None and self.calibrate_gesture.update(pose, t_s)
                   and self._collector is None)
        if started:
            self._collector, self._collecting_since_s = CalibrationCollector(self.calibrate_s), t_s
        return Switches(toggled, started)

    def calibrate(self, reading: PelvisReading | None, pose: Pose | None, t_s: float,
                  image: Image) -> Calibration | None:
        """One frame of the calibration in progress; the calibration once the stand is long enough
        (and then walking or exercising again), else None (`progress` says how far; a calibration
        that found no still stand for `CALIBRATION_TIMEOUT_S` is given up: no longer `CALIBRATING`)."""
        collector = self._collector
        assert collector is not None, "no calibration in progress"
        progress = collector.add(reading, pose if reading is not None else None, t_s, image)
        self.progress = CalibrationProgress(progress, max(0.0, self.calibrate_s * (1 - progress)))
        if progress >= 1.0:
            self._collector, self.progress = None, None
            return collector.result()
        if t_s - self._collecting_since_s > CALIBRATION_TIMEOUT_S:
            self._collector, self.progress = None, None
        return None
