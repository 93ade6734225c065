"""MoveNet SinglePose on a TFLite interpreter: the only module that imports a TFLite runtime.

MoveNet's output rows are [y, x, score] normalised to the model's input square; they are
turned into source-frame pixels here, once, and nothing downstream knows the model's layout.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from kiosk.errors import ModelError
from kiosk.geometry import CropSquare, crop_square_around_person, full_frame_square
from kiosk.types import KEYPOINT_COUNT, Frame, Pose

log = logging.getLogger(__name__)

# Tried in this order for runtime = "auto".  ai-edge-litert is tflite-runtime's successor
# (same Interpreter API, numpy 2, about 10x faster here on this model).
RUNTIME_MODULES = {
    "ai_edge_litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}

# A crop is trusted for the next frame only when the torso was found at least this well.
CROP_MIN_SCORE = 0.2


class PoseModel(Protocol):
    """Finds one person's keypoints in a frame."""

    runtime_name: str
    input_size_px: int

    def estimate(self, frame: Frame) -> Pose: ...

    def forget_person(self) -> None:
        """Look at the whole frame next time (a new scene, a new clip)."""


def load_interpreter(model_path: Path, runtime: str, threads: int) -> tuple[Any, str]:
    """Build a TFLite interpreter for `model_path` with the first runtime that imports."""
    if not model_path.is_file():
        raise ModelError(f"model file {model_path} does not exist (run scripts/fetch-models or pass --model)")
    names = list(RUNTIME_MODULES) if runtime == "auto" else [runtime]
    for name in names:
        try:
            module = importlib.import_module(RUNTIME_MODULES[name])
        except ImportError:
            continue
        try:
            interpreter = module.Interpreter(model_path=str(model_path), num_threads=threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"model file {model_path} cannot be loaded by {name}: {error}") from error
        return interpreter, name
    wanted = "ai-edge-litert, tflite-runtime or tensorflow" if runtime == "auto" else runtime
    raise ModelError(f"no TFLite runtime installed ({wanted}); install one, e.g. pip install ai-edge-litert")


@dataclass(frozen=True, slots=True)
class _Tensors:
    input_index: int
    output_index: int
    size_px: int
    dtype: type
    scale: float
    zero_point: int


def _inspect_tensors(interpreter: Any, model_path: Path) -> _Tensors:
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"{model_path} is not a MoveNet SinglePose model (expected one input and one output)")
    shape = [int(v) for v in inputs[0]["shape"]]
    out_shape = [int(v) for v in outputs[0]["shape"]]
    if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
        raise ModelError(f"{model_path} has input shape {shape}, not [1, N, N, 3]: not a MoveNet SinglePose model")
    if out_shape != [1, 1, KEYPOINT_COUNT, 3]:
        raise ModelError(
            f"{model_path} has output shape {out_shape}, not [1, 1, 17, 3]: not a MoveNet SinglePose model"
        )
    scale, zero_point = inputs[0].get("quantization", (0.0, 0))
    return _Tensors(
        input_index=int(inputs[0]["index"]),
        output_index=int(outputs[0]["index"]),
        size_px=shape[1],
        dtype=inputs[0]["dtype"],
        scale=float(scale),
        zero_point=int(zero_point),
    )


@dataclass(frozen=True, slots=True)
class InputMapping:
    """Where a model-input pixel came from: frame = frame_origin + (input - input_origin) * scale."""

    frame_x0: float
    frame_y0: float
    input_u0: float
    input_v0: float
    scale_x: float
    scale_y: float

    def to_frame(self, input_xy: np.ndarray) -> np.ndarray:
        """(N, 2) x, y in model-input pixels to (N, 2) x, y in frame pixels."""
        out = np.empty(input_xy.shape, dtype=np.float64)
        out[:, 0] = self.frame_x0 + (input_xy[:, 0] - self.input_u0) * self.scale_x
        out[:, 1] = self.frame_y0 + (input_xy[:, 1] - self.input_v0) * self.scale_y
        return out


class MoveNet:
    """MoveNet SinglePose (Lightning 192 px, Thunder 256 px) with crop tracking.

    The input size and dtype are read from the model; the input buffer is allocated once and
    filled in place.  After each frame the next crop is chosen around the person just found,
    so someone far down a hallway still fills the model's input; the whole frame is used
    again when nobody was found.
    """

    def __init__(self, model_path: Path, runtime: str = "auto", threads: int = 2, crop_tracking: bool = True):
        self.model_path = model_path
        self.threads = threads
        self._interpreter, self.runtime_name = load_interpreter(model_path, runtime, threads)
        self._tensors = _inspect_tensors(self._interpreter, model_path)
        self.input_size_px = self._tensors.size_px
        self._crop_tracking = crop_tracking
        size = self.input_size_px
        self._input = np.zeros((1, size, size, 3), dtype=self._tensors.dtype)
        # A plain 0..255 uint8 input (the int8 MoveNet releases) is resized straight into the
        # input buffer; other inputs go through a byte buffer first.
        self._feeds_bytes = self._tensors.dtype == np.uint8 and self._tensors.scale == 0.0
        self._pixels = self._input[0] if self._feeds_bytes else np.zeros((size, size, 3), dtype=np.uint8)
        self._next_crop: CropSquare | None = None
        self._next_crop_frame_size: tuple[int, int] | None = None
        log.info(
            "model %s: %d px input, %s, runtime %s, %d threads",
            model_path.name,
            size,
            np.dtype(self._tensors.dtype).name,
            self.runtime_name,
            threads,
        )

    def forget_person(self) -> None:
        self._next_crop = None

    def estimate(self, frame: Frame) -> Pose:
        width, height = frame.width_px, frame.height_px
        crop = self._next_crop
        if crop is None or self._next_crop_frame_size != (width, height):
            crop = full_frame_square(width, height)
        mapping = self._fill_input(frame.image, crop)
        try:
            self._interpreter.set_tensor(self._tensors.input_index, self._input)
            self._interpreter.invoke()
            rows = self._interpreter.get_tensor(self._tensors.output_index)[0, 0]
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"the model failed on a frame: {error}") from error
        xy = mapping.to_frame(rows[:, 1::-1] * self.input_size_px).astype(np.float32)
        scores = rows[:, 2].astype(np.float32)
        if self._crop_tracking:
            self._next_crop = crop_square_around_person(xy, scores, width, height, CROP_MIN_SCORE)
            self._next_crop_frame_size = (width, height)
        return Pose(xy, scores, width, height)

    def _fill_input(self, image: np.ndarray, crop: CropSquare) -> InputMapping:
        """Resize the part of `crop` inside the frame into the input, black elsewhere.

        INTER_AREA rather than bilinear: downscaling a 720p frame to 192 px with bilinear
        aliases, and on the ground-truth photos the hips came out 2-4 quantisation steps worse.
        """
        height, width = image.shape[:2]
        size = self.input_size_px
        scale = size / crop.side_px
        x0, y0 = max(0, int(np.floor(crop.left_px))), max(0, int(np.floor(crop.top_px)))
        x1 = min(width, int(np.ceil(crop.left_px + crop.side_px)))
        y1 = min(height, int(np.ceil(crop.top_px + crop.side_px)))
        u0 = min(size - 1, max(0, round((x0 - crop.left_px) * scale)))
        v0 = min(size - 1, max(0, round((y0 - crop.top_px) * scale)))
        u1 = max(u0 + 1, min(size, round((x1 - crop.left_px) * scale)))
        v1 = max(v0 + 1, min(size, round((y1 - crop.top_px) * scale)))
        pixels = self._pixels
        pixels[:v0] = 0
        pixels[v1:] = 0
        pixels[v0:v1, :u0] = 0
        pixels[v0:v1, u1:] = 0
        cv2.resize(image[y0:y1, x0:x1], (u1 - u0, v1 - v0), dst=pixels[v0:v1, u0:u1], interpolation=cv2.INTER_AREA)
        if not self._feeds_bytes:
            if self._tensors.scale:
                np.round(pixels / self._tensors.scale + self._tensors.zero_point, out=self._input[0], casting="unsafe")
            else:
                self._input[0] = pixels
        return InputMapping(x0, y0, u0, v0, (x1 - x0) / (u1 - u0), (y1 - y0) / (v1 - v0))
