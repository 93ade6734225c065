"""`beltline analyze`: every frame of a clip or photo through the kiosk's own pipeline, in order, as
fast as it goes, with no display; the per-frame CSV, the steps and the summary (kiosk.recording.outputs).

Both modes go through the same loop: single mode has one person (numbered 0) in every frame;
group mode has everyone in view, one CSV row each, and a `people` section in the summary.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from kiosk.app.assembly import Kiosk
from kiosk.body.gait import GaitThresholds, walk_summary
from kiosk.camera.sources import FrameSource
from kiosk.core.types import SetSummary, Side, StepRecord
from kiosk.flow.pipeline import Result, primary_verdict
from kiosk.recording.outputs import CsvRecorder, SummaryTally
from kiosk.settings.config import Mode
from kiosk.settings.model_files import sha256_of

if TYPE_CHECKING:
    from kiosk.app.video import ClipVideo  # (imports pygame: only with --video)


@dataclass(frozen=True)
class TiltTrace:
    """One person's tilt frame by frame (None where there was no verdict), for `--report`."""

    t_s: list[float] = field(default_factory=list)
    tilt_deg: list[float | None] = field(default_factory=list)

    def add(self, t_s: float, tilt_deg: float | None) -> None:
        self.t_s.append(t_s)
        self.tilt_deg.append(tilt_deg)


@dataclass(frozen=True)
class Analysis:
    summary: dict[str, Any]
    """The summary JSON (README, "Command line")."""
    steps: list[StepRecord]
    """Every step of every walk, everybody's."""
    steps_by_person: dict[int, list[StepRecord]] | None
    """Group mode: each person's steps."""
    traces: dict[int, TiltTrace] = field(default_factory=dict)
    """Each person's tilt, frame by frame (single mode: person 0 in every frame)."""
    sets: list[SetSummary] = field(default_factory=list)
    """The exercise sets (exercise mode, or switched to by the gesture)."""


def judged_results(source: FrameSource, kiosk: Kiosk) -> Iterator[Result]:
    """Every frame of `source`, in order, judged by the kiosk's pipeline as the loop judges it; the
    frame is released after use."""
    pipeline = kiosk.pipeline
    while (frame := source.read()) is not None:
        result = pipeline.finish(pipeline.prepare(frame))
        yield result
        result.release()


def analyze(kiosk: Kiosk, source: FrameSource, input_name: str, csv_handle: IO[str] | None = None,
            video: ClipVideo | None = None) -> Analysis:
    """Push every frame through the kiosk's pipeline; rows go to `csv_handle` as they come, so an
    interrupted analysis keeps what it did; `video` gets every frame drawn as the mirror draws it."""
    config = kiosk.config
    tolerance = config.pelvis.tolerance_deg
    tally = SummaryTally(tolerance)
    tallies: dict[int, SummaryTally] = {}
    recorder = CsvRecorder(csv_handle) if csv_handle is not None else None
    traces: dict[int, TiltTrace] = {}
    group = kiosk.settings.mode is Mode.GROUP
    started = time.perf_counter()
    for result in judged_results(source, kiosk):
        frame, people = result.frame, result.people
        if video is not None:
            video.add(result)
        primary = primary_verdict(people)
        tally.add(primary)
        if not group:
            traces.setdefault(0, TiltTrace()).add(frame.t_s, primary.tilt_deg)
        for person in people:
            if group and person.fresh:
                traces.setdefault(person.person_id, TiltTrace()).add(frame.t_s, person.verdict.tilt_deg)
            if person.fresh:  # a person's own tally counts only the frames the model looked at them
                tallies.setdefault(person.person_id, SummaryTally(tolerance)).add(person.verdict)
            if recorder:
                recorder.add(frame, person.verdict, person.person_id)
        if recorder and not people:
            recorder.add(frame, primary)
    seconds = time.perf_counter() - started
    by_person = kiosk.pipeline.end_walks()
    steps = [step for person_steps in by_person.values() for step in person_steps]
    people_section = {
        str(person_id): person_tally.as_dict(walk=walk_summary(by_person.get(person_id, []), tolerance).as_dict())
        for person_id, person_tally in sorted(tallies.items())
    } if group else None
    model = kiosk.model
    summary = tally.as_dict(
        input=input_name,
        hysteresis_deg=config.pelvis.hysteresis_deg,
        calibrated_standing_tilt_deg=kiosk.pipeline.baseline_deg,
        min_dwell_s=config.pelvis.min_dwell_s,
        tilt_filter="one_euro",  # the only tilt filter since the moving average was removed
        mirror_average=model.invokes_per_frame == 2,
        mirror_average_setting=config.model.mirror_average.value,
        mirror_mode=model.mirror_mode.value,
        refine_keypoints=model.refines_keypoints,
        runtime=model.runtime_name,
        threads=model.threads,
        model=str(kiosk.model_path),
        model_sha256=sha256_of(kiosk.model_path),
        seconds=round(seconds, 3),
        ms_per_frame=round(1000 * seconds / tally.frames, 2) if tally.frames else None,
        walk={**walk_summary(steps, tolerance).as_dict(),
              "thresholds": dataclasses.asdict(GaitThresholds(drop_deg=tolerance))},
        mode=kiosk.settings.mode.value,
        gestures=kiosk.pipeline.gestures_fired,
        **({"people": people_section} if people_section is not None else {}),
    )
    sets = list(kiosk.pipeline.sets)
    if sets or kiosk.settings.mode is Mode.EXERCISE:
        e = config.exercise
        summary["exercise"] = {
            "sets": [s.as_dict() for s in sets],
            "reps": {"left": sum(s.count(Side.LEFT) for s in sets), "right": sum(s.count(Side.RIGHT) for s in sets)},
            "thresholds": {"enter_deg": e.enter_deg, "exit_deg": e.exit_deg, "min_rep_s": e.min_rep_s,
                           "ready_s": e.ready_s, "hike_deg": e.hike_deg,
                           "hike_unmarked_deg": e.hike_unmarked_deg, "lean_deg": e.lean_deg, "rest_s": e.rest_s},
        }
    return Analysis(summary, steps, by_person if group else None, traces, sets)
