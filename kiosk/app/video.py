"""`beltline analyze --video`: the clip with the mirror's drawing on it (the ruler, the tilt in
words, the verdict's colour, the step count and the last step, the summary after a walk), one
video frame for every analysed frame, so the per-frame CSV and the video agree frame for frame.

Drawn by the mirror's own view (kiosk.screen.view, on a picture in memory: no window) through the
loop's own `draw_result`; written by OpenCV as MPEG-4 Part 2 in an MP4 file (the encoder every
OpenCV build has; players such as VLC, mpv, Kinovea and QuickTime open it), atomically.
Unmirrored by default: a video of someone is seen as others see them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from kiosk.core.errors import BeltlineError
from kiosk.core.files import atomic_path
from kiosk.flow.loop import SummaryHold, draw_result, show_summary
from kiosk.flow.pipeline import Result
from kiosk.screen.view import MirrorView
from kiosk.settings.config import DisplayConfig, Mode

VIDEO_SUFFIXES = (".mp4", ".m4v")
FOURCC = "mp4v"
"""MPEG-4 Part 2: in every OpenCV build (H.264 needs an encoder pip's OpenCV does not ship)."""
SPEED_RANGE = (0.05, 4.0)
WALK_SUMMARY_S = 8.0
"""As on the mirror (kiosk.flow.loop.Supervision.walk_summary_s): the summary after a walk, in clip time."""


def check_video_path(path: Path, speed: float = 1.0) -> None:
    """Before any frame is analysed: a path the writer can fill and a speed it can play at (raises
    BeltlineError naming why not)."""
    if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        raise BeltlineError(f"--speed {speed:g}: must be between {SPEED_RANGE[0]:g} and {SPEED_RANGE[1]:g}")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise BeltlineError(f"--video {path}: the file name must end in .mp4")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BeltlineError(f"--video {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise BeltlineError(f"--video {path}: is a folder, not a file")


class ClipVideo:
    """Draws each judged frame as the mirror would and adds it to the video; the file appears whole
    when the block ends without an error, and not at all otherwise."""

    def __init__(self, path: Path, display: DisplayConfig, mode: Mode, clip_fps: float, speed: float = 1.0,
                 mirror: bool = False) -> None:
        check_video_path(path, speed)
        self.path = path
        self.fps = clip_fps * speed
        self._display = dataclasses.replace(display, mirror=mirror, show_fps=False, rotation=0)
        self._mode = mode
        self._summaries = SummaryHold(WALK_SUMMARY_S)
        self._view: MirrorView | None = None
        self._writer: cv2.VideoWriter | None = None
        self._bgr: np.ndarray | None = None
        self._stack = contextlib.ExitStack()
        self._temporary: Path | None = None
        self.frames = 0

    def __enter__(self) -> ClipVideo:
        self._temporary = self._stack.enter_context(atomic_path(self.path))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._writer is not None:
            self._writer.release()
        if self._view is not None:
            self._view.close()
        if error is None and self.frames == 0:
            error = BeltlineError(f"--video {self.path}: the clip had no frames to write")
            self._stack.__exit__(type(error), error, None)
            raise error
        self._stack.__exit__(kind, error, trace)

    def add(self, result: Result) -> None:
        """The frame of `result` as the mirror shows it, with its verdicts (or the walk's summary)."""
        frame = result.frame
        view = self._open(frame.width_px, frame.height_px)
        self._summaries.note(result, frame.t_s)
        summary = self._summaries.showing(result, frame.t_s)
        if summary is not None:
            show_summary(view, frame, summary)
        else:
            draw_result(view, self._mode, result)
        assert self._writer is not None and self._bgr is not None
        cv2.cvtColor(view.pixels(), cv2.COLOR_RGB2BGR, dst=self._bgr)
        self._writer.write(self._bgr)
        self.frames += 1

    def _open(self, width_px: int, height_px: int) -> MirrorView:
        if self._view is not None:
            return self._view
        assert self._temporary is not None, "ClipVideo is used in a with block"
        size = (width_px - width_px % 2, height_px - height_px % 2)  # the encoder wants even sides
        self._view = MirrorView(self._display, windowed=True, offscreen_size=size)
        self._bgr = np.empty((size[1], size[0], 3), dtype=np.uint8)
        writer = cv2.VideoWriter(str(self._temporary), cv2.VideoWriter.fourcc(*FOURCC), self.fps, size)
        if not writer.isOpened():
            raise BeltlineError(f"--video {self.path}: OpenCV cannot write MPEG-4 video here")
        self._writer = writer
        return self._view

