import dataclasses

import numpy as np
import pytest
from conftest import synthetic_pose

from kiosk.config import PelvisConfig
from kiosk.pelvis import read_pelvis
from kiosk.tracker import PelvisTracker
from kiosk.types import Keypoint, NoVerdict, PelvisReading, State

SETTINGS = PelvisConfig()


def test_no_pose_is_no_person():
    assert read_pelvis(None, SETTINGS) is NoVerdict.NO_PERSON


def test_faint_pose_is_no_person():
    assert read_pelvis(synthetic_pose(score=0.05), SETTINGS) is NoVerdict.NO_PERSON


def test_confident_hips_below_the_frame_get_no_verdict():
    # MoveNet extrapolates hips below the bottom edge with high scores: that is not a verdict.
    pose = synthetic_pose(left_hip=(340.0, 495.0), right_hip=(300.0, 495.0))
    assert read_pelvis(pose, SETTINGS) is NoVerdict.HIPS_OUT_OF_FRAME


def test_hips_in_the_bottom_margin_get_no_verdict():
    pose = synthetic_pose(left_hip=(340.0, 476.0), right_hip=(300.0, 476.0))
    assert read_pelvis(pose, SETTINGS) is NoVerdict.HIPS_OUT_OF_FRAME


def test_shoulders_seen_but_hips_faint_asks_to_step_back():
    pose = synthetic_pose()
    pose.scores[Keypoint.LEFT_HIP] = 0.1
    pose.scores[Keypoint.RIGHT_HIP] = 0.1
    assert read_pelvis(pose, SETTINGS) is NoVerdict.HIPS_OUT_OF_FRAME


def test_side_view_gets_no_verdict():
    pose = synthetic_pose(
        left_hip=(322.0, 400.0), right_hip=(318.0, 401.0), left_shoulder=(324.0, 280.0), right_shoulder=(316.0, 281.0)
    )
    assert read_pelvis(pose, SETTINGS) is NoVerdict.NOT_FACING


def test_frontal_pose_gives_a_reading_with_the_sign_convention():
    pose = synthetic_pose(left_hip=(340.0, 407.0), right_hip=(300.0, 400.0))
    reading = read_pelvis(pose, SETTINGS)
    assert isinstance(reading, PelvisReading)
    assert reading.raw_tilt_deg == pytest.approx(np.degrees(np.arctan2(7, 40)))
    assert reading.facing_sign == 1
    assert reading.hip_score == pytest.approx(0.9)
    # The belt sits above the hip joints, toward the shoulders.
    assert reading.belt_center_px[1] < 403.5
    assert reading.belt_center_px[1] > 280.0
    # ... and the ruler reaches well past both hips.
    assert reading.ruler_half_length_px > 40.0


def _reading(tilt_deg: float) -> PelvisReading:
    left = np.array([340.0, 400.0 + 20 * np.tan(np.radians(tilt_deg))])
    right = np.array([300.0, 400.0 - 20 * np.tan(np.radians(tilt_deg))])
    pose = synthetic_pose(left_hip=tuple(left), right_hip=tuple(right))
    reading = read_pelvis(pose, SETTINGS)
    assert isinstance(reading, PelvisReading)
    return reading


def test_tracker_first_reading_is_shown_as_is():
    verdict = PelvisTracker(SETTINGS).update(_reading(3.0), t_s=0.0)
    assert verdict.state is State.LEVEL
    assert verdict.tilt_deg == pytest.approx(3.0, abs=1e-3)


def test_tracker_says_tilted_above_the_tolerance():
    tracker = PelvisTracker(dataclasses.replace(SETTINGS, smoothing_s=0.0))
    assert tracker.update(_reading(SETTINGS.tolerance_deg + 1.0), 0.0).state is State.TILTED
    assert tracker.update(_reading(-(SETTINGS.tolerance_deg + 1.0)), 0.04).state is State.TILTED
    assert tracker.update(_reading(SETTINGS.tolerance_deg - 1.0), 0.08).state is State.LEVEL


def test_tracker_smooths_a_single_outlier():
    tracker = PelvisTracker(SETTINGS)
    for i in range(30):
        tracker.update(_reading(0.0), i / 30)
    verdict = tracker.update(_reading(12.0), 1.0)
    assert verdict.raw_tilt_deg == pytest.approx(12.0)
    assert 0.0 < verdict.tilt_deg < SETTINGS.tolerance_deg
    assert verdict.state is State.LEVEL


def test_tracker_follows_a_sustained_drop_at_any_frame_rate():
    for fps in (10, 30, 90):
        tracker = PelvisTracker(SETTINGS)
        tracker.update(_reading(0.0), 0.0)
        t = 0.0
        while t < 0.6:
            t += 1 / fps
            verdict = tracker.update(_reading(8.0), t)
        # after four time constants the smoothed tilt is within 2 % of the drop, whatever the fps
        assert verdict.tilt_deg == pytest.approx(8.0, abs=0.2)
        assert verdict.state is State.TILTED


def test_tracker_forgets_a_person_who_left():
    tracker = PelvisTracker(SETTINGS)
    tracker.update(_reading(9.0), 0.0)
    assert tracker.update(NoVerdict.NO_PERSON, 0.2).state is State.NONE
    after = tracker.update(_reading(-2.0), 0.2 + SETTINGS.forget_after_s + 0.1)
    # a new person starts afresh instead of inheriting the old tilt
    assert after.tilt_deg == pytest.approx(-2.0, abs=1e-3)


def test_tracker_ruler_follows_the_smoothed_tilt():
    verdict = PelvisTracker(SETTINGS).update(_reading(6.0), 0.0)
    assert verdict.ruler_left_end_px is not None and verdict.ruler_right_end_px is not None
    assert verdict.ruler_left_end_px[1] > verdict.ruler_right_end_px[1]
    assert verdict.ruler_left_end_px[0] > verdict.ruler_right_end_px[0]  # facing: left on the image's right
