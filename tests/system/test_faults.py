"""Fault injection: a camera that is unplugged, hangs or sends garbage, and a model that returns NaN.

The frames are real (a clip from ../shared/data) and so is the model; only the faults are made up.
"""

import dataclasses
import functools
import gc
import logging
import threading
import time
import typing
import weakref

import numpy as np
import pytest

from kiosk.app.assembly import Purpose, assemble
from kiosk.camera.sources import ClipSource
from kiosk.core.errors import CameraUnavailable
from kiosk.core.faults import FaultLog, frame_problem
from kiosk.core.memory import return_free_memory
from kiosk.core.types import State
from kiosk.core.words import CAMERA_UNAVAILABLE
from kiosk.settings.config import SourceConfig

from conftest import pinned_config, shared_file
from fakes import GARBAGE_KINDS, GlitchingModel, UnpluggableCamera


class WatchingView:
    def __init__(self):
        self.lock = threading.Lock()
        self.shown = []  # (monotonic time, frame index, state)
        self.messages = []  # (monotonic time, words)

    def show(self, frame, verdict, fps=None, walk=None, exercise=None, notice=None):
        assert frame_problem(frame.image) is None, "a garbage frame reached the screen"
        with self.lock:
            self.shown.append((time.monotonic(), frame.index, verdict.state))

    def show_message(self, words):
        with self.lock:
            self.messages.append((time.monotonic(), words))

    def show_walk_summary(self, frame, summary):
        pass

    def show_replay(self, screen):
        pass

    def quit_requested(self):
        return False

    def save_snapshot(self, path):
        pass

    def frames_after(self, t):
        with self.lock:
            return [s for s in self.shown if s[0] > t]

    def messages_after(self, t):
        with self.lock:
            return [m for m in self.messages if m[0] > t]


def _camera():
    return UnpluggableCamera(functools.partial(ClipSource, shared_file("frontal_walk_white_bg.mp4"), True, True))


@pytest.fixture(scope="module")
def run_kiosk(model_path):
    """`beltline run`'s kiosk (a stall after 1 s instead of 2), its model wrapped to return NaN on demand."""
    config = dataclasses.replace(pinned_config(), source=SourceConfig(stall_timeout_s=1.0))
    return assemble(config, model_path, Purpose.RUN, wrap_model=GlitchingModel)


class Kiosk:
    """The kiosk loop with supervision, in a thread, as `beltline run` drives it."""

    def __init__(self, run_kiosk, camera=None):
        self.camera = camera or _camera()
        self.view = WatchingView()
        kiosk = run_kiosk.restarted()
        self.model = kiosk.model
        self.pipeline = kiosk.pipeline
        self.stop = threading.Event()
        self.error = None
        supervision = kiosk.supervision(self.camera.open)
        first = self.camera.open()

        def loop():
            try:
                kiosk.run(first, self.view, stop=self.stop, supervision=supervision)
            except Exception as error:  # noqa: BLE001 -- reported by the test
                self.error = error

        self.thread = threading.Thread(target=loop, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the loop did not stop"
        assert self.error is None, f"the loop died: {self.error!r}"


def _wait_for(condition, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_unplugged_camera_says_so_and_comes_back_within_3_s(run_kiosk):
    with Kiosk(run_kiosk) as kiosk:
        assert _wait_for(lambda: len(kiosk.view.shown) > 10, 10)
        unplugged = time.monotonic()
        kiosk.camera.unplug()
        assert _wait_for(lambda: any(w == CAMERA_UNAVAILABLE for _, w in kiosk.view.messages_after(unplugged)), 5)
        time.sleep(2.5)  # several failed reconnection attempts, backing off
        kiosk.camera.plug_in()
        back = kiosk.camera.plugged_back_at
        assert _wait_for(lambda: kiosk.view.frames_after(back), 3.0), "no picture within 3 s of the camera returning"
        assert kiosk.camera.opens >= 2
    assert kiosk.pipeline.faults.totals["camera_lost"] >= 1


def test_a_hanging_camera_is_detected_and_reopened(run_kiosk):
    with Kiosk(run_kiosk) as kiosk:
        assert _wait_for(lambda: len(kiosk.view.shown) > 10, 10)
        hung = time.monotonic()
        kiosk.camera.stall(2.5)
        assert _wait_for(lambda: any(w == CAMERA_UNAVAILABLE for _, w in kiosk.view.messages_after(hung)), 4)
        assert _wait_for(lambda: kiosk.view.frames_after(hung + 2.5), 3.5), "no picture after the hang ended"
    assert kiosk.pipeline.faults.totals["camera_stalled"] >= 1


def test_a_replaced_camera_is_freed_at_once_not_left_to_the_cycle_collector(run_kiosk):
    """A steady loop seldom wakes Python's cycle collector, so a replaced camera caught in a
    reference cycle would keep its frame buffers for as long as an hour."""
    opened = []

    def open_clip():
        source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), True, True)
        opened.append(weakref.ref(source))
        return source

    gc.collect()
    gc.disable()
    try:
        with Kiosk(run_kiosk, UnpluggableCamera(open_clip)) as kiosk:
            for _ in range(3):
                shown = len(kiosk.view.shown)
                assert _wait_for(lambda: len(kiosk.view.shown) > shown + 5, 10)  # noqa: B023
                unplugged = time.monotonic()
                kiosk.camera.unplug()
                assert _wait_for(lambda: kiosk.pipeline.faults.totals["camera_lost"] and
                                 any(w == CAMERA_UNAVAILABLE for _, w in kiosk.view.messages_after(unplugged)), 5)  # noqa: B023
                kiosk.camera.plug_in()
                back = kiosk.camera.plugged_back_at
                assert _wait_for(lambda: kiosk.view.frames_after(back), 3.0)  # noqa: B023
            alive = [ref for ref in opened if ref() is not None]
            # The first camera belongs to the caller, who closes it at the end; the newest is in use.
            assert len(opened) == 4
            assert alive == [opened[0], opened[-1]], f"{len(alive) - 2} replaced cameras are still in memory"
    finally:
        gc.enable()


def test_the_periodic_trim_frees_cycles_holding_frames():
    class Holder:
        pass

    holder = Holder()
    holder.itself = holder
    holder.frame = np.zeros((720, 1280, 3), np.uint8)
    freed = weakref.ref(holder)
    gc.disable()
    try:
        del holder
        assert freed() is not None  # a cycle: reference counting alone does not free it
        return_free_memory()
        assert freed() is None
    finally:
        gc.enable()


def test_garbage_frames_are_skipped_and_counted(run_kiosk):
    with Kiosk(run_kiosk) as kiosk:
        assert _wait_for(lambda: len(kiosk.view.shown) > 5, 10)
        kiosk.camera.send_garbage(list(GARBAGE_KINDS) * 3)
        assert _wait_for(lambda: kiosk.pipeline.faults.totals["bad_frame"] == 12, 5)
        count = len(kiosk.view.shown)
        assert _wait_for(lambda: len(kiosk.view.shown) > count + 5, 5), "the loop stopped after the garbage"


def test_nan_keypoints_are_skipped_and_counted(run_kiosk):
    with Kiosk(run_kiosk) as kiosk:
        assert _wait_for(lambda: len(kiosk.view.shown) > 5, 10)
        kiosk.model.glitch(4)
        assert _wait_for(lambda: kiosk.pipeline.faults.totals["nan_keypoints"] == 4, 5)
        assert _wait_for(lambda: kiosk.view.shown[-1][2] is not State.NONE, 5), "no verdict after the glitch"


def test_fault_log_speaks_at_most_once_a_minute(caplog):
    now = [1000.0]
    faults = FaultLog(clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="kiosk.core.faults"):
        for _ in range(100):
            faults.count("bad_frame", "all black")
        assert len(caplog.records) == 1
        now[0] += 61
        faults.count("bad_frame", "all black")
    assert len(caplog.records) == 2
    assert "x100" in caplog.records[1].getMessage()  # the 99 unlogged ones and this one
    assert faults.totals["bad_frame"] == 101


@pytest.mark.parametrize(
    "image, problem",
    [
        (np.zeros((4, 4), np.uint8), "wrong shape"),
        (np.zeros((4, 4, 3), np.float32) + 1, "wrong dtype"),
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((64, 64, 3), np.uint8), "all black"),
        ("not an image", "not an image"),
    ],
)
def test_frame_problems_are_named(image, problem):
    assert problem in frame_problem(image)


def test_a_dark_but_real_frame_is_fine():
    image = np.zeros((64, 64, 3), np.uint8)
    image[::8, ::8] = 3
    assert frame_problem(image) is None


class LateWebcam:
    """A webcam that is not there for the first `appears_after_s` (USB enumeration on a slow
    morning, a ribbon cable pushed back in), then delivers the real clip."""

    appears_at = 0.0
    attempts: typing.ClassVar[list[float]] = []

    def __init__(self, device, settings, pool=None):
        LateWebcam.attempts.append(time.monotonic())
        if time.monotonic() < LateWebcam.appears_at:
            raise CameraUnavailable(f"camera webcam:{device} (/dev/video{device}) cannot be opened: is it plugged in?")
        self._clip = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=True)
        self.description = f"webcam:{device}"
        self.fps = self._clip.fps

    def read(self):
        return self._clip.read()

    def close(self):
        self._clip.close()


@pytest.mark.shared
def test_a_camera_that_comes_40_s_late_is_shown_without_a_restart(monkeypatch, capsys, tmp_path, model_path):
    # systemd would give up on a unit that exits at once after about 36 s; the kiosk itself waits.
    import kiosk.camera.sources
    from kiosk.app.cli import main

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setattr(kiosk.camera.sources, "WebcamSource", LateWebcam)
    started = time.monotonic()
    LateWebcam.appears_at, LateWebcam.attempts = started + 40.0, []
    config = tmp_path / "config.toml"
    config.write_text("[records]\nenabled = false\n")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(["run", "--source", "webcam:3", "--model", str(model_path), "--windowed", "--max-frames", "30",
                     "--config", str(config)])
    finally:  # main() points the root logger at this test's captured stderr: give the logger back
        root.handlers[:] = handlers
        root.setLevel(level)
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    opened = [t for t in LateWebcam.attempts if t >= LateWebcam.appears_at]
    assert len(opened) == 1, "the camera was opened once it came, and kept"
    waited = [t for t in LateWebcam.attempts if t < LateWebcam.appears_at]
    assert len(waited) >= 15, f"retried {len(waited)} times in 40 s (back-off at most 2 s)"
    assert opened[0] - LateWebcam.appears_at < 2.5, "the camera was picked up within the back-off's cap"
    assert "waiting for the camera" in stderr and "camera back" in stderr
    assert "showed 30 frames" in stderr


def test_a_camera_that_stays_away_is_named_in_the_journal_once_a_minute(monkeypatch, caplog):
    import kiosk.flow.threads
    from kiosk.flow.threads import CameraStatus

    clock = [1000.0]
    monkeypatch.setattr(kiosk.flow.threads.time, "monotonic", lambda: clock[0])
    status = CameraStatus()
    with caplog.at_level("WARNING", logger="kiosk.flow.threads"):
        for _ in range(300):  # 150 s of retries every half second
            status.lost("camera webcam:0 (/dev/video0) cannot be opened: is it plugged in?")
            clock[0] += 0.5
        status.back()
    said = [r.getMessage() for r in caplog.records]
    assert said[0].startswith("camera lost: camera webcam:0")
    assert [m.split(" s:")[0] for m in said[1:3]] == ["camera still unavailable after 60",
                                                    "camera still unavailable after 120"]
    assert said[3].startswith("camera back after") and len(said) == 4
    assert status.losses == 1 and status.recoveries == 1


class _SpoiledInterpreter:
    """The real interpreter, whose keypoint output reads `value` everywhere (a damaged model)."""

    def __init__(self, real, output_index, value):
        self._real, self._output_index, self.value = real, output_index, value

    def get_tensor(self, index):
        tensor = self._real.get_tensor(index)
        if index == self._output_index and self.value is not None:
            return np.full(tensor.shape, self.value, np.float32)
        return tensor

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.mark.shared
@pytest.mark.parametrize("value", [float("inf"), -float("inf"), 3e38, float("nan")])
def test_a_model_output_that_is_not_a_keypoint_is_skipped_and_counted(model_path, value):
    kiosk = assemble(pinned_config(), model_path, Purpose.ANALYZE)
    tensors = kiosk.model._tensors
    spoiled = _SpoiledInterpreter(tensors._interpreter, tensors._output_index, None)
    tensors._interpreter = spoiled
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=False, loop=False)
    try:
        states = []
        for index in range(14):
            spoiled.value = value if 4 <= index < 8 else None
            states.append(kiosk.pipeline.step(source.read())[0].verdict.state)
    finally:
        source.close()
    assert kiosk.pipeline.faults.totals["nan_keypoints"] == 4
    assert states[-1] is not State.NONE, "the person is found again after the broken frames"
