"""The walk's slow-motion replay: the ring of kept frames (its memory bound, its forgetting), the
replay's timing and its stop on the largest drop, and when the keeper keeps, plays and drops."""

import tracemalloc

import numpy as np
import pytest

from kiosk.core.types import FinishedWalk, Frame, NoVerdict, Pattern, Side, State, StepRecord, Verdict
from kiosk.flow.replay import LEAVE_S, Replay, ReplayKeeper, ReplayRecorder, kept_size
from kiosk.settings.config import ReplayConfig

FPS = 30.0


def _verdict(tilt_deg):
    state = State.TILTED if abs(tilt_deg) >= 5 else State.LEVEL
    return Verdict(state, None, tilt_deg, None, np.array([700.0, 400.0]), np.array([580.0, 400.0]))


NOBODY = Verdict(State.NONE, NoVerdict.NO_PERSON, None, None)


def _frame(index, image):
    return Frame(image, index, index / FPS)


def _step(index, start_s, end_s, side, drop_deg):
    return StepRecord(index, start_s, end_s, Side.LEFT, drop_deg, side, 0.0, 0.0, Pattern.LEVEL)


@pytest.mark.parametrize(("size", "fps"), [((1280, 720), 30), ((1920, 1080), 30), ((640, 480), 60),
                                           ((720, 1280), 25), ((1280, 720), 120)])
def test_the_kept_pictures_fit_the_memory_budget_in_the_frames_proportions(size, fps):
    settings = ReplayConfig()
    recorder = ReplayRecorder(settings, fps)
    recorder.add(_frame(0, np.zeros((size[1], size[0], 3), np.uint8)), _verdict(0.0))
    width, height = recorder.picture_size
    assert recorder.nbytes <= settings.memory_mb * 2**20
    assert recorder.slots == int(np.ceil(settings.span_s * fps))
    assert width % 2 == 0 and height % 2 == 0 and max(width, height) <= 640
    assert width / height == pytest.approx(size[0] / size[1], rel=0.02)
    assert kept_size(*size, recorder.slots, settings.memory_mb * 2**20) == (width, height)


def test_ten_minutes_of_720p_frames_stay_inside_the_budget_without_allocating():
    settings = ReplayConfig()
    recorder = ReplayRecorder(settings, FPS)
    image = np.zeros((720, 1280, 3), np.uint8)
    recorder.add(_frame(0, image), _verdict(0.0))
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for index in range(1, int(10 * 60 * FPS)):
            image[::64, ::64] = index % 251  # a picture that changes
            recorder.add(_frame(index, image), _verdict(0.0))
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert recorder.nbytes <= 64 * 2**20
    assert recorder.kept == recorder.slots
    assert after - before < 256 * 1024 and peak - before < 1024 * 1024  # the ring was allocated once, before
    last = recorder.slots_between(0.0, 1e9)
    assert len(last) == recorder.slots
    assert recorder.time_of(last[0]) == pytest.approx((10 * 60 * FPS - recorder.slots) / FPS)


def test_clear_blackens_every_kept_picture_and_forgets_the_verdicts():
    recorder = ReplayRecorder(ReplayConfig(span_s=2.0, memory_mb=8), FPS)
    image = np.full((360, 640, 3), 200, np.uint8)
    for index in range(10):
        recorder.add(_frame(index, image), _verdict(1.0))
    assert recorder.kept == 10
    recorder.clear()
    assert recorder.kept == 0 and recorder.slots_between(-1e9, 1e9) == []
    assert recorder._ring is not None and not recorder._ring.any()


def _walked(recorder, seconds=6.0, peak_at_s=3.1, peak_deg=7.5):
    """A walk of `seconds` kept at 30 fps: the ruler's tilt swings gently, highest (left hip low) at `peak_at_s`."""
    image = np.zeros((360, 640, 3), np.uint8)
    for index in range(int(seconds * FPS)):
        t_s = index / FPS
        tilt = peak_deg if abs(t_s - peak_at_s) < 1e-6 else 2.0 * np.sin(t_s * 3)
        image[:] = index % 256
        recorder.add(_frame(index, image), _verdict(float(tilt)))
    steps = tuple(_step(i, 0.5 + i, 1.5 + i, Side.LEFT if i % 2 else Side.RIGHT, 3.0) for i in range(5))
    worst = StepRecord(2, 2.5, 3.5, Side.LEFT, 6.8, Side.LEFT, 0.0, 0.0, Pattern.TRENDELENBURG)
    steps = (*steps[:2], worst, *steps[3:])
    return FinishedWalk(None, steps, 0.5, seconds - 0.2, seconds + 1.0)  # type: ignore[arg-type]


def test_the_replay_runs_at_its_speed_stops_on_the_largest_drop_and_ends():
    settings = ReplayConfig(speed=0.5, freeze_s=2.0)
    recorder = ReplayRecorder(settings, FPS)
    walk = _walked(recorder)
    replay = Replay(recorder, walk, started_s=100.0, tolerance_deg=5.0)
    assert replay.playable
    first = replay.at(100.0)
    assert first is not None and first.position == pytest.approx(0.0) and first.frozen_words is None
    # the first kept frame: 0.5 s before the first step
    assert first.image.mean() == pytest.approx(0, abs=1)
    t0 = 0.0  # walk.start_s - LEAD_S
    shown = []
    now = 100.0
    while (screen := replay.at(now)) is not None:
        shown.append((now, screen.position, screen.frozen_words, screen.verdict.tilt_deg))
        now += 0.05
    positions = [p for _, p, _, _ in shown]
    assert positions == sorted(positions) and positions[-1] > 0.97
    frozen = [(t, tilt) for t, _, words, tilt in shown if words is not None]
    assert frozen, "the replay never stopped on the largest drop"
    assert {tilt for _, tilt in frozen} == {7.5}  # the frame where the ruler showed that step's peak
    assert frozen[-1][0] - frozen[0][0] == pytest.approx(settings.freeze_s, abs=0.06)
    assert frozen[0][0] - 100.0 == pytest.approx((3.1 - t0) / settings.speed, abs=0.06)
    assert {words for _, _, words, _ in shown if words} == {"Largest drop, step\u00a03: left hip 6.8\u00b0 low"}
    t1 = min(walk.end_s + 0.3, (6.0 * FPS - 1) / FPS)  # the walker's last moment, or the last frame kept
    length = (t1 - t0) / settings.speed + settings.freeze_s
    assert replay.length_s == pytest.approx(length, abs=0.05)
    assert now - 100.0 == pytest.approx(length, abs=0.1)
    marks = first.steps
    assert [m.dropped for m in marks] == [False, False, True, False, False]
    assert all(0 <= m.position <= 1 for m in marks)


def test_the_keeper_keeps_people_only_plays_a_finished_walk_and_a_newcomer_stops_it_at_once():
    recorder = ReplayRecorder(ReplayConfig(speed=1.0, freeze_s=0.5), FPS)
    keeper = ReplayKeeper(recorder, tolerance_deg=5.0)
    image = np.zeros((360, 640, 3), np.uint8)
    for index in range(60):
        keeper.keep(_frame(index, image), _verdict(1.0), now_s=index / FPS)
    keeper.keep(_frame(60, image), NOBODY, now_s=2.0)
    assert recorder.kept == 60  # nobody in the picture: not kept
    walk = FinishedWalk(None, (_step(0, 0.5, 1.0, Side.LEFT, 2.0),) * 4, 0.5, 1.97, 3.0)  # type: ignore[arg-type]
    keeper.walk_finished(walk, now_s=3.0)
    assert keeper.playing and keeper.played == 1
    keeper.keep(_frame(61, image), _verdict(1.0), now_s=3.0)
    assert recorder.kept == 60  # nothing is kept while it plays
    assert keeper.screen(NOBODY, now_s=3.1) is not None
    assert keeper.screen(_verdict(0.5), now_s=3.2) is None  # someone stepped in
    assert not keeper.playing and keeper.interrupted == 1 and recorder.kept == 0


def test_the_keeper_drops_what_it_kept_when_the_person_leaves_without_a_walk():
    recorder = ReplayRecorder(ReplayConfig(), FPS)
    keeper = ReplayKeeper(recorder, tolerance_deg=5.0)
    image = np.zeros((360, 640, 3), np.uint8)
    for index in range(30):
        keeper.keep(_frame(index, image), _verdict(1.0), now_s=index / FPS)
    keeper.keep(_frame(30, image), NOBODY, now_s=1.0 + LEAVE_S / 2)
    assert recorder.kept == 30  # not yet: a walk may still end
    keeper.keep(_frame(31, image), NOBODY, now_s=1.0 + LEAVE_S + 0.1)
    assert recorder.kept == 0


def test_a_replay_plays_to_its_end_then_the_keeper_forgets_it():
    recorder = ReplayRecorder(ReplayConfig(speed=1.0, freeze_s=0.0), FPS)
    keeper = ReplayKeeper(recorder, tolerance_deg=5.0)
    walk = _walked(recorder, seconds=2.0, peak_at_s=1.0)
    keeper.walk_finished(walk, now_s=0.0)
    assert keeper.screen(NOBODY, now_s=1.0) is not None
    assert keeper.screen(NOBODY, now_s=5.0) is None
    assert not keeper.playing and keeper.interrupted == 0 and recorder.kept == 0
