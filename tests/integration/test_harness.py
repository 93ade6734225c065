"""The accuracy harness makes frames whose truth no model produced: check that truth is exact."""

import numpy as np
import pytest

from kiosk.core.types import Keypoint

from conftest import DATA
from harness import FRAME_H, FRAME_W, Placement, gait_angle_deg, load_truth_photos, render, true_tilt_deg


@pytest.fixture(scope="module")
def photos():
    return load_truth_photos(DATA)


@pytest.mark.shared
def test_rotating_the_photo_rotates_the_true_tilt(photos):
    photo = photos[0]
    base = true_tilt_deg(render(photo, Placement(0.0, 0.6))[1])
    for angle in (-8.0, -3.0, 5.0):
        _, truth = render(photo, Placement(angle, 0.6))
        # counter-clockwise on screen lifts the image's right side: for a person facing the camera
        # (left hip on the right) the left hip rises, so the tilt falls by the angle
        assert true_tilt_deg(truth) == pytest.approx(base - angle, abs=1e-6)


@pytest.mark.shared
def test_mirroring_flips_the_true_tilt_exactly(photos):
    for photo in photos:
        _, plain = render(photo, Placement(6.0, 0.5, 0.4))
        _, mirrored = render(photo, Placement(6.0, 0.5, 0.4, mirrored=True))
        assert true_tilt_deg(mirrored) == pytest.approx(-true_tilt_deg(plain), abs=1e-9)
        assert mirrored[Keypoint.LEFT_HIP][0] == pytest.approx(FRAME_W - plain[Keypoint.RIGHT_HIP][0])


@pytest.mark.shared
def test_the_person_lands_where_and_as_big_as_asked(photos):
    image, truth = render(photos[0], Placement(0.0, 0.5, 0.3))
    assert image.shape == (FRAME_H, FRAME_W, 3)
    height = truth[:, 1].max() - truth[:, 1].min()
    assert height == pytest.approx(0.5 * FRAME_H, rel=1e-6)
    pelvis = (truth[Keypoint.LEFT_HIP] + truth[Keypoint.RIGHT_HIP]) / 2
    assert pelvis == pytest.approx(np.array([0.3 * FRAME_W, 0.55 * FRAME_H]))


def test_gait_profile_alternates_sides_and_rests():
    peaks = [gait_angle_deg(step + 0.5) for step in range(10)]
    assert peaks[0] > 0 > peaks[1] and peaks[2] > 0 > peaks[3]
    assert peaks[4] == 0.0 and peaks[9] == 0.0  # level stretches
    assert {abs(p) for p in peaks if p} == {4.0, 8.0, 6.0, 5.0}


def _through_the_kiosk(kiosk, sequence):
    return [(item.true_tilt_deg, kiosk.pipeline.step(item.frame)[0].verdict) for item in sequence]


def test_standing_still_the_real_model_keeps_one_colour_and_a_steady_ruler(photos, kiosk):
    from kiosk.core.types import State

    from harness import standing_sequence

    frames = _through_the_kiosk(kiosk, standing_sequence(photos[0], seconds=3.0))
    shown = [verdict.tilt_deg for _, verdict in frames]
    assert all(tilt is not None for tilt in shown)
    states = [verdict.state for _, verdict in frames]
    assert len(set(states)) == 1 and states[0] is State.LEVEL  # image1's pelvis is level
    assert np.std(shown[10:]) < 2.0  # the filter: raw tilts scatter about 3 degrees (sd)


def test_walking_the_real_model_follows_the_drops_with_little_lag(photos, kiosk):
    from harness import walking_sequence

    frames = _through_the_kiosk(kiosk, walking_sequence(photos[0], seconds=5.0))
    truth = np.array([t for t, _ in frames])
    shown = np.array([v.tilt_deg for _, v in frames], dtype=float)
    assert np.isfinite(shown).all()
    best_lag = max(range(6), key=lambda lag: np.corrcoef(truth[: len(truth) - lag], shown[lag:])[0, 1])
    assert np.corrcoef(truth[: len(truth) - best_lag], shown[best_lag:])[0, 1] > 0.8
    assert best_lag <= 3  # at 30 fps: at most 100 ms behind
    assert np.sqrt(np.mean((shown - truth) ** 2)) < 3.0


def test_a_pelvis_only_turn_turns_the_hips_exactly_and_leaves_the_shoulders_and_feet():
    """A grid of dots: at the hip line they land where turn_points puts them (the hips turn by
    exactly the angle), above the waist and below the knees not one pixel changes."""
    from harness import PELVIS_BAND_KNEES, PELVIS_BAND_WAIST, pelvis_band_warp, turn_points

    image = np.zeros((600, 400, 3), np.uint8)
    image[::6, ::6] = 255
    image[300, 240] = (0, 255, 0)  # a "hip" 40 px right of the centre, on the hip line
    centre, body_px, angle = np.array([200.0, 300.0]), 400.0, 6.0
    turned = pelvis_band_warp(image, centre, body_px, angle)
    waist = int(300 - PELVIS_BAND_WAIST * body_px) - 1
    knees = int(300 + PELVIS_BAND_KNEES * body_px) + 1
    np.testing.assert_array_equal(turned[:waist], image[:waist])
    np.testing.assert_array_equal(turned[knees:], image[knees:])
    green = turned[..., 1].astype(float) - turned[..., 0]  # the white dots have as much of both
    ys, xs = np.nonzero(green > 5)
    weights = green[ys, xs]
    found = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
    np.testing.assert_allclose(found, turn_points(np.array([[240.0, 300.0]]), centre, angle)[0], atol=0.3)
    assert abs(found[1] - 300.0) > 3.0  # it did move: 40 px at 6° is 4.2 px


def test_the_pelvis_band_is_whole_at_the_hips_and_eases_out_by_the_waist_and_knees():
    from harness import PELVIS_BAND_HALF, PELVIS_BAND_KNEES, PELVIS_BAND_WAIST, pelvis_band_weight

    rows = np.array([0.0, PELVIS_BAND_HALF, -PELVIS_BAND_HALF, -PELVIS_BAND_WAIST, PELVIS_BAND_KNEES, -0.5, 0.5,
                     -(PELVIS_BAND_HALF + PELVIS_BAND_WAIST) / 2, (PELVIS_BAND_HALF + PELVIS_BAND_KNEES) / 2]) * 100
    weights = pelvis_band_weight(rows, 100.0)
    np.testing.assert_allclose(weights, [1, 1, 1, 0, 0, 0, 0, 0.5, 0.5], atol=1e-9)
