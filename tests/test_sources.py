import threading
import time

import numpy as np
import pytest
from conftest import shared_file

from kiosk.config import SourceConfig
from kiosk.errors import SourceError
from kiosk.pipeline import NewestFrameSlot
from kiosk.sources import ClipSource, PiCameraSource, StillImageSource, open_source
from kiosk.types import Frame


def test_clip_frames_are_rgb_in_order_with_media_time():
    source = open_source(str(shared_file("frontal_walk_two_people.gif")), SourceConfig(), paced=False,
                         repeat_stills=False, loop=False)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    assert len(frames) == 35
    assert [f.index for f in frames] == list(range(35))
    assert frames[0].image.shape == (270, 480, 3) and frames[0].image.dtype == np.uint8
    assert frames[1].t_s == pytest.approx(1 / source.fps)


def test_clip_loops_when_asked():
    source = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=True)
    indices = [source.read().index for _ in range(80)]
    source.close()
    assert indices == list(range(80))


def test_paced_clip_runs_at_its_own_speed():
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=False)
    started = time.monotonic()
    for _ in range(6):
        source.read()
    elapsed = time.monotonic() - started
    source.close()
    # six frames at 25 fps span five frame intervals; a generous lower bound keeps this from being a timing test
    assert elapsed >= 4 / 25


def test_still_image_once_or_repeated():
    once = StillImageSource(shared_file("tfex_image1.png"), repeat=False, fps=30, paced=False)
    assert once.read() is not None and once.read() is None
    repeated = StillImageSource(shared_file("tfex_image1.png"), repeat=True, fps=30, paced=False)
    frames = [repeated.read() for _ in range(3)]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].t_s == pytest.approx(2 / 30)
    # RGB: the photo's black background stays black, the person is not blue-tinted BGR
    assert frames[0].image.shape == (640, 384, 3)


@pytest.mark.parametrize("name", ["nope.mp4", "nope.png"])
def test_missing_files_raise_source_errors(tmp_path, name):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(str(tmp_path / name), SourceConfig(), paced=False, repeat_stills=False, loop=False)


def test_garbage_image_raises_a_source_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(SourceError, match="cannot be read"):
        open_source(str(bad), SourceConfig(), paced=False, repeat_stills=False, loop=False)


class FakeTransform:
    def __init__(self, hflip=0, vflip=0):
        self.hflip, self.vflip = hflip, vflip


class FakePicamera2:
    """Has picamera2.Picamera2's method names; delivers B,G,R-ordered "RGB888" arrays as the real one does."""

    instances: list["FakePicamera2"] = []

    def __init__(self, fail_after: int | None = None):
        self.calls: list[str] = []
        self.configuration = None
        self.fail_after = fail_after
        self.captured = 0
        FakePicamera2.instances.append(self)

    def create_video_configuration(self, main=None, buffer_count=None, transform=None, controls=None, **_):
        self.calls.append("create_video_configuration")
        return {"main": main, "buffer_count": buffer_count, "transform": transform, "controls": controls}

    def configure(self, configuration):
        self.calls.append("configure")
        self.configuration = configuration

    def start(self):
        self.calls.append("start")

    def capture_array(self, name="main"):
        self.calls.append(f"capture_array:{name}")
        if self.fail_after is not None and self.captured >= self.fail_after:
            raise RuntimeError("Camera frontend has timed out!")
        self.captured += 1
        width, height = self.configuration["main"]["size"]
        bgr = np.zeros((height, width, 4), dtype=np.uint8)  # XBGR-sized buffers carry a 4th byte
        bgr[..., 0] = 200  # blue, first in memory for "RGB888"
        bgr[..., 2] = 10  # red
        return bgr

    def stop(self):
        self.calls.append("stop")

    def close(self):
        self.calls.append("close")


def test_pi_camera_is_set_up_for_low_latency_and_delivers_rgb():
    settings = SourceConfig(width=640, height=480, fps=30.0)
    camera = PiCameraSource(settings, picamera2_api=(FakePicamera2, FakeTransform))
    fake = FakePicamera2.instances[-1]
    config = fake.configuration
    assert config["main"] == {"size": (640, 480), "format": "RGB888"}
    assert config["buffer_count"] <= 3
    assert config["transform"].hflip == 0  # the model must see the unmirrored scene
    assert config["controls"]["FrameDurationLimits"] == (33333, 33333)
    frame = camera.read()
    assert frame.image.shape == (480, 640, 3)
    assert frame.image[0, 0].tolist() == [10, 0, 200]  # R, G, B
    camera.close()
    assert fake.calls[-2:] == ["stop", "close"]


def test_pi_camera_can_mirror_in_the_isp():
    PiCameraSource(SourceConfig(), hflip=True, picamera2_api=(FakePicamera2, FakeTransform))
    assert FakePicamera2.instances[-1].configuration["transform"].hflip == 1


def test_pi_camera_that_stops_delivering_raises_a_source_error():
    camera = PiCameraSource(SourceConfig(), picamera2_api=(lambda: FakePicamera2(fail_after=1), FakeTransform))
    camera.read()
    with pytest.raises(SourceError, match="stopped delivering"):
        camera.read()


def test_pi_camera_that_cannot_open_raises_a_source_error():
    def no_camera():
        raise IndexError("list index out of range")  # what Picamera2() raises with no camera attached

    with pytest.raises(SourceError, match="cannot be opened"):
        PiCameraSource(SourceConfig(), picamera2_api=(no_camera, FakeTransform))


def _frame(i: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), i, i / 30)


def test_newest_frame_wins_and_stale_ones_are_counted():
    slot = NewestFrameSlot()
    for i in range(5):
        slot.put(_frame(i))
    assert slot.take(timeout_s=0.1).index == 4
    assert slot.dropped == 4 and slot.delivered == 5
    assert slot.take(timeout_s=0.01) is None  # nothing new: never the same frame twice


def test_slot_end_and_error_reach_the_reader():
    slot = NewestFrameSlot()
    slot.put(_frame(0))
    slot.end()
    assert slot.take(0.1).index == 0
    assert slot.take(0.1) is None and slot.ended
    failing = NewestFrameSlot()
    failing.end(SourceError("camera gone"))
    with pytest.raises(SourceError, match="camera gone"):
        failing.take(0.1)


def test_slot_wakes_a_waiting_reader():
    slot = NewestFrameSlot()
    threading.Timer(0.05, slot.put, args=(_frame(7),)).start()
    assert slot.take(timeout_s=5).index == 7
