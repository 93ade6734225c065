"""The calibration loop: the mirror shown while one person stands still, their standing level
collected (kiosk.body.calibration.CalibrationCollector) through the same pipeline as the kiosk."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from kiosk.body.calibration import Calibration, CalibrationCollector
from kiosk.camera.sources import FrameSource
from kiosk.core.errors import BeltlineError
from kiosk.core.types import Frame, NoVerdict, Verdict
from kiosk.core.words import NO_VERDICT_WORDS, stand_still_words
from kiosk.flow.pipeline import Pipeline


class CalibrationView(Protocol):
    def show_calibration(self, frame: Frame, verdict: Verdict, words: str, progress: float) -> None: ...

    def quit_requested(self) -> bool: ...


def collect_calibration(source: FrameSource, pipeline: Pipeline, view: CalibrationView, seconds: float,
                        timeout_s: float, stop: threading.Event) -> Calibration:
    """Show the mirror while one person stands still for `seconds`; their standing level.

    Raises BeltlineError when nobody stood still in view before `timeout_s`, the source ended,
    or `stop` was set."""
    collector = CalibrationCollector(seconds)
    progress = 0.0
    deadline = time.monotonic() + timeout_s
    ended = False
    while progress < 1.0 and not stop.is_set() and time.monotonic() < deadline and not view.quit_requested():
        frame = source.read()
        if frame is None:
            ended = True
            break
        person = pipeline.step(frame)[0]
        reading = person.verdict.reading
        progress = collector.add(reading, person.pose if reading is not None else None, frame.t_s, frame.image)
        if reading is None:
            words = NO_VERDICT_WORDS[person.verdict.reason or NoVerdict.NO_PERSON]
        else:
            words = stand_still_words(max(0.0, seconds * (1 - progress)))
        view.show_calibration(frame, person.verdict, words, progress)
        frame.release()
    if progress < 1.0:
        if ended:
            raise BeltlineError(f"calibration did not finish: the source ended before anybody stood still in "
                                f"view for {seconds:g} s; nothing was saved")
        if stop.is_set() or time.monotonic() < deadline:
            raise BeltlineError("calibration interrupted; nothing was saved")
        raise BeltlineError(f"calibration did not finish: nobody stood still in view for {seconds:g} s "
                            f"within {timeout_s:g} s; nothing was saved")
    return collector.result()
