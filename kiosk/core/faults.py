"""Counting what went wrong without flooding the journal, and telling a frame worth using."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)


class FaultLog:
    """Counts faults by kind and logs each kind at most once per `interval_s`, with the count since."""

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self.totals: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._last_logged: dict[str, float] = {}

    def count(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.totals[kind] += 1
            self._unlogged[kind] += 1
            now = self._clock()
            last = self._last_logged.get(kind)
            if last is not None and now - last < self._interval_s:
                return
            self._last_logged[kind] = now
            count, self._unlogged[kind] = self._unlogged[kind], 0
        suffix = f": {detail}" if detail else ""
        log.warning("%s x%d (logged at most once a minute, %d in all)%s", kind, count, self.totals[kind], suffix)


def frame_problem(image: object) -> str | None:
    """Why a picture cannot be used (wrong shape or type, empty, all black), or None when it can."""
    if not isinstance(image, np.ndarray):
        return f"not an image array ({type(image).__name__})"
    if image.ndim != 3 or image.shape[2] != 3:
        return f"wrong shape {image.shape}, expected (height, width, 3)"
    if image.dtype != np.uint8:
        return f"wrong dtype {image.dtype}, expected uint8"
    if image.size == 0:
        return "empty image"
    # A sparse look is enough to tell a black frame (a capped lens, a dead sensor) from a dark room.
    if not image[::8, ::8].any():
        return "all black"
    return None
