"""The belt line read from the picture around the hips.

Both pose models place the hips from the whole body's configuration, so a pelvis that tilts
under a steady trunk with planted feet is mostly invisible to them (the `pelvis` family of
scripts/peers.py: MoveNet reads a fifth of it).  The picture often shows the belt line itself:
a waistband, a belt, the hem of a top.

`read_belt_line` cuts a window along the hip joints' line (turned with it, scaled to a fixed hip
width, so a near and a far person cost the same), and reads the dominant orientation of its
near-horizontal edges with a structure tensor: OpenCV's warp and Scharr, sums in numpy, no
per-pixel Python.  Because the window turns with the hips, the picture gives the belt's angle
*against the hip line*; a whole-body turn moves both alike.

kiosk.body.tracker.BeltFusion folds that into the tilt the tracker smooths (`pelvis.belt_picture`).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import cv2
import numpy as np

from kiosk.core.geometry import facing_sign, hip_tilt_deg
from kiosk.core.types import BeltEvidence, FloatArray, Image, Keypoint, NoVerdict, PelvisReading, Pose
from kiosk.settings.config import BeltPicture, PelvisConfig

WINDOW_HALF_WIDTH = 0.4
"""The window reaches this many hip widths either side of the hips' midpoint, along the hip line:
inside the person, so that the silhouette's sides and the background stay out of it."""
WINDOW_ABOVE = 0.7
WINDOW_BELOW = 0.6
"""...and this many hip widths above and below the hip line: a belt sits above the hip joints, the
hem of a top or a waistband often below them."""
WINDOW_HIP_PX = 64
"""The window is scaled so that the hip width is this many pixels: the same cost and the same
edge scale for every person (a small far person is enlarged, a near one reduced)."""
MIN_HIP_WIDTH_PX = 6.0
FLAT_EDGE_DEG = 25.0
STEEP_EDGE_DEG = 45.0
"""Edges within FLAT_EDGE_DEG of the hip line count fully, easing to nothing at STEEP_EDGE_DEG:
the belt line, not the legs or the arms."""
EDGE_OVER_NOISE = 4.0
"""An edge counts fully from this many times the window's median gradient (the noise), easing in
from half of that."""
ARMS = ((Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST),
        (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST))
HAND_REACH = 0.35
"""The hand reaches past the wrist by this share of the forearm's length."""
ARM_CLEAR_TORSO = (0.1, 0.2)
"""No edge counts within the first of these many torso lengths of an arm's bone line (elbow to
hand, shoulder to elbow), easing in to full weight at the second: an arm and its sleeve are about
a fifth of a torso length across, and the keypoints are off by some centimetres.  A forearm laid
across the belly, or a hand swinging past the hips, is not the belt line."""


def _effective_share(profile: np.ndarray) -> float:
    """The participation ratio of a non-negative profile: the share of its entries that carry it
    (1 for a flat one, 1/n for a single entry)."""
    total = float(profile.sum())
    return total * total / (len(profile) * float((profile * profile).sum())) if total > 0 else 0.0


@functools.cache
def _full_line_share(shape: tuple[int, int]) -> float:
    """_effective_share of a line of even contrast right across a window of this shape (its
    columns weighted by the taper alone)."""
    return _effective_share(_taper(shape).sum(axis=0))


@functools.cache
def _taper(shape: tuple[int, int]) -> np.ndarray:
    """A smooth window over the gradients (the square root of a Hann window each way)."""
    rows, columns = shape
    return np.sqrt(np.outer(np.hanning(rows + 2)[1:-1], np.hanning(columns + 2)[1:-1])).astype(np.float32)


def _window_transform(left_hip_px: np.ndarray, right_hip_px: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """The affine map from window pixels to frame pixels (2×3), and the window's width and height.

    The window's x runs along the hip line toward the image's right (whichever hip is there), its
    y perpendicular to it, downward."""
    along = facing_sign(left_hip_px, right_hip_px) * (left_hip_px - right_hip_px)
    hip_width = float(np.hypot(*along))
    if hip_width < MIN_HIP_WIDTH_PX:
        return None
    u = along / hip_width
    n = np.array([-u[1], u[0]])
    scale = hip_width / WINDOW_HIP_PX  # frame pixels per window pixel
    width = round(2 * WINDOW_HALF_WIDTH * WINDOW_HIP_PX) + 2  # a pixel of margin each side for the gradients
    height = round((WINDOW_ABOVE + WINDOW_BELOW) * WINDOW_HIP_PX) + 2
    # the hips' midpoint lands between the window's middle columns, so that a mirrored frame gives
    # exactly the mirrored window; keypoints are continuous (a pixel spans [i, i + 1]), OpenCV's
    # pixel i sits at i
    centre = (left_hip_px + right_hip_px) / 2 - 0.5
    origin = centre - scale * ((width - 1) / 2 * u + (WINDOW_ABOVE * WINDOW_HIP_PX + 1) * n)
    return np.column_stack([scale * u, scale * n, origin]), width, height


def arm_segments_px(pose: Pose) -> FloatArray:
    """(4, 2, 2): each arm's bones as segments in frame pixels, shoulder to elbow and elbow to the
    hand (past the wrist)."""
    segments = []
    for shoulder, elbow, wrist in ARMS:
        elbow_px, wrist_px = pose.xy(elbow), pose.xy(wrist)
        segments.append((pose.xy(shoulder), elbow_px))
        segments.append((elbow_px, wrist_px + HAND_REACH * (wrist_px - elbow_px)))
    return np.asarray(segments, np.float64)


@functools.cache
def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The window coordinates of the gradients' pixels (they start one pixel in)."""
    rows, columns = shape
    return np.meshgrid(np.arange(1, columns + 1, dtype=np.float32), np.arange(1, rows + 1, dtype=np.float32))


def _clear_of(segments_px: np.ndarray, transform: np.ndarray, shape: tuple[int, int],
              clear_px: tuple[float, float]) -> np.ndarray | None:
    """0..1 per gradient pixel: 0 within clear_px[0] frame pixels of any segment, 1 beyond
    clear_px[1], easing between; None when no segment comes near the window."""
    scale = float(np.hypot(*transform[:, 0]))
    inverse = cv2.invertAffineTransform(transform)
    # keypoints are continuous (a pixel spans [i, i + 1]), the window's map is OpenCV's (pixel i
    # sits at i), as in _window_transform: so that a mirrored frame clears the mirrored window
    ends = (segments_px - 0.5) @ inverse[:, :2].T + inverse[:, 2]  # (k, 2, 2) in window pixels
    inner, outer = clear_px[0] / scale, clear_px[1] / scale
    rows, columns = shape
    x, y = _grid(shape)
    nearest2 = np.full(shape, np.inf, np.float32)
    near = False
    for (ax, ay), (bx, by) in ends:
        if (max(ax, bx) < 1 - outer or min(ax, bx) > columns + outer or max(ay, by) < 1 - outer
                or min(ay, by) > rows + outer):
            continue  # nowhere near the window (an arm hanging at the side): nothing to clear
        near = True
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        along = np.clip(((x - ax) * dx + (y - ay) * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
        np.minimum(nearest2, (x - ax - along * dx) ** 2 + (y - ay - along * dy) ** 2, out=nearest2)
    if not near:
        return None
    clear: np.ndarray = np.clip((np.sqrt(nearest2) - inner) / max(outer - inner, 1e-6), 0.0, 1.0)
    return clear


def read_belt_line(image: Image, left_hip_px: np.ndarray, right_hip_px: np.ndarray,
                   arms_px: np.ndarray | None = None, arm_clear_px: tuple[float, float] = (0.0, 0.0)
                   ) -> BeltEvidence | None:
    """The belt line in an RGB (or grey) frame around these hips; None when the hips are too close
    together, the window leaves the frame, or it holds no clear near-horizontal edge.

    `arms_px` (k, 2, 2): segments in frame pixels whose edges do not count, within `arm_clear_px`
    (none within the first distance, fully from the second)."""
    window = _window_transform(left_hip_px, right_hip_px)
    if window is None:
        return None
    transform, width, height = window
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64) @ transform.T
    frame_height, frame_width = image.shape[:2]
    if corners[:, 0].min() < 0 or corners[:, 1].min() < 0 or corners[:, 0].max() > frame_width - 1 \
            or corners[:, 1].max() > frame_height - 1:
        return None
    patch = cv2.warpAffine(image, transform, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    grey = (cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY) if patch.ndim == 3 else patch).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=-1)[1:-1, 1:-1]  # Scharr: truer directions
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=-1)[1:-1, 1:-1]
    # Every weight eases in and out, so that an edge entering the window, crossing the noise
    # level or turning past the cut-off moves the reading a little, not by a jump (a still person's
    # reading would flicker with the hips' own jitter): a taper across the window, the strength
    # over the sensor's noise (which would pull the direction toward the mask's middle), and the
    # edge's slope against the hip line.
    magnitude2 = gx * gx + gy * gy
    strength = np.clip(magnitude2 / (EDGE_OVER_NOISE**2 * max(float(np.median(magnitude2)), 1e-6)) - 0.5, 0.0, 1.0)
    slope_deg = np.degrees(np.arctan2(np.abs(gx), np.abs(gy)))
    flatness = np.clip((STEEP_EDGE_DEG - slope_deg) / (STEEP_EDGE_DEG - FLAT_EDGE_DEG), 0.0, 1.0)
    weight = strength * flatness * _taper(gx.shape)
    full_line = _full_line_share(gx.shape)
    if arms_px is not None and (clear := _clear_of(arms_px, transform, gx.shape, arm_clear_px)) is not None:
        weight *= clear
        # a belt runs on behind an arm: against a line across what the arms leave of the window
        full_line = _effective_share((clear * _taper(gx.shape)).sum(axis=0))
    counted = weight * magnitude2
    energy = float(counted.sum()) / gx.size
    span = min(_effective_share(counted.sum(axis=0)) / max(full_line, 1e-6), 1.0)
    # Each edge pixel votes for its direction by its gradient's magnitude, not its square (the
    # textbook structure tensor): a belt or a hem of modest contrast across the whole window then
    # outweighs a small bright patch (a hand, a buckle's glint) beside it.
    vote = weight / np.sqrt(np.maximum(magnitude2, 1e-12))
    jxx = float((vote * gx * gx).sum())
    jyy = float((vote * gy * gy).sum())
    jxy = float((vote * gx * gy).sum())
    total = jxx + jyy
    if total <= 0.0:
        return None
    gradient_deg = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))
    edge_deg = gradient_deg - 90.0 if gradient_deg > 0 else gradient_deg + 90.0  # window y down
    # the window's x runs toward the image's right along the hip line: an edge that drops toward
    # the left hip is a positive tilt facing the camera (left hip on the right), negative from behind
    relative = facing_sign(left_hip_px, right_hip_px) * edge_deg
    keypoints = hip_tilt_deg(left_hip_px, right_hip_px)
    return BeltEvidence(keypoints + relative, relative, math.hypot(jxx - jyy, 2 * jxy) / total, energy, span)


def with_picture(reading: PelvisReading | NoVerdict, pose: Pose, image: Image,
                 settings: PelvisConfig) -> PelvisReading | NoVerdict:
    """The reading of `pose` with the picture's belt line around its hips, when
    `pelvis.belt_picture` asks for it and the window's edges are clear (`belt_picture_min_energy`:
    not a plain bodysuit), leaving out the edges along the arms."""
    if settings.belt_picture is BeltPicture.OFF or isinstance(reading, NoVerdict):
        return reading
    torso_px = pose.torso_length_px
    evidence = read_belt_line(image, reading.left_hip_px, reading.right_hip_px, arm_segments_px(pose),
                              (ARM_CLEAR_TORSO[0] * torso_px, ARM_CLEAR_TORSO[1] * torso_px))
    if evidence is None or evidence.edge_energy < settings.belt_picture_min_energy:
        return reading
    return dataclasses.replace(reading, picture=evidence)
