"""What `analyze` writes: a per-frame CSV, a per-step CSV and the summary's tallies, from the same
verdicts `run` shows.  This is a contract (README, "Command line"): columns are added, never changed."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from kiosk.core.types import Frame, NoVerdict, SetSummary, State, StepRecord, Verdict

CSV_COLUMNS = (
    "frame",
    "time_s",
    "person",
    "state",
    "tilt_deg",
    "raw_tilt_deg",
    "left_hip_x",
    "left_hip_y",
    "right_hip_x",
    "right_hip_y",
    "hip_score",
    "reason",
    "picture_tilt_deg",
    "marker_tilt_deg",
    "marker_confidence",
    "tilt_source",
)


def csv_row(frame: Frame, verdict: Verdict, person_id: int = 0) -> dict[str, str]:
    """One CSV row; numeric fields are empty when there is no verdict.  `person_id` is 0 in
    single mode and the person's number in group mode; empty when nobody was found."""
    person = str(person_id)
    row = dict.fromkeys(CSV_COLUMNS, "")
    row["frame"] = str(frame.index)
    row["time_s"] = f"{frame.t_s:.3f}"
    row["state"] = verdict.state.value
    if verdict.reason is not None:  # with a verdict, a held one: this frame itself was refused
        row["reason"] = verdict.reason.value
    reading = verdict.reading
    if verdict.state is not State.NONE and reading is not None and verdict.tilt_deg is not None:
        row["person"] = person
        row["tilt_deg"] = f"{verdict.tilt_deg:.2f}"
        row["raw_tilt_deg"] = f"{reading.raw_tilt_deg:.2f}"
        row["left_hip_x"], row["left_hip_y"] = (f"{v:.1f}" for v in reading.left_hip_px)
        row["right_hip_x"], row["right_hip_y"] = (f"{v:.1f}" for v in reading.right_hip_px)
        row["hip_score"] = f"{reading.hip_score:.3f}"
        if reading.picture is not None:
            row["picture_tilt_deg"] = f"{reading.picture.tilt_deg:.2f}"
        if reading.marker is not None:
            row["marker_tilt_deg"] = f"{reading.marker.tilt_deg:.2f}"
            row["marker_confidence"] = f"{reading.marker.confidence:.2f}"
        if verdict.source is not None:
            row["tilt_source"] = verdict.source.value
    elif verdict.reason is not None and (verdict.reason is not NoVerdict.NO_PERSON or person_id):
        row["person"] = person
    return row


class CsvRecorder:
    """Writes rows as they come, so an interrupted analysis keeps what it did."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        self._writer.writeheader()

    def add(self, frame: Frame, verdict: Verdict, person_id: int = 0) -> None:
        self._writer.writerow(csv_row(frame, verdict, person_id))


@dataclass
class SummaryTally:
    """Running totals for the summary JSON."""

    tolerance_deg: float
    frames: int = 0
    level: int = 0
    tilted: int = 0
    abs_tilt_sum: float = 0.0
    abs_tilt_max: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, verdict: Verdict) -> None:
        self.frames += 1
        if verdict.state is State.NONE or verdict.tilt_deg is None:
            self.reasons[(verdict.reason or NoVerdict.NO_PERSON).value] += 1
            return
        if verdict.state is State.LEVEL:
            self.level += 1
        else:
            self.tilted += 1
        size = abs(verdict.tilt_deg)
        self.abs_tilt_sum += size
        self.abs_tilt_max = max(self.abs_tilt_max, size)

    @property
    def with_verdict(self) -> int:
        return self.level + self.tilted

    def as_dict(self, **extra: Any) -> dict[str, Any]:
        judged = self.with_verdict
        return {
            "frames": self.frames,
            "frames_with_verdict": judged,
            "verdict_fraction": _ratio(judged, self.frames),
            "fraction_level": _ratio(self.level, judged),
            "mean_abs_tilt_deg": round(self.abs_tilt_sum / judged, 3) if judged else None,
            "max_abs_tilt_deg": round(self.abs_tilt_max, 3) if judged else None,
            "tolerance_deg": self.tolerance_deg,
            "no_verdict_reasons": dict(sorted(self.reasons.items())),
            **extra,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


STEP_COLUMNS = (
    "step",
    "start_s",
    "end_s",
    "stance_side",
    "peak_drop_deg",
    "drop_side",
    "trunk_lean_deg",
    "lateral_shift_hip_widths",
    "pattern",
)


def write_steps_csv(handle: IO[str], steps: list[StepRecord],
                    by_person: dict[int, list[StepRecord]] | None = None) -> None:
    """One row per step; with `by_person` (group mode), each person's steps with a leading person column."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow((("person",) if by_person is not None else ()) + STEP_COLUMNS)
    rows: list[tuple[tuple[int, ...], list[StepRecord]]] = (
        [((), steps)] if by_person is None else [((p,), s) for p, s in sorted(by_person.items())])
    for lead, person_steps in rows:
        for step in person_steps:
            writer.writerow([*lead, step.index, step.start_s, step.end_s, step.stance_side.value, step.peak_drop_deg,
                             step.drop_side.value, step.trunk_lean_deg, step.lateral_shift_hip_widths,
                             step.pattern.value])


REP_COLUMNS = ("set", "rep", "side", "start_s", "end_s", "peak_angle_deg", "peak_leg_deg", "hold_s", "tempo_s",
               "pelvis_hike_deg", "trunk_lean_deg", "verdict")


def write_reps_csv(handle: IO[str], sets: list[SetSummary]) -> None:
    """One row per exercise rep, numbered by set."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(REP_COLUMNS)
    for number, exercise_set in enumerate(sets):
        for i, rep in enumerate(exercise_set.reps):
            writer.writerow([number, i, rep.side.value, rep.start_s, rep.end_s, rep.peak_angle_deg, rep.peak_leg_deg,
                             rep.hold_s,
                             rep.tempo_s, rep.pelvis_hike_deg, rep.trunk_lean_deg, rep.verdict.value])
