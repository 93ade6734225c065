"""The belt line read from the picture (kiosk.body.belt), on synthetic pictures with a known belt line."""

import math

import cv2
import numpy as np
import pytest

from kiosk.body.belt import read_belt_line
from kiosk.core.geometry import hip_tilt_deg


def _picture(angle_deg: float, centre=(320.0, 240.0), size=(480, 640), blur=1.5):
    """A shirt above a belt line through `centre` at `angle_deg` (image y down), trousers below."""
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width]
    below = ys > centre[1] + (xs - centre[0]) * math.tan(math.radians(angle_deg))
    image = np.where(below[..., None], np.array([150, 150, 160], np.uint8), np.array([60, 80, 170], np.uint8))
    image = cv2.GaussianBlur(image.astype(np.uint8), (0, 0), blur)
    noise = np.random.default_rng(int(angle_deg * 10) + 100).normal(0, 3, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("angle", [-8.0, -4.0, -2.0, 0.0, 3.0, 8.0])
@pytest.mark.parametrize("facing", [1, -1])
def test_a_known_belt_line_is_read_in_the_rulers_sign(angle, facing):
    centre = np.array([320.0, 240.0])
    left = centre + np.array([facing * 50.0, 0.0])  # the hips, level: the keypoints see no tilt
    right = centre - np.array([facing * 50.0, 0.0])
    evidence = read_belt_line(_picture(angle), left, right)
    assert evidence is not None
    # the belt's own two points at the hips' x, through hip_tilt_deg, give the true tilt
    slope = math.tan(math.radians(angle))
    belt_left = np.array([left[0], centre[1] + (left[0] - centre[0]) * slope])
    belt_right = np.array([right[0], centre[1] + (right[0] - centre[0]) * slope])
    assert evidence.tilt_deg == pytest.approx(hip_tilt_deg(belt_left, belt_right), abs=0.6)
    assert evidence.coherence > 0.8
    assert evidence.span > 0.9  # a line right across the window


def test_a_plain_picture_has_nothing_to_say_and_a_window_off_the_frame_is_none():
    flat = np.full((480, 640, 3), 90, np.uint8)
    assert read_belt_line(flat, np.array([370.0, 240.0]), np.array([270.0, 240.0])) is None
    assert read_belt_line(_picture(4.0), np.array([900.0, 240.0]), np.array([800.0, 240.0])) is None


def test_edges_steeper_than_a_belt_do_not_count():
    """A vertical edge (an arm's side, a leg) through the window leaves the belt line's reading alone."""
    picture = _picture(5.0)
    with_arm = picture.copy()
    with_arm[:, 330:] = (with_arm[:, 330:] * 0.5).astype(np.uint8)  # a dark sleeve down the right
    left, right = np.array([370.0, 240.0]), np.array([270.0, 240.0])
    plain, armed = read_belt_line(picture, left, right), read_belt_line(with_arm, left, right)
    assert plain is not None and armed is not None
    assert armed.tilt_deg == pytest.approx(plain.tilt_deg, abs=1.5)


def test_the_probe_scores_the_share_of_a_change_read():
    from conftest import load_script

    probe = load_script("belt-probe.py")
    figures = probe.slope_and_error([2.0, -4.0, 8.0], [1.0, -2.0, 4.0])
    assert figures == {"n": 3, "slope": 0.5, "mean": pytest.approx((1 + 2 + 4) / 3, abs=0.01)}
    assert probe.slope_and_error([], [])["slope"] is None


@pytest.mark.parametrize("hip_error_deg", [-6.0, 0.0, 4.0])
def test_the_window_turns_with_the_hip_line_so_the_picture_reads_the_belt_whatever_the_hips_say(hip_error_deg):
    """The keypoints' line is off by `hip_error_deg`; the belt line the picture gives is not, and
    its angle against the hip line makes up the difference."""
    centre = np.array([320.0, 240.0])
    along = 50.0 * np.array([math.cos(math.radians(hip_error_deg)), math.sin(math.radians(hip_error_deg))])
    left, right = centre + along, centre - along  # facing the camera: the left hip on the image's right
    evidence = read_belt_line(_picture(5.0), left, right)
    assert evidence is not None
    assert evidence.tilt_deg == pytest.approx(5.0, abs=0.6)
    assert evidence.relative_deg == pytest.approx(evidence.tilt_deg - hip_tilt_deg(left, right), abs=1e-9)


def test_a_far_person_and_a_near_one_are_read_alike():
    """The window is scaled to a fixed hip width: the same belt at half the size reads the same
    angle, and its edge energy is of the same order (so one threshold serves both)."""
    near = _picture(-4.0, blur=2.0)
    far = cv2.resize(near, (320, 240), interpolation=cv2.INTER_AREA)
    near_read = read_belt_line(near, np.array([370.0, 240.0]), np.array([270.0, 240.0]))
    far_read = read_belt_line(far, np.array([185.0, 120.0]), np.array([135.0, 120.0]))
    assert near_read is not None and far_read is not None
    assert far_read.tilt_deg == pytest.approx(near_read.tilt_deg, abs=0.6)
    assert 0.5 < far_read.edge_energy / near_read.edge_energy < 2.0


def test_a_mirrored_frame_reads_the_opposite_tilt_exactly():
    """Mirror averaging gives exactly opposite tilts for a frame and its mirror; the belt window
    keeps that (the hips' midpoint between the window's middle columns, keypoints continuous)."""
    picture = _picture(5.0)
    picture[200:220, 300:330] = (200, 40, 40)  # something off the middle, so the window is not symmetric
    left, right = np.array([371.3, 243.2]), np.array([268.9, 236.7])
    width = picture.shape[1]
    mirrored = np.ascontiguousarray(picture[:, ::-1])
    # in the mirror the person's left hip is where the right one was, mirrored (the model's labels)
    mirror_left, mirror_right = (np.array([width - p[0], p[1]]) for p in (right, left))
    plain, flipped = read_belt_line(picture, left, right), read_belt_line(mirrored, mirror_left, mirror_right)
    assert plain is not None and flipped is not None
    assert flipped.tilt_deg == pytest.approx(-plain.tilt_deg, abs=1e-5)
    assert flipped.span == pytest.approx(plain.span, abs=1e-6)
    assert flipped.edge_energy == pytest.approx(plain.edge_energy, rel=1e-5)


def _forearm(picture: np.ndarray, start, end, thickness: int = 14, colour=(225, 180, 160)) -> np.ndarray:
    """A bare forearm drawn over the picture from `start` to `end` (frame pixels)."""
    armed = picture.copy()
    cv2.line(armed, tuple(int(v) for v in start), tuple(int(v) for v in end), colour, thickness, cv2.LINE_AA)
    return armed


def test_a_forearm_across_the_window_is_left_out_when_the_arms_are_given():
    """A forearm laid across the belly, 15° off the belt, pulls a reading of the whole window;
    with the arm's bones given, the edges along it do not count and the belt is read."""
    left, right = np.array([370.0, 240.0]), np.array([270.0, 240.0])
    start, end = np.array([260.0, 225.0]), np.array([380.0, 193.0])  # about -15°, above the belt
    armed = _forearm(_picture(5.0), start, end)
    plain = read_belt_line(_picture(5.0), left, right)
    pulled = read_belt_line(armed, left, right)
    cleared = read_belt_line(armed, left, right, np.array([[start, end]]), (10.0, 20.0))
    assert plain is not None and pulled is not None and cleared is not None
    assert abs(pulled.tilt_deg - plain.tilt_deg) > 2.0
    assert cleared.tilt_deg == pytest.approx(plain.tilt_deg, abs=0.6)
    # the belt runs on behind the arm: measured against what the arm leaves of the window, it
    # still spans it
    assert cleared.span > 0.9


def test_a_small_bright_patch_does_not_outweigh_a_long_faint_belt():
    """A hand (skin on a dark shirt) in a corner of the window, beside a belt of modest contrast
    across it: each edge pixel votes by its gradient's magnitude, so the belt's length wins."""
    height, width = 480, 640
    ys, xs = np.mgrid[0:height, 0:width]
    below = ys > 240 + (xs - 320) * math.tan(math.radians(4.0))
    picture = np.where(below[..., None], np.uint8(90), np.uint8(40)).repeat(3, axis=2).astype(np.uint8)
    cv2.ellipse(picture, (352, 212), (5, 4), -30, 0, 360, (230, 190, 170), -1, cv2.LINE_AA)
    picture = cv2.GaussianBlur(picture, (0, 0), 1.2)
    evidence = read_belt_line(picture, np.array([370.0, 240.0]), np.array([270.0, 240.0]))
    assert evidence is not None
    # votes by the squared magnitude (the textbook tensor) read 1.5° here, 2.5° off the belt
    assert evidence.tilt_deg == pytest.approx(4.0, abs=1.5)
    # ...but the patch carries most of the window's edge energy in a few columns: the fusion takes
    # such a reading with little or no weight (kiosk.body.tracker.span_trust), the cautious side
    assert evidence.span < 0.75


def test_a_hand_on_plain_cloth_is_a_spot_not_a_line_across_the_window():
    """A hand (skin on a dark suit) at the window's top with no belt line: its edges are strong
    enough to pass the energy threshold, but they run across under half of the window, where a belt
    runs right across it (kiosk.body.tracker.span_trust gives it no weight)."""
    from kiosk.body.tracker import SPAN_TRUST

    picture = np.full((480, 640, 3), 30, np.uint8)
    cv2.ellipse(picture, (340, 200), (9, 6), -20, 0, 360, (225, 185, 165), -1, cv2.LINE_AA)
    picture = cv2.GaussianBlur(picture, (0, 0), 1.2)
    noise = np.random.default_rng(5).normal(0, 1.5, picture.shape)
    picture = np.clip(picture + noise, 0, 255).astype(np.uint8)
    left, right = np.array([370.0, 240.0]), np.array([270.0, 240.0])
    spot = read_belt_line(picture, left, right)
    belt = read_belt_line(_picture(4.0), left, right)
    assert spot is not None and belt is not None
    assert spot.edge_energy > 530.0  # the shipped belt_picture_min_energy lets it through
    assert spot.span < SPAN_TRUST[0] < SPAN_TRUST[1] < belt.span


def test_the_kiosk_leaves_out_the_edges_along_the_persons_own_arms():
    """with_picture hands the pose's arm bones to the reading: a forearm across the window moves
    the fused evidence no more than a degree."""
    from kiosk.body.belt import with_picture
    from kiosk.body.pelvis import read_pelvis
    from kiosk.core.types import Keypoint, Pose
    from kiosk.settings.config import PelvisConfig

    xy = np.zeros((17, 2), np.float32)
    xy[Keypoint.LEFT_HIP], xy[Keypoint.RIGHT_HIP] = (370, 240), (270, 240)
    xy[Keypoint.LEFT_SHOULDER], xy[Keypoint.RIGHT_SHOULDER] = (380, 80), (260, 80)
    xy[Keypoint.NOSE] = (320, 40)
    xy[Keypoint.LEFT_KNEE], xy[Keypoint.RIGHT_KNEE] = (365, 360), (275, 360)
    xy[Keypoint.LEFT_ANKLE], xy[Keypoint.RIGHT_ANKLE] = (365, 470), (275, 470)
    xy[Keypoint.RIGHT_ELBOW], xy[Keypoint.RIGHT_WRIST] = (250, 170), (330, 210)  # across the belly
    xy[Keypoint.LEFT_ELBOW], xy[Keypoint.LEFT_WRIST] = (395, 170), (400, 250)  # hanging, outside
    pose = Pose(xy, np.full(17, 0.9, np.float32), 640, 480)
    settings = PelvisConfig(min_hip_width_ratio=0.1, min_shoulder_width_ratio=0.1)
    picture = _picture(5.0)
    forearm_end = xy[Keypoint.RIGHT_WRIST] + 0.35 * (xy[Keypoint.RIGHT_WRIST] - xy[Keypoint.RIGHT_ELBOW])
    armed = _forearm(picture, xy[Keypoint.RIGHT_ELBOW], forearm_end, thickness=16)
    reading = read_pelvis(pose, settings)
    plain, fused = with_picture(reading, pose, picture, settings), with_picture(reading, pose, armed, settings)
    blind = read_belt_line(armed, reading.left_hip_px, reading.right_hip_px)
    assert plain.picture is not None and fused.picture is not None and blind is not None
    assert fused.picture.tilt_deg == pytest.approx(plain.picture.tilt_deg, abs=1.0)
    assert abs(blind.tilt_deg - plain.picture.tilt_deg) > 2.0


def test_a_mirrored_frame_with_its_mirrored_arms_reads_the_opposite_tilt_exactly():
    """The arms are cleared in the window's own pixels, so a mirrored frame with the mirrored arm
    bones still gives exactly the opposite reading."""
    left, right = np.array([371.3, 243.2]), np.array([268.9, 236.7])
    start, end = np.array([262.4, 221.7]), np.array([351.2, 198.3])
    picture = _forearm(_picture(5.0), start, end)
    width = picture.shape[1]
    mirrored = np.ascontiguousarray(picture[:, ::-1])
    mirror_left, mirror_right = (np.array([width - p[0], p[1]]) for p in (right, left))
    arms = np.array([[start, end]])
    mirror_arms = arms.copy()
    mirror_arms[..., 0] = width - mirror_arms[..., 0]
    plain = read_belt_line(picture, left, right, arms, (9.0, 18.0))
    flipped = read_belt_line(mirrored, mirror_left, mirror_right, mirror_arms, (9.0, 18.0))
    assert plain is not None and flipped is not None
    assert flipped.tilt_deg == pytest.approx(-plain.tilt_deg, abs=1e-5)
    assert flipped.span == pytest.approx(plain.span, abs=1e-6)
