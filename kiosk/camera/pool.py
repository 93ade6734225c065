"""Image buffers reused frame after frame, shared by every frame source."""

from __future__ import annotations

import functools
import threading
import time

import numpy as np

from kiosk.core.types import Frame, Image


class BufferPool:
    """Image buffers reused frame after frame, so capture allocates nothing in steady state.

    A buffer goes out with a frame and comes back when the frame is released; one that is still
    in use is never handed out again.  The kiosk loop has at most five frames in flight (being
    captured, waiting for the model, in the model, waiting for the screen, on the screen).  When
    every buffer is out anyway (a consumer that forgot to release) a fresh one is allocated and
    counted, so a mistake costs memory churn, never a torn picture.
    """

    def __init__(self, capacity: int = 6) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._free: list[Image] = []
        self._shape: tuple[int, ...] | None = None
        self.overflows = 0

    def acquire(self, shape: tuple[int, ...]) -> Image:
        with self._lock:
            if shape != self._shape:
                # All at once, so memory is flat from the first frame on.
                self._free = [np.zeros(shape, dtype=np.uint8) for _ in range(self._capacity)]
                self._shape = shape
            if self._free:
                return self._free.pop()
            self.overflows += 1
            return np.empty(shape, dtype=np.uint8)

    def release(self, buffer: Image) -> None:
        with self._lock:
            if buffer.shape != self._shape or len(self._free) >= self._capacity:
                return
            if not any(free is buffer for free in self._free):
                self._free.append(buffer)

    def frame(self, image: Image, index: int, t_s: float) -> Frame:
        """A frame whose release gives `image` back to this pool."""
        return Frame(image, index, t_s, time.monotonic(), None, functools.partial(self.release, image))
