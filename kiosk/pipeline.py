"""Wires the stages together; the only owner of threads.

    capture thread          inference thread                          main thread
    source ──► newest-frame slot ──► pose model ─► gates ─► tracker ──► newest-result slot ──► view

`run` is a pipeline: while the model works on frame N, the main thread draws frame N-1 with
its own verdict and the capture thread fetches N+1, so the loop runs at the pace of its
slowest stage rather than the sum of all of them.  A slot holds only the newest item: when a
stage falls behind, stale frames are dropped (and counted), never queued.  The screen shows
each frame with the verdict computed from that very frame, so the ruler sits on the belt
even while the person walks (README, "Which frame to show").

`analyze` goes through every frame in order, as fast as it can, with the same pipeline step.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from kiosk.config import PelvisConfig
from kiosk.errors import BeltlineError, SourceError
from kiosk.pelvis import read_pelvis
from kiosk.pose import PoseModel
from kiosk.sources import FrameSource
from kiosk.tracker import PelvisTracker
from kiosk.types import Frame, Pose, ShowTiming, Verdict

log = logging.getLogger(__name__)


class PelvisPipeline:
    """Frame in, verdict out: pose model, then the pelvis gates, then the tracker."""

    def __init__(self, model: PoseModel, settings: PelvisConfig) -> None:
        self.model = model
        self._settings = settings
        self._tracker = PelvisTracker(settings)

    def step(self, frame: Frame) -> tuple[Pose, Verdict]:
        return self._judge(frame, self.model.estimate(frame))

    def prepare(self, frame: Frame) -> Captured:
        """The part of a step that can run ahead, in the capture thread: cutting and scaling for the model."""
        prepare = getattr(self.model, "prepare", None)
        return Captured(frame, prepare(frame) if prepare is not None else None)

    def finish(self, captured: Captured) -> Result:
        """The rest of a step: the model, the gates and the tracker, timed."""
        started = time.perf_counter()
        if captured.prepared is not None:
            pose = self.model.infer(captured.prepared)  # type: ignore[attr-defined]
        else:
            pose = self.model.estimate(captured.frame)
        _, verdict = self._judge(captured.frame, pose)
        total = time.perf_counter() - started
        timing = getattr(self.model, "last_timing", None)
        if timing is None:
            return Result(captured.frame, verdict, 0.0, total, 0.0)
        # postprocess: keypoints out of the model, the pelvis gates and the tracker
        postprocess = total - timing.invoke_s
        if captured.prepared is None:
            postprocess -= timing.preprocess_s
        return Result(captured.frame, verdict, timing.preprocess_s, timing.invoke_s, max(postprocess, 0.0))

    def _judge(self, frame: Frame, pose: Pose) -> tuple[Pose, Verdict]:
        return pose, self._tracker.update(read_pelvis(pose, self._settings), frame.t_s)


def analyze_frames(source: FrameSource, pipeline: PelvisPipeline) -> Iterator[tuple[Frame, Verdict]]:
    """Every frame of `source`, in order, with its verdict."""
    while (frame := source.read()) is not None:
        _, verdict = pipeline.step(frame)
        yield frame, verdict
        frame.release()


class Releasable(Protocol):
    def release(self) -> None: ...


Item = TypeVar("Item", bound=Releasable)


class NewestSlot(Generic[Item]):
    """Holds the newest item only.  One that nobody took before the next arrived is released and counted."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._item: Item | None = None
        self._ended = False
        self._error: BaseException | None = None
        self.delivered = 0
        self.dropped = 0

    def put(self, item: Item) -> None:
        with self._changed:
            if self._item is not None:
                self._item.release()
                self.dropped += 1
            self._item = item
            self.delivered += 1
            self._changed.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        with self._changed:
            self._ended = True
            self._error = error
            self._changed.notify_all()

    def take(self, timeout_s: float) -> Item | None:
        """The newest item not yet taken; None at the end of the stream or after `timeout_s`."""
        with self._changed:
            self._changed.wait_for(lambda: self._item is not None or self._ended, timeout_s)
            item, self._item = self._item, None
            if item is None and self._error is not None:
                raise self._error
            self._changed.notify_all()
            return item

    def wait_until_taken(self, timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._item is None, timeout_s)

    def drain(self) -> None:
        with self._changed:
            if self._item is not None:
                self._item.release()
                self._item = None

    @property
    def ended(self) -> bool:
        with self._changed:
            return self._ended and self._item is None


NewestFrameSlot = NewestSlot[Frame]


class LoopProbe:
    """Per-frame stage times and latency in seconds, for `bench`; the loop is the same without one.

    Samples go into arrays allocated up front, so measuring does not itself grow the process.
    """

    STAGES = ("capture", "preprocess", "invoke", "postprocess", "render", "flip", "latency")

    def __init__(self, capacity: int = 100_000) -> None:
        self._values = {stage: np.full(capacity, np.nan) for stage in self.STAGES}  # touched now, not mid-run
        self._counts = dict.fromkeys(self.STAGES, 0)

    def record(self, stage: str, seconds: float) -> None:
        count = self._counts[stage]
        values = self._values[stage]
        if count < values.size:
            values[count] = seconds
            # One writer per stage (the capture thread writes only "capture"), so no lock is needed.
            self._counts[stage] = count + 1

    def clear(self) -> None:
        for stage in self.STAGES:
            self._counts[stage] = 0

    def samples(self, stage: str) -> np.ndarray:
        return self._values[stage][: self._counts[stage]]


@dataclass(frozen=True, slots=True)
class Captured:
    """A frame and, when the model can prepare ahead, its model input."""

    frame: Frame
    prepared: Any

    def release(self) -> None:
        if self.prepared is not None:
            self.prepared.release()
        self.frame.release()


@dataclass(frozen=True, slots=True)
class Result:
    """A frame and the verdict computed from it, on their way to the screen."""

    frame: Frame
    verdict: Verdict
    preprocess_s: float
    invoke_s: float
    postprocess_s: float

    def release(self) -> None:
        self.frame.release()


class _Worker(threading.Thread):
    """A named pipeline thread that hands any failure to the next stage instead of dying silently."""

    def __init__(self, name: str, downstream: NewestSlot, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.downstream = downstream
        self.stop = stop

    def run(self) -> None:
        try:
            self.work()
        except BeltlineError as error:
            self.downstream.end(error)
            return
        except Exception as error:  # any failure must reach the main thread, which reports it
            log.debug("%s failed", self.name, exc_info=True)
            self.downstream.end(SourceError(f"{self.name} failed: {type(error).__name__}: {error}"))
            return
        self.downstream.end()

    def work(self) -> None:
        raise NotImplementedError


class CaptureThread(_Worker):
    """Reads the source as fast as it delivers and keeps only the newest frame.

    `on_demand` reads the next frame only once the last one was taken and stamps it then: a
    camera that always has a fresh picture ready, for benchmarking a clip at the model's pace
    without burning a core on decoding frames nobody will look at.
    """

    def __init__(self, source: FrameSource, pipeline: PelvisPipeline, slot: NewestSlot[Captured],
                 stop: threading.Event, on_demand: bool = False, probe: LoopProbe | None = None) -> None:
        super().__init__("beltline-capture", slot, stop)
        self._source = source
        self._pipeline = pipeline
        self._on_demand = on_demand
        self._probe = probe

    def work(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            frame = self._source.read()
            if frame is None:
                return
            if self._probe is not None:
                self._probe.record("capture", time.perf_counter() - started)
            if self._on_demand:
                while not self.downstream.wait_until_taken(0.1):
                    if self.stop.is_set():
                        frame.release()
                        return
                frame = dataclasses.replace(frame, captured_s=time.monotonic())
            self.downstream.put(self._pipeline.prepare(frame))


class InferenceThread(_Worker):
    """Newest frame → verdict, one after another, at the model's own pace."""

    def __init__(self, frames: NewestSlot[Captured], pipeline: PelvisPipeline, results: NewestSlot[Result],
                 stop: threading.Event) -> None:
        super().__init__("beltline-inference", results, stop)
        self._frames = frames
        self._pipeline = pipeline

    def work(self) -> None:
        while not self.stop.is_set():
            captured = self._frames.take(timeout_s=0.1)
            if captured is None:
                if self._frames.ended:
                    return
                continue
            self.downstream.put(self._pipeline.finish(captured))


class View(Protocol):
    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None) -> ShowTiming | None: ...

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


class _FrameRate:
    """A smoothed frames-per-second estimate for the optional on-screen counter."""

    def __init__(self) -> None:
        self.value: float | None = None
        self._last: float | None = None

    def tick(self, now: float) -> None:
        if self._last is not None:
            instant = 1.0 / max(now - self._last, 1e-6)
            self.value = instant if self.value is None else self.value + 0.1 * (instant - self.value)
        self._last = now


def _show(view: View, result: Result, rate: _FrameRate, probe: LoopProbe | None) -> None:
    timing = view.show(result.frame, result.verdict, rate.value)
    now = time.monotonic()
    rate.tick(now)
    if probe is not None:
        probe.record("preprocess", result.preprocess_s)
        probe.record("invoke", result.invoke_s)
        probe.record("postprocess", result.postprocess_s)
        if timing is not None:
            probe.record("render", timing.render_s)
            probe.record("flip", timing.flip_s)
        probe.record("latency", now - result.frame.captured_s)
    result.release()


def run_mirror(
    source: FrameSource,
    pipeline: PelvisPipeline,
    view: View,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
    *,
    sequential: bool = False,
    on_demand: bool = False,
    probe: LoopProbe | None = None,
) -> RunStats:
    """The kiosk loop until the source ends, a quit key, `stop` or `max_frames` shown frames.

    `sequential` runs capture, inference and drawing one after another in this thread (for
    comparison in `bench`); `on_demand` is CaptureThread's benchmark mode.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    if sequential:
        shown = _run_sequential(source, pipeline, view, max_frames, stop, probe)
        dropped = 0
    else:
        shown, dropped = _run_pipelined(source, pipeline, view, max_frames, stop, on_demand, probe)
    stats = RunStats(shown, dropped, time.monotonic() - started)
    log.info("showed %d frames in %.1f s (%.1f fps), dropped %d stale frames",
             shown, stats.seconds, stats.fps, stats.frames_dropped)
    return stats


def _run_pipelined(source: FrameSource, pipeline: PelvisPipeline, view: View, max_frames: int | None,
                   stop: threading.Event, on_demand: bool, probe: LoopProbe | None) -> tuple[int, int]:
    frames: NewestSlot[Captured] = NewestSlot()
    results: NewestSlot[Result] = NewestSlot()
    workers_stop = threading.Event()
    workers = [
        CaptureThread(source, pipeline, frames, workers_stop, on_demand=on_demand, probe=probe),
        InferenceThread(frames, pipeline, results, workers_stop),
    ]
    rate = _FrameRate()
    shown = 0
    for worker in workers:
        worker.start()
    try:
        while not stop.is_set() and (max_frames is None or shown < max_frames):
            if view.quit_requested():
                break
            result = results.take(timeout_s=0.1)
            if result is None:
                if results.ended:
                    break
                continue
            _show(view, result, rate, probe)
            shown += 1
    finally:
        workers_stop.set()
        for worker in workers:
            worker.join(timeout=2.0)
        frames.drain()
        results.drain()
    return shown, frames.dropped + results.dropped


def _run_sequential(source: FrameSource, pipeline: PelvisPipeline, view: View, max_frames: int | None,
                    stop: threading.Event, probe: LoopProbe | None) -> int:
    rate = _FrameRate()
    shown = 0
    while not stop.is_set() and (max_frames is None or shown < max_frames):
        if view.quit_requested():
            break
        started = time.perf_counter()
        frame = source.read()
        if frame is None:
            break
        if probe is not None:
            probe.record("capture", time.perf_counter() - started)
        _show(view, pipeline.finish(Captured(frame, None)), rate, probe)
        shown += 1
    return shown
