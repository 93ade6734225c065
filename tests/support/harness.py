"""The accuracy harness: frames whose true pelvic tilt is known because we made them.

Truth comes from outside any model: the official ground-truth keypoints of two real photos,
carried through an exact geometric transform.  A photo is rotated by a known angle about its
pelvis, scaled and placed in a 1280x720 frame (near the camera, or far down a hallway), and
optionally mirrored (the true tilt then flips sign exactly).  Sequences move the angle like a
gait (drops of 4-8 degrees alternating sides about once a second, with level stretches) while the
person grows as if walking toward the camera, or hold it still for a standing stretch.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.core.geometry import hip_tilt_deg
from kiosk.core.types import Frame, Keypoint
from kiosk.model.pose import MIRROR_ORDER

FRAME_W, FRAME_H = 1280, 720
BACKGROUND = 96  # a mid-grey wall


@dataclass(frozen=True, slots=True)
class TruthPhoto:
    name: str
    image: np.ndarray
    """(H, W, 3) uint8 RGB."""
    keypoints_px: np.ndarray
    """(17, 2) official ground truth, x, y in the photo's pixels."""


def load_truth_photos(data_dir: Path) -> list[TruthPhoto]:
    """tfex_image1.png and tfex_image2.jpeg with the official keypoints (rows 0 and 1 of the CSV)."""
    with open(data_dir / "tfex_pose_landmark_truth.csv", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    photos = []
    for name, row in zip(("tfex_image1.png", "tfex_image2.jpeg"), rows[:2], strict=True):
        bgr = cv2.imread(str(data_dir / name))
        if bgr is None:
            raise FileNotFoundError(data_dir / name)
        photos.append(TruthPhoto(name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.array(row, float).reshape(17, 2)))
    return photos


@dataclass(frozen=True, slots=True)
class Placement:
    """How a photo is put into the frame: rotated about the pelvis, scaled, centred at a point."""

    angle_deg: float
    """Counter-clockwise on screen, as cv2.getRotationMatrix2D takes it."""
    person_height_frac: float
    """The person's height (top keypoint to lowest ankle) as a fraction of the frame height."""
    center_x_frac: float = 0.5
    """Where the pelvis lands, as a fraction of the frame width."""
    mirrored: bool = False


def render(photo: TruthPhoto, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    """A 1280x720 RGB frame and the true (17, 2) keypoints in it (labels swapped when mirrored)."""
    keypoints = photo.keypoints_px
    pelvis = (keypoints[Keypoint.LEFT_HIP] + keypoints[Keypoint.RIGHT_HIP]) / 2
    person_h = keypoints[:, 1].max() - keypoints[:, 1].min()
    scale = placement.person_height_frac * FRAME_H / person_h
    matrix = cv2.getRotationMatrix2D((float(pelvis[0]), float(pelvis[1])), placement.angle_deg, scale)
    # Put the pelvis at the chosen spot, 55 % down the frame (a standing person's hips).
    target = np.array([placement.center_x_frac * FRAME_W, 0.55 * FRAME_H])
    matrix[:, 2] += target - pelvis
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    frame = cv2.warpAffine(photo.image, matrix, (FRAME_W, FRAME_H), flags=interpolation,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(BACKGROUND,) * 3)
    # The photo's own rectangle stays visible, as a picture on a wall would; everything else is wall.
    truth = np.hstack([keypoints, np.ones((17, 1))]) @ matrix.T
    if placement.mirrored:
        frame = np.ascontiguousarray(frame[:, ::-1])
        truth = truth.copy()
        truth[:, 0] = FRAME_W - truth[:, 0]
        truth = truth[MIRROR_ORDER]
    return frame, truth


def true_tilt_deg(truth: np.ndarray) -> float:
    return hip_tilt_deg(truth[Keypoint.LEFT_HIP], truth[Keypoint.RIGHT_HIP])


def gait_angle_deg(t_s: float) -> float:
    """A gait-like pelvic drop: about one step a second, drops of 4-8 degrees alternating sides,
    with a level stretch after every fourth step.  Returned as the rotation to apply."""
    step = int(t_s)
    phase = t_s - step
    if step % 5 == 4:
        return 0.0  # a level stretch
    depth = (4.0, 8.0, 6.0, 5.0)[step % 4]
    side = 1.0 if step % 2 == 0 else -1.0
    # a smooth drop and recovery within the step (stance to swing)
    return side * depth * math.sin(math.pi * phase) ** 2


@dataclass(frozen=True, slots=True)
class SequenceFrame:
    frame: Frame
    true_tilt_deg: float


def walking_sequence(photo: TruthPhoto, seconds: float = 10.0, fps: float = 30.0) -> Iterator[SequenceFrame]:
    """The gait profile while the person grows from 30 % to 90 % of the frame height."""
    count = int(seconds * fps)
    for index in range(count):
        t = index / fps
        placement = Placement(gait_angle_deg(t), 0.3 + 0.6 * index / max(count - 1, 1), 0.5)
        image, truth = render(photo, placement)
        yield SequenceFrame(Frame(image, index, t), true_tilt_deg(truth))


def standing_sequence(photo: TruthPhoto, seconds: float = 10.0, fps: float = 30.0,
                      height_frac: float = 0.6) -> Iterator[SequenceFrame]:
    """Standing still: the same frame over and over, with a little sensor noise as a camera has."""
    image, truth = render(photo, Placement(0.0, height_frac))
    rng = np.random.default_rng(7)
    for index in range(int(seconds * fps)):
        noise = rng.normal(0.0, 2.0, image.shape)
        noisy = np.clip(image + noise, 0, 255).astype(np.uint8)
        yield SequenceFrame(Frame(noisy, index, index / fps), true_tilt_deg(truth))


PELVIS_BAND_HALF = 0.07
"""A pelvis-only tilt turns everything within this many body heights of the hip line fully..."""
PELVIS_BAND_WAIST = 0.16
PELVIS_BAND_KNEES = 0.25
"""...easing to nothing this far above (the waist) and below (the knees), so shoulders and feet stay put."""


def pelvis_band_weight(offset_px: np.ndarray, body_height_px: float) -> np.ndarray:
    """How much of the turn a row `offset_px` below the hip line gets (negative: above): 1 in the
    band, a cosine easing to 0 at the waist and at the knees, 0 beyond."""
    d = np.asarray(offset_px, dtype=np.float64) / body_height_px
    weight = np.zeros_like(d)
    inside = np.abs(d) <= PELVIS_BAND_HALF
    weight[inside] = 1.0
    for sign, edge in ((-1.0, PELVIS_BAND_WAIST), (1.0, PELVIS_BAND_KNEES)):
        easing = (sign * d > PELVIS_BAND_HALF) & (sign * d < edge)
        fraction = (sign * d[easing] - PELVIS_BAND_HALF) / (edge - PELVIS_BAND_HALF)
        weight[easing] = 0.5 * (1.0 + np.cos(math.pi * fraction))
    return weight


def turn_points(points_px: np.ndarray, centre_px: np.ndarray, angle_deg: float) -> np.ndarray:
    """Points turned about `centre_px` as cv2.getRotationMatrix2D turns a picture (counter-clockwise
    on screen for a positive angle)."""
    matrix = cv2.getRotationMatrix2D((float(centre_px[0]), float(centre_px[1])), angle_deg, 1.0)
    return np.hstack([points_px, np.ones((len(points_px), 1))]) @ matrix.T


def pelvis_band_warp(image: np.ndarray, hip_mid_px: np.ndarray, body_height_px: float,
                     angle_deg: float) -> np.ndarray:
    """The region around the hips turned about their midpoint by `angle_deg` (the hip joints by
    exactly that, with `turn_points`), while the trunk above the waist and the legs below the
    knees stay where they are: a pelvis that tilts under a steady trunk with planted feet.  The
    background is not turned apart from the person (use bases on a plain background)."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = float(hip_mid_px[0]), float(hip_mid_px[1])
    phi = np.radians(angle_deg) * pelvis_band_weight(ys - cy, body_height_px)
    cos, sin = np.cos(phi), np.sin(phi)
    # each output pixel reads its source through the inverse of its own row's turn
    map_x = cx + cos * (xs - cx) - sin * (ys - cy)
    map_y = cy + sin * (xs - cx) + cos * (ys - cy)
    return cv2.remap(image, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
