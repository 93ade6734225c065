"""The threads of the kiosk loop and the slots between them.

    capture thread                      inference thread                     screen thread
    source ──► prepare ──► NewestSlot ──► pipeline.look ──► Slot(keep=4) ──► pipeline.judge ──► view

The frame slot holds only the newest frame: when the model falls behind, stale frames are
released and counted, never queued.  The looks wait in order for the screen thread, which judges
every one (the tracker and the step counter see every frame the model saw) and shows the newest;
when four are waiting, the model waits for the screen.
Every thread has a name and a stop event and is joined; a failure in one reaches the main thread
through its slot: an expected one (`BeltlineError`) as it is, a bug as itself, so the command line
tells them apart (exit 2 against exit 1).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from kiosk.camera.sources import FrameSource
from kiosk.core.errors import BeltlineError, SourceError
from kiosk.core.faults import frame_problem
from kiosk.core.types import Stage
from kiosk.flow.pipeline import Captured, Looked, Pipeline

log = logging.getLogger(__name__)


class StageProbe(Protocol):
    """Takes per-frame stage times in seconds (`bench`'s LoopProbe); the loop is the same without one."""

    def record(self, stage: Stage, seconds: float) -> None: ...


class Releasable(Protocol):
    def release(self) -> None: ...


Item = TypeVar("Item", bound=Releasable)


class Slot(Generic[Item]):
    """Holds the last `keep` items in order.  One pushed out by a newer one before anybody took it
    is released and counted."""

    def __init__(self, keep: int = 1) -> None:
        self._changed = threading.Condition()
        self._items: deque[Item] = deque()
        self._keep = keep
        self._ended = False
        self._error: BaseException | None = None
        self.delivered = 0
        self.dropped = 0

    def put(self, item: Item) -> None:
        with self._changed:
            while len(self._items) >= self._keep:
                self._items.popleft().release()
                self.dropped += 1
            self._items.append(item)
            self.delivered += 1
            self._changed.notify_all()

    def put_when_room(self, item: Item, stopping: Callable[[], bool]) -> None:
        """Wait while `keep` items are waiting, then put: a reader that falls behind holds the
        writer back instead of losing items (the item is released if `stopping` comes first)."""
        with self._changed:
            while len(self._items) >= self._keep:
                if stopping():
                    item.release()
                    return
                self._changed.wait(0.05)
            self._items.append(item)
            self.delivered += 1
            self._changed.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        with self._changed:
            self._ended = True
            self._error = error
            self._changed.notify_all()

    def take_all(self, timeout_s: float) -> list[Item]:
        """Every item not yet taken, oldest first; none at the end of the stream or after `timeout_s`."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._items) or self._ended, timeout_s)
            items = list(self._items)
            self._items.clear()
            if not items and self._error is not None:
                raise self._error
            self._changed.notify_all()
            return items

    def take(self, timeout_s: float) -> Item | None:
        """The newest item not yet taken (older ones are released and counted); None at the end of
        the stream or after `timeout_s`."""
        items = self.take_all(timeout_s)
        for stale in items[:-1]:
            stale.release()
            with self._changed:
                self.dropped += 1
        return items[-1] if items else None

    def wait_until_taken(self, timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: not self._items, timeout_s)

    def drain(self) -> None:
        with self._changed:
            while self._items:
                self._items.popleft().release()

    @property
    def ended(self) -> bool:
        with self._changed:
            return self._ended and not self._items


class NewestSlot(Slot[Item]):
    """Holds the newest item only."""

    def __init__(self) -> None:
        super().__init__(keep=1)


class _Worker(threading.Thread, Generic[Item]):
    """A named pipeline thread that hands any failure to the next stage instead of dying silently."""

    def __init__(self, name: str, downstream: Slot[Item], stop: threading.Event) -> None:
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
        except Exception as error:  # a bug: it must reach the main thread, which reports it as one
            log.debug("%s failed", self.name, exc_info=True)
            self._end(error)
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


STILL_WAITING_EVERY_S = 60.0
"""While the camera stays away, the journal says what the kiosk waits for this often."""


class CameraStatus:
    """What the capture side last said about the camera, for the screen and the stall check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.problem: str | None = None
        self.last_frame_s = time.monotonic()
        self.losses = 0
        self.recoveries = 0
        self._lost_since_s = 0.0
        self._said_s = 0.0

    def frame_arrived(self) -> None:
        with self._lock:
            self.last_frame_s = time.monotonic()

    def lost(self, problem: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self.problem is None:
                self.losses += 1
                self._lost_since_s = self._said_s = now
                log.warning("camera lost: %s; retrying", problem)
            elif now - self._said_s >= STILL_WAITING_EVERY_S:
                self._said_s = now
                log.warning("camera still unavailable after %.0f s: %s; retrying", now - self._lost_since_s, problem)
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


class CaptureThread(_Worker[Captured]):
    """Reads the source as fast as it delivers and keeps only the newest frame.

    With `reopen`, a camera that fails is closed and opened again with back-off for as long as
    the kiosk runs; unusable frames (wrong shape, all black) are skipped and counted.  Without
    it (bench, tests), a failure ends the stream and reaches the main thread.

    `on_demand` reads the next frame only once the last one was taken and stamps it then: a
    camera that always has a fresh picture ready, for benchmarking a clip at the model's pace
    without burning a core on decoding frames nobody will look at.
    """

    def __init__(self, source: FrameSource | None, pipeline: Pipeline, slot: NewestSlot[Captured],
                 stop: threading.Event, on_demand: bool = False, probe: StageProbe | None = None,
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
                close_quietly(source)
                source = None
                self.stop.wait(backoff.next())
                continue
            if opened_here:
                close_quietly(source)
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
                self._probe.record(Stage.CAPTURE, time.perf_counter() - started)
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


def close_quietly(source: FrameSource) -> None:
    try:
        source.close()
    except Exception as error:  # noqa: BLE001 -- closing a vanished camera may fail; it is gone either way
        log.debug("closing %s failed: %s", getattr(source, "description", "source"), error)


class InferenceThread(_Worker[Looked]):
    """Newest frame → the model's look at it, one after another, at the model's own pace."""

    def __init__(self, frames: NewestSlot[Captured], pipeline: Pipeline, looks: Slot[Looked],
                 stop: threading.Event) -> None:
        super().__init__("beltline-inference", looks, stop)
        self._frames = frames
        self._pipeline = pipeline

    def work(self) -> None:
        while not self.stop.is_set():
            captured = self._frames.take(timeout_s=0.1)
            if captured is None:
                if self._frames.ended:
                    return
                continue
            # Every look is judged: when the screen thread is four behind, the model waits for it
            # (and the frame slot drops stale frames meanwhile).
            self.downstream.put_when_room(self._pipeline.look(captured), lambda: self.stopping)


