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
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def clip_video(path: Path, display: DisplayConfig, mode: Mode, clip_fps: float, speed: float = 1.0,
               mirror: bool = False) -> Iterator[ClipVideo]:
    """The video the analysed frames are drawn into: at `path`, whole, when the block ends without
    an error and the clip had frames; nothing there otherwise (kiosk.core.files.atomic_path)."""
    check_video_path(path, speed)
    with atomic_path(path) as temporary:
        video = ClipVideo(temporary, display, mode, clip_fps * speed, mirror, named=path)
        try:
            yield video
        finally:
            video.close()
        if video.frames == 0:
            raise BeltlineError(f"--video {path}: the clip had no frames to write")


class ClipVideo:
    """Draws each judged frame as the mirror would and adds it to the video file (opened at the
    first frame, when its size is known)."""

    def __init__(self, path: Path, display: DisplayConfig, mode: Mode, fps: float, mirror: bool,
                 named: Path | None = None) -> None:
        """`named`: the path the user gave (`path` may be the temporary file it will become)."""
        self.path = path
        self._named = named or path
        self.fps = fps
        self._display = dataclasses.replace(display, mirror=mirror, show_fps=False)
        self._mode = mode
        self._summaries = SummaryHold(WALK_SUMMARY_S)
        self._view: MirrorView | None = None
        self._writer: cv2.VideoWriter | None = None
        self._bgr: np.ndarray | None = None
        self.frames = 0

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

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
        if self._view is not None:
            self._view.close()

    def _open(self, width_px: int, height_px: int) -> MirrorView:
        if self._view is not None:
            return self._view
        size = (width_px - width_px % 2, height_px - height_px % 2)  # the encoder wants even sides
        self._view = MirrorView(self._display, windowed=True, offscreen_size=size)
        self._bgr = np.empty((size[1], size[0], 3), dtype=np.uint8)
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*FOURCC), self.fps, size)
        if not writer.isOpened():
            raise BeltlineError(f"--video {self._named}: OpenCV cannot write MPEG-4 video here")
        self._writer = writer
        return self._view
