"""Wires the stages together; the only owner of threads.

    source ──► newest-frame slot ──► pose model ──► pelvis reading ──► tracker ──► view / records
    (capture thread)                  (main thread: the model, the tracker and pygame)

`run` shows the newest frame only: when inference falls behind, older frames are dropped and
counted, never queued.  `analyze` goes through every frame in order, as fast as it can.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.config import PelvisConfig
from kiosk.errors import SourceError
from kiosk.pelvis import read_pelvis
from kiosk.pose import PoseModel
from kiosk.sources import FrameSource
from kiosk.tracker import PelvisTracker
from kiosk.types import Frame, Pose, Verdict

log = logging.getLogger(__name__)


class PelvisPipeline:
    """Frame in, verdict out: pose model, then the pelvis gates, then the tracker."""

    def __init__(self, model: PoseModel, settings: PelvisConfig) -> None:
        self.model = model
        self._settings = settings
        self._tracker = PelvisTracker(settings)

    def step(self, frame: Frame) -> tuple[Pose, Verdict]:
        pose = self.model.estimate(frame)
        verdict = self._tracker.update(read_pelvis(pose, self._settings), frame.t_s)
        return pose, verdict


def analyze_frames(source: FrameSource, pipeline: PelvisPipeline) -> Iterator[tuple[Frame, Verdict]]:
    """Every frame of `source`, in order, with its verdict."""
    while (frame := source.read()) is not None:
        _, verdict = pipeline.step(frame)
        yield frame, verdict


class NewestFrameSlot:
    """Holds the newest frame only.  A frame nobody took before the next one arrived is dropped."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._frame: Frame | None = None
        self._ended = False
        self._error: BaseException | None = None
        self.delivered = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._changed:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.delivered += 1
            self._changed.notify()

    def end(self, error: BaseException | None = None) -> None:
        with self._changed:
            self._ended = True
            self._error = error
            self._changed.notify()

    def take(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet taken; None at the end of the stream or after `timeout_s`."""
        with self._changed:
            self._changed.wait_for(lambda: self._frame is not None or self._ended, timeout_s)
            frame, self._frame = self._frame, None
            if frame is None and self._error is not None:
                raise self._error
            return frame

    @property
    def ended(self) -> bool:
        with self._changed:
            return self._ended and self._frame is None


class CaptureThread(threading.Thread):
    """Reads the source as fast as it delivers and keeps only the newest frame."""

    def __init__(self, source: FrameSource, slot: NewestFrameSlot) -> None:
        super().__init__(name="beltline-capture", daemon=True)
        self._source = source
        self._slot = slot
        self.stop_requested = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop_requested.is_set():
                frame = self._source.read()
                if frame is None:
                    break
                self._slot.put(frame)
        except SourceError as error:
            self._slot.end(error)
            return
        except Exception as error:  # noqa: BLE001 - any capture failure must reach the main thread
            self._slot.end(SourceError(f"{self._source.description} failed: {error}"))
            return
        self._slot.end()


class View(Protocol):
    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None) -> None: ...

    def quit_requested(self) -> bool: ...

    def save_snapshot(self, path: Path) -> None: ...


@dataclass(frozen=True, slots=True)
class RunStats:
    frames_shown: int
    frames_dropped: int
    seconds: float

    @property
    def fps(self) -> float:
        return self.frames_shown / self.seconds if self.seconds > 0 else 0.0


def run_mirror(
    source: FrameSource,
    pipeline: PelvisPipeline,
    view: View,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
) -> RunStats:
    """The kiosk loop: newest frame → verdict → screen, until the source ends, a quit key or `stop`."""
    slot = NewestFrameSlot()
    capture = CaptureThread(source, slot)
    stop = stop or threading.Event()
    shown = 0
    fps_estimate: float | None = None
    started = last = time.monotonic()
    capture.start()
    try:
        while not stop.is_set() and (max_frames is None or shown < max_frames):
            if view.quit_requested():
                break
            frame = slot.take(timeout_s=0.25)
            if frame is None:
                if slot.ended:
                    break
                continue
            _, verdict = pipeline.step(frame)
            view.show(frame, verdict, fps_estimate)
            shown += 1
            now = time.monotonic()
            instant = 1.0 / max(now - last, 1e-6)
            fps_estimate = instant if fps_estimate is None else fps_estimate + 0.1 * (instant - fps_estimate)
            last = now
    finally:
        capture.stop_requested.set()
        capture.join(timeout=2.0)
    stats = RunStats(shown, slot.dropped, time.monotonic() - started)
    log.info("showed %d frames in %.1f s (%.1f fps), dropped %d stale frames", shown, stats.seconds, stats.fps, stats.frames_dropped)
    return stats
