"""MoveNet SinglePose: cutting and scaling a frame for it, running it, and reading its keypoints.

MoveNet's output rows are [y, x, score] normalised to the model's input square; they are
turned into source-frame pixels here, once, and nothing downstream knows the model's layout.
The interpreter itself comes from kiosk.runtime.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.config import MirrorAverage, Runtime
from kiosk.decode import VoteDecoder
from kiosk.errors import ModelError
from kiosk.geometry import CropSquare, crop_square_around_person, full_frame_square
from kiosk.model_graph import extend_model
from kiosk.model_io import ModelTensors
from kiosk.runtime import choose_interpreter
from kiosk.types import KEYPOINT_COUNT, FloatArray, Frame, Image, Pose

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
"""(left, top, right, bottom) in frame pixels."""

# Keypoint order after a horizontal mirror: every left keypoint becomes the right one and back.
MIRROR_ORDER = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

# A crop is trusted for the next frame only when the torso was found at least this well.
CROP_MIN_SCORE = 0.2


@dataclass(frozen=True, slots=True)
class InputMapping:
    """Where a model-input pixel came from: frame = frame_origin + (input - input_origin) * scale."""

    frame_x0: float
    frame_y0: float
    input_u0: float
    input_v0: float
    scale_x: float
    scale_y: float

    def to_input(self, frame_xy: FloatArray) -> FloatArray:
        """(N, 2) x, y in frame pixels to (N, 2) x, y in model-input pixels."""
        out = np.empty(frame_xy.shape, dtype=np.float64)
        out[:, 0] = self.input_u0 + (frame_xy[:, 0] - self.frame_x0) / self.scale_x
        out[:, 1] = self.input_v0 + (frame_xy[:, 1] - self.frame_y0) / self.scale_y
        return out

    def to_frame(self, input_xy: FloatArray) -> FloatArray:
        """(N, 2) x, y in model-input pixels to (N, 2) x, y in frame pixels."""
        out = np.empty(input_xy.shape, dtype=np.float64)
        out[:, 0] = self.frame_x0 + (input_xy[:, 0] - self.input_u0) * self.scale_x
        out[:, 1] = self.frame_y0 + (input_xy[:, 1] - self.input_v0) * self.scale_y
        return out


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

    def release(self) -> None:
        self.give_back(self.tensor)


@dataclass(frozen=True, slots=True)
class PoseTiming:
    """Where one frame's pose spent its time, in seconds."""

    preprocess_s: float
    invoke_s: float
    postprocess_s: float


def crop_around(pose: Pose) -> CropSquare:
    """The square to look at this person in next (kiosk.geometry.crop_square_around_person)."""
    return crop_square_around_person(pose.xy_px, pose.scores, pose.frame_width_px, pose.frame_height_px,
                                     CROP_MIN_SCORE)


class PoseModel(Protocol):
    """Finds one person's keypoints in a frame: what the pipelines need of MoveNet (or of a wrapper
    around it that injects faults, or of a test's stand-in)."""

    runtime_name: str
    threads: int
    input_size_px: int
    refines_keypoints: bool
    """Keypoints read from the model's heatmap and offsets (kiosk.decode), not its final output."""
    mirror_choice: str
    """Whether it mirror-averages, and why ("auto: on (two invokes of 4.5 ms fit ...)")."""
    last_timing: PoseTiming
    """Where the last look spent its time."""
    looks: int
    """Model looks so far (each is `invokes_per_frame` invokes)."""

    @property
    def invokes_per_frame(self) -> int:
        """Invokes per look: 2 with mirror averaging."""

    def prepare(self, frame: Frame, crop: CropSquare | None = None) -> PreparedInput:
        """Cut and scale a crop of `frame` (by default the one around the person followed) for the model."""

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        """Paint frame-pixel boxes black in a prepared input."""

    def infer(self, prepared: PreparedInput, frame: Frame | None = None) -> Pose:
        """Run the model on a prepared input; given the frame, a whole-frame look that found
        somebody is followed by a closer look."""

    def estimate(self, frame: Frame) -> Pose:
        """`prepare` then `infer`."""

    def look(self, frame: Frame, crop: CropSquare, hide: list[Box]) -> Pose:
        """The model on one crop of `frame`, with the `hide` boxes painted black first."""

    def follow(self, pose: Pose) -> None:
        """Crop the next frame around this person."""

    def forget_person(self) -> None:
        """Look at the whole frame next time (a new scene, a new clip)."""

    def time_invokes(self, count: int) -> list[float]:
        """Seconds of each of `count` bare invokes: the model-bound pace."""


INFERENCE_OVERHEAD_MS = 3.0
"""The inference thread's own work per frame beside the invokes (keypoints, gates, tracker, the
lock's look now and then), allowed for when `mirror_average = "auto"` decides: measured here
0.3-0.5 ms on x86, taken as 3 ms for a Pi's slower cores."""


def mirror_average_fits(invoke_ms: float, frame_time_ms: float) -> bool:
    """`mirror_average = "auto"`: two invokes a frame only while two invokes and the rest of the
    inference thread's work fit the camera's frame time (the capture and screen threads work
    beside it on other cores)."""
    return 2 * invoke_ms + INFERENCE_OVERHEAD_MS <= frame_time_ms


def read_model(model_path: Path) -> bytes:
    """The model file's bytes; ModelError when it is missing or unreadable."""
    try:
        return model_path.read_bytes()
    except FileNotFoundError as error:
        raise ModelError(
            f"model file {model_path} does not exist (run scripts/fetch-models or pass --model)") from error
    except OSError as error:
        raise ModelError(f"model file {model_path} cannot be read: {error.strerror}") from error


class MoveNet:
    """MoveNet SinglePose (Lightning 192 px, Thunder 256 px) with crop tracking.

    The input size and dtype are read from the model.  `estimate` is `prepare` then `infer`;
    the kiosk loop calls `prepare` in its capture thread so that cutting and scaling the next
    frame overlaps the model's work on this one.  After each frame the next crop is chosen
    around the person just found, so someone far down a hallway still fills the model's input;
    the whole frame is used again when nobody was found.
    """

    def __init__(self, model_path: Path, runtime: Runtime = Runtime.AUTO, threads: int = 2, crop_tracking: bool = True,
                 mirror_average: MirrorAverage | bool = False, refine_keypoints: bool = False,
                 decoder: VoteDecoder | None = None, frame_time_s: float = 1 / 30) -> None:
        """`threads` 0 (or runtime "auto" with two runtimes installed) measures and keeps the fastest.
        `mirror_average` also runs the model on the mirrored crop and averages (twice the invokes);
        "auto" does so only while two invokes fit `frame_time_s` (kiosk.pose.mirror_average_fits).
        `refine_keypoints` reads the keypoints from the model's heatmap and offsets (kiosk.decode)."""
        self.model_path = model_path
        content = read_model(model_path)
        extended = extend_model(content, KEYPOINT_COUNT) if refine_keypoints else None
        if refine_keypoints and extended is None:
            log.warning("model %s: no heatmap and offsets to refine from (or no TFLite schema installed): "
                        "using its plain output", model_path.name)
        mirror = MirrorAverage(("on" if mirror_average else "off") if isinstance(mirror_average, bool)
                               else mirror_average)
        interpreter, self.runtime_choice = choose_interpreter(
            extended.content if extended else content, str(model_path), Runtime(runtime), threads,
            measure=mirror is MirrorAverage.AUTO)
        if mirror is MirrorAverage.AUTO:
            assert self.runtime_choice.invoke_ms is not None
            fits = mirror_average_fits(self.runtime_choice.invoke_ms, 1000 * frame_time_s)
            self.mirror_choice = (f"auto: {'on' if fits else 'off'} (two invokes of "
                                  f"{self.runtime_choice.invoke_ms:.1f} ms {'fit' if fits else 'do not fit'} "
                                  f"a frame of {1000 * frame_time_s:.1f} ms)")
            log.info("mirror averaging %s", self.mirror_choice)
        else:
            fits = mirror is MirrorAverage.ON
            self.mirror_choice = "on" if fits else "off"
        self.runtime_name = self.runtime_choice.runtime.value
        self.threads = self.runtime_choice.threads
        self._tensors = ModelTensors(interpreter, str(model_path), extended.taps if extended else None,
                                     decoder or VoteDecoder())
        self.refines_keypoints = self._tensors.refined
        self.input_size_px = self._tensors.input_size_px
        self._crop_tracking = crop_tracking
        size = self.input_size_px
        # Few buffers suffice: one being filled, one waiting, one being invoked.
        self._free_inputs = [np.zeros((1, size, size, 3), dtype=self._tensors.input_dtype) for _ in range(4)]
        self._inputs_lock = threading.Lock()
        self._pixels = np.zeros((size, size, 3), dtype=np.uint8)
        self._mirror_average = fits
        self._mirror_tensor = np.zeros((1, size, size, 3), dtype=self._tensors.input_dtype)
        self._next_crop: CropSquare | None = None
        self._next_crop_frame_size: tuple[int, int] | None = None
        self.last_timing = PoseTiming(0.0, 0.0, 0.0)
        self.looks = 0
        log.info(
            "model %s: %d px input, %s, %s keypoints, runtime %s, %d threads%s",
            model_path.name,
            size,
            np.dtype(self._tensors.input_dtype).name,
            "refined" if self.refines_keypoints else "plain",
            self.runtime_name,
            self.threads,
            f" (measured at start: {list(self.runtime_choice.tried)})" if self.runtime_choice.tried else "",
        )

    def forget_person(self) -> None:
        self._next_crop = None

    def follow(self, pose: Pose) -> None:
        """Crop the next frame around this person (found by a look of the caller's own)."""
        if self._crop_tracking:
            self._next_crop = crop_around(pose)
            self._next_crop_frame_size = (pose.frame_width_px, pose.frame_height_px)

    @property
    def invokes_per_frame(self) -> int:
        return 2 if self._mirror_average else 1

    def estimate(self, frame: Frame) -> Pose:
        return self.infer(self.prepare(frame), frame)

    def look_again_if_acquiring(self, prepared: PreparedInput, pose: Pose, frame: Frame) -> Pose:
        """After a whole-frame look that found somebody, look at the same frame again in the crop
        around them.  Seen whole, a person takes a fraction of the model's 192 px and scores low
        (the first frame of frontal_walk_outdoor_cane.mp4: hips 0.46 and 0.50, no verdict; in the
        crop 0.75 and 0.86).  It costs one more look, only when someone comes into view."""
        whole = full_frame_square(frame.width_px, frame.height_px)
        if not prepared.acquiring or self._next_crop is None or self._next_crop.side_px >= 0.9 * whole.side_px:
            return pose  # nobody found, or somebody who already fills the frame
        return self.infer(self.prepare(frame))

    def look(self, frame: Frame, crop: CropSquare, hide: list[Box]) -> Pose:
        """The model on one crop of `frame`, with the `hide` boxes (frame pixels) painted black first;
        the crop followed is left alone (the caller chose this one)."""
        prepared = self.prepare(frame, crop)
        self.blank(prepared, hide)
        return self.infer(prepared)

    def prepare(self, frame: Frame, crop: CropSquare | None = None) -> PreparedInput:
        """Cut a crop out of `frame` and scale it to the model's input.

        Without `crop`, the crop around the last person found (the whole frame when there was
        nobody); with it, that crop, and the result leaves the tracked crop alone (group mode
        follows each person itself)."""
        started = time.perf_counter()
        width, height = frame.width_px, frame.height_px
        follows_person = crop is None
        acquiring = False
        if crop is None:
            crop = self._next_crop
            if crop is None or self._next_crop_frame_size != (width, height):
                crop = full_frame_square(width, height)
                acquiring = self._crop_tracking
        # The camera's small copy, when there is one, saves scaling the full picture on the CPU.
        pixels = frame.image if frame.model_image is None else frame.model_image
        scale_x = width / pixels.shape[1]
        scale_y = height / pixels.shape[0]
        tensor = self._take_input()
        mapping = self._fill(tensor, pixels, CropSquare(crop.left_px / scale_x, crop.top_px / scale_y,
                                                         crop.side_px / scale_x))
        mapping = InputMapping(mapping.frame_x0 * scale_x, mapping.frame_y0 * scale_y, mapping.input_u0,
                               mapping.input_v0, mapping.scale_x * scale_x, mapping.scale_y * scale_y)
        return PreparedInput(tensor, mapping, width, height, time.perf_counter() - started, self._give_input,
                             follows_person, acquiring)

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        """Paint (left, top, right, bottom) frame-pixel boxes black in a prepared input, so that the
        model looks for somebody else (group mode's search for people not yet followed)."""
        if not boxes_px:
            return
        size = self.input_size_px
        black = self._black_value()
        corners = prepared.mapping.to_input(np.array(boxes_px, dtype=np.float64).reshape(-1, 2))
        for (u0, v0), (u1, v1) in corners.reshape(-1, 2, 2):
            left, top = max(0, int(np.floor(u0))), max(0, int(np.floor(v0)))
            right, bottom = min(size, int(np.ceil(u1))), min(size, int(np.ceil(v1)))
            if right > left and bottom > top:
                prepared.tensor[0, top:bottom, left:right] = black

    def _black_value(self) -> float:
        return self._tensors.input.zero_point if self._tensors.input.scale else 0

    def infer(self, prepared: PreparedInput, frame: Frame | None = None) -> Pose:
        """Run the model on a prepared input and map its keypoints back to frame pixels; given the
        frame, a whole-frame look that found somebody is followed by a closer look."""
        pose = self._infer(prepared)
        return pose if frame is None else self.look_again_if_acquiring(prepared, pose, frame)

    def _infer(self, prepared: PreparedInput) -> Pose:
        started = time.perf_counter()
        self.looks += 1
        size = self.input_size_px
        try:
            rows, invoke_s = self._tensors.run(prepared.tensor)
            input_xy = rows[:, 1::-1] * size
            scores = rows[:, 2]
            if self._mirror_average:
                # The same crop mirrored: its keypoints mirrored back, left and right swapped, then
                # averaged with the first look.  Whatever the model gets wrong asymmetrically cancels.
                cv2.flip(prepared.tensor[0], 1, dst=self._mirror_tensor[0])
                mirrored, mirror_invoke_s = self._tensors.run(self._mirror_tensor)
                mirrored = mirrored[MIRROR_ORDER]
                invoke_s += mirror_invoke_s
                mirrored_xy = mirrored[:, 1::-1] * size
                mirrored_xy[:, 0] = size - mirrored_xy[:, 0]
                input_xy = (input_xy + mirrored_xy) / 2
                scores = (scores + mirrored[:, 2]) / 2
            prepared.release()  # set_tensor copied it
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"the model failed on a frame: {error}") from error
        width, height = prepared.frame_width_px, prepared.frame_height_px
        xy = prepared.mapping.to_frame(input_xy).astype(np.float32)
        scores = scores.astype(np.float32)
        pose = Pose(xy, scores, width, height)
        if prepared.follows_person:
            self.follow(pose)
        # invoke: the model itself; postprocess: reading, refining and mapping its keypoints
        self.last_timing = PoseTiming(prepared.preprocess_s, invoke_s, time.perf_counter() - started - invoke_s)
        return pose

    def time_invokes(self, count: int) -> list[float]:
        """Seconds of each of `count` bare invokes on the current input: the model-bound pace."""
        return self._tensors.time_invokes(count)

    def _take_input(self) -> npt.NDArray[np.generic]:
        with self._inputs_lock:
            if self._free_inputs:
                return self._free_inputs.pop()
        return np.zeros_like(self._pixels, dtype=self._tensors.input_dtype)[None]

    def _give_input(self, tensor: npt.NDArray[np.generic]) -> None:
        with self._inputs_lock:
            if len(self._free_inputs) < 4 and not any(t is tensor for t in self._free_inputs):
                self._free_inputs.append(tensor)

    def _fill(self, tensor: npt.NDArray[np.generic], image: Image, crop: CropSquare) -> InputMapping:
        """Resize the part of `crop` inside the image into `tensor`, black elsewhere.

        INTER_AREA rather than bilinear: downscaling a 720p frame to 192 px with bilinear
        aliases, and on the ground-truth photos the hips came out 2-4 quantisation steps worse.
        (Faster two-step shrinking was tried: 0.3 ms instead of 3.3 ms for a 720p frame, but
        17 % of analyze's verdicts changed, so the exact area average stays.)
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
        feeds_bytes = self._tensors.input_dtype == np.uint8 and self._tensors.input.scale == 0.0
        # A plain 0..255 uint8 input (the int8 MoveNet releases) is resized straight into the tensor.
        pixels = tensor[0] if feeds_bytes else self._pixels
        pixels[:v0] = 0
        pixels[v1:] = 0
        pixels[v0:v1, :u0] = 0
        pixels[v0:v1, u1:] = 0
        cv2.resize(image[y0:y1, x0:x1], (u1 - u0, v1 - v0), dst=pixels[v0:v1, u0:u1], interpolation=cv2.INTER_AREA)
        if not feeds_bytes:
            if self._tensors.input.scale:
                np.copyto(tensor[0], np.round(pixels / self._tensors.input.scale + self._tensors.input.zero_point),
                          casting="unsafe")
            else:
                tensor[0] = pixels
        return InputMapping(x0, y0, u0, v0, (x1 - x0) / (u1 - u0), (y1 - y0) / (v1 - v0))
