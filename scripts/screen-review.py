"""The screen review sheet: every screen the mirror can show, drawn for real, checked and laid out.

Each state (walking level and tilted, every instruction, the walk summary, every exercise state and
the set summary, group mode with 1, 2 and 4 people, calibration, each error screen) is drawn by
the kiosk's own view (`kiosk.screen.view.MirrorView`, SDL's dummy driver) on real, licensed media
(../shared/data: Apache-2.0, BSD-3-Clause and CC-BY-4.0 files only), with the verdicts the kiosk's
model and pipeline give for them, at 1280x720 and 720x1280.  Then, from the drawn pixels and the
view's record of where each text went, every text is checked:

- it stays on the screen, and does not straddle the picture's left or right edge;
- it overlaps no other text;
- it is not drawn over (its letters still show in full white in the screenshot);
- in single mode, its letters are at least 1/30 of the screen's height.

Writes one PNG per state and size and a contact sheet; prints every problem; exit status 1 if
any.  Nothing it writes goes into the repository (the pictures are of people).

    SDL_VIDEODRIVER=dummy python scripts/screen-review.py --out /tmp/screens
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import cv2
import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from kiosk.app.assembly import Purpose, assemble, with_mode  # noqa: E402
from kiosk.core.types import (  # noqa: E402
    ExerciseStatus,
    FatigueTrend,
    Frame,
    NoVerdict,
    Pattern,
    PersonVerdict,
    Rep,
    ReplayScreen,
    RepVerdict,
    SetSummary,
    Side,
    State,
    StepDrop,
    StepMark,
    StepRecord,
    Verdict,
    WalkStatus,
    WalkSummary,
)
from kiosk.core.words import (  # noqa: E402
    CALIBRATED,
    CALIBRATION_LOST,
    CALIBRATION_LOST_GROUP,
    CAMERA_UNAVAILABLE,
    MODEL_MISSING,
    STARTING,
    largest_drop_words,
    stand_still_words,
    worst_rep_words,
)
from kiosk.flow.replay import ReplayRecorder  # noqa: E402
from kiosk.screen.draw import TEXT_WHITE  # noqa: E402
from kiosk.screen.view import MIN_TEXT_SHARE, MirrorView, TextBox  # noqa: E402
from kiosk.settings.config import Config, DisplayConfig, MirrorAverage, Mode, ModelConfig, ReplayConfig  # noqa: E402

DATA = PROJECT.parent / "shared" / "data"
MODEL = PROJECT.parent / "shared" / "models" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
SIZES = ((1280, 720), (720, 1280))
INK_SHOWN = 0.9
"""A text whose full-white letters show less than this share in the screenshot was drawn over."""


@dataclass(frozen=True, slots=True)
class Scene:
    """The real pictures and what the kiosk made of them, that the states are drawn on."""

    walker: Frame
    walker_verdict: Verdict
    lifter: Frame
    lifter_verdict: Verdict
    group: Frame
    group_people: tuple[PersonVerdict, ...]


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    size: tuple[int, int]
    path: Path
    boxes: tuple[TextBox, ...]
    problems: tuple[str, ...]


def _composite(photo: Path, width: int = 1280, height: int = 720) -> np.ndarray:
    """A photo placed left of centre on a dark 16:9 frame (RGB), as a hallway camera would frame a person."""
    image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    canvas = np.full((height, width, 3), 30, dtype=np.uint8)
    top, left = (height - image.shape[0]) // 2, width // 3 - image.shape[1] // 2
    canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    return canvas


def _clip_frame(path: Path, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    try:
        for _ in range(index + 1):
            ok, image = capture.read()
            if not ok:
                raise SystemExit(f"screen-review: {path.name} has fewer than {index + 1} frames")
    finally:
        capture.release()
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _judged(config: Config, model: Path, image: np.ndarray, frames: int = 8) -> list[PersonVerdict]:
    """The kiosk (as `analyze` builds it) on a few repeats of one picture: its last verdicts."""
    kiosk = assemble(config, model, Purpose.ANALYZE)
    people: list[PersonVerdict] = []
    for index in range(frames):
        people = kiosk.pipeline.step(Frame(image, index, index / 25))
    return people


def make_scene(model: Path) -> Scene:
    config = Config(model=ModelConfig(mirror_average=MirrorAverage.ON))
    walker = _composite(DATA / "tfex_image1.png")
    lifter = _clip_frame(DATA / "frontal_single_leg_swing.mp4", 0)
    group = _clip_frame(DATA / "frontal_walk_two_people.gif", 12)
    walker_people = _judged(config, model, walker)
    lifter_people = _judged(with_mode(config, Mode.EXERCISE), model, lifter)
    group_people = _judged(with_mode(config, Mode.GROUP), model, group)
    for what, people in (("the photo's walker", walker_people), ("the leg swing's lifter", lifter_people)):
        if not people or people[0].verdict.state is State.NONE:
            raise SystemExit(f"screen-review: the kiosk found no verdict for {what}")
    if len([p for p in group_people if p.verdict.state is not State.NONE]) < 2:
        raise SystemExit("screen-review: the kiosk did not judge both people in frontal_walk_two_people.gif")
    return Scene(Frame(walker, 0, 0.0), walker_people[0].verdict, Frame(lifter, 0, 0.0), lifter_people[0].verdict,
                 Frame(group, 0, 0.0), tuple(group_people))


def _tilted(verdict: Verdict, tilt_deg: float) -> Verdict:
    """The same verdict with the ruler turned to `tilt_deg` (left hip low when positive) about its middle."""
    assert verdict.ruler_left_end_px is not None and verdict.ruler_right_end_px is not None
    middle = (verdict.ruler_left_end_px + verdict.ruler_right_end_px) / 2
    half = float(np.linalg.norm(verdict.ruler_left_end_px - verdict.ruler_right_end_px)) / 2
    # the person's left end is on the picture's right; a low left hip puts it further down
    along = np.array([math.cos(math.radians(tilt_deg)), math.sin(math.radians(tilt_deg))])
    left_end, right_end = middle + along * half, middle - along * half
    if verdict.ruler_left_end_px[0] < verdict.ruler_right_end_px[0]:
        left_end, right_end = middle - along * half * np.array([1, -1]), middle + along * half * np.array([1, -1])
    return dataclasses.replace(verdict, state=State.TILTED, tilt_deg=tilt_deg, ruler_left_end_px=left_end,
                               ruler_right_end_px=right_end)


def _none(reason: NoVerdict) -> Verdict:
    return Verdict(State.NONE, reason, None, None)


def _step(side: Side, drop_deg: float) -> StepRecord:
    return StepRecord(6, 4.0, 4.5, side.other, drop_deg, side, 1.0, 0.1, Pattern.TRENDELENBURG)


def _rep(index: int, side: Side, range_deg: float, verdict: RepVerdict = RepVerdict.CLEAN) -> Rep:
    hike = 6.0 if verdict is RepVerdict.PELVIS_HIKED else 0.8
    return Rep(index, side, index * 3.0, index * 3.0 + 2.0, range_deg, range_deg + 4, 0.5, hike, 1.0, verdict)


def _moved(person: PersonVerdict, number: int, shift_px: float) -> PersonVerdict:
    """A copy of a judged person, moved sideways: a crowded group from a real one."""
    verdict = person.verdict

    def moved(xy: np.ndarray | None) -> np.ndarray | None:
        return None if xy is None else xy + np.array([shift_px, 0.0])

    shifted = dataclasses.replace(verdict, ruler_left_end_px=moved(verdict.ruler_left_end_px),
                                  ruler_right_end_px=moved(verdict.ruler_right_end_px),
                                  level_left_end_px=moved(verdict.level_left_end_px),
                                  level_right_end_px=moved(verdict.level_right_end_px))
    return dataclasses.replace(person, person_id=number, verdict=shifted, steps=number + 2)


State_ = Callable[[MirrorView, Scene], None]


def _states() -> dict[str, tuple[bool, State_]]:
    """Every screen: name -> (single mode, how to draw it)."""
    walk_summary = WalkSummary(9, 6.2, None, 4.1, 0.0, 4.1, 0.56, ((Pattern.TRENDELENBURG, 5), (Pattern.LEVEL, 4)),
                               Pattern.TRENDELENBURG, 3.0)
    both = SetSummary((_rep(0, Side.LEFT, 24), _rep(1, Side.RIGHT, 21, RepVerdict.PELVIS_HIKED),
                       _rep(2, Side.LEFT, 27), _rep(3, Side.RIGHT, 19)), 0.0, 12.0)
    one_side = SetSummary((_rep(0, Side.RIGHT, 10),), 0.0, 3.0)
    last = _rep(2, Side.LEFT, 27)
    hiked = _rep(3, Side.RIGHT, 21, RepVerdict.PELVIS_HIKED)
    leaned = _rep(3, Side.RIGHT, 21, RepVerdict.TRUNK_LEANED)

    def walk(state: Callable[[Scene], Verdict], status: WalkStatus | None = None, notice: str | None = None,
             fps: float | None = None) -> State_:
        return lambda view, s: view.show(s.walker, state(s), fps=fps, walk=status, notice=notice) and None

    def exercise(status: ExerciseStatus, hiking: bool = False) -> State_:
        def draw(view: MirrorView, s: Scene) -> None:
            verdict = _tilted(s.lifter_verdict, -5.0) if hiking else s.lifter_verdict
            view.show(s.lifter, verdict, exercise=status)
        return draw

    def group(count: int, notice: str | None = None) -> State_:
        def draw(view: MirrorView, s: Scene) -> None:
            people = [p for p in s.group_people if p.verdict.state is not State.NONE][:2]
            # two more in the same row, as close to them as the two are to each other
            apart = float(people[0].pose.hip_mid_px[0] - people[1].pose.hip_mid_px[0])
            crowd = [*people, _moved(people[0], 3, apart), _moved(people[1], 4, -apart)]
            view.show_group(s.group, crowd[:count], notice=notice)
        return draw

    def replay(frozen: bool, rep: Rep | None = None) -> State_:
        """A walk's (or a set's worst rep's) replay, its picture kept as the kiosk keeps it (scaled
        down, I420, and back)."""
        def draw(view: MirrorView, s: Scene) -> None:
            frame = s.walker if rep is None else s.lifter
            base = s.walker_verdict if rep is None else s.lifter_verdict
            verdict = _tilted(base, 6.2) if frozen else base
            recorder = ReplayRecorder(ReplayConfig(), 30.0)
            recorder.add(frame, verdict)
            width, height = recorder.picture_size
            image = recorder.picture(0, np.empty((height, width, 3), dtype=np.uint8))
            if rep is None:
                marks = tuple(StepMark(0.12 + 0.11 * k, Side.LEFT if k % 2 else Side.RIGHT, 6.2 if k == 3 else 2.5,
                                       k == 3) for k in range(8))
                words = largest_drop_words(_step(Side.LEFT, 6.2))
            else:
                marks = (StepMark(0.45, rep.side, rep.pelvis_hike_deg, True),)
                words = worst_rep_words(rep.side, rep.peak_angle_deg, rep.pelvis_hike_deg, True, False)
            view.show_replay(ReplayScreen(image, frame.width_px, frame.height_px, verdict, 0.45 if frozen else 0.3,
                                          marks, 0.33, words if frozen else None,
                                          State.TILTED if frozen else State.LEVEL))
        return draw

    def trend(grown: bool) -> FatigueTrend:
        """Six minutes on a treadmill, a step every 0.55 s: the left hip's drop growing from 3° to 6° (or not)."""
        steps = []
        for k in range(int(360 / 0.55)):
            t_s = k * 0.55
            left = k % 2 == 0
            drop = (3.0 + 3.0 * t_s / 360 if grown else 3.0) if left else 2.5
            steps.append(StepDrop(t_s, Side.LEFT if left else Side.RIGHT,
                                  drop + 0.6 * math.sin(k * 1.7)))
        recent = tuple(d for d in steps if d.end_s >= steps[-1].end_s - 180)
        return FatigueTrend(recent, 0.0, steps[-1].end_s, Side.LEFT if grown else None, 3.1, 5.9)

    walking = WalkStatus(7, _step(Side.RIGHT, 2.4))
    return {
        "walk-level": (True, walk(lambda s: s.walker_verdict, walking)),
        "walk-tilted": (True, walk(lambda s: _tilted(s.walker_verdict, 6.2), WalkStatus(8, _step(Side.LEFT, 6.2)))),
        "walk-long": (True, walk(lambda s: s.walker_verdict, WalkStatus(402, _step(Side.LEFT, 3.1), None,
                                                                          trend(False)))),
        "walk-fatigue": (True, walk(lambda s: s.walker_verdict, WalkStatus(655, _step(Side.LEFT, 6.4), None,
                                                                            trend(True)))),
        "walk-one-step": (True, walk(lambda s: s.walker_verdict, WalkStatus(1, None))),
        "walk-setup": (True, walk(lambda s: s.walker_verdict, walking, CALIBRATION_LOST, fps=24.0)),
        "no-person": (True, walk(lambda s: _none(NoVerdict.NO_PERSON))),
        "hips-out": (True, walk(lambda s: _none(NoVerdict.HIPS_OUT_OF_FRAME))),
        "not-facing": (True, walk(lambda s: _none(NoVerdict.NOT_FACING))),
        "walk-summary": (True, lambda view, s: view.show_walk_summary(s.walker, walk_summary)),
        "walk-replay": (True, replay(frozen=False)),
        "walk-replay-largest-drop": (True, replay(frozen=True)),
        "exercise-get-ready": (True, exercise(ExerciseStatus(False, 0, 0, None, 2.0, False, None))),
        "exercise-still-first": (True, exercise(ExerciseStatus(False, 0, 0, None, 12.0, False, None,
                                                               still_first=True))),
        "exercise-show-feet": (True, exercise(ExerciseStatus(False, 0, 0, None, None, False, None,
                                                             feet_unseen=True))),
        "exercise-lift": (True, exercise(ExerciseStatus(True, 0, 0, None, 1.0, False, None))),
        "exercise-lifting": (True, exercise(ExerciseStatus(True, 2, 1, Side.RIGHT, 22.0, False, last,
                                                           lift_deg=18.0))),
        "exercise-hiking": (True, exercise(ExerciseStatus(True, 2, 1, Side.RIGHT, 25.0, True, last, lift_deg=21.0),
                                           hiking=True)),
        "exercise-hike-cue": (True, exercise(ExerciseStatus(True, 2, 2, None, 1.0, False, hiked))),
        "exercise-lean-cue": (True, exercise(ExerciseStatus(True, 2, 2, None, 1.0, False, leaned))),
        "exercise-rep-done": (True, exercise(ExerciseStatus(True, 3, 2, None, 1.0, False, last))),
        "set-summary": (True, lambda view, s: view.show_set_summary(s.lifter, both)),
        "set-replay-worst-rep": (True, replay(frozen=True, rep=hiked)),
        "set-summary-one-side": (True, lambda view, s: view.show_set_summary(s.lifter, one_side)),
        "group-1": (False, group(1)),
        "group-2": (False, group(2)),
        "group-4": (False, group(4)),
        "group-notice": (False, group(2, CALIBRATION_LOST_GROUP)),
        "calibrating": (True, lambda view, s: view.show_calibration(s.walker, s.walker_verdict,
                                                                    stand_still_words(3.0), 0.4)),
        "calibrated": (True, lambda view, s: view.show_calibration(s.walker, s.walker_verdict, CALIBRATED, 1.0)),
        "starting": (True, lambda view, s: view.show_message(STARTING)),
        "camera-unavailable": (True, lambda view, s: view.show_message(CAMERA_UNAVAILABLE)),
        "model-missing": (True, lambda view, s: view.show_message(MODEL_MISSING)),
    }


def problems_of(boxes: tuple[TextBox, ...], pixels: np.ndarray, picture: tuple[int, int, int, int] | None,
                single: bool) -> list[str]:
    """What is wrong with one drawn screen (RGB pixels of the canvas) and the texts on it."""
    height, width = pixels.shape[:2]
    smallest = height * MIN_TEXT_SHARE
    white = np.all(pixels == np.array(TEXT_WHITE, dtype=np.uint8), axis=-1)
    found = []
    for i, box in enumerate(boxes):
        left, top, w, h = box.rect
        name = repr(box.words.replace("\n", " / "))
        if left < 0 or top < 0 or left + w > width or top + h > height:
            found.append(f"{name} leaves the screen ({left}, {top}, {w}x{h} on {width}x{height})")
        if picture is not None and picture[2] >= 0.6 * width:
            for edge in (picture[0], picture[0] + picture[2]):
                if left < edge < left + w and 0 < edge < width:
                    found.append(f"{name} runs past the picture's edge at x={edge}")
        if single and box.letter_height_px < smallest:
            found.append(f"{name} is {box.letter_height_px} px tall, under 1/30 of {height} ({smallest:.1f})")
        shown = int(white[max(0, top) : top + h, max(0, left) : left + w].sum())
        if shown < INK_SHOWN * box.ink_px:
            found.append(f"{name} is drawn over: {shown} of its {box.ink_px} white pixels show")
        for other in boxes[i + 1 :]:
            a, b = box.rect, other.rect
            if a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]:
                found.append(f"{name} overlaps {other.words.replace(chr(10), ' / ')!r}")
    return found


def render_all(model: Path, out: Path, sizes: tuple[tuple[int, int], ...] = SIZES,
               only: set[str] | None = None) -> list[Shot]:
    scene = make_scene(model)
    states = _states()
    shots = []
    for width, height in sizes:
        view = MirrorView(DisplayConfig(fullscreen=False, window_width=width, window_height=height, show_fps=True),
                          windowed=True)
        try:
            for name, (single, draw) in states.items():
                if only and name not in only:
                    continue
                draw(view, scene)
                path = out / f"{width}x{height}-{name}.png"
                view.save_snapshot(path)
                pixels = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                boxes = view.text_boxes
                shots.append(Shot(name, (width, height), path, boxes,
                                  tuple(problems_of(boxes, pixels, view.picture_box, single))))
        finally:
            view.close()
    return shots


def contact_sheet(shots: list[Shot], path: Path, tile_h: int = 320, columns: int = 8) -> None:
    """Every shot, scaled to one height, named, in rows; problems outlined in red."""
    tiles = []
    for shot in shots:
        image = cv2.imread(str(shot.path))
        scale = tile_h / image.shape[0]
        tile = cv2.resize(image, (round(image.shape[1] * scale), tile_h), interpolation=cv2.INTER_AREA)
        label = np.full((28, tile.shape[1], 3), 255, dtype=np.uint8)
        cv2.putText(label, shot.name, (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        tile = np.vstack([label, tile])
        if shot.problems:
            cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, tile.shape[0] - 1), (0, 0, 255), 4)
        tiles.append(cv2.copyMakeBorder(tile, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(90, 90, 90)))
    rows = []
    for start in range(0, len(tiles), columns):
        row = tiles[start : start + columns]
        height = max(t.shape[0] for t in row)
        row = [cv2.copyMakeBorder(t, 0, height - t.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(90, 90, 90))
               for t in row]
        rows.append(np.hstack(row))
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_CONSTANT, value=(90, 90, 90))
                       for r in rows])
    cv2.imwrite(str(path), sheet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "beltline-screens")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--only", nargs="*", help="draw only these states")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shots = render_all(args.model, args.out, only=set(args.only) if args.only else None)
    contact_sheet([s for s in shots if s.size == SIZES[0]], args.out / "sheet-landscape.png")
    contact_sheet([s for s in shots if s.size == SIZES[1]], args.out / "sheet-portrait.png", columns=10)
    problems = [f"{s.size[0]}x{s.size[1]} {s.name}: {p}" for s in shots for p in s.problems]
    print(f"{len(shots)} screens drawn into {args.out}; contact sheets sheet-landscape.png, sheet-portrait.png")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
