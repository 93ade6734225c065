import threading
import time
from typing import ClassVar

import cv2
import numpy as np
import pytest

from kiosk.camera.picamera import PiCameraSource
from kiosk.camera.pool import BufferPool
from kiosk.camera.sources import ClipSource, MemoryClipSource, StillImageSource, decode_clip, open_source
from kiosk.core.errors import SourceError
from kiosk.core.types import Frame
from kiosk.flow.threads import NewestSlot, Slot
from kiosk.settings.config import SourceConfig

from conftest import shared_file


@pytest.mark.shared
def test_clip_frames_are_rgb_in_order_with_media_time():
    source = open_source(str(shared_file("frontal_walk_two_people.gif")), SourceConfig(), paced=False,
                         repeat_stills=False, loop=False)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    assert len(frames) == 35
    assert [f.index for f in frames] == list(range(35))
    assert not any(f.still for f in frames)  # a clip's frames can confirm each other
    assert frames[0].image.shape == (270, 480, 3) and frames[0].image.dtype == np.uint8
    assert frames[1].t_s == pytest.approx(1 / source.fps)


@pytest.mark.shared
def test_clip_loops_when_asked():
    source = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=True)
    indices = [source.read().index for _ in range(80)]
    source.close()
    assert indices == list(range(80))


@pytest.mark.shared
def test_paced_clip_runs_at_its_own_speed():
    source = ClipSource(shared_file("frontal_walk_white_bg.mp4"), paced=True, loop=False)
    started = time.monotonic()
    for _ in range(6):
        source.read()
    elapsed = time.monotonic() - started
    source.close()
    # six frames at 25 fps span five frame intervals; a generous lower bound keeps this from being a timing test
    assert elapsed >= 4 / 25


@pytest.mark.shared
def test_still_image_once_or_repeated():
    once = StillImageSource(shared_file("tfex_image1.png"), repeat=False, fps=30, paced=False)
    assert once.read() is not None and once.read() is None
    repeated = StillImageSource(shared_file("tfex_image1.png"), repeat=True, fps=30, paced=False)
    frames = [repeated.read() for _ in range(3)]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].t_s == pytest.approx(2 / 30)
    # RGB: the photo's black background stays black, the person is not blue-tinted BGR
    assert frames[0].image.shape == (640, 384, 3)
    assert all(f.still for f in frames)  # a photo: the belt picture's reading counts on its own


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


class FakeRequest:
    """picamera2's CompletedRequest: make_array per stream, release when done."""

    def __init__(self, camera):
        self.camera = camera
        self.released = False

    def make_array(self, name):
        assert not self.released, "read a request after releasing it"
        stream = self.camera.configuration[name]
        width, height = stream["size"]
        if name == "main":
            bgr = np.zeros((height, width, 3), dtype=np.uint8)
            bgr[..., 0] = 200  # blue, first in memory for "RGB888"
            bgr[..., 2] = 10  # red
            return bgr
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        rgb[..., 0] = 180  # a reddish picture
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)

    def release(self):
        self.released = True
        self.camera.calls.append("release")


class FakePicamera2:
    """Has picamera2.Picamera2's method names and the shapes of its arrays."""

    instances: ClassVar[list["FakePicamera2"]] = []

    def __init__(self, fail_after: int | None = None):
        self.calls: list[str] = []
        self.configuration = None
        self.fail_after = fail_after
        self.captured = 0
        FakePicamera2.instances.append(self)

    def create_video_configuration(self, main=None, lores=None, buffer_count=None, transform=None, controls=None, **_):
        self.calls.append("create_video_configuration")
        return {"main": main, "lores": lores, "buffer_count": buffer_count, "transform": transform,
                "controls": controls}

    def configure(self, configuration):
        self.calls.append("configure")
        self.configuration = configuration

    def start(self):
        self.calls.append("start")

    def capture_request(self):
        self.calls.append("capture_request")
        if self.fail_after is not None and self.captured >= self.fail_after:
            raise RuntimeError("Camera frontend has timed out!")
        self.captured += 1
        return FakeRequest(self)

    def stop(self):
        self.calls.append("stop")

    def close(self):
        self.calls.append("close")


def test_pi_camera_is_set_up_for_low_latency_and_delivers_rgb():
    settings = SourceConfig(width=1280, height=720, fps=30.0, model_stream_width=640)
    camera = PiCameraSource(settings, picamera2_api=(FakePicamera2, FakeTransform))
    fake = FakePicamera2.instances[-1]
    config = fake.configuration
    assert config["main"] == {"size": (1280, 720), "format": "RGB888"}
    assert config["lores"] == {"size": (640, 360), "format": "YUV420"}
    assert config["buffer_count"] <= 3
    assert config["transform"].hflip == 0  # the model must see the unmirrored scene
    assert config["controls"]["FrameDurationLimits"] == (33333, 33333)
    frame = camera.read()
    assert fake.calls[-1] == "release"  # the camera's buffer goes back before the frame is used
    assert frame.image.shape == (720, 1280, 3)
    assert frame.image[0, 0].tolist() == [10, 0, 200]  # R, G, B
    assert frame.model_image.shape == (360, 640, 3)
    assert abs(int(frame.model_image[5, 5, 0]) - 180) <= 3 and frame.model_image[5, 5, 2] <= 3
    camera.close()
    assert fake.calls[-2:] == ["stop", "close"]


def test_pi_camera_reuses_its_buffers():
    camera = PiCameraSource(SourceConfig(), picamera2_api=(FakePicamera2, FakeTransform))
    first = camera.read()
    first_buffers = (id(first.image), id(first.model_image))
    first.release()
    second = camera.read()
    assert (id(second.image), id(second.model_image)) == first_buffers
    third = camera.read()  # the second is still in use: a different buffer
    assert id(third.image) != id(second.image)


def test_pi_camera_without_a_model_stream():
    camera = PiCameraSource(SourceConfig(model_stream_width=0), picamera2_api=(FakePicamera2, FakeTransform))
    assert "lores" not in FakePicamera2.instances[-1].configuration or \
        FakePicamera2.instances[-1].configuration["lores"] is None
    assert camera.read().model_image is None


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


def test_buffer_pool_never_hands_out_a_buffer_in_use():
    pool = BufferPool(capacity=2)
    a = pool.acquire((4, 4, 3))
    b = pool.acquire((4, 4, 3))
    assert pool.overflows == 0
    c = pool.acquire((4, 4, 3))  # both out: a fresh one, counted
    assert len({id(a), id(b), id(c)}) == 3 and pool.overflows == 1
    pool.release(a)
    pool.release(a)  # twice by mistake: still handed out once
    assert pool.acquire((4, 4, 3)) is a
    assert pool.acquire((4, 4, 3)) is not a


@pytest.mark.shared
def test_clip_frames_come_back_to_the_pool():
    source = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=False)
    first = source.read()
    buffer = first.image
    first.release()
    frames = [source.read() for _ in range(3)]
    assert any(f.image is buffer for f in frames)
    source.close()


def _frame(i: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), i, i / 30)


def test_newest_frame_wins_and_stale_ones_are_counted():
    slot = NewestSlot()
    for i in range(5):
        slot.put(_frame(i))
    assert slot.take(timeout_s=0.1).index == 4
    assert slot.dropped == 4 and slot.delivered == 5
    assert slot.take(timeout_s=0.01) is None  # nothing new: never the same frame twice


def test_slot_end_and_error_reach_the_reader():
    slot = NewestSlot()
    slot.put(_frame(0))
    slot.end()
    assert slot.take(0.1).index == 0
    assert slot.take(0.1) is None and slot.ended
    failing = NewestSlot()
    failing.end(SourceError("camera gone"))
    with pytest.raises(SourceError, match="camera gone"):
        failing.take(0.1)


def test_slot_wakes_a_waiting_reader():
    slot = NewestSlot()
    threading.Timer(0.05, slot.put, args=(_frame(7),)).start()
    assert slot.take(timeout_s=5).index == 7


def test_a_slot_keeping_four_hands_over_every_item_in_order_and_drops_only_what_falls_out():
    """The looks wait for the screen thread in order; only a fifth pushes the oldest out."""
    slot = Slot(keep=4)
    released = []
    for i in range(6):
        frame = _frame(i)
        slot.put(Frame(frame.image, i, frame.t_s, return_buffer=lambda i=i: released.append(i)))
    assert released == [0, 1] and slot.dropped == 2
    assert [f.index for f in slot.take_all(timeout_s=0.1)] == [2, 3, 4, 5]
    assert slot.take_all(timeout_s=0.01) == [] and released == [0, 1]


@pytest.mark.shared
def test_a_clip_decoded_ahead_plays_in_a_loop_like_a_camera_with_the_clips_own_pictures(tmp_path):
    path = shared_file("frontal_walk_two_people.gif")
    clip = decode_clip(path, max_bytes=1 << 30)
    assert clip is not None and len(clip.frames) == 35 and clip.decode_s_per_frame > 0
    assert decode_clip(path, max_bytes=clip.frames[0].nbytes) is None  # too large for the budget: None
    pool = BufferPool()
    source = MemoryClipSource(clip, pool)
    plain = ClipSource(path, paced=False, loop=False)
    for i in range(35):
        frame, expected = source.read(), plain.read()
        assert frame.index == i and np.array_equal(frame.image, expected.image)
        assert frame.image is not clip.frames[i]  # a copy: the loop may write into it
        frame.release()
        expected.release()
    again = source.read()
    assert again.index == 35 and again.t_s == pytest.approx(35 / clip.fps)
    assert np.array_equal(again.image, clip.frames[0])
    again.release()
    assert pool.overflows == 0
    with pytest.raises(SourceError):
        decode_clip(tmp_path / "missing.mp4", 1 << 20)
