import math

import numpy as np
import pytest

from kiosk.core.geometry import (
    crop_square_around_person,
    facing_sign,
    fit_inside,
    frame_to_screen,
    full_frame_square,
    hip_tilt_deg,
    inside_frame,
    ruler_ends,
)

# Image y points down.  Facing the camera, the person's left hip is on the image's right.
FACING_LEVEL = (np.array([340.0, 400.0]), np.array([300.0, 400.0]))


def test_level_hips_have_zero_tilt():
    assert hip_tilt_deg(*FACING_LEVEL) == 0.0


def test_left_hip_lower_is_positive_when_facing_the_camera():
    left, right = np.array([340.0, 410.0]), np.array([300.0, 400.0])
    assert hip_tilt_deg(left, right) == pytest.approx(math.degrees(math.atan2(10, 40)))


def test_left_hip_lower_is_positive_from_behind_too():
    # From behind, the left hip is on the image's left.
    left, right = np.array([300.0, 410.0]), np.array([340.0, 400.0])
    assert hip_tilt_deg(left, right) == pytest.approx(math.degrees(math.atan2(10, 40)))


def test_right_hip_lower_is_negative():
    left, right = np.array([340.0, 395.0]), np.array([300.0, 405.0])
    assert hip_tilt_deg(left, right) < 0


def test_tilt_stays_within_plus_minus_90():
    for dx, dy in [(0.0, 5.0), (0.0, -5.0), (-1.0, 30.0), (1.0, -30.0), (50.0, 0.0)]:
        tilt = hip_tilt_deg(np.array([300.0 + dx, 400.0 + dy]), np.array([300.0, 400.0]))
        assert -90.0 <= tilt <= 90.0
    assert hip_tilt_deg(np.array([300.0, 420.0]), np.array([300.0, 400.0])) == pytest.approx(90.0)


def test_facing_sign():
    assert facing_sign(*FACING_LEVEL) == 1
    assert facing_sign(FACING_LEVEL[1], FACING_LEVEL[0]) == -1


@pytest.mark.parametrize("facing", [1, -1])
def test_ruler_left_end_is_lower_for_positive_tilt(facing):
    left_end, right_end = ruler_ends(np.array([320.0, 380.0]), 100.0, 8.0, facing)
    assert left_end[1] > right_end[1]
    assert np.sign(left_end[0] - right_end[0]) == facing
    assert np.hypot(*(left_end - right_end)) == pytest.approx(200.0)
    assert hip_tilt_deg(left_end, right_end) == pytest.approx(8.0)


def test_inside_frame_with_margin():
    assert inside_frame(np.array([10.0, 10.0]), 640, 480)
    assert not inside_frame(np.array([10.0, 480.0]), 640, 480)
    assert not inside_frame(np.array([-1.0, 10.0]), 640, 480)
    assert not inside_frame(np.array([320.0, 475.0]), 640, 480, margin_frac=0.02)
    assert inside_frame(np.array([320.0, 465.0]), 640, 480, margin_frac=0.02)


def test_full_frame_square_covers_the_frame_centred():
    square = full_frame_square(1280, 720)
    assert square.side_px == 1280
    assert square.left_px == 0
    assert square.top_px == pytest.approx(-280)


def _person_keypoints(cx=900.0, cy=500.0, scale=1.0):
    offsets = np.array(
        [[0, -160], [5, -165], [-5, -165], [10, -160], [-10, -160], [30, -120], [-30, -120], [40, -70], [-40, -70],
         [45, -20], [-45, -20], [20, 0], [-20, 0], [22, 70], [-22, 70], [24, 140], [-24, 140]],
        dtype=np.float64,
    )
    return np.array([cx, cy]) + offsets * scale


def test_crop_square_falls_back_to_full_frame_without_a_torso():
    xy = _person_keypoints()
    scores = np.full(17, 0.05)
    assert crop_square_around_person(xy, scores, 1280, 720) == full_frame_square(1280, 720)


def test_crop_square_holds_the_whole_person_and_is_smaller_than_the_frame():
    xy = _person_keypoints(scale=0.8)
    scores = np.full(17, 0.8)
    square = crop_square_around_person(xy, scores, 1280, 720)
    assert square.side_px < 720
    assert (xy[:, 0] >= square.left_px).all() and (xy[:, 0] <= square.left_px + square.side_px).all()
    assert (xy[:, 1] >= square.top_px).all() and (xy[:, 1] <= square.top_px + square.side_px).all()
    # centred on the hips
    assert square.left_px + square.side_px / 2 == pytest.approx(900.0)


def test_crop_square_for_a_person_filling_the_frame_is_the_full_frame():
    xy = _person_keypoints(cx=640, cy=360, scale=3.0)
    scores = np.full(17, 0.8)
    assert crop_square_around_person(xy, scores, 1280, 720) == full_frame_square(1280, 720)


def test_fit_inside_keeps_aspect_and_centres():
    fit = fit_inside(594, 720, 1280, 720)
    assert fit.height_px == 720
    assert fit.width_px == 594
    assert fit.left_px == (1280 - 594) // 2
    wide = fit_inside(1280, 720, 1080, 1920)
    assert wide.width_px == 1080 and wide.height_px == 608
    assert wide.top_px == (1920 - 608) // 2


def test_frame_to_screen_mirrors_left_and_right():
    fit = fit_inside(640, 480, 1280, 960)
    assert frame_to_screen(np.array([100.0, 50.0]), fit, 640, mirror=False) == (200.0, 100.0)
    assert frame_to_screen(np.array([100.0, 50.0]), fit, 640, mirror=True) == (1080.0, 100.0)


def test_search_squares_cover_a_wide_frame_after_the_whole_frame():
    from kiosk.core.geometry import full_frame_square, search_squares

    squares = search_squares(1280, 720)
    assert squares[0] == full_frame_square(1280, 720)
    tiles = squares[1:]
    assert len(tiles) >= 2 and all(t.side_px == 720 and t.top_px == 0 for t in tiles)
    assert tiles[0].left_px == 0 and tiles[-1].left_px + 720 == 1280
    portrait = search_squares(270, 960)[1:]
    assert portrait[-1].top_px + 270 == 960 and all(t.left_px == 0 for t in portrait)
    assert search_squares(640, 600) == [full_frame_square(640, 600)]  # nearly square: the whole frame will do


def test_group_rulers_give_way_to_each_other_keeping_their_middles_and_tilts():
    from kiosk.core.geometry import rulers_kept_apart

    near = [((100.0, 300.0), (300.0, 300.0)), ((250.0, 310.0), (450.0, 290.0)), ((200.0, 600.0), (400.0, 600.0))]
    kept = rulers_kept_apart(near, clearance_px=48, gap_px=30)
    (a0, a1), (b0, b1), (c0, c1) = kept
    assert max(a0[0], a1[0]) + 30 <= min(b0[0], b1[0]) + 1e-6  # apart by the gap
    assert ((a0[0] + a1[0]) / 2, (b0[1] + b1[1]) / 2) == pytest.approx((200.0, 300.0))  # middles kept
    tilt = math.atan2(b1[1] - b0[1], b1[0] - b0[0])
    assert tilt == pytest.approx(math.atan2(-20, 200))  # the tilt kept
    assert (c0, c1) == near[2]  # far below the others: untouched
    assert rulers_kept_apart(near[:1], 48, 30) == near[:1]
