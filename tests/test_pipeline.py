import threading
import time

from conftest import shared_file, synthetic_pose

from kiosk.config import PelvisConfig
from kiosk.pipeline import PelvisPipeline, run_mirror
from kiosk.sources import ClipSource
from kiosk.types import State


class RecordingView:
    def __init__(self, quit_after=None):
        self.shown = []
        self.quit_after = quit_after

    def show(self, frame, verdict, fps=None):
        self.shown.append((frame.index, verdict.state))

    def quit_requested(self):
        return self.quit_after is not None and len(self.shown) >= self.quit_after

    def save_snapshot(self, path):
        raise AssertionError("no snapshot was asked for")


class SlowFakeModel:
    """Stands in for a Pi-speed model: 80 ms per frame, always the same frontal pose."""

    runtime_name = "fake"
    input_size_px = 192

    def estimate(self, frame):
        time.sleep(0.08)
        return synthetic_pose(frame=(frame.width_px, frame.height_px))

    def forget_person(self):
        pass


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
