import threading
import time

import pytest

from kiosk.camera.sources import ClipSource
from kiosk.core.types import Frame, State
from kiosk.flow.loop import run_mirror
from kiosk.flow.pipeline import PelvisPipeline
from kiosk.settings.config import PelvisConfig

from conftest import shared_file, synthetic_pose
from fakes import ScriptedModel


class RecordingView:
    def __init__(self, quit_after=None):
        self.shown = []
        self.quit_after = quit_after

    def show(self, frame, verdict, fps=None, walk=None, exercise=None, notice=None):
        self.shown.append((frame.index, verdict.state))

    def show_walk_summary(self, frame, summary):
        pass

    def show_replay(self, screen):
        pass

    def quit_requested(self):
        return self.quit_after is not None and len(self.shown) >= self.quit_after

    def save_snapshot(self, path):
        raise AssertionError("no snapshot was asked for")


class SlowFakeModel(ScriptedModel):
    """Stands in for a Pi-speed model: 80 ms per frame, always the same frontal pose."""

    def pose_for(self, frame):
        time.sleep(0.08)
        return synthetic_pose(frame=(frame.width_px, frame.height_px))


def test_mirror_loop_shows_real_verdicts_in_order(movenet):
    movenet.forget_person()
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=False)
    view = RecordingView()
    stats = run_mirror(source, PelvisPipeline(movenet, PelvisConfig()), view, max_frames=30)
    source.close()
    indices = [i for i, _ in view.shown]
    assert stats.frames_shown == len(view.shown) == 30
    assert indices == sorted(set(indices))
    assert sum(state is not State.NONE for _, state in view.shown) >= 27


@pytest.mark.shared
def test_slow_inference_drops_stale_frames_instead_of_queueing():
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=False)
    view = RecordingView()
    stats = run_mirror(source, PelvisPipeline(SlowFakeModel(), PelvisConfig()), view, max_frames=8)
    source.close()
    indices = [i for i, _ in view.shown]
    # 25 fps in, ~12 fps out: the loop skips ahead to the newest frame every time
    assert stats.frames_dropped > 0
    assert indices[-1] - indices[0] > len(indices)
    assert indices == sorted(set(indices))


def test_quit_key_and_stop_event_end_the_loop(movenet):
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=True)
    view = RecordingView(quit_after=5)
    stats = run_mirror(source, PelvisPipeline(movenet, PelvisConfig()), view)
    assert stats.frames_shown == 5
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    stats = run_mirror(source, PelvisPipeline(movenet, PelvisConfig()), RecordingView(), stop=stop)
    source.close()
    assert 0 < stats.frames_shown < 100


class IndexEncodingModel(ScriptedModel):
    """A pose whose hip height encodes the frame it came from, to check that verdicts stay with their frames."""

    def __init__(self, delay_s=0.0, fail_at=None):
        super().__init__()
        self.delay_s = delay_s
        self.fail_at = fail_at

    def pose_for(self, frame):
        if self.fail_at is not None and frame.index >= self.fail_at:
            from kiosk.core.errors import ModelError

            raise ModelError("the model failed on a frame: fake failure")
        time.sleep(self.delay_s)
        y = 100.0 + frame.index % 300
        return synthetic_pose(left_hip=(340.0, y), right_hip=(300.0, y), left_shoulder=(350.0, y - 120),
                              right_shoulder=(290.0, y - 120), frame=(frame.width_px, frame.height_px))


class CheckingView(RecordingView):
    def show(self, frame, verdict, fps=None, walk=None, exercise=None, notice=None):
        assert verdict.reading is not None
        assert verdict.reading.left_hip_px[1] == 100.0 + frame.index % 300, "a verdict was shown on another frame"
        super().show(frame, verdict, fps)


@pytest.mark.shared
def test_pipelined_loop_shows_each_frame_with_its_own_verdict():
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    view = CheckingView()
    stats = run_mirror(source, PelvisPipeline(IndexEncodingModel(delay_s=0.002), PelvisConfig()), view,
                       on_demand=True)
    source.close()
    assert stats.frames_shown == len(view.shown) > 100
    assert [i for i, _ in view.shown] == sorted({i for i, _ in view.shown})


@pytest.mark.shared
def test_sequential_loop_shows_every_frame():
    source = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=False)
    view = CheckingView()
    stats = run_mirror(source, PelvisPipeline(IndexEncodingModel(), PelvisConfig()), view, sequential=True)
    source.close()
    assert [i for i, _ in view.shown] == list(range(35))
    assert stats.frames_dropped == 0


def test_frame_buffers_go_back_to_the_pool(movenet):
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    run_mirror(source, PelvisPipeline(movenet, PelvisConfig()), RecordingView(), max_frames=200)
    source.close()
    assert source._pool.overflows == 0  # every frame shown or dropped was released


@pytest.mark.shared
def test_a_model_failure_reaches_the_caller():
    from kiosk.core.errors import ModelError

    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    try:
        with pytest.raises(ModelError, match="fake failure"):
            run_mirror(source, PelvisPipeline(IndexEncodingModel(fail_at=5), PelvisConfig()), RecordingView())
    finally:
        source.close()


@pytest.mark.shared
def test_a_camera_failure_reaches_the_caller():
    from kiosk.core.errors import SourceError

    class VanishingCamera:
        description = "webcam:0"
        fps = 30.0

        def __init__(self):
            self.reads = 0

        def read(self):
            self.reads += 1
            if self.reads > 3:
                raise SourceError("camera webcam:0 stopped delivering frames")
            return synthetic_frame(self.reads)

        def close(self):
            pass

    with pytest.raises(SourceError, match="stopped delivering"):
        run_mirror(VanishingCamera(), PelvisPipeline(IndexEncodingModel(), PelvisConfig()), RecordingView())


def synthetic_frame(index):
    import numpy as np

    from kiosk.core.types import Frame

    return Frame(np.zeros((480, 640, 3), np.uint8), index, index / 30, time.monotonic())


class BuggyModel(ScriptedModel):
    """A bug, not a fault the user can fix: the model stand-in divides by zero on frame 3."""

    def pose_for(self, frame):
        if frame.index >= 3:
            return 1 / 0
        return synthetic_pose(frame=(frame.width_px, frame.height_px))


@pytest.mark.shared
def test_a_bug_in_a_worker_thread_reaches_the_caller_as_itself_not_as_a_camera_fault():
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    try:
        with pytest.raises(ZeroDivisionError):
            run_mirror(source, PelvisPipeline(BuggyModel(), PelvisConfig()), RecordingView())
    finally:
        source.close()


class CountingPipeline(PelvisPipeline):
    """Judges slowly, so that looks pile up for the screen thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.judged = []

    def judge(self, looked):
        self.judged.append(looked.frame.index)
        time.sleep(0.004)
        return super().judge(looked)


@pytest.mark.shared
def test_the_screen_thread_judges_every_look_in_order_even_when_it_shows_fewer():
    """The tracker and the step counter see every frame the model saw: a slow screen thread drops
    pictures, never looks."""
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    pipeline = CountingPipeline(IndexEncodingModel(delay_s=0.001), PelvisConfig())

    class SlowView(CheckingView):
        def show(self, frame, verdict, fps=None, walk=None, exercise=None, notice=None):
            time.sleep(0.006)
            super().show(frame, verdict, fps)

    view = SlowView()
    stats = run_mirror(source, pipeline, view, on_demand=True)
    source.close()
    shown = [i for i, _ in view.shown]
    assert pipeline.judged == sorted(set(pipeline.judged)) and len(pipeline.judged) > 100
    assert len(shown) < len(pipeline.judged)  # pictures were skipped ...
    assert set(shown) <= set(pipeline.judged) and stats.frames_shown == len(shown)
    # ... but every frame the model looked at was judged: none went missing between them
    assert pipeline.judged == list(range(pipeline.judged[0], pipeline.judged[-1] + 1))


@pytest.mark.shared
def test_a_walk_recorded_while_frames_were_let_go_carries_its_judged_share(tmp_path, model_path):
    """The real walk clip through the kiosk with records, once whole and once with two frames in
    three let go (as a busy loop lets them go: the frames keep their places in the stream)."""

    from kiosk.app.assembly import Purpose, assemble
    from kiosk.recording.store import RecordStore

    from conftest import pinned_config, rgb_frames

    frames = rgb_frames(shared_file("frontal_walk_white_bg.mp4"))
    shares = {}
    for keep in (1, 3):
        db = tmp_path / f"keep-{keep}.sqlite"
        kiosk = assemble(pinned_config(), model_path, Purpose.ANALYZE, record_to=db)
        for index in range(0, len(frames), keep):
            kiosk.pipeline.step(Frame(frames[index], index, index / 25))
        kiosk.pipeline.end_walks()
        kiosk.close()
        store = RecordStore.open(db, read_only=True)
        shares[keep] = [walk.judged_share for walk in store.walks()]
        store.close()
    assert shares[1] and all(share == 1.0 for share in shares[1])
    assert shares[3] and all(0.3 <= share <= 0.36 for share in shares[3])
