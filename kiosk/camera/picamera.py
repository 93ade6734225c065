"""The Raspberry Pi camera through picamera2, which exists only on a Pi and is imported only here,
when the Pi camera is chosen (kiosk.camera.sources.open_source)."""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from typing import Any, cast

import cv2

from kiosk.camera.pool import BufferPool
from kiosk.core.errors import CameraUnavailable, SourceError
from kiosk.core.types import Frame, Image
from kiosk.settings.config import SourceConfig


def _import_picamera2() -> tuple[Callable[[], Any], Callable[..., Any]]:
    try:
        picamera2 = importlib.import_module("picamera2")
        libcamera = importlib.import_module("libcamera")
    except ImportError as error:
        raise SourceError(
            "the Pi camera needs picamera2, which is not installed (on Raspberry Pi OS: "
            "sudo apt install python3-picamera2, and a venv with --system-site-packages)"
        ) from error
    return picamera2.Picamera2, libcamera.Transform


class PiCameraSource:
    """The Raspberry Pi camera through picamera2, set up for low latency.

    A video configuration with two buffers, so the picture we get is recent.  The ISP delivers
    two streams of each frame: `main` for the screen and, when `model_width` is set, a small
    `lores` copy for the model (YUV420, which a Pi 4's lores stream must be), so the CPU neither
    converts nor scales the full picture for the model.  picamera2's "RGB888" is B, G, R in
    memory (DRM's naming), so `main` is converted to RGB here.  `hflip` would mirror in the ISP at
    no CPU cost, but it mirrors both streams and the model must see the unmirrored scene (left
    stays left), so Beltline keeps it off and mirrors in the view.
    """

    def __init__(
        self,
        settings: SourceConfig,
        hflip: bool = False,
        buffer_count: int = 2,
        picamera2_api: tuple[Callable[[], Any], Callable[..., Any]] | None = None,
        pool: BufferPool | None = None,
        lores_pool: BufferPool | None = None,
    ) -> None:
        camera_class, transform_class = picamera2_api or _import_picamera2()
        self.description = "picamera"
        self.fps = settings.fps
        self._main_size = (settings.width, settings.height)
        self._lores_size = _lores_size(settings)
        try:
            camera = camera_class()
        except (RuntimeError, IndexError, OSError) as error:
            raise CameraUnavailable(f"the Pi camera cannot be opened: {error} (is the ribbon cable seated?)") from error
        frame_us = round(1_000_000 / settings.fps)
        streams: dict[str, Any] = {"main": {"size": self._main_size, "format": "RGB888"}}
        if self._lores_size:
            streams["lores"] = {"size": self._lores_size, "format": "YUV420"}
        try:
            configuration = camera.create_video_configuration(
                **streams,
                buffer_count=buffer_count,
                transform=transform_class(hflip=int(hflip)),
                controls={"FrameDurationLimits": (frame_us, frame_us)},
            )
            camera.configure(configuration)
            camera.start()
        except (RuntimeError, ValueError, OSError) as error:
            camera.close()
            raise SourceError(
                f"the Pi camera cannot be started at {settings.width}x{settings.height}: {error}") from error
        self._camera = camera
        self._pool = pool or BufferPool()
        self._lores_pool = lores_pool or BufferPool()
        self._index = 0
        self._start = time.monotonic()

    def read(self) -> Frame | None:
        if self._camera is None:
            raise SourceError("the Pi camera was closed")
        try:
            request = self._camera.capture_request()
        except (RuntimeError, OSError) as error:
            raise SourceError(f"the Pi camera stopped delivering frames: {error}") from error
        try:
            bgr = request.make_array("main")
            rgb = self._pool.acquire((bgr.shape[0], bgr.shape[1], 3))
            cv2.cvtColor(bgr[:, :, :3], cv2.COLOR_BGR2RGB, dst=rgb)
            lores_rgb = None
            if self._lores_size:
                lores_rgb = self._lores_rgb(request.make_array("lores"))
        finally:
            # Hand the camera its buffer back at once: with two buffers, holding one stalls it.
            request.release()
        frame = Frame(
            rgb,
            self._index,
            time.monotonic() - self._start,
            time.monotonic(),
            lores_rgb,
            functools.partial(self._give_back, rgb, lores_rgb),
        )
        self._index += 1
        return frame

    def _give_back(self, rgb: Image, lores_rgb: Image | None) -> None:
        self._pool.release(rgb)
        if lores_rgb is not None:
            self._lores_pool.release(lores_rgb)

    def _lores_rgb(self, yuv420: Image) -> Image:
        assert self._lores_size is not None
        width, height = self._lores_size
        if yuv420.shape != (height * 3 // 2, width):
            raise SourceError(
                f"the Pi camera's lores stream came as {yuv420.shape}, not {(height * 3 // 2, width)} "
                "(a padded stride): set source.model_stream_width to a multiple of 64, or to 0"
            )
        rgb = self._lores_pool.acquire((height, width, 3))
        return cast(Image, cv2.cvtColor(yuv420, cv2.COLOR_YUV2RGB_I420, dst=rgb))

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is None:
            return
        try:
            camera.stop()
        finally:
            camera.close()


def _lores_size(settings: SourceConfig) -> tuple[int, int] | None:
    """The model stream's size: `model_stream_width` wide, the main stream's aspect, even height."""
    if not settings.model_stream_width or settings.model_stream_width >= settings.width:
        return None
    height = round(settings.model_stream_width * settings.height / settings.width / 2) * 2
    return settings.model_stream_width, height
