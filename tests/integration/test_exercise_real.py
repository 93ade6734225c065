"""The exercise coach in the kiosk: the real model on the real leg-swing clip and on walking clips,
the gesture switching walking and exercise through the pipeline, and the screen a person sees."""

from __future__ import annotations

import csv
import json
import math

import cv2
import numpy as np
import pytest

from kiosk.body.exercise import ExerciseCoach
from kiosk.body.gesture import arms_out_gesture, hands_up_gesture
from kiosk.core.types import Frame
from kiosk.flow.activity import ActivityState
from kiosk.flow.pipeline import PelvisPipeline
from kiosk.screen.draw import CALIBRATION_BLUE, LEVEL_GREEN, OUTLINE
from kiosk.settings.config import PelvisConfig

from conftest import run_beltline, shared_file
from fakes import ScriptedModel
from test_exercise import exercise_pose

SWING = "frontal_single_leg_swing.mp4"


def _analyze(tmp_path, model_path, clip, *extra):
    reps, summary = tmp_path / f"{clip}.reps.csv", tmp_path / f"{clip}.json"
    result = run_beltline("analyze", str(shared_file(clip)), "--mode", "exercise", "--model", str(model_path),
                          "--reps", str(reps), "--summary", str(summary), *extra)
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(reps.open())), json.loads(summary.read_text())


def test_the_real_leg_swing_is_one_right_rep_flagged(tmp_path, model_path):
    """The man stands on his left leg and swings the right one out once, tipping his trunk far over
    the standing leg.  He never stands still in position first (the clip is 1.7 s), so with the
    default guard nothing counts; without it, one right rep: the leg 50° out in space, but only
    about 10° from the trunk, the belt line tipped up toward it and the trunk far over.  He wears
    no marker, so the lean is the verdict (the keypoints' hike rides up with a lean)."""
    rows, summary = _analyze(tmp_path, model_path, SWING)
    assert rows == [] and summary["exercise"]["reps"] == {"left": 0, "right": 0}
    ready_now = tmp_path / "ready.toml"
    ready_now.write_text("[exercise]\nready_s = 0.0\n")
    rows, summary = _analyze(tmp_path, model_path, SWING, "--config", str(ready_now))
    (rep,) = rows
    assert rep["side"] == "right" and rep["verdict"] == "trunk_leaned"
    assert 0.3 <= float(rep["start_s"]) <= 0.5 and 1.0 <= float(rep["end_s"]) <= 1.25  # the swing, on the sheet
    assert float(rep["peak_leg_deg"]) > 40 and float(rep["peak_angle_deg"]) < 20
    assert float(rep["pelvis_hike_deg"]) > 20 and float(rep["trunk_lean_deg"]) > 30
    assert summary["exercise"]["sets"][0]["clean_fraction"] == 0.0
    assert summary["gestures"] == 0


@pytest.mark.parametrize("clip", ["frontal_walk_outdoor_cane.mp4", "frontal_walk_white_bg.mp4",
                                  "frontal_walk_two_people.gif", "outdoor_sit_walk_stand.mp4"])
def test_no_rep_and_no_gesture_on_a_walking_clip_in_exercise_mode(tmp_path, model_path, clip):
    rows, summary = _analyze(tmp_path, model_path, clip)
    assert rows == [] and summary["gestures"] == 0
    assert summary["walk"]["steps"] == 0  # exercising: no walk is counted either


def test_the_exercise_screen_shows_the_counter_the_last_rep_and_the_cue(tmp_path, model_path):
    shot = tmp_path / "exercise.png"
    config = tmp_path / "ready.toml"
    config.write_text("[exercise]\nready_s = 0.0\n")
    result = run_beltline("run", "--windowed", "--mode", "exercise", "--source", str(shared_file(SWING)),
                          "--model", str(model_path), "--config", str(config), "--snapshot", str(shot))
    assert result.returncode == 0, result.stderr
    screen = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    top = screen[: screen.shape[0] // 6]
    # The counter: white words on a dark box across the top middle.
    assert np.all(top == np.array(OUTLINE, np.uint8), axis=-1).sum() > 5000
    assert np.all(top >= 245, axis=-1).sum() > 2000
    # The ruler, green (by the clip's end the pelvis is level again), and the calm cue in blue
    # along the bottom: the one rep leaned the trunk ("Stand tall — keep your trunk upright").
    assert np.all(screen == np.array(LEVEL_GREEN, np.uint8), axis=-1).sum() > 1000
    bottom = screen[screen.shape[0] * 5 // 6:]
    assert np.all(bottom == np.array(CALIBRATION_BLUE, np.uint8), axis=-1).sum() > 10000


class _Script(ScriptedModel):
    """Hands up from frame 30 to 110 (2.7 s at 30 fps), else standing."""

    def pose_for(self, frame):
        return exercise_pose(hands_up=30 <= frame.index < 110)


@pytest.mark.parametrize(("exercising", "after"), [(False, True), (True, False)])
def test_holding_both_hands_up_switches_between_walking_and_exercise(exercising, after):
    pipeline = PelvisPipeline(_Script(), PelvisConfig(), coach=ExerciseCoach(),
                              activity=ActivityState(exercising, gesture=hands_up_gesture(2.0)))
    switched_at = []
    image = np.zeros((720, 640, 3), np.uint8)
    for i in range(200):
        before = pipeline.exercising
        result = pipeline.finish(pipeline.prepare(Frame(image, i, i / 30)))
        if pipeline.exercising != before:
            switched_at.append(i)
        assert (result.exercise is not None) == pipeline.exercising  # no set ended: no summary while walking
    assert switched_at == [90]  # two seconds into the hold, once
    assert pipeline.exercising is after
    assert pipeline.gestures_fired == 1


class _CalibrateScript(ScriptedModel):
    """Arms out for 2.5 s, then standing still with the left hip 3° low (a leg-length difference)."""

    def pose_for(self, frame):
        drop = 40.0 * math.tan(math.radians(3.0))
        return exercise_pose(arms_out=frame.index < 75, left_hip_low_px=drop)


def test_holding_the_arms_out_calibrates_on_the_still_stand_that_follows():
    kept = []
    pipeline = PelvisPipeline(_CalibrateScript(), PelvisConfig(), coach=ExerciseCoach(),
                              activity=ActivityState(gesture=hands_up_gesture(2.0),
                                                     calibrate_gesture=arms_out_gesture(2.0), calibrate_s=4.0),
                              on_calibration=kept.append)
    image = np.zeros((720, 640, 3), np.uint8)
    progress = []
    for i in range(300):  # 10 s
        result = pipeline.finish(pipeline.prepare(Frame(image, i, i / 30)))
        progress.append(result.calibration.progress if result.calibration is not None else None)
    (calibration,) = kept
    assert calibration.standing_tilt_deg == pytest.approx(3.0, abs=0.05)
    assert pipeline.baseline_deg == calibration.standing_tilt_deg
    assert result.primary.tilt_deg == pytest.approx(0.0, abs=0.1)  # the ruler is level at their level now
    started = next(i for i, p in enumerate(progress) if p is not None)
    assert started == 60  # two seconds into the hold
    assert max(p for p in progress if p is not None) < 1.0 and progress[-1] is None  # done: the screen is back
    assert pipeline.gestures_fired == 1 and not pipeline.exercising


def test_the_set_summary_screen_says_reps_range_and_clean_share(tmp_path):
    from kiosk.core.types import Side
    from kiosk.screen.view import MirrorView
    from kiosk.settings.config import DisplayConfig

    from test_exercise import Session

    session = Session()
    session.hold(1.5)
    for side, hike in ((Side.LEFT, 0.0), (Side.RIGHT, 6.0), (Side.LEFT, 0.0), (Side.RIGHT, 0.0)):
        session.rep(side, hike_deg=hike)
    summary = session.coach.end_set(session.t_s)
    view = MirrorView(DisplayConfig(fullscreen=False), windowed=True)
    try:
        frame = Frame(np.full((720, 1280, 3), 90, np.uint8), 0, 0.0)
        view.show_set_summary(frame, summary)
        shot = tmp_path / "set.png"
        view.save_snapshot(shot)
    finally:
        view.close()
    screen = cv2.imread(str(shot))
    assert screen is not None
    assert np.all(screen >= 245, axis=-1).sum() > 5000  # the heading and three lines in white


def test_a_person_with_the_feet_cut_off_is_told_to_step_back_and_nothing_counts(tmp_path, model_path):
    """frontal_squats.mp4 with its lower third cut away: the woman's ankles are out of the picture.
    Reps are told by the whole leg, so the coach cannot judge a leg; it says why (the screen asks
    her to step back so her feet are in view) and counts nothing."""
    from kiosk.app.analyze import judged_results
    from kiosk.app.assembly import Purpose, assemble, with_mode
    from kiosk.settings.config import Mode

    from conftest import pinned_config

    capture = cv2.VideoCapture(str(shared_file("frontal_squats.mp4")))
    fps = capture.get(cv2.CAP_PROP_FPS)
    ok, image = capture.read()
    keep = int(image.shape[0] * 0.62) // 2 * 2
    clip = tmp_path / "feet_cut.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), fps, (image.shape[1], keep))
    while ok:
        writer.write(image[:keep])
        ok, image = capture.read()
    writer.release()
    kiosk = assemble(with_mode(pinned_config(), Mode.EXERCISE), model_path, Purpose.ANALYZE)
    source = kiosk.open_source(str(clip))
    try:
        statuses = [kiosk.pipeline.exercise for _ in judged_results(source, kiosk)]
    finally:
        source.close()
    told = [s is not None and s.feet_unseen for s in statuses]
    assert sum(told) > 0.8 * len(statuses)
    assert all(s is None or (s.left, s.right) == (0, 0) for s in statuses)
