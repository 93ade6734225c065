import dataclasses

import numpy as np
import pytest

from kiosk.body.pelvis import read_pelvis, read_pelvis_legs_only
from kiosk.body.tracker import BeltFusion, Hysteresis, OneEuroFilter, PelvisTracker
from kiosk.core.types import BeltEvidence, Keypoint, NoVerdict, PelvisReading, State
from kiosk.settings.config import PelvisConfig

from conftest import PASS_THROUGH_HZ, synthetic_pose

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
    single_threshold = dataclasses.replace(SETTINGS, smoothing_s=0.0, one_euro_min_cutoff_hz=PASS_THROUGH_HZ,
                                           hysteresis_deg=0.0,
                                           min_dwell_s=0.0)
    tracker = PelvisTracker(single_threshold)
    assert tracker.update(_reading(SETTINGS.tolerance_deg + 1.0), 0.0).state is State.TILTED
    assert tracker.update(_reading(-(SETTINGS.tolerance_deg + 1.0)), 0.04).state is State.TILTED
    assert tracker.update(_reading(SETTINGS.tolerance_deg - 1.0), 0.08).state is State.LEVEL


def test_tracker_smooths_a_single_outlier():
    tracker = PelvisTracker(SETTINGS)
    for i in range(30):
        tracker.update(_reading(0.0), i / 30)
    verdict = tracker.update(_reading(12.0), 1.0)
    assert verdict.raw_tilt_deg == pytest.approx(12.0)
    # the filter follows less than half of one frame's jump (5.6° of 12° with β 0.05), and the
    # colour holds: hysteresis and the dwell keep one frame from turning the ruler red
    assert 0.0 < verdict.tilt_deg < 0.5 * 12.0
    assert verdict.state is State.LEVEL
    assert tracker.update(_reading(0.0), 1.0 + 1 / 30).tilt_deg < SETTINGS.tolerance_deg


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


# --- the tracker's pieces, alone ------------------------------------------------------------------


def test_one_euro_smooths_jitter_at_rest_and_follows_a_drop():
    rng = np.random.default_rng(1)
    filt = OneEuroFilter(min_cutoff_hz=1.0, beta=0.03)
    still = [filt.update(float(x), i / 30) for i, x in enumerate(rng.normal(0.0, 3.0, 90))]
    assert np.std(still[30:]) < 1.5  # raw jitter is 3 degrees
    # a sustained 8 degree drop is followed within a few frames
    t0 = 90 / 30
    values = [filt.update(8.0, t0 + i / 30) for i in range(1, 16)]
    assert values[-1] > 7.0
    # the moving average it replaced (0.15 s time constant, docs/decisions.md) lagged more
    ema_values = [8.0 * (1 - np.exp(-(i / 30) / 0.15)) for i in range(1, 16)]
    assert values[4] > ema_values[4]


def test_hysteresis_does_not_flicker_at_the_threshold():
    hyst = Hysteresis(tolerance_deg=5.0, band_deg=1.0, dwell_s=0.1)
    rng = np.random.default_rng(2)
    states = [hyst.update(float(5.0 + x), i / 30) for i, x in enumerate(rng.uniform(-0.9, 0.9, 300))]
    assert len(set(states)) == 1


def test_hysteresis_changes_after_the_dwell_and_back_below_the_band():
    hyst = Hysteresis(tolerance_deg=5.0, band_deg=1.0, dwell_s=0.1)
    assert hyst.update(2.0, 0.0) is State.LEVEL
    assert hyst.update(7.0, 0.033) is State.LEVEL  # not yet: the dwell
    assert hyst.update(7.0, 0.1) is State.LEVEL
    assert hyst.update(7.0, 0.14) is State.TILTED
    assert hyst.update(4.5, 0.2) is State.TILTED  # inside the band: stays red
    assert hyst.update(3.5, 0.25) is State.TILTED
    assert hyst.update(3.5, 0.36) is State.LEVEL
    assert hyst.update(-7.0, 0.4) is State.LEVEL  # a drop to the other side counts the same
    assert hyst.update(-7.0, 0.55) is State.TILTED


def test_tracker_with_hysteresis_holds_the_colour_of_a_jittery_stand():
    settings = dataclasses.replace(SETTINGS, hysteresis_deg=1.0, min_dwell_s=0.1, smoothing_s=0.0)
    tracker = PelvisTracker(settings)
    rng = np.random.default_rng(3)
    states = {tracker.update(_reading(float(4.6 + x)), i / 30).state for i, x in enumerate(rng.uniform(-1, 1, 120))}
    assert states == {State.LEVEL}


def test_a_jump_to_someone_else_starts_afresh():
    tracker = PelvisTracker(dataclasses.replace(SETTINGS, smoothing_s=1.0))
    for i in range(10):
        tracker.update(_reading(8.0), i / 30)
    far = synthetic_pose(left_hip=(560.0, 400.0), right_hip=(520.0, 400.0), left_shoulder=(570.0, 280.0),
                         right_shoulder=(510.0, 280.0))
    verdict = tracker.update(read_pelvis(far, SETTINGS), 10 / 30)
    # 220 px away (5.5 hip widths): not the same pelvis moving; no blend of 8 degrees with 0
    assert verdict.tilt_deg == pytest.approx(0.0, abs=1e-3)
    assert tracker.resets == 1


def test_one_euro_tracker_from_config():
    tracker = PelvisTracker(SETTINGS)
    first = tracker.update(_reading(7.0), 0.0)
    assert first.tilt_deg == pytest.approx(7.0, abs=1e-3)
    # a newcomer starts green and turns red once the tilt has held for the dwell
    assert first.state is State.LEVEL
    assert tracker.update(_reading(7.0), 0.05).state is State.LEVEL
    assert tracker.update(_reading(7.0), 0.2).state is State.TILTED


def test_a_head_in_profile_is_a_side_view_even_when_the_torso_looks_wide_enough():
    """side_walk_limping.mp4's walker, turned a little away: shoulders and hips wide enough, nose
    0.65-0.9 shoulder widths beside them (frontal and back views: 0.23 at most)."""
    frontal = synthetic_pose()
    frontal.xy_px[Keypoint.NOSE] = (322.0, 240.0)  # over the shoulders' midpoint (320)
    assert isinstance(read_pelvis(frontal, SETTINGS), PelvisReading)
    profile = synthetic_pose()
    profile.xy_px[Keypoint.NOSE] = (320.0 - 0.75 * 60.0, 240.0)  # 0.75 shoulder widths to one side
    assert read_pelvis(profile, SETTINGS) is NoVerdict.NOT_FACING
    unsure = synthetic_pose()
    unsure.xy_px[Keypoint.NOSE] = (260.0, 240.0)
    unsure.scores[Keypoint.NOSE] = 0.1  # seen from behind, the nose is a guess: not used
    assert isinstance(read_pelvis(unsure, SETTINGS), PelvisReading)
    off = dataclasses.replace(SETTINGS, max_nose_offset_ratio=0.0)
    assert isinstance(read_pelvis(profile, off), PelvisReading)


def test_one_refused_frame_keeps_the_ruler_up_for_a_moment():
    tracker = PelvisTracker(SETTINGS)
    pose = synthetic_pose(left_hip=(340.0, 410.0), right_hip=(300.0, 400.0))
    for i in range(8):
        shown = tracker.update(read_pelvis(pose, SETTINGS), i / 30)
    assert shown.state is State.TILTED
    t = 7 / 30
    held = tracker.update(NoVerdict.NOT_FACING, t + 1 / 30)
    assert held.state is State.TILTED and held.tilt_deg == shown.tilt_deg
    assert held.reason is NoVerdict.NOT_FACING  # analyze records why this frame was refused
    assert tracker.update(NoVerdict.NOT_FACING, t + 2 / 30).state is State.TILTED
    assert tracker.update(NoVerdict.NOT_FACING, t + SETTINGS.hold_s + 0.05).state is State.NONE
    no_hold = PelvisTracker(dataclasses.replace(SETTINGS, hold_s=0.0))
    no_hold.update(read_pelvis(pose, SETTINGS), 0.0)
    assert no_hold.update(NoVerdict.NOT_FACING, 1 / 30).state is State.NONE


FUSING = dataclasses.replace(SETTINGS, belt_picture="fuse", belt_picture_weight=0.8, belt_picture_gate_deg=10.0,
                             belt_picture_baseline_s=5.0, belt_picture_min_energy=100.0)


def _with_picture(reading: PelvisReading, relative_deg: float, span: float = 1.0) -> PelvisReading:
    evidence = BeltEvidence(reading.raw_tilt_deg + relative_deg, relative_deg, 0.9, 5000.0, span)
    return dataclasses.replace(reading, picture=evidence)


def test_belt_fusion_takes_its_share_of_a_clear_picture_and_none_when_off():
    reading = _with_picture(_reading(1.0), 6.0)
    keypoints = reading.raw_tilt_deg
    assert BeltFusion(FUSING).update(reading, 0.0, still=True) == pytest.approx(keypoints + 0.8 * 6.0)
    assert BeltFusion(dataclasses.replace(SETTINGS, belt_picture="off")).update(reading, 0.0, still=True) == keypoints
    # the tracker smooths the fused tilt, and its ruler lies along it
    verdict = PelvisTracker(FUSING).update(reading, 0.0, still=True)
    assert verdict.tilt_deg == pytest.approx(keypoints + 4.8)
    assert verdict.raw_tilt_deg == keypoints  # the record keeps the hip joints' own line
    drop = verdict.ruler_left_end_px[1] - verdict.ruler_right_end_px[1]
    span = abs(verdict.ruler_left_end_px[0] - verdict.ruler_right_end_px[0])
    assert np.degrees(np.arctan2(drop, span)) == pytest.approx(verdict.tilt_deg, abs=1e-6)


def test_belt_fusion_falls_back_to_the_keypoints_where_the_picture_says_nothing():
    fusion = BeltFusion(FUSING)
    reading = _reading(2.0)
    keypoints = reading.raw_tilt_deg
    assert fusion.update(reading, 0.0) == keypoints  # no window read
    assert fusion.update(_with_picture(reading, 14.0), 0.2) == keypoints  # a seated thigh
    assert fusion.used == 0
    # what was left out did not move the baseline: a clear picture, steady over three frames, counts in full
    fused = [fusion.update(_with_picture(reading, 4.0), 1.0 + i / 30) for i in range(3)]
    assert fused[:2] == [keypoints, keypoints]  # one or two readings cannot show it holds steady
    assert fused[2] == pytest.approx(keypoints + 0.8 * 4.0)


def test_belt_fusion_takes_the_picture_only_while_its_belt_line_holds_steady():
    """Folds and a hem swinging with each step (±4° at 1 Hz) are left out; the same belt held
    still counts from its third reading on."""
    reading = _reading(0.0)
    swinging = BeltFusion(FUSING)
    fused = [swinging.update(_with_picture(reading, 4.0 * np.sin(2 * np.pi * i / 30)), i / 30) for i in range(90)]
    # only a few frames at the swing's turns, where it is flat for a moment
    assert swinging.used < 0.15 * 90
    assert fused[15] == reading.raw_tilt_deg  # mid-swing
    still = BeltFusion(FUSING)
    for i in range(90):
        still.update(_with_picture(reading, 3.0 + 0.3 * np.sin(i)), i / 30)
    assert still.used == 88  # all but the first two: one or two readings cannot show it holds steady


def test_belt_fusion_learns_the_clothings_own_offset_and_starts_afresh_for_someone_else():
    fusion = BeltFusion(FUSING)
    reading = _reading(0.0)
    fused = [fusion.update(_with_picture(reading, 5.0), i / 30) - reading.raw_tilt_deg for i in range(30 * 15)]
    assert fused[:2] == [0.0, 0.0] and fused[2] == pytest.approx(4.0)
    # a hem 5° off the hip joints' line stops counting as tilt within a few time constants (5 s)
    assert 0.3 * 4.0 < fused[30 * 5] < 0.45 * 4.0
    assert 0 < fused[-1] < 0.06 * 4.0
    # a 6° change of the belt line on top of that offset is taken, as a change, once it holds still
    changed = [fusion.update(_with_picture(reading, 11.0), 15.0 + i / 30) - reading.raw_tilt_deg for i in range(12)]
    assert changed[0] == 0.0  # a jump of 6° within the steadiness window is not steady yet
    assert changed[-1] == pytest.approx(0.8 * 6, abs=0.3)
    fusion.reset()
    assert fusion.update(_with_picture(reading, 5.0), 16.0, still=True) - reading.raw_tilt_deg == pytest.approx(4.0)
    # a calibration's belt offset is where each person's baseline starts
    calibrated = BeltFusion(FUSING, start_deg=5.0)
    assert calibrated.update(_with_picture(reading, 5.0), 0.0) == reading.raw_tilt_deg
    calibrated.reset()
    fused = calibrated.update(_with_picture(reading, 7.0), 1.0, still=True)
    assert fused - reading.raw_tilt_deg == pytest.approx(0.8 * 2.0)


def test_belt_fusion_eases_a_picture_out_near_the_gate_instead_of_cutting_it():
    """A picture 10–15° from its baseline counts less and less (gate 15°): one that wanders
    across the old hard cut at 10° moves the ruler by a little, never by the whole offset."""
    from kiosk.body.tracker import gate_trust

    gated = dataclasses.replace(FUSING, belt_picture_gate_deg=15.0, belt_picture_baseline_s=0.0)
    reading = _reading(0.0)
    offsets = np.arange(0.0, 17.0, 0.1)
    fused = np.array([BeltFusion(gated).update(_with_picture(reading, o), 0.0, still=True) - reading.raw_tilt_deg
                      for o in offsets])
    assert fused[offsets <= 10.0] == pytest.approx(0.8 * offsets[offsets <= 10.0])
    assert (fused[offsets >= 15.0] == 0.0).all()
    # steps of 0.1°: at most 0.24° at the steepest (0.8 × 15° × 0.1 / 5°), where a hard cut jumped 8°
    assert np.abs(np.diff(fused)).max() < 0.3
    assert gate_trust(12.5, 15.0) == pytest.approx(0.5) and gate_trust(-12.5, 15.0) == pytest.approx(0.5)


def test_belt_fusion_gives_a_spot_no_weight_and_eases_in_a_line_across_the_window():
    """A picture whose edges run across half the window or less (a hand on plain cloth) is left
    out; from three quarters on it counts fully, easing between with no jump."""
    from kiosk.body.tracker import SPAN_TRUST, span_trust

    reading = _reading(0.0)
    spans = np.arange(0.0, 1.0001, 0.01)
    fused = np.array([BeltFusion(FUSING).update(_with_picture(reading, 5.0, s), 0.0, still=True)
                      - reading.raw_tilt_deg for s in spans])
    assert (fused[spans <= SPAN_TRUST[0]] == 0.0).all()
    assert fused[spans >= SPAN_TRUST[1]] == pytest.approx(0.8 * 5.0)
    assert np.all(np.diff(fused) >= 0) and np.abs(np.diff(fused)).max() < 0.2
    assert span_trust(0.625) == pytest.approx(0.5)
    # a spot that was left out does not move the baseline
    fusion = BeltFusion(FUSING)
    fusion.update(_with_picture(reading, 9.0, 0.3), 0.0, still=True)
    assert fusion.used == 0
    assert fusion.update(_with_picture(reading, 4.0), 1.0, still=True) == pytest.approx(0.8 * 4.0)


def test_a_photos_reading_counts_alone_and_a_streams_first_frames_wait_for_the_next():
    """A photo has one frame, so its picture counts on its own; in a clip or a camera's stream a
    new person's first reading waits like any other, so the ruler does not start on an
    unconfirmed reading (on the cane walk it did: a 9.7° jerk in the first frames)."""
    reading = _with_picture(_reading(0.0), 6.0)
    photo = PelvisTracker(FUSING).update(reading, 0.0, still=True)
    stream = PelvisTracker(FUSING)
    first = stream.update(reading, 0.0)
    assert photo.tilt_deg == pytest.approx(reading.raw_tilt_deg + 0.8 * 6.0)
    assert first.tilt_deg == pytest.approx(reading.raw_tilt_deg)
    later = [stream.update(reading, i / 30) for i in range(1, 30)]
    assert later[-1].tilt_deg > reading.raw_tilt_deg + 0.5 * 0.8 * 6.0  # confirmed: it counts


def _legs(left_hip=(340.0, 20.0), right_hip=(300.0, 20.0), knees_y=150.0, hip_score=0.7):
    """A treadmill walker seen from a low camera: hips at the picture's top, knees below, no shoulders."""
    pose = synthetic_pose(left_hip=left_hip, right_hip=right_hip, left_shoulder=(345.0, -120.0),
                          right_shoulder=(295.0, -120.0))
    pose.xy_px[Keypoint.LEFT_KNEE] = (left_hip[0] - 2, knees_y)
    pose.xy_px[Keypoint.RIGHT_KNEE] = (right_hip[0] + 2, knees_y)
    pose.scores[[Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER]] = 0.05
    pose.scores[[Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP]] = hip_score
    return pose


def test_treadmill_hips_at_the_top_edge_without_shoulders_give_a_reading_on_the_hip_line():
    assert read_pelvis(_legs(), SETTINGS) is NoVerdict.HIPS_OUT_OF_FRAME  # single mode: "step back"
    reading = read_pelvis_legs_only(_legs(left_hip=(340.0, 4.0), right_hip=(300.0, 1.0)), SETTINGS)
    assert isinstance(reading, PelvisReading)
    assert reading.raw_tilt_deg == pytest.approx(np.degrees(np.arctan2(3, 40)))
    assert reading.belt_center_px[1] == pytest.approx(2.5)  # on the hips: no shoulders to raise it toward


@pytest.mark.parametrize(("pose", "why"), [
    (_legs(left_hip=(340.0, -3.0)), NoVerdict.HIPS_ABOVE_FRAME),  # a hip above the picture
    (_legs(hip_score=0.35), NoVerdict.HIPS_ABOVE_FRAME),  # a guessed hip at the edge
    (_legs(left_hip=(340.0, 40.0), right_hip=(300.0, 20.0)), NoVerdict.HIPS_ABOVE_FRAME),  # 26.6°: a lost hip
    (_legs(left_hip=(322.0, 20.0), right_hip=(318.0, 20.0)), NoVerdict.NOT_FACING),  # side-on: hips collapsed
    (_legs(left_hip=(640.0, 20.0)), NoVerdict.HIPS_OUT_OF_FRAME),  # at the side edge
])
def test_treadmill_gates(pose, why):
    assert read_pelvis_legs_only(pose, SETTINGS) is why


def test_treadmill_hips_not_over_the_knees_are_refused():
    pose = _legs(left_hip=(380.0, 20.0))
    assert isinstance(read_pelvis_legs_only(pose, SETTINGS), PelvisReading)
    pose.xy_px[Keypoint.LEFT_KNEE] = (200.0, 150.0)
    pose.xy_px[Keypoint.RIGHT_KNEE] = (160.0, 150.0)  # the knees 160 px to the side of the hips, thighs ~205
    assert read_pelvis_legs_only(pose, SETTINGS) is NoVerdict.HIPS_ABOVE_FRAME
    no_knees = _legs()
    no_knees.scores[[Keypoint.LEFT_KNEE, Keypoint.RIGHT_KNEE]] = 0.1
    assert read_pelvis_legs_only(no_knees, SETTINGS) is NoVerdict.NO_PERSON
