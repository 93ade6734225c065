#!/usr/bin/env python3
"""The exercise coach on rendered sets of standing hip abduction, rep by rep against exact truth.

    python scripts/exercise-sets.py RENDERS [--work DIR] [--model PATH] [--config TOML] [--set KEY=VALUE]
        [--json OUT] [--fit]

RENDERS is `scripts/render-bodies.py --only exercise`'s output (its `truth.json`): each set a
still start, then reps with known sides, peaks, hikes and leans (docs/coach.md lists them).  Each
set is made into a lossless clip and run through `beltline analyze`'s own kiosk in exercise mode
(kiosk.app.assembly, Purpose.ANALYZE); a strap's sets run with `[marker] color` set to its paint.

Scored per body split (the tuning bodies, and the held-out one):

- **counts**: every rep at or above the enter angle counted once, on its side; none under it;
  nothing while walking in or stepping away.  A set is *exact* when its counts per side equal
  the truth's, *off by one* when each is within one;
- **verdicts**: an 8° hike called `pelvis_hiked`, a 12° lean called `trunk_leaned`, a clean rep
  called `clean` (the 3 and 5° hikes and the 5 and 8° leans are in between: their readings are
  listed, not scored);
- **readings**: the hike and lean each counted rep read, against the truth.

`--fit` replays the coach on each set's recorded poses and tilts (the model runs once a set)
over a grid of thresholds, picks the best on the tuning bodies, and reports it on the held-out one.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.app.analyze import analyze
from kiosk.app.assembly import Purpose, assemble, with_mode
from kiosk.body.exercise import ExerciseCoach
from kiosk.core.types import ExerciseStatus, Pose, Rep, RepVerdict, Side
from kiosk.settings.config import Config, ExerciseConfig, Mode
from kiosk.settings.config_file import load_config, with_overrides
from kiosk.settings.model_files import resolve_model_path

from articulated import frames_clip

DUE_DEG = 18.0
"""A rep whose leg goes this far out (in truth) must count; a smaller one must not."""
SCORED_HIKE_DEG = 8.0
SCORED_LEAN_DEG = 12.0


@dataclass(frozen=True)
class TrueRep:
    side: Side
    start_s: float
    end_s: float
    peak_leg_deg: float
    hike_deg: float
    lean_deg: float

    def expected(self) -> RepVerdict | None:
        """The verdict this rep must get (None: in between, not scored)."""
        if self.hike_deg >= SCORED_HIKE_DEG:
            return RepVerdict.PELVIS_HIKED
        if self.lean_deg >= SCORED_LEAN_DEG:
            return RepVerdict.TRUNK_LEANED
        if self.hike_deg == 0 and self.lean_deg == 0:
            return RepVerdict.CLEAN
        return None


@dataclass(frozen=True)
class SetCase:
    name: str
    body: str
    split: str
    marker: str
    clip: Path
    reps: tuple[TrueRep, ...]
    overrides: tuple[str, ...]


Recorded = tuple[Pose | None, float | None, float, bool]
"""What the coach was given on one frame: the pose, the tilt, the time, whether a marker was read."""


class RecordingCoach:
    """The pipeline's coach, recording what it is given (pose, tilt, time) for replays."""

    def __init__(self, coach: ExerciseCoach) -> None:
        self.coach = coach
        self.frames: list[Recorded] = []

    def update(self, pose: Pose | None, tilt_deg: float | None, t_s: float, marked: bool = False) -> ExerciseStatus:
        self.frames.append((pose, tilt_deg, t_s, marked))
        return self.coach.update(pose, tilt_deg, t_s, marked)

    def __getattr__(self, name: str) -> object:
        return getattr(self.coach, name)


def make_cases(renders: Path, work: Path) -> list[SetCase]:
    work.mkdir(parents=True, exist_ok=True)
    cases = []
    for entry in json.loads((renders / "truth.json").read_text())["pictures"]:
        if entry["condition"] != "exercise":
            continue
        name = f'{entry["body"]}_{Path(entry["file"]).name}'
        clip = work / f"{name}.avi"
        frames_clip(renders / entry["file"], len(entry["frames"]), float(entry["fps"]), clip)
        reps = tuple(TrueRep(Side(r["side"]), r["start_s"], r["end_s"], r["peak_leg_deg"], r["hike_deg"],
                             r["lean_deg"]) for r in entry["reps"])
        overrides = (f'marker.color="{entry["marker_color"]}"',) if entry["marker_color"] else ()
        cases.append(SetCase(name, entry["body"], entry["split"], entry["marker"], clip, reps, overrides))
    return cases


def run_case(config: Config, model_path: Path, case: SetCase) -> tuple[list[Rep], RecordingCoach]:
    """The set through `analyze`'s kiosk in exercise mode: its counted reps, and what the coach was given."""
    kiosk = assemble(with_mode(with_overrides(config, list(case.overrides)), Mode.EXERCISE), model_path,
                     Purpose.ANALYZE)
    recorder = RecordingCoach(kiosk.pipeline.coach)
    kiosk.pipeline.coach = recorder  # type: ignore[assignment]
    source = kiosk.open_source(str(case.clip))
    try:
        analysis = analyze(kiosk, source, case.clip.name)
    finally:
        source.close()
    return [rep for s in analysis.sets for rep in s.reps], recorder


def replay(frames: list[Recorded], thresholds: ExerciseConfig) -> list[Rep]:
    """The coach with other thresholds on the same recorded poses and tilts."""
    coach = ExerciseCoach(thresholds)
    reps: list[Rep] = []
    for pose, tilt, t_s, marked in frames:
        status = coach.update(pose, tilt, t_s, marked)
        if status.finished_set is not None:
            reps.extend(status.finished_set.reps)
    last = coach.end_set(frames[-1][2] if frames else 0.0)
    if last is not None:
        reps.extend(last.reps)
    return reps


def score(case: SetCase, counted: list[Rep], enter_deg: float = DUE_DEG) -> dict[str, object]:
    """Counted reps matched to the truth by time (a counted rep belongs to the true rep it overlaps most)."""
    due = [r for r in case.reps if r.peak_leg_deg >= enter_deg]
    matched: dict[int, Rep] = {}
    extra = []
    for rep in counted:
        overlaps = [(min(rep.end_s, r.end_s + 0.3) - max(rep.start_s, r.start_s - 0.3), i)
                    for i, r in enumerate(case.reps)]
        best, index = max(overlaps, default=(0.0, -1))
        if best > 0 and index not in matched:
            matched[index] = rep
        else:
            extra.append(rep)
    rows = []
    for i, truth in enumerate(case.reps):
        rep = matched.get(i)
        rows.append({"side": truth.side.value, "peak_leg_deg": truth.peak_leg_deg, "hike_deg": truth.hike_deg,
                     "lean_deg": truth.lean_deg, "due": truth.peak_leg_deg >= enter_deg,
                     "counted": rep is not None, "counted_side": rep.side.value if rep else None,
                     "expected": (v.value if (v := truth.expected()) else None),
                     "verdict": rep.verdict.value if rep else None,
                     "read_hike_deg": rep.pelvis_hike_deg if rep else None,
                     "read_lean_deg": rep.trunk_lean_deg if rep else None,
                     "read_peak_deg": rep.peak_leg_deg if rep else None})
    true_counts = {s: sum(r.side is s for r in due) for s in Side}
    read_counts = {s: sum(r.side is s for r in counted) for s in Side}
    return {"set": case.name, "body": case.body, "split": case.split, "marker": case.marker,
            "true": {s.value: n for s, n in true_counts.items()},
            "counted": {s.value: n for s, n in read_counts.items()},
            "exact": true_counts == read_counts,
            "off_by_one": all(abs(true_counts[s] - read_counts[s]) <= 1 for s in Side),
            "extra": len(extra), "reps": rows}


def summarise(scored: list[dict[str, object]]) -> dict[str, object]:
    reps = [r for s in scored for r in s["reps"]]  # type: ignore[attr-defined]
    due = [r for r in reps if r["due"]]
    small = [r for r in reps if not r["due"]]
    judged = [r for r in due if r["expected"] is not None]
    hikes = [abs(r["read_hike_deg"] - r["hike_deg"]) for r in reps if r["counted"] and r["lean_deg"] == 0]
    leans = [abs(r["read_lean_deg"] - r["lean_deg"]) for r in reps if r["counted"] and r["hike_deg"] == 0]
    return {
        "sets": len(scored), "exact": sum(bool(s["exact"]) for s in scored),
        "off_by_one": sum(bool(s["off_by_one"]) for s in scored),
        "due": len(due), "counted_right_side": sum(r["counted"] and r["counted_side"] == r["side"] for r in due),
        "small": len(small), "small_counted": sum(bool(r["counted"]) for r in small),
        "extra": sum(int(s["extra"]) for s in scored),  # type: ignore[call-overload]
        "judged": len(judged), "verdicts_right": sum(r["verdict"] == r["expected"] for r in judged),
        "hike_read_deg": _reads(reps, "hike_deg", "read_hike_deg", "lean_deg"),
        "lean_read_deg": _reads(reps, "lean_deg", "read_lean_deg", "hike_deg"),
        "hike_mae_deg": round(statistics.fmean(hikes), 2) if hikes else None,
        "lean_mae_deg": round(statistics.fmean(leans), 2) if leans else None,
    }


def _reads(reps: list[dict[str, object]], truth: str, read: str, other: str) -> dict[str, list[float]]:
    """Each true value's readings (counted reps with none of the other fault): '8': [5.0, 3.2]."""
    out: dict[str, list[float]] = {}
    for r in reps:
        if r["counted"] and r[other] == 0:
            out.setdefault(f"{float(r[truth]):g}", []).append(float(r[read]))  # type: ignore[arg-type]
    return {k: sorted(v) for k, v in sorted(out.items(), key=lambda kv: float(kv[0]))}


def table(scored: list[dict[str, object]]) -> str:
    lines = ["| set | marker | true L/R | counted L/R | exact | verdicts (scored) | hike read (true) "
             "| lean read (true) |",
             "|---|---|---|---|---|---|---|---|"]
    for s in scored:
        reps = s["reps"]
        judged = [r for r in reps if r["due"] and r["expected"] is not None]  # type: ignore[attr-defined]
        right = sum(r["verdict"] == r["expected"] for r in judged)
        hikes = ", ".join(f'{r["read_hike_deg"]:.1f} ({r["hike_deg"]:.0f})' for r in reps  # type: ignore[attr-defined]
                          if r["counted"] and r["hike_deg"] > 0)
        leans = ", ".join(f'{r["read_lean_deg"]:.1f} ({r["lean_deg"]:.0f})' for r in reps  # type: ignore[attr-defined]
                          if r["counted"] and r["lean_deg"] > 0)
        t, c = s["true"], s["counted"]
        lines.append(f'| {s["set"]} | {s["marker"]} | {t["left"]}/{t["right"]} | {c["left"]}/{c["right"]} '  # type: ignore[index]
                     f'| {"yes" if s["exact"] else "no"} | {right}/{len(judged)} | {hikes or "–"} | {leans or "–"} |')
    return "\n".join(lines)


COUNT_GRID = {
    "enter_deg": (12.0, 13.0, 14.0, 15.0, 16.0, 18.0),
    "exit_deg": (6.0, 8.0, 10.0),
    "ready_s": (0.5, 1.0),
}
"""What decides which reps count (replayed on the recorded poses)."""
VERDICT_STEPS = tuple(2.0 + 0.5 * k for k in range(25))
"""hike_deg, hike_unmarked_deg and lean_deg are tried at each of these (2–14°): they judge a rep
from its own readings, so no replay is needed."""


def _verdict(rep: dict[str, object], marked: bool, hike: float, hike_unmarked: float, lean: float) -> str:
    """The coach's own rule (ExerciseCoach._close) on a rep's readings."""
    hiked = float(rep["read_hike_deg"]) >= (hike if marked else hike_unmarked)  # type: ignore[arg-type]
    leaned = float(rep["read_lean_deg"]) >= lean  # type: ignore[arg-type]
    if hiked and (marked or not leaned):
        return RepVerdict.PELVIS_HIKED.value
    return RepVerdict.TRUNK_LEANED.value if leaned else RepVerdict.CLEAN.value


def _middle_of_best(scores: dict[float, float]) -> float:
    """The middle of the longest run of values with the best score (the widest margin either side);
    a run that reaches the top of the range tried has no upper edge: its lowest value plus
    EDGE_MARGIN_DEG then (the least threshold that does as well, with a margin)."""
    best = max(scores.values())
    runs: list[list[float]] = []
    for value in sorted(scores):
        if scores[value] == best:
            if runs and runs[-1] and runs[-1][-1] == value - 0.5:
                runs[-1].append(value)
            else:
                runs.append([value])
    longest = max(runs, key=len)
    if longest[-1] == max(scores):
        return min(longest[0] + EDGE_MARGIN_DEG, longest[-1])
    return longest[len(longest) // 2]


EDGE_MARGIN_DEG = 2.0


def fit(runs: list[tuple[SetCase, list[Recorded]]], base: ExerciseConfig) -> tuple[ExerciseConfig, dict[str, object]]:
    """The thresholds that do best on the tuning bodies' sets: first what counts (every rep of 18° or
    more on its side, none smaller, none while walking in or away; then exact sets), then each
    verdict threshold at the middle of its best range, the others held at their best."""
    tuning = [(c, f) for c, f in runs if c.split == "tune"]
    trials = []
    for values in itertools.product(*COUNT_GRID.values()):
        choice = dict(zip(COUNT_GRID, values, strict=True))
        if choice["exit_deg"] >= choice["enter_deg"]:
            continue
        thresholds = dataclasses.replace(base, **choice)
        s = summarise([score(c, replay(f, thresholds)) for c, f in tuning])
        # ties: the exit angle and the ready time nearest the defaults they would replace
        goal = (int(s["counted_right_side"]) - 2 * (int(s["small_counted"]) + int(s["extra"])),  # type: ignore[call-overload]
                int(s["exact"]), -abs(choice["exit_deg"] - base.exit_deg) - abs(choice["ready_s"] - base.ready_s))  # type: ignore[call-overload]
        trials.append((goal, choice))
    trials.sort(key=lambda t: t[0], reverse=True)
    best_goal = trials[0][0][:2]
    # among the best, the enter angle in the middle of the range that does as well
    tied = sorted(t[1]["enter_deg"] for t in trials if t[0][:2] == best_goal)
    enter = tied[len(tied) // 2]
    counting = max((t for t in trials if t[0][:2] == best_goal and t[1]["enter_deg"] == enter), key=lambda t: t[0])[1]
    counted = dataclasses.replace(base, **counting)
    judged = []
    for case, frames in tuning:
        for rep in score(case, replay(frames, counted))["reps"]:  # type: ignore[attr-defined]
            if rep["counted"] and rep["expected"] is not None:
                judged.append((rep, case.marker != "none"))

    def right(hike: float, unmarked: float, lean: float) -> int:
        return sum(_verdict(r, marked, hike, unmarked, lean) == r["expected"] for r, marked in judged)

    hike, unmarked, lean = base.hike_deg, base.hike_unmarked_deg, base.lean_deg
    for _ in range(3):  # each in turn at the middle of its best range, the others held
        hike = _middle_of_best({v: right(v, unmarked, lean) for v in VERDICT_STEPS})
        unmarked = _middle_of_best({v: right(hike, v, lean) for v in VERDICT_STEPS})
        lean = _middle_of_best({v: right(hike, unmarked, v) for v in VERDICT_STEPS})
    chosen = dataclasses.replace(counted, hike_deg=hike, hike_unmarked_deg=unmarked, lean_deg=lean)
    return chosen, {"counting_trials": [(list(g), c) for g, c in trials[:8]], "judged_reps": len(judged),
                    "verdicts_right": right(hike, unmarked, lean)}


def _parts(scored: list[dict[str, object]], label: str) -> dict[str, object]:
    """Each body split and marker's summary, printed with its table; keyed "tune_none" and so on."""
    parts: dict[str, object] = {}
    for split in ("tune", "held"):
        for marker in ("none", "strap"):
            part = [s for s in scored if s["split"] == split and s["marker"] == marker]
            if part:
                parts[f"{split}_{marker}"] = summarise(part)
                print(f"\n### {label}{split}, marker {marker}: {json.dumps(summarise(part))}\n\n{table(part)}")
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("renders", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/beltline-exercise-sets"))
    parser.add_argument("--model")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config override (repeat)")
    parser.add_argument("--only", help="only sets whose name contains this")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fit", action="store_true", help="fit the thresholds on the tuning bodies by replay")
    args = parser.parse_args()
    config = with_overrides(load_config(args.config), args.set)
    model_path = resolve_model_path(args.model, config.model.path)
    cases = [c for c in make_cases(args.renders, args.work) if not args.only or args.only in c.name]
    scored, runs = [], []
    for case in cases:
        counted, recorder = run_case(config, model_path, case)
        runs.append((case, recorder.frames))
        scored.append(score(case, counted))
        s = scored[-1]
        print(f'{case.name:<28} {case.split:<5} true L{s["true"]["left"]} R{s["true"]["right"]}  '  # type: ignore[index]
              f'counted L{s["counted"]["left"]} R{s["counted"]["right"]}  extra {s["extra"]}', flush=True)  # type: ignore[index]
    report: dict[str, object] = {"thresholds": dataclasses.asdict(config.exercise)}
    report.update(_parts(scored, ""))
    if args.fit:
        best, detail = fit(runs, config.exercise)
        chosen = {k: getattr(best, k) for k in (*COUNT_GRID, "hike_deg", "hike_unmarked_deg", "lean_deg")}
        report["fit"] = {"chosen": chosen, **detail}
        print(f"\nfitted on the tuning bodies: {chosen}\n{json.dumps(detail['counting_trials'][:4])}")
        report["fit"].update(_parts([score(c, replay(f, best)) for c, f in runs], "fitted, "))  # type: ignore[attr-defined]
    report["sets"] = scored
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
