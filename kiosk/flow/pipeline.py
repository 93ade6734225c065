"""The per-frame work: frame in, verdicts out (pose model, then the pelvis gates, then the tracker).

    frame ──► pose model ──► gates ──► tracker ──► verdict (and the walk's steps)
              └─ look ─┘    └──────────── judge ────────────┘

A step has two halves.  `look` is the model's: the invokes, the keypoints, the crop to follow
next; the kiosk runs it in the inference thread, which then takes the next frame at once.
`judge` is everything after: the gates, the tracker, the walk, the coach; the kiosk runs it in the
screen thread, beside the next frame's invokes (docs/decisions.md, "The loop's levers against
the GIL convoy").  `finish` is both, one after the other, for the callers without threads.

Both modes satisfy one `Pipeline` protocol: single mode (`PelvisPipeline`, here) follows one
person and group mode (kiosk.flow.group.GroupPipeline) everyone in view, and both hand out a list of
`PersonVerdict`s per frame.  The threads that run a pipeline are in kiosk.flow.threads, the screen
loop in kiosk.flow.loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from kiosk.body.calibration import Calibration
from kiosk.body.exercise import ExerciseCoach
from kiosk.body.reading import PelvisReader
from kiosk.core.faults import FaultLog
from kiosk.core.geometry import CropSquare
from kiosk.core.types import (
    CalibrationProgress,
    ExerciseStatus,
    Frame,
    NoVerdict,
    PersonVerdict,
    Pose,
    SetSummary,
    Side,
    StepRecord,
    TiltSource,
    Verdict,
    WalkStatus,
    no_verdict,
)
from kiosk.flow.activity import Activity, ActivityState
from kiosk.flow.person import PersonChain, WalkSink
from kiosk.model.inputs import PreparedInput
from kiosk.model.pose import PoseModel
from kiosk.settings.config import Mode, PelvisConfig

log = logging.getLogger(__name__)




@dataclass
class LookCounts:
    """Running totals for `bench`: people followed and model looks, per frame."""

    frames: int = 0
    people: int = 0
    model_runs: int = 0

    def add(self, people: int, model_runs: int) -> None:
        self.frames += 1
        self.people += people
        self.model_runs += model_runs

    def clear(self) -> None:
        self.frames = self.people = self.model_runs = 0


@dataclass(frozen=True, slots=True)
class Captured:
    """A frame and, when the pipeline can prepare ahead (single mode), its model input."""

    frame: Frame
    prepared: PreparedInput | None
    lock_input: PreparedInput | None = None
    """The whole frame for the nearest-person lock's search, when it is due at this frame."""

    def release(self) -> None:
        if self.prepared is not None:
            self.prepared.release()
        if self.lock_input is not None:
            self.lock_input.release()
        self.frame.release()


class SeenPerson(NamedTuple):
    """Somebody the model saw in a frame (their pose may be broken: not `finite`)."""

    person_id: int
    pose: Pose


ONLY_PERSON_0 = frozenset({0})
"""Single mode's `Looked.refreshed`: the one person, numbered 0."""


class Looked(NamedTuple):
    """A frame and what the model saw in it: a step's first half, on its way to be judged.

    Everything the judge reads of the look is in here, so the next look can run meanwhile.  (An
    immutable named tuple rather than a frozen dataclass: one is made every frame, and a named
    tuple costs a third of the instructions to make; docs/performance.md counts them on a Pi.)"""

    frame: Frame
    seen: tuple[SeenPerson, ...]
    """Single mode: exactly one, numbered 0; group mode: everyone followed."""
    refreshed: frozenset[int]
    """Numbers of the people found in this very frame (group mode keeps the others' last verdicts)."""
    forgotten: tuple[int, ...]
    """Numbers of the people given up in this look (group mode)."""
    model_runs: int
    preprocess_s: float
    """Cutting and scaling for the model, in the capture thread or (without a prepared input) in this one."""
    invoke_s: float
    invoke_cpu_s: float
    """This thread's CPU time during the invokes: the wall time beyond it was spent waiting (for
    the GIL, or for a core)."""
    keypoints_s: float
    """The rest of the look: reading the keypoints, choosing the next crop, the lock's check."""

    def release(self) -> None:
        self.frame.release()


class Result(NamedTuple):
    """A frame and the verdicts computed from it, on their way to the screen (a named tuple, as
    `Looked`: one is made every frame)."""

    frame: Frame
    people: list[PersonVerdict]
    """Everyone's verdict; single mode has exactly one entry, numbered 0."""
    preprocess_s: float
    invoke_s: float
    postprocess_s: float
    """The look's own work after the invokes (reading the keypoints, the next crop)."""
    judge_s: float = 0.0
    """The gates, the tracker, the walk and the coach."""
    invoke_cpu_s: float = 0.0
    """The invoking thread's CPU time during the invokes (see `Looked`)."""
    walk: WalkStatus | None = None
    """Single mode: the walk in progress (group mode keeps one per person, shown as step counts)."""
    exercise: ExerciseStatus | None = None
    """While the person exercises (exercise mode, or switched to by the gesture): the reps so far."""
    calibration: CalibrationProgress | None = None
    """While a calibration started by the gesture collects a still stand."""
    notice: str | None = None
    """A line the screen keeps showing (Pipeline.notice)."""

    @property
    def primary(self) -> Verdict:
        """The verdict single-person code reads (kiosk.flow.pipeline.primary_verdict)."""
        return primary_verdict(self.people)

    def release(self) -> None:
        self.frame.release()


def primary_verdict(people: list[PersonVerdict]) -> Verdict:
    """The verdict of the lowest-numbered person with one; without one, why the first person has
    none; with nobody, "no person"."""
    for person in people:
        if person.verdict.tilt_deg is not None:
            return person.verdict
    return people[0].verdict if people else no_verdict(NoVerdict.NO_PERSON)


class Pipeline(Protocol):
    """What the loop, `analyze`, `calibrate` and `bench` need of either mode."""

    mode: Mode
    model: PoseModel
    faults: FaultLog
    baseline_deg: float | None
    """The calibrated standing tilt subtracted from every tilt (None: not calibrated)."""
    counts: LookCounts
    notice: str | None
    """A line the screen shows until it no longer holds (a damaged calibration was set aside: until
    the next calibration)."""
    sets: list[SetSummary]
    """The exercise sets finished so far (kept only with `keep_steps`)."""

    @property
    def gestures_fired(self) -> int:
        """How many times the hands-up gesture fired (anybody's, in group mode)."""

    def step(self, frame: Frame) -> list[PersonVerdict]:
        """One frame, start to end, in the caller's thread."""

    def prepare(self, frame: Frame) -> Captured:
        """The part of a step that can run ahead, in the capture thread."""

    def look(self, captured: Captured) -> Looked:
        """The model's half of a step (the inference thread); it chooses the next frame's crop."""

    def judge(self, looked: Looked) -> Result:
        """The other half, in the order the looks were taken (the screen thread), timed."""

    def finish(self, captured: Captured) -> Result:
        """`look` then `judge`."""

    def end_walks(self) -> dict[int, list[StepRecord]]:
        """Close every walk (each goes to the walk sink, if any) and exercise set in progress; each
        person's steps (kept only with `keep_steps`)."""


class PersonLock(Protocol):
    def due(self, t_s: float) -> bool: ...

    def whole_frame(self, frame: Frame) -> CropSquare: ...

    def nearer_person(self, frame: Frame, current: Pose, prepared: PreparedInput | None = None) -> Pose | None: ...


class PelvisPipeline:
    """Single mode: one person, the pose model's crop following them (kiosk.flow.lock may hand the
    ruler to somebody nearer the screen)."""

    mode = Mode.SINGLE

    def __init__(self, model: PoseModel, settings: PelvisConfig, faults: FaultLog | None = None,
                 baseline_deg: float | None = None, keep_steps: bool = False, lock: PersonLock | None = None,
                 on_walk: WalkSink | None = None, coach: ExerciseCoach | None = None,
                 activity: ActivityState | None = None,
                 on_calibration: Callable[[Calibration], None] | None = None,
                 on_set: Callable[[SetSummary], None] | None = None, belt_offset_deg: float | None = None,
                 reader: PelvisReader | None = None) -> None:
        """`baseline_deg`: the calibrated standing tilt (None: not calibrated); `belt_offset_deg`:
        the calibrated belt line against the hip joints' line (None: not calibrated or not seen).
        `keep_steps`: remember every step of every walk (for `analyze`; the kiosk does not).
        `lock`: hands the ruler to somebody nearer the screen (kiosk.flow.lock.NearestPersonLock).
        `on_walk`: gets every walk as it finishes (the records).
        `coach`: counts and judges reps while the person exercises; `activity`: walking,
        exercising or calibrating, and the gestures that switch it (default: walking, no
        gestures); a calibration by the gesture is put in force at once and handed to
        `on_calibration`; `on_set`: gets every exercise set as it finishes (the records).  `reader`: how a pose's
        pelvis is read (default: from `settings`, with no marker)."""
        self.model = model
        self.lock = lock
        self.settings = settings
        self.baseline_deg = baseline_deg
        self.belt_offset_deg = belt_offset_deg
        self.keep_steps = keep_steps
        self._person = PersonChain(settings, reader or PelvisReader(settings), baseline_deg, belt_offset_deg,
                                   keep_steps, on_walk)
        self.walk = WalkStatus(0, None)
        self.faults = faults or FaultLog()
        self.counts = LookCounts()
        self.coach = coach or ExerciseCoach()
        self.activity = activity or ActivityState()
        self.exercise: ExerciseStatus | None = None
        self.sets: list[SetSummary] = []
        self._on_set = on_set
        self._on_calibration = on_calibration
        self.notice: str | None = None
        self._last_t_s = 0.0
        """The stream time of the last frame judged: a set the run's end closes ends then."""

    @property
    def gestures_fired(self) -> int:
        return self.activity.gestures_fired

    @property
    def reader(self) -> PelvisReader:
        """How the person's pelvis is read (with a marker colour a calibration learned)."""
        return self._person.reader

    @property
    def exercising(self) -> bool:
        return self.activity.exercising

    @property
    def calibration(self) -> CalibrationProgress | None:
        """How far a calibration started by the gesture has got (None: none in progress)."""
        return self.activity.progress

    def step(self, frame: Frame) -> list[PersonVerdict]:
        return self.finish(self.prepare(frame)).people

    def end_walks(self) -> dict[int, list[StepRecord]]:
        self._person.close_walk()
        self._end_set(self._last_t_s)
        return {0: self._person.steps}

    def prepare(self, frame: Frame) -> Captured:
        """Cutting and scaling for the model, in the capture thread (and the whole frame for the
        lock's search, when it is due: the inference thread then only runs the model)."""
        lock_input = None
        if self.lock is not None and self.lock.due(frame.t_s):
            lock_input = self.model.prepare(frame, self.lock.whole_frame(frame))
        return Captured(frame, self.model.prepare(frame), lock_input)

    def finish(self, captured: Captured) -> Result:
        return self.judge(self.look(captured))

    def look(self, captured: Captured) -> Looked:
        """The model on the frame (a closer look when it just found somebody), and the lock's
        check for somebody nearer; a broken output makes the next look take the whole frame."""
        started = time.perf_counter()
        model = self.model
        looks, invoked_s, invoked_cpu_s = model.looks, model.invoked_s, model.invoked_cpu_s
        frame = captured.frame
        if captured.prepared is None:
            pose = model.estimate(frame)
            preprocess_s = inline_s = model.last_timing.preprocess_s  # done here, inside the look
        else:
            pose = model.infer(captured.prepared, frame)
            preprocess_s, inline_s = captured.prepared.preprocess_s, 0.0
        finite = pose.finite  # (read once: it checks every keypoint)
        if finite and self.lock is not None:
            pose = self.lock.nearer_person(frame, pose, captured.lock_input) or pose  # a rival is a person
        elif captured.lock_input is not None:
            captured.lock_input.release()
        if not finite:
            model.forget_person()
        invoke_s = model.invoked_s - invoked_s
        total = time.perf_counter() - started
        return Looked(frame, (SeenPerson(0, pose),), ONLY_PERSON_0, (), model.looks - looks, preprocess_s,
                      invoke_s, model.invoked_cpu_s - invoked_cpu_s, max(total - invoke_s - inline_s, 0.0))

    def judge(self, looked: Looked) -> Result:
        """The gates, the tracker, the walk (or the coach, or a calibration) for the look's pose."""
        started = time.perf_counter()
        person = self._judge(looked.frame, looked.seen[0].pose)
        self.counts.add(1 if person.verdict.reading is not None else 0, looked.model_runs)
        return Result(looked.frame, [person], looked.preprocess_s, looked.invoke_s,
                      looked.keypoints_s, time.perf_counter() - started, looked.invoke_cpu_s,
                      self.walk, self.exercise, self.calibration, self.notice)

    def _judge(self, frame: Frame, pose: Pose) -> PersonVerdict:
        """The gates, the tracker and the walk for the model's pose."""
        verdict: Verdict
        finite = pose.finite
        if not finite:
            # A broken model output is not a person: skip it and count it (`look` forgot the crop).
            self.faults.count("nan_keypoints")
            verdict = self._person.nobody(frame.t_s)
        else:
            verdict = self._person.judge(pose, frame)
        usable = pose if finite else None
        self._last_t_s = frame.t_s
        switches = self.activity.update(usable, frame.t_s)
        ended = self._switched(frame.t_s) if switches.toggled else None
        if self.activity.activity is Activity.CALIBRATING:
            self._calibrate(verdict, usable, frame)
            return PersonVerdict(0, pose, verdict, self.walk.steps)
        if self.activity.exercising:
            self.exercise = self.coach.update(usable, verdict.tilt_deg, frame.t_s,
                                              marked=verdict.source is TiltSource.MARKER)
            if self.exercise.finished_set is not None:
                self._set_finished(self.exercise.finished_set)
        else:
            self.walk = self._person.walked(pose, verdict, frame)
            # The set the switch ended, on this one frame (its summary screen), else nothing.
            self.exercise = None if ended is None else ExerciseStatus(False, ended.count(Side.LEFT),
                                                                      ended.count(Side.RIGHT), None, None, False,
                                                                      ended.reps[-1], ended)
        return PersonVerdict(0, pose, verdict, self.walk.steps)

    def _calibrate(self, verdict: Verdict, pose: Pose | None, frame: Frame) -> None:
        """A still stand after the gesture: its level (and a worn marker's colour) becomes the
        ruler's, now and at the next start."""
        calibration = self.activity.calibrate(verdict.reading, pose, frame.t_s, frame.image)
        if calibration is not None:
            self.notice = None
            self.baseline_deg = calibration.standing_tilt_deg
            self.belt_offset_deg = calibration.belt_offset_deg
            self._person.recalibrated(self.reader.with_learned_marker(calibration.marker_color), self.baseline_deg,
                                      self.belt_offset_deg)
            log.info("calibrated by the gesture: standing tilt %+.2f deg (spread %.2f deg over %d frames), marker %s",
                     calibration.standing_tilt_deg, calibration.spread_deg, calibration.samples,
                     calibration.marker_color or "none")
            if self._on_calibration is not None:
                self._on_calibration(calibration)
        elif self.activity.activity is not Activity.CALIBRATING:
            log.info("calibration by the gesture given up: nobody stood still for %.0f s", self.activity.calibrate_s)

    def _switched(self, t_s: float) -> SetSummary | None:
        """Walking <-> exercising, just switched: what was in progress ends (a walk is recorded; a
        set's summary is returned)."""
        if self.activity.exercising:
            self._person.close_walk()
            self.walk = WalkStatus(0, None)
            return None
        return self._end_set(t_s)

    def _end_set(self, t_s: float) -> SetSummary | None:
        summary = self.coach.end_set(t_s)
        if summary is not None:
            self._set_finished(summary)
        return summary

    def _set_finished(self, summary: SetSummary) -> None:
        if self.keep_steps:
            self.sets.append(summary)
        if self._on_set is not None:
            self._on_set(summary)
