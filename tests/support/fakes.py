"""Fakes for the two seams that fail in the field, for fault-injection tests and scripts/soak.py
(never installed with the kiosk).

`UnpluggableCamera` plays a real clip as if it were a camera whose cable can be pulled, whose
reads can hang and which can send garbage; `GlitchingModel` wraps a real model and now and then
returns NaN keypoints.  Both inject faults only when told to, so what they show otherwise is the
real pipeline on real frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from kiosk.camera.sources import FrameSource
from kiosk.core.errors import SourceError
from kiosk.core.geometry import CropSquare
from kiosk.core.types import Frame, Pose
from kiosk.model.inputs import Box, InputMapping, PreparedInput
from kiosk.model.pose import PoseModel, PoseTiming
from kiosk.settings.config import MirrorAverage

GARBAGE_KINDS = ("wrong_shape", "wrong_dtype", "empty", "all_black")


class UnpluggableCamera:
    """A camera made of a real clip, with a cable that can be pulled and plugged back in."""

    def __init__(self, open_clip: Callable[[], FrameSource]) -> None:
        self._open_clip = open_clip
        self._lock = threading.Lock()
        self._plugged = True
        self._stall_until = 0.0
        self._garbage: list[str] = []
        self.opens = 0
        self.plugged_back_at: float | None = None

    # --- what a test or the soak does to it -------------------------------------------------
    def unplug(self) -> None:
        with self._lock:
            self._plugged = False

    def plug_in(self) -> None:
        with self._lock:
            self._plugged = True
            self.plugged_back_at = time.monotonic()

    def stall(self, seconds: float) -> None:
        """The next reads hang for `seconds` (a frozen driver), then carry on."""
        with self._lock:
            self._stall_until = time.monotonic() + seconds

    def send_garbage(self, kinds: list[str]) -> None:
        with self._lock:
            self._garbage.extend(kinds)

    # --- what the kiosk does with it --------------------------------------------------------
    def open(self) -> FrameSource:
        with self._lock:
            if not self._plugged:
                raise SourceError("camera webcam:0 (/dev/video0) cannot be opened: is it plugged in?")
            self.opens += 1
        return _CameraConnection(self, self._open_clip())

    @property
    def plugged(self) -> bool:
        with self._lock:
            return self._plugged

    def _next_fault(self) -> tuple[float, str | None]:
        with self._lock:
            stall_s = max(0.0, self._stall_until - time.monotonic())
            garbage = self._garbage.pop(0) if self._garbage else None
            return stall_s, garbage


class _CameraConnection:
    def __init__(self, camera: UnpluggableCamera, clip: FrameSource) -> None:
        self._camera = camera
        self._clip = clip
        self.description = "webcam:0"
        self.fps = clip.fps

    def read(self) -> Frame | None:
        if not self._camera.plugged:
            raise SourceError("camera webcam:0 stopped delivering frames")
        stall_s, garbage = self._camera._next_fault()
        if stall_s:
            time.sleep(stall_s)
        frame = self._clip.read()
        if frame is None:
            raise SourceError("camera webcam:0 stopped delivering frames")
        if garbage is None:
            return frame
        frame.release()
        return Frame(_garbage_image(garbage, frame.image), frame.index, frame.t_s, time.monotonic())

    def close(self) -> None:
        self._clip.close()


def _garbage_image(kind: str, like: np.ndarray) -> np.ndarray:
    if kind == "wrong_shape":
        return np.zeros((like.shape[0], like.shape[1]), dtype=np.uint8) + 128
    if kind == "wrong_dtype":
        return like.astype(np.float32)
    if kind == "empty":
        return np.zeros((0, 0, 3), dtype=np.uint8)
    return np.zeros_like(like)


class GlitchingModel:
    """A real pose model that returns NaN keypoints for the next `nan_frames` frames when told to.

    Everything else goes to the real model, so the pipeline around it is the kiosk's own."""

    def __init__(self, model: PoseModel) -> None:
        self._model = model
        self.runtime_name = model.runtime_name
        self.threads = model.threads
        self.input_size_px = model.input_size_px
        self.refines_keypoints = model.refines_keypoints
        self.mirror_choice = model.mirror_choice
        self.mirror_mode = model.mirror_mode
        self._lock = threading.Lock()
        self._nan_frames = 0

    def glitch(self, frames: int) -> None:
        with self._lock:
            self._nan_frames += frames

    @property
    def last_timing(self) -> PoseTiming:
        return self._model.last_timing

    @property
    def looks(self) -> int:
        return self._model.looks

    @property
    def invoked_s(self) -> float:
        return self._model.invoked_s

    @property
    def invoked_cpu_s(self) -> float:
        return self._model.invoked_cpu_s

    @property
    def invokes_per_frame(self) -> int:
        return self._model.invokes_per_frame

    def prepare(self, frame: Frame, crop: CropSquare | None = None) -> PreparedInput:
        return self._model.prepare(frame, crop)

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        self._model.blank(prepared, boxes_px)

    def infer(self, prepared: PreparedInput, frame: Frame | None = None) -> Pose:
        return self._spoil(self._model.infer(prepared, frame))

    def estimate(self, frame: Frame) -> Pose:
        return self._spoil(self._model.estimate(frame))

    def look(self, frame: Frame, crop: CropSquare, hide: list[Box]) -> Pose:
        return self._model.look(frame, crop, hide)

    def follow(self, pose: Pose) -> None:
        self._model.follow(pose)

    def forget_person(self) -> None:
        self._model.forget_person()

    def time_invokes(self, count: int) -> list[float]:
        return self._model.time_invokes(count)

    def _spoil(self, pose: Pose) -> Pose:
        with self._lock:
            if self._nan_frames <= 0:
                return pose
            self._nan_frames -= 1
        return Pose(np.full_like(pose.xy_px, np.nan), np.full_like(pose.scores, np.nan),
                    pose.frame_width_px, pose.frame_height_px)


class ScriptedModel:
    """A stand-in for MoveNet in tests of the loop and pipelines: `pose_for(frame)` says what it finds.

    It satisfies kiosk.model.pose.PoseModel; nothing is invoked.  The pipelines always hand `infer` the
    frame a prepared input was made from."""

    runtime_name = "fake"
    threads = 1
    input_size_px = 192
    invokes_per_frame = 1
    refines_keypoints = False
    mirror_choice = "alternate"
    mirror_mode = MirrorAverage.ALTERNATE

    def __init__(self) -> None:
        self.last_timing = PoseTiming(0.0, 0.0, 0.0)
        self.looks = 0
        self.invoked_s = 0.0
        self.invoked_cpu_s = 0.0

    def pose_for(self, frame: Frame) -> Pose:
        raise NotImplementedError

    def prepare(self, frame: Frame, crop: CropSquare | None = None) -> PreparedInput:
        mapping = InputMapping(0.0, 0.0, 0.0, 0.0, 1.0, 1.0)
        return PreparedInput(np.zeros((1, 1, 1, 3), np.uint8), mapping, frame.width_px, frame.height_px, 0.0,
                             lambda _tensor: None)

    def blank(self, prepared: PreparedInput, boxes_px: list[Box]) -> None:
        pass

    def infer(self, prepared: PreparedInput, frame: Frame | None = None) -> Pose:
        assert frame is not None, "ScriptedModel needs the frame"
        self.looks += 1
        return self.pose_for(frame)

    def estimate(self, frame: Frame) -> Pose:
        return self.infer(self.prepare(frame), frame)

    def look(self, frame: Frame, crop: CropSquare, hide: list[Box]) -> Pose:
        return self.estimate(frame)

    def follow(self, pose: Pose) -> None:
        pass

    def forget_person(self) -> None:
        pass

    def time_invokes(self, count: int) -> list[float]:
        return [0.0] * count
