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


def hip_line(pose: Pose, settings: PelvisConfig) -> PelvisReading:
    """The hip line of a pose, without the gates (read_pelvis applies them first; a worn marker
    seen across the body may overrule the facing gates: kiosk.body.reading)."""
    left_hip = pose.xy(Keypoint.LEFT_HIP)
    right_hip = pose.xy(Keypoint.RIGHT_HIP)
    hip_mid = pose.hip_mid_px
    shoulder_mid = pose.shoulder_mid_px
    return PelvisReading(
        left_hip_px=left_hip.astype(np.float64),
        right_hip_px=right_hip.astype(np.float64),
        hip_score=min(pose.score(Keypoint.LEFT_HIP), pose.score(Keypoint.RIGHT_HIP)),
        raw_tilt_deg=hip_tilt_deg(left_hip, right_hip),
        belt_center_px=hip_mid + settings.belt_raise_frac * (shoulder_mid - hip_mid),
        ruler_half_length_px=pose.hip_width_px * (0.5 + settings.ruler_extension),
        facing_sign=facing_sign(left_hip, right_hip),
        torso_px=pose.torso_length_px,
    )
