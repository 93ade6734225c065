"""Frame sources: clips and still images, webcams, and the Raspberry Pi camera.

Every source hands out `Frame`s: (H, W, 3) uint8 RGB, unmirrored, with a timestamp.
picamera2 exists only on a Pi; it is imported here, lazily, and only when chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import cv2

from kiosk.camera.pool import BufferPool
from kiosk.core.errors import CameraUnavailable, SourceError, closest
from kiosk.core.files import unreadable
from kiosk.core.types import Frame, Image
from kiosk.settings.config import SourceConfig

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
_WEBCAM_SPEC = re.compile(r"^(?:webcam:(\d+)|/dev/video(\d+))$")


class FrameSource(Protocol):
    """Hands out frames until the stream ends; `read` returns None at the end."""

    description: str
    fps: float
    """The stream's nominal frame rate."""

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class _Pacer:
    """Sleeps so that frames are handed out no faster than their media time (for `run` on a clip)."""

    def __init__(self) -> None:
        self._start: float | None = None

    def wait_until(self, media_t_s: float) -> None:
        now = time.monotonic()
        if self._start is None:
            self._start = now - media_t_s
        delay = self._start + media_t_s - now
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            # We fell more than a second behind (a stall): re-anchor instead of racing to catch up.
            self._start = now - media_t_s


def _open_clip(path: Path, decoder_threads: int) -> tuple[cv2.VideoCapture, float]:
    """An OpenCV capture of the clip at `path` and its frame rate (30 when the file's is missing or
    absurd); `decoder_threads` 0 lets FFmpeg choose.  SourceError names what is wrong."""
    if problem := unreadable(path):
        raise SourceError(f"clip {path} {problem}")
    params = [cv2.CAP_PROP_N_THREADS, decoder_threads] if decoder_threads else []
    capture = cv2.VideoCapture(str(path), cv2.CAP_ANY, params)
    if not capture.isOpened():
        raise SourceError(f"clip {path} cannot be opened: not a video OpenCV can decode")
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, float(fps) if fps and 0.5 <= fps <= 1000 else 30.0


class ClipSource:
    """A video file (mp4, avi, gif, ...) through OpenCV."""

    def __init__(self, path: Path, paced: bool, loop: bool, decoder_threads: int = 0,
                 pool: BufferPool | None = None) -> None:
        """`decoder_threads` 0 lets FFmpeg choose; 1 keeps decoding in the calling thread (for `bench`,
        where FFmpeg's own threads would hide the decoding cost and make a sequential loop half parallel).
        `pool`: frame buffers shared with the sources that replace this one after a reconnection."""
        capture, self.fps = _open_clip(path, decoder_threads)
        self._capture = capture
        self._path = path
        self.description = f"clip {path.name}"
        self._pacer = _Pacer() if paced else None
        self._loop = loop
        self._index = 0
        self._position = 0
        self._bgr: Image | None = None
        self._pool = pool or BufferPool()
        first = self._read_rgb()
        if first is None:
            capture.release()
            raise SourceError(f"clip {path} has no readable frame")
        self._pending: Image | None = first
        self.frame_size = (first.shape[1], first.shape[0])

    def _read_rgb(self) -> Image | None:
        ok, bgr = self._capture.read(self._bgr)
        if not ok or bgr is None or bgr.ndim != 3:
            return None
        self._bgr = cast(Image, bgr)
        return cast(Image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=self._pool.acquire(bgr.shape)))

    def read(self) -> Frame | None:
        rgb: Image | None
        if self._pending is not None:
            rgb, self._pending = self._pending, None
        else:
            rgb = self._read_rgb()
            if rgb is None and self._loop and self._position > 0:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self._position = 0
                rgb = self._read_rgb()
            if rgb is None:
                return None
        media_t_s = self._index / self.fps
        if self._pacer is not None:
            self._pacer.wait_until(media_t_s)
        frame = self._pool.frame(rgb, self._index, media_t_s)
        self._index += 1
        self._position += 1
        return frame

    def close(self) -> None:
        self._capture.release()


@dataclass(frozen=True, slots=True)
class DecodedClip:
    """A clip's frames decoded ahead into memory (RGB), and what decoding them cost."""

    frames: tuple[Image, ...]
    fps: float
    description: str
    decode_s_per_frame: float


def decode_clip(path: Path, max_bytes: int) -> DecodedClip | None:
    """Every frame of the clip at `path`, decoded into memory (in one thread, as `bench` decodes);
    None when they would take more than `max_bytes` (SourceError when it is unreadable)."""
    capture, fps = _open_clip(path, decoder_threads=1)
    frames: list[Image] = []
    held = 0
    seconds = 0.0
    try:
        while True:
            started = time.perf_counter()
            ok, bgr = capture.read()
            if not ok or bgr is None or bgr.ndim != 3:
                break
            frames.append(cast(Image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            seconds += time.perf_counter() - started
            held += frames[-1].nbytes
            if held > max_bytes:
                return None
    finally:
        capture.release()
    if not frames:
        raise SourceError(f"clip {path} has no readable frame")
    return DecodedClip(tuple(frames), fps, f"clip {path.name}", seconds / len(frames))


class MemoryClipSource:
    """A decoded clip played in a loop as a camera hands over frames: each read copies the next
    frame into a buffer of the pool (as picamera2's `capture_array` copies out of the camera's
    buffer), and nothing is decoded while the loop runs."""

    def __init__(self, clip: DecodedClip, pool: BufferPool | None = None) -> None:
        self._clip = clip
        self._pool = pool or BufferPool()
        self.fps = clip.fps
        self.description = f"{clip.description} (decoded ahead, {len(clip.frames)} frames)"
        first = clip.frames[0]
        self.frame_size = (first.shape[1], first.shape[0])
        self._index = 0

    def read(self) -> Frame | None:
        source = self._clip.frames[self._index % len(self._clip.frames)]
        image = self._pool.acquire(source.shape)
        image[...] = source
        frame = self._pool.frame(image, self._index, self._index / self.fps)
        self._index += 1
        return frame

    def close(self) -> None:
        pass


class StillImageSource:
    """A photo, handed out once (`repeat=False`) or as a still stream at `fps`."""

    def __init__(self, path: Path, repeat: bool, fps: float, paced: bool) -> None:
        if problem := unreadable(path):
            raise SourceError(f"image {path} {problem}")
        try:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        except cv2.error as error:  # OpenCV 5 refuses an image over its pixel limit before decoding it
            if "MAX_IMAGE_PIXELS" not in str(error):
                raise SourceError(f"image {path} cannot be read: {str(error).strip().splitlines()[-1]}") from error
            limit = int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 1 << 30))
            raise SourceError(f"image {path} is larger than {limit / 1e6:g} megapixels: "
                              "make it smaller (the model sees 192 pixels)") from error
        if bgr is None:
            raise SourceError(f"image {path} cannot be read: not an image OpenCV can decode")
        self._rgb = cast(Image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        self._rgb.flags.writeable = False
        self._repeat = repeat
        self.fps = fps
        self.description = f"image {path.name}"
        self._pacer = _Pacer() if paced else None
        self._index = 0

    def read(self) -> Frame | None:
        if self._index > 0 and not self._repeat:
            return None
        t_s = self._index / self.fps
        if self._pacer is not None:
            self._pacer.wait_until(t_s)
        frame = Frame(self._rgb, self._index, t_s, time.monotonic(), still=True)
        self._index += 1
        return frame

    def close(self) -> None:
        pass


class WebcamSource:
    """A USB webcam through OpenCV's V4L2 backend."""

    def __init__(self, device: int, settings: SourceConfig, pool: BufferPool | None = None) -> None:
        self.description = f"webcam:{device}"
        capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"camera webcam:{device} (/dev/video{device}) cannot be opened: is it plugged in?")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, settings.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.height)
        capture.set(cv2.CAP_PROP_FPS, settings.fps)
        # One buffered frame: we want the newest picture, never a queue of old ones.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 else settings.fps
        self._index = 0
        self._bgr: Image | None = None
        self._pool = pool or BufferPool()
        self._start = time.monotonic()

    def read(self) -> Frame | None:
        ok, bgr = self._capture.read(self._bgr)
        if not ok or bgr is None:
            raise SourceError(f"camera {self.description} stopped delivering frames")
        self._bgr = cast(Image, bgr)
        rgb = cast(Image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=self._pool.acquire(bgr.shape)))
        frame = self._pool.frame(rgb, self._index, time.monotonic() - self._start)
        self._index += 1
        return frame

    def close(self) -> None:
        self._capture.release()


def picamera2_available() -> bool:
    return importlib.util.find_spec("picamera2") is not None


_CAMERA_TYPO = re.compile(r"^(?:web)?cam(?:era)?[\s:_/-]*(\d+)$|^/?dev/video[\s:_-]*(\d+)$", re.IGNORECASE)


def _camera_meant(spec: str) -> str | None:
    """The camera a source that names no file seems to mean ("webcam0" → "webcam:0"), or None."""
    typo = _CAMERA_TYPO.match(spec.strip())
    if typo:
        return f"webcam:{typo.group(1) or typo.group(2)}"
    return closest(spec, ("picamera", "auto"))


@dataclass
class SourcePools:
    """Frame buffers that outlive one opening of a camera, so reconnecting allocates nothing."""

    frames: BufferPool = field(default_factory=BufferPool)
    model_frames: BufferPool = field(default_factory=BufferPool)


def open_source(
    spec: str, settings: SourceConfig, *, paced: bool, repeat_stills: bool, loop: bool, decoder_threads: int = 0,
    pools: SourcePools | None = None,
) -> FrameSource:
    """Open what `spec` names: picamera, webcam:N, /dev/videoN, auto, or a clip or image path."""
    pools = pools or SourcePools()
    if spec == "auto":
        spec = "picamera" if picamera2_available() else "webcam:0"
        log.info("source auto: using %s", spec)
    if spec == "picamera":
        from kiosk.camera.picamera import PiCameraSource  # picamera2 only when the Pi camera is chosen

        return PiCameraSource(settings, pool=pools.frames, lores_pool=pools.model_frames)
    webcam = _WEBCAM_SPEC.match(spec)
    if webcam:
        return WebcamSource(int(webcam.group(1) or webcam.group(2)), settings, pool=pools.frames)
    path = Path(spec).expanduser()
    if not path.exists() and (hint := _camera_meant(spec)):
        raise SourceError(f"clip {path} does not exist; did you mean '{hint}'?")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return StillImageSource(path, repeat=repeat_stills, fps=settings.fps, paced=paced)
    return ClipSource(path, paced=paced, loop=loop, decoder_threads=decoder_threads, pool=pools.frames)
