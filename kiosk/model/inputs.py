"""The model's input: a crop of a frame cut, scaled (and for an upright crop, turned) into the
model's input tensor, with the mapping back to frame pixels.  Buffers come from a small pool
allocated once; no per-pixel Python.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.core.geometry import CropSquare
from kiosk.core.types import FloatArray, Frame, Image

INPUT_BUFFERS = 12
"""Model inputs allocated at start and reused."""

Box = tuple[float, float, float, float]
"""(left, top, right, bottom) in frame pixels."""


@dataclass(frozen=True, slots=True)
class InputMapping:
    """Where a model-input pixel came from: frame = frame_origin + (input - input_origin) * scale,
    or, for a turned crop, frame = `affine` @ (u, v, 1)."""

    frame_x0: float
    frame_y0: float
    input_u0: float
    input_v0: float
    scale_x: float
    scale_y: float
    affine: tuple[float, float, float, float, float, float] | None = None
    """Row-major 2×3 frame-from-input matrix of a turned crop (None: axis-aligned)."""

    def to_input(self, frame_xy: FloatArray) -> FloatArray:
        """(N, 2) x, y in frame pixels to (N, 2) x, y in model-input pixels."""
        if self.affine is not None:
            matrix = np.array(self.affine).reshape(2, 3)
            inverse = np.linalg.inv(matrix[:, :2])
            turned: FloatArray = (frame_xy - matrix[:, 2]) @ inverse.T
            return turned
        out = np.empty(frame_xy.shape, dtype=np.float64)
        out[:, 0] = self.input_u0 + (frame_xy[:, 0] - self.frame_x0) / self.scale_x
        out[:, 1] = self.input_v0 + (frame_xy[:, 1] - self.frame_y0) / self.scale_y
        return out

    def to_frame(self, input_xy: FloatArray) -> FloatArray:
        """(N, 2) x, y in model-input pixels to (N, 2) x, y in frame pixels."""
        if self.affine is not None:
            matrix = np.array(self.affine).reshape(2, 3)
            turned: FloatArray = input_xy @ matrix[:, :2].T + matrix[:, 2]
            return turned
        out = np.empty(input_xy.shape, dtype=np.float64)
        out[:, 0] = self.frame_x0 + (input_xy[:, 0] - self.input_u0) * self.scale_x
        out[:, 1] = self.frame_y0 + (input_xy[:, 1] - self.input_v0) * self.scale_y
        return out

    def scaled(self, scale_x: float, scale_y: float) -> InputMapping:
        """The same mapping onto a frame `scale_x` × `scale_y` times the size of the one it was made on."""
        affine = None
        if self.affine is not None:
            a = self.affine
            affine = (a[0] * scale_x, a[1] * scale_x, a[2] * scale_x, a[3] * scale_y, a[4] * scale_y, a[5] * scale_y)
        return InputMapping(self.frame_x0 * scale_x, self.frame_y0 * scale_y, self.input_u0, self.input_v0,
                            self.scale_x * scale_x, self.scale_y * scale_y, affine)


@dataclass(frozen=True, slots=True)
class PreparedInput:
    """A frame cut and scaled for the model, ready to invoke; release it once invoked."""

    tensor: npt.NDArray[np.generic]
    """(1, N, N, 3) in the model's input dtype."""
    mapping: InputMapping
    frame_width_px: int
    frame_height_px: int
    preprocess_s: float
    give_back: Callable[[npt.NDArray[np.generic]], None]
    follows_person: bool = True
    """Whether the keypoints found choose the next frame's crop (False for a crop chosen by the caller)."""
    acquiring: bool = False
    """The whole frame, because nobody was being followed: people look small in it."""
    mirror_tensor: npt.NDArray[np.generic] | None = None
    """The same crop of the mirrored frame, scaled on its own (None: not asked for).  It is what the
    mirrored frame's own input would be, where a flip of `tensor` differs from it by a grey level
    here and there (the area resize's rounding is not mirror-symmetric)."""

    def release(self) -> None:
        self.give_back(self.tensor)
        if self.mirror_tensor is not None:
            self.give_back(self.mirror_tensor)


class ModelInputs:
    """Makes `PreparedInput`s for one model input size and dtype (`quant_scale` 0: raw 0..255 bytes)."""

    def __init__(self, size: int, dtype: npt.DTypeLike, quant_scale: float, zero_point: int) -> None:
        self._size = size
        self._dtype = dtype
        self._scale = quant_scale
        self._zero_point = zero_point
        # A plain 0..255 uint8 input (the int8 MoveNet releases) is filled straight into the tensor.
        self._feeds_bytes = np.dtype(dtype) == np.uint8 and quant_scale == 0.0
        # Few buffers suffice: one being filled, one waiting, one being invoked (each with its mirror,
        # and now and then the lock's whole frame beside each).
        self._free_inputs = [np.zeros((1, size, size, 3), dtype=dtype) for _ in range(INPUT_BUFFERS)]
        self._inputs_lock = threading.Lock()
        self._pixels = np.zeros((size, size, 3), dtype=np.uint8)
        side = math.ceil(size * math.sqrt(2)) + 2
        self._shrunk = np.zeros((side, side, 3), dtype=np.uint8)  # a turned crop's bounding square
        self._shrunk_lock = threading.Lock()
        self._flipped = np.zeros((0, 0, 3), dtype=np.uint8)  # a crop mirrored; grown once per frame size
        self._flipped_lock = threading.Lock()

    def make(self, frame: Frame, crop: CropSquare, started: float, follows_person: bool,
             acquiring: bool, mirrored: bool = False) -> PreparedInput:
        """`crop` of `frame` in the model's input (`started`: when preparing began, for the timing);
        `mirrored` also scales the crop of the mirrored frame (`PreparedInput.mirror_tensor`)."""
        width, height = frame.width_px, frame.height_px
        # The camera's small copy, when there is one, saves scaling the full picture on the CPU.
        pixels = frame.image if frame.model_image is None else frame.model_image
        scale_x = width / pixels.shape[1]
        scale_y = height / pixels.shape[0]
        tensor = self._take_input()
        on_pixels = CropSquare(crop.left_px / scale_x, crop.top_px / scale_y, crop.side_px / scale_x, crop.angle_deg)
        mirror_tensor = None
        if crop.angle_deg:
            mapping = self._fill_turned(tensor, pixels, on_pixels).scaled(scale_x, scale_y)
            if mirrored:  # a turned crop's mirror is its flip (the upright crop, off by default)
                mirror_tensor = self._take_input()
                cv2.flip(tensor[0], 1, dst=mirror_tensor[0])
        else:
            mapping = self._fill(tensor, pixels, on_pixels).scaled(scale_x, scale_y)
            if mirrored:
                mirror_tensor = self._take_input()
                self._fill(mirror_tensor, pixels, on_pixels, mirrored=True)
        return PreparedInput(tensor, mapping, width, height, time.perf_counter() - started, self._give_input,
                             follows_person, acquiring, mirror_tensor)

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        """Paint (left, top, right, bottom) frame-pixel boxes black in a prepared input."""
        if not boxes_px:
            return
        size = self._size
        black = self._zero_point if self._scale else 0
        corners = prepared.mapping.to_input(np.array(boxes_px, dtype=np.float64).reshape(-1, 2))
        for (u0, v0), (u1, v1) in corners.reshape(-1, 2, 2):
            left, top = max(0, int(np.floor(u0))), max(0, int(np.floor(v0)))
            right, bottom = min(size, int(np.ceil(u1))), min(size, int(np.ceil(v1)))
            if right > left and bottom > top:
                prepared.tensor[0, top:bottom, left:right] = black
                if prepared.mirror_tensor is not None:
                    prepared.mirror_tensor[0, top:bottom, size - right:size - left] = black

    def _take_input(self) -> npt.NDArray[np.generic]:
        with self._inputs_lock:
            if self._free_inputs:
                return self._free_inputs.pop()
        return np.zeros_like(self._pixels, dtype=self._dtype)[None]

    def _give_input(self, tensor: npt.NDArray[np.generic]) -> None:
        with self._inputs_lock:
            if len(self._free_inputs) < INPUT_BUFFERS and not any(t is tensor for t in self._free_inputs):
                self._free_inputs.append(tensor)

    def _fill_turned(self, tensor: npt.NDArray[np.generic], image: Image, crop: CropSquare) -> InputMapping:
        """A turned crop: the square around it shrunk by area averaging first (as `_fill` does, for
        the same reason), then turned into the tensor with a bilinear warp."""
        size = self._size
        angle = math.radians(crop.angle_deg)
        half = crop.side_px / 2 * (abs(math.cos(angle)) + abs(math.sin(angle)))
        centre_x, centre_y = crop.left_px + crop.side_px / 2, crop.top_px + crop.side_px / 2
        outer = CropSquare(centre_x - half, centre_y - half, 2 * half)
        pixels = tensor[0] if self._feeds_bytes else self._pixels
        with self._shrunk_lock:  # the capture and the inference thread both prepare inputs
            shrunk = self._shrunk[: self._shrunk_side(outer, crop), : self._shrunk_side(outer, crop)]
            inner = self._fill_into(shrunk, image, outer)  # shrunk pixel -> image pixel
            side = shrunk.shape[0]
            # shrunk pixels -> input pixels: turn about the centre, scale the crop's side to the input's
            crop_in_shrunk = crop.side_px / inner.scale_x
            turn = cv2.getRotationMatrix2D((side / 2, side / 2), crop.angle_deg, size / crop_in_shrunk)
            turn[:, 2] += (size / 2 - side / 2, size / 2 - side / 2)
            cv2.warpAffine(shrunk, turn, (size, size), dst=pixels, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        self._to_tensor(tensor, pixels)
        back = cv2.invertAffineTransform(turn)  # input -> shrunk
        # shrunk -> image: image = frame0 + (shrunk - input0) * scale (axis-aligned)
        a = np.array([[inner.scale_x, 0.0, inner.frame_x0 - inner.input_u0 * inner.scale_x],
                      [0.0, inner.scale_y, inner.frame_y0 - inner.input_v0 * inner.scale_y]])
        affine = a[:, :2] @ back[:, :2]
        offset = a[:, :2] @ back[:, 2] + a[:, 2]
        matrix = (float(affine[0, 0]), float(affine[0, 1]), float(offset[0]),
                  float(affine[1, 0]), float(affine[1, 1]), float(offset[1]))
        return InputMapping(0.0, 0.0, 0.0, 0.0, 1.0, 1.0, matrix)

    def _shrunk_side(self, outer: CropSquare, crop: CropSquare) -> int:
        """The shrunk square's side: the turned crop's bounding square at the input's scale."""
        return min(self._shrunk.shape[0], max(2, math.ceil(self._size * outer.side_px / crop.side_px)))

    def _to_tensor(self, tensor: npt.NDArray[np.generic], pixels: Image) -> None:
        if not self._feeds_bytes:
            if self._scale:
                np.copyto(tensor[0], np.round(pixels / self._scale + self._zero_point),
                          casting="unsafe")
            else:
                tensor[0] = pixels

    def _fill(self, tensor: npt.NDArray[np.generic], image: Image, crop: CropSquare,
              mirrored: bool = False) -> InputMapping:
        """Resize the part of `crop` inside the image into `tensor`, black elsewhere.

        INTER_AREA rather than bilinear: downscaling a 720p frame to 192 px with bilinear
        aliases, and on the ground-truth photos the hips came out 2-4 quantisation steps worse.
        (Faster two-step shrinking was tried: 0.3 ms instead of 3.3 ms for a 720p frame, but
        17 % of analyze's verdicts changed, so the exact area average stays.)
        """
        # A plain 0..255 uint8 input (the int8 MoveNet releases) is resized straight into the tensor.
        pixels = tensor[0] if self._feeds_bytes else self._pixels
        if mirrored:
            with self._flipped_lock:
                mapping = self._fill_into(pixels, image, crop, self._flip_scratch)
        else:
            mapping = self._fill_into(pixels, image, crop)
        self._to_tensor(tensor, pixels)
        return mapping

    def _flip_scratch(self, region: Image) -> Image:
        """`region` mirrored left to right, in a buffer kept for the next frame (cv2 would copy a
        reversed view itself, at three times the cost)."""
        height, width = region.shape[:2]
        if self._flipped.shape[0] < height or self._flipped.shape[1] < width:
            self._flipped = np.zeros((max(height, self._flipped.shape[0]), max(width, self._flipped.shape[1]), 3),
                                     dtype=np.uint8)
        flipped = self._flipped[:height, :width]
        cv2.flip(region, 1, dst=flipped)
        return flipped

    @staticmethod
    def _fill_into(pixels: Image, image: Image, crop: CropSquare,
                   flip: Callable[[Image], Image] | None = None) -> InputMapping:
        """Area-resize the part of the square `crop` inside the image into the square `pixels`,
        black elsewhere; with `flip`, that part mirrored left to right, as the same crop of the
        mirrored image would be (the mapping returned is the unmirrored one's)."""
        height, width = image.shape[:2]
        size = pixels.shape[0]
        scale = size / crop.side_px
        x0, y0 = max(0, int(np.floor(crop.left_px))), max(0, int(np.floor(crop.top_px)))
        x1 = min(width, int(np.ceil(crop.left_px + crop.side_px)))
        y1 = min(height, int(np.ceil(crop.top_px + crop.side_px)))
        u0 = min(size - 1, max(0, round((x0 - crop.left_px) * scale)))
        v0 = min(size - 1, max(0, round((y0 - crop.top_px) * scale)))
        u1 = max(u0 + 1, min(size, round((x1 - crop.left_px) * scale)))
        v1 = max(v0 + 1, min(size, round((y1 - crop.top_px) * scale)))
        region = image[y0:y1, x0:x1]
        left, right = (size - u1, size - u0) if flip else (u0, u1)
        pixels[:v0] = 0
        pixels[v1:] = 0
        pixels[v0:v1, :left] = 0
        pixels[v0:v1, right:] = 0
        cv2.resize(flip(region) if flip else region, (u1 - u0, v1 - v0), dst=pixels[v0:v1, left:right],
                   interpolation=cv2.INTER_AREA)
        return InputMapping(x0, y0, u0, v0, (x1 - x0) / (u1 - u0), (y1 - y0) / (v1 - v0))
