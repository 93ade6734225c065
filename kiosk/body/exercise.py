"""The exercise coach: standing hip abduction, counted per side, with the pelvis checked in every rep.

Pure: poses and tilts in, reps and sets out; time is an argument.

- **Leg-lift angle** per side: the thigh (hip→knee, or hip→ankle when the knee is unsure) against
  the body's vertical axis (shoulder midpoint → hip midpoint), in degrees, positive away from the
  body's midline, 0 when standing: the rep's range.  Reps themselves are told by the whole leg's
  angle (hip→ankle) from the picture's vertical: a person leaning far over the standing leg (the
  compensation) makes the *standing* leg stand at an angle to the trunk, and must not count as
  lifting it; and a squat or a step toward the camera swings the *thigh* out in the picture (the
  knees go forward and apart) while the ankles stay under the hips, so the whole leg does not
  lean out and nothing counts.  No ankle in view, no angle: the feet must be in the picture.
- **A rep is counted on the way down** (as ML Kit's rep counter does): the leg rises above
  `enter_deg`, then comes back below `exit_deg`; the gap between the two is the hysteresis that
  keeps an angle hovering at a threshold from counting twice.  A rep shorter than `min_rep_s`
  is a twitch, not a rep.
- **Not before the person is in position**: counting starts once they have stood facing the
  mirror, both feet down, for `ready_s`; walking up to the mirror or stepping about counts
  nothing.
- **Per rep**: the peak angle (range), the time held near the top, the tempo (the rep's length);
  the pelvis hike — the largest tilt of the belt line up toward the lifted leg, against the
  standing level just before the rep — and the trunk's lean away from the lifted leg, likewise
  against standing.  The verdict: pelvis hiked (the quadratus lumborum doing the work), trunk
  leaned, or clean.
- **A set** ends when the person steps away, or rests for `rest_s` without a rep; its summary
  has the reps per side, mean and best range, the share of clean reps and the left/right
  difference.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

from kiosk.core.types import ExerciseStatus, Keypoint, Pose, Rep, RepVerdict, SetSummary, Side
from kiosk.settings.config import ExerciseConfig

THIGH_KEYPOINTS = {
    Side.LEFT: (Keypoint.LEFT_HIP, Keypoint.LEFT_KNEE, Keypoint.LEFT_ANKLE),
    Side.RIGHT: (Keypoint.RIGHT_HIP, Keypoint.RIGHT_KNEE, Keypoint.RIGHT_ANKLE),
}
MIN_SCORE = 0.3
LEG_BASELINE_MIN = 5
"""Standing frames needed before each leg's standing angle is subtracted."""
LEG_BASELINE_MAX_DEG = 10.0
"""A leg further out or in than this is not standing (a stride, legs crossing): no baseline from it.
The baseline is taken only once the person has stood still in position (`ready_s`)."""
STILL_HINT_S = 2.0
"""Seen this long past `ready_s` without standing still: the screen says to stand still first."""
LIFT_ONSET_S = 0.25
"""A leg crossing the enter angle started rising about this long before."""


def _axis_down(pose: Pose) -> tuple[float, float] | None:
    needed = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
    if min(pose.score(k) for k in needed) < MIN_SCORE:
        return None
    dx, dy = (float(v) for v in pose.hip_mid_px - pose.shoulder_mid_px)
    length = math.hypot(dx, dy)
    return (dx / length, dy / length) if length > 1e-6 else None


def leg_lift_deg(pose: Pose, side: Side) -> float | None:
    """The thigh's angle from the body's vertical axis, positive away from the midline (abduction):
    the hip's own range, whatever the trunk does.  None when the hips, shoulders or the leg are unsure."""
    down = _axis_down(pose)
    return None if down is None else _thigh_angle_deg(pose, side, down)


def leg_out_deg(pose: Pose, side: Side) -> float | None:
    """The whole leg's angle (hip→ankle) from the picture's vertical, positive away from the midline:
    how far out the leg went in space.  A trunk leaning over the standing leg adds to it (and,
    measured against the trunk, would make the standing leg look lifted), so reps are told by this
    one; and a bent knee (a squat, a step) swings the thigh, not the whole leg.  None when the ankle
    is unsure."""
    if _axis_down(pose) is None:
        return None
    _, _, ankle = THIGH_KEYPOINTS[side]
    return _leg_angle_deg(pose, side, (0.0, 1.0), ankle)


def _thigh_angle_deg(pose: Pose, side: Side, down: tuple[float, float]) -> float | None:
    _, knee, ankle = THIGH_KEYPOINTS[side]
    return _leg_angle_deg(pose, side, down, knee if pose.score(knee) >= MIN_SCORE else ankle)


def _leg_angle_deg(pose: Pose, side: Side, down: tuple[float, float], far: Keypoint) -> float | None:
    hip = THIGH_KEYPOINTS[side][0]
    if pose.score(far) < MIN_SCORE:
        return None
    dx, dy = (float(v) for v in pose.xy(far) - pose.xy(hip))
    along = dx * down[0] + dy * down[1]
    across = -dx * down[1] + dy * down[0]  # perpendicular to `down`
    # Outward: from the other hip toward this one.
    other = THIGH_KEYPOINTS[side.other][0]
    ox, oy = (float(v) for v in pose.xy(hip) - pose.xy(other))
    outward = -ox * down[1] + oy * down[0]
    angle = math.degrees(math.atan2(abs(across), along))
    return angle if across * outward >= 0 else -angle


def _feet_unseen(pose: Pose) -> bool:
    """Someone facing the mirror, hips and shoulders sure, but an ankle not: too near, or the feet cut off."""
    if not pose.finite or _axis_down(pose) is None or not facing_the_camera(pose):
        return False
    return min(pose.score(Keypoint.LEFT_ANKLE), pose.score(Keypoint.RIGHT_ANKLE)) < MIN_SCORE


def facing_the_camera(pose: Pose) -> bool:
    """The person's left hip on the picture's right (the camera's picture is not mirrored): facing the
    mirror, not turned away or side-on (the exercise is done facing the screen)."""
    return float(pose.xy(Keypoint.LEFT_HIP)[0] - pose.xy(Keypoint.RIGHT_HIP)[0]) > 0.25 * pose.torso_length_px


def trunk_lean_toward_deg(pose: Pose, side: Side) -> float | None:
    """The trunk's lean from the picture's vertical toward `side` of the body, in degrees."""
    down = _axis_down(pose)
    if down is None:
        return None
    lean_right_in_picture = math.degrees(math.atan2(-down[0], down[1]))  # head toward the picture's right: +
    hip, other = THIGH_KEYPOINTS[side][0], THIGH_KEYPOINTS[side.other][0]
    toward_right_in_picture = float(pose.xy(hip)[0] - pose.xy(other)[0]) > 0
    return lean_right_in_picture if toward_right_in_picture else -lean_right_in_picture


@dataclass
class _Open:
    side: Side
    start_s: float
    level_deg: float | None
    lean_deg: float
    angles: list[tuple[float, float]] = field(default_factory=list)
    hike_deg: float = 0.0
    marked: bool = False
    """The belt line was read from a worn marker during the rep (else from the pose and the picture)."""
    lean_away_deg: float = 0.0
    range_deg: float = 0.0


class ExerciseCoach:
    """Feed it every frame's pose and the ruler's tilt (None: no verdict); it counts and judges reps."""

    def __init__(self, thresholds: ExerciseConfig | None = None) -> None:
        """`thresholds`: the `[exercise]` settings (enter and exit angles, tempo, hike and lean)."""
        self.thresholds = thresholds or ExerciseConfig()
        self.reps: list[Rep] = []
        self._open: _Open | None = None
        self._ready_since: float | None = None
        self._ready_at: tuple[float, float] | None = None
        self._ready = False
        self._await_down = False
        self._standing: deque[tuple[float, float | None, float]] = deque(maxlen=30)  # (t_s, tilt, lean) standing
        self._legs_standing: deque[tuple[float, float]] = deque(maxlen=60)  # each leg's angle out, standing
        self._last_seen_s: float | None = None
        self._last_rep_s: float | None = None
        self._set_start_s: float | None = None
        self._seen_since: float | None = None
        self._still_first = False

    def update(self, pose: Pose | None, tilt_deg: float | None, t_s: float, marked: bool = False) -> ExerciseStatus:
        """One frame: the pose, the ruler's tilt (None: no verdict), and whether that tilt was read
        from a worn marker (then a hike is judged against `hike_deg`, else `hike_unmarked_deg`)."""
        t = self.thresholds
        finished = None
        # The legs are judged whenever the pose shows them; the pelvis only while the ruler has a
        # reading (a rep goes on counting through a moment the ruler's gates refuse).
        angles = self._angles(pose) if pose is not None else None
        if angles is None:
            if self._last_seen_s is not None and t_s - self._last_seen_s > t.leave_s:
                finished = self.end_set(t_s)
            return self._status(None, False, finished, feet_unseen=pose is not None and _feet_unseen(pose))
        assert pose is not None
        self._last_seen_s = t_s
        raw_left, raw_right = angles
        # Against the person's own stand: the model draws a standing leg a few degrees in (its
        # hip keypoints lie outside the hip joints), and a wide stance is not a lift.
        base_left, base_right = self._leg_baseline()
        left, right = raw_left - base_left, raw_right - base_right
        if self._ready and self._last_rep_s is not None and self._open is None and t_s - self._last_rep_s > t.rest_s:
            finished = self.end_set(t_s)
        both_down = max(left, right) < t.exit_deg
        if not self._ready:
            hips = pose.hip_mid_px
            here = (float(hips[0]), float(hips[1]))
            reach = t.still_hip_widths * pose.hip_width_px
            still = self._ready_at is not None and math.dist(here, self._ready_at) <= reach
            if both_down and still:
                self._ready = self._ready_since is not None and t_s - self._ready_since >= t.ready_s
            elif both_down:
                self._ready_since, self._ready_at = t_s, here
            else:
                self._ready_since = self._ready_at = None
        if both_down:
            self._await_down = False
        if max(left, right) < t.exit_deg / 2 and self._open is None:  # standing: the level a rep is judged against
            self._standing.append((t_s, tilt_deg, self._lean(pose)))
            if self._ready and max(abs(raw_left), abs(raw_right)) <= LEG_BASELINE_MAX_DEG:
                self._legs_standing.append((raw_left, raw_right))
        if self._seen_since is None:
            self._seen_since = t_s  # in view since (a set that ended on this frame starts it again)
        self._still_first = not self._ready and t_s - self._seen_since > t.ready_s + STILL_HINT_S
        if not self._ready:
            return self._status(max(left, right), False, finished)
        if self._open is None and not self._await_down:
            up = [(a, s) for a, s in ((left, Side.LEFT), (right, Side.RIGHT)) if a > t.enter_deg]
            if len(up) == 1:
                side = up[0][1]
                # Standing before the lift began: the last quarter second was already on its way up.
                before = [x for x in self._standing if x[0] <= t_s - LIFT_ONSET_S] or list(self._standing)
                tilts = [v for _, v, _ in before if v is not None]
                level = statistics.fmean(tilts) if tilts else tilt_deg
                lean_left = statistics.fmean(v for _, _, v in before) if before else self._lean(pose)
                self._open = _Open(side, t_s, level, lean_left if side is Side.LEFT else -lean_left)
                if self._set_start_s is None:
                    self._set_start_s = t_s
        rep = self._open
        if rep is None:
            return self._status(max(left, right), False, finished)
        angle = left if rep.side is Side.LEFT else right
        rep.angles.append((t_s, angle))
        hip_range = leg_lift_deg(pose, rep.side)
        if hip_range is not None:
            rep.range_deg = max(rep.range_deg, hip_range)
        hike = 0.0
        if tilt_deg is not None:
            if rep.level_deg is None:
                rep.level_deg = tilt_deg  # no standing reading before the rep: its first one
            hike = self._hike(tilt_deg, rep.level_deg, rep.side)
            rep.hike_deg = max(rep.hike_deg, hike)
            rep.marked = rep.marked or marked
        lean_toward = trunk_lean_toward_deg(pose, rep.side)
        if lean_toward is not None:
            rep.lean_away_deg = max(rep.lean_away_deg, -(lean_toward - rep.lean_deg))
        if t_s - rep.start_s > t.max_rep_s:
            self._open = None  # held out too long: not a rep, nor is its coming down
            self._await_down = True
        elif angle < t.exit_deg:
            self._close(t_s)
        return self._status(angle, hike >= self._hike_limit(marked) and self._open is not None, finished,
                            lift_deg=hip_range)

    def end_set(self, t_s: float) -> SetSummary | None:
        """Close the set (the person left, rested, or the run ends); its summary when it had a rep."""
        self._open = None
        # every rep since the last set ended is this set's (its times are rounded to the millisecond,
        # so comparing them with the set's unrounded start lost a first rep that rounded down)
        reps = tuple(self.reps)
        summary = SetSummary(reps, self._set_start_s or t_s, t_s) if reps else None
        self.reps = []
        self._set_start_s = None
        self._last_rep_s = None
        self._ready = False
        self._ready_since = self._ready_at = None
        self._standing.clear()
        self._legs_standing.clear()
        self._last_seen_s = None
        self._seen_since = None
        self._still_first = False
        return summary

    def _angles(self, pose: Pose) -> tuple[float, float] | None:
        """Each leg's angle out from the picture's vertical (what tells a rep)."""
        if not pose.finite or not facing_the_camera(pose):
            return None
        left, right = leg_out_deg(pose, Side.LEFT), leg_out_deg(pose, Side.RIGHT)
        if left is None or right is None:
            return None
        return left, right

    def _leg_baseline(self) -> tuple[float, float]:
        """Each leg's angle out while standing (the median of the last two seconds or so); 0 until
        LEG_BASELINE_MIN frames of standing were seen."""
        if len(self._legs_standing) < LEG_BASELINE_MIN:
            return 0.0, 0.0
        return (statistics.median(v for v, _ in self._legs_standing),
                statistics.median(v for _, v in self._legs_standing))

    @staticmethod
    def _lean(pose: Pose) -> float:
        return trunk_lean_toward_deg(pose, Side.LEFT) or 0.0

    def _hike_limit(self, marked: bool) -> float:
        t = self.thresholds
        return t.hike_deg if marked else t.hike_unmarked_deg

    @staticmethod
    def _hike(tilt_deg: float, level_deg: float, side: Side) -> float:
        """Tilt up toward the lifted leg against standing.  Tilt is + when the left hip is low, so a
        left hip raised is a negative change."""
        change = tilt_deg - level_deg
        return -change if side is Side.LEFT else change

    def _close(self, t_s: float) -> None:
        rep = self._open
        assert rep is not None
        self._open = None
        t = self.thresholds
        if t_s - rep.start_s < t.min_rep_s:
            return  # a twitch
        peak = max(a for _, a in rep.angles)  # out in space
        near_top = [s for s, a in rep.angles if a >= peak - t.hold_band_deg]
        hold = near_top[-1] - near_top[0] if near_top else 0.0
        hiked = rep.hike_deg >= self._hike_limit(rep.marked)
        leaned = rep.lean_away_deg >= t.lean_deg
        # A marker reads the pelvis itself: a hike it sees is a hike.  Without one, the hip keypoints
        # ride up with a trunk leaning away too, so a lean read past its threshold is the lean.
        if hiked and (rep.marked or not leaned):
            verdict = RepVerdict.PELVIS_HIKED
        elif leaned:
            verdict = RepVerdict.TRUNK_LEANED
        else:
            verdict = RepVerdict.CLEAN
        self.reps.append(Rep(len(self.reps), rep.side, round(rep.start_s, 3), round(t_s, 3), round(rep.range_deg, 1),
                             round(peak, 1), round(hold, 3), round(rep.hike_deg, 1), round(rep.lean_away_deg, 1),
                             verdict))
        self._last_rep_s = t_s
        self._standing.clear()  # the next rep is judged against the standing that follows this one

    def _status(self, angle: float | None, hiking: bool, finished: SetSummary | None,
                feet_unseen: bool = False, lift_deg: float | None = None) -> ExerciseStatus:
        return ExerciseStatus(self._ready, sum(r.side is Side.LEFT for r in self.reps),
                              sum(r.side is Side.RIGHT for r in self.reps),
                              self._open.side if self._open is not None else None, angle, hiking,
                              self.reps[-1] if self.reps else None, finished, feet_unseen, lift_deg,
                              self._still_first)
