"""The screen loop: what `run` (and `bench`) do on the main thread while capture and inference
run in theirs (kiosk.flow.threads).

It judges every look the model took, in order (kiosk.flow.pipeline: the gates, the tracker, the
walk), and shows the newest frame with the verdicts computed from that very frame; it keeps the kiosk going
unattended: the walk summary after a walker leaves, "camera unavailable" and a fresh camera when
frames stop, the heap trimmed once a minute, systemd's watchdog pinged on every pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.camera.sources import FrameSource
from kiosk.core.memory import return_free_memory
from kiosk.core.types import (
    ExerciseStatus,
    Frame,
    NoVerdict,
    PersonVerdict,
    Rep,
    ReplayScreen,
    SetSummary,
    ShowTiming,
    Stage,
    State,
    Verdict,
    WalkStatus,
    WalkSummary,
)
from kiosk.core.words import CAMERA_UNAVAILABLE, NO_VERDICT_WORDS, stand_still_words
from kiosk.flow.pipeline import Captured, Looked, Pipeline, Result
from kiosk.flow.replay import ReplayKeeper
from kiosk.flow.threads import CameraStatus, CaptureThread, InferenceThread, NewestSlot, Slot, StageProbe
from kiosk.settings.config import Mode

log = logging.getLogger(__name__)


class View(Protocol):
    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None,
             walk: WalkStatus | None = None, exercise: ExerciseStatus | None = None,
             notice: str | None = None) -> ShowTiming | None: ...

    def show_group(self, frame: Frame, people: list[PersonVerdict], fps: float | None = None,
                   notice: str | None = None) -> ShowTiming | None: ...

    def show_message(self, words: str) -> None: ...

    def show_calibration(self, frame: Frame, verdict: Verdict, words: str, progress: float) -> None: ...

    def show_walk_summary(self, frame: Frame, summary: WalkSummary) -> None: ...

    def show_set_summary(self, frame: Frame, summary: SetSummary) -> None: ...

    def show_replay(self, screen: ReplayScreen) -> None: ...

    def quit_requested(self) -> bool: ...

    def save_snapshot(self, path: Path) -> None: ...


class Notifier(Protocol):
    def ready(self, status: str = "") -> None: ...

    def status(self, status: str) -> None: ...

    def alive(self) -> None: ...


TRIM_EVERY_S = 60.0
LOOKS_WAITING = 4
"""Looks that may wait for the screen thread to judge them; then the inference thread waits."""
SET_SUMMARY_MIN_S = 4.0
"""An exercise set's summary stays at least this long, though the person is still in view."""


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

    @property
    def last_s(self) -> float | None:
        """When the last frame was shown (monotonic seconds)."""
        return self._last

    def tick(self, now: float) -> None:
        if self._last is not None:
            instant = 1.0 / max(now - self._last, 1e-6)
            self.value = instant if self.value is None else self.value + 0.1 * (instant - self.value)
        self._last = now


def draw_result(view: View, mode: Mode, result: Result, fps: float | None = None) -> ShowTiming | None:
    """One judged frame on the screen, as the mirror shows it (`analyze --video` draws the same way)."""
    if mode is Mode.GROUP:
        return view.show_group(result.frame, result.people, fps, notice=result.notice)
    if result.calibration is not None:
        primary = result.primary
        words = (stand_still_words(result.calibration.seconds_left_s) if primary.state is not State.NONE
                 else NO_VERDICT_WORDS[primary.reason or NoVerdict.NO_PERSON])
        view.show_calibration(result.frame, primary, words, result.calibration.progress)
        return None
    return view.show(result.frame, result.primary, fps, walk=result.walk, exercise=result.exercise,
                     notice=result.notice)


class SummaryHold:
    """After a walk (or an exercise set), which summary the screen shows instead of the mirror, and
    until when: `walk_summary_s`, or until someone steps in (a set's summary stays at least
    SET_SUMMARY_MIN_S, since the person is often still there).  Pure: the caller gives the time."""

    def __init__(self, walk_summary_s: float) -> None:
        self._walk_summary_s = walk_summary_s
        self.summary: WalkSummary | SetSummary | None = None
        self._since_s = 0.0
        self._until_s = 0.0

    def note(self, result: Result, now_s: float) -> None:
        """A walk or set that finished with this frame: its summary is shown next."""
        finished: WalkSummary | SetSummary | None = None
        if result.walk is not None and result.walk.finished is not None:
            finished = result.walk.finished.summary
        if result.exercise is not None and result.exercise.finished_set is not None:
            finished = result.exercise.finished_set
        if finished is not None:
            self.summary, self._since_s, self._until_s = finished, now_s, now_s + self._walk_summary_s

    def restart(self, now_s: float) -> None:
        """Show the summary in hand for its full time from now (after the walk's replay)."""
        if self.summary is not None:
            self._since_s, self._until_s = now_s, now_s + self._walk_summary_s

    def showing(self, result: Result, now_s: float) -> WalkSummary | SetSummary | None:
        """The summary to show with this frame, or None: the mirror again."""
        if self.summary is None:
            return None
        someone = result.primary.state is not State.NONE
        settled = isinstance(self.summary, WalkSummary) or now_s - self._since_s > SET_SUMMARY_MIN_S
        if (someone and settled) or now_s > self._until_s:
            self.summary = None
        return self.summary


def show_summary(view: View, frame: Frame, summary: WalkSummary | SetSummary) -> None:
    if isinstance(summary, WalkSummary):
        view.show_walk_summary(frame, summary)
    else:
        view.show_set_summary(frame, summary)


def _show(view: View, mode: Mode, result: Result, rate: _FrameRate, probe: StageProbe | None) -> None:
    timing = draw_result(view, mode, result, rate.value)
    now = time.monotonic()
    if probe is not None and rate.last_s is not None:
        probe.record(Stage.INTERVAL, now - rate.last_s)
    rate.tick(now)
    if probe is not None:
        probe.record(Stage.PREPROCESS, result.preprocess_s)
        probe.record(Stage.INVOKE, result.invoke_s)
        probe.record(Stage.POSTPROCESS, result.postprocess_s)
        probe.record(Stage.JUDGE, result.judge_s)
        probe.record(Stage.INVOKE_WAIT, max(result.invoke_s - result.invoke_cpu_s, 0.0))
        if timing is not None:
            probe.record(Stage.RENDER, timing.render_s)
            probe.record(Stage.FLIP, timing.flip_s)
        probe.record(Stage.LATENCY, now - result.frame.captured_s)
    result.release()


def run_mirror(
    source: FrameSource | None,
    pipeline: Pipeline,
    view: View,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
    *,
    sequential: bool = False,
    on_demand: bool = False,
    probe: StageProbe | None = None,
    supervision: Supervision | None = None,
    replays: ReplayKeeper | None = None,
) -> RunStats:
    """The kiosk loop until the source ends, a quit key, `stop` or `max_frames` shown frames.

    `sequential` runs capture, inference and drawing one after another in this thread (for
    comparison in `bench`); `on_demand` is CaptureThread's benchmark mode; `supervision` makes
    the loop survive a camera that fails or stalls (the kiosk), instead of ending with its error;
    `replays` keeps the frames shown, and (supervised) plays each finished walk back.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    if sequential:
        assert source is not None, "the sequential loop reads the source it is given"
        shown = _run_sequential(source, pipeline, view, max_frames, stop, probe)
        dropped = 0
    else:
        shown, dropped = _Loop(source, pipeline, view, stop, on_demand, probe, supervision, replays).run(max_frames)
    stats = RunStats(shown, dropped, time.monotonic() - started)
    log.info("showed %d frames in %.1f s (%.1f fps), dropped %d stale frames",
             shown, stats.seconds, stats.fps, stats.frames_dropped)
    return stats


class _Loop:
    """The pipelined loop: this (main) thread draws; capture and inference run in their own threads."""

    def __init__(self, source: FrameSource | None, pipeline: Pipeline, view: View, stop: threading.Event,
                 on_demand: bool, probe: StageProbe | None, supervision: Supervision | None,
                 replays: ReplayKeeper | None = None) -> None:
        self._pipeline = pipeline
        self._replays = replays
        self._last_rep: Rep | None = None
        self._view = view
        self._stop = stop
        self._on_demand = on_demand
        self._probe = probe
        self._supervision = supervision
        self._frames: NewestSlot[Captured] = NewestSlot()
        self._looks: Slot[Looked] = Slot(keep=LOOKS_WAITING)
        self._workers_stop = threading.Event()
        self._status = CameraStatus()
        self._capture = self._new_capture(source)
        self._summaries = SummaryHold(supervision.walk_summary_s if supervision else 0.0)
        self._inference = InferenceThread(self._frames, pipeline, self._looks, self._workers_stop)

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
                result = self._judge_all(self._looks.take_all(timeout_s=0.1))
                if result is None:
                    if self._looks.ended:
                        break
                    self._watch_camera(notifier)
                    continue
                if self._summary_screen(result):
                    continue
                _show(self._view, self._pipeline.mode, result, rate, self._probe)
                shown += 1
        finally:
            self._workers_stop.set()
            for worker in (self._capture, self._inference):
                worker.join(timeout=1.0)
            self._frames.drain()
            self._looks.drain()
        return shown, self._frames.dropped + self._looks.dropped

    def _judge_all(self, looks: list[Looked]) -> Result | None:
        """Every look judged in order; the newest one's result (None: no look)."""
        result = None
        for looked in looks:
            if result is not None:
                result.release()  # judged, and a newer frame is there to show
            result = self._pipeline.judge(looked)
            self._note_summary(result)
        return result

    def _note_summary(self, result: Result) -> None:
        """A walk (or an exercise set) that finished with this frame: its replay and its summary are shown next."""
        if self._supervision is None:
            return
        now = time.monotonic()
        self._summaries.note(result, now)
        replays = self._replays
        if replays is None:
            return
        if result.walk is not None and result.walk.finished is not None:
            replays.walk_finished(result.walk.finished, now)
        exercise = result.exercise
        if exercise is not None and exercise.last_rep is not None and exercise.last_rep is not self._last_rep:
            replays.rep_done(exercise.last_rep)
        self._last_rep = exercise.last_rep if exercise is not None else None
        if exercise is not None and exercise.finished_set is not None:
            replays.set_finished(exercise.finished_set, now)

    def _summary_screen(self, result: Result) -> bool:
        """After a walk, its replay (ReplayKeeper), then its summary (SummaryHold), instead of the
        mirror; after an exercise set, its worst rep's replay, then its summary."""
        now = time.monotonic()
        replays = self._replays
        if replays is not None:
            replays.keep(result.frame, result.primary, now)
            if replays.playing:
                lifting = result.exercise is not None and result.exercise.lifting is not None
                screen = replays.screen(result.primary, now, lifting)
                if screen is not None:
                    self._view.show_replay(screen)
                    result.release()
                    return True
                self._summaries.restart(now)  # played to its end (or cut short: then the summary ends too)
        summary = self._summaries.showing(result, now)
        if summary is None:
            return False
        show_summary(self._view, result.frame, summary)
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


def _run_sequential(source: FrameSource, pipeline: Pipeline, view: View, max_frames: int | None,
                    stop: threading.Event, probe: StageProbe | None) -> int:
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
            probe.record(Stage.CAPTURE, time.perf_counter() - started)
        _show(view, pipeline.mode, pipeline.finish(Captured(frame, None)), rate, probe)
        shown += 1
    return shown
