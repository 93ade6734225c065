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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from kiosk.config import PelvisConfig
from kiosk.errors import BeltlineError, SourceError
from kiosk.faults import FaultLog, frame_problem
from kiosk.gait import GaitThresholds, StepRecord, WalkStatus, WalkTracker
from kiosk.memory import return_free_memory
from kiosk.pelvis import read_pelvis
from kiosk.pose import PoseModel
from kiosk.sources import FrameSource
from kiosk.tracker import PelvisTracker
from kiosk.types import Frame, NoVerdict, PersonVerdict, Pose, ShowTiming, State, Verdict

log = logging.getLogger(__name__)


class PelvisPipeline:
    """Frame in, verdict out: pose model, then the pelvis gates, then the tracker (and the steps)."""

    def __init__(self, model: PoseModel, settings: PelvisConfig, faults: FaultLog | None = None,
                 baseline_deg: float | None = None, keep_steps: bool = False, lock: PersonLock | None = None) -> None:
        """`baseline_deg`: the calibrated standing tilt (None: not calibrated).
        `keep_steps`: remember every step of every walk (for `analyze`; the kiosk does not).
        `lock`: hands the ruler to somebody nearer the screen (kiosk.group.NearestPersonLock)."""
        self.model = model
        self._lock = lock
        self._settings = settings
        self.baseline_deg = baseline_deg
        self._tracker = PelvisTracker(settings, baseline_deg or 0.0)
        self._walk = WalkTracker(GaitThresholds(drop_deg=settings.tolerance_deg), keep_history=keep_steps)
        self.walk = WalkStatus(0, None)
        self.faults = faults or FaultLog()

    def step(self, frame: Frame) -> tuple[Pose, Verdict]:
        return self._judge(frame, self.model.estimate(frame))

    def end_walk(self) -> list[StepRecord]:
        """Close the walk in progress (the end of a clip); every step seen so far."""
        self._walk.close()
        return self._walk.history

    def prepare(self, frame: Frame) -> Captured:
        """The part of a step that can run ahead, in the capture thread: cutting and scaling for the model."""
        prepare = getattr(self.model, "prepare", None)
        return Captured(frame, prepare(frame) if prepare is not None else None)

    def finish(self, captured: Captured) -> Result:
        """The rest of a step: the model, the gates and the tracker, timed."""
        started = time.perf_counter()
        if captured.prepared is not None:
            pose = self.model.infer(captured.prepared, captured.frame)  # type: ignore[attr-defined]
        else:
            pose = self.model.estimate(captured.frame)
        _, verdict = self._judge(captured.frame, pose)
        total = time.perf_counter() - started
        timing = getattr(self.model, "last_timing", None)
        if timing is None:
            return Result(captured.frame, verdict, 0.0, total, 0.0, self.walk)
        # postprocess: keypoints out of the model, the pelvis gates and the tracker
        postprocess = total - timing.invoke_s
        if captured.prepared is None:
            postprocess -= timing.preprocess_s
        return Result(captured.frame, verdict, timing.preprocess_s, timing.invoke_s, max(postprocess, 0.0), self.walk)

    def _judge(self, frame: Frame, pose: Pose) -> tuple[Pose, Verdict]:
        """The lock, the gates, the tracker and the walk for the model's pose; the pose judged."""
        if not pose.finite:
            # A broken model output is not a person: skip it, count it, look at the whole frame next.
            self.faults.count("nan_keypoints")
            self.model.forget_person()
            verdict = self._tracker.update(NoVerdict.NO_PERSON, frame.t_s)
        else:
            if self._lock is not None:
                pose = self._lock.nearer_person(frame, pose) or pose
            verdict = self._tracker.update(read_pelvis(pose, self._settings), frame.t_s)
        self.walk = self._walk.update(pose, verdict, frame.t_s)
        return pose, verdict


def analyze_frames(source: FrameSource, pipeline: PelvisPipeline) -> Iterator[tuple[Frame, Pose, Verdict]]:
    """Every frame of `source`, in order, with its pose and verdict."""
    while (frame := source.read()) is not None:
        pose, verdict = pipeline.step(frame)
        yield frame, pose, verdict
        frame.release()


class PersonLock(Protocol):
    def nearer_person(self, frame: Frame, current: Pose) -> Pose | None: ...


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
    walk: WalkStatus | None = None
    people: list[PersonVerdict] | None = None
    """Group mode: everyone's verdict (`verdict` is then the first person's with one)."""

    def release(self) -> None:
        self.frame.release()


class _Worker(threading.Thread):
    """A named pipeline thread that hands any failure to the next stage instead of dying silently."""

    def __init__(self, name: str, downstream: NewestSlot, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.downstream = downstream
        self.stop = stop
        self.abandoned = threading.Event()

    def run(self) -> None:
        try:
            self.work()
        except BeltlineError as error:
            self._end(error)
            return
        except Exception as error:  # any failure must reach the main thread, which reports it
            log.debug("%s failed", self.name, exc_info=True)
            self._end(SourceError(f"{self.name} failed: {type(error).__name__}: {error}"))
            return
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        if not self.abandoned.is_set():  # a replaced thread must not end its successor's stream
            self.downstream.end(error)

    @property
    def stopping(self) -> bool:
        return self.stop.is_set() or self.abandoned.is_set()

    def work(self) -> None:
        raise NotImplementedError


class CameraStatus:
    """What the capture side last said about the camera, for the screen and the stall check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.problem: str | None = None
        self.last_frame_s = time.monotonic()
        self.losses = 0
        self.recoveries = 0

    def frame_arrived(self) -> None:
        with self._lock:
            self.last_frame_s = time.monotonic()

    def lost(self, problem: str) -> None:
        with self._lock:
            if self.problem is None:
                self.losses += 1
                log.warning("camera lost: %s; retrying", problem)
            self.problem = problem

    def back(self) -> None:
        with self._lock:
            if self.problem is not None:
                self.recoveries += 1
                log.warning("camera back after: %s", self.problem)
            self.problem = None
            self.last_frame_s = time.monotonic()

    def silent_for(self, now: float) -> float:
        with self._lock:
            return now - self.last_frame_s


class Backoff:
    """Waits between reconnection attempts: 0.25 s, doubling, at most `cap_s`.

    The cap keeps "camera back → picture back" within about `cap_s` plus the time to open it.
    """

    def __init__(self, first_s: float = 0.25, cap_s: float = 2.0) -> None:
        self._first_s = first_s
        self._cap_s = cap_s
        self._next_s = first_s

    def next(self) -> float:
        delay, self._next_s = self._next_s, min(self._next_s * 2, self._cap_s)
        return delay

    def reset(self) -> None:
        self._next_s = self._first_s


class CaptureThread(_Worker):
    """Reads the source as fast as it delivers and keeps only the newest frame.

    With `reopen`, a camera that fails is closed and opened again with back-off for as long as
    the kiosk runs; unusable frames (wrong shape, all black) are skipped and counted.  Without
    it (bench, tests), a failure ends the stream and reaches the main thread.

    `on_demand` reads the next frame only once the last one was taken and stamps it then: a
    camera that always has a fresh picture ready, for benchmarking a clip at the model's pace
    without burning a core on decoding frames nobody will look at.
    """

    def __init__(self, source: FrameSource | None, pipeline: PelvisPipeline, slot: NewestSlot[Captured],
                 stop: threading.Event, on_demand: bool = False, probe: LoopProbe | None = None,
                 reopen: Callable[[], FrameSource] | None = None, status: CameraStatus | None = None) -> None:
        super().__init__("beltline-capture", slot, stop)
        self._source = source
        self._pipeline = pipeline
        self._on_demand = on_demand
        self._probe = probe
        self._reopen = reopen
        self.status = status or CameraStatus()

    def work(self) -> None:
        backoff = Backoff()
        source = self._source
        while not self.stopping:
            if source is None:
                assert self._reopen is not None
                try:
                    source = self._reopen()
                except SourceError as error:
                    self.status.lost(str(error))
                    self.stop.wait(backoff.next())
                    continue
                self.status.back()
                backoff.reset()
            # The caller owns the source it handed in; sources opened here are closed here.
            opened_here = source is not self._source
            try:
                ended = self._pump(source)
            except SourceError as error:
                if self._reopen is None:
                    raise
                self._pipeline.faults.count("camera_lost", str(error))
                self.status.lost(str(error))
                _close_quietly(source)
                source = None
                self.stop.wait(backoff.next())
                continue
            if opened_here:
                _close_quietly(source)
            if ended or self._reopen is None:
                return

    def _pump(self, source: FrameSource) -> bool:
        """Frames from `source` into the slot; True at the end of the stream."""
        while not self.stopping:
            started = time.perf_counter()
            frame = source.read()
            if frame is None:
                return True
            problem = frame_problem(frame.image)
            if problem is not None:
                self._pipeline.faults.count("bad_frame", problem)
                frame.release()
                continue
            self.status.frame_arrived()
            if self._probe is not None:
                self._probe.record("capture", time.perf_counter() - started)
            if self._on_demand:
                while not self.downstream.wait_until_taken(0.1):
                    if self.stopping:
                        frame.release()
                        return False
                frame = dataclasses.replace(frame, captured_s=time.monotonic())
            if self.stopping:
                frame.release()
                return False
            self.downstream.put(self._pipeline.prepare(frame))
        return False


def _close_quietly(source: FrameSource) -> None:
    try:
        source.close()
    except Exception as error:  # noqa: BLE001 -- closing a vanished camera may fail; it is gone either way
        log.debug("closing %s failed: %s", getattr(source, "description", "source"), error)


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
    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None,
             walk: WalkStatus | None = None) -> ShowTiming | None: ...

    def show_group(self, frame: Frame, people: list[PersonVerdict], fps: float | None = None) -> ShowTiming | None: ...

    def show_message(self, words: str) -> None: ...

    def show_walk_summary(self, frame: Frame, summary: dict) -> None: ...

    def quit_requested(self) -> bool: ...

    def save_snapshot(self, path: Path) -> None: ...


class Notifier(Protocol):
    def ready(self, status: str = "") -> None: ...

    def status(self, status: str) -> None: ...

    def alive(self) -> None: ...


CAMERA_UNAVAILABLE = "Camera unavailable \u2014 retrying"
TRIM_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class Supervision:
    """How `run` keeps going unattended."""

    reopen: Callable[[], FrameSource]
    """Opens the source again after it failed or stalled."""
    stall_timeout_s: float = 2.0
    """No usable frame for this long: say so on screen and reconnect."""
    notifier: Notifier | None = None
    walk_summary_s: float = 8.0
    """How long a walk's summary stays up after the walker left (someone stepping in ends it)."""


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
    if result.people is not None:
        timing = view.show_group(result.frame, result.people, rate.value)
    else:
        timing = view.show(result.frame, result.verdict, rate.value, walk=result.walk)
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
    supervision: Supervision | None = None,
) -> RunStats:
    """The kiosk loop until the source ends, a quit key, `stop` or `max_frames` shown frames.

    `sequential` runs capture, inference and drawing one after another in this thread (for
    comparison in `bench`); `on_demand` is CaptureThread's benchmark mode; `supervision` makes
    the loop survive a camera that fails or stalls (the kiosk), instead of ending with its error.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    if sequential:
        shown = _run_sequential(source, pipeline, view, max_frames, stop, probe)
        dropped = 0
    else:
        shown, dropped = _Loop(source, pipeline, view, stop, on_demand, probe, supervision).run(max_frames)
    stats = RunStats(shown, dropped, time.monotonic() - started)
    log.info("showed %d frames in %.1f s (%.1f fps), dropped %d stale frames",
             shown, stats.seconds, stats.fps, stats.frames_dropped)
    return stats


class _Loop:
    """The pipelined loop: this (main) thread draws; capture and inference run in their own threads."""

    def __init__(self, source: FrameSource, pipeline: PelvisPipeline, view: View, stop: threading.Event,
                 on_demand: bool, probe: LoopProbe | None, supervision: Supervision | None) -> None:
        self._pipeline = pipeline
        self._view = view
        self._stop = stop
        self._on_demand = on_demand
        self._probe = probe
        self._supervision = supervision
        self._frames: NewestSlot[Captured] = NewestSlot()
        self._results: NewestSlot[Result] = NewestSlot()
        self._workers_stop = threading.Event()
        self._status = CameraStatus()
        self._capture = self._new_capture(source)
        self._summary: dict | None = None
        self._summary_until = 0.0
        self._inference = InferenceThread(self._frames, pipeline, self._results, self._workers_stop)

    def _new_capture(self, source: FrameSource | None) -> CaptureThread:
        reopen = self._supervision.reopen if self._supervision else None
        return CaptureThread(source, self._pipeline, self._frames, self._workers_stop, self._on_demand,
                             self._probe, reopen, self._status)

    def run(self, max_frames: int | None) -> tuple[int, int]:
        notifier = self._supervision.notifier if self._supervision else None
        rate = _FrameRate()
        shown = 0
        self._capture.start()
        self._inference.start()
        if notifier is not None:
            notifier.ready("running")
        trim_at = time.monotonic() + TRIM_EVERY_S
        recoveries = self._status.recoveries
        try:
            while not self._stop.is_set() and (max_frames is None or shown < max_frames):
                if notifier is not None:
                    notifier.alive()
                if time.monotonic() >= trim_at or self._status.recoveries != recoveries:
                    return_free_memory()
                    trim_at = time.monotonic() + TRIM_EVERY_S
                    recoveries = self._status.recoveries
                if self._view.quit_requested():
                    break
                result = self._results.take(timeout_s=0.1)
                if result is None:
                    if self._results.ended:
                        break
                    self._watch_camera(notifier)
                    continue
                if self._summary_screen(result):
                    continue
                _show(self._view, result, rate, self._probe)
                shown += 1
        finally:
            self._workers_stop.set()
            for worker in (self._capture, self._inference):
                worker.join(timeout=1.0)
            self._frames.drain()
            self._results.drain()
        return shown, self._frames.dropped + self._results.dropped

    def _summary_screen(self, result: Result) -> bool:
        """After a walk, show its summary until the time is up or someone steps in again."""
        if result.walk is not None and result.walk.finished is not None and self._supervision is not None:
            self._summary = result.walk.finished
            self._summary_until = time.monotonic() + self._supervision.walk_summary_s
        if self._summary is None:
            return False
        if result.verdict.state is not State.NONE or time.monotonic() > self._summary_until:
            self._summary = None
            return False
        self._view.show_walk_summary(result.frame, self._summary)
        result.release()
        return True

    def _watch_camera(self, notifier: Notifier | None) -> None:
        """No new picture: if the camera has been silent too long, say so and get a fresh one."""
        if self._supervision is None:
            return
        silent_s = self._status.silent_for(time.monotonic())
        if self._status.problem is None and silent_s < self._supervision.stall_timeout_s:
            return
        self._view.show_message(CAMERA_UNAVAILABLE)
        if notifier is not None:
            notifier.status(f"camera unavailable: {self._status.problem or 'no frames'}")
        if self._status.problem is None and silent_s >= self._supervision.stall_timeout_s:
            # Frames stopped without an error: the read is stuck (or every frame is unusable).
            # Leave that thread to die on its own and read from a freshly opened camera.
            self._status.lost(f"no usable frame for {silent_s:.1f} s")
            self._pipeline.faults.count("camera_stalled")
            self._capture.abandoned.set()
            self._capture = self._new_capture(None)
            self._capture.start()


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
