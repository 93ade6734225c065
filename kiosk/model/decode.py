"""Keypoints from MoveNet's own heatmap and offset field, finer than its final output (pure numpy).

Every cell near a keypoint's peak votes for where the keypoint is: its own position plus its
offset vector.  The model's output is one vote, the chosen cell's, re-quantized; the votes of the
neighbouring cells carry independent quantization errors, so their average, weighted by how
sure the heatmap is at each cell, is finer.  Vectorised over keypoints, no per-pixel Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kiosk.core.types import FloatArray


@dataclass(frozen=True)
class VoteDecoder:
    """How the votes around the model's chosen cell are combined."""

    radius: int = 2
    """Cells on each side of the chosen one: 2 is a 5×5 window, 1 a 3×3 one.  Each vote is the
    cell plus its whole offset (the model's own way), weighted by the heatmap (docs/decisions.md:
    squared or softmax weights, and part of the offset, measured worse)."""
    _dy: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)
    _dx: npt.NDArray[np.int64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        steps = np.arange(-self.radius, self.radius + 1)
        dy, dx = np.meshgrid(steps, steps, indexing="ij")
        object.__setattr__(self, "_dy", dy.ravel())
        object.__setattr__(self, "_dx", dx.ravel())

    def decode(self, heatmap: npt.NDArray[np.generic], offsets: npt.NDArray[np.generic],
               cells: npt.NDArray[np.integer], heatmap_scale: tuple[float, int] = (1.0, 0),
               offsets_scale: tuple[float, int] = (1.0, 0)) -> FloatArray:
        """(K, 2) y, x of each keypoint in cells (divide by the grid for the 0..1 of the input square).

        `heatmap` (G, G, K) in 0..1, `offsets` (G, G, 2K) in cells (2k: y, 2k + 1: x), `cells` (K,)
        the flat index of the model's chosen cell per keypoint.  Quantized tensors come with their
        (scale, zero point); only the cells in the windows are dequantized."""
        grid = heatmap.shape[0]
        keypoints = heatmap.shape[2]
        row, col = np.divmod(cells.astype(np.int64), grid)
        rows = row[:, None] + self._dy[None, :]
        cols = col[:, None] + self._dx[None, :]
        inside = (rows >= 0) & (rows < grid) & (cols >= 0) & (cols < grid)
        rows_c = np.clip(rows, 0, grid - 1)
        cols_c = np.clip(cols, 0, grid - 1)
        k = np.arange(keypoints)[:, None]
        heat = dequantize(heatmap[rows_c, cols_c, k], heatmap_scale)
        vote_y = rows_c + dequantize(offsets[rows_c, cols_c, 2 * k], offsets_scale)
        vote_x = cols_c + dequantize(offsets[rows_c, cols_c, 2 * k + 1], offsets_scale)
        weights = np.where(inside, heat, 0.0)
        total = weights.sum(axis=1)
        centre = self.radius * (2 * self.radius + 1) + self.radius  # the chosen cell's own vote
        safe = total > 0
        out = np.empty((keypoints, 2), dtype=np.float64)
        out[:, 0] = np.where(safe, (weights * vote_y).sum(axis=1) / np.where(safe, total, 1.0), vote_y[:, centre])
        out[:, 1] = np.where(safe, (weights * vote_x).sum(axis=1) / np.where(safe, total, 1.0), vote_x[:, centre])
        return out


def dequantize(values: npt.NDArray[np.generic], quantization: tuple[float, int]) -> FloatArray:
    """Real values of a quantized tensor (or a part of one) from its (scale, zero point)."""
    scale, zero_point = quantization
    return (values.astype(np.float64) - zero_point) * scale
