"""Step detection and per-step metrics on synthetic walks, and on the real frontal walking clip."""

import itertools
import json

import numpy as np
import pytest

from kiosk.body.gait import GaitAnalyzer, walk_summary
from kiosk.body.pelvis import read_pelvis
from kiosk.body.tracker import PelvisTracker
from kiosk.core.types import Pattern, Side
from kiosk.settings.config import PelvisConfig

from conftest import PASS_THROUGH_HZ, run_beltline, shared_file, synthetic_pose

SETTINGS = PelvisConfig(smoothing_s=0.0, one_euro_min_cutoff_hz=PASS_THROUGH_HZ, hysteresis_deg=0.0, min_dwell_s=0.0)


def _walk(seconds=4.0, fps=30, step_s=0.5, drop_on="swing", drop_deg=8.0, lean_deg=0.0, sway_px=0.0, offset_deg=0.0):
    """A person facing the camera; the leading ankle alternates every `step_s`; the pelvis drops on
    the swing side (or the stance side) mid-step; the trunk may lean toward the stance side."""
    tracker = PelvisTracker(SETTINGS)
    gait = GaitAnalyzer()
    for i in range(int(seconds * fps)):
        t = i / fps
        step = int(t / step_s)
        phase = (t % step_s) / step_s
        stance = Side.LEFT if step % 2 == 0 else Side.RIGHT
        swing = Side.RIGHT if stance == Side.LEFT else Side.LEFT
        low = swing if drop_on == "swing" else stance
        tilt = offset_deg + drop_deg * np.sin(np.pi * phase) ** 2 * (1 if low == Side.LEFT else -1)
        drop = 20 * np.tan(np.radians(tilt))
        shift = sway_px * (1 if stance == Side.LEFT else -1) * np.sin(np.pi * phase)
        # facing the camera: the person's left is the image's right (+x); leaning toward the left moves the shoulders +x
        lean_px = 120 * np.tan(np.radians(lean_deg)) * (1 if stance == Side.LEFT else -1)
        pose = synthetic_pose(left_hip=(340.0 + shift, 400.0 + drop), right_hip=(300.0 + shift, 400.0 - drop),
                              left_shoulder=(350.0 + shift + lean_px, 280.0),
                              right_shoulder=(290.0 + shift + lean_px, 280.0))
        lead_offset = 14.0 if stance == Side.LEFT else -14.0  # the leading ankle is lower in the picture
        pose.xy_px[15] = (332.0, 460.0 + lead_offset)
        pose.xy_px[16] = (308.0, 460.0 - lead_offset)
        gait.update(pose, tracker.update(read_pelvis(pose, SETTINGS), t), t)
    gait.finish(seconds)
    return gait.steps


def _stepping_pose(t: float):
    """A level frontal pose whose leading ankle (the lower one in the picture) changes every 0.5 s."""
    stance_left = int(t / 0.5) % 2 == 0
    pose = synthetic_pose()
    pose.xy_px[15] = (332.0, 474.0 if stance_left else 446.0)
    pose.xy_px[16] = (308.0, 446.0 if stance_left else 474.0)
    return pose


def test_steps_alternate_and_are_timed():
    steps = _walk()
    assert len(steps) == 8
    assert [s.stance_side for s in steps] == [Side.LEFT, Side.RIGHT] * 4
    assert all(s.end_s - s.start_s == pytest.approx(0.5, abs=0.05) for s in steps)


def test_a_drop_on_the_swing_side_is_trendelenburg():
    steps = _walk(drop_on="swing")
    assert {s.pattern for s in steps} == {Pattern.TRENDELENBURG}
    for s in steps:  # measured from the step's ends, where this profile has begun to drop already
        assert s.peak_drop_deg == pytest.approx(8.0, abs=0.5)
        assert s.drop_side != s.stance_side
    summary = walk_summary(steps, 5.0)
    assert summary.dominant_pattern is Pattern.TRENDELENBURG
    assert summary.peak_left_drop_deg == pytest.approx(8.0, abs=0.5)
    assert summary.level_step_fraction == 0.0


def test_a_steady_offset_does_not_put_every_drop_on_one_side():
    # A camera rolled by 4° (or a pose model's steady lean) under 6° drops on the swing side: each
    # step's drop is still on its swing side, at its size.
    steps = _walk(drop_deg=6.0, offset_deg=4.0)
    assert [s.drop_side for s in steps] == [s.stance_side.other for s in steps]
    assert all(s.peak_drop_deg == pytest.approx(6.0, abs=0.4) for s in steps)


def test_a_level_pelvis_with_a_trunk_lean_is_compensation():
    steps = _walk(drop_deg=1.0, lean_deg=9.0)
    assert {s.pattern for s in steps} == {Pattern.TRUNK_LEAN}
    assert all(s.trunk_lean_deg == pytest.approx(9.0, abs=0.5) for s in steps)


def test_a_drop_with_a_sideways_shift_is_the_runway_walk():
    steps = _walk(drop_on="swing", sway_px=30.0)
    assert {s.pattern for s in steps} == {Pattern.HIP_DROP_SHIFT}
    assert all(s.lateral_shift_hip_widths > 0.35 for s in steps)


def test_a_level_walk():
    steps = _walk(drop_deg=2.0)
    summary = walk_summary(steps, 5.0)
    assert summary.dominant_pattern is Pattern.LEVEL and summary.level_step_fraction == 1.0


def test_the_real_walk_toward_the_camera_has_alternating_steps(tmp_path, model_path):
    steps_csv = tmp_path / "steps.csv"
    summary_json = tmp_path / "summary.json"
    result = run_beltline("analyze", str(shared_file("frontal_walk_white_bg.mp4")), "--model", str(model_path),
                          "--steps", str(steps_csv), "--summary", str(summary_json))
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in steps_csv.read_text().splitlines()[1:]]
    walk = json.loads(summary_json.read_text())["walk"]
    # 15 s of a slow walk: a step every ~1.5 s, alternating feet
    assert 6 <= walk["steps"] == len(rows) <= 12
    stances = [row[3] for row in rows]
    assert all(a != b for a, b in itertools.pairwise(stances))
    assert [int(row[0]) for row in rows] == list(range(len(rows)))  # numbered 0, 1, 2, ...
    assert walk["thresholds"]["drop_deg"] == 5.0


def test_a_walk_ends_when_the_walker_leaves_and_is_summarised_once():
    from kiosk.body.gait import GaitThresholds, WalkTracker
    from kiosk.core.types import NoVerdict, State, Verdict

    walk = WalkTracker(GaitThresholds(), leave_after_s=1.0, min_steps=4, keep_history=True)
    tracker = PelvisTracker(SETTINGS)
    status = None
    for i in range(120):  # 4 s, a step every 0.5 s
        t = i / 30
        pose = _stepping_pose(t)
        status = walk.update(pose, tracker.update(read_pelvis(pose, SETTINGS), t), t)
    assert status.steps >= 6 and status.finished is None
    gone = Verdict(State.NONE, NoVerdict.NO_PERSON, None, None)
    summaries = [walk.update(None, gone, 4.0 + i / 30).finished for i in range(60)]
    finished = [s for s in summaries if s is not None]
    assert len(finished) == 1 and finished[0].summary.steps >= 7
    assert len(walk.history) == finished[0].summary.steps == len(finished[0].steps)
    # The walk's own times: from its first step to the walker's last sighting, closed a second later.
    assert finished[0].start_s == finished[0].steps[0].start_s
    assert finished[0].end_s == pytest.approx(119 / 30)
    assert finished[0].closed_s > finished[0].end_s + 1.0


def test_standing_with_one_foot_forward_is_not_a_step_and_does_not_pile_up():
    tracker = PelvisTracker(SETTINGS)
    gait = GaitAnalyzer()
    for i in range(30 * 20):  # 20 s, the left foot forward all along
        pose = synthetic_pose()
        pose.xy_px[15] = (332.0, 474.0)
        pose.xy_px[16] = (308.0, 446.0)
        gait.update(pose, tracker.update(read_pelvis(pose, SETTINGS), i / 30), i / 30)
    assert gait.steps == []
    assert gait._open is None or len(gait._open.tilts) <= 3 * 30 + 1


def test_a_step_open_when_time_starts_again_is_dropped_not_grown():
    """A looping clip starts its clock again: the step in progress must not collect samples forever."""
    tracker = PelvisTracker(SETTINGS)
    gait = GaitAnalyzer()
    pose = synthetic_pose()
    pose.xy_px[15] = (332.0, 474.0)
    pose.xy_px[16] = (308.0, 446.0)
    for loop in range(50):
        for i in range(30):  # 1 s of the clip, the left foot forward, then the clip starts over
            gait.update(pose, tracker.update(read_pelvis(pose, SETTINGS), loop + i / 30), i / 30)
    assert gait.steps == []
    assert gait._open is None or len(gait._open.tilts) <= 30


def test_a_broken_pose_under_a_held_verdict_adds_nothing_to_the_step():
    """The tracker holds a verdict over a refused frame (pelvis.hold_s); the model's NaN pose in that
    frame must not reach the step's numbers (the records refuse a NaN lean, and rightly)."""
    tracker = PelvisTracker(SETTINGS)
    gait = GaitAnalyzer()
    for i in range(120):
        t = i / 30
        pose = _stepping_pose(t)
        verdict = tracker.update(read_pelvis(pose, SETTINGS), t)
        if i % 5 == 4:
            pose.xy_px[:] = np.nan  # what a glitching model returns, under the verdict just made
        gait.update(pose, verdict, t)
    gait.finish(4.0)
    assert len(gait.steps) >= 6
    assert all(np.isfinite([s.trunk_lean_deg, s.peak_drop_deg, s.lateral_shift_hip_widths]).all() for s in gait.steps)


def test_the_streams_clock_going_back_ends_the_walk_and_begins_the_next():
    """A clip opened afresh (the kiosk reconnecting to a clip as its camera, as the soak does)
    starts its clock at 0 again while the walker is still in view: each opening is a walk of its
    own, not one walk with its time running backwards."""
    from kiosk.body.gait import GaitThresholds, WalkTracker

    walk = WalkTracker(GaitThresholds(), leave_after_s=1.0, min_steps=4)
    tracker = PelvisTracker(SETTINGS)
    finished = []
    for loop in range(3):
        for i in range(120):  # 4 s, a step every 0.5 s
            t = i / 30
            pose = _stepping_pose(t)
            status = walk.update(pose, tracker.update(read_pelvis(pose, SETTINGS), t), t)
            if status.finished is not None:
                finished.append((loop, i, status.finished))
    assert [(loop, i) for loop, i, _ in finished] == [(1, 0), (2, 0)]
    assert all(6 <= w.summary.steps <= 8 for _, _, w in finished)
    assert walk.close().summary.steps == finished[0][2].summary.steps  # the third pass, closed at the end


def test_a_walk_says_what_share_of_the_cameras_frames_it_was_judged_on():
    from kiosk.body.gait import GaitThresholds, WalkTracker
    from kiosk.core.types import NoVerdict, State, Verdict

    def walk_with(judged_every: int, indices: bool = True) -> float | None:
        walk = WalkTracker(GaitThresholds(), leave_after_s=1.0, min_steps=4)
        tracker = PelvisTracker(SETTINGS)
        for i in range(0, 120, judged_every):  # the loop let the frames between go
            t = i / 30
            pose = _stepping_pose(t)
            walk.update(pose, tracker.update(read_pelvis(pose, SETTINGS), t), t, i if indices else None)
        gone = Verdict(State.NONE, NoVerdict.NO_PERSON, None, None)
        finished = [walk.update(None, gone, 4.0 + i / 30, 120 + i).finished for i in range(60)]
        (done,) = [f for f in finished if f is not None]
        return done.judged_share

    assert walk_with(1) == 1.0
    assert walk_with(3) == pytest.approx(40 / 118, abs=0.01)  # frames 0, 3, ... 117 of 0..117
    assert walk_with(2, indices=False) is None
