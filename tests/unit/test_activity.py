"""Single mode's activity: walking, exercising or calibrating, switched by held gestures (pure)."""

import numpy as np

from kiosk.body.gesture import HeldPose
from kiosk.core.types import Pose
from kiosk.flow.activity import CALIBRATION_TIMEOUT_S, Activity, ActivityState

FPS = 30
POSE = Pose(np.zeros((17, 2), np.float32), np.ones(17, np.float32), 640, 480)


def _held(flag: dict[str, bool]) -> HeldPose:
    """A gesture that is held while flag["up"] is true (held for 0.5 s to fire)."""
    return HeldPose(lambda pose: flag["up"], hold_s=0.5, release_s=0.2)


def _run(state: ActivityState, seconds: float, t0: float) -> tuple[float, list]:
    switches = []
    t = t0
    for _ in range(round(seconds * FPS)):
        t += 1 / FPS
        switches.append(state.update(POSE, t))
    return t, switches


def test_holding_the_toggle_switches_walking_and_exercising_once_per_hold():
    hands = {"up": False}
    state = ActivityState(gesture=_held(hands))
    assert state.activity is Activity.WALKING
    hands["up"] = True
    t, switches = _run(state, 2.0, 0.0)  # held for 2 s: fires once
    assert [s.toggled for s in switches].count(True) == 1 and state.activity is Activity.EXERCISING
    hands["up"] = False
    t, _ = _run(state, 1.0, t)
    hands["up"] = True
    _run(state, 1.0, t)
    assert state.activity is Activity.WALKING and state.gestures_fired == 2


def test_a_calibration_runs_until_a_still_stand_is_long_enough_or_is_given_up():
    arms = {"up": True}
    state = ActivityState(exercising=True, calibrate_gesture=_held(arms), calibrate_s=1.0)
    t, switches = _run(state, 0.6, 0.0)
    assert any(s.calibration_started for s in switches) and state.activity is Activity.CALIBRATING
    arms["up"] = False
    image = np.zeros((480, 640, 3), np.uint8)
    # nobody stands still (no reading): it waits, then gives up and goes back to exercising
    while state.activity is Activity.CALIBRATING:
        t += 1 / FPS
        assert state.calibrate(None, None, t, image) is None
        assert t < CALIBRATION_TIMEOUT_S + 2
    assert t > CALIBRATION_TIMEOUT_S and state.activity is Activity.EXERCISING and state.progress is None
