"""Steps and what the pelvis did in each, for a person walking toward the camera.

A step is told by which foot leads: walking toward the camera, the front ankle is lower in the
picture, and the lead changes at each heel strike.  Within a step the leading foot is the stance
leg and the other swings.  Per step: the peak pelvic drop and its side, the lean of the trunk
(shoulder midpoint over hip midpoint) and the sideways travel of the pelvis, and from them a
pattern (heuristics, not a diagnosis):

- ``trendelenburg``: the pelvis drops on the swing side (weak hip abductors of the stance leg);
- ``trunk_lean``: a level pelvis bought by leaning the trunk over the stance leg (quadratus
  lumborum compensation, a waddling gait);
- ``hip_drop_shift``: a drop together with a large sideways shift of the pelvis ("runway walk");
- ``level``: none of these beyond the thresholds.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from kiosk.body.fatigue import FatigueTracker
from kiosk.core.types import (
    FinishedWalk,
    Keypoint,
    Pattern,
    Pose,
    Side,
    State,
    StepRecord,
    Verdict,
    WalkStatus,
    WalkSummary,
)


@dataclass(frozen=True, slots=True)
class GaitThresholds:
    drop_deg: float = 5.0
    """A step's peak drop above this counts (the ruler's tolerance)."""
    lean_deg: float = 5.0
    """A trunk lean toward the stance side above this counts as compensation."""
    shift_hip_widths: float = 0.35
    """Sideways pelvic travel within one step above this many hip widths counts as a shift."""
    lead_hip_widths: float = 0.15
    """The ankles must differ in height by this many hip widths to say which foot leads."""
    min_step_s: float = 0.3
    """Shorter "steps" are jitter."""
    max_step_s: float = 3.0
    """Longer ones are standing, not walking: they are dropped rather than counted."""


SHOULDERS_SEEN_SCORE = 0.3
"""Below this the shoulders are guesses (out of the picture): no trunk lean is read."""
EDGE_SHARE = 0.1
"""A step's level is the median tilt of its first and last this share of frames (both feet down);
where the pelvis has begun to drop by then, the step's drop reads a little smaller (5 % in tests/test_gait.py)."""


@dataclass
class _Open:
    start_s: float
    stance: Side
    last_s: float = 0.0
    tilts: list[float] = field(default_factory=list)
    leans: list[float] = field(default_factory=list)
    hip_x: list[float] = field(default_factory=list)
    hip_widths: list[float] = field(default_factory=list)


class GaitAnalyzer:
    """Feed it every frame's pose and verdict; it returns each step as the next one begins."""

    def __init__(self, thresholds: GaitThresholds | None = None) -> None:
        self.thresholds = thresholds or GaitThresholds()
        self.steps: list[StepRecord] = []
        self._open: _Open | None = None

    def update(self, pose: Pose | None, verdict: Verdict, t_s: float) -> StepRecord | None:
        if (pose is None or not pose.finite or verdict.state is State.NONE or verdict.tilt_deg is None
                or verdict.reading is None):
            return None  # (a broken pose under a verdict held over from an earlier frame says nothing either)
        lead = self._leading_side(pose, verdict)
        finished = None
        if lead is not None and (self._open is None or lead != self._open.stance):
            if self._open is not None and t_s - self._open.start_s >= self.thresholds.min_step_s:
                finished = self._close(t_s)
            if self._open is None or finished is not None:
                self._open = _Open(t_s, lead)
        if self._open is not None and (t_s - self._open.start_s > self.thresholds.max_step_s
                                       or t_s < self._open.last_s):
            # Standing with one foot forward is not a step, and its samples must not pile up; nor
            # may they when time starts again (a looping clip).
            self._open = None
        if self._open is not None:
            self._open.last_s = t_s
            reading = verdict.reading
            self._open.tilts.append(verdict.tilt_deg)
            self._open.leans.append(_lean_toward_stance_deg(pose, self._open.stance, reading.facing_sign))
            self._open.hip_x.append(float(reading.hip_mid_px[0]))
            self._open.hip_widths.append(reading.hip_width_px)
        return finished

    def finish(self, t_s: float) -> StepRecord | None:
        """The person left: close the step in progress (if it lasted long enough)."""
        if self._open is None or t_s - self._open.start_s < self.thresholds.min_step_s:
            self._open = None
            return None
        record = self._close(t_s)
        self._open = None
        return record

    def _leading_side(self, pose: Pose, verdict: Verdict) -> Side | None:
        if min(pose.score(Keypoint.LEFT_ANKLE), pose.score(Keypoint.RIGHT_ANKLE)) < 0.3:
            return None
        reading = verdict.reading
        assert reading is not None
        hip_width = reading.hip_width_px
        difference = float(pose.xy(Keypoint.LEFT_ANKLE)[1] - pose.xy(Keypoint.RIGHT_ANKLE)[1])
        if abs(difference) < self.thresholds.lead_hip_widths * max(hip_width, 1.0):
            return None
        return Side.LEFT if difference > 0 else Side.RIGHT  # the lower ankle in the picture is nearer: in front

    def _close(self, end_s: float) -> StepRecord:
        step = self._open
        assert step is not None
        # The drop is measured from the step's own level: the pelvis at its ends, where both feet
        # are down (a drop happens while one leg stands alone).  The tilt itself may carry a
        # steady offset, a camera's roll or a pose model's lean, larger than the drop: measured
        # from zero, every step's largest tilt would then fall on the same side.
        edge = max(1, round(EDGE_SHARE * len(step.tilts)))
        level = statistics.median(step.tilts[:edge] + step.tilts[-edge:])
        peak = max((tilt - level for tilt in step.tilts), key=abs)
        drop_side = Side.LEFT if peak > 0 else Side.RIGHT
        lean = statistics.fmean(step.leans)
        width = statistics.median(step.hip_widths) or 1.0
        shift = (max(step.hip_x) - min(step.hip_x)) / width
        record = StepRecord(
            index=len(self.steps),
            start_s=round(step.start_s, 3),
            end_s=round(end_s, 3),
            stance_side=step.stance,
            peak_drop_deg=round(abs(peak), 2),
            drop_side=drop_side,
            trunk_lean_deg=round(lean, 2),
            lateral_shift_hip_widths=round(shift, 3),
            pattern=self._pattern(abs(peak), drop_side, step.stance, lean, shift),
        )
        self.steps.append(record)
        return record

    def _pattern(self, drop: float, drop_side: Side, stance: Side, lean: float, shift: float) -> Pattern:
        t = self.thresholds
        if drop > t.drop_deg and shift > t.shift_hip_widths:
            return Pattern.HIP_DROP_SHIFT
        if drop > t.drop_deg and drop_side is stance.other:
            return Pattern.TRENDELENBURG
        if lean > t.lean_deg:
            return Pattern.TRUNK_LEAN
        return Pattern.LEVEL


def _lean_toward_stance_deg(pose: Pose, stance: Side, facing: int) -> float:
    """The trunk's angle from vertical (hip midpoint to shoulder midpoint), positive toward the stance
    side; 0 when the shoulders are not in view (treadmill mode: the hips and legs only)."""
    if min(pose.score(Keypoint.LEFT_SHOULDER), pose.score(Keypoint.RIGHT_SHOULDER)) < SHOULDERS_SEEN_SCORE:
        return 0.0
    hips = pose.hip_mid_px
    shoulders = pose.shoulder_mid_px
    dx, dy = float(shoulders[0] - hips[0]), float(shoulders[1] - hips[1])
    lean_toward_image_right = math.degrees(math.atan2(dx, -dy))
    # Facing the camera (facing = +1) the person's left is the image's right.
    lean_toward_left = lean_toward_image_right * facing
    return lean_toward_left if stance is Side.LEFT else -lean_toward_left


def walk_summary(steps: list[StepRecord], drop_deg: float) -> WalkSummary:
    """Steps, peak drop per side, share of level steps, left/right asymmetry, the dominant pattern."""
    left = [s.peak_drop_deg for s in steps if s.drop_side is Side.LEFT]
    right = [s.peak_drop_deg for s in steps if s.drop_side is Side.RIGHT]
    patterns = Counter(s.pattern for s in steps)
    mean_left = statistics.fmean(left) if left else 0.0
    mean_right = statistics.fmean(right) if right else 0.0
    not_level = [(p, n) for p, n in patterns.most_common() if p is not Pattern.LEVEL]
    dominant = not_level[0][0] if not_level and not_level[0][1] * 3 >= len(steps) else Pattern.LEVEL
    return WalkSummary(
        steps=len(steps),
        peak_left_drop_deg=round(max(left), 2) if left else None,
        peak_right_drop_deg=round(max(right), 2) if right else None,
        mean_left_drop_deg=round(mean_left, 2),
        mean_right_drop_deg=round(mean_right, 2),
        asymmetry_deg=round(mean_left - mean_right, 2),
        level_step_fraction=round(sum(s.peak_drop_deg <= drop_deg for s in steps) / len(steps), 3) if steps else 0.0,
        patterns=tuple(patterns.items()),
        dominant_pattern=dominant,
        drop_deg=drop_deg,
    )


class WalkTracker:
    """Steps of one walker at a time: a walk ends when nobody has been seen for `leave_after_s`."""

    def __init__(self, thresholds: GaitThresholds, leave_after_s: float = 1.0, min_steps: int = 4,
                 keep_history: bool = False, treadmill: bool = False) -> None:
        """`keep_history` keeps every step of every walk (for `analyze`); the kiosk, running for
        weeks, keeps only the walk in progress.  `treadmill`: the fatigue trend from the first step."""
        self._thresholds = thresholds
        self._leave_after_s = leave_after_s
        self._min_steps = min_steps
        self._gait = GaitAnalyzer(thresholds)
        self._last_seen_s: float | None = None
        self._now_s: float | None = None
        self._keep_history = keep_history
        self.history: list[StepRecord] = []
        """Every step of every walk so far, with `keep_history`."""
        self._frames = _FrameCount()
        self._treadmill = treadmill
        self._trend = FatigueTracker(always=treadmill)

    def update(self, pose: Pose | None, verdict: Verdict, t_s: float, frame_index: int | None = None) -> WalkStatus:
        """One judged frame; `frame_index`, the frame's place in the camera's stream, lets the walk
        say what share of the camera's frames it was judged on (None: not known)."""
        finished = None
        self._now_s = t_s
        if self._last_seen_s is not None and t_s < self._last_seen_s:
            # The stream's clock went back (a clip opened afresh after a reconnection): a new scene, a new walk.
            finished = self.close()
        self._frames.judged(frame_index, seen=verdict.tilt_deg is not None)
        if verdict.tilt_deg is not None:
            step = self._gait.update(pose, verdict, t_s)
            if step is not None:
                self._trend.add(step)
            self._last_seen_s = t_s
        elif self._last_seen_s is not None and t_s - self._last_seen_s > self._leave_after_s:
            finished = self.close()
        steps = self._gait.steps
        return WalkStatus(len(steps), steps[-1] if steps else None, finished, self._trend.trend(t_s))

    def close(self) -> FinishedWalk | None:
        """End the walk in progress; the walk when it had enough steps to mean something."""
        if self._last_seen_s is not None:
            self._gait.finish(self._last_seen_s)
        steps = self._gait.steps
        if self._keep_history:
            first = len(self.history)  # not inside the generator: extend() grows the list as it goes
            self.history.extend(dataclasses.replace(step, index=first + i) for i, step in enumerate(steps))
        last_seen_s = self._last_seen_s
        share = self._frames.share()
        self._gait = GaitAnalyzer(self._thresholds)
        self._last_seen_s = None
        self._frames = _FrameCount()
        self._trend = FatigueTracker(always=self._treadmill)
        if len(steps) < self._min_steps or last_seen_s is None:
            return None
        closed_s = self._now_s if self._now_s is not None and self._now_s >= last_seen_s else last_seen_s
        return FinishedWalk(walk_summary(steps, self._thresholds.drop_deg), tuple(steps), steps[0].start_s,
                            last_seen_s, closed_s, share)


class _FrameCount:
    """How many of the camera's frames one walk was judged on, from its first frame with a verdict
    to its last: frames the loop let go (the newest frame wins) are the gaps in the frame indices."""

    def __init__(self) -> None:
        self._first: int | None = None
        self._last_seen: int | None = None
        self._count = 0
        self._count_at_last_seen = 0
        self._broken = False

    def judged(self, index: int | None, seen: bool) -> None:
        if index is None:
            self._broken = True
            return
        if self._first is None:
            if not seen:
                return
            self._first = index
        elif self._last_seen is not None and index <= self._last_seen:
            self._broken = True  # the stream started again (a fresh camera): the span is not known
        self._count += 1
        if seen:
            self._last_seen, self._count_at_last_seen = index, self._count

    def share(self) -> float | None:
        if self._broken or self._first is None or self._last_seen is None:
            return None
        return round(min(1.0, self._count_at_last_seen / (self._last_seen - self._first + 1)), 3)
