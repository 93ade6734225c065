"""MoveNet SinglePose: cutting and scaling a frame for it, running it, and reading its keypoints.

MoveNet's output rows are [y, x, score] normalised to the model's input square; they are
turned into source-frame pixels here, once, and nothing downstream knows the model's layout.
The interpreter itself comes from kiosk.model.runtime.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from kiosk.core.errors import ModelError
from kiosk.core.geometry import CropSquare, full_frame_square
from kiosk.core.types import KEYPOINT_COUNT, Frame, Pose
from kiosk.model.decode import VoteDecoder
from kiosk.model.follow import AlternatePairing, CropFollower
from kiosk.model.graph import extend_model
from kiosk.model.inputs import Box, ModelInputs, PreparedInput
from kiosk.model.runtime import choose_interpreter
from kiosk.model.tensors import DecoderFields, ModelTensors
from kiosk.settings.config import MirrorAverage, Runtime

log = logging.getLogger(__name__)


# Keypoint order after a horizontal mirror: every left keypoint becomes the right one and back.
MIRROR_ORDER = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]



class PoseTiming(NamedTuple):
    """Where one frame's pose spent its time, in seconds (a named tuple: one is made every look)."""

    preprocess_s: float
    invoke_s: float
    postprocess_s: float


class PoseModel(Protocol):
    """Finds one person's keypoints in a frame: what the pipelines need of MoveNet (or of a wrapper
    around it that injects faults, or of a test's stand-in)."""

    runtime_name: str
    threads: int
    input_size_px: int
    refines_keypoints: bool
    """Keypoints read from the model's heatmap and offsets (kiosk.model.decode), not its final output."""
    mirror_choice: str
    """Whether it mirror-averages, and why ("auto: on (two invokes of 4.5 ms fit ...)")."""
    mirror_mode: MirrorAverage
    """How it mirror-averages, "auto" decided: ON (each frame twice), ALTERNATE or OFF."""
    last_timing: PoseTiming
    """Where the last look spent its time."""
    looks: int
    """Model looks so far (each is `invokes_per_frame` invokes)."""
    invoked_s: float
    """Wall seconds spent in invokes so far."""
    invoked_cpu_s: float
    """The invoking threads' CPU seconds during those invokes."""

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


AUTO_WARM_UP_LOOKS = 20
"""`mirror_average = "auto"` in a running loop: looks of one invoke each timed before it decides."""


class MirrorDecision:
    """`mirror_average = "auto"` decided inside the running loop: one invoke a look for the first
    `AUTO_WARM_UP_LOOKS` looks, their invokes timed as the loop runs them (with the capture and
    screen threads working beside them), then two a look if two of those fit the camera's frame."""

    def __init__(self, frame_time_s: float, looks: int = AUTO_WARM_UP_LOOKS) -> None:
        self._frame_time_ms = 1000.0 * frame_time_s
        self._invokes_s = np.zeros(looks)
        self._seen = 0

    def add(self, invoke_s: float) -> MirrorAverage | None:
        """Time one more look's invoke; the decision once enough were timed, else None."""
        self._invokes_s[self._seen] = invoke_s
        self._seen += 1
        if self._seen < self._invokes_s.size:
            return None
        return MirrorAverage.ON if mirror_average_fits(self.invoke_ms, self._frame_time_ms) else MirrorAverage.ALTERNATE

    @property
    def invoke_ms(self) -> float:
        return 1000.0 * float(np.median(self._invokes_s[: self._seen]))

    def words(self, chosen: MirrorAverage) -> str:
        fits = "fit" if chosen is MirrorAverage.ON else "do not fit"
        return (f"auto: {chosen.value} (two invokes of {self.invoke_ms:.1f} ms, the median of {self._seen} in the "
                f"running loop, {fits} a frame of {self._frame_time_ms:.1f} ms)")


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
                 mirror_average: MirrorAverage = MirrorAverage.ALTERNATE, decoder: VoteDecoder | None = None,
                 frame_time_s: float = 1 / 30, decide_in_loop: bool = False) -> None:
        """`threads` 0 (or runtime "auto" with two runtimes installed) measures and keeps the fastest.
        `mirror_average` "on" also runs the model on the mirrored crop and averages (twice the
        invokes); "auto" does so only while two invokes fit `frame_time_s`
        (kiosk.model.pose.mirror_average_fits): with `decide_in_loop` (a live loop: `run`, `bench`)
        as the first looks of the running loop measure them (`MirrorDecision`), else as a bare
        invoke measures them at start.  The keypoints are read from the model's heatmap and
        offsets (kiosk.model.decode) when the model has them, else from its plain output."""
        self.model_path = model_path
        content = read_model(model_path)
        extended = extend_model(content, KEYPOINT_COUNT)
        if extended is None:
            log.warning("model %s: no heatmap and offsets to refine from (or no TFLite schema installed): "
                        "using its plain output", model_path.name)
        mirror = MirrorAverage(mirror_average)
        interpreter, self.runtime_choice = choose_interpreter(
            extended.content if extended else content, str(model_path), Runtime(runtime), threads,
            measure=mirror is MirrorAverage.AUTO and not decide_in_loop)
        self._deciding: MirrorDecision | None = None
        if mirror is MirrorAverage.AUTO and decide_in_loop:
            self._deciding = MirrorDecision(frame_time_s)
            mirror = MirrorAverage.ALTERNATE
            self.mirror_choice = "auto: deciding in the running loop"
        elif mirror is MirrorAverage.AUTO:
            assert self.runtime_choice.invoke_ms is not None
            fits = mirror_average_fits(self.runtime_choice.invoke_ms, 1000 * frame_time_s)
            mirror = MirrorAverage.ON if fits else MirrorAverage.ALTERNATE
            self.mirror_choice = (f"auto: {mirror.value} (two invokes of "
                                  f"{self.runtime_choice.invoke_ms:.1f} ms {'fit' if fits else 'do not fit'} "
                                  f"a frame of {1000 * frame_time_s:.1f} ms)")
            log.info("mirror averaging %s", self.mirror_choice)
        else:
            self.mirror_choice = mirror.value
        self.mirror_mode = mirror
        self.runtime_name = self.runtime_choice.runtime.value
        self.threads = self.runtime_choice.threads
        self._tensors = ModelTensors(interpreter, str(model_path), extended.taps if extended else None,
                                     decoder or VoteDecoder())
        self.refines_keypoints = self._tensors.refined
        self.input_size_px = self._tensors.input_size_px
        self._follower = CropFollower(crop_tracking)
        self._pairing = AlternatePairing()
        size = self.input_size_px
        self._inputs = ModelInputs(size, self._tensors.input_dtype, self._tensors.input.scale,
                                   self._tensors.input.zero_point)
        self._mirror_tensor = np.zeros((1, size, size, 3), dtype=self._tensors.input_dtype)
        self.last_timing = PoseTiming(0.0, 0.0, 0.0)
        self.looks = 0
        self.invoked_s = 0.0
        self.invoked_cpu_s = 0.0
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
        self._follower.forget()
        self._pairing.forget()

    def follow(self, pose: Pose) -> None:
        """Crop the next frame around this person (found by a look of the caller's own)."""
        self._pairing.somebody_else()
        self._follower.follow(pose)

    @property
    def next_crop(self) -> CropSquare | None:
        """The crop the next frame will be cut to (None: the whole frame)."""
        return self._follower.next_crop

    @property
    def invokes_per_frame(self) -> int:
        return 2 if self.mirror_mode is MirrorAverage.ON else 1

    def estimate(self, frame: Frame) -> Pose:
        return self.infer(self.prepare(frame), frame)

    def look_again_if_acquiring(self, prepared: PreparedInput, pose: Pose, frame: Frame) -> Pose:
        """After a whole-frame look that found somebody, look at the same frame again in the crop
        around them.  Seen whole, a person takes a fraction of the model's 192 px and scores low
        (the first frame of frontal_walk_outdoor_cane.mp4: hips 0.46 and 0.50, no verdict; in the
        crop 0.75 and 0.86).  It costs one more look, only when someone comes into view."""
        whole = full_frame_square(frame.width_px, frame.height_px)
        crop = self._follower.next_crop
        if not prepared.acquiring or crop is None or crop.side_px >= 0.9 * whole.side_px:
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
        follows_person = crop is None
        acquiring = False
        if crop is None:
            crop, acquiring = self._follower.crop_for(frame.width_px, frame.height_px)
        mirrored = self.mirror_mode is MirrorAverage.ON
        return self._inputs.make(frame, crop, started, follows_person, acquiring, mirrored=mirrored)

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        """Paint (left, top, right, bottom) frame-pixel boxes black in a prepared input, so that the
        model looks for somebody else (group mode's search for people not yet followed)."""
        self._inputs.blank(prepared, boxes_px)

    def infer(self, prepared: PreparedInput, frame: Frame | None = None) -> Pose:
        """Run the model on a prepared input and map its keypoints back to frame pixels; given the
        frame, a whole-frame look that found somebody is followed by a closer look."""
        pose = self._infer(prepared)
        return pose if frame is None else self.look_again_if_acquiring(prepared, pose, frame)

    def _infer(self, prepared: PreparedInput) -> Pose:
        started = time.perf_counter()
        self.looks += 1
        size = self.input_size_px
        alternating = self.mirror_mode is MirrorAverage.ALTERNATE and prepared.follows_person
        try:
            if alternating and self._pairing.mirror_next:
                rows, invoke_s, invoke_cpu_s = self._tensors.run(self._mirrored_input(prepared))
                input_xy, scores = self._unmirrored(rows)
            else:
                rows, invoke_s, invoke_cpu_s = self._tensors.run(prepared.tensor)
                input_xy, scores = rows[:, 1::-1] * size, rows[:, 2]
            if self.mirror_mode is MirrorAverage.ON:
                # The same crop of the mirrored frame: its keypoints mirrored back, left and right
                # swapped, then averaged with the first look.  Whatever the model gets wrong
                # asymmetrically cancels, and the mirrored frame gets the same two looks.
                mirrored, mirror_invoke_s, mirror_cpu_s = self._tensors.run(self._mirrored_input(prepared))
                invoke_s += mirror_invoke_s
                invoke_cpu_s += mirror_cpu_s
                mirrored_xy, mirrored_scores = self._unmirrored(mirrored)
                input_xy = (input_xy + mirrored_xy) / 2
                scores = (scores + mirrored_scores) / 2
            prepared.release()  # set_tensor copied it
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"the model failed on a frame: {error}") from error
        width, height = prepared.frame_width_px, prepared.frame_height_px
        xy = prepared.mapping.to_frame(input_xy).astype(np.float32)
        pose = Pose(xy, scores.astype(np.float32), width, height)
        if alternating:
            pose = self._pairing.pair(pose, prepared.acquiring)
        if prepared.follows_person:
            self._follower.follow(pose)
        # invoke: the model itself; postprocess: reading, refining and mapping its keypoints
        self.last_timing = PoseTiming(prepared.preprocess_s, invoke_s, time.perf_counter() - started - invoke_s)
        self.invoked_s += invoke_s
        self.invoked_cpu_s += invoke_cpu_s
        if self._deciding is not None and prepared.follows_person:
            self._decide(invoke_s)
        return pose

    def _decide(self, invoke_s: float) -> None:
        assert self._deciding is not None
        chosen = self._deciding.add(invoke_s)
        if chosen is None:
            return
        self.mirror_choice = self._deciding.words(chosen)
        # A frame the capture thread prepared meanwhile has no mirrored input: its mirror is a flip.
        self.mirror_mode = chosen
        self._deciding = None
        log.info("mirror averaging %s", self.mirror_choice)

    def _mirrored_input(self, prepared: PreparedInput) -> np.ndarray:
        """The mirrored look's input: the same crop of the mirrored frame when `prepare` scaled it
        (mirror averaging on), else a flip of the prepared input ("alternate": its looks are of
        different frames, so the grey levels the flip rounds differently do not pair up)."""
        if prepared.mirror_tensor is not None:
            return prepared.mirror_tensor
        cv2.flip(prepared.tensor[0], 1, dst=self._mirror_tensor[0])
        return self._mirror_tensor

    def _unmirrored(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input-pixel keypoints and scores of a look at the mirrored crop, mirrored back (left and
        right swapped)."""
        rows = rows[MIRROR_ORDER]
        xy = rows[:, 1::-1] * self.input_size_px
        xy[:, 0] = self.input_size_px - xy[:, 0]
        return xy, rows[:, 2]

    def time_invokes(self, count: int) -> list[float]:
        """Seconds of each of `count` bare invokes on the current input: the model-bound pace."""
        return self._tensors.time_invokes(count)

    def decoder_fields(self, prepared: PreparedInput) -> tuple[DecoderFields, DecoderFields] | None:
        """The heatmap, offsets and chosen cells for a prepared input and for its mirror (the
        mirrored look mirror averaging takes), as the decoder reads them (a diagnostic; None when
        the model is read plainly)."""
        own = self._tensors.fields(prepared.tensor)
        mirrored = self._tensors.fields(self._mirrored_input(prepared))
        return None if own is None or mirrored is None else (own, mirrored)
