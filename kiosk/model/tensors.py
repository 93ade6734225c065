"""MoveNet's tensors on one interpreter: the input it takes and the keypoints it gives.

The keypoints come either from the model's final output (plain) or, when its graph was extended
(kiosk.model.graph), from its heatmap and offset field around the cell it chose (kiosk.model.decode).
Scores always stay as the model gives them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.core.errors import ModelError
from kiosk.core.types import KEYPOINT_COUNT, FloatArray
from kiosk.model.decode import VoteDecoder, dequantize
from kiosk.model.graph import DecoderTaps
from kiosk.model.runtime import Interpreter

OUTPUT_LIMIT = 16.0
"""MoveNet's rows are y and x in 0..1 of its input and a score in 0..1; a value beyond this (an
infinity, 1e300 from a damaged model) is no keypoint, and would become an infinite crop."""


@dataclass(frozen=True, slots=True)
class _Quantized:
    index: int
    scale: float
    zero_point: int


def _quantized(detail: dict[str, Any]) -> _Quantized:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return _Quantized(int(detail["index"]), float(scale), int(zero_point))


@dataclass(frozen=True, slots=True)
class DecoderFields:
    """What the decoder reads after one invoke, dequantized (a diagnostic: scripts/model-internals.py)."""

    heatmap: FloatArray
    """(G, G, K), 0..1."""
    offsets: FloatArray
    """(G, G, 2K), in cells: 2k is y, 2k + 1 is x."""
    cells: npt.NDArray[np.int64]
    """(K,) the flat index of the cell the model chose per keypoint."""
    plain_rows: FloatArray
    """(K, 3) the model's final output: y, x in 0..1 of the input square, score."""


class ModelTensors:
    """Set the input, invoke, read the keypoints: rows of (y, x) in 0..1 of the input square and a score."""

    def __init__(self, interpreter: Interpreter, label: str, taps: DecoderTaps | None,
                 decoder: VoteDecoder | None) -> None:
        inputs = interpreter.get_input_details()
        outputs = {int(d["index"]): d for d in interpreter.get_output_details()}
        if len(inputs) != 1:
            raise ModelError(f"{label} is not a MoveNet SinglePose model (expected one input)")
        shape = [int(v) for v in inputs[0]["shape"]]
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
            raise ModelError(f"{label} has input shape {shape}, not [1, N, N, 3]: not a MoveNet SinglePose model")
        keypoint_outputs = [d for d in outputs.values() if [int(v) for v in d["shape"]] == [1, 1, KEYPOINT_COUNT, 3]]
        if not keypoint_outputs:
            found = [[int(v) for v in d["shape"]] for d in outputs.values()]
            raise ModelError(f"{label} has output shapes {found}, not [1, 1, 17, 3]: not a MoveNet SinglePose model")
        self._interpreter = interpreter
        self.input = _quantized(inputs[0])
        self.input_size_px = shape[1]
        self.input_dtype: npt.DTypeLike = inputs[0]["dtype"]
        self._output_index = int(keypoint_outputs[0]["index"])
        self.refined = taps is not None and decoder is not None
        self._taps = taps
        self._decoder = decoder or VoteDecoder()
        if taps is not None:
            self._heatmap = _quantized(outputs[taps.heatmap_index])
            self._offsets = _quantized(outputs[taps.offsets_index])
            self._cells_view = interpreter.tensor(taps.cells_index)
            self._heatmap_view = interpreter.tensor(taps.heatmap_index)
            self._offsets_view = interpreter.tensor(taps.offsets_index)

    def run(self, tensor: npt.NDArray[np.generic]) -> tuple[FloatArray, float, float]:
        """The keypoint rows for one input, how long the invoke itself took in seconds, and this
        thread's CPU seconds meanwhile (with one interpreter thread the invoke runs in this one, so
        the difference is time spent waiting: for the GIL on the way back, or for a core)."""
        self._interpreter.set_tensor(self.input.index, tensor)
        started = time.perf_counter()
        started_cpu = time.thread_time()
        self._interpreter.invoke()
        invoke_cpu_s = time.thread_time() - started_cpu
        invoke_s = time.perf_counter() - started
        rows: FloatArray = self._interpreter.get_tensor(self._output_index)[0, 0].astype(np.float64)
        if self.refined:
            rows[:, :2] = self._refined_yx()
        if not (np.abs(rows) <= OUTPUT_LIMIT).all():  # NaN fails this too
            rows[:] = np.nan  # a broken output is NaN throughout: the pipeline skips and counts it
        return rows, invoke_s, invoke_cpu_s

    def _refined_yx(self) -> FloatArray:
        """The vote average around each chosen cell, in 0..1 of the input square."""
        assert self._taps is not None
        # Views into the interpreter's own buffers: read now, before the next invoke.
        yx: FloatArray = self._decoder.decode(
            self._heatmap_view()[0], self._offsets_view()[0], self._cells_view()[0],
            _scale(self._heatmap), _scale(self._offsets)) / self._taps.grid
        return yx

    def fields(self, tensor: npt.NDArray[np.generic]) -> DecoderFields | None:
        """Invoke on `tensor` and return the decoder's fields, or None for a model read plainly."""
        if self._taps is None:
            return None
        self._interpreter.set_tensor(self.input.index, tensor)
        self._interpreter.invoke()
        return DecoderFields(
            heatmap=dequantize(self._heatmap_view()[0], _scale(self._heatmap)),
            offsets=dequantize(self._offsets_view()[0], _scale(self._offsets)),
            cells=self._cells_view()[0].astype(np.int64).copy(),
            plain_rows=self._interpreter.get_tensor(self._output_index)[0, 0].astype(np.float64))

    def time_invokes(self, count: int) -> list[float]:
        """Seconds of each of `count` bare invokes on the current input: the model-bound pace."""
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self._interpreter.invoke()
            times.append(time.perf_counter() - started)
        return times


def _scale(quantized: _Quantized) -> tuple[float, int]:
    """(scale, zero point); a float tensor has none, so (1, 0)."""
    return (quantized.scale, quantized.zero_point) if quantized.scale else (1.0, 0)
