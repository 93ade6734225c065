"""From a pose to one frame's pelvis reading, or the reason there is none.

The gates keep the ruler honest: a verdict needs both hips found *and* inside the picture
(MoveNet extrapolates hips below the frame edge with high scores), and a frontal or back
view (from the side the hip line is meaningless).
"""

from __future__ import annotations

import numpy as np

from kiosk.core.geometry import facing_sign, hip_tilt_deg, inside_frame
from kiosk.core.types import Keypoint, NoVerdict, PelvisReading, Pose
from kiosk.settings.config import PelvisConfig


def read_pelvis(pose: Pose | None, settings: PelvisConfig) -> PelvisReading | NoVerdict:
    """The hip line of `pose`, or why it cannot be trusted."""
    if pose is None:
        return NoVerdict.NO_PERSON
    left_hip = pose.xy(Keypoint.LEFT_HIP)
    right_hip = pose.xy(Keypoint.RIGHT_HIP)
    hip_score = min(pose.score(Keypoint.LEFT_HIP), pose.score(Keypoint.RIGHT_HIP))
    shoulder_score = min(pose.score(Keypoint.LEFT_SHOULDER), pose.score(Keypoint.RIGHT_SHOULDER))
    if hip_score < settings.min_hip_score or shoulder_score < settings.min_shoulder_score:
        if max(hip_score, shoulder_score) >= settings.min_hip_score:
            # Part of a torso is there: most often the hips are below the picture's edge.
            return NoVerdict.HIPS_OUT_OF_FRAME
        return NoVerdict.NO_PERSON
    for hip in (left_hip, right_hip):
        if not inside_frame(hip, pose.frame_width_px, pose.frame_height_px, settings.edge_margin_frac):
            return NoVerdict.HIPS_OUT_OF_FRAME

    shoulder_mid = pose.shoulder_mid_px
    torso_px = pose.torso_length_px
    shoulder_width_px = pose.shoulder_width_px
    hip_width_px = pose.hip_width_px
    if (
        torso_px <= 1.0
        or shoulder_width_px < settings.min_shoulder_width_ratio * torso_px
        or hip_width_px < settings.min_hip_width_ratio * torso_px
    ):
        return NoVerdict.NOT_FACING
    if (settings.max_nose_offset_ratio and pose.score(Keypoint.NOSE) >= settings.min_shoulder_score
            and abs(pose.xy(Keypoint.NOSE)[0] - shoulder_mid[0]) > settings.max_nose_offset_ratio * shoulder_width_px):
        # Turned side-on yet wide enough at the shoulders and hips (a walker seen a little from
        # behind): the head in profile gives it away.
        return NoVerdict.NOT_FACING

    return hip_line(pose, settings)


LEGS_MAX_HIP_SHIFT_TO_THIGH = 0.5
"""Treadmill mode: the hips' midpoint at most this share of the thigh's length to the side of the
knees' (a walker stands over their knees; hips the model has lost at the picture's edge do not)."""
LEGS_MIN_HIP_SCORE = 0.4
"""Treadmill mode: hips at the picture's top edge are half out of view, and the model's guesses
there score lower: on treadmill_legs_frontal.mp4 its hips scored 0.5–0.8 while they followed the
walker, and 0.30–0.40 where one wandered 30 px down the thigh (a 26° "tilt")."""
LEGS_MAX_TILT_DEG = 20.0
"""Treadmill mode: a hip line steeper than this is a hip the model lost at the edge, not a
pelvis (the pelvis' obliquity in walking stays within about ±10°, a marked Trendelenburg drop
included); the treadmill clip had 5 such frames of 361, at 25° from a hip 47 px down the thigh."""
LEGS_MIN_HIP_TO_THIGH = 0.25
"""Treadmill mode's facing gate: hip width at least this share of the thigh's length (frontal
walkers on the treadmill clip: about 0.5; side-on, the hips collapse toward 0)."""


def read_pelvis_legs_only(pose: Pose | None, settings: PelvisConfig) -> PelvisReading | NoVerdict:
    """Treadmill mode: the hip line from the hips and the legs alone.  The shoulders are not
    needed, and the hips may sit at the picture's very top (the waist at the top edge is how a
    low camera in front of a treadmill sees a walker); at the other edges the margin holds.  The
    hips must face the camera (as wide as a quarter of the thigh) and stand over the knees."""
    if pose is None:
        return NoVerdict.NO_PERSON
    left_hip, right_hip = pose.xy(Keypoint.LEFT_HIP), pose.xy(Keypoint.RIGHT_HIP)
    hip_score = min(pose.score(Keypoint.LEFT_HIP), pose.score(Keypoint.RIGHT_HIP))
    knee_score = min(pose.score(Keypoint.LEFT_KNEE), pose.score(Keypoint.RIGHT_KNEE))
    if knee_score < settings.min_hip_score:
        return NoVerdict.NO_PERSON
    width, height = pose.frame_width_px, pose.frame_height_px
    margin_x, margin_y = settings.edge_margin_frac * width, settings.edge_margin_frac * height
    if hip_score < max(settings.min_hip_score, LEGS_MIN_HIP_SCORE) or min(float(left_hip[1]), float(right_hip[1])) < 0:
        return NoVerdict.HIPS_ABOVE_FRAME
    for hip in (left_hip, right_hip):
        if not (margin_x <= float(hip[0]) <= width - 1 - margin_x and float(hip[1]) <= height - 1 - margin_y):
            return NoVerdict.HIPS_OUT_OF_FRAME
    thigh_px = (float(np.hypot(*(left_hip - pose.xy(Keypoint.LEFT_KNEE))))
                + float(np.hypot(*(right_hip - pose.xy(Keypoint.RIGHT_KNEE))))) / 2
    if thigh_px <= 1.0 or pose.hip_width_px < LEGS_MIN_HIP_TO_THIGH * thigh_px:
        return NoVerdict.NOT_FACING
    knee_mid_x = (float(pose.xy(Keypoint.LEFT_KNEE)[0]) + float(pose.xy(Keypoint.RIGHT_KNEE)[0])) / 2
    if abs(float(pose.hip_mid_px[0]) - knee_mid_x) > LEGS_MAX_HIP_SHIFT_TO_THIGH * thigh_px:
        return NoVerdict.HIPS_ABOVE_FRAME
    reading = hip_line(pose, settings, legs_only=True)
    if abs(reading.raw_tilt_deg) > LEGS_MAX_TILT_DEG:
        return NoVerdict.HIPS_ABOVE_FRAME
    return reading


def hip_line(pose: Pose, settings: PelvisConfig, legs_only: bool = False) -> PelvisReading:
    """The hip line of a pose, without the gates (read_pelvis applies them first; a worn marker
    seen across the body may overrule the facing gates: kiosk.body.reading).  `legs_only`
    (treadmill mode): the ruler on the hip line itself, since the belt is at or above the
    picture's edge and the shoulders that would raise it are not in view, and no torso length."""
    left_hip = pose.xy(Keypoint.LEFT_HIP)
    right_hip = pose.xy(Keypoint.RIGHT_HIP)
    hip_mid = pose.hip_mid_px
    raise_frac = 0.0 if legs_only else settings.belt_raise_frac
    return PelvisReading(
        left_hip_px=left_hip.astype(np.float64),
        right_hip_px=right_hip.astype(np.float64),
        hip_score=min(pose.score(Keypoint.LEFT_HIP), pose.score(Keypoint.RIGHT_HIP)),
        raw_tilt_deg=hip_tilt_deg(left_hip, right_hip),
        belt_center_px=hip_mid + raise_frac * (pose.shoulder_mid_px - hip_mid),
        ruler_half_length_px=pose.hip_width_px * (0.5 + settings.ruler_extension),
        facing_sign=facing_sign(left_hip, right_hip),
        torso_px=0.0 if legs_only else pose.torso_length_px,
    )
