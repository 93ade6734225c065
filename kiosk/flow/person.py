"""One person's chain after the model, written once for every mode: the pelvis read from the pose
and the picture (gates, belt line, marker), the tracker that smooths it and decides its colour,
and the walk whose steps it counts; a finished walk goes to the walk sink (the records).

Single mode has one chain (and the exercise coach and calibration beside it); group mode has one
per person followed.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.body.gait import GaitThresholds, WalkTracker
from kiosk.body.reading import PelvisReader
from kiosk.body.tracker import PelvisTracker
from kiosk.core.types import FinishedWalk, Frame, NoVerdict, Pose, StepRecord, Verdict, WalkStatus
from kiosk.settings.config import PelvisConfig

WalkSink = Callable[[FinishedWalk], None]
"""Where a finished walk goes (kiosk.recording.store): called in the thread that runs the pipeline,
so it must not block."""


class PersonChain:
    """Reading, tracker and walk for one person; time is each frame's."""

    def __init__(self, settings: PelvisConfig, reader: PelvisReader, baseline_deg: float | None = None,
                 belt_offset_deg: float | None = None, keep_steps: bool = False,
                 on_walk: WalkSink | None = None) -> None:
        """`baseline_deg`, `belt_offset_deg`: the calibration (None: none); `keep_steps`: remember
        every step (for `analyze`); `on_walk`: gets every walk as it finishes."""
        self._settings = settings
        self.reader = reader
        self._on_walk = on_walk
        self.tracker = self._tracker(baseline_deg, belt_offset_deg)
        self._walk = WalkTracker(GaitThresholds(drop_deg=settings.tolerance_deg), keep_history=keep_steps,
                                 treadmill=reader.legs_only)

    def _tracker(self, baseline_deg: float | None, belt_offset_deg: float | None) -> PelvisTracker:
        return PelvisTracker(self._settings, baseline_deg or 0.0, belt_offset_deg or 0.0, self.reader.marker)

    def judge(self, pose: Pose, frame: Frame) -> Verdict:
        """The pelvis of a (finite) pose, read and smoothed into this frame's verdict."""
        return self.tracker.update(self.reader.read(pose, frame.image), frame.t_s, still=frame.still)

    def nobody(self, t_s: float) -> Verdict:
        """No person in this frame (or a broken model output)."""
        return self.tracker.update(NoVerdict.NO_PERSON, t_s)

    def walked(self, pose: Pose, verdict: Verdict, frame: Frame) -> WalkStatus:
        """The walk after this frame; a walk that just finished goes to the sink."""
        status = self._walk.update(pose, verdict, frame.t_s, frame.index)
        if status.finished is not None and self._on_walk is not None:
            self._on_walk(status.finished)
        return status

    def close_walk(self) -> None:
        """End the walk in progress (it goes to the sink)."""
        finished = self._walk.close()
        if finished is not None and self._on_walk is not None:
            self._on_walk(finished)

    @property
    def steps(self) -> list[StepRecord]:
        """Every step so far, with `keep_steps`."""
        return self._walk.history

    def recalibrated(self, reader: PelvisReader, baseline_deg: float, belt_offset_deg: float | None) -> None:
        """A new calibration (and perhaps a marker colour learned with it): the ruler starts afresh."""
        self.reader = reader
        self.tracker = self._tracker(baseline_deg, belt_offset_deg)
