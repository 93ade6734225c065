"""The belt line read from the picture around the hips, not from the pose.

Both pose models place the hips from the whole body's configuration, so a pelvis that tilts
under a steady trunk with planted feet is mostly invisible to them (the `pelvis` family of
scripts/peers.py: MoveNet reads a fifth of it).  The picture often shows the belt line itself:
a waistband, a belt, the hem of a top.  This module reads the dominant orientation of the
near-horizontal structure in a small window inside the person, between the hips and a little
above them, with a structure tensor (OpenCV's Sobel, sums in numpy: no per-pixel Python).

It is measured, not yet fused into the ruler: `scripts/belt-probe.py` reads it on the side-by-side
harness's cases.  Geometry only: it takes the frame's pixels and the hips found in them and
returns numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.geometry import facing_sign
from kiosk.types import Image

WINDOW_HALF_WIDTH = 0.4
"""The window reaches this many hip widths either side of the hips' midpoint: inside the person,
so that the silhouette's sides and the background stay out of it."""
WINDOW_ABOVE = 0.6
WINDOW_BELOW = 0.3
"""...and this many hip widths above and below the hip line (the belt sits above the hip joints)."""
MAX_EDGE_SLOPE_DEG = 35.0
"""Only edges within this angle of horizontal count: the belt line, not the legs or the arms."""
MIN_WINDOW_PX = 6
EDGE_OVER_NOISE = 4.0
"""An edge counts when its gradient is this many times the window's median gradient (the noise)."""


@dataclass(frozen=True, slots=True)
class BeltEvidence:
    """The belt line the picture shows around the hips."""

    tilt_deg: float
    """In the ruler's sign (kiosk.geometry.hip_tilt_deg): positive when the person's left side is lower."""
    coherence: float
    """0..1: how much the near-horizontal edges agree on one direction."""
    edge_energy: float
    """Mean squared gradient of those edges per window pixel, in grey levels² (the picture's say)."""
    window_px: tuple[int, int, int, int]
    """(left, top, right, bottom) of the window read, in frame pixels."""


def belt_window(left_hip_px: np.ndarray, right_hip_px: np.ndarray, width_px: int,
                height_px: int) -> tuple[int, int, int, int] | None:
    """The window inside the person where the belt line is looked for (None when too small or
    outside the frame)."""
    centre = (left_hip_px + right_hip_px) / 2
    hip_width = float(np.hypot(*(left_hip_px - right_hip_px)))
    left = max(0, round(centre[0] - WINDOW_HALF_WIDTH * hip_width))
    right = min(width_px, round(centre[0] + WINDOW_HALF_WIDTH * hip_width))
    top = max(0, round(centre[1] - WINDOW_ABOVE * hip_width))
    bottom = min(height_px, round(centre[1] + WINDOW_BELOW * hip_width))
    if right - left < MIN_WINDOW_PX or bottom - top < MIN_WINDOW_PX:
        return None
    return left, top, right, bottom


def read_belt_line(image: Image, left_hip_px: np.ndarray, right_hip_px: np.ndarray) -> BeltEvidence | None:
    """The belt line in an RGB (or grey) frame around these hips; None without a window or edges."""
    height, width = image.shape[:2]
    window = belt_window(left_hip_px, right_hip_px, width, height)
    if window is None:
        return None
    left, top, right, bottom = window
    # one pixel more on each side, where the frame has it: Sobel's reflected border would bend an
    # edge that leaves the window at a slant
    x0, y0, x1, y1 = max(0, left - 1), max(0, top - 1), min(width, right + 1), min(height, bottom + 1)
    patch = image[y0:y1, x0:x1]
    grey = (cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY) if patch.ndim == 3 else patch).astype(np.float32)
    inner = (slice(top - y0, top - y0 + bottom - top), slice(left - x0, left - x0 + right - left))
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=-1)[inner]  # Scharr: truer directions
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=-1)[inner]
    # a near-horizontal edge has a near-vertical gradient; the sensor's noise, everywhere in the
    # window, would pull the direction toward the mask's middle, so only edges well above it count
    magnitude2 = gx * gx + gy * gy
    strong = magnitude2 > EDGE_OVER_NOISE**2 * float(np.median(magnitude2))
    keep = strong & (np.abs(gx) < math.tan(math.radians(MAX_EDGE_SLOPE_DEG)) * np.abs(gy))
    jxx = float(np.square(gx[keep]).sum())
    jyy = float(np.square(gy[keep]).sum())
    jxy = float((gx[keep] * gy[keep]).sum())
    total = jxx + jyy
    if total <= 0.0:
        return None
    gradient_deg = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))
    edge_deg = gradient_deg - 90.0 if gradient_deg > 0 else gradient_deg + 90.0  # image y down
    coherence = math.hypot(jxx - jyy, 2 * jxy) / total
    # from the right hip toward the left one the line drops by tan(edge) per pixel of image x in
    # the direction the left hip lies: the ruler's sign is the edge's, times the facing
    tilt = facing_sign(left_hip_px, right_hip_px) * edge_deg
    return BeltEvidence(tilt, coherence, total / gx.size, window)
