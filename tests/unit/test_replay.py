"""The walk's slow-motion replay: the ring of kept frames (its memory bound, its forgetting), the
replay's timing and its stop on the largest drop, and when the keeper keeps, plays and drops."""

import tracemalloc

import numpy as np
import pytest

from kiosk.core.types import (
    FinishedWalk,
    Frame,
    NoVerdict,
    Pattern,
    Rep,
    RepVerdict,
    SetSummary,
    Side,
    State,
    StepRecord,
    Verdict,
)
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
    assert kept_size(*size, recorder.slots + recorder.held_slots, settings.memory_mb * 2**20) == (width, height)


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
    replay = Replay.of_walk(recorder, walk, started_s=100.0, tolerance_deg=5.0)
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


def _rep(index, start_s, side, hike_deg, verdict):
    return Rep(index, side, start_s, start_s + 2.0, 25.0, 27.0, 0.5, hike_deg, 1.0, verdict)


def test_a_sets_worst_rep_is_held_past_the_ring_and_played_after_the_set_until_the_next_lift():
    """Four reps of 2 s in a 12 s ring, then 20 s of rest (the ring forgets the reps): the worst
    rep (the one that hiked, not the highest clean one) is played back after the set ends."""
    settings = ReplayConfig(speed=0.5, freeze_s=1.0)
    recorder = ReplayRecorder(settings, FPS)
    keeper = ReplayKeeper(recorder, tolerance_deg=5.0)
    image = np.zeros((360, 640, 3), np.uint8)
    reps = [_rep(0, 1.0, Side.LEFT, 1.0, RepVerdict.CLEAN), _rep(1, 4.0, Side.RIGHT, 6.0, RepVerdict.PELVIS_HIKED),
            _rep(2, 7.0, Side.LEFT, 3.0, RepVerdict.CLEAN), _rep(3, 10.0, Side.RIGHT, 4.0, RepVerdict.CLEAN)]
    done = 0
    for index in range(int(33 * FPS)):
        t_s = index / FPS
        hiking = 4.8 <= t_s < 4.84  # the right leg's rep hikes most here: the ruler tilts (left hip low)
        image[:] = 250 if hiking else index % 200
        keeper.keep(_frame(index, image), _verdict(6.5 if hiking else 0.5), now_s=t_s)
        while done < len(reps) and t_s >= reps[done].end_s:
            keeper.rep_done(reps[done])
            done += 1
    assert recorder.slots_between(0.0, 14.0) == []  # the ring has moved on past every rep
    assert len(recorder.held()) >= 2 * FPS
    keeper.set_finished(SetSummary(tuple(reps), 1.0, 12.0), now_s=100.0)
    assert keeper.playing and keeper.played == 1
    screens = []
    now = 100.0
    while (screen := keeper.screen(_verdict(0.5), now, lifting=False)) is not None:
        screens.append(screen)
        now += 0.05
    frozen = [s for s in screens if s.frozen_words is not None]
    assert frozen and {s.verdict.tilt_deg for s in frozen} == {6.5}
    assert frozen[0].frozen_words.startswith("Worst rep: right leg out 25") and "hiked\u00a06" in frozen[0].frozen_words
    assert frozen[0].frozen_state is State.TILTED
    # from half a second before the rep to its end (the frames kept when it ended), slowed, and the stop
    assert len(screens) * 0.05 == pytest.approx((6.0 - 3.5) / 0.5 + 1.0, abs=0.15)
    assert recorder.held() == [] and recorder.kept == 0


def _one_rep_kept(settings):
    """A keeper that kept 4 s of a person and one clean rep (1 s to 3 s) of it."""
    recorder = ReplayRecorder(settings, FPS)
    keeper = ReplayKeeper(recorder, tolerance_deg=5.0)
    image = np.zeros((360, 640, 3), np.uint8)
    for index in range(int(4 * FPS)):
        keeper.keep(_frame(index, image), _verdict(0.5), now_s=index / FPS)
    rep = _rep(0, 1.0, Side.LEFT, 1.0, RepVerdict.CLEAN)
    keeper.rep_done(rep)
    return recorder, keeper, rep, image


def test_the_next_lift_cuts_a_reps_replay_short():
    recorder, keeper, rep, _ = _one_rep_kept(ReplayConfig(speed=0.5))
    keeper.set_finished(SetSummary((rep,), 1.0, 3.0), now_s=10.0)
    assert keeper.screen(_verdict(0.5), 10.1, lifting=False) is not None  # the person still there: it plays
    assert keeper.screen(_verdict(0.5), 10.2, lifting=True) is None
    assert keeper.interrupted == 1 and not keeper.playing and recorder.held() == []


def test_leaving_mid_set_forgets_the_ring_but_holds_the_worst_rep_for_the_sets_end():
    recorder, keeper, rep, image = _one_rep_kept(ReplayConfig())
    keeper.keep(_frame(200, image), NOBODY, now_s=4.0 + LEAVE_S + 0.1)
    assert recorder.kept == 0 and recorder.held()
    keeper.set_finished(SetSummary((rep,), 1.0, 3.0), now_s=10.0)
    assert keeper.playing


def test_frames_are_kept_at_most_at_twice_the_cameras_rate_and_all_of_a_jittery_camera():
    image = np.zeros((360, 640, 3), np.uint8)
    fast = ReplayKeeper(ReplayRecorder(ReplayConfig(), FPS), tolerance_deg=5.0)
    for index in range(90):  # a loop fed three times faster than the camera (bench)
        fast.keep(_frame(index, image), _verdict(0.5), now_s=index / (3 * FPS))
    assert fast.recorder.kept == 45
    camera = ReplayKeeper(ReplayRecorder(ReplayConfig(), FPS), tolerance_deg=5.0)
    jitter = np.random.default_rng(3).uniform(-0.2, 0.2, 90) / FPS
    for index in range(90):
        camera.keep(_frame(index, image), _verdict(0.5), now_s=index / FPS + jitter[index])
    assert camera.recorder.kept == 90
